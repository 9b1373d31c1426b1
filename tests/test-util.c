/* See test-util.h. */
#include "test-util.h"

#include <glib/gstdio.h>

#include "vg_clip_random.h"
#include "vg_safetensors.h"

char *test_make_tmp_dir(const char *prefix) {
  g_autofree char *pattern = g_strdup_printf("%s-XXXXXX", prefix);
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp(pattern, &error);
  g_assert_no_error(error);
  return dir;
}

void test_remove_tree(const char *path) {
  GDir *d = g_dir_open(path, 0, NULL);
  for (const char *name; d && (name = g_dir_read_name(d));) {
    g_autofree char *child = g_build_filename(path, name, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
      test_remove_tree(child);
    else
      g_remove(child);
  }
  if (d)
    g_dir_close(d);
  g_rmdir(path);
}

void test_write_random_model(const char *dir, const char *preset, unsigned seed, char **clip,
                             char **adapters) {
  vg_clip_random_options options = {.seed = seed};
  vg_weights *w = NULL, *ad = NULL;
  g_assert_cmpint(vg_clip_random(vg_clip_preset_find(preset), &options, &w, &ad), ==, VG_OK);
  *clip = g_build_filename(dir, "clip.safetensors", NULL);
  *adapters = g_build_filename(dir, "adapters.safetensors", NULL);
  g_assert_cmpint(vg_safetensors_write(*clip, w), ==, VG_OK);
  g_assert_cmpint(vg_safetensors_write(*adapters, ad), ==, VG_OK);
  vg_weights_free(w), vg_weights_free(ad);
}
