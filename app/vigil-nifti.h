/* NIfTI-1/NIfTI-2 volumes (.nii, .nii.gz, .hdr/.img) read slice by slice
 * through Debian's nifti2 library (header) and its znz streams (voxels). */
#pragma once

#include <glib.h>

#include "vigil-image.h"
#include "vigil-window-level.h"

G_BEGIN_DECLS

typedef struct _VigilNifti VigilNifti;

/* Reads and checks the header only. Refused with a clear GError: a missing
 * or unreadable file (_IO), not NIfTI (_FORMAT), a voxel type other than
 * 8/16/32/64-bit integers or 32/64-bit floats (_UNSUPPORTED), dims outside
 * 1..65536 or a slice over 2^28 voxels or a volume over 2^32 voxels,
 * pixdim[1..3] not finite and > 0, or an orientation without a clear axial
 * axis (_INVALID), and an uncompressed file shorter than its header claims
 * (_TRUNCATED). Only the first volume of 4-D and higher data is shown. */
VigilNifti *vigil_nifti_open(const char *path, GError **error);
void vigil_nifti_free(VigilNifti *nifti);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNifti, vigil_nifti_free)

/* Number of axial slices: the extent of the voxel axis closest to the
 * patient's inferior-superior axis (from the sform, else the qform, else the
 * voxel grid as if it were RAS). */
int vigil_nifti_n_slices(const VigilNifti *nifti);

/* Displayed slice size in pixels. */
void vigil_nifti_slice_size(const VigilNifti *nifti, int *width, int *height);

/* mm between displayed rows and between displayed columns (DICOM order), and
 * between slices. */
void vigil_nifti_pixel_spacing(const VigilNifti *nifti, double spacing[2]);
double vigil_nifti_slice_spacing(const VigilNifti *nifti);

/* The patient directions (DICOM's LPS) of the displayed rows (screen x) and
 * columns (screen y), as Image Orientation (Patient) gives them: from the
 * sform, else the qform, so an oblique volume gives oblique directions. */
void vigil_nifti_orientation(const VigilNifti *nifti, double orientation[6]);

/* The window cal_min..cal_max from the header; FALSE when the header has none. */
gboolean vigil_nifti_header_window(const VigilNifti *nifti, VigilWindowLevel *window);

/* Decodes axial slice `index` (0 = most inferior .. n_slices - 1 = most
 * superior) as a GRAY frame of scl_slope * stored + scl_inter (no scaling
 * when scl_slope is 0 or not finite), in radiological convention: the
 * patient's left on the screen's right, anterior at the top. Reads only that
 * slice's bytes from a .nii (from a .nii.gz it decompresses up to them); the
 * whole volume is never held in memory. Truncated data is _TRUNCATED. */
VigilImage *vigil_nifti_read_slice(const VigilNifti *nifti, int index, GError **error);

G_END_DECLS
