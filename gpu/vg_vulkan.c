/* Vulkan backend: instance and device selection, buffers, compute pipelines.
 *
 * Each operation records and submits one command buffer and waits for it.
 * Batching a whole forward pass into one submission comes with the engine's
 * GPU issue; the interface does not change for it. */
#include "vg_vulkan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#include "add_scaled.spv.h"

#define VK_TRY(call, what)                                                                         \
  do {                                                                                             \
    VkResult r_ = (call);                                                                          \
    if (r_ != VK_SUCCESS)                                                                          \
      return vg_fail(VG_ERR_DEVICE, "%s failed (VkResult %d)", what, (int)r_);                     \
  } while (0)

typedef struct vk_pipeline {
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout layout;
  VkPipeline pipeline;
  uint32_t local_size;
} vk_pipeline;

typedef struct vk_backend {
  vg_backend base;
  VkInstance instance;
  VkDebugUtilsMessengerEXT messenger;
  VkPhysicalDevice physical;
  VkPhysicalDeviceProperties props;
  VkPhysicalDeviceMemoryProperties mem_props;
  VkDevice device;
  VkQueue queue;
  uint32_t queue_family;
  VkCommandPool cmd_pool;
  VkCommandBuffer cmd;
  VkFence fence;
  VkDescriptorPool desc_pool;
  vk_pipeline add_scaled;
  int validation_messages;
} vk_backend;

typedef struct vk_buffer {
  VkBuffer buffer;
  VkDeviceMemory memory;
  void *mapped;
} vk_buffer;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
  (void)types;
  vk_backend *vk = user;
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    vk->validation_messages++;
    fprintf(stderr, "vulkan validation: %s\n", data->pMessage);
  }
  return VK_FALSE;
}

static int has_layer(const char *name) {
  uint32_t n = 0;
  vkEnumerateInstanceLayerProperties(&n, NULL);
  VkLayerProperties *layers = calloc(n ? n : 1, sizeof *layers);
  if (!layers)
    return 0;
  vkEnumerateInstanceLayerProperties(&n, layers);
  int found = 0;
  for (uint32_t i = 0; i < n && !found; i++)
    found = strcmp(layers[i].layerName, name) == 0;
  free(layers);
  return found;
}

static vg_status create_instance(vk_backend *vk, int validation) {
  const char *layer = "VK_LAYER_KHRONOS_validation";
  const char *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
  if (validation && !has_layer(layer))
    return vg_fail(VG_ERR_UNSUPPORTED, "Vulkan validation requested but %s is not installed",
                   layer);
  VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "Vigil",
      .pEngineName = "vigil-engine",
      .apiVersion = VK_API_VERSION_1_1,
  };
  VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
      .enabledLayerCount = validation ? 1 : 0,
      .ppEnabledLayerNames = validation ? &layer : NULL,
      .enabledExtensionCount = validation ? 1 : 0,
      .ppEnabledExtensionNames = validation ? &ext : NULL,
  };
  VkResult r = vkCreateInstance(&info, NULL, &vk->instance);
  if (r != VK_SUCCESS)
    return vg_fail(VG_ERR_UNSUPPORTED, "no Vulkan driver could be loaded (VkResult %d)", (int)r);
  if (!validation)
    return VG_OK;
  PFN_vkCreateDebugUtilsMessengerEXT create_messenger =
      (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(vk->instance,
                                                                "vkCreateDebugUtilsMessengerEXT");
  if (!create_messenger)
    return vg_fail(VG_ERR_UNSUPPORTED, "VK_EXT_debug_utils is not available");
  VkDebugUtilsMessengerCreateInfoEXT minfo = {
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
      .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
      .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
      .pfnUserCallback = on_validation,
      .pUserData = vk,
  };
  VK_TRY(create_messenger(vk->instance, &minfo, NULL, &vk->messenger),
         "vkCreateDebugUtilsMessengerEXT");
  return VG_OK;
}

static int type_rank(VkPhysicalDeviceType type) {
  switch (type) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
  case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
  default: return 0;
  }
}

static const char *type_name(VkPhysicalDeviceType type) {
  switch (type) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
  case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
  default: return "other";
  }
}

static int compute_family(VkPhysicalDevice dev, uint32_t *family) {
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(dev, &n, NULL);
  VkQueueFamilyProperties fams[32];
  if (n > 32)
    n = 32;
  vkGetPhysicalDeviceQueueFamilyProperties(dev, &n, fams);
  for (uint32_t i = 0; i < n; i++) {
    if (fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
      *family = i;
      return 1;
    }
  }
  return 0;
}

/* A device choice is an index ("1") or a case-sensitive substring of the name. */
static int matches_choice(const char *choice, uint32_t index, const char *name) {
  char *end = NULL;
  long idx = strtol(choice, &end, 10);
  if (end != choice && *end == '\0')
    return idx == (long)index;
  return strstr(name, choice) != NULL;
}

static vg_status pick_device(vk_backend *vk, const char *choice) {
  uint32_t n = 0;
  vkEnumeratePhysicalDevices(vk->instance, &n, NULL);
  if (n == 0)
    return vg_fail(VG_ERR_UNSUPPORTED, "no Vulkan device found");
  VkPhysicalDevice devs[16];
  if (n > 16)
    n = 16;
  vkEnumeratePhysicalDevices(vk->instance, &n, devs);
  int best = -1, best_rank = -1;
  for (uint32_t i = 0; i < n; i++) {
    VkPhysicalDeviceProperties p;
    uint32_t fam;
    vkGetPhysicalDeviceProperties(devs[i], &p);
    if (!compute_family(devs[i], &fam))
      continue;
    if (choice && *choice) {
      if (matches_choice(choice, i, p.deviceName)) {
        best = (int)i;
        break;
      }
      continue;
    }
    if (type_rank(p.deviceType) > best_rank) {
      best_rank = type_rank(p.deviceType);
      best = (int)i;
    }
  }
  if (best < 0)
    return choice && *choice
               ? vg_fail(VG_ERR_ARG, "no Vulkan device matches '%s' (see 'vigil-cli devices')",
                         choice)
               : vg_fail(VG_ERR_UNSUPPORTED, "no Vulkan device with a compute queue");
  vk->physical = devs[best];
  vkGetPhysicalDeviceProperties(vk->physical, &vk->props);
  vkGetPhysicalDeviceMemoryProperties(vk->physical, &vk->mem_props);
  compute_family(vk->physical, &vk->queue_family);
  snprintf(vk->base.device_name, sizeof vk->base.device_name, "%s", vk->props.deviceName);
  return VG_OK;
}

static vg_status create_device(vk_backend *vk) {
  float priority = 1.0f;
  VkDeviceQueueCreateInfo qinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = vk->queue_family,
      .queueCount = 1,
      .pQueuePriorities = &priority,
  };
  VkDeviceCreateInfo dinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &qinfo,
  };
  VK_TRY(vkCreateDevice(vk->physical, &dinfo, NULL, &vk->device), "vkCreateDevice");
  vkGetDeviceQueue(vk->device, vk->queue_family, 0, &vk->queue);
  VkCommandPoolCreateInfo pinfo = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
      .queueFamilyIndex = vk->queue_family,
  };
  VK_TRY(vkCreateCommandPool(vk->device, &pinfo, NULL, &vk->cmd_pool), "vkCreateCommandPool");
  VkCommandBufferAllocateInfo cinfo = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = vk->cmd_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
  };
  VK_TRY(vkAllocateCommandBuffers(vk->device, &cinfo, &vk->cmd), "vkAllocateCommandBuffers");
  VkFenceCreateInfo finfo = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VK_TRY(vkCreateFence(vk->device, &finfo, NULL, &vk->fence), "vkCreateFence");
  VkDescriptorPoolSize size = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 64};
  VkDescriptorPoolCreateInfo dpinfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT,
      .maxSets = 16,
      .poolSizeCount = 1,
      .pPoolSizes = &size,
  };
  VK_TRY(vkCreateDescriptorPool(vk->device, &dpinfo, NULL, &vk->desc_pool),
         "vkCreateDescriptorPool");
  return VG_OK;
}

/* A compute pipeline over `bindings` storage buffers, with a push-constant
 * block and the workgroup size as specialization constant 0. */
static vg_status create_pipeline(vk_backend *vk, vk_pipeline *pl, const uint32_t *spv,
                                 size_t spv_bytes, uint32_t bindings, uint32_t push_bytes) {
  VkDescriptorSetLayoutBinding b[8];
  for (uint32_t i = 0; i < bindings; i++)
    b[i] = (VkDescriptorSetLayoutBinding){
        .binding = i,
        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .descriptorCount = 1,
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  VkDescriptorSetLayoutCreateInfo linfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = bindings,
      .pBindings = b,
  };
  VK_TRY(vkCreateDescriptorSetLayout(vk->device, &linfo, NULL, &pl->set_layout),
         "vkCreateDescriptorSetLayout");
  VkPushConstantRange push = {VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
  VkPipelineLayoutCreateInfo plinfo = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &pl->set_layout,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &push,
  };
  VK_TRY(vkCreatePipelineLayout(vk->device, &plinfo, NULL, &pl->layout), "vkCreatePipelineLayout");
  VkShaderModuleCreateInfo sinfo = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = spv_bytes,
      .pCode = spv,
  };
  VkShaderModule module;
  VK_TRY(vkCreateShaderModule(vk->device, &sinfo, NULL, &module), "vkCreateShaderModule");
  pl->local_size = 256;
  if (pl->local_size > vk->props.limits.maxComputeWorkGroupSize[0])
    pl->local_size = vk->props.limits.maxComputeWorkGroupSize[0];
  VkSpecializationMapEntry entry = {0, 0, sizeof(uint32_t)};
  VkSpecializationInfo spec = {1, &entry, sizeof(uint32_t), &pl->local_size};
  VkComputePipelineCreateInfo cinfo = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage =
          {
              .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
              .stage = VK_SHADER_STAGE_COMPUTE_BIT,
              .module = module,
              .pName = "main",
              .pSpecializationInfo = &spec,
          },
      .layout = pl->layout,
  };
  VkResult r = vkCreateComputePipelines(vk->device, VK_NULL_HANDLE, 1, &cinfo, NULL, &pl->pipeline);
  vkDestroyShaderModule(vk->device, module, NULL);
  VK_TRY(r, "vkCreateComputePipelines");
  return VG_OK;
}

static void destroy_pipeline(vk_backend *vk, vk_pipeline *pl) {
  if (pl->pipeline)
    vkDestroyPipeline(vk->device, pl->pipeline, NULL);
  if (pl->layout)
    vkDestroyPipelineLayout(vk->device, pl->layout, NULL);
  if (pl->set_layout)
    vkDestroyDescriptorSetLayout(vk->device, pl->set_layout, NULL);
}

static int find_memory_type(vk_backend *vk, uint32_t bits, VkMemoryPropertyFlags want) {
  for (uint32_t i = 0; i < vk->mem_props.memoryTypeCount; i++)
    if ((bits & (1u << i)) && (vk->mem_props.memoryTypes[i].propertyFlags & want) == want)
      return (int)i;
  return -1;
}

static vg_status vk_tensor_alloc(vg_backend *be, vg_tensor *t) {
  vk_backend *vk = (vk_backend *)be;
  VkDeviceSize bytes = vg_tensor_bytes(t);
  if (bytes > vk->props.limits.maxStorageBufferRange)
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "a %lld x %lld tensor (%llu MiB) exceeds %s's storage buffer limit (%u MiB)",
                   (long long)t->rows, (long long)t->cols, (unsigned long long)(bytes >> 20),
                   vk->props.deviceName, vk->props.limits.maxStorageBufferRange >> 20);
  vk_buffer *buf = calloc(1, sizeof *buf);
  if (!buf)
    return vg_fail(VG_ERR_NOMEM, "out of memory for a buffer record");
  VkBufferCreateInfo binfo = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = bytes,
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkMemoryRequirements req;
  int type;
  if (vkCreateBuffer(vk->device, &binfo, NULL, &buf->buffer) != VK_SUCCESS)
    goto fail;
  vkGetBufferMemoryRequirements(vk->device, buf->buffer, &req);
  type =
      find_memory_type(vk, req.memoryTypeBits,
                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  if (type < 0)
    goto fail;
  VkMemoryAllocateInfo ainfo = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = req.size,
      .memoryTypeIndex = (uint32_t)type,
  };
  if (vkAllocateMemory(vk->device, &ainfo, NULL, &buf->memory) != VK_SUCCESS)
    goto fail;
  if (vkBindBufferMemory(vk->device, buf->buffer, buf->memory, 0) != VK_SUCCESS ||
      vkMapMemory(vk->device, buf->memory, 0, VK_WHOLE_SIZE, 0, &buf->mapped) != VK_SUCCESS)
    goto fail;
  t->priv = buf;
  return VG_OK;
fail:
  if (buf->memory)
    vkFreeMemory(vk->device, buf->memory, NULL);
  if (buf->buffer)
    vkDestroyBuffer(vk->device, buf->buffer, NULL);
  free(buf);
  return vg_fail(VG_ERR_DEVICE, "cannot allocate %llu bytes of host-visible device memory",
                 (unsigned long long)bytes);
}

static void vk_tensor_release(vg_backend *be, vg_tensor *t) {
  vk_backend *vk = (vk_backend *)be;
  vk_buffer *buf = t->priv;
  if (!buf)
    return;
  vkDestroyBuffer(vk->device, buf->buffer, NULL);
  vkFreeMemory(vk->device, buf->memory, NULL);
  free(buf);
  t->priv = NULL;
}

static vg_status vk_upload(vg_backend *be, vg_tensor *t, const void *src) {
  (void)be;
  memcpy(((vk_buffer *)t->priv)->mapped, src, vg_tensor_bytes(t));
  return VG_OK;
}

static vg_status vk_download(vg_backend *be, const vg_tensor *t, void *dst) {
  (void)be;
  memcpy(dst, ((vk_buffer *)t->priv)->mapped, vg_tensor_bytes(t));
  return VG_OK;
}

/* Binds `n` tensors to a fresh descriptor set, dispatches `groups` workgroups,
 * and waits for the result. */
static vg_status run_pipeline(vk_backend *vk, const vk_pipeline *pl, const vg_tensor **tensors,
                              uint32_t n, const void *push, uint32_t push_bytes, uint32_t groups) {
  VkDescriptorSetAllocateInfo ainfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = vk->desc_pool,
      .descriptorSetCount = 1,
      .pSetLayouts = &pl->set_layout,
  };
  VkDescriptorSet set;
  VK_TRY(vkAllocateDescriptorSets(vk->device, &ainfo, &set), "vkAllocateDescriptorSets");
  VkDescriptorBufferInfo infos[8];
  VkWriteDescriptorSet writes[8];
  for (uint32_t i = 0; i < n; i++) {
    infos[i] = (VkDescriptorBufferInfo){((vk_buffer *)tensors[i]->priv)->buffer, 0, VK_WHOLE_SIZE};
    writes[i] = (VkWriteDescriptorSet){
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstSet = set,
        .dstBinding = i,
        .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .pBufferInfo = &infos[i],
    };
  }
  vkUpdateDescriptorSets(vk->device, n, writes, 0, NULL);

  VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  vkResetCommandBuffer(vk->cmd, 0);
  vkBeginCommandBuffer(vk->cmd, &begin);
  vkCmdBindPipeline(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->pipeline);
  vkCmdBindDescriptorSets(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->layout, 0, 1, &set, 0, NULL);
  vkCmdPushConstants(vk->cmd, pl->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  vkCmdDispatch(vk->cmd, groups, 1, 1);
  /* Make the shader's writes visible to the host reads that follow. */
  VkMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
  };
  vkCmdPipelineBarrier(vk->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0,
                       1, &barrier, 0, NULL, 0, NULL);
  vkEndCommandBuffer(vk->cmd);

  VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &vk->cmd,
  };
  VkResult r = vkQueueSubmit(vk->queue, 1, &submit, vk->fence);
  if (r == VK_SUCCESS)
    r = vkWaitForFences(vk->device, 1, &vk->fence, VK_TRUE, UINT64_MAX);
  vkResetFences(vk->device, 1, &vk->fence);
  vkFreeDescriptorSets(vk->device, vk->desc_pool, 1, &set);
  if (r != VK_SUCCESS)
    return vg_fail(VG_ERR_DEVICE, "the compute submission failed (VkResult %d)", (int)r);
  return VG_OK;
}

static uint32_t groups_for(const vk_pipeline *pl, uint64_t n, const vk_backend *vk) {
  uint64_t groups = (n + pl->local_size - 1) / pl->local_size;
  uint64_t cap = vk->props.limits.maxComputeWorkGroupCount[0];
  if (groups > cap)
    groups = cap; /* the shaders loop over the rest */
  return groups ? (uint32_t)groups : 1;
}

static vg_status vk_add_scaled(vg_backend *be, vg_tensor *out, const vg_tensor *a, float alpha,
                               const vg_tensor *b, float beta) {
  vk_backend *vk = (vk_backend *)be;
  uint64_t n = (uint64_t)out->rows * (uint64_t)out->cols;
  struct {
    uint32_t n;
    float alpha, beta;
  } push = {(uint32_t)n, alpha, beta};
  const vg_tensor *ts[3] = {a, b, out};
  return run_pipeline(vk, &vk->add_scaled, ts, 3, &push, sizeof push,
                      groups_for(&vk->add_scaled, n, vk));
}

static vg_status vk_not_yet(vg_backend *be, const char *op) {
  return vg_fail(VG_ERR_UNSUPPORTED, "%s is not implemented on Vulkan (%s) yet; use the CPU", op,
                 be->device_name);
}

static vg_status vk_matmul(vg_backend *be, vg_tensor *o, const vg_tensor *a, const vg_tensor *w,
                           const vg_tensor *bias) {
  (void)o, (void)a, (void)w, (void)bias;
  return vk_not_yet(be, "matmul");
}

static vg_status vk_layer_norm(vg_backend *be, vg_tensor *o, const vg_tensor *x, const vg_tensor *g,
                               const vg_tensor *b, float eps) {
  (void)o, (void)x, (void)g, (void)b, (void)eps;
  return vk_not_yet(be, "layer_norm");
}

static vg_status vk_activation(vg_backend *be, vg_tensor *x, vg_activation act, float alpha) {
  (void)x, (void)act, (void)alpha;
  return vk_not_yet(be, "activation");
}

static vg_status vk_attention(vg_backend *be, vg_tensor *o, const vg_tensor *qkv, int heads,
                              int causal) {
  (void)o, (void)qkv, (void)heads, (void)causal;
  return vk_not_yet(be, "attention");
}

static vg_status vk_copy_rows(vg_backend *be, vg_tensor *dst, int64_t dst_row, const vg_tensor *src,
                              int64_t src_row, int64_t rows) {
  (void)dst, (void)dst_row, (void)src, (void)src_row, (void)rows;
  return vk_not_yet(be, "copy_rows");
}

static vg_status vk_l2_normalize(vg_backend *be, vg_tensor *out, const vg_tensor *x, float eps) {
  (void)out, (void)x, (void)eps;
  return vk_not_yet(be, "l2_normalize");
}

static vg_status vk_synchronize(vg_backend *be) {
  vk_backend *vk = (vk_backend *)be;
  VK_TRY(vkQueueWaitIdle(vk->queue), "vkQueueWaitIdle");
  return VG_OK;
}

static void vk_destroy(vg_backend *be) {
  vk_backend *vk = (vk_backend *)be;
  if (vk->device) {
    vkDeviceWaitIdle(vk->device);
    destroy_pipeline(vk, &vk->add_scaled);
    if (vk->desc_pool)
      vkDestroyDescriptorPool(vk->device, vk->desc_pool, NULL);
    if (vk->fence)
      vkDestroyFence(vk->device, vk->fence, NULL);
    if (vk->cmd_pool)
      vkDestroyCommandPool(vk->device, vk->cmd_pool, NULL);
    vkDestroyDevice(vk->device, NULL);
  }
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
    .matmul = vk_matmul,
    .layer_norm = vk_layer_norm,
    .activation = vk_activation,
    .add_scaled = vk_add_scaled,
    .attention = vk_attention,
    .copy_rows = vk_copy_rows,
    .l2_normalize = vk_l2_normalize,
    .synchronize = vk_synchronize,
    .destroy = vk_destroy,
};

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
  const char *choice = options->device ? options->device : getenv("VIGIL_VK_DEVICE");
  if (create_instance(vk, options->validation) != VG_OK || pick_device(vk, choice) != VG_OK ||
      create_device(vk) != VG_OK ||
      create_pipeline(vk, &vk->add_scaled, vg_spv_add_scaled, sizeof vg_spv_add_scaled, 3,
                      3 * sizeof(uint32_t)) != VG_OK) {
    char reason[1024];
    snprintf(reason, sizeof reason, "%s", vg_last_error());
    vk_destroy(&vk->base);
    vg_fail(VG_ERR_DEVICE, "Vulkan unavailable: %s", reason);
    return NULL;
  }
  return &vk->base;
}

int vg_vulkan_validation_messages(const vg_backend *be) {
  return be && be->ops == &vk_ops ? ((const vk_backend *)be)->validation_messages : 0;
}

int vg_vk_list_devices(vg_vk_device_info *out, int max) {
  vk_backend tmp = {0};
  if (create_instance(&tmp, 0) != VG_OK)
    return -1;
  uint32_t n = 0;
  vkEnumeratePhysicalDevices(tmp.instance, &n, NULL);
  VkPhysicalDevice devs[16];
  if (n > 16)
    n = 16;
  vkEnumeratePhysicalDevices(tmp.instance, &n, devs);
  for (uint32_t i = 0; i < n && (int)i < max; i++) {
    VkPhysicalDeviceProperties p;
    VkPhysicalDeviceMemoryProperties m;
    vkGetPhysicalDeviceProperties(devs[i], &p);
    vkGetPhysicalDeviceMemoryProperties(devs[i], &m);
    VkPhysicalDeviceVulkan11Features f11 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    VkPhysicalDeviceVulkan12Features f12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, .pNext = &f11};
    VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                   .pNext = &f12};
    if (p.apiVersion >= VK_API_VERSION_1_2)
      vkGetPhysicalDeviceFeatures2(devs[i], &f);
    uint32_t next = 0;
    vkEnumerateDeviceExtensionProperties(devs[i], NULL, &next, NULL);
    VkExtensionProperties *exts = calloc(next ? next : 1, sizeof *exts);
    int coop = 0;
    if (exts) {
      vkEnumerateDeviceExtensionProperties(devs[i], NULL, &next, exts);
      for (uint32_t e = 0; e < next; e++)
        coop |= strcmp(exts[e].extensionName, "VK_KHR_cooperative_matrix") == 0;
      free(exts);
    }
    uint64_t local = 0;
    for (uint32_t h = 0; h < m.memoryHeapCount; h++)
      if (m.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
        local += m.memoryHeaps[h].size;
    vg_vk_device_info *d = &out[i];
    snprintf(d->name, sizeof d->name, "%s", p.deviceName);
    d->type = type_name(p.deviceType);
    d->api_version = p.apiVersion;
    d->max_storage_buffer_range = p.limits.maxStorageBufferRange;
    d->device_local_bytes = local;
    d->float16 = f12.shaderFloat16 && f11.storageBuffer16BitAccess;
    d->cooperative_matrix = coop;
  }
  vkDestroyInstance(tmp.instance, NULL);
  return (int)n;
}
