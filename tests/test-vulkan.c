/* The Vulkan backend on lavapipe, with the Khronos validation layer on:
 * results must match the CPU backend and the layer must report nothing. */
#include <glib.h>
#include <math.h>

#include "vg_cpu.h"
#include "vg_vulkan.h"
#include "vk-test-util.h"

static vg_backend *vk;
static vg_backend *cpu;

static void check_add_scaled(int64_t rows, int64_t cols) {
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(rows * 131 + cols));
  size_t n = (size_t)(rows * cols);
  g_autofree float *a = g_new(float, n), *b = g_new(float, n);
  g_autofree float *got = g_new(float, n), *want = g_new(float, n);
  for (size_t i = 0; i < n; i++) {
    a[i] = (float)g_rand_double_range(rng, -10, 10);
    b[i] = (float)g_rand_double_range(rng, -10, 10);
  }
  vg_backend *bes[2] = {vk, cpu};
  float *outs[2] = {got, want};
  for (int k = 0; k < 2; k++) {
    vg_tensor *ta = vg_tensor_new(bes[k], VG_F32, rows, cols);
    vg_tensor *tb = vg_tensor_new(bes[k], VG_F32, rows, cols);
    vg_tensor *to = vg_tensor_new(bes[k], VG_F32, rows, cols);
    g_assert_nonnull(ta);
    vg_tensor_upload(ta, a);
    vg_tensor_upload(tb, b);
    g_assert_cmpint(vg_add_scaled(to, ta, 0.8f, tb, 0.1f), ==, VG_OK);
    vg_tensor_download(to, outs[k]);
    vg_tensor_free(ta), vg_tensor_free(tb), vg_tensor_free(to);
  }
  for (size_t i = 0; i < n; i++)
    if (fabsf(got[i] - want[i]) > 1e-6f * fmaxf(1.0f, fabsf(want[i])))
      g_error("add_scaled %lldx%lld: element %zu is %g, CPU gives %g", (long long)rows,
              (long long)cols, i, got[i], want[i]);
}

static void test_add_scaled(void) {
  check_add_scaled(1, 1);
  check_add_scaled(1, 1025);
  check_add_scaled(290, 1024);
  check_add_scaled(257, 3 * 1024 + 1);
  g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
}

static void test_in_place(void) {
  const float a[5] = {1, 2, 3, 4, 5}, b[5] = {5, 4, 3, 2, 1};
  float y[5];
  vg_tensor *ta = vg_tensor_new(vk, VG_F32, 1, 5), *tb = vg_tensor_new(vk, VG_F32, 1, 5);
  vg_tensor_upload(ta, a);
  vg_tensor_upload(tb, b);
  g_assert_cmpint(vg_add_scaled(ta, ta, 1.0f, tb, 1.0f), ==, VG_OK);
  vg_tensor_download(ta, y);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat(y[i], ==, 6.0f);
  vg_tensor_free(ta), vg_tensor_free(tb);
  g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
}

static void test_bad_input(void) {
  vg_tensor *a = vg_tensor_new(vk, VG_F32, 2, 3), *b = vg_tensor_new(vk, VG_F32, 3, 2);
  vg_tensor *c = vg_tensor_new(cpu, VG_F32, 2, 3);
  g_assert_cmpint(vg_add_scaled(a, a, 1, b, 1), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_add_scaled(a, a, 1, c, 1), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "another backend"));
  /* Larger than lavapipe's 128 MiB storage-buffer limit: it may exist (an
   * embedding table is read by copies), but a kernel binding it is refused. */
  vg_tensor *huge = vg_tensor_new(vk, VG_F32, 1024, 64 * 1024);
  g_assert_nonnull(huge);
  g_assert_cmpint(vg_add_scaled(huge, huge, 1, huge, 1), ==, VG_ERR_UNSUPPORTED);
  g_assert_nonnull(strstr(vg_last_error(), "storage buffer limit"));
  vg_tensor_free(huge);
  vg_tensor_free(a), vg_tensor_free(b), vg_tensor_free(c);
  g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
}

static void test_device_list(void) {
  vg_vk_device_info devs[8];
  int n = vg_vk_list_devices(devs, 8);
  g_assert_cmpint(n, >=, 1);
  g_assert_nonnull(strstr(devs[0].name, "llvmpipe"));
  g_assert_cmpstr(devs[0].type, ==, "cpu");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  vg_vk_options options = {.validation = 1};
  vk = vg_vulkan_backend_new(&options);
  if (!vk) {
    g_printerr("cannot start Vulkan with validation: %s\n", vg_last_error());
    return 1;
  }
  cpu = vg_cpu_backend_new(1);
  /* The device name goes to the test log so a reader sees where it ran. */
  g_print("# Vulkan device: %s\n", vk->device_name);
  g_test_add_func("/vulkan/add-scaled", test_add_scaled);
  g_test_add_func("/vulkan/in-place", test_in_place);
  g_test_add_func("/vulkan/bad-input", test_bad_input);
  g_test_add_func("/vulkan/device-list", test_device_list);
  return vk_test_finish(g_test_run(), vk, cpu);
}
