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

/* "147.0 KiB", "144.7 MiB": small limits (in tests) still read right. */
typedef struct size_text {
  char s[32];
} size_text;

static size_text sz(uint64_t bytes) {
  size_text t;
  if (bytes < (1u << 20))
    snprintf(t.s, sizeof t.s, "%.1f KiB", (double)bytes / 1024.0);
  else
    snprintf(t.s, sizeof t.s, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
  return t;
}

vg_status vk_check_plan(vg_backend *be, const vg_tensor_plan *plan, size_t n) {
  vk_backend *vk = (vk_backend *)be;
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    const vg_tensor_plan *p = &plan[i];
    const uint64_t bytes =
        ((uint64_t)p->rows * (uint64_t)p->cols * vg_dtype_size(p->dtype) + 15) & ~(uint64_t)15;
    const char *dt = p->dtype == VG_F16 ? "F16" : "F32";
    if (p->dtype == VG_BF16)
      return vg_fail(VG_ERR_UNSUPPORTED,
                     "BF16 matmul weights ('%s') run on the CPU backend only, not on Vulkan (%s); "
                     "use F16 or F32 there",
                     p->name, vk->props.deviceName);
    if (!p->gather_only && bytes > vk->max_buffer)
      return vg_fail(VG_ERR_UNSUPPORTED,
                     "tensor '%s' (%lld x %lld %s, %s) exceeds %s's storage buffer limit (%s)",
                     p->name, (long long)p->rows, (long long)p->cols, dt, sz(bytes).s,
                     vk->props.deviceName, sz(vk->max_buffer).s);
    if (bytes > vk->mem.max_alloc)
      return vg_fail(VG_ERR_UNSUPPORTED,
                     "tensor '%s' (%lld x %lld %s, %s) exceeds %s's allocation limit (%s)", p->name,
                     (long long)p->rows, (long long)p->cols, dt, sz(bytes).s, vk->props.deviceName,
                     sz(vk->mem.max_alloc).s);
    total += bytes;
  }
  if (vk->max_device && total > vk->max_device)
    return vg_fail(VG_ERR_UNSUPPORTED, "the model needs %s of %s memory on %s, which has %s",
                   sz(total).s, vk->device_local ? "device-local" : "host-visible",
                   vk->props.deviceName, sz(vk->max_device).s);
  return VG_OK;
}

/* A kernel sees a whole buffer through one storage descriptor. */
vg_status vk_check_bindable(vk_backend *vk, vk_buffer *const *bufs, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (bufs[i]->size > vk->max_buffer)
      return vg_fail(VG_ERR_UNSUPPORTED, "a %s tensor exceeds %s's storage buffer limit (%s)",
                     sz(bufs[i]->size).s, vk->props.deviceName, sz(vk->max_buffer).s);
  return VG_OK;
}
