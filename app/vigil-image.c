#include "vigil-image.h"

#include <math.h>
#include <stdarg.h>

#include "vigil-scan-error.h"

/* clang-format would put spaces around the dashes of the quark name. */
/* clang-format off */
G_DEFINE_QUARK(vigil-scan-error-quark, vigil_scan_error)
/* clang-format on */

gboolean vigil_scan_fail(GError **error, int code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  g_autofree char *msg = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error_literal(error, VIGIL_SCAN_ERROR, code, msg);
  return FALSE;
}

VigilImage *vigil_image_new(int width, int height, VigilImageKind kind, GError **error) {
  if (width < 1 || height < 1 || width > 65536 || height > 65536 ||
      (gint64)width * height > ((gint64)1 << 28)) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID,
                "image size %d x %d is out of range", width, height);
    return NULL;
  }
  VigilImage *image = g_new0(VigilImage, 1);
  image->width = width;
  image->height = height;
  image->kind = kind;
  image->values = g_try_new0(float, (gsize)width *height *(kind == VIGIL_IMAGE_RGB ? 3 : 1));
  if (!image->values) {
    g_free(image);
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID,
                "not enough memory for a %d x %d image", width, height);
    return NULL;
  }
  return image;
}

void vigil_image_free(VigilImage *image) {
  if (!image)
    return;
  g_free(image->values);
  g_free(image);
}

int vigil_image_channels(const VigilImage *image) {
  return image->kind == VIGIL_IMAGE_RGB ? 3 : 1;
}

void vigil_image_update_range(VigilImage *image) {
  gsize n = (gsize)image->width * image->height * vigil_image_channels(image);
  double lo = INFINITY, hi = -INFINITY;
  for (gsize i = 0; i < n; i++) {
    lo = fmin(lo, image->values[i]);
    hi = fmax(hi, image->values[i]);
  }
  image->min_value = n ? lo : 0;
  image->max_value = n ? hi : 0;
}

void vigil_image_window_to_u8(const VigilImage *image, double center, double width, guint8 *out) {
  gsize n = (gsize)image->width * image->height * vigil_image_channels(image);
  if (image->kind == VIGIL_IMAGE_RGB) {
    for (gsize i = 0; i < n; i++)
      out[i] = (guint8)CLAMP(lrint(image->values[i]), 0, 255);
    return;
  }
  if (width < 1)
    width = 1;
  const double lo = center - 0.5 - (width - 1) / 2, hi = center - 0.5 + (width - 1) / 2;
  for (gsize i = 0; i < n; i++) {
    const double v = image->values[i];
    if (v <= lo)
      out[i] = 0;
    else if (v > hi)
      out[i] = 255;
    else
      out[i] = (guint8)lrint(((v - (center - 0.5)) / (width - 1) + 0.5) * 255.0);
  }
}

gboolean vigil_scan_read_file(const char *path, char **data, gsize *size, GError **error) {
  g_autoptr(GError) err = NULL;
  if (g_file_get_contents(path, data, size, &err))
    return TRUE;
  g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_IO, "%s", err->message);
  return FALSE;
}
