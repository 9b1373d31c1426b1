/* Benchmark (not a test): windowing a 512 x 512 int16 CT slice to 8 bits,
 * the direct formula vs the lookup table. Run: build/tests/bench-window */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "vigil-window-level.h"

int main(void) {
  g_autoptr(VigilImage) im = vigil_image_new(512, 512, VIGIL_IMAGE_GRAY, NULL);
  GRand *rng = g_rand_new_with_seed(1);
  for (int i = 0; i < 512 * 512; i++)
    im->values[i] = (float)g_rand_int_range(rng, -1024, 3072);
  g_rand_free(rng);
  vigil_image_update_range(im);
  static guint8 a[512 * 512], b[512 * 512];
  const int reps = 200;
  gint64 t0 = g_get_monotonic_time();
  for (int r = 0; r < reps; r++)
    vigil_image_window_to_u8(im, 40, 400, a);
  gint64 t1 = g_get_monotonic_time();
  for (int r = 0; r < reps; r++)
    vigil_window_level_to_u8_lut(im, 40, 400, b);
  gint64 t2 = g_get_monotonic_time();
  printf("512x512 int16 slice, window 40/400, %d runs each:\n", reps);
  printf("  direct vigil_image_window_to_u8: %.3f ms/slice\n", (t1 - t0) / 1000.0 / reps);
  printf("  lookup vigil_window_level_to_u8_lut:   %.3f ms/slice\n", (t2 - t1) / 1000.0 / reps);
  printf("  identical output: %s\n", memcmp(a, b, sizeof a) == 0 ? "yes" : "NO");
  return memcmp(a, b, sizeof a) == 0 ? 0 : 1;
}
