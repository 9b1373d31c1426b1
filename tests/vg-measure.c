/* Test helper: measures on frame 0 of a DICOM file as the viewer does and
 * prints the measurement as the session and the report write it (JSON).
 * Usage: vg-measure FILE ruler|ellipse|freehand X0 Y0 X1 Y1 [X Y...] */
#include <stdlib.h>

#include "vigil-dicom.h"
#include "vigil-measurement.h"

int main(int argc, char **argv) {
  const char *kinds[] = {"ruler", "ellipse", "freehand"};
  int kind = -1;
  for (int i = 0; argc > 2 && i < 3; i++)
    if (g_str_equal(argv[2], kinds[i]))
      kind = i;
  if (kind < 0 || argc < 7 || (argc - 3) % 2) {
    g_printerr("usage: vg-measure FILE ruler|ellipse|freehand X0 Y0 X1 Y1 [X Y...]\n");
    return 2;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilImage) image = vigil_dicom_decode_frame(argv[1], 0, &error);
  if (!image) {
    g_printerr("%s\n", error->message);
    return 1;
  }
  g_autoptr(GArray) points = g_array_new(FALSE, FALSE, sizeof(VigilMeasurePoint));
  for (int i = 3; i + 1 < argc; i += 2) {
    VigilMeasurePoint p = {g_ascii_strtod(argv[i], NULL), g_ascii_strtod(argv[i + 1], NULL)};
    g_array_append_val(points, p);
  }
  g_autoptr(VigilMeasurement) m = vigil_measurement_new(
      (VigilMeasureKind)kind, NULL, 0, (const VigilMeasurePoint *)points->data, points->len);
  if (!vigil_measurement_compute(m, image, "HU", &error)) {
    g_printerr("%s\n", error->message);
    return 1;
  }
  g_autoptr(JsonNode) node = vigil_measurement_to_json(m);
  g_autofree char *json = json_to_string(node, FALSE);
  g_print("%s\n", json);
  return 0;
}
