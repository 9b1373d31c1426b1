/* Time to first map and memory (issue 17): F32 weights used in place from
 * the mapped file on the CPU, prompts cut at the longest end token, the
 * weights digest cache, the text tower dropped after a class and reloaded
 * for the next, and bad weights files. Tiny random model. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <utime.h>

#include "test-util.h"
#include "vg_clip_internal.h"
#include "vg_clip_random.h"
#include "vg_cpu.h"
#include "vg_safetensors.h"
#include "vigil-digest.h"
#include "vigil-engine.h"

static char *dir, *clip_path, *adapters_path;

static vg_clip *load(vg_backend *be, const vg_weights *clip, const vg_weights *ad, int borrow) {
  const vg_clip_options o = {.borrow_weights = borrow};
  vg_clip *m = NULL;
  g_assert_cmpint(vg_clip_load(clip, ad, &o, be, &m), ==, VG_OK);
  return m;
}

/* Borrowed F32 weights point into the mapping; the forward equals a copied load. */
static void test_borrow(void) {
  vg_weights *clip = NULL, *ad = NULL;
  g_assert_cmpint(vg_safetensors_open(clip_path, &clip), ==, VG_OK);
  g_assert_cmpint(vg_safetensors_open(adapters_path, &ad), ==, VG_OK);
  vg_backend *cpu = vg_cpu_backend_new(1);
  vg_clip *copied = load(cpu, clip, ad, 0), *mapped = load(cpu, clip, ad, 1);
  const vg_weight *fc1 = vg_weights_find(clip, "visual.transformer.resblocks.0.mlp.c_fc.weight");
  g_assert_nonnull(fc1);
  g_assert_true(mapped->vblocks[0].fc1_w->host == fc1->data);
  g_assert_true(copied->vblocks[0].fc1_w->host != fc1->data);
  const vg_clip_arch *a = vg_clip_arch_of(mapped);
  const gsize px = (gsize)3 * a->image_size * a->image_size;
  g_autofree float *img = g_new(float, px);
  for (gsize i = 0; i < px; i++)
    img[i] = (float)((i * 7919) % 1000) / 1000.0f;
  float out[2][1024];
  g_assert_cmpint(a->embed_dim, <=, 1024);
  vg_clip_image_out o0 = {.pooled = out[0]}, o1 = {.pooled = out[1]};
  g_assert_cmpint(vg_clip_encode_image(copied, img, &o0), ==, VG_OK);
  vg_weights_evict(clip); /* dropped pages come back from the file */
  g_assert_cmpint(vg_clip_encode_image(mapped, img, &o1), ==, VG_OK);
  g_assert_cmpmem(out[0], a->embed_dim * sizeof(float), out[1], a->embed_dim * sizeof(float));
  vg_clip_free(copied), vg_clip_free(mapped);
  vg_backend_destroy(cpu);
  vg_weights_free(clip), vg_weights_free(ad);
}

/* Resident bytes of the mapping that holds `addr` (/proc/self/smaps), or -1. */
static gint64 mapping_rss(const void *addr) {
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents("/proc/self/smaps", &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  gboolean inside = FALSE;
  for (char **l = lines; *l; l++) {
    unsigned long long lo, hi, kb;
    if (sscanf(*l, "%llx-%llx ", &lo, &hi) == 2)
      inside = (guintptr)addr >= lo && (guintptr)addr < hi;
    else if (inside && sscanf(*l, "Rss: %llu kB", &kb) == 1)
      return (gint64)kb * 1024;
  }
  return -1;
}

/* Bytes of the file's transformer blocks (the bulk of a CLIP file). */
static gint64 block_bytes(const vg_weights *w) {
  gint64 sum = 0;
  for (size_t i = 0; i < vg_weights_count(w); i++) {
    const vg_weight *t = vg_weights_at(w, i);
    if (strstr(t->name, "resblocks."))
      sum += vg_weight_numel(t) * (gint64)vg_wdtype_size(t->dtype);
  }
  return sum;
}

/* A load that converts the blocks' weights (F16 here, BF16 alike) drops the
 * file pages it read: they would sit beside the copies until the load ends.
 * F32 used in place keeps them, which shows the measure sees them. */
static void test_drop_read_pages(void) {
  vg_weights *clip = NULL;
  g_assert_cmpint(vg_safetensors_open(clip_path, &clip), ==, VG_OK);
  const vg_weight *fc1 = vg_weights_find(clip, "visual.transformer.resblocks.0.mlp.c_fc.weight");
  g_assert_nonnull(fc1);
  const gint64 blocks = block_bytes(clip);
  vg_backend *cpu = vg_cpu_backend_new(1);
  const vg_clip_options half = {.borrow_weights = 1, .matmul_dtype = VG_F16};
  vg_clip *m = NULL;
  vg_weights_evict(clip);
  g_assert_cmpint(vg_clip_load(clip, NULL, &half, cpu, &m), ==, VG_OK);
  const gint64 converted = mapping_rss(fc1->data);
  vg_clip_free(m);
  vg_weights_evict(clip);
  m = load(cpu, clip, NULL, 1);
  for (int i = 0; i < m->arch.layers; i++) /* what a forward reads */
    for (const uint8_t *p = m->vblocks[i].fc1_w->host,
                       *end = p + vg_tensor_bytes(m->vblocks[i].fc1_w);
         p < end; p += 4096)
      (void)*(volatile const uint8_t *)p;
  const gint64 in_place = mapping_rss(fc1->data);
  g_test_message("file pages resident: %" G_GINT64_FORMAT " after an F16 load, %" G_GINT64_FORMAT
                 " with F32 in place; blocks %" G_GINT64_FORMAT " bytes",
                 converted, in_place, blocks);
  g_assert_cmpint(converted, >=, 0);
  g_assert_cmpint(converted, <, blocks / 3);
  g_assert_cmpint(in_place, >, blocks / 3);
  vg_clip_free(m);
  vg_backend_destroy(cpu);
  vg_weights_free(clip);
}

/* Prompt r: start token, r + 3 words, end token (the largest id), zeros. */
static void prompt(int32_t *row, int ctx, int vocab, int words) {
  memset(row, 0, (gsize)ctx * sizeof *row);
  row[0] = vocab - 2;
  for (int t = 1; t <= words; t++)
    row[t] = (t * 131 + words * 17) % (vocab - 2);
  row[words + 1] = vocab - 1;
}

/* Features of prompts cut at ~10 tokens equal those over the whole context
 * (a prompt ending at the last position forces the uncut length). */
static int compare_int(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

static void test_cut(void) {
  vg_weights *clip = NULL;
  g_assert_cmpint(vg_safetensors_open(clip_path, &clip), ==, VG_OK);
  vg_backend *cpu = vg_cpu_backend_new(1);
  vg_clip *m = load(cpu, clip, NULL, 1);
  const vg_clip_arch *a = vg_clip_arch_of(m);
  const int ctx = a->context_length, n = 5, d = a->embed_dim;
  g_autofree int32_t *ids = g_new(int32_t, (gsize)(n + 1) * ctx);
  for (int r = 0; r < n; r++)
    prompt(ids + (gsize)r * ctx, ctx, a->vocab, r + 3);
  prompt(ids + (gsize)n * ctx, ctx, a->vocab, ctx - 2); /* ends at the last position */
  g_autofree float *cut = g_new(float, (gsize)n *d), *full = g_new(float, (gsize)(n + 1) * d);
  g_assert_cmpint(vg_clip_encode_text(m, ids, n, cut), ==, VG_OK);
  g_assert_cmpint(m->tlen, ==, (n - 1 + 3) + 2); /* start, the most words, end */
  g_assert_cmpint(vg_clip_encode_text(m, ids, n + 1, full), ==, VG_OK);
  g_assert_cmpint(m->tlen, ==, ctx);
  double worst = 0;
  for (gsize i = 0; i < (gsize)n * d; i++)
    worst = MAX(worst, fabs((double)cut[i] - full[i]));
  g_test_message("cut vs full context: %.3g", worst);
  g_assert_cmpfloat(worst, <=, 1e-5);
  /* More prompts than one chunk holds, of shuffled lengths: they come back in
   * their places and equal each prompt encoded alone. */
  enum { MANY = VG_CLIP_BATCH_MAX + 9 };
  g_autofree int32_t *many = g_new(int32_t, (gsize)MANY * ctx);
  for (int r = 0; r < MANY; r++)
    prompt(many + (gsize)r * ctx, ctx, a->vocab, 1 + (r * 7) % 19);
  g_autofree float *together = g_new(float, (gsize)MANY *d), *alone = g_new(float, d);
  g_assert_cmpint(vg_clip_encode_text(m, many, MANY, together), ==, VG_OK);
  /* Sorted by length, each chunk cut at its own longest prompt: the 64
   * shortest (2 + words tokens each) at theirs, the 9 longest at 2 + 19. */
  int words[MANY];
  for (int r = 0; r < MANY; r++)
    words[r] = 1 + (r * 7) % 19;
  qsort(words, MANY, sizeof *words, compare_int);
  const gint64 rows = (gint64)VG_CLIP_BATCH_MAX * (2 + words[VG_CLIP_BATCH_MAX - 1]) + 9 * (2 + 19);
  g_assert_cmpint(m->text_rows, ==, rows);
  g_assert_cmpint(m->text_rows, <, (gint64)MANY * (2 + 19));
  worst = 0;
  for (int r = 0; r < MANY; r++) {
    g_assert_cmpint(vg_clip_encode_text(m, many + (gsize)r * ctx, 1, alone), ==, VG_OK);
    for (int c = 0; c < d; c++)
      worst = MAX(worst, fabs((double)together[(gsize)r * d + c] - alone[c]));
  }
  g_test_message("chunks vs one at a time: %.3g", worst);
  g_assert_cmpfloat(worst, <=, 1e-5);
  vg_clip_free(m);
  vg_backend_destroy(cpu);
  vg_weights_free(clip);
}

static void set_mtime(const char *path, gint64 seconds) {
  struct utimbuf t = {.actime = seconds, .modtime = seconds};
  g_assert_cmpint(g_utime(path, &t), ==, 0);
}

/* The digest comes from the cache while path, size and mtime match; a changed
 * mtime reads the file again. */
static void test_digest(void) {
  g_autofree char *path = g_build_filename(dir, "w.bin", NULL);
  g_assert_true(g_file_set_contents(path, "weights", -1, NULL));
  set_mtime(path, 1000000000);
  g_autofree char *want = g_compute_checksum_for_string(G_CHECKSUM_SHA256, "weights", -1);
  g_autoptr(GError) error = NULL;
  g_autofree char *first = vigil_file_digest(path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(first, ==, want);
  /* Doctor the cached entry: a hit returns it without reading the file. */
  g_autofree char *cache = vigil_digest_cache_path(), *text = NULL;
  g_assert_true(g_file_get_contents(cache, &text, NULL, NULL));
  g_autofree char *fake = g_strnfill(64, 'a');
  g_auto(GStrv) parts = g_strsplit(text, want, -1);
  g_autofree char *doctored = g_strjoinv(fake, parts);
  g_assert_true(g_file_set_contents(cache, doctored, -1, NULL));
  g_autofree char *hit = vigil_file_digest(path, &error);
  g_assert_cmpstr(hit, ==, fake);
  set_mtime(path, 1000000001);
  g_autofree char *again = vigil_file_digest(path, &error);
  g_assert_cmpstr(again, ==, want);
  g_autofree char *missing = g_build_filename(dir, "nope.bin", NULL);
  g_assert_null(vigil_file_digest(missing, &error));
  g_assert_nonnull(error);
}

/* OpenSSL's SHA-256 equals GLib's over several read buffers and a tail, and
 * over an empty file. */
static void test_sha256(void) {
  const gsize sizes[] = {0, 3 * 1024 * 1024 + 7};
  for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
    g_autofree guint8 *data = g_malloc(sizes[i] + 1);
    for (gsize b = 0; b < sizes[i]; b++)
      data[b] = (guint8)(b * 2654435761u >> 13);
    g_autofree char *path = g_build_filename(dir, "hash.bin", NULL);
    g_assert_true(g_file_set_contents(path, (const char *)data, (gssize)sizes[i], NULL));
    g_autofree char *want = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, sizes[i]);
    g_autoptr(GError) error = NULL;
    g_autofree char *got = vigil_file_sha256(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, want);
  }
}

static VigilEngine *open_cpu(const char *clip, GError **error) {
  const VigilBackendOptions cpu = {.kind = VIGIL_BACKEND_CPU, .threads = 1};
  VigilEngine *e = vigil_engine_open(clip, adapters_path, &cpu, error);
  if (e)
    vigil_engine_set_cache_dir(e, NULL); /* every class through the text tower */
  return e;
}

/* The text tower goes after a class and comes back for the next, with the
 * features a fresh engine computes. */
static void test_text_tower(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilEngine) e = open_cpu(clip_path, &error), fresh = open_cpu(clip_path, &error);
  g_assert_no_error(error);
  g_assert_false(vigil_engine_text_tower_loaded(e));
  g_autofree float *brain = vigil_engine_text_features(e, "brain", NULL, &error);
  g_assert_no_error(error);
  g_assert_false(vigil_engine_text_tower_loaded(e));
  g_autofree float *liver = vigil_engine_text_features(e, "liver", NULL, &error);
  g_assert_no_error(error);
  g_assert_false(vigil_engine_text_tower_loaded(e));
  g_autofree float *want = vigil_engine_text_features(fresh, "liver", NULL, &error);
  const gsize bytes = (gsize)vigil_engine_arch(e)->embed_dim * 2 * sizeof(float);
  g_assert_cmpmem(liver, bytes, want, bytes);
  g_assert_true(memcmp(brain, liver, bytes) != 0);
}

/* A truncated or corrupt weights file is refused with a message, no crash. */
static void test_bad_file(void) {
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(clip_path, &bytes, &len, NULL));
  g_autofree char *cut = g_build_filename(dir, "cut.safetensors", NULL);
  g_assert_true(g_file_set_contents(cut, bytes, (gssize)(len / 2), NULL));
  g_autoptr(GError) error = NULL;
  g_assert_null(open_cpu(cut, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "outside the file"));
  g_clear_error(&error);
  char *shape = memmem(bytes, len, "\"shape\":[", 9);
  g_assert_nonnull(shape);
  shape[8] = '{'; /* the JSON header broken */
  g_assert_true(g_file_set_contents(cut, bytes, (gssize)len, NULL));
  g_assert_null(open_cpu(cut, &error));
  g_assert_nonnull(strstr(error->message, "bad header"));
}

int main(int argc, char **argv) {
  dir = test_make_tmp_dir("vigil-cpu-memory");
  g_autofree char *cache = g_build_filename(dir, "cache", NULL);
  g_setenv("XDG_CACHE_HOME", cache, TRUE); /* before GLib reads it */
  g_test_init(&argc, &argv, NULL);
  test_write_random_model(dir, "tiny", 3, &clip_path, &adapters_path);
  g_test_add_func("/cpu-memory/borrow", test_borrow);
  g_test_add_func("/cpu-memory/cut", test_cut);
  g_test_add_func("/cpu-memory/drop-read-pages", test_drop_read_pages);
  g_test_add_func("/cpu-memory/digest", test_digest);
  g_test_add_func("/cpu-memory/sha256", test_sha256);
  g_test_add_func("/cpu-memory/text-tower", test_text_tower);
  g_test_add_func("/cpu-memory/bad-file", test_bad_file);
  int rc = g_test_run();
  test_remove_tree(dir);
  g_free(dir), g_free(clip_path), g_free(adapters_path);
  return rc;
}
