/* The scoring ops on Vulkan (MVFA's maps): bilinear upsampling, the softmax
 * entry, row means and the tiled min-distance against a memory bank. Kept
 * apart from vk_ops.c; shapes were checked by model/vg_backend.c. */
#include "vk_private.h"

#define MIN_CHUNKS 32 /* bank chunks per query tile: parallelism for small queries */

/* The shaders index with 32-bit integers. */
static vg_status fits_u32(const char *op, uint64_t n) {
  if (n >= ((uint64_t)1 << 32))
    return vg_fail(VG_ERR_UNSUPPORTED, "%s: %llu elements exceed 32-bit indexing", op,
                   (unsigned long long)n);
  return VG_OK;
}

/* The scale of PyTorch's align_corners=True source index, as vg_score.c. */
static float corner_scale(int in, int out) {
  return out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
}

vg_status vk_upsample(vg_backend *be, vg_tensor *out, const vg_tensor *x, int in_h, int in_w,
                      int out_h, int out_w) {
  vk_backend *vk = (vk_backend *)be;
  const uint64_t n = (uint64_t)out->rows * (uint64_t)out->cols;
  VG_TRY(fits_u32("upsample", n));
  VG_TRY(fits_u32("upsample", (uint64_t)x->rows * (uint64_t)x->cols));
  const vk_push_upsample push = {(uint32_t)x->rows,        (uint32_t)in_h,
                                 (uint32_t)in_w,           (uint32_t)out_h,
                                 (uint32_t)out_w,          corner_scale(in_h, out_h),
                                 corner_scale(in_w, out_w)};
  vk_buffer *bufs[2] = {vk_buf_of(x), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->pipelines[VK_K_UPSAMPLE], bufs, &push, sizeof push,
                     vk_groups_for(vk, n, vk->threads), 1);
}

vg_status vk_softmax_pick(vg_backend *be, vg_tensor *out, const vg_tensor *x, int pick) {
  vk_backend *vk = (vk_backend *)be;
  VG_TRY(fits_u32("softmax_pick", (uint64_t)x->rows * (uint64_t)x->cols));
  const vk_push_softmax_pick push = {(uint32_t)x->rows, (uint32_t)x->cols, (uint32_t)pick};
  vk_buffer *bufs[2] = {vk_buf_of(x), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->pipelines[VK_K_SOFTMAX_PICK], bufs, &push, sizeof push,
                     vk_groups_for(vk, x->cols, vk->threads), 1);
}

vg_status vk_row_mean(vg_backend *be, vg_tensor *out, const vg_tensor *x) {
  vk_backend *vk = (vk_backend *)be;
  VG_TRY(fits_u32("row_mean", (uint64_t)x->rows * (uint64_t)x->cols));
  const vk_push_row_mean push = {(uint32_t)x->rows, (uint32_t)x->cols};
  vk_buffer *bufs[2] = {vk_buf_of(x), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->pipelines[VK_K_ROW_MEAN], bufs, &push, sizeof push,
                     vk_groups_for(vk, x->rows, 1), 1);
}

/* The partial-min scratch, grown as needed; the old one goes once unused. */
static vg_status scratch(vk_backend *vk, VkDeviceSize bytes, vk_buffer **out) {
  if (!vk->min_scratch || vk->min_scratch->size < bytes) {
    vk_buffer *fresh;
    VG_TRY(vk_buffer_new(vk, bytes, !vk->device_local, &fresh));
    vk_buffer *old = vk->min_scratch;
    vk->min_scratch = fresh;
    if (old)
      VG_TRY(vk_buffer_release_later(vk, old));
  }
  *out = vk->min_scratch;
  return VG_OK;
}

vg_status vk_min_distance(vg_backend *be, vg_tensor *out, const vg_tensor *q, const vg_tensor *bank,
                          int64_t bank_rows) {
  vk_backend *vk = (vk_backend *)be;
  const VkPhysicalDeviceLimits *lim = &vk->props.limits;
  VG_TRY(fits_u32("min_distance", (uint64_t)q->rows * (uint64_t)q->cols));
  VG_TRY(fits_u32("min_distance", (uint64_t)bank_rows * (uint64_t)bank->cols));
  const uint64_t tile = vk->min_tile, n = (uint64_t)bank_rows;
  /* Chunks of whole tiles, at most MIN_CHUNKS of them. */
  uint64_t chunk = (n + MIN_CHUNKS - 1) / MIN_CHUNKS;
  chunk = (chunk + tile - 1) / tile * tile;
  const uint64_t chunks = (n + chunk - 1) / chunk;
  const uint64_t gx = ((uint64_t)q->rows + tile - 1) / tile;
  if (gx > lim->maxComputeWorkGroupCount[0])
    return vg_fail(VG_ERR_UNSUPPORTED, "min_distance: %lld query rows exceed %s's grid",
                   (long long)q->rows, vk->props.deviceName);
  vk_buffer *part;
  VG_TRY(scratch(vk, chunks * (VkDeviceSize)q->rows * sizeof(float), &part));
  const vk_push_min_distance push = {(uint32_t)q->rows, (uint32_t)n, (uint32_t)q->cols,
                                     (uint32_t)chunk};
  vk_buffer *bufs[3] = {vk_buf_of(q), vk_buf_of(bank), part};
  VG_TRY(vk_dispatch(vk, &vk->pipelines[VK_K_MIN_DISTANCE], bufs, &push, sizeof push, (uint32_t)gx,
                     (uint32_t)chunks));
  const vk_push_min_reduce rpush = {(uint32_t)q->rows, (uint32_t)chunks};
  vk_buffer *rbufs[2] = {part, vk_buf_of(out)};
  return vk_dispatch(vk, &vk->pipelines[VK_K_MIN_REDUCE], rbufs, &rpush, sizeof rpush,
                     vk_groups_for(vk, q->rows, vk->threads), 1);
}
