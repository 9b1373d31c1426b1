/* vigil-cli scan-bench: how fast PATHs open (headers only), how much memory
 * the opened scan holds, and how long one slice takes to decode and window.
 * Slices are decoded with the cache off, so every repeat really decodes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil-cli.h"
#include "vigil-scan.h"

static double rss_mb(void) {
  return vigil_cli_proc_mb("VmRSS:");
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static VigilSeries *largest_series(VigilScan *scan) {
  VigilSeries *best = NULL;
  for (guint i = 0; i < scan->studies->len; i++) {
    VigilStudy *st = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < st->series->len; j++) {
      VigilSeries *se = g_ptr_array_index(st->series, j);
      if (!best || se->slices->len > best->slices->len)
        best = se;
    }
  }
  return best;
}

/* Median milliseconds of decode, and of window-to-8-bit, over `repeat` runs. */
static gboolean time_decode(VigilSeries *se, int repeat, double *decode_ms, double *window_ms) {
  g_autofree double *dec = g_new0(double, repeat);
  g_autofree double *win = g_new0(double, repeat);
  guint index = se->slices->len / 2;
  for (int r = 0; r < repeat; r++) {
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(VigilImage) image = vigil_series_get_slice(se, index, &error);
    gint64 t1 = g_get_monotonic_time();
    if (!image) {
      fprintf(stderr, "vigil-cli scan-bench: %s\n", error->message);
      return FALSE;
    }
    g_autofree guint8 *out =
        g_malloc((gsize)image->width * image->height * vigil_image_channels(image));
    vigil_image_window_to_u8(image, 40, 400, out);
    gint64 t2 = g_get_monotonic_time();
    dec[r] = (t1 - t0) / 1000.0;
    win[r] = (t2 - t1) / 1000.0;
  }
  qsort(dec, repeat, sizeof *dec, cmp_double);
  qsort(win, repeat, sizeof *win, cmp_double);
  *decode_ms = dec[repeat / 2];
  *window_ms = win[repeat / 2];
  return TRUE;
}

int vigil_cli_scan_bench(int argc, char **argv) {
  int repeat = 20;
  const GOptionEntry entries[] = {
      {"repeat", 'n', 0, G_OPTION_ARG_INT, &repeat, "Decode the middle slice N times", "N"},
      {NULL},
  };
  if (!vigil_cli_parse("scan-bench", "time opening PATHs and decoding one slice", entries, &argc,
                       &argv))
    return VIGIL_CLI_USAGE;
  if (argc < 2 || repeat < 1 || repeat > 100000) {
    fprintf(stderr, "vigil-cli scan-bench: give at least one PATH and --repeat 1..100000\n");
    return VIGIL_CLI_USAGE;
  }
  double rss0 = rss_mb();
  gint64 t0 = g_get_monotonic_time();
  g_autoptr(VigilScan) scan = vigil_scan_open((const char *const *)argv + 1, 0);
  double open_s = (g_get_monotonic_time() - t0) / 1e6;
  double rss1 = rss_mb();
  VigilSeries *se = largest_series(scan);
  printf("open: %u files, %u series, %u errors in %.3f s (%.3f ms/file)\n", scan->n_files,
         vigil_scan_n_series(scan), scan->issues->len, open_s,
         scan->n_files ? open_s * 1e3 / scan->n_files : 0.0);
  printf("rss: %.1f MB after opening (%.1f MB before)\n", rss1, rss0);
  if (!se)
    return VIGIL_CLI_FAILED;
  double decode_ms, window_ms;
  if (!time_decode(se, repeat, &decode_ms, &window_ms))
    return VIGIL_CLI_FAILED;
  printf("decode: slice %u of %u (%d x %d): %.3f ms median of %d; window to 8-bit: %.3f ms\n",
         se->slices->len / 2, se->slices->len, se->width, se->height, decode_ms, repeat, window_ms);
  return VIGIL_CLI_OK;
}
