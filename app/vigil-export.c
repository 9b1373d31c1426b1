#include "vigil-export.h"

#include "vigil-window-level.h"

#include <cairo.h>
#include <gio/gio.h>
#include <math.h>
#include <png.h>
#include <string.h>

#define LEGEND_WIDTH 90

cairo_surface_t *vigil_export_slice_surface(const VigilImage *im, double center, double width) {
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, im->width, im->height);
  const int stride = cairo_image_surface_get_stride(s);
  g_autofree guint8 *rgb = vigil_window_level_to_rgb8(im, center, width);
  cairo_surface_flush(s);
  guint8 *data = cairo_image_surface_get_data(s);
  for (int y = 0; y < im->height; y++) {
    guint32 *row = (guint32 *)(data + (gsize)y * stride);
    const guint8 *p = rgb + (gsize)y * im->width * 3;
    for (int x = 0; x < im->width; x++, p += 3)
      row[x] = 0xff000000u | ((guint32)p[0] << 16) | ((guint32)p[1] << 8) | p[2];
  }
  cairo_surface_mark_dirty(s);
  return s;
}

static cairo_surface_t *map_surface(const VigilExportRequest *r) {
  const VigilMap *m = r->map;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, m->width, m->height);
  const int stride = cairo_image_surface_get_stride(s);
  guint32 *argb = g_new(guint32, (gsize)m->width * m->height);
  vigil_map_to_argb(m, r->map_lo, r->map_hi, -INFINITY, r->opacity, r->colormap, argb);
  cairo_surface_flush(s);
  guint8 *data = cairo_image_surface_get_data(s);
  for (int y = 0; y < m->height; y++)
    memcpy(data + (gsize)y * stride, argb + (gsize)y * m->width, (gsize)m->width * 4);
  cairo_surface_mark_dirty(s);
  g_free(argb);
  return s;
}

void vigil_export_draw_contour(cairo_t *cr, const VigilMap *map, double threshold, double sx,
                               double sy) {
  g_autoptr(GArray) seg = vigil_map_contour(map, threshold);
  const float *v = (const float *)seg->data;
  for (guint i = 0; i + 3 < seg->len; i += 4) {
    cairo_move_to(cr, v[i] * sx, v[i + 1] * sy);
    cairo_line_to(cr, v[i + 2] * sx, v[i + 3] * sy);
  }
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 1.5);
  cairo_stroke(cr);
}

cairo_surface_t *vigil_export_overlay_surface(const VigilExportRequest *r) {
  const VigilImage *im = r->image;
  cairo_surface_t *out = vigil_export_slice_surface(im, r->window_center, r->window_width);
  cairo_surface_t *overlay = map_surface(r);
  cairo_t *cr = cairo_create(out);
  cairo_scale(cr, (double)im->width / r->map->width, (double)im->height / r->map->height);
  cairo_set_source_surface(cr, overlay, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
  cairo_paint(cr);
  cairo_destroy(cr);
  cairo_surface_destroy(overlay);
  cairo_surface_flush(out);
  return out;
}

static void draw_legend(cairo_t *cr, const VigilExportRequest *r, double x, double height) {
  const double top = 30, bottom = height - 30, bar = 18;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, x, 0, LEGEND_WIDTH, height);
  cairo_fill(cr);
  for (int i = 0; i < (int)(bottom - top); i++) {
    guint8 rgb[3];
    vigil_colormap_rgb(r->colormap, 1.0 - i / (bottom - top - 1), rgb);
    cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
    cairo_rectangle(cr, x + 10, top + i, bar, 1);
    cairo_fill(cr);
  }
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 11);
  char text[32];
  g_snprintf(text, sizeof text, "%.3g", r->map_hi);
  cairo_move_to(cr, x + 14 + bar, top + 10);
  cairo_show_text(cr, text);
  g_snprintf(text, sizeof text, "%.3g", r->map_lo);
  cairo_move_to(cr, x + 14 + bar, bottom);
  cairo_show_text(cr, text);
  cairo_move_to(cr, x + 6, top - 12);
  cairo_show_text(cr, r->legend_label);
}

/* Composes the view at >= 512 px on the long side so text and contours read well. */
cairo_surface_t *vigil_export_view_surface(const VigilExportRequest *r) {
  const VigilImage *im = r->image;
  const double scale = MAX(1.0, ceil(512.0 / MAX(im->width, im->height)));
  const int w = (int)(im->width * scale), h = (int)(im->height * scale);
  const int legend = r->map && r->legend_label ? LEGEND_WIDTH : 0;
  cairo_surface_t *out = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w + legend, h);
  cairo_t *cr = cairo_create(out);
  cairo_surface_t *slice = vigil_export_slice_surface(im, r->window_center, r->window_width);
  cairo_save(cr);
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, slice, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(slice);
  if (r->map) {
    const double sx = (double)w / r->map->width, sy = (double)h / r->map->height;
    cairo_surface_t *overlay = map_surface(r);
    cairo_save(cr);
    cairo_scale(cr, sx, sy);
    cairo_set_source_surface(cr, overlay, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(overlay);
    if (!isnan(r->threshold))
      vigil_export_draw_contour(cr, r->map, r->threshold, sx, sy);
    if (legend)
      draw_legend(cr, r, w, h);
  }
  if (r->measurements)
    vigil_export_draw_measurements(cr, r->measurements, scale, scale);
  cairo_destroy(cr);
  cairo_surface_flush(out);
  return out;
}

static void write_to_array(png_structp png, png_bytep data, png_size_t len) {
  g_byte_array_append(png_get_io_ptr(png), data, (guint)len);
}

static void flush_nothing(png_structp png) {
  (void)png;
}

static gboolean is_ascii(const char *s) {
  for (; *s; s++)
    if ((guchar)*s >= 0x80)
      return FALSE;
  return TRUE;
}

static gboolean encode_png(cairo_surface_t *s, const char *const *text, GByteArray *out,
                           GError **error) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  guint8 *row = g_malloc((gsize)w * 3);
  png_textp chunks = NULL;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    g_free(row), g_free(chunks);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "PNG encoding failed");
    return FALSE;
  }
  png_set_write_fn(png, out, write_to_array, flush_nothing);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  int n = 0;
  while (text && text[2 * n])
    n++;
  chunks = g_new0(png_text, n + 1);
  for (int i = 0; i < n; i++) {
    chunks[i].key = (char *)text[2 * i];
    chunks[i].text = (char *)(text[2 * i + 1] ? text[2 * i + 1] : "");
    /* tEXt is Latin-1: UTF-8 beyond ASCII (a note, a name) goes into iTXt. */
    chunks[i].compression =
        is_ascii(chunks[i].text) ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
  }
  if (n)
    png_set_text(png, info, chunks, n);
  png_write_info(png, info);
  const guint8 *data = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  for (int y = 0; y < h; y++) {
    const guint32 *px = (const guint32 *)(data + (gsize)y * stride);
    for (int x = 0; x < w; x++) {
      row[3 * x] = (px[x] >> 16) & 0xff;
      row[3 * x + 1] = (px[x] >> 8) & 0xff;
      row[3 * x + 2] = px[x] & 0xff;
    }
    png_write_row(png, row);
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  g_free(row), g_free(chunks);
  return TRUE;
}

gboolean vigil_export_png(const VigilExportRequest *r, const char *path, GError **error) {
  g_return_val_if_fail(r && r->image && path, FALSE);
  cairo_surface_t *s = vigil_export_view_surface(r);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot draw the view: %s",
                cairo_status_to_string(cairo_surface_status(s)));
    cairo_surface_destroy(s);
    return FALSE;
  }
  g_autoptr(GByteArray) bytes = g_byte_array_new();
  gboolean ok = encode_png(s, r->text, bytes, error);
  cairo_surface_destroy(s);
  if (ok)
    ok = g_file_set_contents_full(path, (const char *)bytes->data, bytes->len,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
  return ok;
}
