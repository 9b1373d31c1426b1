/* Buffers and tensors. On a discrete GPU tensors live in device-local memory
 * and the host reaches them through staging buffers whose copies are recorded
 * in order with the ops; on UMA and CPU devices they are host-visible and
 * mapped, so upload and download are a memcpy once pending work is done. */
#include <stdlib.h>
#include <string.h>

#include "vk_private.h"

static int find_memory_type(vk_backend *vk, uint32_t bits, VkMemoryPropertyFlags want) {
  for (uint32_t i = 0; i < vk->mem_props.memoryTypeCount; i++)
    if ((bits & (1u << i)) && (vk->mem_props.memoryTypes[i].propertyFlags & want) == want)
      return (int)i;
  return -1;
}

vg_status vk_buffer_new(vk_backend *vk, VkDeviceSize bytes, int host_visible, vk_buffer **out) {
  vk_buffer *buf = calloc(1, sizeof *buf);
  if (!buf)
    return vg_fail(VG_ERR_NOMEM, "out of memory for a buffer record");
  /* Rounded up so shaders may read F16 data as whole 32-bit words. */
  buf->size = (bytes + 15) & ~(VkDeviceSize)15;
  VkBufferCreateInfo binfo = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = buf->size,
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkMemoryRequirements req;
  VkMemoryPropertyFlags want =
      host_visible ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
                   : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  int type;
  if (vkCreateBuffer(vk->device, &binfo, NULL, &buf->buffer) != VK_SUCCESS)
    goto fail;
  vkGetBufferMemoryRequirements(vk->device, buf->buffer, &req);
  type = find_memory_type(vk, req.memoryTypeBits, want);
  if (type < 0)
    goto fail;
  VkMemoryAllocateInfo ainfo = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = req.size,
      .memoryTypeIndex = (uint32_t)type,
  };
  if (vkAllocateMemory(vk->device, &ainfo, NULL, &buf->memory) != VK_SUCCESS ||
      vkBindBufferMemory(vk->device, buf->buffer, buf->memory, 0) != VK_SUCCESS)
    goto fail;
  if (host_visible &&
      vkMapMemory(vk->device, buf->memory, 0, VK_WHOLE_SIZE, 0, &buf->mapped) != VK_SUCCESS)
    goto fail;
  *out = buf;
  return VG_OK;
fail:
  vk_buffer_free(vk, buf);
  return vg_fail(VG_ERR_DEVICE, "cannot allocate %llu bytes of %s memory on %s",
                 (unsigned long long)bytes, host_visible ? "host-visible" : "device-local",
                 vk->props.deviceName);
}

void vk_buffer_free(vk_backend *vk, vk_buffer *buf) {
  if (!buf)
    return;
  if (buf->buffer)
    vkDestroyBuffer(vk->device, buf->buffer, NULL);
  if (buf->memory)
    vkFreeMemory(vk->device, buf->memory, NULL);
  free(buf);
}

/* Frees `buf` now if no pending command uses it, else after the next flush. */
vg_status vk_buffer_release_later(vk_backend *vk, vk_buffer *buf) {
  if (!vk_pending(vk, buf)) {
    vk_buffer_free(vk, buf);
    return VG_OK;
  }
  if (vk->garbage_len == vk->garbage_cap) {
    size_t cap = vk->garbage_cap ? 2 * vk->garbage_cap : 16;
    vk_buffer **g = realloc(vk->garbage, cap * sizeof *g);
    if (!g) {
      /* Cannot defer: finish the batch so the buffer can go now. */
      vg_status s = vk_flush(vk);
      vk_buffer_free(vk, buf);
      return s;
    }
    vk->garbage = g;
    vk->garbage_cap = cap;
  }
  vk->garbage[vk->garbage_len++] = buf;
  return VG_OK;
}

void vk_free_garbage(vk_backend *vk) {
  for (size_t i = 0; i < vk->garbage_len; i++)
    vk_buffer_free(vk, vk->garbage[i]);
  vk->garbage_len = 0;
}

vg_status vk_tensor_alloc(vg_backend *be, vg_tensor *t) {
  vk_backend *vk = (vk_backend *)be;
  VkDeviceSize bytes = vg_tensor_bytes(t);
  /* The whole (rounded-up) buffer is bound to one storage descriptor. */
  if (((bytes + 15) & ~(VkDeviceSize)15) > vk->props.limits.maxStorageBufferRange)
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "a %lld x %lld tensor (%llu MiB) exceeds %s's storage buffer limit (%u MiB)",
                   (long long)t->rows, (long long)t->cols, (unsigned long long)(bytes >> 20),
                   vk->props.deviceName, vk->props.limits.maxStorageBufferRange >> 20);
  vk_buffer *buf;
  VG_TRY(vk_buffer_new(vk, bytes, !vk->device_local, &buf));
  t->priv = buf;
  return VG_OK;
}

void vk_tensor_release(vg_backend *be, vg_tensor *t) {
  vk_backend *vk = (vk_backend *)be;
  if (t->priv)
    vk_buffer_release_later(vk, t->priv);
  t->priv = NULL;
}

vg_status vk_upload(vg_backend *be, vg_tensor *t, const void *src) {
  vk_backend *vk = (vk_backend *)be;
  vk_buffer *buf = t->priv;
  size_t bytes = vg_tensor_bytes(t);
  if (buf->mapped) {
    /* Pending commands may still read the old contents or write new ones. */
    if (vk_pending(vk, buf))
      VG_TRY(vk_flush(vk));
    memcpy(buf->mapped, src, bytes);
    return VG_OK;
  }
  vk_buffer *staging;
  VG_TRY(vk_buffer_new(vk, bytes, 1, &staging));
  memcpy(staging->mapped, src, bytes);
  vg_status s = vk_copy(vk, staging, 0, buf, 0, bytes);
  if (s != VG_OK) {
    vk_buffer_free(vk, staging);
    return s;
  }
  return vk_buffer_release_later(vk, staging);
}

vg_status vk_download(vg_backend *be, const vg_tensor *t, void *dst) {
  vk_backend *vk = (vk_backend *)be;
  vk_buffer *buf = t->priv;
  size_t bytes = vg_tensor_bytes(t);
  if (buf->mapped) {
    if (vk_pending(vk, buf))
      VG_TRY(vk_flush(vk));
    memcpy(dst, buf->mapped, bytes);
    return VG_OK;
  }
  vk_buffer *staging;
  VG_TRY(vk_buffer_new(vk, bytes, 1, &staging));
  vg_status s = vk_copy(vk, buf, 0, staging, 0, bytes);
  if (s == VG_OK)
    s = vk_flush(vk);
  if (s == VG_OK)
    memcpy(dst, staging->mapped, bytes);
  vk_buffer_free(vk, staging);
  return s;
}
