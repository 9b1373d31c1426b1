/* JPEG decoding with an error manager that longjmps back instead of exit(). */
#include "vigil-jpeg.h"

#include <setjmp.h>
#include <stdio.h>
/* jpeglib.h needs stdio.h first */
#include <jpeglib.h>
/* after jpeglib.h: message codes */
#include <jerror.h>

#include "vigil-scan-error.h"

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int code;
} ErrorMgr;

static void error_exit(j_common_ptr cinfo) {
  ErrorMgr *e = (ErrorMgr *)cinfo->err;
  cinfo->err->format_message(cinfo, e->message);
  longjmp(e->jump, 1);
}

/* Corrupt-data warnings: libjpeg would fill in gray and go on; a scan that
 * decodes wrongly must not be shown as if it were right, so they are errors. */
static void emit_message(j_common_ptr cinfo, int level) {
  if (level < 0) {
    ErrorMgr *e = (ErrorMgr *)cinfo->err;
    e->code = cinfo->err->msg_code == JWRN_JPEG_EOF ? VIGIL_SCAN_ERROR_TRUNCATED
                                                    : VIGIL_SCAN_ERROR_FORMAT;
    error_exit(cinfo);
  }
}

typedef struct {
  struct jpeg_decompress_struct cinfo;
  ErrorMgr err;
  VigilImage *image;
  JSAMPLE *row;
} Decode;

static gboolean decode(Decode *d, const guint8 *data, gsize size) {
  if (setjmp(d->err.jump))
    return FALSE;
  jpeg_create_decompress(&d->cinfo);
  jpeg_mem_src(&d->cinfo, data, (unsigned long)size);
  jpeg_read_header(&d->cinfo, TRUE);
  const J_COLOR_SPACE cs = d->cinfo.jpeg_color_space;
  if (cs == JCS_CMYK || cs == JCS_YCCK) {
    d->err.code = VIGIL_SCAN_ERROR_UNSUPPORTED;
    g_strlcpy(d->err.message, "CMYK JPEG is not supported", sizeof d->err.message);
    return FALSE;
  }
  /* A tiny file must not claim gigabytes: even flat content costs the entropy
   * coder bits per 8x8 block (progressive EOB runs aside), so 2048 pixels per
   * byte is far beyond any real scan. libjpeg's own buffers get a cap too. */
  const guint64 pixels = (guint64)d->cinfo.image_width * d->cinfo.image_height;
  if (pixels > MAX((guint64)1 << 22, (guint64)size * 2048)) {
    d->err.code = VIGIL_SCAN_ERROR_INVALID;
    g_snprintf(d->err.message, sizeof d->err.message,
               "declares %u x %u pixels, more than its %" G_GSIZE_FORMAT " bytes can hold",
               d->cinfo.image_width, d->cinfo.image_height, size);
    return FALSE;
  }
  d->cinfo.mem->max_memory_to_use = 512L << 20;
  const gboolean gray = cs == JCS_GRAYSCALE;
  d->cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  GError *err = NULL;
  d->image = vigil_image_new((int)MIN(d->cinfo.image_width, 65537u),
                             (int)MIN(d->cinfo.image_height, 65537u),
                             gray ? VIGIL_IMAGE_GRAY : VIGIL_IMAGE_RGB, &err);
  if (!d->image) {
    d->err.code = VIGIL_SCAN_ERROR_INVALID;
    g_strlcpy(d->err.message, err->message, sizeof d->err.message);
    g_error_free(err);
    return FALSE;
  }
  jpeg_start_decompress(&d->cinfo);
  const int ch = d->cinfo.output_components;
  d->row = g_malloc((gsize)d->cinfo.output_width * ch);
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    const int y = (int)d->cinfo.output_scanline;
    jpeg_read_scanlines(&d->cinfo, &d->row, 1);
    float *dst = d->image->values + (gsize)y * d->image->width * ch;
    for (gsize i = 0; i < (gsize)d->image->width * ch; i++)
      dst[i] = d->row[i];
  }
  jpeg_finish_decompress(&d->cinfo);
  return TRUE;
}

VigilImage *vigil_jpeg_load_from_memory(const guint8 *data, gsize size, GError **error) {
  if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_FORMAT,
                "not a JPEG file (no SOI marker)");
    return NULL;
  }
  Decode *d = g_new0(Decode, 1); /* on the heap: nothing local changes across longjmp */
  d->cinfo.err = jpeg_std_error(&d->err.base);
  d->err.base.error_exit = error_exit;
  d->err.base.emit_message = emit_message;
  d->err.code = VIGIL_SCAN_ERROR_FORMAT;
  const gboolean ok = decode(d, data, size);
  jpeg_destroy_decompress(&d->cinfo);
  VigilImage *image = d->image;
  if (ok) {
    vigil_image_update_range(image);
  } else {
    vigil_image_free(image);
    image = NULL;
    g_set_error(error, VIGIL_SCAN_ERROR, d->err.code, "corrupt or unsupported JPEG: %s",
                d->err.message);
  }
  g_free(d->row);
  g_free(d);
  return image;
}

VigilImage *vigil_jpeg_load(const char *path, GError **error) {
  g_autofree char *data = NULL;
  gsize size = 0;
  if (!vigil_scan_read_file(path, &data, &size, error))
    return NULL;
  g_autoptr(GError) inner = NULL;
  VigilImage *im = vigil_jpeg_load_from_memory((const guint8 *)data, size, &inner);
  if (!im)
    g_set_error(error, inner->domain, inner->code, "%s: %s", path, inner->message);
  return im;
}
