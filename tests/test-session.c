/* Sessions: round trip through a file, reference bookkeeping, and refusals. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vigil-session.h"

static void test_round_trip(void) {
  g_autoptr(VigilSession) s = vigil_session_new();
  g_ptr_array_add(s->open_paths, g_strdup("/data/ct/series1"));
  g_ptr_array_add(s->open_paths, g_strdup("/data/slice \"a\".png"));
  vigil_session_add_reference(s, "/data/ct/series1", "1.2.3", 10);
  vigil_session_add_reference(s, "/data/ct/series1", "1.2.3", 10); /* no duplicate */
  vigil_session_add_reference(s, "/data/normal.png", NULL, 0);
  s->domain = g_strdup("liver-ct");
  g_free(s->mode);
  s->mode = g_strdup("few-shot");
  s->series_uid = g_strdup("1.2.3");
  s->slice = 42;
  s->zoom = 2.5;
  s->pan_x = -10;
  s->has_window = TRUE;
  s->window_center = 60;
  s->window_width = 400;
  s->note = g_strdup("Hypodense lesion, segment VII — «check»");
  s->calibration = g_strdup("{\"format\":\"vigil-calibration\",\"threshold\":0.25}");
  vigil_session_add_marked(s, "1.2.3", 40);
  vigil_session_add_marked(s, "1.2.3", 40); /* no duplicate */
  vigil_session_add_marked(s, "1.2.3", 41);

  g_autofree char *dir = g_dir_make_tmp("vigil-session-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "nested", "study.vigil", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_session_save(s, path, &error));
  g_assert_no_error(error);

  g_autoptr(VigilSession) r = vigil_session_load(path, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(r->open_paths->len, ==, 2);
  g_assert_cmpstr(g_ptr_array_index(r->open_paths, 1), ==, "/data/slice \"a\".png");
  g_assert_cmpuint(r->references->len, ==, 2);
  VigilSliceRef *ref = g_ptr_array_index(r->references, 0);
  g_assert_cmpstr(ref->series_uid, ==, "1.2.3");
  g_assert_cmpint(ref->slice, ==, 10);
  ref = g_ptr_array_index(r->references, 1);
  g_assert_null(ref->series_uid);
  g_assert_cmpstr(r->domain, ==, "liver-ct");
  g_assert_null(r->custom_class);
  g_assert_cmpstr(r->mode, ==, "few-shot");
  g_assert_cmpint(r->slice, ==, 42);
  g_assert_cmpfloat(r->zoom, ==, 2.5);
  g_assert_cmpfloat(r->pan_x, ==, -10);
  g_assert_true(r->has_window);
  g_assert_cmpfloat(r->window_width, ==, 400);
  g_assert_cmpstr(r->note, ==, "Hypodense lesion, segment VII — «check»");
  g_assert_cmpstr(r->calibration, ==, "{\"format\":\"vigil-calibration\",\"threshold\":0.25}");
  g_assert_cmpuint(r->marked->len, ==, 2);
  VigilSliceRef *mark = g_ptr_array_index(r->marked, 1);
  g_assert_cmpstr(mark->series_uid, ==, "1.2.3");
  g_assert_cmpint(mark->slice, ==, 41);

  g_assert_true(vigil_session_remove_reference(r, "/data/normal.png", NULL, 0));
  g_assert_false(vigil_session_remove_reference(r, "/data/normal.png", NULL, 0));
  g_assert_cmpuint(r->references->len, ==, 1);
  g_unlink(path);
  g_autofree char *nested = g_path_get_dirname(path);
  g_rmdir(nested);
  g_rmdir(dir);
}

static void expect_refusal(const char *json, int code, const char *fragment) {
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilSession) s = vigil_session_from_json(json, -1, &error);
  g_assert_null(s);
  g_assert_error(error, VIGIL_SESSION_ERROR, code);
  if (!strstr(error->message, fragment))
    g_error("'%s' does not mention '%s'", error->message, fragment);
}

static void test_refusals(void) {
  expect_refusal("{not json", VIGIL_SESSION_ERROR_FORMAT, "invalid JSON");
  expect_refusal("[1, 2]", VIGIL_SESSION_ERROR_FORMAT, "not a Vigil session");
  expect_refusal("{\"format\": \"other\"}", VIGIL_SESSION_ERROR_FORMAT, "not a Vigil session");
  expect_refusal("{\"format\": \"vigil-session\", \"version\": 99}", VIGIL_SESSION_ERROR_VERSION,
                 "version 99");
  expect_refusal("{\"format\": \"vigil-session\", \"version\": 1, \"open\": [1]}",
                 VIGIL_SESSION_ERROR_FORMAT, "'open'");
  expect_refusal("{\"format\": \"vigil-session\", \"version\": 1, \"references\": [{\"slice\": "
                 "3}]}",
                 VIGIL_SESSION_ERROR_FORMAT, "reference 1 needs a path");
  expect_refusal("{\"format\": \"vigil-session\", \"version\": 1, \"mode\": \"magic\"}",
                 VIGIL_SESSION_ERROR_FORMAT, "'magic'");
  expect_refusal("{\"format\": \"vigil-session\", \"version\": 1, \"view\": {\"zoom\": \"big\"}}",
                 VIGIL_SESSION_ERROR_FORMAT, "'zoom' must be a number");
  expect_refusal("{\"format\": \"vigil-session\", \"version\": 1, \"marked\": [{\"slice\": -2}]}",
                 VIGIL_SESSION_ERROR_FORMAT, "marked slice 1 needs a slice");
  expect_refusal("{\"format\": \"vigil-session\", \"version\": 1, \"marked\": 3}",
                 VIGIL_SESSION_ERROR_FORMAT, "'marked' must be a list");
  expect_refusal("{\"format\": \"vigil-session\", \"version\": 1, \"note\": 3}",
                 VIGIL_SESSION_ERROR_FORMAT, "'note' must be a string");
  expect_refusal("{\"format\": \"vigil-session\", \"version\": 1, \"calibration\": 3}",
                 VIGIL_SESSION_ERROR_FORMAT, "'calibration' must be an object");
  g_autoptr(GError) error = NULL;
  g_assert_null(vigil_session_load("/nonexistent/x.vigil", &error));
  g_assert_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_IO);
}

static void test_minimal_and_autosave_path(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilSession) s =
      vigil_session_from_json("{\"format\": \"vigil-session\", \"version\": 1}", -1, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s->mode, ==, "zero-shot");
  g_assert_cmpfloat(s->zoom, ==, 1.0);
  g_assert_false(s->has_window);
  g_setenv("XDG_STATE_HOME", "/tmp/state-test", TRUE);
  g_autofree char *path = vigil_session_autosave_path();
  g_assert_cmpstr(path, ==, "/tmp/state-test/vigil/autosave.vigil");
}

/* Transforms per series and the corner text switch; files without them still read. */
static void test_display(void) {
  g_autoptr(VigilSession) s = vigil_session_new();
  VigilViewTransform t = {.quarter_turns = 3, .flip_v = TRUE, .invert = TRUE};
  vigil_session_set_transform(s, "1.2.3", &t);
  vigil_session_set_transform(s, "4.5", &(VigilViewTransform){.flip_h = TRUE});
  vigil_session_set_transform(s, "6", &(VigilViewTransform){0}); /* identity: not kept */
  s->hide_corner_text = TRUE;
  g_autofree char *dir = g_dir_make_tmp("vigil-session-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "d.vigil", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_session_save(s, path, &error));
  g_autoptr(VigilSession) r = vigil_session_load(path, &error);
  g_assert_no_error(error);
  g_assert_true(r->hide_corner_text);
  g_assert_cmpuint(g_hash_table_size(r->transforms), ==, 2);
  const VigilViewTransform *back = vigil_session_get_transform(r, "1.2.3");
  g_assert_nonnull(back);
  g_assert_cmpint(back->quarter_turns, ==, 1); /* one form: flip_v is flip_h and a half turn */
  g_assert_true(back->flip_h && back->invert && !back->flip_v);
  g_assert_true(vigil_session_get_transform(r, "4.5")->flip_h);
  g_assert_null(vigil_session_get_transform(r, "6"));
  g_unlink(path);
  g_rmdir(dir);

  const char *old = "{\"format\": \"vigil-session\", \"version\": 1, \"view\": {\"zoom\": 2}}";
  g_autoptr(VigilSession) o = vigil_session_from_json(old, -1, &error);
  g_assert_no_error(error);
  g_assert_false(o->hide_corner_text);
  g_assert_cmpuint(g_hash_table_size(o->transforms), ==, 0);

  const char *bad[] = {"{\"series\": \"1\", \"rotate\": 45}", "{\"rotate\": 90}",
                       "{\"series\": \"1\", \"invert\": 1}", "7"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *json = g_strdup_printf(
        "{\"format\": \"vigil-session\", \"version\": 1, \"view\": {\"transforms\": [%s]}}",
        bad[i]);
    g_autoptr(GError) e = NULL;
    g_autoptr(VigilSession) b = vigil_session_from_json(json, -1, &e);
    g_assert_null(b);
    g_assert_error(e, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT);
    g_assert_nonnull(strstr(e->message, "view transform 1"));
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/session/round-trip", test_round_trip);
  g_test_add_func("/session/refusals", test_refusals);
  g_test_add_func("/session/display", test_display);
  g_test_add_func("/session/minimal-and-autosave-path", test_minimal_and_autosave_path);
  return g_test_run();
}
