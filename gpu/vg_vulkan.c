/* Vulkan backend: construction, teardown and the ops table.
 *
 * Ops are recorded into one command buffer with barriers only where a command
 * depends on an earlier one, and submitted at synchronize, at a download, or
 * when an upload must overwrite data a pending command still uses (see
 * vk_record.c). Results therefore appear in the order the calls were made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_private.h"

static vg_status vk_synchronize(vg_backend *be) {
  return vk_flush((vk_backend *)be);
}

/* The pending batch is not part of a new profile: it is submitted first. */
static vg_status vk_profile(vg_backend *be, vg_profile *p) {
  vk_backend *vk = (vk_backend *)be;
  VG_TRY(vk_flush(vk));
  return vk_profile_start(vk, p);
}

static void vk_destroy(vg_backend *be) {
  vk_backend *vk = (vk_backend *)be;
  vk_fault_report(vk);
  if (vk->device) {
    vk_flush(vk);
    vkDeviceWaitIdle(vk->device);
    vk_free_garbage(vk);
    vk_pipeline_cache_close(vk);
    vk_kernels_destroy(vk);
    vk_buffer_free(vk, vk->min_scratch);
    vk->min_scratch = NULL;
    vk_profile_destroy(vk);
    if (vk->desc_pool)
      vkDestroyDescriptorPool(vk->device, vk->desc_pool, NULL);
    if (vk->fence)
      vkDestroyFence(vk->device, vk->fence, NULL);
    if (vk->cmd_pool)
      vkDestroyCommandPool(vk->device, vk->cmd_pool, NULL);
    vkDestroyDevice(vk->device, NULL);
  }
  free(vk->garbage);
  if (vk->messenger) {
    PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger =
        (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            vk->instance, "vkDestroyDebugUtilsMessengerEXT");
    if (destroy_messenger)
      destroy_messenger(vk->instance, vk->messenger, NULL);
  }
  if (vk->instance)
    vkDestroyInstance(vk->instance, NULL);
  free(vk);
}

static const vg_backend_ops vk_ops = {
    .tensor_alloc = vk_tensor_alloc,
    .tensor_release = vk_tensor_release,
    .upload = vk_upload,
    .download = vk_download,
    .download_many = vk_download_many,
    .matmul = vk_matmul,
    .layer_norm = vk_layer_norm,
    .activation = vk_activation,
    .add_scaled = vk_add_scaled,
    .attention = vk_attention,
    .copy_rows = vk_copy_rows,
    .l2_normalize = vk_l2_normalize,
    .synchronize = vk_synchronize,
    .destroy = vk_destroy,
    .upsample_bilinear = vk_upsample,
    .softmax_pick = vk_softmax_pick,
    .row_mean = vk_row_mean,
    .min_distance = vk_min_distance,
    .patch_rows = vk_patch_rows,
    .check_plan = vk_check_plan,
    .profile = vk_profile,
};

static vg_status start(vk_backend *vk, const vg_vk_options *options) {
  const char *choice = options->device ? options->device : getenv("VIGIL_VK_DEVICE");
  VG_TRY(vk_fault_init(vk));
  VG_TRY(vk_create_instance(vk, options->validation, options->sync_validation));
  VG_TRY(vk_pick_device(vk, choice));
  vk->device_local =
      options->staging || vk->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
  const char *no_coop = getenv("VIGIL_VK_NO_COOPMAT");
  const int allow_coop = !options->no_coopmat && !(no_coop && *no_coop && strcmp(no_coop, "0"));
  vk->coop_emulate = options->coop_emulate;
  const char *tiles = options->coop_tiles ? options->coop_tiles : getenv("VIGIL_VK_COOP_TILES");
  snprintf(vk->coop_tiles_spec, sizeof vk->coop_tiles_spec, "%s", tiles ? tiles : "");
  VG_TRY(vk_create_device(vk, !options->no_16bit_storage, allow_coop));
  VG_TRY(vk_memory_init(vk));
  vk_limits_init(vk, options->max_buffer_bytes, options->max_memory_bytes);
  vk_pipeline_cache_open(vk, options->no_pipeline_cache);
  VG_TRY(vk_pick_attention(vk, options->attention ? options->attention : getenv("VIGIL_VK_ATTN")));
  VG_TRY(vk_kernels_create(vk));
  return vk_coop_create_pipeline(vk);
}

vg_backend *vg_vulkan_backend_new(const vg_vk_options *options) {
  vg_vk_options defaults = {0};
  if (!options)
    options = &defaults;
  vk_backend *vk = calloc(1, sizeof *vk);
  if (!vk) {
    vg_fail(VG_ERR_NOMEM, "out of memory for the Vulkan backend");
    return NULL;
  }
  vk->base.ops = &vk_ops;
  vk->base.kind = "vulkan";
  vk->batch = 1; /* fresh buffers (batch 0) are never pending */
  if (start(vk, options) != VG_OK) {
    char reason[1024];
    snprintf(reason, sizeof reason, "%s", vg_last_error());
    vk_destroy(&vk->base);
    vg_fail(VG_ERR_DEVICE, "Vulkan unavailable: %s", reason);
    return NULL;
  }
  return &vk->base;
}

int vg_vulkan_coopmat(const vg_backend *be, const char **why) {
  if (!be || be->ops != &vk_ops) {
    if (why)
      *why = "not a Vulkan backend";
    return 0;
  }
  const vk_backend *vk = (const vk_backend *)be;
  if (why)
    *why = vk->coop_note;
  return vk->coop;
}

const char *vg_vulkan_attention_layout(const vg_backend *be) {
  return be && be->ops == &vk_ops ? ((const vk_backend *)be)->attn_note : "not a Vulkan backend";
}

int vg_vulkan_validation_messages(const vg_backend *be) {
  return be && be->ops == &vk_ops ? ((const vk_backend *)be)->validation_messages : 0;
}
