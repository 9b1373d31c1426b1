/* The cooperative-matrix GEMM (shaders/matmul_coop.comp) and the switches
 * around it.
 *
 * Everywhere: the no_coopmat option and VIGIL_VK_NO_COOPMAT=1 turn it off
 * with a reason, and the device list's coop fields agree with the backend.
 * On a device with VK_NV_cooperative_matrix (tools/device-run.sh runs this
 * on an NVIDIA GPU): F16-weight matmuls of awkward shapes against the CPU
 * backend. Lavapipe lacks the extension, so there the comparison is a TAP
 * skip naming why; the shader itself is checked by spirv-val (spirv-val-*
 * and spirv-coop tests) on every machine, and its tiling, staging, offsets,
 * masking and bias run everywhere in the emulated build (the matrix ops in
 * plain GLSL with the NV ops' memory layout), for several fragment shapes
 * and both tilings.
 *
 * The coop GEMM rounds A (F32 activations) to F16. Against a CPU reference
 * fed the same rounded A, F16 x F16 products are exact in F32 and only the
 * summation differs: 1e-5 as for the plain GEMM, plus k * 1e-8 because
 * tensor cores truncate as they accumulate (a bias that grows with k, about
 * one F32 ulp per fragment step). Against the unrounded A the gap is F16
 * rounding of A: 2e-3, as the F16-weight test in test-vulkan-ops allows. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vg_cpu.h"
#include "vg_vulkan.h"
#include "vk-test-util.h"

static vg_backend *vk, *cpu;
static int validation = 1;

static vg_backend *open_vk_with(vg_vk_options o) {
  o.validation = validation;
  vg_backend *be = vg_vulkan_backend_new(&o);
  if (!be)
    g_error("cannot start Vulkan: %s", vg_last_error());
  return be;
}

static vg_backend *open_vk(int no_coopmat) {
  return open_vk_with((vg_vk_options){.no_coopmat = no_coopmat});
}

static void close_vk(vg_backend *be) {
  g_assert_cmpint(vg_vulkan_validation_messages(be), ==, 0);
  vg_backend_destroy(be);
}

static void test_disable(void) {
  const char *why = NULL;
  vg_backend *off = open_vk(1);
  g_assert_cmpint(vg_vulkan_coopmat(off, &why), ==, 0);
  g_assert_nonnull(strstr(why, "disabled"));
  close_vk(off);
  g_setenv("VIGIL_VK_NO_COOPMAT", "1", TRUE);
  off = open_vk(0);
  g_assert_cmpint(vg_vulkan_coopmat(off, &why), ==, 0);
  g_assert_nonnull(strstr(why, "VIGIL_VK_NO_COOPMAT"));
  close_vk(off);
  g_setenv("VIGIL_VK_NO_COOPMAT", "0", TRUE); /* "0" leaves it on */
  off = open_vk(0);
  g_assert_cmpint(vg_vulkan_coopmat(off, NULL), ==, vg_vulkan_coopmat(vk, NULL));
  close_vk(off);
  g_unsetenv("VIGIL_VK_NO_COOPMAT");
  g_assert_cmpint(vg_vulkan_coopmat(cpu, &why), ==, 0);
  g_assert_cmpstr(why, ==, "not a Vulkan backend");
}

/* The device list describes the backend's device the same way. */
static void test_device_list(void) {
  vg_vk_device_info devs[16];
  const int n = vg_vk_list_devices(devs, 16);
  g_assert_cmpint(n, >=, 1);
  const vg_vk_device_info *d = NULL;
  for (int i = 0; i < n && i < 16; i++)
    if (strcmp(devs[i].name, vk->device_name) == 0)
      d = &devs[i];
  g_assert_nonnull(d);
  const char *why = NULL;
  const int on = vg_vulkan_coopmat(vk, &why);
  g_test_message("%s: coop %s (%s); NV %d, KHR %d, %d F16 shapes", d->name, on ? "on" : "off", why,
                 d->coop_nv, d->coop_khr, d->n_coop_shapes);
  g_assert_cmpint(d->cooperative_matrix, ==, on);
  g_assert_true(d->cooperative_matrix ? d->coop_why_not == NULL : d->coop_why_not != NULL);
  if (!on)
    g_assert_cmpstr(why, ==, d->coop_why_not);
  if (d->cooperative_matrix) {
    g_assert_nonnull(d->coop_api);
    g_assert_true(strcmp(d->coop_api, "VK_NV_cooperative_matrix") == 0
                      ? d->coop_nv
                      : strcmp(d->coop_api, "VK_KHR_cooperative_matrix") == 0 && d->coop_khr);
    g_assert_nonnull(strstr(why, d->coop_api));
    g_assert_cmpint(d->n_coop_shapes, >, 0);
  } else {
    g_assert_null(d->coop_api);
  }
  if (!d->coop_nv && !d->coop_khr)
    g_assert_cmpint(d->n_coop_shapes, ==, 0);
  for (int i = 0; i < d->n_coop_shapes; i++)
    g_assert_true(d->coop_shapes[i].m && d->coop_shapes[i].n && d->coop_shapes[i].k);
}

static double max_err(const float *got, const float *want, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(got[i]) || isnan(want[i]))
      return INFINITY;
    num = fmax(num, fabs((double)got[i] - want[i]));
    den = fmax(den, fabs((double)want[i]));
  }
  return num / (den > 0 ? den : 1);
}

/* out = a w^T (+ bias) on `be` with F16 weights; returns the output. */
static float *run(vg_backend *be, int m, int n, int k, const float *a, const uint16_t *wh,
                  const float *bias) {
  vg_tensor *ta = vg_tensor_new(be, VG_F32, m, k), *tw = vg_tensor_new(be, VG_F16, n, k);
  vg_tensor *tb = vg_tensor_new(be, VG_F32, 1, n), *to = vg_tensor_new(be, VG_F32, m, n);
  g_assert_true(ta && tw && tb && to);
  g_assert_cmpint(vg_tensor_upload(ta, a), ==, VG_OK);
  g_assert_cmpint(vg_tensor_upload(tw, wh), ==, VG_OK);
  g_assert_cmpint(vg_tensor_upload(tb, bias), ==, VG_OK);
  g_assert_cmpint(vg_matmul(to, ta, tw, (m + n) % 2 ? tb : NULL), ==, VG_OK);
  float *out = g_new(float, (size_t)m *n);
  g_assert_cmpint(vg_tensor_download(to, out), ==, VG_OK);
  vg_tensor_free(ta), vg_tensor_free(tw), vg_tensor_free(tb), vg_tensor_free(to);
  return out;
}

static void check_coop(vg_backend *be, int m, int n, int k) {
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(m * 7919 + n * 31 + k));
  const size_t na = (size_t)m * k, nw = (size_t)n * k;
  g_autofree float *a = g_new(float, na), *a16 = g_new(float, na), *bias = g_new(float, n);
  g_autofree uint16_t *wh = g_new(uint16_t, nw);
  for (size_t i = 0; i < na; i++) {
    a[i] = (float)g_rand_double_range(rng, -1, 1);
    a16[i] = vg_f16_to_f32(vg_f32_to_f16(a[i]));
  }
  for (size_t i = 0; i < nw; i++)
    wh[i] = vg_f32_to_f16((float)g_rand_double_range(rng, -1, 1));
  for (int i = 0; i < n; i++)
    bias[i] = (float)g_rand_double_range(rng, -1, 1);
  const gint64 t0 = g_get_monotonic_time();
  g_autofree float *got = run(be, m, n, k, a, wh, bias);
  const double ms = (double)(g_get_monotonic_time() - t0) / 1000;
  g_autofree float *same = run(cpu, m, n, k, a16, wh, bias);
  g_autofree float *exact = run(cpu, m, n, k, a, wh, bias);
  const double e_same = max_err(got, same, (size_t)m * n);
  const double e_exact = max_err(got, exact, (size_t)m * n);
  g_test_message("coop %dx%dx%d: error %.3g vs F16-rounded A, %.3g vs F32 A (%.0f ms)", m, n, k,
                 e_same, e_exact, ms);
  const double limit = 1e-5 + k * 1e-8;
  if (!(e_same <= limit) || !(e_exact <= 2e-3))
    g_error("coop %dx%dx%d: error %.3g (limit %.2g) vs F16-rounded A, %.3g (2e-3) vs F32 A", m, n,
            k, e_same, limit, e_exact);
}

/* Edges in every dimension, K with the vector (K % 8, K % 4) and scalar
 * staging paths, several K slices, and (on real coop) ViT-L's shapes. */
static const int shapes[][3] = {{1, 1, 1},      {1, 1025, 65},     {290, 67, 100},
                                {65, 130, 17},  {128, 128, 32},    {3, 5, 1025},
                                {290, 1025, 9}, {129, 257, 36},    {300, 260, 1024},
                                {513, 700, 8},  {290, 3072, 1024}, {290, 1024, 4096}};

static void test_matmul(void) {
  const char *why = NULL;
  if (!vg_vulkan_coopmat(vk, &why)) {
    g_autofree char *msg = g_strdup_printf("%s: no coop GEMM here: %s", vk->device_name, why);
    g_test_skip(msg);
    return;
  }
  g_test_message("coop GEMM: %s", why);
  for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++)
    check_coop(vk, shapes[i][0], shapes[i][1], shapes[i][2]);
  g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
}

/* The emulated build on this device: 16x16x16 and 16x8x16 (NVIDIA's F16
 * shapes), 8x8x8, and 32x32x8, whose scratch forces the 64 x 64 tiling. */
static void test_emulated(void) {
  static const vg_vk_coop_shape frags[] = {{16, 16, 16}, {16, 8, 16}, {8, 8, 8}, {32, 32, 8}};
  static const char *tiles[] = {"128x128 tiles", "128x128 tiles", "128x128 tiles", "64x64 tiles"};
  for (size_t f = 0; f < G_N_ELEMENTS(frags); f++) {
    vg_backend *emu = open_vk_with((vg_vk_options){.coop_emulate = frags[f]});
    const char *why = NULL;
    if (!vg_vulkan_coopmat(emu, &why))
      g_error("emulated coop GEMM unavailable: %s", why);
    g_test_message("%s", why);
    g_assert_nonnull(strstr(why, "emulated"));
    g_assert_nonnull(strstr(why, tiles[f]));
    /* The last two shapes are ViT-L's: too slow emulated on a CPU driver. */
    for (size_t i = 0; i + 2 < G_N_ELEMENTS(shapes); i++)
      check_coop(emu, shapes[i][0], shapes[i][1], shapes[i][2]);
    close_vk(emu);
  }
  vg_backend *bad = open_vk_with((vg_vk_options){.coop_emulate = {12, 16, 16}});
  const char *why = NULL;
  g_assert_cmpint(vg_vulkan_coopmat(bad, &why), ==, 0);
  g_assert_nonnull(strstr(why, "divide 32"));
  close_vk(bad);
}

/* VIGIL_VK_COOP picks the extension: a device that lists it runs the GEMM
 * through it (checked against the CPU: on a GPU this is the KHR module's one
 * run), one that does not says so, and a bad value is refused. */
static void test_choose(void) {
  static const struct {
    const char *value, *ext;
  } picks[] = {{"nv", "VK_NV_cooperative_matrix"}, {"khr", "VK_KHR_cooperative_matrix"}};
  vg_vk_device_info devs[16];
  const int n = vg_vk_list_devices(devs, 16);
  const vg_vk_device_info *d = NULL;
  for (int i = 0; i < n && i < 16; i++)
    if (strcmp(devs[i].name, vk->device_name) == 0)
      d = &devs[i];
  g_assert_nonnull(d);
  for (size_t p = 0; p < G_N_ELEMENTS(picks); p++) {
    g_setenv("VIGIL_VK_COOP", picks[p].value, TRUE);
    /* The validation layer here (1.3.239) predates SPV_KHR_cooperative_matrix
     * and would refuse the KHR module's capability: KHR runs unvalidated. */
    const int validated = validation;
    if (p == 1)
      validation = 0;
    vg_backend *be = open_vk(0);
    validation = validated;
    const char *why = NULL;
    const int on = vg_vulkan_coopmat(be, &why);
    g_test_message("VIGIL_VK_COOP=%s: %s (%s)", picks[p].value, on ? "on" : "off", why);
    const int listed = p == 0 ? d->coop_nv : d->coop_khr;
    if (!listed) {
      g_assert_false(on);
      g_assert_nonnull(strstr(why, picks[p].ext));
    } else if (on) {
      g_assert_nonnull(strstr(why, picks[p].ext));
      for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++)
        check_coop(be, shapes[i][0], shapes[i][1], shapes[i][2]);
    }
    close_vk(be);
  }
  g_setenv("VIGIL_VK_COOP", "tensor", TRUE);
  vg_backend *be = open_vk(0);
  const char *why = NULL;
  g_assert_false(vg_vulkan_coopmat(be, &why));
  g_assert_nonnull(strstr(why, "must be nv or khr"));
  close_vk(be);
  g_unsetenv("VIGIL_VK_COOP");
}

/* An asked tiling (VIGIL_VK_COOP_TILES or the option) is used when it fits
 * the fragment shape and the device, and gives the same products; one that
 * does not is refused with the reason, and the picked tiling is used. */
static void test_tiles(void) {
  static const struct {
    const char *spec, *want;
  } cases[] = {
      {"64x128x16/4/2", "64x128 tiles"},
      {"32x32x32/1/1", "32x32 tiles"},
      {"128x64x32/8/4", "128x64 tiles"},
      {"96x128x32/8/3", "refused: SG must"},
      {"100x128x32/8/2", "refused: a subgroup"},
      {"64x64x32/4/2/1", "refused: expected"},
      {"4096x64x32/4/2", "refused: expected"},
      {"64x64x24/4/2", "refused: a subgroup"},
      {"512x512x64/64/8", "refused: 2048 threads"},
  };
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    const int env = c % 2; /* half through the variable, half through the option */
    if (env)
      g_setenv("VIGIL_VK_COOP_TILES", cases[c].spec, TRUE);
    vg_backend *emu = open_vk_with(
        (vg_vk_options){.coop_emulate = {16, 16, 16}, .coop_tiles = env ? NULL : cases[c].spec});
    g_unsetenv("VIGIL_VK_COOP_TILES");
    const char *why = NULL;
    g_assert_true(vg_vulkan_coopmat(emu, &why));
    g_test_message("%s: %s", cases[c].spec, why);
    g_assert_nonnull(strstr(why, cases[c].want));
    if (strstr(cases[c].want, "refused"))
      g_assert_nonnull(strstr(why, "128x128 tiles")); /* the picked one */
    for (size_t i = 0; i < 4; i++)
      check_coop(emu, shapes[i][0], shapes[i][1], shapes[i][2]);
    close_vk(emu);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  /* Validation is on unless the layer is absent on a GPU machine
   * (tools/device-run.sh says so when it sets this). */
  validation = vk_test_want_validation();
  g_unsetenv("VIGIL_VK_NO_COOPMAT");
  g_unsetenv("VIGIL_VK_COOP");
  vk = open_vk(0);
  cpu = vg_cpu_backend_new(0);
  const char *why = NULL;
  const int on = vg_vulkan_coopmat(vk, &why);
  g_print("# Vulkan device: %s; cooperative matrices %s (%s)\n", vk->device_name, on ? "on" : "off",
          why);
  g_test_add_func("/vulkan-coop/disable", test_disable);
  g_test_add_func("/vulkan-coop/device-list", test_device_list);
  g_test_add_func("/vulkan-coop/matmul", test_matmul);
  g_test_add_func("/vulkan-coop/emulated", test_emulated);
  g_test_add_func("/vulkan-coop/tiles", test_tiles);
  g_test_add_func("/vulkan-coop/choose", test_choose);
  return vk_test_finish(g_test_run(), vk, cpu);
}
