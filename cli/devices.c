/* vigil-cli devices: what compute devices this machine offers, and which one
 * `auto` picks, through app/'s backend choice (vigil-backend.h) as Preferences. */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "vigil-backend.h"
#include "vigil-cli-cpu.h"
#include "vigil-cli.h"

static void add_coop(JsonBuilder *b, const vg_vk_device_info *d) {
  json_builder_set_member_name(b, "cooperative_matrix_extensions");
  json_builder_begin_array(b);
  if (d->coop_nv)
    json_builder_add_string_value(b, "VK_NV_cooperative_matrix");
  if (d->coop_khr)
    json_builder_add_string_value(b, "VK_KHR_cooperative_matrix");
  json_builder_end_array(b);
  json_builder_set_member_name(b, "cooperative_matrix_f16_shapes");
  json_builder_begin_array(b);
  for (int i = 0; i < d->n_coop_shapes; i++) {
    g_autofree char *s =
        g_strdup_printf("%ux%ux%u", d->coop_shapes[i].m, d->coop_shapes[i].n, d->coop_shapes[i].k);
    json_builder_add_string_value(b, s);
  }
  json_builder_end_array(b);
  vigil_cli_json_add_string(b, "cooperative_matrix_used_through", d->coop_api);
  vigil_cli_json_add_string(b, "cooperative_matrix_unused_because", d->coop_why_not);
}

/* "  cooperative matrix: VK_NV_... VK_KHR_...; F16 x F16 -> F32 (MxNxK) ...; used" */
static void print_coop(const vg_vk_device_info *d) {
  printf("  cooperative matrix:%s%s%s", d->coop_nv ? " VK_NV_cooperative_matrix" : "",
         d->coop_khr ? " VK_KHR_cooperative_matrix" : "",
         d->coop_nv || d->coop_khr ? "" : " no extension");
  if (d->n_coop_shapes > 0) {
    printf("; F16 x F16 -> F32 shapes (MxNxK):");
    for (int i = 0; i < d->n_coop_shapes; i++)
      printf(" %ux%ux%u", d->coop_shapes[i].m, d->coop_shapes[i].n, d->coop_shapes[i].k);
  }
  if (d->coop_why_not)
    printf("; unused: %s\n", d->coop_why_not);
  else
    printf("; used for F16 matmuls through %s\n", d->coop_api);
}

static void add_vulkan(JsonBuilder *b, const vg_vk_device_info *d, int index) {
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "backend");
  json_builder_add_string_value(b, "vulkan");
  json_builder_set_member_name(b, "index");
  json_builder_add_int_value(b, index);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, d->name);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, d->type);
  g_autofree char *api = g_strdup_printf("%u.%u.%u", d->api_version >> 22,
                                         (d->api_version >> 12) & 0x3ff, d->api_version & 0xfff);
  json_builder_set_member_name(b, "api_version");
  json_builder_add_string_value(b, api);
  json_builder_set_member_name(b, "float16");
  json_builder_add_boolean_value(b, d->float16);
  json_builder_set_member_name(b, "cooperative_matrix");
  json_builder_add_boolean_value(b, d->cooperative_matrix);
  add_coop(b, d);
  json_builder_set_member_name(b, "device_local_bytes");
  json_builder_add_int_value(b, (gint64)d->device_local_bytes);
  json_builder_set_member_name(b, "max_storage_buffer_bytes");
  json_builder_add_int_value(b, (gint64)d->max_storage_buffer_range);
  json_builder_end_object(b);
}

int vigil_cli_devices(int argc, char **argv) {
  gboolean as_json = FALSE;
  const GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &as_json, "Print JSON", NULL},
      {NULL},
  };
  if (!vigil_cli_parse("devices", "list compute devices", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;

  vg_vk_device_info devs[16];
  g_autoptr(GError) vulkan_error = NULL;
  int n = vigil_backend_vulkan_device_info(devs, G_N_ELEMENTS(devs), &vulkan_error);
  const VigilBackendOptions cpu_options = {.kind = VIGIL_BACKEND_CPU};
  vg_backend *cpu = vigil_backend_open(&cpu_options, NULL, NULL);
  g_autofree char *auto_why = NULL;
  const int auto_index = vigil_backend_auto_choice(&auto_why);
  if (as_json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "devices");
    json_builder_begin_array(b);
    for (int i = 0; i < n && i < (int)G_N_ELEMENTS(devs); i++)
      add_vulkan(b, &devs[i], i);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "backend");
    json_builder_add_string_value(b, "cpu");
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, cpu ? cpu->device_name : "CPU");
    vigil_cli_cpu_json(b);
    json_builder_end_object(b);
    json_builder_end_array(b);
    if (n < 0)
      vigil_cli_json_add_string(b, "vulkan_error", vulkan_error->message);
    json_builder_set_member_name(b, "auto");
    json_builder_begin_object(b);
    vigil_cli_json_add_string(b, "backend", auto_index >= 0 ? "vulkan" : "cpu");
    json_builder_set_member_name(b, "index");
    if (auto_index >= 0)
      json_builder_add_int_value(b, auto_index);
    else
      json_builder_add_null_value(b);
    vigil_cli_json_add_string(b, "why", auto_why);
    json_builder_end_object(b);
    json_builder_end_object(b);
    vigil_cli_print_json(b);
  } else {
    if (n < 0)
      printf("Vulkan: unavailable (%s)\n", vulkan_error->message);
    for (int i = 0; i < n && i < (int)G_N_ELEMENTS(devs); i++) {
      printf("vulkan %d: %s (%s, Vulkan %u.%u, F16 %s, cooperative matrix %s, %.1f GiB)\n", i,
             devs[i].name, devs[i].type, devs[i].api_version >> 22,
             (devs[i].api_version >> 12) & 0x3ff, devs[i].float16 ? "yes" : "no",
             devs[i].cooperative_matrix ? "yes" : "no",
             (double)devs[i].device_local_bytes / (1 << 30));
      print_coop(&devs[i]);
    }
    printf("cpu: %s\n", cpu ? cpu->device_name : "CPU");
    vigil_cli_cpu_print();
    printf("auto: %s\n", auto_why);
  }
  vg_backend_destroy(cpu);
  return VIGIL_CLI_OK;
}
