/* VigilAnalyzer with a random tiny model on the CPU: removing a reference
 * while an analysis holds the bank returns at once and takes effect before
 * that analysis scores; removing an unknown id when idle is an error; the
 * Preferences' BF16 precision reaches the engine, or is refused with why. */
#include <stdlib.h>
#include <string.h>

#include "vg_clip_random.h"
#include "vg_safetensors.h"
#include "vigil-analyzer.h"
#include "test-util.h"

#define DELAY_MS 1500

static char *dir, *clip_path, *adapters_path;

static void keep_result(GObject *source, GAsyncResult *result, gpointer user_data) {
  (void)source;
  *(GAsyncResult **)user_data = g_object_ref(result);
}

static gboolean run_job(VigilJob *job, GError **error) {
  g_autoptr(GAsyncResult) result = NULL;
  vigil_job_run_async(job, NULL, keep_result, &result);
  while (!result)
    g_main_context_iteration(NULL, TRUE);
  return vigil_job_run_finish(job, result, error);
}

static VigilImage *test_image(float phase) {
  VigilImage *im = vigil_image_new(64, 64, VIGIL_IMAGE_GRAY, NULL);
  for (int i = 0; i < 64 * 64; i++)
    im->values[i] = (float)(128 + 100 * g_random_double_range(-1, 1) * phase);
  vigil_image_update_range(im);
  return im;
}

static VigilAnalyzer *loaded_analyzer(void) {
  VigilAnalyzer *an = vigil_analyzer_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilJob) load =
      vigil_analyzer_load(an, clip_path, adapters_path, "cpu", VIGIL_PRECISION_F32, 0);
  g_assert_true(run_job(load, &error));
  g_assert_no_error(error);
  return an;
}

static guint64 add_reference(VigilAnalyzer *an, float phase) {
  g_autoptr(VigilImage) im = test_image(phase);
  g_autoptr(VigilJob) job = vigil_analyzer_add_reference(an, im, 128, 256);
  g_autoptr(GError) error = NULL;
  g_assert_true(run_job(job, &error));
  return vigil_analyzer_take_reference_id(an, job);
}

/* BF16 from the app's side: the engine's identity says so where the CPU has
 * it; elsewhere the load fails with the reason and no engine. */
static void test_bf16(void) {
  g_autoptr(VigilAnalyzer) an = vigil_analyzer_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilJob) load =
      vigil_analyzer_load(an, clip_path, adapters_path, "cpu", VIGIL_PRECISION_BF16, 0);
  const gboolean ok = run_job(load, &error);
  g_autofree char *why = NULL;
  if (!vigil_precision_bf16_available(&why)) {
    g_assert_false(ok);
    g_assert_nonnull(error);
    g_test_message("refused: %s", error->message);
    g_assert_nonnull(strstr(error->message, why));
    g_assert_null(vigil_analyzer_get_engine(an));
    return;
  }
  g_assert_no_error(error);
  g_autofree char *identity = vigil_engine_dup_identity(vigil_analyzer_get_engine(an));
  g_assert_true(g_str_has_suffix(identity, ", BF16 matmul weights") ||
                strstr(identity, ", BF16 matmul weights\n"));
}

static void test_remove_while_analysing(void) {
  g_autoptr(VigilAnalyzer) an = loaded_analyzer();
  guint64 id = add_reference(an, 1);
  g_assert_cmpuint(vigil_analyzer_reference_count(an), ==, 1);
  g_autoptr(VigilImage) im = test_image(0.5f);
  g_autoptr(VigilJob) job = vigil_analyzer_analyse(an, im, 128, 256, "brain", TRUE);
  g_autoptr(GAsyncResult) result = NULL;
  vigil_job_run_async(job, NULL, keep_result, &result);
  /* Once the slice is being encoded the job holds the bank for DELAY_MS more. */
  while (vigil_job_get_fraction(job) < 0.4)
    g_main_context_iteration(NULL, TRUE);
  gint64 start = g_get_monotonic_time();
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_analyzer_remove_reference(an, id, &error));
  const gint64 took_us = g_get_monotonic_time() - start;
  g_test_message("remove_reference took %.2f ms during an analysis", took_us / 1000.0);
  g_assert_cmpint(took_us, <, 100 * 1000);
  g_assert_null(result); /* the analysis is still running */
  g_assert_cmpuint(vigil_analyzer_reference_count(an), ==, 0);
  while (!result)
    g_main_context_iteration(NULL, TRUE);
  g_assert_true(vigil_job_run_finish(job, result, &error));
  g_autoptr(VigilDetection) d = vigil_analyzer_take_result(an, job);
  g_assert_nonnull(d);
  g_assert_false(d->has_few); /* it scored with the bank as it is now: empty */
}

static void test_remove_idle(void) {
  g_autoptr(VigilAnalyzer) an = loaded_analyzer();
  guint64 a = add_reference(an, 1), b = add_reference(an, 0.3f);
  g_assert_cmpuint(a, !=, b);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_analyzer_remove_reference(an, a, &error));
  g_assert_cmpuint(vigil_analyzer_reference_count(an), ==, 1);
  g_assert_false(vigil_analyzer_remove_reference(an, a, &error));
  g_assert_nonnull(error);
  g_test_message("%s", error->message);
  g_assert_cmpuint(vigil_analyzer_reference_count(an), ==, 1);
  /* With one reference left, few-shot results come back. */
  g_autoptr(VigilImage) im = test_image(0.5f);
  g_autoptr(VigilJob) job = vigil_analyzer_analyse(an, im, 128, 256, "brain", TRUE);
  g_clear_error(&error);
  g_assert_true(run_job(job, &error));
  g_autoptr(VigilDetection) d = vigil_analyzer_take_result(an, job);
  g_assert_true(d->has_few);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  dir = test_make_tmp_dir("vigil-analyzer");
  g_setenv("XDG_CACHE_HOME", dir, TRUE);
  g_setenv("VIGIL_TEST_ANALYSIS_DELAY_MS", G_STRINGIFY(DELAY_MS), TRUE);
  test_write_random_model(dir, "tiny", 5, &clip_path, &adapters_path);
  g_test_add_func("/analyzer/remove-while-analysing", test_remove_while_analysing);
  g_test_add_func("/analyzer/remove-idle", test_remove_idle);
  g_test_add_func("/analyzer/bf16", test_bf16);
  int rc = g_test_run();
  test_remove_tree(dir);
  return rc;
}
