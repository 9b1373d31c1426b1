/* vigil-cli render: one slice of a DICOM series, NIfTI volume, PNG or JPEG
 * as the viewer shows it (windowed to 8 bits), written as a PNG. */
#include <stdio.h>
#include <string.h>

#include "vigil-cli.h"
#include "vigil-png.h"
#include "vigil-scan-images.h"

int vigil_cli_render(int argc, char **argv) {
  int slice = 0;
  g_autofree char *window_text = NULL, *out = NULL, *series = NULL;
  const GOptionEntry entries[] = {
      {"series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID (default: the first)",
       "UID"},
      {"slice", 0, 0, G_OPTION_ARG_INT, &slice, "Slice in display order, from 0", "N"},
      {"window", 0, 0, G_OPTION_ARG_STRING, &window_text,
       "Window center,width (default: the file's, else automatic)", "C,W"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "PNG to write", "FILE"},
      {NULL},
  };
  if (!vigil_cli_parse("render", "write a frame as the viewer shows it", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  VigilWindowLevel window = {0}, given = {0};
  if (argc != 2 || !out || (window_text && !vigil_window_level_parse(window_text, &given))) {
    fprintf(stderr, "usage: vigil-cli render PATH [--series UID] [--slice N] [--window C,W] "
                    "--out FILE.png\n"
                    "(--window: two numbers, width at least 1)\n");
    return VIGIL_CLI_USAGE;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilImage) image = vigil_scan_load_slice(argv[1], series, slice, &window, &error);
  if (!image) {
    fprintf(stderr, "vigil-cli render: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  if (window_text)
    window = given;
  const int ch = vigil_image_channels(image);
  g_autofree guint8 *pixels = g_malloc((gsize)image->width * image->height * ch);
  vigil_window_level_to_u8_lut(image, window.center, window.width, pixels);
  if (!vigil_png_save_u8(out, pixels, image->width, image->height, ch, &error)) {
    fprintf(stderr, "vigil-cli render: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  return VIGIL_CLI_OK;
}
