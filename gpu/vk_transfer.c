/* Several downloads with one wait: a forward's outputs (pooled features and
 * every adapter's tokens) come back in one submission, also where tensors sit
 * behind staging copies (discrete GPUs), instead of one round trip each. */
#include <stdlib.h>
#include <string.h>

#include "vk_private.h"

vg_status vk_download_many(vg_backend *be, int n, const vg_tensor *const *t, void *const *dst) {
  vk_backend *vk = (vk_backend *)be;
  vk_buffer **staging = calloc((size_t)n, sizeof *staging);
  if (!staging)
    return vg_fail(VG_ERR_NOMEM, "out of memory for download records");
  vg_status s = VG_OK;
  for (int i = 0; s == VG_OK && i < n; i++) {
    vk_buffer *buf = t[i]->priv;
    if (buf->mapped)
      continue; /* read in place after the flush */
    s = vk_buffer_new(vk, vg_tensor_bytes(t[i]), 1, &staging[i]);
    if (s == VG_OK)
      s = vk_copy(vk, buf, 0, staging[i], 0, vg_tensor_bytes(t[i]));
  }
  if (s == VG_OK)
    s = vk_flush(vk); /* one wait for the pending work and every copy */
  for (int i = 0; i < n; i++) {
    const vk_buffer *src = staging[i] ? staging[i] : t[i]->priv;
    if (s == VG_OK)
      memcpy(dst[i], src->mapped, vg_tensor_bytes(t[i]));
    if (staging[i])
      vk_buffer_release_later(vk, staging[i]);
  }
  free(staging);
  return s;
}
