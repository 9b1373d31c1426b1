/* The .npy reader/writer: round trips, numpy's own files, malformed headers. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vg_npy.h"

/* A version 1.0 file image: preamble + header text + `payload` bytes. */
static GByteArray *npy_image(const char *header, size_t payload) {
  GByteArray *b = g_byte_array_new();
  guint16 hlen = (guint16)strlen(header);
  const guint8 pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, hlen & 0xff, hlen >> 8};
  g_byte_array_append(b, pre, sizeof pre);
  g_byte_array_append(b, (const guint8 *)header, hlen);
  for (size_t i = 0; i < payload; i++)
    g_byte_array_append(b, (const guint8 *)"\0", 1);
  return b;
}

/* Parses `header` + payload and expects failure with `msg` in the message. */
static void expect_bad(const char *header, size_t payload, const char *msg) {
  GByteArray *b = npy_image(header, payload);
  vg_npy a;
  vg_status st = vg_npy_parse(b->data, b->len, &a);
  g_test_message("%s -> %s", header, vg_last_error());
  g_assert_cmpint(st, ==, VG_ERR_FORMAT);
  g_assert_nonnull(strstr(vg_last_error(), msg));
  g_assert_null(a.data);
  g_byte_array_unref(b);
}

static void test_roundtrip(void) {
  char *dir = g_dir_make_tmp("vg-npy-XXXXXX", NULL);
  char *path = g_build_filename(dir, "a.npy", NULL);
  float data[120];
  for (int i = 0; i < 120; i++)
    data[i] = (float)i * 0.25f - 7.0f;
  const int64_t shapes[4][4] = {{120}, {10, 12}, {2, 3, 20}, {2, 3, 4, 5}};
  for (int nd = 1; nd <= 4; nd++) {
    g_assert_cmpint(vg_npy_write(path, nd, shapes[nd - 1], data), ==, VG_OK);
    vg_npy a;
    g_assert_cmpint(vg_npy_read(path, &a), ==, VG_OK);
    g_assert_cmpint(a.ndim, ==, nd);
    g_assert_cmpuint(a.count, ==, 120);
    g_assert_cmpint(memcmp(a.data, data, sizeof data), ==, 0);
    g_assert_cmpint(vg_npy_expect(&a, "x", nd, shapes[nd - 1]), ==, VG_OK);
    /* Data starts on a 64-byte boundary, as numpy writes it. */
    GStatBuf sb;
    g_assert_cmpint(g_stat(path, &sb), ==, 0);
    g_assert_cmpint((sb.st_size - (goffset)sizeof data) % 64, ==, 0);
    vg_npy_free(&a);
    vg_npy_free(&a); /* idempotent */
  }
  const int64_t empty[2] = {0, 3};
  g_assert_cmpint(vg_npy_write(path, 2, empty, NULL), ==, VG_OK);
  vg_npy a;
  g_assert_cmpint(vg_npy_read(path, &a), ==, VG_OK);
  g_assert_cmpuint(a.count, ==, 0);
  vg_npy_free(&a);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

/* Files numpy wrote (the committed reference vectors). */
static void test_numpy_file(void) {
  const char *src = g_getenv("VIGIL_SOURCE_DIR");
  g_assert_nonnull(src);
  char *path = g_build_filename(src, "tests", "reference", "vectors", "small", "text.npy", NULL);
  vg_npy a;
  g_assert_cmpint(vg_npy_read(path, &a), ==, VG_OK);
  const int64_t want[2] = {32, 2}, wrong[2] = {768, 2};
  g_assert_cmpint(vg_npy_expect(&a, "text", 2, want), ==, VG_OK);
  g_assert_cmpint(vg_npy_expect(&a, "text features", 2, wrong), ==, VG_ERR_FORMAT);
  g_assert_cmpstr(vg_last_error(), ==, "text features has shape [32, 2], expected [768, 2]");
  g_assert_cmpint(vg_npy_expect(&a, "text", 1, want), ==, VG_ERR_FORMAT);
  vg_npy_free(&a);
  g_free(path);
}

static void test_malformed(void) {
  const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
  GByteArray *b = npy_image(ok, 24);
  vg_npy a;
  g_assert_cmpint(vg_npy_parse(b->data, b->len, &a), ==, VG_OK);
  vg_npy_free(&a);
  /* Truncations at every length fail cleanly. */
  for (guint len = 0; len < b->len; len++)
    g_assert_cmpint(vg_npy_parse(b->data, len, &a), ==, VG_ERR_FORMAT);
  b->data[0] = 'x';
  g_assert_cmpint(vg_npy_parse(b->data, b->len, &a), ==, VG_ERR_FORMAT);
  g_assert_nonnull(strstr(vg_last_error(), "bad magic"));
  b->data[0] = 0x93;
  b->data[6] = 9;
  g_assert_cmpint(vg_npy_parse(b->data, b->len, &a), ==, VG_ERR_FORMAT);
  g_assert_nonnull(strstr(vg_last_error(), "version 9"));
  b->data[6] = 1;
  b->data[8] = 0xff, b->data[9] = 0xff; /* header longer than the file */
  g_assert_cmpint(vg_npy_parse(b->data, b->len, &a), ==, VG_ERR_FORMAT);
  g_assert_nonnull(strstr(vg_last_error(), "truncated in its header"));
  g_byte_array_unref(b);

  expect_bad(ok, 20, "truncated");
  expect_bad(ok, 28, "trailing bytes");
  expect_bad("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16, "'<f8'");
  expect_bad("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "'>f4'");
  expect_bad("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8, "Fortran");
  expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, "0 dimensions");
  expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }", 4,
             "more than 4");
  expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 8, "integers");
  expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8, "integers");
  expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 8,
             "too large");
  expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 8,
             "too large");
  expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3 }", 24, "malformed");
  expect_bad("{'descr': '<f4', 'fortran_order': False}", 0, "lacks 'shape'");
  expect_bad("{'descr': '<f4' 'shape': (2,)}", 8, "missing ','");
  expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8,
             "unknown key 'x'");
  expect_bad("['descr']", 0, "not a dict");
  expect_bad("{'descr", 0, "malformed key");
  expect_bad("{'descr': '<f4", 0, "not a string");
  expect_bad("{'descr': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}", 0, "not a string");
}

static void test_files(void) {
  vg_npy a;
  g_assert_cmpint(vg_npy_read("/nonexistent/x.npy", &a), ==, VG_ERR_IO);
  g_assert_nonnull(strstr(vg_last_error(), "/nonexistent/x.npy"));
  g_assert_cmpint(vg_npy_read("/", &a), ==, VG_ERR_IO);
  char *dir = g_dir_make_tmp("vg-npy-XXXXXX", NULL);
  char *path = g_build_filename(dir, "t.npy", NULL);
  g_assert_true(g_file_set_contents(path, "\x93NUMPY\x01\x00", 8, NULL));
  g_assert_cmpint(vg_npy_read(path, &a), ==, VG_ERR_FORMAT);
  g_assert_nonnull(strstr(vg_last_error(), "t.npy"));
  const int64_t shape[1] = {2}, neg[1] = {-1};
  g_assert_cmpint(vg_npy_write(path, 0, shape, NULL), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_npy_write(path, 5, shape, NULL), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_npy_write(path, 1, neg, NULL), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_npy_write(path, 1, shape, NULL), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_npy_write("/nonexistent/y.npy", 1, shape, (float[2]){0}), ==, VG_ERR_IO);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/npy/roundtrip", test_roundtrip);
  g_test_add_func("/npy/numpy-file", test_numpy_file);
  g_test_add_func("/npy/malformed", test_malformed);
  g_test_add_func("/npy/files", test_files);
  return g_test_run();
}
