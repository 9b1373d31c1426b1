/* Vulkan instance, device selection and creation, and the device list that
 * `vigil-cli devices` shows. Pipelines are built from the kernel table
 * (vk_kernels.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_private.h"

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

vg_status vk_create_instance(vk_backend *vk, int validation, int sync_validation) {
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
  /* Synchronization validation too: a missing barrier between dependent
   * dispatches is then a validation message, not a silent race. */
  VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  VkValidationFeaturesEXT features = {
      .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
      .enabledValidationFeatureCount = 1,
      .pEnabledValidationFeatures = &sync,
  };
  VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pNext = validation && sync_validation ? &features : NULL,
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
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return VG_VK_RANK_MIN_GPU;
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

vg_status vk_pick_device(vk_backend *vk, const char *choice) {
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

/* The 16-bit storage feature lets the GEMM read F16 weights directly. */
static int has_storage16(VkPhysicalDevice dev, const VkPhysicalDeviceProperties *p) {
  if (p->apiVersion < VK_API_VERSION_1_1)
    return 0;
  VkPhysicalDevice16BitStorageFeatures s16 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                 .pNext = &s16};
  vkGetPhysicalDeviceFeatures2(dev, &f);
  return s16.storageBuffer16BitAccess == VK_TRUE;
}

/* Subgroup size, stages and operations: a Vulkan 1.1 query (none before). */
static void query_subgroup(VkPhysicalDevice dev, const VkPhysicalDeviceProperties *p,
                           VkPhysicalDeviceSubgroupProperties *sg) {
  *sg = (VkPhysicalDeviceSubgroupProperties){
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  if (p->apiVersion < VK_API_VERSION_1_1)
    return;
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                    .pNext = sg};
  vkGetPhysicalDeviceProperties2(dev, &p2);
  sg->pNext = NULL;
}

vg_status vk_create_device(vk_backend *vk, int allow_storage16, int allow_coop) {
  float priority = 1.0f;
  VkDeviceQueueCreateInfo qinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = vk->queue_family,
      .queueCount = 1,
      .pQueuePriorities = &priority,
  };
  query_subgroup(vk->physical, &vk->props, &vk->subgroup);
  vk->storage16 = allow_storage16 && has_storage16(vk->physical, &vk->props);
  vk_coop_decide(vk, allow_coop);
  VkPhysicalDevice16BitStorageFeatures s16 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
      .storageBuffer16BitAccess = VK_TRUE,
  };
  const char *exts[4];
  uint32_t n_exts = 0;
  vk_coop_chain chain;
  void *features = vk->storage16 ? &s16 : NULL;
  if (vk->coop)
    features = vk_coop_enable(vk, &chain, features, exts, &n_exts);
  VkDeviceCreateInfo dinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .pNext = features,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &qinfo,
      .enabledExtensionCount = n_exts,
      .ppEnabledExtensionNames = n_exts ? exts : NULL,
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
  /* One set per recorded op; the pool is reset after each submission. */
  VkDescriptorPoolSize size = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, VK_DESC_SETS * VK_MAX_BINDINGS};
  VkDescriptorPoolCreateInfo dpinfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = VK_DESC_SETS,
      .poolSizeCount = 1,
      .pPoolSizes = &size,
  };
  VK_TRY(vkCreateDescriptorPool(vk->device, &dpinfo, NULL, &vk->desc_pool),
         "vkCreateDescriptorPool");
  return VG_OK;
}

int vg_vk_list_devices(vg_vk_device_info *out, int max) {
  vk_backend tmp = {0};
  if (vk_create_instance(&tmp, 0, 0) != VG_OK)
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
    VkPhysicalDeviceSubgroupProperties sg;
    query_subgroup(devs[i], &p, &sg);
    vk_coop_caps coop;
    vk_coop_query(tmp.instance, devs[i], &p, &sg, &coop);
    uint64_t local = 0;
    for (uint32_t h = 0; h < m.memoryHeapCount; h++)
      if (m.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
        local += m.memoryHeaps[h].size;
    vg_vk_device_info *d = &out[i];
    snprintf(d->name, sizeof d->name, "%s", p.deviceName);
    d->type = type_name(p.deviceType);
    d->rank = type_rank(p.deviceType);
    d->api_version = p.apiVersion;
    d->max_storage_buffer_range = p.limits.maxStorageBufferRange;
    d->device_local_bytes = local;
    d->float16 = f12.shaderFloat16 && f11.storageBuffer16BitAccess;
    d->cooperative_matrix = coop.usable;
    d->coop_why_not = coop.why_not;
    d->coop_nv = coop.nv, d->coop_khr = coop.khr;
    d->coop_api = coop.api == VK_COOP_KHR  ? VG_KHR_COOP_EXTENSION_NAME
                  : coop.api == VK_COOP_NV ? VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME
                                           : NULL;
    d->n_coop_shapes = (int)coop.n_shapes;
    memcpy(d->coop_shapes, coop.shapes, sizeof coop.shapes);
  }
  vkDestroyInstance(tmp.instance, NULL);
  return (int)n;
}
