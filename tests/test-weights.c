/* The in-memory weights table: lookup, shape checks with named errors, dtypes, metadata. */
#include <glib.h>

#include "vg_weights.h"

static void test_table(void) {
  vg_weights *w = vg_weights_new();
  const float data[6] = {1, 2, 3, 4, 5, 6};
  const int64_t shape[2] = {2, 3};
  g_assert_cmpint(vg_weights_add(w, "a.weight", VG_W_F32, 2, shape, data), ==, VG_OK);
  g_assert_cmpint(vg_weights_add(w, "a.weight", VG_W_F32, 2, shape, data), ==, VG_ERR_FORMAT);
  g_assert_nonnull(strstr(vg_last_error(), "'a.weight' appears twice"));
  g_assert_cmpuint(vg_weights_count(w), ==, 1);

  const vg_weight *t = NULL;
  g_assert_cmpint(vg_weight_expect(w, "a.weight", 2, shape, &t), ==, VG_OK);
  g_assert_cmpuint(t->nbytes, ==, 24);
  const int64_t wrong[2] = {3, 2};
  g_assert_cmpint(vg_weight_expect(w, "a.weight", 2, wrong, NULL), ==, VG_ERR_FORMAT);
  g_assert_cmpstr(vg_last_error(), ==, "tensor 'a.weight' has shape [2, 3], expected [3, 2]");
  g_assert_cmpint(vg_weight_expect(w, "b.bias", 1, shape, NULL), ==, VG_ERR_FORMAT);
  g_assert_cmpstr(vg_last_error(), ==, "tensor 'b.bias' is missing");

  const int64_t bad[1] = {-4};
  g_assert_cmpint(vg_weights_add(w, "neg", VG_W_F32, 1, bad, data), ==, VG_ERR_FORMAT);

  g_assert_cmpint(vg_weights_set_meta(w, "vigil.random", "true"), ==, VG_OK);
  g_assert_cmpint(vg_weights_set_meta(w, "vigil.random", "false"), ==, VG_OK);
  g_assert_cmpstr(vg_weights_meta(w, "vigil.random"), ==, "false");
  g_assert_null(vg_weights_meta(w, "other"));
  vg_weights_free(w);
}

static void test_dtypes(void) {
  vg_weights *w = vg_weights_new();
  const uint16_t bf16[2] = {0x3f80, 0xc040}; /* 1.0, -3.0 */
  const uint16_t f16[2] = {0x3c00, 0xc200};  /* 1.0, -3.0 */
  const int64_t shape[1] = {2};
  vg_weights_add(w, "bf", VG_W_BF16, 1, shape, bf16);
  vg_weights_add(w, "h", VG_W_F16, 1, shape, f16);
  float out[2];
  vg_weight_to_f32(vg_weights_find(w, "bf"), out);
  g_assert_cmpfloat(out[0], ==, 1.0f);
  g_assert_cmpfloat(out[1], ==, -3.0f);
  vg_weight_to_f32(vg_weights_find(w, "h"), out);
  g_assert_cmpfloat(out[1], ==, -3.0f);
  vg_weights_free(w);
}

static int released;
static void release(void *ctx) {
  released += GPOINTER_TO_INT(ctx);
}

static void test_borrowed(void) {
  static const float data[2] = {7, 8};
  const int64_t shape[1] = {2};
  vg_weights *w = vg_weights_new();
  g_assert_cmpint(vg_weights_add_borrowed(w, "x", VG_W_F32, 1, shape, data), ==, VG_OK);
  g_assert_true(vg_weights_find(w, "x")->data == data);
  vg_weights_keep(w, release, GINT_TO_POINTER(5));
  vg_weights_free(w);
  g_assert_cmpint(released, ==, 5);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/weights/table", test_table);
  g_test_add_func("/weights/dtypes", test_dtypes);
  g_test_add_func("/weights/borrowed", test_borrowed);
  return g_test_run();
}
