/* app/'s backend choice: names, the explicit choices, what AUTO picks (never
 * lavapipe, a CPU-type Vulkan device, unless named) and AUTO's fallback. */
#include <glib.h>

#include "vigil-backend.h"

static void test_parse(void) {
  VigilBackendKind kind;
  g_assert_true(vigil_backend_kind_parse("cpu", &kind, NULL));
  g_assert_cmpint(kind, ==, VIGIL_BACKEND_CPU);
  g_assert_true(vigil_backend_kind_parse("vulkan", &kind, NULL));
  g_assert_cmpint(kind, ==, VIGIL_BACKEND_VULKAN);
  g_assert_true(vigil_backend_kind_parse("auto", &kind, NULL));
  g_assert_cmpint(kind, ==, VIGIL_BACKEND_AUTO);
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_backend_kind_parse("cuda", &kind, &error));
  g_assert_error(error, VIGIL_BACKEND_ERROR, VIGIL_BACKEND_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "'cuda'"));
}

static void test_cpu(void) {
  VigilBackendOptions options = {.kind = VIGIL_BACKEND_CPU, .threads = 1};
  g_autoptr(GError) error = NULL;
  vg_backend *be = vigil_backend_open(&options, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(be->kind, ==, "cpu");
  vg_backend_destroy(be);
}

/* Only lavapipe is there in tests: AUTO takes the CPU backend, as a choice
 * (no fallback reason), and says why. */
static void test_auto_skips_software_vulkan(void) {
  g_unsetenv("VIGIL_VK_DEVICE");
  VigilBackendOptions options = {.kind = VIGIL_BACKEND_AUTO};
  g_autofree char *reason = NULL;
  g_autoptr(GError) error = NULL;
  vg_backend *be = vigil_backend_open(&options, &reason, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(be->kind, ==, "cpu");
  g_assert_null(reason);
  vg_backend_destroy(be);
  g_autofree char *why = NULL;
  g_assert_cmpint(vigil_backend_auto_choice(&why), ==, -1);
  g_assert_nonnull(strstr(why, "llvmpipe"));
  g_assert_nonnull(strstr(why, "software"));
}

/* Named (an index, a name, or VIGIL_VK_DEVICE), lavapipe runs under AUTO and
 * under VULKAN; VULKAN with no name takes it too. */
static void test_named_lavapipe(void) {
  const struct {
    VigilBackendKind kind;
    const char *device, *env;
  } cases[] = {{VIGIL_BACKEND_AUTO, "0", NULL},
               {VIGIL_BACKEND_AUTO, "llvmpipe", NULL},
               {VIGIL_BACKEND_AUTO, NULL, "llvmpipe"},
               {VIGIL_BACKEND_VULKAN, NULL, NULL}};
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    if (cases[i].env)
      g_setenv("VIGIL_VK_DEVICE", cases[i].env, TRUE);
    VigilBackendOptions options = {.kind = cases[i].kind, .device = cases[i].device};
    g_autofree char *reason = NULL;
    g_autoptr(GError) error = NULL;
    vg_backend *be = vigil_backend_open(&options, &reason, &error);
    g_unsetenv("VIGIL_VK_DEVICE");
    g_assert_no_error(error);
    g_assert_cmpstr(be->kind, ==, "vulkan");
    g_assert_nonnull(strstr(be->device_name, "llvmpipe"));
    g_assert_null(reason);
    vg_backend_destroy(be);
  }
}

static void test_missing_device(void) {
  VigilBackendOptions options = {.kind = VIGIL_BACKEND_VULKAN, .device = "NoSuchGPU"};
  g_autoptr(GError) error = NULL;
  g_assert_null(vigil_backend_open(&options, NULL, &error));
  g_assert_error(error, VIGIL_BACKEND_ERROR, VIGIL_BACKEND_ERROR_UNAVAILABLE);
  g_assert_nonnull(strstr(error->message, "NoSuchGPU"));

  /* AUTO falls back to the CPU and says why. */
  options.kind = VIGIL_BACKEND_AUTO;
  g_autofree char *reason = NULL;
  g_autoptr(GError) error2 = NULL;
  vg_backend *be = vigil_backend_open(&options, &reason, &error2);
  g_assert_no_error(error2);
  g_assert_cmpstr(be->kind, ==, "cpu");
  g_assert_nonnull(strstr(reason, "NoSuchGPU"));
  vg_backend_destroy(be);
}

static void test_settings(void) {
  VigilBackendOptions options;
  g_autofree char *device = NULL;
  g_assert_true(vigil_backend_options_from_setting("vulkan:0", &options, &device, NULL));
  g_assert_cmpint(options.kind, ==, VIGIL_BACKEND_VULKAN);
  g_assert_cmpstr(options.device, ==, "0");
  g_autofree char *none = NULL;
  g_assert_true(vigil_backend_options_from_setting("cpu", &options, &none, NULL));
  g_assert_cmpint(options.kind, ==, VIGIL_BACKEND_CPU);
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_backend_options_from_setting("vulkan:x", &options, &none, &error));
  g_assert_nonnull(strstr(error->message, "'vulkan:x'"));
  g_auto(GStrv) names = vigil_backend_list_vulkan_devices();
  g_assert_cmpuint(g_strv_length(names), >=, 1);
  g_assert_nonnull(strstr(names[0], "llvmpipe"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/backend/parse", test_parse);
  g_test_add_func("/backend/cpu", test_cpu);
  g_test_add_func("/backend/auto-skips-software-vulkan", test_auto_skips_software_vulkan);
  g_test_add_func("/backend/named-lavapipe", test_named_lavapipe);
  g_test_add_func("/backend/missing-device", test_missing_device);
  g_test_add_func("/backend/settings", test_settings);
  return g_test_run();
}
