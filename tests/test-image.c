/* VigilImage: size limits and the DICOM linear window/level function. */
#include <glib.h>

#include "vigil-image.h"
#include "vigil-scan-error.h"

static void test_limits(void) {
  g_autoptr(GError) error = NULL;
  g_assert_null(vigil_image_new(0, 10, VIGIL_IMAGE_GRAY, &error));
  g_assert_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_null(vigil_image_new(65536, 65536, VIGIL_IMAGE_GRAY, &error));
  g_assert_nonnull(strstr(error->message, "65536 x 65536"));
}

static void test_window(void) {
  g_autoptr(VigilImage) image = vigil_image_new(5, 1, VIGIL_IMAGE_GRAY, NULL);
  const float values[5] = {-1000, 20, 40, 80, 3000};
  memcpy(image->values, values, sizeof values);
  vigil_image_update_range(image);
  g_assert_cmpfloat(image->min_value, ==, -1000);
  g_assert_cmpfloat(image->max_value, ==, 3000);
  guint8 out[5];
  vigil_image_window_to_u8(image, 40, 80, out); /* CT brain window */
  g_assert_cmpuint(out[0], ==, 0);
  g_assert_cmpuint(out[1], ==, 65);  /* ((20 - 39.5) / 79 + 0.5) * 255 = 64.6 */
  g_assert_cmpuint(out[2], ==, 129); /* the center maps to the middle */
  g_assert_cmpuint(out[3], ==, 255);
  g_assert_cmpuint(out[4], ==, 255);
  vigil_image_window_to_u8(image, 40, 1, out); /* width 1 is a threshold */
  g_assert_cmpuint(out[1], ==, 0);
  g_assert_cmpuint(out[2], ==, 255);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/image/limits", test_limits);
  g_test_add_func("/image/window", test_window);
  return g_test_run();
}
