/* VigilAnalyzer: several slices in one job (one batched forward) give the
 * same maps and scores as one job per slice; on the CPU and on lavapipe. */
#include <glib/gstdio.h>
#include <math.h>

#include "vg_clip_random.h"
#include "vg_safetensors.h"
#include "vigil-analyzer.h"
#include "test-util.h"

static char *dir;

typedef struct {
  gboolean done, ok;
} Outcome;

static void on_done(GObject *source, GAsyncResult *result, gpointer user_data) {
  Outcome *o = user_data;
  g_autoptr(GError) error = NULL;
  o->ok = vigil_job_run_finish(VIGIL_JOB(source), result, &error);
  if (!o->ok)
    g_printerr("job failed: %s\n", error->message);
  o->done = TRUE;
}

static void run(VigilJob *job) {
  Outcome o = {0};
  vigil_job_run_async(job, NULL, on_done, &o);
  while (!o.done)
    g_main_context_iteration(NULL, TRUE);
  g_assert_true(o.ok);
}

static VigilImage *slice(int seed) {
  VigilImage *im = vigil_image_new(60, 50, VIGIL_IMAGE_GRAY, NULL);
  for (int i = 0; i < 60 * 50; i++)
    im->values[i] = (float)(100 + 80 * sin(i * 0.37 * seed) + 7 * (i % (seed + 3)));
  im->min_value = 0, im->max_value = 300;
  return im;
}

static double rel(const float *a, const float *b, int n) {
  double err = 0, mag = 0;
  for (int i = 0; i < n; i++)
    err = fmax(err, fabs((double)a[i] - b[i])), mag = fmax(mag, fabs((double)b[i]));
  return mag > 0 ? err / mag : err;
}

static void check(gconstpointer backend) {
  VigilAnalyzer *an = vigil_analyzer_new();
  g_autofree char *clip = g_build_filename(dir, "clip.safetensors", NULL);
  g_autofree char *ad = g_build_filename(dir, "adapters.safetensors", NULL);
  g_autoptr(VigilJob) load = vigil_analyzer_load(an, clip, ad, backend, VIGIL_PRECISION_F32, 0);
  run(load);
  enum { N = 3 };
  VigilImage *images[N];
  for (int i = 0; i < N; i++)
    images[i] = slice(i + 1);
  g_autoptr(VigilJob) batch =
      vigil_analyzer_analyse_batch(an, (const VigilImage *const *)images, N, 150, 300, "brain", 0);
  run(batch);
  for (int i = 0; i < N; i++) {
    g_autoptr(VigilJob) one = vigil_analyzer_analyse(an, images[i], 150, 300, "brain", 0);
    run(one);
    g_autoptr(VigilDetection) want = vigil_analyzer_take_result(an, one);
    g_autoptr(VigilDetection) got = vigil_analyzer_take_result_at(an, batch, i);
    g_assert_nonnull(want);
    g_assert_nonnull(got);
    const int plane = got->side * got->side;
    const double e = fmax(rel(got->zero_map, want->zero_map, plane),
                          fabs(got->zero_score - want->zero_score) / fabs(want->zero_score));
    g_test_message("%s slice %d: batch vs single %.3g", (const char *)backend, i, e);
    g_assert_cmpfloat(e, <=, 1e-5);
  }
  /* Out of range or taken twice: NULL, no crash. */
  g_assert_null(vigil_analyzer_take_result_at(an, batch, N));
  g_assert_null(vigil_analyzer_take_result_at(an, batch, 0));
  for (int i = 0; i < N; i++)
    vigil_image_free(images[i]);
  g_object_unref(an);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  dir = test_make_tmp_dir("vigil-analyzer");
  g_setenv("XDG_CACHE_HOME", dir, TRUE);
  g_autofree char *clip = NULL, *adp = NULL;
  test_write_random_model(dir, "tiny", 3, &clip, &adp);
  g_test_add_data_func("/analyzer/batch/cpu", "cpu", check);
  g_test_add_data_func("/analyzer/batch/vulkan", "vulkan:0", check);
  int rc = g_test_run();
  test_remove_tree(dir);
  g_free(dir);
  return rc;
}
