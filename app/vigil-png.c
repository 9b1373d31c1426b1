/* PNG decoding through libpng's progressive-free row API, with setjmp error
 * recovery so a corrupt file becomes a GError, never an abort. */
#include "vigil-png.h"

#include <png.h>
#include <stdio.h>
#include <string.h>

#include "vigil-scan-error.h"

typedef struct {
  const guint8 *data;
  gsize size, pos;
  gboolean truncated;
  char message[200];
} Reader;

static void read_cb(png_structp png, png_bytep out, png_size_t n) {
  Reader *r = png_get_io_ptr(png);
  if (n > r->size - r->pos) {
    r->truncated = TRUE;
    png_error(png, "file ends early");
  }
  memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

static void error_cb(png_structp png, png_const_charp msg) {
  Reader *r = png_get_error_ptr(png);
  if (!r->message[0])
    g_strlcpy(r->message, msg, sizeof r->message);
  png_longjmp(png, 1);
}

static void warning_cb(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg; /* benign (e.g. bad CRC in an ancillary chunk): decoding goes on */
}

/* Composites `ch` samples per pixel (the last one alpha when has_alpha) into
 * the frame's 1 or 3 values per pixel. */
static void store_row(VigilImage *im, int y, const png_byte *row, int ch, gboolean has_alpha,
                      gboolean sixteen) {
  const int out_ch = vigil_image_channels(im);
  const double amax = sixteen ? 65535.0 : 255.0;
  for (int x = 0; x < im->width; x++) {
    double s[4];
    for (int c = 0; c < ch; c++)
      s[c] = sixteen ? (row[(x * ch + c) * 2] << 8 | row[(x * ch + c) * 2 + 1]) : row[x * ch + c];
    const double a = has_alpha ? s[ch - 1] / amax : 1.0;
    for (int c = 0; c < out_ch; c++)
      im->values[((gsize)y * im->width + x) * out_ch + c] = (float)(s[c] * a);
  }
}

typedef struct {
  png_structp png;
  png_infop info;
  VigilImage *image;
  png_bytep row;
} Decode;

/* The part that may longjmp: no automatic variables change after setjmp. */
static gboolean decode(Decode *d, Reader *r, int *bits) {
  if (setjmp(png_jmpbuf(d->png)))
    return FALSE;
  png_set_user_limits(d->png, 65536, 65536);
  png_set_chunk_malloc_max(d->png, 64u << 20);
  png_set_read_fn(d->png, r, read_cb);
#ifdef VIGIL_FUZZING /* let the fuzzer past checksums into the decoder */
  png_set_crc_action(d->png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
  png_set_option(d->png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
  png_read_info(d->png, d->info);
  const png_size_t stored_rowbytes = png_get_rowbytes(d->png, d->info); /* before transforms */
  const int color = png_get_color_type(d->png, d->info);
  int depth = png_get_bit_depth(d->png, d->info);
  if (color == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(d->png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(d->png);
  if (png_get_valid(d->png, d->info, PNG_INFO_tRNS))
    png_set_tRNS_to_alpha(d->png);
  const gboolean gray = !(color & PNG_COLOR_MASK_COLOR);
  if (!gray && depth == 16)
    png_set_scale_16(d->png); /* RGB frames hold 0..255 */
  const int passes = png_set_interlace_handling(d->png);
  png_read_update_info(d->png, d->info);
  depth = png_get_bit_depth(d->png, d->info);
  const int ch = png_get_channels(d->png, d->info);
  const gboolean alpha = (png_get_color_type(d->png, d->info) & PNG_COLOR_MASK_ALPHA) != 0;
  const png_uint_32 w = png_get_image_width(d->png, d->info);
  const png_uint_32 h = png_get_image_height(d->png, d->info);
  const png_size_t rowbytes = png_get_rowbytes(d->png, d->info);
  /* Deflate expands at most 1032:1, so a short file cannot hold a big image:
   * refuse it before allocating the frame. */
  if ((double)(stored_rowbytes + 1) * h > 1100.0 * (double)r->size + 65536) {
    g_snprintf(r->message, sizeof r->message,
               "%u x %u pixels cannot fit in %" G_GSIZE_FORMAT " bytes (out of range)", w, h,
               r->size);
    return FALSE;
  }
  GError *err = NULL;
  d->image = vigil_image_new((int)w, (int)h, gray ? VIGIL_IMAGE_GRAY : VIGIL_IMAGE_RGB, &err);
  if (!d->image) {
    g_strlcpy(r->message, err->message, sizeof r->message);
    g_error_free(err);
    return FALSE;
  }
  /* Interlaced images need every row at once; others go row by row. */
  if (passes > 1) {
    d->row = g_try_malloc(rowbytes * h);
    if (!d->row)
      png_error(d->png, "not enough memory for an interlaced image");
    for (int p = 0; p < passes; p++)
      for (png_uint_32 y = 0; y < h; y++)
        png_read_row(d->png, d->row + rowbytes * y, NULL);
    for (png_uint_32 y = 0; y < h; y++)
      store_row(d->image, (int)y, d->row + rowbytes * y, ch, alpha, depth == 16);
  } else {
    d->row = g_malloc(rowbytes);
    for (png_uint_32 y = 0; y < h; y++) {
      png_read_row(d->png, d->row, NULL);
      store_row(d->image, (int)y, d->row, ch, alpha, depth == 16);
    }
  }
  png_read_end(d->png, NULL);
  if (bits)
    *bits = depth == 16 ? 16 : 8;
  return TRUE;
}

VigilImage *vigil_png_load_from_memory(const guint8 *data, gsize size, int *bits, GError **error) {
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_FORMAT,
                "not a PNG file (no PNG signature)");
    return NULL;
  }
  if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) { /* clearer than libpng's message */
    guint32 w, h;
    memcpy(&w, data + 16, 4);
    memcpy(&h, data + 20, 4);
    w = GUINT32_FROM_BE(w);
    h = GUINT32_FROM_BE(h);
    if (w < 1 || h < 1 || w > 65536 || h > 65536) {
      g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID,
                  "PNG image size %u x %u is out of range (1..65536 each)", w, h);
      return NULL;
    }
  }
  Reader r = {data, size, 0, FALSE, ""};
  Decode d = {0};
  d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, error_cb, warning_cb);
  d.info = d.png ? png_create_info_struct(d.png) : NULL;
  gboolean ok = d.info && decode(&d, &r, bits);
  png_destroy_read_struct(&d.png, &d.info, NULL);
  g_free(d.row);
  if (ok) {
    vigil_image_update_range(d.image);
    return d.image;
  }
  vigil_image_free(d.image);
  g_set_error(error, VIGIL_SCAN_ERROR,
              r.truncated ? VIGIL_SCAN_ERROR_TRUNCATED
              : strstr(r.message, "limit") || strstr(r.message, "out of range")
                  ? VIGIL_SCAN_ERROR_INVALID
                  : VIGIL_SCAN_ERROR_FORMAT,
              "corrupt PNG: %s", r.message[0] ? r.message : "libpng failed");
  return NULL;
}

VigilImage *vigil_png_load(const char *path, int *bits, GError **error) {
  g_autofree char *data = NULL;
  gsize size = 0;
  if (!vigil_scan_read_file(path, &data, &size, error))
    return NULL;
  g_autoptr(GError) inner = NULL;
  VigilImage *im = vigil_png_load_from_memory((const guint8 *)data, size, bits, &inner);
  if (!im)
    g_set_error(error, inner->domain, inner->code, "%s: %s", path, inner->message);
  return im;
}

gboolean vigil_png_save_u8(const char *path, const guint8 *pixels, int width, int height,
                           int channels, GError **error) {
  png_image img = {0};
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)width;
  img.height = (png_uint_32)height;
  img.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  if (!png_image_write_to_file(&img, path, 0, pixels, 0, NULL)) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_IO, "cannot write %s: %s", path,
                img.message);
    png_image_free(&img);
    return FALSE;
  }
  return TRUE;
}
