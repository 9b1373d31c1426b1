/* Display windows: presets per modality, automatic windows, and a fast
 * lookup-table path for integer-valued frames. */
#pragma once

#include <glib.h>

#include "vigil-image.h"

G_BEGIN_DECLS

typedef struct {
  double center, width; /* DICOM window center/width, in the image's value units */
} VigilWindowLevel;

typedef struct {
  const char *id;    /* stable key, e.g. "brain" */
  const char *label; /* for menus, e.g. "Brain" */
  VigilWindowLevel window;
} VigilWindowLevelPreset;

/* Presets for a DICOM modality code ("CT"; other modalities have none and get
 * automatic windows). Sets *n_presets; never NULL. */
const VigilWindowLevelPreset *vigil_window_level_presets(const char *modality, gsize *n_presets);

/* The preset with this id for `modality`, or NULL. */
const VigilWindowLevelPreset *vigil_window_level_preset_find(const char *modality, const char *id);

/* Window mapping the low_pct..high_pct percentiles (0..100) of the nonzero
 * values (all values when every one is zero) onto 0..255: the MR default
 * (1st..99th) and the fallback for files without a window. Gray only. */
VigilWindowLevel vigil_window_level_auto_percentiles(const VigilImage *image, double low_pct,
                                                     double high_pct);

/* The window that maps 0..2^bits-1 one to one onto display levels, for 8-bit
 * PNG/JPEG (center 128, width 256) and other unwindowed stored values. */
VigilWindowLevel vigil_window_level_full_range(int bits);

/* Parses "C,W" (e.g. "40,80" or "-600,1500"); FALSE for anything else or a
 * width below 1. */
gboolean vigil_window_level_parse(const char *text, VigilWindowLevel *window);

/* Same bytes as vigil_image_window_to_u8, computed through a lookup table
 * over the integer range [min_value, max_value] (run vigil_image_update_range
 * first); non-integer values take the direct formula. Use it for CT/MR
 * integer data: one table lookup per pixel instead of a division. */
void vigil_window_level_to_u8_lut(const VigilImage *image, double center, double width,
                                  guint8 *out);

/* The slice as shown, 3 bytes per pixel (gray replicated), through the
 * lookup-table path; g_free the result. For textures and thumbnails. */
guint8 *vigil_window_level_to_rgb8(const VigilImage *image, double center, double width);

/* The same as 0xAARRGGBB words with alpha 255: in memory B, G, R, A on
 * little-endian machines, which is cairo's and GDK_MEMORY_DEFAULT's layout,
 * so textures made from it are drawn without a conversion. g_free it. */
guint32 *vigil_window_level_to_bgra32(const VigilImage *image, double center, double width);

G_END_DECLS
