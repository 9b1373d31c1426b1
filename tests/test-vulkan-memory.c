/* The Vulkan backend's memory, pipeline cache and start-up limits on
 * lavapipe: many tensors share a few VkDeviceMemory blocks with their
 * contents intact, the pipeline cache file is written, reloaded and a damaged
 * or foreign one ignored, and a model that cannot fit fails before uploading
 * with one message naming the tensor or the total. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "vg_clip.h"
#include "vg_clip_random.h"
#include "vg_vulkan.h"
#include "test-util.h"

static char *tmp_root;

static vg_backend *start(const vg_vk_options *o) {
  vg_backend *be = vg_vulkan_backend_new(o);
  if (!be)
    g_error("Vulkan: %s", vg_last_error());
  return be;
}

static void fill(float *p, size_t n, guint32 seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (float)((seed * 2654435761u + i * 40503u) % 100003u);
}

/* Random sizes, half freed and replaced, all checked by download. */
static void check_suballocation(int staging) {
  vg_vk_options o = {.validation = 1, .staging = staging, .no_pipeline_cache = 1};
  vg_backend *vk = start(&o);
  g_autoptr(GRand) rng = g_rand_new_with_seed(42);
  enum { N = 300 };
  vg_tensor *t[N];
  size_t len[N];
  guint32 seed[N];
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < N; i++) {
      if (round == 1 && g_rand_boolean(rng))
        continue; /* kept from round 0 */
      if (round == 1)
        vg_tensor_free(t[i]);
      const int64_t rows = g_rand_int_range(rng, 1, 64), cols = g_rand_int_range(rng, 1, 8000);
      t[i] = vg_tensor_new(vk, VG_F32, rows, cols);
      g_assert_nonnull(t[i]);
      len[i] = (size_t)(rows * cols);
      seed[i] = g_rand_int(rng);
      g_autofree float *data = g_new(float, len[i]);
      fill(data, len[i], seed[i]);
      g_assert_cmpint(vg_tensor_upload(t[i], data), ==, VG_OK);
    }
  }
  vg_vk_memory_stats st;
  g_assert_true(vg_vulkan_memory_stats(vk, &st));
  g_test_message("%s: %u tensors, %.1f MiB in %u allocations (peak %u, %llu made)",
                 staging ? "device-local" : "host-visible", st.buffers, st.used_bytes / 1048576.0,
                 st.allocations, st.peak_allocations, (unsigned long long)st.total_allocations);
  g_assert_cmpuint(st.buffers, ==, N);
  g_assert_cmpuint(st.peak_allocations, <=, 4); /* about 140 MiB in blocks of 32, 64, 128 MiB */
  for (int i = 0; i < N; i++) {
    g_autofree float *got = g_new(float, len[i]), *want = g_new(float, len[i]);
    fill(want, len[i], seed[i]);
    g_assert_cmpint(vg_tensor_download(t[i], got), ==, VG_OK);
    if (memcmp(got, want, len[i] * sizeof *got) != 0)
      g_error("tensor %d (%zu floats) lost its contents", i, len[i]);
    vg_tensor_free(t[i]);
  }
  /* Larger than half a block: an allocation of its own. */
  vg_tensor *big = vg_tensor_new(vk, VG_F32, 1024, (int64_t)(st.max_block_bytes / 4096 + 1024));
  g_assert_nonnull(big);
  g_assert_true(vg_vulkan_memory_stats(vk, &st));
  g_assert_cmpuint(st.dedicated, ==, 1);
  vg_tensor_free(big);
  g_assert_true(vg_vulkan_memory_stats(vk, &st));
  g_assert_cmpuint(st.allocations, ==, 0); /* empty blocks are released */
  g_assert_cmpuint(st.buffers, ==, 0);
  g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
  vg_backend_destroy(vk);
}

static void test_suballocation_host(void) {
  check_suballocation(0);
}

static void test_suballocation_staged(void) {
  check_suballocation(1);
}

/* One op, checked, so a backend started from any cache file still computes. */
static void check_works(vg_backend *vk) {
  const float a[3] = {1, 2, 3}, b[3] = {4, 5, 6};
  float y[3];
  vg_tensor *ta = vg_tensor_new(vk, VG_F32, 1, 3), *tb = vg_tensor_new(vk, VG_F32, 1, 3);
  g_assert_cmpint(vg_tensor_upload(ta, a), ==, VG_OK);
  g_assert_cmpint(vg_tensor_upload(tb, b), ==, VG_OK);
  g_assert_cmpint(vg_add_scaled(ta, ta, 2, tb, 1), ==, VG_OK);
  g_assert_cmpint(vg_tensor_download(ta, y), ==, VG_OK);
  g_assert_cmpfloat(y[2], ==, 12.0f);
  vg_tensor_free(ta), vg_tensor_free(tb);
}

/* Starts a backend, checks the cache state it reports, returns the file path. */
static char *cache_round(const char *want_state) {
  vg_vk_options o = {0};
  vg_backend *vk = start(&o);
  vg_vk_pipeline_cache_info info;
  g_assert_true(vg_vulkan_pipeline_cache_info(vk, &info));
  g_test_message("pipeline cache %s: %s (%zu bytes)", info.path, info.state, info.loaded_bytes);
  g_assert_nonnull(info.path);
  g_assert_true(g_str_has_prefix(info.path, tmp_root));
  if (!g_str_has_prefix(info.state, want_state))
    g_error("pipeline cache state '%s', expected '%s'", info.state, want_state);
  if (g_str_equal(want_state, "loaded"))
    g_assert_cmpuint(info.loaded_bytes, >=, 32);
  char *path = g_strdup(info.path);
  check_works(vk);
  vg_backend_destroy(vk);
  g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
  return path;
}

static guint64 fnv1a(const guint8 *p, gsize n) {
  guint64 h = 0xcbf29ce484222325ull;
  for (gsize i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static void test_pipeline_cache(void) {
  g_autofree char *dir = g_build_filename(tmp_root, "cache-a", NULL);
  g_setenv("XDG_CACHE_HOME", dir, TRUE);
  g_autofree char *path = cache_round("absent");
  g_assert_true(strstr(path, "/vigil/vulkan-pipelines/") != NULL);
  g_free(cache_round("loaded"));
  gchar *data;
  gsize len;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_assert_cmpuint(len, >=, 24 + 32);
  /* Damaged data: the checksum no longer matches. */
  data[len - 1] ^= 0x5a;
  g_assert_true(g_file_set_contents(path, data, len, NULL));
  g_free(cache_round("ignored: damaged"));
  data[len - 1] ^= 0x5a;
  /* Another device's cache with a good checksum: the Vulkan header differs. */
  data[24 + 8] ^= 0x01; /* vendorID */
  guint64 h = fnv1a((guint8 *)data + 24, len - 24);
  memcpy(data + 16, &h, sizeof h);
  g_assert_true(g_file_set_contents(path, data, len, NULL));
  g_free(cache_round("ignored: written by another device"));
  /* Cut short, then not ours at all. */
  g_assert_true(g_file_set_contents(path, data, len - 7, NULL));
  g_free(cache_round("ignored: truncated"));
  g_assert_true(g_file_set_contents(path, "not a cache", -1, NULL));
  g_free(cache_round("ignored: too short"));
  g_assert_true(g_file_set_contents(path, "XXXXYYYYZZZZZZZZWWWWWWWW and more bytes", -1, NULL));
  g_free(cache_round("ignored: not a Vigil"));
  g_free(cache_round("loaded")); /* each start above replaced it with a good one */
  g_free(data);
}

static void test_pipeline_cache_off(void) {
  g_autofree char *dir = g_build_filename(tmp_root, "cache-off", NULL);
  g_setenv("XDG_CACHE_HOME", dir, TRUE);
  vg_vk_options o = {.no_pipeline_cache = 1};
  for (int k = 0; k < 2; k++) {
    if (k == 1)
      g_setenv("VIGIL_VK_PIPELINE_CACHE", "0", TRUE), o.no_pipeline_cache = 0;
    vg_backend *vk = start(&o);
    vg_vk_pipeline_cache_info info;
    g_assert_true(vg_vulkan_pipeline_cache_info(vk, &info));
    g_assert_null(info.path);
    g_assert_cmpstr(info.state, ==, "disabled");
    check_works(vk);
    vg_backend_destroy(vk);
    /* Mesa keeps its own shader cache there; ours stays absent. */
    g_autofree char *ours = g_build_filename(dir, "vigil", NULL);
    g_assert_false(g_file_test(ours, G_FILE_TEST_EXISTS));
  }
  g_unsetenv("VIGIL_VK_PIPELINE_CACHE");
}

/* A model that cannot fit is refused before anything is allocated. */
static void check_refused(const vg_vk_options *o, const char *preset, const char *want) {
  vg_weights *clip = NULL, *adapters = NULL;
  vg_clip_random_options ro = {.seed = 1, .shared = 1};
  g_assert_cmpint(vg_clip_random(vg_clip_preset_find(preset), &ro, &clip, &adapters), ==, VG_OK);
  vg_backend *vk = start(o);
  vg_clip *m = NULL;
  g_assert_cmpint(vg_clip_load(clip, adapters, NULL, vk, &m), ==, VG_ERR_UNSUPPORTED);
  g_test_message("%s: %s", preset, vg_last_error());
  if (!strstr(vg_last_error(), want))
    g_error("message '%s' does not say '%s'", vg_last_error(), want);
  vg_vk_memory_stats st;
  g_assert_true(vg_vulkan_memory_stats(vk, &st));
  g_assert_cmpuint(st.total_allocations, ==, 0);
  vg_backend_destroy(vk);
  vg_weights_free(clip), vg_weights_free(adapters);
}

static void test_limits(void) {
  vg_vk_options small_buffer = {.no_pipeline_cache = 1, .max_buffer_bytes = 64 << 10};
  check_refused(&small_buffer, "tiny",
                "tensor 'visual.conv1.weight' (64 x 588 F32, 147.0 KiB) exceeds llvmpipe");
  check_refused(&small_buffer, "tiny", "storage buffer limit (64.0 KiB)");
  vg_vk_options small_heap = {.no_pipeline_cache = 1, .max_memory_bytes = 8 << 20};
  /* Weights and activations, the position rows the batched forward adds and the
   * input pixels (patch rows are made on the device) included. */
  check_refused(&small_heap, "tiny", "the model needs 15.7 MiB");
  check_refused(&small_heap, "tiny", "which has 8.0 MiB");
}

/* ViT-L/14-336 with MVFA's adapters, F32: its token embedding (145 MiB) is
 * over lavapipe's 128 MiB storage-buffer limit but only read by copies. */
static void test_vit_l_14(void) {
  vg_weights *clip = NULL, *adapters = NULL;
  vg_clip_random_options ro = {.seed = 1, .shared = 1};
  g_assert_cmpint(vg_clip_random(vg_clip_preset_find("vit-l-14"), &ro, &clip, &adapters), ==,
                  VG_OK);
  vg_vk_options o = {.no_pipeline_cache = 1};
  vg_backend *vk = start(&o);
  vg_clip *m = NULL;
  gint64 t0 = g_get_monotonic_time();
  if (vg_clip_load(clip, adapters, NULL, vk, &m) != VG_OK)
    g_error("ViT-L/14 on %s: %s", vk->device_name, vg_last_error());
  vg_vk_memory_stats st;
  g_assert_true(vg_vulkan_memory_stats(vk, &st));
  g_test_message("ViT-L/14 F32 on %s: %u tensors, %.1f MiB in %u VkDeviceMemory (%u dedicated, "
                 "%.1f MiB), loaded in %.1f s",
                 vk->device_name, st.buffers, st.used_bytes / 1048576.0, st.allocations,
                 st.dedicated, st.allocated_bytes / 1048576.0, (g_get_monotonic_time() - t0) / 1e6);
  g_assert_cmpuint(st.buffers, >, 400);
  g_assert_cmpuint(st.allocations, <=, 16);
  /* The embedding row lookup crosses the big buffer by copies. */
  const vg_clip_arch *a = vg_clip_arch_of(m);
  g_autofree int32_t *ids = g_new0(int32_t, a->context_length);
  ids[0] = 49406, ids[1] = 320, ids[2] = 49407;
  g_autofree float *text = g_new(float, a->embed_dim);
  g_assert_cmpint(vg_clip_encode_text(m, ids, 1, text), ==, VG_OK);
  vg_clip_free(m);
  vg_backend_destroy(vk);
  vg_weights_free(clip), vg_weights_free(adapters);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  tmp_root = test_make_tmp_dir("vigil-vkmem");
  g_test_add_func("/vulkan-memory/suballocation-host", test_suballocation_host);
  g_test_add_func("/vulkan-memory/suballocation-staged", test_suballocation_staged);
  g_test_add_func("/vulkan-memory/pipeline-cache", test_pipeline_cache);
  g_test_add_func("/vulkan-memory/pipeline-cache-off", test_pipeline_cache_off);
  g_test_add_func("/vulkan-memory/limits", test_limits);
  g_test_add_func("/vulkan-memory/vit-l-14", test_vit_l_14);
  int rc = g_test_run();
  test_remove_tree(tmp_root);
  g_free(tmp_root);
  return rc;
}
