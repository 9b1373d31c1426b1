/* The backend operations: each picks its pipeline and grid and records one
 * dispatch (or copy); vk_record.c decides barriers and submission. Shapes and
 * dtypes were checked by model/vg_backend.c already. */
#include <math.h>
#include <stdio.h>

#include "vk_private.h"

/* Whether subgroups can shuffle in compute shaders, and their size (0 if not). */
static uint32_t shuffle_subgroup(const vk_backend *vk) {
  const VkPhysicalDeviceSubgroupProperties *sp = &vk->subgroup;
  const VkSubgroupFeatureFlags need =
      VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
  if (!(sp->supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ||
      (sp->supportedOperations & need) != need)
    return 0;
  return sp->subgroupSize;
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

/* The GEMM for these weights: the coop one for F16 where it runs. */
static const vk_pipeline *matmul_pipeline(const vk_backend *vk, const vg_tensor *w) {
  if (w->dtype != VG_F16)
    return &vk->pipelines[VK_K_MATMUL_F32];
  if (vk->coop)
    return &vk->pipelines[vk->coop_kernel];
  return &vk->pipelines[vk->storage16 ? VK_K_MATMUL_F16 : VK_K_MATMUL_F16_PACKED];
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
  const vk_push_matmul push = {(uint32_t)a->rows, (uint32_t)w->rows, (uint32_t)a->cols,
                               bias != NULL};
  /* Without a bias, `a` fills the binding; the shader does not read it. */
  vk_buffer *bufs[4] = {vk_buf_of(a), vk_buf_of(w), vk_buf_of(bias ? bias : a), vk_buf_of(out)};
  return vk_dispatch(vk, matmul_pipeline(vk, w), bufs, &push, sizeof push, (uint32_t)gx,
                     (uint32_t)gy);
}

vg_status vk_layer_norm(vg_backend *be, vg_tensor *out, const vg_tensor *x, const vg_tensor *gamma,
                        const vg_tensor *beta, float eps) {
  vk_backend *vk = (vk_backend *)be;
  const vk_push_norm push = {(uint32_t)x->rows, (uint32_t)x->cols, eps};
  vk_buffer *bufs[4] = {vk_buf_of(x), vk_buf_of(gamma), vk_buf_of(beta), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->pipelines[VK_K_LAYER_NORM], bufs, &push, sizeof push,
                     vk_groups_for(vk, x->rows, 1), 1);
}

vg_status vk_activation(vg_backend *be, vg_tensor *x, vg_activation act, float alpha) {
  vk_backend *vk = (vk_backend *)be;
  const uint64_t n = (uint64_t)x->rows * (uint64_t)x->cols;
  const vk_push_activation push = {(uint32_t)n, (uint32_t)act, alpha};
  vk_buffer *bufs[1] = {vk_buf_of(x)};
  return vk_dispatch(vk, &vk->pipelines[VK_K_ACTIVATION], bufs, &push, sizeof push,
                     vk_groups_for(vk, n, vk->threads), 1);
}

vg_status vk_add_scaled(vg_backend *be, vg_tensor *out, const vg_tensor *a, float alpha,
                        const vg_tensor *b, float beta) {
  vk_backend *vk = (vk_backend *)be;
  const uint64_t n = (uint64_t)out->rows * (uint64_t)out->cols;
  const vk_push_add_scaled push = {(uint32_t)n, alpha, beta};
  vk_buffer *bufs[3] = {vk_buf_of(a), vk_buf_of(b), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->pipelines[VK_K_ADD_SCALED], bufs, &push, sizeof push,
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
  const vk_spec_args args = {.head_dim = hd, .lanes = lanes, .kv_rows = bc};
  VG_TRY(vk_kernel_create(vk, lanes > 1 ? VK_K_ATTENTION_SPLIT : VK_K_ATTENTION, &args,
                          &vk->attention[slot].pl));
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
  const vk_push_attention push = {(uint32_t)t, (uint32_t)out->cols, causal != 0,
                                  1.0f / sqrtf((float)hd)};
  vk_buffer *bufs[2] = {vk_buf_of(qkv), vk_buf_of(out)};
  return vk_dispatch3(vk, pl, bufs, &push, sizeof push, (uint32_t)gx, (uint32_t)heads,
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
  const vk_push_norm push = {(uint32_t)x->rows, (uint32_t)x->cols, eps};
  vk_buffer *bufs[2] = {vk_buf_of(x), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->pipelines[VK_K_L2_NORMALIZE], bufs, &push, sizeof push,
                     vk_groups_for(vk, x->rows, 1), 1);
}

/* One output element per invocation; the shader indexes with 32 bits. */
vg_status vk_patch_rows(vg_backend *be, vg_tensor *out, const vg_tensor *images, int side,
                        int patch) {
  vk_backend *vk = (vk_backend *)be;
  const uint64_t n = (uint64_t)out->rows * (uint64_t)out->cols;
  if (n >= ((uint64_t)1 << 32) || (uint64_t)images->rows * (uint64_t)images->cols >= (1ull << 32))
    return vg_fail(VG_ERR_UNSUPPORTED, "patch_rows: %llu elements exceed 32-bit indexing",
                   (unsigned long long)n);
  const vk_push_patch_rows push = {(uint32_t)n, (uint32_t)side, (uint32_t)patch,
                                   (uint32_t)(side / patch)};
  vk_buffer *bufs[2] = {vk_buf_of(images), vk_buf_of(out)};
  return vk_dispatch(vk, &vk->pipelines[VK_K_PATCH_ROWS], bufs, &push, sizeof push,
                     vk_groups_for(vk, n, vk->threads), 1);
}
