/* The backend operations: each picks its pipeline and grid and records one
 * dispatch (or copy); vk_record.c decides barriers and submission. Shapes and
 * dtypes were checked by model/vg_backend.c already. */
#include <math.h>
#include <stdio.h>

#include "vk_private.h"

#include "activation.spv.h"
#include "add_scaled.spv.h"
#include "attention.spv.h"
#include "attention_split.spv.h"
#include "l2_normalize.spv.h"
#include "layer_norm.spv.h"
#include "matmul_f16.spv.h"
#include "matmul_f16_packed.spv.h"
#include "matmul_f32.spv.h"
#include "patch_rows.spv.h"

#define GEMM_BK 16

/* Whether subgroups can shuffle in compute shaders, and their size (0 if not). */
static uint32_t shuffle_subgroup(const vk_backend *vk) {
  VkPhysicalDeviceSubgroupProperties sp = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceProperties2 p = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                   .pNext = &sp};
  vkGetPhysicalDeviceProperties2(vk->physical, &p);
  const VkSubgroupFeatureFlags need =
      VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
  if (!(sp.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ||
      (sp.supportedOperations & need) != need)
    return 0;
  return sp.subgroupSize;
}

/* The attention layout: `spec` ("ROWSxLANES", for tuning on a new GPU), else
 * 16 rows x 4 lanes on GPUs whose subgroups shuffle, else 64 rows x 1 lane
 * (vg_vulkan.h says why). A layout the device cannot run is refused. */
vg_status vk_pick_attention(vk_backend *vk, const char *spec) {
  const uint32_t sg = shuffle_subgroup(vk);
  const uint32_t cap = vk->props.limits.maxComputeWorkGroupInvocations;
  const int split = sg >= 4 && vk->props.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU;
  uint32_t rows = split ? 16 : 64, lanes = split ? 4 : 1;
  if (spec && *spec) {
    char tail = 0;
    if (sscanf(spec, "%ux%u%c", &rows, &lanes, &tail) != 2 || rows == 0 || rows > 1024 ||
        (lanes != 1 && lanes != 2 && lanes != 4 && lanes != 8))
      return vg_fail(VG_ERR_ARG,
                     "attention layout '%s': expected ROWSxLANES such as 16x4 (lanes 1, 2, 4 or 8)",
                     spec);
    const uint32_t threads = rows * lanes;
    if (lanes > 1 && (sg < lanes || threads % sg))
      return vg_fail(VG_ERR_UNSUPPORTED,
                     "attention layout '%s': %u lanes per row need subgroup shuffles in groups of "
                     "%u and a workgroup of whole subgroups (%s: %s, subgroup %u)",
                     spec, lanes, lanes, vk->props.deviceName, sg ? "shuffles" : "no shuffles", sg);
    if (threads > cap || threads > vk->props.limits.maxComputeWorkGroupSize[0])
      return vg_fail(VG_ERR_UNSUPPORTED,
                     "attention layout '%s': %u invocations exceed %s's limit %u", spec, threads,
                     vk->props.deviceName, cap);
  } else if (lanes > 1 && (rows * lanes) % sg) {
    rows = 64, lanes = 1; /* subgroups wider than 64 invocations */
  }
  vk->attn_rows = rows, vk->attn_lanes = lanes;
  snprintf(vk->attn_note, sizeof vk->attn_note,
           "attention: %u query rows x %u lane%s per workgroup", rows, lanes,
           lanes > 1 ? "s (subgroup shuffles)" : "");
  return VG_OK;
}

vg_status vk_create_op_pipelines(vk_backend *vk) {
  const VkPhysicalDeviceLimits *lim = &vk->props.limits;
  uint32_t cap = lim->maxComputeWorkGroupInvocations < lim->maxComputeWorkGroupSize[0]
                     ? lim->maxComputeWorkGroupInvocations
                     : lim->maxComputeWorkGroupSize[0];
  vk->threads = 256;
  while (vk->threads > cap)
    vk->threads /= 2; /* the reductions want a power of two */
  const uint32_t one[1] = {vk->threads};
  VG_TRY(vk_create_pipeline(vk, &vk->add_scaled, vg_spv_add_scaled, sizeof vg_spv_add_scaled, 3, 12,
                            one, 1));
  VG_TRY(vk_create_pipeline(vk, &vk->activation, vg_spv_activation, sizeof vg_spv_activation, 1, 12,
                            one, 1));
  VG_TRY(vk_create_pipeline(vk, &vk->layer_norm, vg_spv_layer_norm, sizeof vg_spv_layer_norm, 4, 12,
                            one, 1));
  VG_TRY(vk_create_pipeline(vk, &vk->l2_normalize, vg_spv_l2_normalize, sizeof vg_spv_l2_normalize,
                            2, 12, one, 1));
  VG_TRY(vk_create_pipeline(vk, &vk->patch_rows, vg_spv_patch_rows, sizeof vg_spv_patch_rows, 2, 16,
                            one, 1));
  /* 64 x 64 output tiles of 4 x 4 per invocation; 32 x 32 on small workgroups. */
  vk->tile_m = vk->tile_n = vk->threads >= 256 ? 64 : 32;
  const uint32_t gemm[4] = {(vk->tile_m / 4) * (vk->tile_n / 4), vk->tile_m, vk->tile_n, GEMM_BK};
  VG_TRY(vk_create_pipeline(vk, &vk->matmul_f32, vg_spv_matmul_f32, sizeof vg_spv_matmul_f32, 4, 16,
                            gemm, 4));
  if (vk->storage16)
    return vk_create_pipeline(vk, &vk->matmul_f16, vg_spv_matmul_f16, sizeof vg_spv_matmul_f16, 4,
                              16, gemm, 4);
  return vk_create_pipeline(vk, &vk->matmul_f16, vg_spv_matmul_f16_packed,
                            sizeof vg_spv_matmul_f16_packed, 4, 16, gemm, 4);
}

void vk_destroy_op_pipelines(vk_backend *vk) {
  vk_pipeline *all[] = {&vk->add_scaled, &vk->activation, &vk->layer_norm, &vk->l2_normalize,
                        &vk->patch_rows, &vk->matmul_f32, &vk->matmul_f16, &vk->matmul_coop};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    vk_destroy_pipeline(vk, all[i]);
  for (int i = 0; i < VK_ATTN_CACHE; i++)
    vk_destroy_pipeline(vk, &vk->attention[i].pl);
}

vg_status vk_matmul(vg_backend *be, vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                    const vg_tensor *bias) {
  vk_backend *vk = (vk_backend *)be;
  const int coop = vk->coop && w->dtype == VG_F16;
  const uint32_t tm = coop ? vk->coop_tiles.bm : vk->tile_m,
                 tn = coop ? vk->coop_tiles.bn : vk->tile_n;
  const uint64_t gx = ((uint64_t)w->rows + tn - 1) / tn;
  const uint64_t gy = ((uint64_t)a->rows + tm - 1) / tm;
  if (gx > vk->props.limits.maxComputeWorkGroupCount[0] ||
      gy > vk->props.limits.maxComputeWorkGroupCount[1])
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "matmul: %lld x %lld output needs more workgroups than %s has",
                   (long long)a->rows, (long long)w->rows, vk->props.deviceName);
  struct {
    uint32_t m, n, k, has_bias;
  } push = {(uint32_t)a->rows, (uint32_t)w->rows, (uint32_t)a->cols, bias != NULL};
  /* Without a bias, `a` fills the binding; the shader does not read it. */
  vk_buffer *bufs[4] = {vk_buf_of(a), vk_buf_of(w), vk_buf_of(bias ? bias : a), vk_buf_of(out)};
  const vk_pipeline *pl = coop                 ? &vk->matmul_coop
                          : w->dtype == VG_F16 ? &vk->matmul_f16
                                               : &vk->matmul_f32;
  return vk_dispatch(vk, pl, bufs, 4, 1u << 3, &push, (uint32_t)gx, (uint32_t)gy);
}

vg_status vk_layer_norm(vg_backend *be, vg_tensor *out, const vg_tensor *x, const vg_tensor *gamma,
                        const vg_tensor *beta, float eps) {
  vk_backend *vk = (vk_backend *)be;
  struct {
    uint32_t rows, cols;
    float eps;
  } push = {(uint32_t)x->rows, (uint32_t)x->cols, eps};
  vk_buffer *bufs[4] = {vk_buf_of(x), vk_buf_of(gamma), vk_buf_of(beta), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->layer_norm, bufs, 4, 1u << 3, &push, vk_groups_for(vk, x->rows, 1),
                     1);
}

vg_status vk_activation(vg_backend *be, vg_tensor *x, vg_activation act, float alpha) {
  vk_backend *vk = (vk_backend *)be;
  const uint64_t n = (uint64_t)x->rows * (uint64_t)x->cols;
  struct {
    uint32_t n, act;
    float alpha;
  } push = {(uint32_t)n, (uint32_t)act, alpha};
  vk_buffer *bufs[1] = {vk_buf_of(x)};
  return vk_dispatch(vk, &vk->activation, bufs, 1, 1u, &push, vk_groups_for(vk, n, vk->threads), 1);
}

vg_status vk_add_scaled(vg_backend *be, vg_tensor *out, const vg_tensor *a, float alpha,
                        const vg_tensor *b, float beta) {
  vk_backend *vk = (vk_backend *)be;
  const uint64_t n = (uint64_t)out->rows * (uint64_t)out->cols;
  struct {
    uint32_t n;
    float alpha, beta;
  } push = {(uint32_t)n, alpha, beta};
  vk_buffer *bufs[3] = {vk_buf_of(a), vk_buf_of(b), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->add_scaled, bufs, 3, 1u << 2, &push,
                     vk_groups_for(vk, n, vk->threads), 1);
}

/* The attention pipeline for one head size, built on first use. */
static vg_status attention_pipeline(vk_backend *vk, uint32_t hd, uint32_t lanes,
                                    const vk_pipeline **out) {
  int slot = -1;
  for (int i = 0; i < VK_ATTN_CACHE; i++) {
    if (vk->attention[i].pl.pipeline && vk->attention[i].head_dim == hd &&
        vk->attention[i].lanes == lanes) {
      *out = &vk->attention[i].pl;
      return VG_OK;
    }
    if (slot < 0 && !vk->attention[i].pl.pipeline)
      slot = i;
  }
  /* K and V tiles of bc rows must fit in shared memory. */
  uint32_t bc = vk->props.limits.maxComputeSharedMemorySize / (2 * sizeof(float) * hd);
  if (bc > 32)
    bc = 32;
  if (bc == 0)
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "attention: head size %u is too large for %s's shared memory", hd,
                   vk->props.deviceName);
  if (slot < 0) { /* cache full: evict one once no pending command uses it */
    VG_TRY(vk_flush(vk));
    vk_destroy_pipeline(vk, &vk->attention[0].pl);
    slot = 0;
  }
  const uint32_t spec[4] = {vk->attn_rows * lanes, bc, hd, lanes};
  if (lanes > 1)
    VG_TRY(vk_create_pipeline(vk, &vk->attention[slot].pl, vg_spv_attention_split,
                              sizeof vg_spv_attention_split, 2, 16, spec, 4));
  else
    VG_TRY(vk_create_pipeline(vk, &vk->attention[slot].pl, vg_spv_attention,
                              sizeof vg_spv_attention, 2, 16, spec, 3));
  vk->attention[slot].head_dim = hd;
  vk->attention[slot].lanes = lanes;
  *out = &vk->attention[slot].pl;
  return VG_OK;
}

vg_status vk_attention(vg_backend *be, vg_tensor *out, const vg_tensor *qkv, int heads, int causal,
                       int seqs) {
  vk_backend *vk = (vk_backend *)be;
  const uint32_t hd = (uint32_t)(out->cols / heads);
  const int64_t t = out->rows / seqs; /* rows per sequence */
  const uint64_t gx = ((uint64_t)t + vk->attn_rows - 1) / vk->attn_rows;
  /* Each lane holds hd / lanes channels: fewer lanes where they do not divide. */
  uint32_t lanes = vk->attn_lanes;
  while (hd % lanes)
    lanes /= 2;
  const uint32_t *cap = vk->props.limits.maxComputeWorkGroupCount;
  if (gx > cap[0] || (uint32_t)heads > cap[1] || (uint32_t)seqs > cap[2])
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "attention: %lld tokens x %d heads x %d sequences exceed %s's grid",
                   (long long)t, heads, seqs, vk->props.deviceName);
  const vk_pipeline *pl = NULL;
  VG_TRY(attention_pipeline(vk, hd, lanes, &pl));
  struct {
    uint32_t t, d, causal;
    float scale;
  } push = {(uint32_t)t, (uint32_t)out->cols, causal != 0, 1.0f / sqrtf((float)hd)};
  vk_buffer *bufs[2] = {vk_buf_of(qkv), vk_buf_of(out)};
  return vk_dispatch3(vk, pl, bufs, 2, 1u << 1, &push, (uint32_t)gx, (uint32_t)heads,
                      (uint32_t)seqs);
}

vg_status vk_copy_rows(vg_backend *be, vg_tensor *dst, int64_t dst_row, const vg_tensor *src,
                       int64_t src_row, int64_t rows) {
  vk_backend *vk = (vk_backend *)be;
  const VkDeviceSize row_bytes = (VkDeviceSize)src->cols * sizeof(float);
  const VkDeviceSize bytes = (VkDeviceSize)rows * row_bytes;
  const VkDeviceSize so = (VkDeviceSize)src_row * row_bytes,
                     d_o = (VkDeviceSize)dst_row * row_bytes;
  vk_buffer *s = vk_buf_of(src), *d = vk_buf_of(dst);
  if (s != d || so + bytes <= d_o || d_o + bytes <= so)
    return vk_copy(vk, s, so, d, d_o, bytes);
  /* Overlapping rows of one tensor (memmove semantics) go through a scratch buffer. */
  vk_buffer *tmp;
  VG_TRY(vk_buffer_new(vk, bytes, !vk->device_local, &tmp));
  vg_status st = vk_copy(vk, s, so, tmp, 0, bytes);
  if (st == VG_OK)
    st = vk_copy(vk, tmp, 0, d, d_o, bytes);
  vg_status rel = vk_buffer_release_later(vk, tmp);
  return st != VG_OK ? st : rel;
}

vg_status vk_l2_normalize(vg_backend *be, vg_tensor *out, const vg_tensor *x, float eps) {
  vk_backend *vk = (vk_backend *)be;
  struct {
    uint32_t rows, cols;
    float eps;
  } push = {(uint32_t)x->rows, (uint32_t)x->cols, eps};
  vk_buffer *bufs[2] = {vk_buf_of(x), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->l2_normalize, bufs, 2, 1u << 1, &push, vk_groups_for(vk, x->rows, 1),
                     1);
}

/* One output element per invocation; the shader indexes with 32 bits. */
vg_status vk_patch_rows(vg_backend *be, vg_tensor *out, const vg_tensor *images, int side,
                        int patch) {
  vk_backend *vk = (vk_backend *)be;
  const uint64_t n = (uint64_t)out->rows * (uint64_t)out->cols;
  if (n >= ((uint64_t)1 << 32) || (uint64_t)images->rows * (uint64_t)images->cols >= (1ull << 32))
    return vg_fail(VG_ERR_UNSUPPORTED, "patch_rows: %llu elements exceed 32-bit indexing",
                   (unsigned long long)n);
  struct {
    uint32_t total, side, patch, grid;
  } push = {(uint32_t)n, (uint32_t)side, (uint32_t)patch, (uint32_t)(side / patch)};
  vk_buffer *bufs[2] = {vk_buf_of(images), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->patch_rows, bufs, 2, 1u << 1, &push,
                     vk_groups_for(vk, n, vk->threads), 1);
}
