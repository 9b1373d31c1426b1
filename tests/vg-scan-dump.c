/* Test helper: exposes the loaders and the resize to tests/test-images.py.
 *   vg-scan-dump png|jpeg|nifti PATH OUT [SLICE]  decoded frame as raw float32
 *   vg-scan-dump resize IN OUT W H                 8-bit raw resize
 *   vg-scan-dump model-input IN OUT                8-bit raw -> float32 3x240x240
 * Raw 8-bit files start with a 12-byte header: int32 width, height, channels.
 * Frames print "width height channels extra..." on stdout; errors go to
 * stderr as "error CODE: message" with exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil-jpeg.h"
#include "vigil-nifti.h"
#include "vigil-png.h"
#include "vigil-resize.h"

static int fail(GError *error) {
  fprintf(stderr, "error %d: %s\n", error->code, error->message);
  g_error_free(error);
  return 1;
}

static int write_frame(const VigilImage *im, const char *out) {
  const gsize n = (gsize)im->width * im->height * vigil_image_channels(im);
  GError *error = NULL;
  if (!g_file_set_contents(out, (const char *)im->values, (gssize)(n * sizeof(float)), &error))
    return fail(error);
  return 0;
}

static int load(const char *kind, const char *path, const char *out, int slice) {
  GError *error = NULL;
  g_autoptr(VigilImage) im = NULL;
  int bits = 8;
  if (strcmp(kind, "png") == 0) {
    im = vigil_png_load(path, &bits, &error);
  } else if (strcmp(kind, "jpeg") == 0) {
    im = vigil_jpeg_load(path, &error);
  } else {
    g_autoptr(VigilNifti) nifti = vigil_nifti_open(path, &error);
    if (!nifti)
      return fail(error);
    im = vigil_nifti_read_slice(nifti, slice, &error);
    if (!im)
      return fail(error);
    VigilWindowLevel w = {0, 0};
    vigil_nifti_header_window(nifti, &w);
    printf("%d %d %d slices=%d spacing=%g,%g,%g window=%g,%g\n", im->width, im->height, 1,
           vigil_nifti_n_slices(nifti), im->pixel_spacing[0], im->pixel_spacing[1],
           vigil_nifti_slice_spacing(nifti), w.center, w.width);
    return write_frame(im, out);
  }
  if (!im)
    return fail(error);
  printf("%d %d %d bits=%d\n", im->width, im->height, vigil_image_channels(im), bits);
  return write_frame(im, out);
}

static guint8 *read_u8(const char *path, int hdr[3]) {
  gchar *data = NULL;
  gsize size = 0;
  if (!g_file_get_contents(path, &data, &size, NULL) || size < 12)
    return NULL;
  memcpy(hdr, data, 12);
  if ((gint64)hdr[0] * hdr[1] * hdr[2] != (gint64)size - 12) {
    g_free(data);
    return NULL;
  }
  memmove(data, data + 12, size - 12);
  return (guint8 *)data;
}

static int resize(const char *in, const char *out, int w, int h, gboolean model) {
  int hdr[3];
  g_autofree guint8 *px = read_u8(in, hdr);
  if (!px) {
    fprintf(stderr, "bad raw input %s\n", in);
    return 2;
  }
  GError *error = NULL;
  if (model) {
    g_autofree float *f = vigil_model_input_from_u8(px, hdr[0], hdr[1], hdr[2], &error);
    if (!f)
      return fail(error);
    return g_file_set_contents(out, (const char *)f, 3 * 240 * 240 * sizeof(float), NULL) ? 0 : 1;
  }
  g_autofree guint8 *o = g_malloc((gsize)w * h * hdr[2]);
  if (!vigil_resize_bicubic_u8(px, hdr[0], hdr[1], hdr[2], o, w, h, &error))
    return fail(error);
  return g_file_set_contents(out, (const char *)o, (gssize)w * h * hdr[2], NULL) ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "resize") == 0)
    return resize(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), FALSE);
  if (argc == 4 && strcmp(argv[1], "model-input") == 0)
    return resize(argv[2], argv[3], 0, 0, TRUE);
  if (argc >= 4)
    return load(argv[1], argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 0);
  fprintf(stderr, "usage: see the comment at the top of vg-scan-dump.c\n");
  return 2;
}
