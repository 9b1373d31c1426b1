/* VigilImage: one decoded 2-D frame, the unit every scan loader produces and
 * the display and model-input code consume. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
  VIGIL_IMAGE_GRAY, /* one value per pixel: modality units (HU for CT) or stored values */
  VIGIL_IMAGE_RGB,  /* three values per pixel, 0..255, interleaved */
} VigilImageKind;

/* Where pixel_spacing came from (measurements say which). */
typedef enum {
  VIGIL_SPACING_NONE,   /* unknown: measurements are in pixels */
  VIGIL_SPACING_PIXEL,  /* DICOM Pixel Spacing (or the Pixel Measures macro) */
  VIGIL_SPACING_IMAGER, /* DICOM Imager Pixel Spacing (at the detector) */
  VIGIL_SPACING_VOXEL,  /* the NIfTI header's voxel size */
} VigilSpacingSource;

typedef struct {
  int width, height;
  VigilImageKind kind;
  float *values;    /* width * height * (1 or 3), row major, top row first */
  double min_value; /* range of `values`, filled by vigil_image_update_range */
  double max_value;
  double pixel_spacing[2]; /* mm (row, column); 0 when unknown */
  VigilSpacingSource spacing_source;
} VigilImage;

/* NULL (with error) for absurd sizes: each side 1..65536 and at most 2^28 pixels. */
VigilImage *vigil_image_new(int width, int height, VigilImageKind kind, GError **error);
void vigil_image_free(VigilImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilImage, vigil_image_free)

int vigil_image_channels(const VigilImage *image);
void vigil_image_update_range(VigilImage *image);

/* Window/level to 8-bit as DICOM PS3.3 C.11.2.1.2.1 defines the linear VOI
 * function: values at or below center - 0.5 - (width - 1) / 2 are 0, at or
 * above center - 0.5 + (width - 1) / 2 are 255. RGB images ignore the window
 * and are copied. `out` holds width * height * channels bytes. */
void vigil_image_window_to_u8(const VigilImage *image, double center, double width, guint8 *out);

/* Reads a whole scan file for a loader; failures are VIGIL_SCAN_ERROR_IO. */
gboolean vigil_scan_read_file(const char *path, char **data, gsize *size, GError **error);

G_END_DECLS
