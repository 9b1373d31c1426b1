/* PyTorch .pth checkpoints: files written by torch.save (made by pth-cases.py
 * with /usr/bin/python3 + torch) load bit-identically, our writer's files load
 * in torch, and malicious, malformed or unsupported files fail with clear errors. */
#include <glib.h>
#include <glib/gstdio.h>

#include "vg_pickle.h"
#include "vg_pth.h"
#include "vg_safetensors.h"
#include "vg_weights_io.h"

static char *dir;

static char *path_for(const char *name) {
  return g_build_filename(dir, name, NULL);
}

static char *script(void) {
  return g_build_filename(g_getenv("VIGIL_SOURCE_DIR"), "tests", "pth-cases.py", NULL);
}

/* Runs pth-cases.py with `args`; returns its exit status, keeping its output in *out. */
static int run_cases(const char *a1, const char *a2, const char *a3, const char *a4, char **out) {
  g_autofree char *py = script();
  const char *argv[] = {"/usr/bin/python3", py, a1, a2, a3, a4, NULL};
  int wait = 0;
  g_autoptr(GError) error = NULL;
  char *err = NULL;
  gboolean ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, &err,
                             &wait, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  if (!g_spawn_check_wait_status(wait, NULL))
    g_test_message("pth-cases.py %s: %s%s", a1, out ? *out : "", err);
  g_free(err);
  return g_spawn_check_wait_status(wait, NULL) ? 0 : 1;
}

static vg_weights *load(const char *name) {
  g_autofree char *path = path_for(name);
  vg_weights *w = NULL;
  vg_status s = vg_weights_open(path, &w);
  if (s)
    g_error("%s: %s", name, vg_last_error());
  return w;
}

static void assert_same(const vg_weights *a, const vg_weights *b) {
  g_assert_cmpuint(vg_weights_count(a), ==, vg_weights_count(b));
  for (size_t i = 0; i < vg_weights_count(a); i++) {
    const vg_weight *x = vg_weights_at(a, i), *y = vg_weights_find(b, x->name);
    if (!y)
      g_error("tensor '%s' missing", x->name);
    g_assert_cmpint(x->dtype, ==, y->dtype);
    g_assert_cmpint(x->ndim, ==, y->ndim);
    for (int d = 0; d < x->ndim; d++)
      g_assert_cmpint(x->shape[d], ==, y->shape[d]);
    g_assert_cmpmem(x->data, x->nbytes, y->data, y->nbytes);
  }
}

static const char *const torch_cases[] = {"mvfa_f32", "mvfa_f16", "flat_bf16", "shared", "zip64"};

static void test_torch_files(void) {
  for (size_t i = 0; i < G_N_ELEMENTS(torch_cases); i++) {
    g_autofree char *pth = g_strconcat(torch_cases[i], ".pth", NULL);
    g_autofree char *st = g_strconcat(torch_cases[i], ".safetensors", NULL);
    vg_weights *a = load(pth), *b = load(st);
    assert_same(a, b);
    vg_weights_free(a), vg_weights_free(b);
  }
}

static void test_mvfa_layout(void) {
  vg_weights *w = load("mvfa_f16.pth");
  g_assert_cmpuint(vg_weights_count(w), ==, 16);
  const int64_t fc1[2] = {4, 16}, fc2[2] = {16, 4};
  const char *const groups[] = {"seg_adapters", "det_adapters"};
  for (int g = 0; g < 2; g++)
    for (int k = 0; k < 4; k++) {
      g_autofree char *n1 = g_strdup_printf("%s.%d.fc1.0.weight", groups[g], k);
      g_autofree char *n2 = g_strdup_printf("%s.%d.fc2.0.weight", groups[g], k);
      const vg_weight *t = NULL;
      g_assert_cmpint(vg_weight_expect(w, n1, 2, fc1, &t), ==, VG_OK);
      g_assert_cmpint(t->dtype, ==, VG_W_F16);
      g_assert_cmpint(vg_weight_expect(w, n2, 2, fc2, NULL), ==, VG_OK);
    }
  g_assert_cmpstr(vg_weights_at(w, 0)->name, ==, "seg_adapters.0.fc1.0.weight");
  vg_weights_free(w);
}

/* Views of one storage share its bytes; non-tensor leaves are skipped. */
static void test_shared_storage(void) {
  vg_weights *w = load("shared.pth");
  g_assert_cmpuint(vg_weights_count(w), ==, 9);
  const char *base = vg_weights_find(w, "base")->data;
  g_assert_true(vg_weights_find(w, "rows")->data == base + 6 * 4);
  g_assert_true(vg_weights_find(w, "flat")->data == base);
  g_assert_true(vg_weights_find(w, "row")->data == base + 12 * 4);
  g_assert_true(vg_weights_find(w, "elem")->data == base + 23 * 4);
  g_assert_true(vg_weights_find(w, "meta.inner.w")->data == base);
  g_assert_true(vg_weights_find(w, "meta.by_int.7")->data == base + 6 * 4);
  g_assert_cmpint(vg_weights_find(w, "elem")->ndim, ==, 0);
  g_assert_cmpuint(vg_weights_find(w, "empty")->nbytes, ==, 0);
  g_assert_null(vg_weights_find(w, "meta.epoch"));
  vg_weights_free(w);
}

static void test_writer(void) {
  const struct {
    const char *name;
    vg_pth_layout layout;
  } cases[] = {{"mvfa_f32", VG_PTH_NESTED},
               {"mvfa_f16", VG_PTH_NESTED},
               {"mvfa_f32", VG_PTH_FLAT},
               {"flat_bf16", VG_PTH_FLAT},
               {"shared", VG_PTH_FLAT}};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *src = g_strconcat(cases[i].name, ".pth", NULL);
    g_autofree char *ref = path_for(src);
    g_autofree char *ours = g_strdup_printf("%s/ours-%zu.pth", dir, i);
    vg_weights *w = load(src);
    if (vg_pth_write(ours, w, cases[i].layout))
      g_error("%s", vg_last_error());
    g_autofree char *out = NULL;
    int flat = cases[i].layout == VG_PTH_FLAT && strcmp(cases[i].name, "flat_bf16");
    g_assert_cmpint(run_cases("check", ours, ref, flat ? "flat" : "same", &out), ==, 0);
    g_assert_cmpstr(out, ==, "identical\n");
    vg_weights *back = NULL;
    g_assert_cmpint(vg_pth_open(ours, &back), ==, VG_OK);
    assert_same(w, back);
    vg_weights_free(back), vg_weights_free(w);
  }
  vg_weights *w = load("shared.pth");
  g_autofree char *bad = path_for("bad-nested.pth");
  g_assert_cmpint(vg_pth_write(bad, w, VG_PTH_NESTED), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "tensor 'base' has no '<group>.<name>' form"));
  vg_weights_free(w);
}

static void expect_fail(const char *name, vg_status status, const char *needle) {
  g_autofree char *path = path_for(name);
  vg_weights *w = NULL;
  vg_status s = vg_weights_open(path, &w);
  g_test_message("%s: %s", name, vg_last_error());
  g_assert_null(w);
  g_assert_cmpint(s, ==, status);
  if (!strstr(vg_last_error(), needle))
    g_error("%s: '%s' lacks '%s'", name, vg_last_error(), needle);
  g_assert_nonnull(strstr(vg_last_error(), name)); /* the message names the file */
}

static void test_malicious(void) {
  g_autofree char *marker = path_for("pwned");
  expect_fail("evil_system.pth", VG_ERR_FORMAT, "global 'os.system' at byte 2 is not allowed");
  expect_fail("evil_eval.pth", VG_ERR_FORMAT, "global 'builtins.eval' at byte 2 is not allowed");
  expect_fail("evil_nested.pth", VG_ERR_FORMAT, "global 'subprocess.check_call'");
  g_assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));
}

static void test_bad_files(void) {
  expect_fail("noncontig.pth", VG_ERR_UNSUPPORTED, "tensor 't' is not contiguous");
  expect_fail("double.pth", VG_ERR_UNSUPPORTED, "tensor 'd' has dtype torch.DoubleStorage");
  expect_fail("legacy.pth", VG_ERR_UNSUPPORTED,
              "legacy .pth format not supported; re-save with "
              "torch.save(..., "
              "_use_new_zipfile_serialization=True)");
  expect_fail("huge_numel.pth", VG_ERR_FORMAT, "storage '0' declares 4611686018427387904 elements");
  expect_fail("huge_shape.pth", VG_ERR_FORMAT, "lies outside its storage '0' of 4 elements");
  expect_fail("short_storage.pth", VG_ERR_FORMAT,
              "storage '0' holds 16 bytes but declares 1073741824 elements");
  expect_fail("missing_data.pth", VG_ERR_FORMAT, "storage record 'archive/data/0' is missing");
  expect_fail("compressed.pth", VG_ERR_UNSUPPORTED, "'archive/data.pkl' is compressed");
  /* libzip's consistency check (local vs central header) catches this first;
   * vg_pth also caps the total storage bytes at the archive size. */
  expect_fail("overlap.pth", VG_ERR_FORMAT, "not a valid zip archive: Zip archive inconsistent");
  expect_fail("cycle.pth", VG_ERR_FORMAT, "dict 'me' contains itself");
  expect_fail("fanout.pth", VG_ERR_FORMAT, "more entries than the stream");
  expect_fail("no-such-file.pth", VG_ERR_IO, "No such file");
  g_autofree char *text = path_for("notes.txt");
  g_assert_true(g_file_set_contents(text, "hello, not weights\n", -1, NULL));
  expect_fail("notes.txt", VG_ERR_FORMAT, "neither a safetensors file nor a PyTorch zip");
}

/* Content decides the format, whatever the first bytes happen to look like. */
static void test_sniff(void) {
  unsigned char st[9] = {0x80, 0x02, 0, 0, 0, 0, 0, 0, '{'}; /* 640-byte safetensors header */
  g_assert_cmpint(vg_weights_sniff(st, sizeof st), ==, VG_WFMT_SAFETENSORS);
  const unsigned char legacy[4] = {0x80, 0x02, 0x8a, 0x0a};
  g_assert_cmpint(vg_weights_sniff(legacy, sizeof legacy), ==, VG_WFMT_PTH_LEGACY);
  g_assert_cmpint(vg_weights_sniff("PK\3\4", 4), ==, VG_WFMT_PTH);
  g_assert_cmpint(vg_weights_sniff("{}", 2), ==, VG_WFMT_UNKNOWN);
  g_assert_cmpint(vg_weights_sniff("", 0), ==, VG_WFMT_UNKNOWN);
}

static void load_file(const char *name, char **data, gsize *len) {
  g_autofree char *path = path_for(name);
  g_assert_true(g_file_get_contents(path, data, len, NULL));
}

static void test_truncated(void) {
  char *data;
  gsize len;
  load_file("mvfa_f32.pth", &data, &len);
  for (gsize n = 0; n < len; n++) {
    vg_weights *w = NULL;
    g_assert_cmpint(vg_pth_load_mem(data, n, &w), !=, VG_OK);
    g_assert_null(w);
    g_assert_cmpstr(vg_last_error(), !=, "");
  }
  g_test_message("every truncation of %zu bytes refused; e.g. %s", len, vg_last_error());
  g_free(data);
}

static void flip_and_fail(const char *bytes, gsize len, gsize at, const char *needle) {
  g_autofree char *copy = g_memdup2(bytes, len);
  copy[at] ^= 0x55;
  vg_weights *w = NULL;
  g_assert_cmpint(vg_pth_load_mem(copy, len, &w), ==, VG_ERR_FORMAT);
  if (!strstr(vg_last_error(), needle))
    g_error("'%s' lacks '%s'", vg_last_error(), needle);
}

static void test_corrupt(void) {
  char *data;
  gsize len;
  load_file("mvfa_f32.pth", &data, &len);
  const char *cd = memmem(data, len, "PK\1\2", 4); /* central directory */
  g_assert_nonnull(cd);
  flip_and_fail(data, len, (gsize)(cd - data), "not a valid zip archive");
  flip_and_fail(data, len, (gsize)(cd - data) + 24, "more than the archive holds"); /* size */
  vg_weights *w = load("mvfa_f32.pth");
  const vg_weight *t = vg_weights_find(w, "det_adapters.2.fc2.0.weight");
  const char *at = memmem(data, len, t->data, t->nbytes);
  g_assert_nonnull(at);
  flip_and_fail(data, len, (gsize)(at - data) + 5, "zip entry 'mvfa_f32/data/");
  flip_and_fail(data, len, (gsize)(at - data) + 5, "is damaged");
  vg_weights_free(w);
  g_free(data);
}

/* Inputs that once crashed a fuzzer, and its seeds, must load or fail cleanly. */
static void test_fuzz_regressions(void) {
  const char *const sets[] = {"pth", "safetensors"};
  int files = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(sets); i++) {
    g_autofree char *d =
        g_build_filename(g_getenv("VIGIL_SOURCE_DIR"), "tests", "fuzz", sets[i], NULL);
    g_autoptr(GDir) gd = g_dir_open(d, 0, NULL);
    g_assert_nonnull(gd);
    for (const char *name; (name = g_dir_read_name(gd));) {
      g_autofree char *path = g_build_filename(d, name, NULL);
      char *data;
      gsize len;
      g_assert_true(g_file_get_contents(path, &data, &len, NULL));
      vg_weights *w = NULL;
      vg_status s = i == 0 ? vg_pth_load_mem(data, len, &w) : vg_safetensors_parse(data, len, &w);
      g_test_message("%s/%s: %s", sets[i], name, s ? vg_last_error() : "loads");
      g_assert_true(s == VG_OK ? w != NULL : w == NULL);
      vg_weights_free(w);
      if (i == 0) { /* the pth harness also feeds its input to the unpickler alone */
        vg_pickle_tensor *t = NULL;
        size_t n = 0;
        s = vg_pickle_load_tensors(data, len, &t, &n);
        g_test_message("  as data.pkl: %s", s ? vg_last_error() : "parses");
        g_assert_true(s == VG_OK || (t == NULL && n == 0));
        vg_pickle_tensors_free(t, n);
      }
      g_free(data);
      files++;
    }
  }
  g_assert_cmpint(files, >=, 2);
}

static void remove_dir(const char *path) {
  g_autoptr(GDir) gd = g_dir_open(path, 0, NULL);
  for (const char *name; gd && (name = g_dir_read_name(gd));) {
    g_autofree char *p = g_build_filename(path, name, NULL);
    g_remove(p);
  }
  g_rmdir(path);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  dir = g_dir_make_tmp("vigil-pth-XXXXXX", NULL);
  g_assert_nonnull(dir);
  g_autofree char *out = NULL;
  if (run_cases("make", dir, NULL, NULL, &out) != 0)
    g_error("pth-cases.py make failed (needs /usr/bin/python3 with torch)");
  g_test_add_func("/pth/torch-files", test_torch_files);
  g_test_add_func("/pth/mvfa-layout", test_mvfa_layout);
  g_test_add_func("/pth/shared-storage", test_shared_storage);
  g_test_add_func("/pth/writer-round-trip", test_writer);
  g_test_add_func("/pth/malicious", test_malicious);
  g_test_add_func("/pth/bad-files", test_bad_files);
  g_test_add_func("/pth/sniff", test_sniff);
  g_test_add_func("/pth/truncated", test_truncated);
  g_test_add_func("/pth/corrupt", test_corrupt);
  g_test_add_func("/pth/fuzz-regressions", test_fuzz_regressions);
  int rc = g_test_run();
  remove_dir(dir);
  g_free(dir);
  return rc;
}
