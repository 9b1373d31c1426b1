/* safetensors: round trip, metadata, dtypes, and clear errors for bad files. */
#include <glib.h>
#include <glib/gstdio.h>

#include "vg_json.h"
#include "vg_safetensors.h"

static char *tmpdir;

static char *path_for(const char *name) {
  return g_build_filename(tmpdir, name, NULL);
}

/* Writes an 8-byte length, `header` padded to `header_len` (0 = its length), then `data`. */
static char *write_raw(const char *name, const char *header, guint64 header_len, const void *data,
                       gsize data_len) {
  char *path = path_for(name);
  gsize hl = strlen(header);
  GByteArray *bytes = g_byte_array_new();
  guint64 declared = header_len ? header_len : hl;
  for (int i = 0; i < 8; i++) {
    guint8 b = (guint8)(declared >> (8 * i));
    g_byte_array_append(bytes, &b, 1);
  }
  g_byte_array_append(bytes, (const guint8 *)header, (guint)hl);
  if (data_len)
    g_byte_array_append(bytes, data, (guint)data_len);
  g_assert_true(g_file_set_contents(path, (const char *)bytes->data, bytes->len, NULL));
  g_byte_array_unref(bytes);
  return path;
}

static void test_round_trip(void) {
  vg_weights *w = vg_weights_new();
  const float f[6] = {1, -2, 3.5f, 4, 5, 6};
  const guint16 h[3] = {0x3c00, 0xc000, 0x0001};
  const guint16 bf[1] = {0x3f80};
  const int64_t s23[2] = {2, 3}, s3[1] = {3}, s1[1] = {1};
  vg_weights_add(w, "visual.proj", VG_W_F32, 2, s23, f);
  vg_weights_add(w, "odd \"name\"", VG_W_F16, 1, s3, h);
  vg_weights_add(w, "scalar.bf16", VG_W_BF16, 1, s1, bf);
  vg_weights_set_meta(w, "vigil.random", "true");
  vg_weights_set_meta(w, "vigil.seed", "42");
  g_autofree char *path = path_for("rt.safetensors");
  g_assert_cmpint(vg_safetensors_write(path, w), ==, VG_OK);

  vg_weights *r = NULL;
  g_assert_cmpint(vg_safetensors_open(path, &r), ==, VG_OK);
  g_assert_cmpuint(vg_weights_count(r), ==, 3);
  const vg_weight *t = vg_weights_find(r, "visual.proj");
  g_assert_nonnull(t);
  g_assert_cmpint(t->ndim, ==, 2);
  g_assert_cmpint(t->shape[1], ==, 3);
  g_assert_cmpmem(t->data, t->nbytes, f, sizeof f);
  t = vg_weights_find(r, "odd \"name\"");
  g_assert_cmpint(t->dtype, ==, VG_W_F16);
  g_assert_cmpmem(t->data, t->nbytes, h, sizeof h);
  g_assert_cmpstr(vg_weights_meta(r, "vigil.random"), ==, "true");
  g_assert_cmpstr(vg_weights_meta(r, "vigil.seed"), ==, "42");
  vg_weights_free(r);
  vg_weights_free(w);
}

/* What Python's safetensors library writes for torch.zeros(2) named "x". */
static void test_reference_layout(void) {
  const char *header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"__metadata__\":{\"format\":\"pt\"}}";
  const float data[2] = {0.5f, -1.0f};
  g_autofree char *path = write_raw("ref.safetensors", header, 0, data, sizeof data);
  vg_weights *r = NULL;
  g_assert_cmpint(vg_safetensors_open(path, &r), ==, VG_OK);
  float back[2];
  vg_weight_to_f32(vg_weights_find(r, "x"), back);
  g_assert_cmpfloat(back[1], ==, -1.0f);
  g_assert_cmpstr(vg_weights_meta(r, "format"), ==, "pt");
  vg_weights_free(r);
}

static void expect_error(const char *path, vg_status status, const char *fragment) {
  vg_weights *r = NULL;
  g_assert_cmpint(vg_safetensors_open(path, &r), ==, status);
  g_assert_null(r);
  if (!strstr(vg_last_error(), fragment))
    g_error("error '%s' does not mention '%s'", vg_last_error(), fragment);
}

static void test_bad_files(void) {
  const float data[4] = {0};
  g_autofree char *missing = path_for("missing.safetensors");
  expect_error(missing, VG_ERR_IO, "cannot open");
  expect_error(tmpdir, VG_ERR_IO, "not a regular file");

  g_autofree char *tiny = path_for("tiny");
  g_file_set_contents(tiny, "abc", 3, NULL);
  expect_error(tiny, VG_ERR_FORMAT, "too short");

  g_autofree char *huge = write_raw("huge", "{}", (guint64)1 << 40, NULL, 0);
  expect_error(huge, VG_ERR_FORMAT, "larger than allowed");

  g_autofree char *past = write_raw("past", "{}", 4096, NULL, 0);
  expect_error(past, VG_ERR_FORMAT, "truncated");

  g_autofree char *json = write_raw("json", "{\"x\":{\"dtype\":", 0, NULL, 0);
  expect_error(json, VG_ERR_FORMAT, "bad header");

  g_autofree char *i64 = write_raw(
      "i64", "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 0, data, 16);
  expect_error(i64, VG_ERR_UNSUPPORTED, "tensor 'ids' has dtype I64");

  g_autofree char *beyond = write_raw(
      "beyond", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 0, data, 8);
  expect_error(beyond, VG_ERR_FORMAT, "tensor 'w' has data_offsets outside");

  g_autofree char *mismatch = write_raw(
      "mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 0, data, 16);
  expect_error(mismatch, VG_ERR_FORMAT, "tensor 'w' has 16 bytes but its shape and dtype need 12");

  g_autofree char *neg = write_raw(
      "neg", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", 0, data, 16);
  expect_error(neg, VG_ERR_FORMAT, "invalid shape");

  g_autofree char *overflow = write_raw("overflow",
                                        "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,"
                                        "4294967296],\"data_offsets\":[0,16]}}",
                                        0, data, 16);
  expect_error(overflow, VG_ERR_FORMAT, "invalid shape");

  g_autofree char *nodtype =
      write_raw("nodtype", "{\"w\":{\"shape\":[4],\"data_offsets\":[0,16]}}", 0, data, 16);
  expect_error(nodtype, VG_ERR_FORMAT, "lacks dtype");

  g_autofree char *dup = write_raw("dup",
                                   "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,"
                                   "4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
                                   "[4,8]}}",
                                   0, data, 8);
  expect_error(dup, VG_ERR_FORMAT, "appears twice");
}

static void test_json(void) {
  const char *text = "{\"a\": [1, -2.5e3, true, false, null], \"s\": \"\\u00e9\\ud83d\\ude00\\n\"}";
  vg_json *j = vg_json_parse(text, strlen(text));
  g_assert_nonnull(j);
  const vg_json *a = vg_json_get(j, "a");
  g_assert_cmpuint(a->count, ==, 5);
  g_assert_true(a->items[0]->is_integer);
  g_assert_cmpfloat(a->items[1]->number, ==, -2500.0);
  g_assert_true(a->items[2]->boolean);
  g_assert_false(a->items[3]->boolean);
  g_assert_cmpstr(vg_json_get(j, "s")->string, ==, "\xc3\xa9\xf0\x9f\x98\x80\n");
  vg_json_free(j);
  const char *bad[] = {"",
                       "{",
                       "[1,]",
                       "{\"a\" 1}",
                       "\"abc",
                       "{} x",
                       "[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]",
                       "\"\\q\"",
                       "-",
                       "{\"a\":1,}",
                       "\"\\u12\""};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    vg_json *b = vg_json_parse(bad[i], strlen(bad[i]));
    if (b)
      g_error("JSON '%s' should be refused", bad[i]);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp("vigil-st-XXXXXX", NULL);
  g_test_add_func("/safetensors/round-trip", test_round_trip);
  g_test_add_func("/safetensors/reference-layout", test_reference_layout);
  g_test_add_func("/safetensors/bad-files", test_bad_files);
  g_test_add_func("/safetensors/json", test_json);
  int rc = g_test_run();
  g_autoptr(GDir) dir = g_dir_open(tmpdir, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name(dir))) {
    g_autofree char *p = g_build_filename(tmpdir, name, NULL);
    g_unlink(p);
  }
  g_rmdir(tmpdir);
  g_free(tmpdir);
  return rc;
}
