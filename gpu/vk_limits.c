/* The limits a model must fit before it is uploaded: every tensor a kernel
 * binds within maxStorageBufferRange, and all of them within the memory heap
 * they are allocated from. Checking the whole plan first gives one message
 * naming the tensor (or the total) instead of a failure halfway through. */
#include <stdio.h>
#include <stdlib.h>

#include "vk_private.h"

static uint64_t env_bytes(const char *name) {
  const char *v = getenv(name);
  char *end = NULL;
  unsigned long long n = v ? strtoull(v, &end, 10) : 0;
  return v && end != v && *end == '\0' ? n : 0;
}

/* Overrides may only lower the device's limits (for tests of small devices). */
void vk_limits_init(vk_backend *vk, uint64_t max_buffer, uint64_t max_memory) {
  if (!max_buffer)
    max_buffer = env_bytes("VIGIL_VK_MAX_BUFFER");
  if (!max_memory)
    max_memory = env_bytes("VIGIL_VK_MAX_MEMORY");
  vk->max_buffer = vk->props.limits.maxStorageBufferRange;
  if (max_buffer && max_buffer < vk->max_buffer)
    vk->max_buffer = max_buffer;
  vk->max_device = vk_tensor_heap_bytes(vk);
  if (max_memory && (max_memory < vk->max_device || !vk->max_device))
    vk->max_device = max_memory;
}

static double mib(uint64_t bytes) {
  return (double)bytes / (1024.0 * 1024.0);
}

vg_status vk_check_plan(vg_backend *be, const vg_tensor_plan *plan, size_t n) {
  vk_backend *vk = (vk_backend *)be;
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    const vg_tensor_plan *p = &plan[i];
    const uint64_t bytes =
        ((uint64_t)p->rows * (uint64_t)p->cols * vg_dtype_size(p->dtype) + 15) & ~(uint64_t)15;
    const char *dt = p->dtype == VG_F16 ? "F16" : "F32";
    if (!p->gather_only && bytes > vk->max_buffer)
      return vg_fail(VG_ERR_UNSUPPORTED,
                     "tensor '%s' (%lld x %lld %s, %.1f MiB) is larger than one storage buffer "
                     "on %s may be (%.1f MiB)",
                     p->name, (long long)p->rows, (long long)p->cols, dt, mib(bytes),
                     vk->props.deviceName, mib(vk->max_buffer));
    if (bytes > vk->mem.max_alloc)
      return vg_fail(VG_ERR_UNSUPPORTED,
                     "tensor '%s' (%lld x %lld %s, %.1f MiB) is larger than one allocation on %s "
                     "may be (%.1f MiB)",
                     p->name, (long long)p->rows, (long long)p->cols, dt, mib(bytes),
                     vk->props.deviceName, mib(vk->mem.max_alloc));
    total += bytes;
  }
  if (vk->max_device && total > vk->max_device)
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "the model needs %.1f MiB of %s memory on %s, which has %.1f MiB", mib(total),
                   vk->device_local ? "device-local" : "host-visible", vk->props.deviceName,
                   mib(vk->max_device));
  return VG_OK;
}

/* A kernel sees a whole buffer through one storage descriptor. */
vg_status vk_check_bindable(vk_backend *vk, vk_buffer *const *bufs, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (bufs[i]->size > vk->max_buffer)
      return vg_fail(VG_ERR_UNSUPPORTED,
                     "a %.1f MiB tensor exceeds %s's storage buffer limit (%.1f MiB)",
                     mib(bufs[i]->size), vk->props.deviceName, mib(vk->max_buffer));
  return VG_OK;
}
