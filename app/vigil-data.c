#include "vigil-data.h"

#include "vigil-config.h"

/* The folder of the running executable, or NULL when /proc says nothing. */
static char *exe_dir(void) {
  g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
  return exe ? g_path_get_dirname(exe) : NULL;
}

static gboolean inside(const char *path, const char *dir) {
  const gsize n = strlen(dir);
  return g_str_has_prefix(path, dir) && (path[n] == '/' || path[n] == '\0');
}

char *vigil_data_path(const char *relative) {
  const char *env = g_getenv("VIGIL_DATA_DIR");
  if (env && *env)
    return g_build_filename(env, relative, NULL);
  g_autofree char *bin = exe_dir();
  g_autoptr(GPtrArray) tries = g_ptr_array_new_with_free_func(g_free);
  if (bin && inside(bin, VIGIL_BUILD_ROOT)) /* uninstalled: the build tree's copy */
    g_ptr_array_add(tries, g_build_filename(VIGIL_BUILD_DATA, relative, NULL));
  if (bin)
    g_ptr_array_add(tries, g_build_filename(bin, VIGIL_BIN_TO_DATA, "vigil", relative, NULL));
  g_ptr_array_add(tries, g_build_filename(VIGIL_DATADIR, relative, NULL));
  for (guint i = 0; i < tries->len; i++)
    if (g_file_test(g_ptr_array_index(tries, i), G_FILE_TEST_EXISTS))
      return g_strdup(g_ptr_array_index(tries, i));
  return g_strdup(g_ptr_array_index(tries, 0));
}

char *vigil_data_model_dir(void) {
  const char *env = g_getenv("VIGIL_MODEL_DIR");
  if (env && *env)
    return g_strdup(env);
  return g_build_filename(g_get_user_data_dir(), "vigil", "models", NULL);
}
