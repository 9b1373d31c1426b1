/* Fault injection for tests: VIGIL_VK_FAULT=alloc|pipeline|lost[:N] makes the
 * chosen Vulkan call fail, after N calls of that kind succeed, the way the
 * real failure would (VK_ERROR_OUT_OF_DEVICE_MEMORY from vkAllocateMemory or
 * vkCreateComputePipelines, VK_ERROR_DEVICE_LOST from vkQueueSubmit). Once a
 * fault fires every later call of its kind fails too, as a lost device or
 * exhausted memory would. Without the variable this costs one comparison. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_private.h"

vg_status vk_fault_init(vk_backend *vk) {
  const char *spec = getenv("VIGIL_VK_FAULT");
  vk->fault = (vk_fault){0};
  if (!spec || !*spec)
    return VG_OK;
  static const struct {
    const char *name;
    vk_fault_kind kind;
  } kinds[] = {{"alloc", VK_FAULT_ALLOC}, {"pipeline", VK_FAULT_PIPELINE}, {"lost", VK_FAULT_LOST}};
  const char *colon = strchr(spec, ':');
  size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    if (strlen(kinds[i].name) == len && strncmp(spec, kinds[i].name, len) == 0)
      vk->fault.kind = kinds[i].kind;
  char *end = NULL;
  unsigned long long after = colon ? strtoull(colon + 1, &end, 10) : 0;
  if (vk->fault.kind == VK_FAULT_NONE || (colon && (end == colon + 1 || *end)))
    return vg_fail(VG_ERR_ARG, "VIGIL_VK_FAULT='%s': expected alloc, pipeline or lost, then :N",
                   spec);
  vk->fault.after = after;
  fprintf(stderr, "vulkan: injecting a fault: %s\n", spec);
  return VG_OK;
}

VkResult vk_fault_check(vk_backend *vk, vk_fault_kind kind) {
  vk_fault *f = &vk->fault;
  if (f->kind != kind)
    return VK_SUCCESS;
  if (!f->fired && f->calls++ < f->after)
    return VK_SUCCESS;
  f->fired = 1;
  return kind == VK_FAULT_LOST ? VK_ERROR_DEVICE_LOST : VK_ERROR_OUT_OF_DEVICE_MEMORY;
}

const char *vk_result_name(VkResult r) {
  switch (r) {
  case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
  case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
  case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
  case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
  case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
  case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
  case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
  case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
  case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
  case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
  case VK_TIMEOUT: return "VK_TIMEOUT";
  default: return "an unexpected VkResult";
  }
}
