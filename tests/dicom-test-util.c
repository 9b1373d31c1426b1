#include "dicom-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static void run(char **argv) {
  g_autoptr(GError) error = NULL;
  int status = 0;
  g_autofree char *err = NULL;
  if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err, &status, &error))
    g_error("cannot run %s: %s", argv[0], error->message);
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("%s %s failed: %s", argv[0], argv[1], err);
}

char *dicom_fixtures_make(void) {
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("vigil-dicom-XXXXXX", &error);
  g_assert_no_error(error);
  const char *src = g_getenv("VIGIL_SOURCE_DIR");
  g_assert_nonnull(src);
  g_autofree char *script = g_build_filename(src, "tests", "dicom-fixtures.py", NULL);
  char *argv[] = {"/usr/bin/python3", script, dir, NULL};
  run(argv);
  return dir;
}

void dicom_fixtures_remove(const char *dir) {
  char *argv[] = {"rm", "-rf", (char *)dir, NULL};
  run(argv);
}

float *dicom_fixture_expected(const char *dir, const char *name, gsize *count) {
  g_autofree char *base = g_strndup(name, strlen(name) - 4);
  g_autofree char *file = g_strdup_printf("%s/%s.f32", dir, base);
  char *data = NULL;
  gsize size = 0;
  if (!g_file_get_contents(file, &data, &size, NULL))
    return NULL;
  *count = size / sizeof(float);
  return (float *)data;
}
