/* What several tests need: a temporary folder, and a random model on disk. */
#pragma once

#include <glib.h>

/* A new empty folder under the temporary directory (g_free the path). */
char *test_make_tmp_dir(const char *prefix);
/* Removes `path` and everything under it. */
void test_remove_tree(const char *path);
/* A random model of `preset` (vg_clip_random with `seed`) written as
 * DIR/clip.safetensors and DIR/adapters.safetensors; the paths go to *clip
 * and *adapters (g_free them). */
void test_write_random_model(const char *dir, const char *preset, unsigned seed, char **clip,
                             char **adapters);
