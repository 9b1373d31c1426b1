#include "vigil-backend.h"

#include "vg_cpu.h"
#include "vg_vulkan.h"

G_DEFINE_QUARK(vigil - backend - error - quark, vigil_backend_error)

gboolean vigil_backend_kind_parse(const char *name, VigilBackendKind *kind, GError **error) {
  if (g_strcmp0(name, "auto") == 0)
    *kind = VIGIL_BACKEND_AUTO;
  else if (g_strcmp0(name, "cpu") == 0)
    *kind = VIGIL_BACKEND_CPU;
  else if (g_strcmp0(name, "vulkan") == 0)
    *kind = VIGIL_BACKEND_VULKAN;
  else {
    g_set_error(error, VIGIL_BACKEND_ERROR, VIGIL_BACKEND_ERROR_INVALID,
                "unknown backend '%s' (expected cpu, vulkan or auto)", name ? name : "");
    return FALSE;
  }
  return TRUE;
}

static vg_backend *open_cpu(const VigilBackendOptions *options, GError **error) {
  vg_backend *be = vg_cpu_backend_new(options->threads);
  if (!be)
    g_set_error(error, VIGIL_BACKEND_ERROR, VIGIL_BACKEND_ERROR_UNAVAILABLE, "CPU backend: %s",
                vg_last_error());
  return be;
}

vg_backend *vigil_backend_open(const VigilBackendOptions *options, char **fallback_reason,
                               GError **error) {
  if (fallback_reason)
    *fallback_reason = NULL;
  if (options->kind == VIGIL_BACKEND_CPU)
    return open_cpu(options, error);

  vg_vk_options vk = {.validation = options->validation, .device = options->device};
  vg_backend *be = vg_vulkan_backend_new(&vk);
  if (be)
    return be;
  if (options->kind == VIGIL_BACKEND_VULKAN) {
    g_set_error(error, VIGIL_BACKEND_ERROR, VIGIL_BACKEND_ERROR_UNAVAILABLE, "%s", vg_last_error());
    return NULL;
  }
  if (fallback_reason)
    *fallback_reason = g_strdup_printf("%s; using the CPU", vg_last_error());
  return open_cpu(options, error);
}

char **vigil_backend_list_vulkan_devices(void) {
  vg_vk_device_info devs[16];
  int n = vg_vk_list_devices(devs, G_N_ELEMENTS(devs));
  GStrvBuilder *b = g_strv_builder_new();
  for (int i = 0; i < n && i < (int)G_N_ELEMENTS(devs); i++) {
    g_autofree char *name = g_strdup_printf("%s (%s)", devs[i].name, devs[i].type);
    g_strv_builder_add(b, name);
  }
  char **names = g_strv_builder_end(b);
  g_strv_builder_unref(b);
  return names;
}

gboolean vigil_backend_options_from_setting(const char *setting, VigilBackendOptions *options,
                                            char **device_out, GError **error) {
  *options = (VigilBackendOptions){.kind = VIGIL_BACKEND_AUTO};
  *device_out = NULL;
  if (!setting || g_str_equal(setting, "auto"))
    return TRUE;
  if (g_str_equal(setting, "cpu")) {
    options->kind = VIGIL_BACKEND_CPU;
    return TRUE;
  }
  if (g_str_has_prefix(setting, "vulkan:") && setting[7] != '\0') {
    guint64 index;
    if (g_ascii_string_to_unsigned(setting + 7, 10, 0, 64, &index, NULL)) {
      options->kind = VIGIL_BACKEND_VULKAN;
      *device_out = g_strdup(setting + 7);
      options->device = *device_out;
      return TRUE;
    }
  }
  g_set_error(error, VIGIL_BACKEND_ERROR, VIGIL_BACKEND_ERROR_INVALID,
              "unknown compute device '%s' (expected auto, cpu or vulkan:N)", setting);
  return FALSE;
}
