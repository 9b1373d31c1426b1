/* DICOM files through DCMTK: header metadata for scanning, one frame decoded
 * on demand. C API over a C++ implementation (vigil-dicom.cpp).
 *
 * Pixel values: GRAY frames hold modality values, i.e. stored values after
 * Rescale Slope/Intercept (Hounsfield units for CT). MONOCHROME1 frames are
 * inverted HERE, in vigil_dicom_decode_frame(), so that for every gray frame a
 * higher value displays brighter: v' = (lo + hi) - v, with lo..hi the range of
 * modality values the stored bits can hold. The windows in VigilSliceInfo are
 * mirrored the same way (center' = lo + hi - center), so applying them to
 * the decoded frame shows what a DICOM viewer shows. RGB frames are 0..255
 * (YBR colour models are converted to RGB, 16-bit colour is scaled down). */
#pragma once

#include <glib.h>

#include "vigil-image.h"

G_BEGIN_DECLS

/* Limits that keep hostile headers from causing huge allocations. */
#define VIGIL_DICOM_MAX_FRAMES 65536

typedef struct {
  double center, width;
  char *explanation; /* Window Center & Width Explanation, "" when absent */
} VigilFileWindow;

/* Everything a scan list or a report needs from one DICOM file. Strings are
 * never NULL ("" when absent); numbers have a has_* flag where 0 is valid. */
typedef struct {
  char *path;
  char *patient_name, *patient_id, *patient_sex, *patient_birth_date;
  char *study_date, *study_description, *study_uid;
  char *series_description, *series_uid, *modality, *body_part;
  char *manufacturer, *sop_instance_uid;
  char *institution, *series_number; /* Institution Name, Series Number (as written) */
  char *transfer_syntax_uid, *transfer_syntax_name;
  char *photometric; /* as stored, e.g. MONOCHROME2, RGB, YBR_FULL_422 */
  int instance_number;
  gboolean has_instance_number;
  double position[3]; /* Image Position (Patient), mm */
  gboolean has_position;
  double orientation[6]; /* Image Orientation (Patient): row then column direction */
  gboolean has_orientation;
  double pixel_spacing[2]; /* mm between rows, between columns */
  gboolean has_pixel_spacing;
  double slice_thickness; /* mm, 0 when absent */
  double slice_location;  /* Slice Location (0020,1041), mm */
  gboolean has_slice_location;
  /* ms between frames for cine: Frame Time (0018,1063), else 1000 / Recommended
   * Display Frame Rate (0008,2144) or Cine Rate (0018,0040); 0 when none. */
  double frame_time;
  int rows, cols, frames, samples_per_pixel;
  int bits_allocated, bits_stored, pixel_representation; /* 1 = signed */
  double rescale_slope, rescale_intercept;               /* 1 and 0 when absent */
  gboolean inverted;                                     /* MONOCHROME1, see above */
  int n_windows;
  VigilFileWindow *windows; /* in decoded-value space (mirrored for MONOCHROME1) */
  gboolean has_pixel_data;
  gboolean compressed; /* encapsulated transfer syntax */
  /* Lossy Image Compression (0028,2110) is "01" (the file says these pixels
   * went through lossy coding at some point), or the transfer syntax allows
   * only lossy coding (JPEG baseline and extended). A radiologist must know. */
  gboolean lossy;
  char *lossy_method; /* Lossy Image Compression Method (0028,2114), "" when absent */
  double lossy_ratio; /* Lossy Image Compression Ratio (0028,2112), 0 when absent */
  /* Enhanced multi-frame: Image Position (Patient) of each frame (3 * frames
   * values) when every frame has one; NULL otherwise. Orientation, spacing
   * and rescale also fall back to the functional groups when the top level
   * lacks them. */
  double *frame_positions;
} VigilSliceInfo;

/* Reads the header of `path` without loading pixel data. Checks that the
 * image description is decodable (sizes, bits, photometric, transfer syntax)
 * and that native pixel data is as long as it must be, so a broken file is
 * reported here rather than when a slice is shown. */
VigilSliceInfo *vigil_dicom_read_info(const char *path, GError **error);
void vigil_slice_info_free(VigilSliceInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilSliceInfo, vigil_slice_info_free)

/* Decodes frame `frame` (0-based) of `path`; only that frame is read and
 * decompressed. Sets image->pixel_spacing and the value range. */
VigilImage *vigil_dicom_decode_frame(const char *path, int frame, GError **error);

/* The same two from a file image in memory (fuzzing, tests). `path` in the
 * returned info is `name`. */
VigilSliceInfo *vigil_dicom_read_info_from_data(const guint8 *data, gsize size, const char *name,
                                                GError **error);
VigilImage *vigil_dicom_decode_frame_from_data(const guint8 *data, gsize size, int frame,
                                               GError **error);

/* DICOMDIR: absolute paths of the files its IMAGE-level records reference
 * (NULL-terminated, g_strfreev). Referenced files are not opened here. */
char **vigil_dicom_read_dicomdir(const char *path, GError **error);

G_END_DECLS
