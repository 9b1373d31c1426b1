/* The scoring ops on Vulkan (MVFA's maps): bilinear upsampling, the softmax
 * entry, row means and the tiled min-distance against a memory bank. Kept
 * apart from vk_ops.c; shapes were checked by model/vg_backend.c. */
#include "vk_private.h"

#include "min_distance.spv.h"
#include "min_reduce.spv.h"
#include "row_mean.spv.h"
#include "softmax_pick.spv.h"
#include "upsample.spv.h"

#define MIN_BK 16
#define MIN_CHUNKS 32 /* bank chunks per query tile: parallelism for small queries */

vg_status vk_create_score_pipelines(vk_backend *vk) {
  const uint32_t one[1] = {vk->threads};
  VG_TRY(vk_create_pipeline(vk, &vk->upsample, vg_spv_upsample, sizeof vg_spv_upsample, 2, 28, one,
                            1));
  VG_TRY(vk_create_pipeline(vk, &vk->softmax_pick, vg_spv_softmax_pick, sizeof vg_spv_softmax_pick,
                            2, 12, one, 1));
  VG_TRY(
      vk_create_pipeline(vk, &vk->row_mean, vg_spv_row_mean, sizeof vg_spv_row_mean, 2, 8, one, 1));
  VG_TRY(vk_create_pipeline(vk, &vk->min_reduce, vg_spv_min_reduce, sizeof vg_spv_min_reduce, 2, 8,
                            one, 1));
  /* The GEMM's tiles: 64 x 64 of 4 x 4 per invocation, 32 x 32 on small workgroups. */
  const uint32_t tile = vk->threads >= 256 ? 64 : 32;
  const uint32_t spec[4] = {(tile / 4) * (tile / 4), tile, tile, MIN_BK};
  vk->min_tile = tile;
  return vk_create_pipeline(vk, &vk->min_distance, vg_spv_min_distance, sizeof vg_spv_min_distance,
                            3, 16, spec, 4);
}

void vk_destroy_score_pipelines(vk_backend *vk) {
  vk_pipeline *all[] = {&vk->upsample, &vk->softmax_pick, &vk->row_mean, &vk->min_reduce,
                        &vk->min_distance};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    vk_destroy_pipeline(vk, all[i]);
  vk_buffer_free(vk, vk->min_scratch);
  vk->min_scratch = NULL;
}

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
  struct {
    uint32_t planes, in_h, in_w, out_h, out_w;
    float scale_h, scale_w;
  } push = {(uint32_t)x->rows,        (uint32_t)in_h,  (uint32_t)in_w,
            (uint32_t)out_h,          (uint32_t)out_w, corner_scale(in_h, out_h),
            corner_scale(in_w, out_w)};
  vk_buffer *bufs[2] = {vk_buf_of(x), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->upsample, bufs, 2, 1u << 1, &push, vk_groups_for(vk, n, vk->threads),
                     1);
}

vg_status vk_softmax_pick(vg_backend *be, vg_tensor *out, const vg_tensor *x, int pick) {
  vk_backend *vk = (vk_backend *)be;
  VG_TRY(fits_u32("softmax_pick", (uint64_t)x->rows * (uint64_t)x->cols));
  struct {
    uint32_t k, n, pick;
  } push = {(uint32_t)x->rows, (uint32_t)x->cols, (uint32_t)pick};
  vk_buffer *bufs[2] = {vk_buf_of(x), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->softmax_pick, bufs, 2, 1u << 1, &push,
                     vk_groups_for(vk, x->cols, vk->threads), 1);
}

vg_status vk_row_mean(vg_backend *be, vg_tensor *out, const vg_tensor *x) {
  vk_backend *vk = (vk_backend *)be;
  VG_TRY(fits_u32("row_mean", (uint64_t)x->rows * (uint64_t)x->cols));
  struct {
    uint32_t rows, cols;
  } push = {(uint32_t)x->rows, (uint32_t)x->cols};
  vk_buffer *bufs[2] = {vk_buf_of(x), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->row_mean, bufs, 2, 1u << 1, &push, vk_groups_for(vk, x->rows, 1), 1);
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
  struct {
    uint32_t m, n, k, chunk_rows;
  } push = {(uint32_t)q->rows, (uint32_t)n, (uint32_t)q->cols, (uint32_t)chunk};
  vk_buffer *bufs[3] = {vk_buf_of(q), vk_buf_of(bank), part};
  VG_TRY(
      vk_dispatch(vk, &vk->min_distance, bufs, 3, 1u << 2, &push, (uint32_t)gx, (uint32_t)chunks));
  struct {
    uint32_t m, chunks;
  } rpush = {(uint32_t)q->rows, (uint32_t)chunks};
  vk_buffer *rbufs[2] = {part, vk_buf_of(out)};
  return vk_dispatch(vk, &vk->min_reduce, rbufs, 2, 1u << 1, &rpush,
                     vk_groups_for(vk, q->rows, vk->threads), 1);
}
