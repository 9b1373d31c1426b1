#include "vigil-backend.h"

#include "vg_cpu.h"
#include "vg_cpu_threads.h"
#include "vg_vulkan.h"

/* clang-format would put spaces around the dashes of the quark name. */
/* clang-format off */
G_DEFINE_QUARK(vigil-backend-error-quark, vigil_backend_error)
/* clang-format on */

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

/* The Vulkan devices, listed once per process: each listing creates (and
 * destroys) a Vulkan instance, which costs more than the check it serves,
 * and AUTO asks on every engine open. */
typedef struct {
  int n; /* -1: Vulkan unavailable, `error` says why */
  vg_vk_device_info devs[16];
  char *error;
} DeviceList;

static const DeviceList *device_list(void) {
  static gsize once;
  static DeviceList list;
  if (g_once_init_enter(&once)) {
    list.n = vg_vk_list_devices(list.devs, G_N_ELEMENTS(list.devs));
    list.error = list.n < 0 ? g_strdup(vg_last_error()) : NULL;
    list.n = MIN(list.n, (int)G_N_ELEMENTS(list.devs));
    g_once_init_leave(&once, 1);
  }
  return &list;
}

int vigil_backend_auto_choice(char **why) {
  const DeviceList *list = device_list();
  const vg_vk_device_info *devs = list->devs;
  const int n = list->n;
  int best = -1;
  for (int i = 0; i < n; i++)
    /* GPUs in the Vulkan backend's own order; a CPU-type device never. */
    if (devs[i].rank >= VG_VK_RANK_MIN_GPU && (best < 0 || devs[i].rank > devs[best].rank))
      best = i;
  if (!why)
    return best;
  if (best >= 0) {
    *why =
        g_strdup_printf("Vulkan %d: %s, the best GPU (%s)", best, devs[best].name, devs[best].type);
  } else if (n < 0) {
    *why = g_strdup_printf("the CPU: Vulkan is unavailable (%s)", list->error);
  } else {
    g_autoptr(GString) soft = g_string_new(NULL);
    for (int i = 0; i < n; i++)
      g_string_append_printf(soft, "%s%s (%s)", soft->len ? ", " : "", devs[i].name, devs[i].type);
    *why = soft->len ? g_strdup_printf("the CPU: no GPU; %s runs Vulkan in software, slower "
                                       "than the CPU backend; it runs only when chosen",
                                       soft->str)
                     : g_strdup("the CPU: no Vulkan device");
  }
  return best;
}

/* A device named in the options or in VIGIL_VK_DEVICE (the tests' lavapipe). */
static const char *named_device(const VigilBackendOptions *options) {
  if (options->device && *options->device)
    return options->device;
  const char *env = g_getenv("VIGIL_VK_DEVICE");
  return env && *env ? env : NULL;
}

vg_backend *vigil_backend_open(const VigilBackendOptions *options, char **fallback_reason,
                               GError **error) {
  if (fallback_reason)
    *fallback_reason = NULL;
  if (options->kind == VIGIL_BACKEND_CPU)
    return open_cpu(options, error);

  vg_vk_options vk = {.validation = options->validation, .device = named_device(options)};
  char index[16];
  if (options->kind == VIGIL_BACKEND_AUTO && !vk.device) {
    const int best = vigil_backend_auto_choice(NULL);
    if (best < 0)
      return open_cpu(options, error); /* a choice, not a failure: no fallback reason */
    g_snprintf(index, sizeof index, "%d", best);
    vk.device = index;
  }
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

int vigil_backend_vulkan_device_info(vg_vk_device_info *devs, int max, GError **error) {
  const DeviceList *list = device_list();
  if (list->n < 0) {
    g_set_error(error, VIGIL_BACKEND_ERROR, VIGIL_BACKEND_ERROR_UNAVAILABLE, "%s", list->error);
    return -1;
  }
  for (int i = 0; i < list->n && i < max; i++)
    devs[i] = list->devs[i];
  return list->n;
}

char **vigil_backend_list_vulkan_devices(void) {
  const DeviceList *list = device_list();
  const vg_vk_device_info *devs = list->devs;
  GStrvBuilder *b = g_strv_builder_new();
  for (int i = 0; i < list->n; i++) {
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

int vigil_backend_cpu_default_threads(void) {
  return vg_cpu_physical_cores();
}
