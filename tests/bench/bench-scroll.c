/* Benchmark (not a test): scrolling a CT series in the real VigilSliceView.
 *
 *   bench-scroll DIR [PASSES] [--no-cache]   (under tests/gui-session.sh)
 *
 * Opens the first series under DIR, shows it in a 1100 x 750 window and
 * moves one slice per frame-clock tick, PASSES times through the series (the
 * first pass decodes, later ones hit the caches). For each frame it records
 * the interval between frames (GdkFrameClock frame times), the work from
 * the slice change to the end of painting, and the paint phase alone (after
 * the tick callbacks to after-paint), then prints p50/p95/max and fps.
 * --no-cache turns off the view's texture cache and the neighbour prefetch,
 * to compare. Slices are fetched as the main window does it. */
#include <gtk/gtk.h>
#include <stdio.h>
#include <stdlib.h>

#include "vigil-prefetcher.h"
#include "vigil-scan-images.h"
#include "vigil-scan.h"
#include "vigil-slice-view.h"

#define PREFETCH_AHEAD 8 /* as the main window does */

typedef struct {
  GtkWidget *window;
  VigilSliceView *view;
  VigilSeries *series;
  GObject *holder; /* owns the scan; prefetch jobs keep it alive */
  VigilPrefetcher *prefetcher;
  gboolean use_cache;
  int passes, step, frames, total_frames;
  gint64 change_us, layout_us, last_frame_us, start_us;
  GArray *paint_ms, *work_ms, *interval_ms, *work_cold_ms, *work_warm_ms;
  GMainLoop *loop;
} Bench;

static void show_slice(Bench *b, gboolean reset) {
  int index = vigil_slice_view_get_slice(b->view);
  g_autoptr(GError) error = NULL;
  VigilImage *image = vigil_series_get_slice(b->series, (guint)index, &error);
  if (!image) {
    fprintf(stderr, "bench-scroll: %s\n", error->message);
    exit(1);
  }
  if (reset) {
    VigilWindowLevel w = vigil_series_default_window(b->series, image, NULL);
    vigil_slice_view_set_default_window(b->view, w.center, w.width);
  }
  const VigilSlice *slice = g_ptr_array_index(b->series->slices, index);
  vigil_slice_view_set_image_keyed(b->view, image, b->use_cache ? slice : NULL, reset);
  if (b->use_cache)
    vigil_prefetcher_request(b->prefetcher, b->holder, b->series, index, PREFETCH_AHEAD, b->view);
}

static gboolean on_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer data) {
  (void)widget, (void)clock;
  Bench *b = data;
  if (b->frames >= b->total_frames) {
    g_main_loop_quit(b->loop);
    return G_SOURCE_REMOVE;
  }
  int n = (int)b->series->slices->len;
  /* Down through the series, then back up, and so on: one slice per frame. */
  int pos = b->frames % (2 * (n - 1));
  int slice = pos < n - 1 ? pos + 1 : 2 * (n - 1) - pos - 1;
  b->change_us = g_get_monotonic_time();
  vigil_slice_view_set_slice(b->view, slice); /* notify::slice fetches the image */
  return G_SOURCE_CONTINUE;
}

static void on_after_paint(GdkFrameClock *clock, gpointer data) {
  Bench *b = data;
  if (!b->change_us)
    return;
  gint64 now = g_get_monotonic_time(), frame = gdk_frame_clock_get_frame_time(clock);
  double work = (now - b->change_us) / 1000.0, paint = (now - b->layout_us) / 1000.0;
  g_array_append_val(b->work_ms, work);
  g_array_append_val(b->paint_ms, paint);
  int n = (int)b->series->slices->len;
  g_array_append_val(b->frames < n - 1 ? b->work_cold_ms : b->work_warm_ms, work);
  if (b->last_frame_us) {
    double interval = (frame - b->last_frame_us) / 1000.0;
    g_array_append_val(b->interval_ms, interval);
  } else {
    b->start_us = frame;
  }
  b->last_frame_us = frame;
  b->change_us = 0;
  b->frames++;
}

static void on_updated(GdkFrameClock *clock, gpointer data) {
  (void)clock;
  ((Bench *)data)->layout_us = g_get_monotonic_time();
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void report(const char *what, GArray *ms) {
  if (ms->len == 0)
    return;
  qsort(ms->data, ms->len, sizeof(double), cmp_double);
  double *v = (double *)ms->data;
  printf("%-34s n=%-4u p50 %6.2f ms  p95 %6.2f ms  max %6.2f ms\n", what, ms->len, v[ms->len / 2],
         v[MIN(ms->len - 1, (guint)(ms->len * 0.95))], v[ms->len - 1]);
}

static void on_slice(Bench *b) {
  show_slice(b, FALSE);
}

static void on_map(GtkWidget *widget, Bench *b) {
  GdkFrameClock *clock = gtk_widget_get_frame_clock(widget);
  g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), b);
  g_signal_connect_after(clock, "update", G_CALLBACK(on_updated), b);
  gtk_widget_add_tick_callback(GTK_WIDGET(b->view), on_tick, b, NULL);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench-scroll DIR [PASSES] [--no-cache]\n");
    return 2;
  }
  gtk_init();
  Bench b = {.passes = 3, .use_cache = TRUE};
  for (int i = 2; i < argc; i++) {
    if (g_str_equal(argv[i], "--no-cache"))
      b.use_cache = FALSE;
    else
      b.passes = MAX(1, atoi(argv[i]));
  }
  const char *paths[] = {argv[1], NULL};
  VigilScan *scan = vigil_scan_open(paths, VIGIL_SLICE_CACHE_DEFAULT);
  b.holder = g_object_new(G_TYPE_OBJECT, NULL);
  g_object_set_data_full(b.holder, "scan", scan, (GDestroyNotify)vigil_scan_free);
  b.prefetcher = vigil_prefetcher_new();
  if (vigil_scan_n_series(scan) == 0) {
    fprintf(stderr, "bench-scroll: no series under %s\n", argv[1]);
    return 1;
  }
  VigilStudy *study = g_ptr_array_index(scan->studies, 0);
  b.series = g_ptr_array_index(study->series, 0);
  int n = (int)b.series->slices->len;
  if (n < 2) {
    fprintf(stderr, "bench-scroll: the series needs 2 slices or more\n");
    return 1;
  }
  b.total_frames = b.passes * (n - 1);
  b.work_ms = g_array_new(FALSE, FALSE, sizeof(double));
  b.paint_ms = g_array_new(FALSE, FALSE, sizeof(double));
  b.work_cold_ms = g_array_new(FALSE, FALSE, sizeof(double));
  b.work_warm_ms = g_array_new(FALSE, FALSE, sizeof(double));
  b.interval_ms = g_array_new(FALSE, FALSE, sizeof(double));
  b.loop = g_main_loop_new(NULL, FALSE);
  b.window = gtk_window_new();
  gtk_window_set_default_size(GTK_WINDOW(b.window), 1100, 750);
  b.view = VIGIL_SLICE_VIEW(vigil_slice_view_new());
  gtk_window_set_child(GTK_WINDOW(b.window), GTK_WIDGET(b.view));
  vigil_slice_view_set_slice_count(b.view, n);
  vigil_slice_view_set_slice(b.view, 0);
  show_slice(&b, TRUE);
  g_signal_connect_swapped(b.view, "notify::slice", G_CALLBACK(on_slice), &b);
  g_signal_connect(b.window, "map", G_CALLBACK(on_map), &b);
  gtk_window_present(GTK_WINDOW(b.window));
  g_main_loop_run(b.loop);
  double wall = (b.last_frame_us - b.start_us) / 1e6;
  const VigilImage *im = vigil_slice_view_get_image(b.view);
  printf("series: %d slices of %d x %d; %d frames in %.2f s; renderer %s; %s\n", n, im->width,
         im->height, b.frames, wall,
         G_OBJECT_TYPE_NAME(gtk_native_get_renderer(GTK_NATIVE(b.window))),
         b.use_cache ? "texture cache + prefetch" : "no texture cache, no prefetch");
  report("frame interval", b.interval_ms);
  report("slice change -> painted (all)", b.work_ms);
  report("  first pass (decoding)", b.work_cold_ms);
  report("  later passes (cached)", b.work_warm_ms);
  report("layout + paint (after the update)", b.paint_ms);
  printf("fps: %.1f\n", wall > 0 ? (b.frames - 1) / wall : 0);
  return 0;
}
