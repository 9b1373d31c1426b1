/* Fault injection for tests: VIGIL_VK_FAULT=alloc|pipeline|lost[:N] makes the
 * chosen Vulkan call fail, after N calls of that kind succeed, the way the
 * real failure would (VK_ERROR_OUT_OF_DEVICE_MEMORY from vkAllocateMemory or
 * vkCreateComputePipelines, VK_ERROR_DEVICE_LOST from vkQueueSubmit). Once a
 * fault fires every later call of its kind fails too, as a lost device or
 * exhausted memory would. Without the variable this costs one comparison.
 *
 * VIGIL_VK_FAULT=mem:BYTES is a device with BYTES of memory: a buffer that
 * would take the bytes bound to buffers (staging included) past BYTES fails
 * with VK_ERROR_OUT_OF_DEVICE_MEMORY, as vkAllocateMemory would on such a
 * device. It is not sticky: after buffers are freed a request that fits
 * succeeds again, so a big batch fails where a smaller one fits. The most
 * bytes ever bound are printed on stderr when the backend closes, for tests
 * to size BYTES. */
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
  } kinds[] = {{"alloc", VK_FAULT_ALLOC},
               {"pipeline", VK_FAULT_PIPELINE},
               {"lost", VK_FAULT_LOST},
               {"mem", VK_FAULT_MEM}};
  const char *colon = strchr(spec, ':');
  size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    if (strlen(kinds[i].name) == len && strncmp(spec, kinds[i].name, len) == 0)
      vk->fault.kind = kinds[i].kind;
  char *end = NULL;
  unsigned long long after = colon ? strtoull(colon + 1, &end, 10) : 0;
  if (vk->fault.kind == VK_FAULT_NONE || (colon && (end == colon + 1 || *end)) ||
      (vk->fault.kind == VK_FAULT_MEM && !colon))
    return vg_fail(VG_ERR_ARG,
                   "VIGIL_VK_FAULT='%s': expected alloc, pipeline or lost, then :N, or mem:BYTES",
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

VkResult vk_fault_bind(vk_backend *vk, VkDeviceSize bytes) {
  vk_fault *f = &vk->fault;
  if (f->kind != VK_FAULT_MEM)
    return VK_SUCCESS;
  const uint64_t after = vk->mem.used_bytes + bytes;
  if (after > f->after)
    return VK_ERROR_OUT_OF_DEVICE_MEMORY;
  if (after > f->peak)
    f->peak = after;
  return VK_SUCCESS;
}

void vk_fault_report(const vk_backend *vk) {
  if (vk->fault.kind == VK_FAULT_MEM)
    fprintf(stderr, "vulkan: fault mem: at most %llu bytes were bound\n",
            (unsigned long long)vk->fault.peak);
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
