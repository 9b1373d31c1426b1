/* The model folder and vigil_model_import: random models go in with their
 * index; a wrong file, adapters of unknown domain, adapters that do not fit
 * the CLIP, and a CLIP that does not fit installed adapters each fail with
 * their error and leave the folder as it was; the app's picks fall back to
 * the folder only when the settings name nothing. */
#include <math.h>
#include <glib/gstdio.h>

#include "test-util.h"
#include "vigil-calibration.h"
#include "vigil-digest.h"
#include "vigil-engine.h"
#include "vigil-model-dir.h"
#include "vigil-model-import.h"

typedef struct {
  char *tmp, *models, *clip, *adapters, *mid_clip, *mid_adapters;
} Fixture;

static void setup(Fixture *f, gconstpointer data) {
  (void)data;
  f->tmp = test_make_tmp_dir("vigil-model-import");
  f->models = g_build_filename(f->tmp, "models", NULL);
  g_autofree char *tiny = g_build_filename(f->tmp, "tiny", NULL);
  g_autofree char *mid = g_build_filename(f->tmp, "mid", NULL);
  g_assert_cmpint(g_mkdir_with_parents(tiny, 0755), ==, 0);
  g_assert_cmpint(g_mkdir_with_parents(mid, 0755), ==, 0);
  test_write_random_model(tiny, "tiny", 1, &f->clip, &f->adapters);
  test_write_random_model(mid, "mid", 2, &f->mid_clip, &f->mid_adapters);
  g_setenv("VIGIL_MODEL_DIR", f->models, TRUE);
}

static void teardown(Fixture *f, gconstpointer data) {
  (void)data;
  test_remove_tree(f->tmp);
  g_free(f->tmp), g_free(f->models), g_free(f->clip), g_free(f->adapters);
  g_free(f->mid_clip), g_free(f->mid_adapters);
}

static char *index_text(const Fixture *f) {
  g_autofree char *path = g_build_filename(f->models, VIGIL_MODEL_DIR_INDEX, NULL);
  char *text = NULL;
  return g_file_get_contents(path, &text, NULL, NULL) ? text : g_strdup("(none)");
}

/* Imports `files`; on failure checks the error and that nothing changed. */
static void import_fails(Fixture *f, const char **files, const char *domain, int code) {
  g_autofree char *before = index_text(f);
  g_autoptr(GString) report = g_string_new(NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_model_import(NULL, (char **)files, domain, report, &error));
  g_assert_error(error, VIGIL_MODEL_IMPORT_ERROR, code);
  g_assert_nonnull(strstr(error->message, "nothing was imported"));
  g_autofree char *after = index_text(f);
  g_assert_cmpstr(before, ==, after);
  g_assert_cmpuint(report->len, ==, 0);
}

static void test_import(Fixture *f, gconstpointer data) {
  (void)data;
  g_autoptr(GString) report = g_string_new(NULL);
  g_autoptr(GError) error = NULL;
  const char *files[] = {f->clip, f->adapters, NULL};
  g_assert_true(vigil_model_import(NULL, (char **)files, "liver-ct", report, &error));
  g_assert_no_error(error);
  g_assert_nonnull(strstr(report->str, "MVFA adapters for Liver CT"));
  g_autoptr(VigilModelDir) m = vigil_model_dir_open(NULL, &error);
  g_assert_no_error(error);
  g_autofree char *clip = vigil_model_dir_clip(m);
  g_autofree char *liver = vigil_model_dir_adapters(m, "liver-ct");
  g_autofree char *brain = vigil_model_dir_adapters(m, "brain-mri");
  g_assert_true(g_file_test(clip, G_FILE_TEST_IS_REGULAR));
  g_assert_true(g_str_has_suffix(liver, "/adapters/liver-ct.safetensors"));
  g_assert_true(g_file_test(liver, G_FILE_TEST_IS_REGULAR));
  g_assert_null(brain);
  g_assert_cmpuint(strlen(vigil_model_dir_get(m, NULL, "sha256")), ==, 64);

  /* The settings win; the folder fills in what they leave empty. */
  g_autofree char *picked = vigil_model_dir_pick_clip("");
  g_autofree char *named = vigil_model_dir_pick_clip("/elsewhere/clip.safetensors");
  g_assert_cmpstr(picked, ==, clip);
  g_assert_cmpstr(named, ==, "/elsewhere/clip.safetensors");
  g_autoptr(GVariant) empty =
      g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("{ss}"), NULL, 0));
  g_autofree char *for_liver = vigil_model_dir_pick_adapters(empty, "liver-ct");
  g_autofree char *for_custom = vigil_model_dir_pick_adapters(empty, NULL);
  g_autofree char *for_brain = vigil_model_dir_pick_adapters(empty, "brain-mri");
  g_assert_cmpstr(for_liver, ==, liver);
  g_assert_cmpstr(for_custom, ==, liver);
  g_assert_null(for_brain);
}

static void test_refusals(Fixture *f, gconstpointer data) {
  (void)data;
  const char *first[] = {f->clip, f->adapters, NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) report = g_string_new(NULL);
  g_assert_true(vigil_model_import(NULL, (char **)first, "brain-mri", report, &error));

  g_autofree char *notes = g_build_filename(f->tmp, "notes.txt", NULL);
  g_assert_true(g_file_set_contents(notes, "not a model\n", -1, NULL));
  const char *wrong[] = {f->adapters, notes, NULL};
  import_fails(f, wrong, "liver-ct", VIGIL_MODEL_IMPORT_ERROR_FILE);
  const char *unnamed[] = {f->adapters, NULL};
  import_fails(f, unnamed, NULL, VIGIL_MODEL_IMPORT_ERROR_DOMAIN);
  const char *misfit[] = {f->mid_adapters, NULL};
  import_fails(f, misfit, "liver-ct", VIGIL_MODEL_IMPORT_ERROR_MODEL);
  const char *new_clip[] = {f->mid_clip, NULL}; /* the installed brain adapters do not fit it */
  import_fails(f, new_clip, NULL, VIGIL_MODEL_IMPORT_ERROR_MODEL);
  const char *two_clips[] = {f->clip, f->mid_clip, NULL};
  import_fails(f, two_clips, NULL, VIGIL_MODEL_IMPORT_ERROR_FILE);
  import_fails(f, unnamed, "no-such-domain", VIGIL_MODEL_IMPORT_ERROR_DOMAIN);
  /* A calibration of the installed weights goes beside the adapters... */
  g_autofree char *cal = g_build_filename(f->tmp, "Brain.calibration.json", NULL);
  g_autofree char *clip_sha = vigil_file_sha256(f->clip, NULL);
  g_autofree char *ad_sha = vigil_file_sha256(f->adapters, NULL);
  VigilCalibration c = {.source = VIGIL_CALIBRATION_LABELLED,
                        .class_name = "Brain",
                        .threshold = 1.0,
                        .min = 0.0,
                        .max = 2.0,
                        .normal = 3,
                        .abnormal = 3,
                        .map_threshold = NAN,
                        .map_min = NAN,
                        .map_max = NAN,
                        .clip_sha256 = clip_sha,
                        .adapters_sha256 = ad_sha,
                        .vigil_version = "0"};
  g_assert_true(vigil_calibration_save(&c, cal, NULL));
  const char *calibration[] = {cal, NULL};
  g_assert_true(vigil_model_import(NULL, (char **)calibration, NULL, report, &error));
  g_assert_no_error(error);
  g_autofree char *installed_cal =
      g_build_filename(f->models, "adapters", "brain-mri.Brain.zero-shot.calibration.json", NULL);
  g_assert_true(g_file_test(installed_cal, G_FILE_TEST_IS_REGULAR));
  /* ... and goes with them when other adapters replace them. Both together fit. */
  const char *pair[] = {f->mid_clip, f->mid_adapters, NULL};
  g_assert_true(vigil_model_import(NULL, (char **)pair, "brain-mri", report, &error));
  g_assert_no_error(error);
  g_assert_false(g_file_test(installed_cal, G_FILE_TEST_EXISTS));
  g_autofree char *text = index_text(f);
  g_assert_null(strstr(text, "calibration.json"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add("/model-import/import", Fixture, NULL, setup, test_import, teardown);
  g_test_add("/model-import/refusals", Fixture, NULL, setup, test_refusals, teardown);
  return g_test_run();
}
