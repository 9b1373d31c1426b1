/* Tensors. On a discrete GPU tensors live in device-local memory and the host
 * reaches them through staging buffers whose copies are recorded in order
 * with the ops; on UMA and CPU devices they are host-visible and mapped, so
 * upload and download are a memcpy once pending work is done. This file sits
 * above the recorder (vk_record.c): the buffers themselves, which the
 * recorder frees after a submission, are made in vk_alloc.c below both. */
#include <stdlib.h>
#include <string.h>

#include "vk_private.h"

#define VK_STAGING_FLUSH ((VkDeviceSize)64 << 20)

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

vg_status vk_tensor_alloc(vg_backend *be, vg_tensor *t) {
  vk_backend *vk = (vk_backend *)be;
  if (t->dtype == VG_BF16) /* no kernel reads it; vk_check_plan says so first */
    return vg_fail(VG_ERR_UNSUPPORTED, "BF16 tensors run on the CPU backend only, not on Vulkan");
  VkDeviceSize bytes = vg_tensor_bytes(t);
  /* A tensor over the storage-buffer range may exist (copy_rows reads an
   * embedding table by copies); a kernel binding it is refused (vk_dispatch). */
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
  vk->mem.staging_pending += staging->span;
  VG_TRY(vk_buffer_release_later(vk, staging));
  /* A model's weights are uploaded once: submitting every VK_STAGING_FLUSH
   * bytes keeps the staging memory they pass through bounded. */
  return vk->mem.staging_pending > VK_STAGING_FLUSH ? vk_flush(vk) : VG_OK;
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
