/* Non-DICOM files in the study/series model: a PNG or JPEG is a one-slice
 * series, a NIfTI volume a series of axial slices. Each file is a study of
 * its own, with the file's path as study and series UID. */
#pragma once

#include "vigil-scan.h"
#include "vigil-window-level.h"

G_BEGIN_DECLS

typedef enum {
  VIGIL_FILE_UNKNOWN,
  VIGIL_FILE_PNG,
  VIGIL_FILE_JPEG,
  VIGIL_FILE_NIFTI,
} VigilFileKind;

/* By content (PNG and JPEG signatures) or, for NIfTI, by name: its magic sits
 * at byte 344 and a .nii.gz must be decompressed to see it. */
VigilFileKind vigil_file_kind(const char *path);

/* Adds `path` to `scan` as its own study; FALSE (with error) if it is not a
 * readable PNG, JPEG or NIfTI file. */
gboolean vigil_scan_add_image_file(VigilScan *scan, const char *path, VigilSliceCache *cache,
                                   GError **error);

/* The window a viewer should open `series` with, given one decoded slice:
 * the DICOM file's first window, the NIfTI header's, one-to-one for 8-bit
 * images, else the 1st-99th percentiles of the slice. Sets *explanation to a
 * static description when not NULL. */
VigilWindowLevel vigil_series_default_window(const VigilSeries *series, const VigilImage *slice,
                                             const char **explanation);

/* One slice of whatever `path` holds (any format, file or folder): series
 * `series_uid` (NULL: the first), slice `index` in display order. Fills the
 * window the viewer would open it with. The error says what is wrong with
 * the path when nothing in it opens. */
VigilImage *vigil_scan_load_slice(const char *path, const char *series_uid, int index,
                                  VigilWindowLevel *window, GError **error);

G_END_DECLS
