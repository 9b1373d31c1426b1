/* vigil-cli render: one frame of a PNG, JPEG or NIfTI file as the viewer
 * shows it (windowed to 8 bits), written as a PNG. */
#include <stdio.h>
#include <string.h>

#include "vigil-cli.h"
#include "vigil-jpeg.h"
#include "vigil-nifti.h"
#include "vigil-png.h"
#include "vigil-scan-error.h"
#include "vigil-wl.h"

typedef enum { SCAN_PNG, SCAN_JPEG, SCAN_NIFTI, SCAN_UNKNOWN } ScanKind;

/* By content: PNG and JPEG signatures; NIfTI by name (its magic sits at
 * byte 344, and .nii.gz must be decompressed to see it). */
static ScanKind sniff_kind(const char *path) {
  if (g_str_has_suffix(path, ".nii") || g_str_has_suffix(path, ".nii.gz") ||
      g_str_has_suffix(path, ".hdr") || g_str_has_suffix(path, ".hdr.gz"))
    return SCAN_NIFTI;
  guint8 head[8] = {0};
  FILE *f = fopen(path, "rb");
  if (!f)
    return SCAN_UNKNOWN;
  const size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  if (n == 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0)
    return SCAN_PNG;
  if (n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF)
    return SCAN_JPEG;
  return SCAN_UNKNOWN;
}

/* The frame and the window the viewer opens it with. */
static VigilImage *load_frame(const char *path, int slice, VigilWindowLevel *window,
                              GError **error) {
  const ScanKind kind = sniff_kind(path);
  if (kind == SCAN_UNKNOWN && !g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_IO, "%s: no such file", path);
    return NULL;
  }
  if (kind == SCAN_UNKNOWN) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_FORMAT,
                "%s: not a PNG, JPEG or NIfTI file", path);
    return NULL;
  }
  if (kind != SCAN_NIFTI && slice != 0) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID,
                "%s: a 2-D image has only slice 0", path);
    return NULL;
  }
  if (kind == SCAN_NIFTI) {
    g_autoptr(VigilNifti) nifti = vigil_nifti_open(path, error);
    VigilImage *image = nifti ? vigil_nifti_read_slice(nifti, slice, error) : NULL;
    if (image && !vigil_nifti_header_window(nifti, window))
      *window = vigil_wl_auto_percentiles(image, 1, 99);
    return image;
  }
  int bits = 8;
  VigilImage *image =
      kind == SCAN_PNG ? vigil_png_load(path, &bits, error) : vigil_jpeg_load(path, error);
  if (image)
    *window = bits == 8 ? vigil_wl_full_range(8) : vigil_wl_auto_percentiles(image, 1, 99);
  return image;
}

int vigil_cli_render(int argc, char **argv) {
  int slice = 0;
  g_autofree char *window_text = NULL, *out = NULL;
  const GOptionEntry entries[] = {
      {"slice", 0, 0, G_OPTION_ARG_INT, &slice, "Slice number, from 0 (2-D images: 0)", "N"},
      {"window", 0, 0, G_OPTION_ARG_STRING, &window_text,
       "Window center,width (default: the file's, else automatic)", "C,W"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "PNG to write", "FILE"},
      {NULL},
  };
  if (!vigil_cli_parse("render", "write a frame as the viewer shows it", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  VigilWindowLevel window = {0}, given = {0};
  if (argc != 2 || !out || (window_text && !vigil_wl_parse(window_text, &given))) {
    fprintf(stderr, "usage: vigil-cli render PATH [--slice N] [--window C,W] --out FILE.png\n"
                    "(--window: two numbers, width at least 1)\n");
    return VIGIL_CLI_USAGE;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilImage) image = load_frame(argv[1], slice, &window, &error);
  if (!image) {
    fprintf(stderr, "vigil-cli render: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  if (window_text)
    window = given;
  const int ch = vigil_image_channels(image);
  g_autofree guint8 *pixels = g_malloc((gsize)image->width * image->height * ch);
  vigil_wl_to_u8_lut(image, window.center, window.width, pixels);
  if (!vigil_png_save_u8(out, pixels, image->width, image->height, ch, &error)) {
    fprintf(stderr, "vigil-cli render: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  return VIGIL_CLI_OK;
}
