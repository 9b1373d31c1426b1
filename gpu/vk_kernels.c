/* The kernel table: every compute pipeline of the backend in one place (the
 * types are in vk_kernels.h), and building and destroying pipelines from it.
 * Start-up builds the rows its device needs; vk_coop.c builds the coop GEMM
 * once a tiling fits, and vk_ops.c the attention kernels per head size. Only
 * the fault injector is called from here, so every other file may call in. */
#include <string.h>

#include "vk_private.h"

#include "activation.spv.h"
#include "add_scaled.spv.h"
#include "attention.spv.h"
#include "attention_split.spv.h"
#include "l2_normalize.spv.h"
#include "layer_norm.spv.h"
#include "matmul_coop.spv.h"
#include "matmul_coop_emu.spv.h"
#include "matmul_coop_khr.spv.h"
#include "matmul_f16.spv.h"
#include "matmul_f16_packed.spv.h"
#include "matmul_f32.spv.h"
#include "min_distance.spv.h"
#include "min_reduce.spv.h"
#include "patch_rows.spv.h"
#include "row_mean.spv.h"
#include "softmax_pick.spv.h"
#include "upsample.spv.h"

#define GEMM_BK 16 /* the K slice of matmul.comp and min_distance.comp */

/* The 1-D kernels: the workgroup size only. */
static void spec_threads(const vk_backend *vk, const vk_spec_args *args, uint32_t *spec) {
  (void)args;
  spec[0] = vk->threads;
}

/* The GEMM: 4 x 4 outputs per invocation over a tile_m x tile_n tile. */
static void spec_gemm(const vk_backend *vk, const vk_spec_args *args, uint32_t *spec) {
  (void)args;
  const uint32_t s[4] = {(vk->tile_m / 4) * (vk->tile_n / 4), vk->tile_m, vk->tile_n, GEMM_BK};
  memcpy(spec, s, sizeof s);
}

/* min_distance tiles queries x bank rows as the GEMM tiles its output. */
static void spec_min_distance(const vk_backend *vk, const vk_spec_args *args, uint32_t *spec) {
  (void)args;
  const uint32_t t = vk->min_tile, s[4] = {(t / 4) * (t / 4), t, t, GEMM_BK};
  memcpy(spec, s, sizeof s);
}

/* The coop GEMM: vk_coop.c's tiling and fragment shape; constant 9 (the
 * emulated subgroup) only the emulation declares. */
static void spec_coop(const vk_backend *vk, const vk_spec_args *args, uint32_t *spec) {
  (void)args;
  const vk_coop_tiles *t = &vk->coop_tiles;
  const vg_vk_coop_shape *f = &vk->coop_caps.shape;
  const uint32_t s[10] = {t->threads, t->bm, t->bn,        t->bk, f->m,
                          f->n,       f->k,  t->subgroups, t->wn, VK_COOP_EMU_LANES};
  memcpy(spec, s, sizeof s);
}

/* Attention: the layout's rows times the lanes per row, then the K/V tile,
 * the head size and (the split variant only) the lanes. */
static void spec_attention(const vk_backend *vk, const vk_spec_args *args, uint32_t *spec) {
  const uint32_t s[4] = {vk->attn_rows * args->lanes, args->kv_rows, args->head_dim, args->lanes};
  memcpy(spec, s, sizeof s);
}

/* A row: the shader vg_spv_<spv>, its bindings, write flags, push struct,
 * specialisation constants (how many, and what fills them), and when built. */
#define KERNEL(spv, bindings, writes, push, nspec, spec, build)                                    \
  { #spv, vg_spv_##spv, sizeof vg_spv_##spv, bindings, writes, sizeof(push), nspec, spec, build }

static const vk_kernel kernels[VK_KERNELS] = {
    [VK_K_ADD_SCALED] =
        KERNEL(add_scaled, 3, VK_WRITES_2, vk_push_add_scaled, 1, spec_threads, VK_BUILD_START),
    [VK_K_ACTIVATION] =
        KERNEL(activation, 1, VK_WRITES_0, vk_push_activation, 1, spec_threads, VK_BUILD_START),
    [VK_K_LAYER_NORM] =
        KERNEL(layer_norm, 4, VK_WRITES_3, vk_push_norm, 1, spec_threads, VK_BUILD_START),
    [VK_K_L2_NORMALIZE] =
        KERNEL(l2_normalize, 2, VK_WRITES_1, vk_push_norm, 1, spec_threads, VK_BUILD_START),
    [VK_K_PATCH_ROWS] =
        KERNEL(patch_rows, 2, VK_WRITES_1, vk_push_patch_rows, 1, spec_threads, VK_BUILD_START),
    [VK_K_MATMUL_F32] =
        KERNEL(matmul_f32, 4, VK_WRITES_3, vk_push_matmul, 4, spec_gemm, VK_BUILD_START),
    [VK_K_MATMUL_F16] =
        KERNEL(matmul_f16, 4, VK_WRITES_3, vk_push_matmul, 4, spec_gemm, VK_BUILD_STORAGE16),
    [VK_K_MATMUL_F16_PACKED] = KERNEL(matmul_f16_packed, 4, VK_WRITES_3, vk_push_matmul, 4,
                                      spec_gemm, VK_BUILD_NO_STORAGE16),
    [VK_K_UPSAMPLE] =
        KERNEL(upsample, 2, VK_WRITES_1, vk_push_upsample, 1, spec_threads, VK_BUILD_START),
    [VK_K_SOFTMAX_PICK] =
        KERNEL(softmax_pick, 2, VK_WRITES_1, vk_push_softmax_pick, 1, spec_threads, VK_BUILD_START),
    [VK_K_ROW_MEAN] =
        KERNEL(row_mean, 2, VK_WRITES_1, vk_push_row_mean, 1, spec_threads, VK_BUILD_START),
    [VK_K_MIN_REDUCE] =
        KERNEL(min_reduce, 2, VK_WRITES_1, vk_push_min_reduce, 1, spec_threads, VK_BUILD_START),
    [VK_K_MIN_DISTANCE] = KERNEL(min_distance, 3, VK_WRITES_2, vk_push_min_distance, 4,
                                 spec_min_distance, VK_BUILD_START),
    [VK_K_MATMUL_COOP] =
        KERNEL(matmul_coop, 4, VK_WRITES_3, vk_push_matmul, 9, spec_coop, VK_BUILD_COOP),
    [VK_K_MATMUL_COOP_KHR] =
        KERNEL(matmul_coop_khr, 4, VK_WRITES_3, vk_push_matmul, 9, spec_coop, VK_BUILD_COOP),
    [VK_K_MATMUL_COOP_EMU] =
        KERNEL(matmul_coop_emu, 4, VK_WRITES_3, vk_push_matmul, 10, spec_coop, VK_BUILD_COOP),
    [VK_K_ATTENTION] =
        KERNEL(attention, 2, VK_WRITES_1, vk_push_attention, 3, spec_attention, VK_BUILD_ON_USE),
    [VK_K_ATTENTION_SPLIT] = KERNEL(attention_split, 2, VK_WRITES_1, vk_push_attention, 4,
                                    spec_attention, VK_BUILD_ON_USE),
};

/* The descriptor-set layout (one storage buffer per binding) and the
 * pipeline layout with the kernel's push-constant range. */
static vg_status create_layouts(vk_backend *vk, const vk_kernel *k, vk_pipeline *pl) {
  VkDescriptorSetLayoutBinding b[VK_MAX_BINDINGS];
  for (uint32_t i = 0; i < k->bindings; i++)
    b[i] = (VkDescriptorSetLayoutBinding){
        .binding = i,
        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .descriptorCount = 1,
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  VkDescriptorSetLayoutCreateInfo linfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = k->bindings,
      .pBindings = b,
  };
  VK_TRY(vkCreateDescriptorSetLayout(vk->device, &linfo, NULL, &pl->set_layout),
         "vkCreateDescriptorSetLayout");
  VkPushConstantRange push = {VK_SHADER_STAGE_COMPUTE_BIT, 0, k->push_bytes};
  VkPipelineLayoutCreateInfo plinfo = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &pl->set_layout,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &push,
  };
  VK_TRY(vkCreatePipelineLayout(vk->device, &plinfo, NULL, &pl->layout), "vkCreatePipelineLayout");
  return VG_OK;
}

/* The pipeline itself, through the on-disk pipeline cache (vk_cache.c). */
static vg_status create_pipeline(vk_backend *vk, const vk_kernel *k, const uint32_t *spec,
                                 vk_pipeline *pl) {
  VkShaderModuleCreateInfo sinfo = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = k->spv_bytes,
      .pCode = k->spv,
  };
  VkShaderModule module;
  VK_TRY(vkCreateShaderModule(vk->device, &sinfo, NULL, &module), "vkCreateShaderModule");
  VkSpecializationMapEntry entries[VK_MAX_SPEC];
  for (uint32_t i = 0; i < k->nspec; i++)
    entries[i] = (VkSpecializationMapEntry){i, i * sizeof(uint32_t), sizeof(uint32_t)};
  VkSpecializationInfo sinfo_spec = {k->nspec, entries, k->nspec * sizeof(uint32_t), spec};
  VkComputePipelineCreateInfo cinfo = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage =
          {
              .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
              .stage = VK_SHADER_STAGE_COMPUTE_BIT,
              .module = module,
              .pName = "main",
              .pSpecializationInfo = &sinfo_spec,
          },
      .layout = pl->layout,
  };
  VkResult r = vk_fault_check(vk, VK_FAULT_PIPELINE);
  if (r == VK_SUCCESS)
    r = vkCreateComputePipelines(vk->device, vk->pcache, 1, &cinfo, NULL, &pl->pipeline);
  vkDestroyShaderModule(vk->device, module, NULL);
  VK_TRY(r, "vkCreateComputePipelines");
  return VG_OK;
}

vg_status vk_kernel_create(vk_backend *vk, vk_kernel_id id, const vk_spec_args *args,
                           vk_pipeline *pl) {
  const vk_kernel *k = &kernels[id];
  uint32_t spec[VK_MAX_SPEC] = {0};
  k->spec(vk, args, spec);
  *pl = (vk_pipeline){.kernel = k};
  vg_status s = create_layouts(vk, k, pl);
  if (s == VG_OK)
    s = create_pipeline(vk, k, spec, pl);
  if (s != VG_OK)
    vk_destroy_pipeline(vk, pl); /* a failed build leaves the slot empty */
  return s;
}

void vk_destroy_pipeline(vk_backend *vk, vk_pipeline *pl) {
  if (pl->pipeline)
    vkDestroyPipeline(vk->device, pl->pipeline, NULL);
  if (pl->layout)
    vkDestroyPipelineLayout(vk->device, pl->layout, NULL);
  if (pl->set_layout)
    vkDestroyDescriptorSetLayout(vk->device, pl->set_layout, NULL);
  *pl = (vk_pipeline){0};
}

/* Workgroup sizes the specialisation reads: a power of two up to 256 for the
 * 1-D kernels (the reductions halve it), and the GEMM tiles that follow. */
static void choose_workgroups(vk_backend *vk) {
  const VkPhysicalDeviceLimits *lim = &vk->props.limits;
  const uint32_t cap = lim->maxComputeWorkGroupInvocations < lim->maxComputeWorkGroupSize[0]
                           ? lim->maxComputeWorkGroupInvocations
                           : lim->maxComputeWorkGroupSize[0];
  vk->threads = 256;
  while (vk->threads > cap)
    vk->threads /= 2;
  /* 64 x 64 output tiles of 4 x 4 per invocation; 32 x 32 on small workgroups. */
  vk->tile_m = vk->tile_n = vk->min_tile = vk->threads >= 256 ? 64 : 32;
}

/* Whether start-up builds the kernel on this device. */
static int built_at_start(const vk_backend *vk, const vk_kernel *k) {
  switch (k->build) {
  case VK_BUILD_START: return 1;
  case VK_BUILD_STORAGE16: return vk->storage16;
  case VK_BUILD_NO_STORAGE16: return !vk->storage16;
  default: return 0; /* built by their owners */
  }
}

vg_status vk_kernels_create(vk_backend *vk) {
  choose_workgroups(vk);
  for (int id = 0; id < VK_KERNELS; id++)
    if (built_at_start(vk, &kernels[id]))
      VG_TRY(vk_kernel_create(vk, (vk_kernel_id)id, NULL, &vk->pipelines[id]));
  return VG_OK;
}

void vk_kernels_destroy(vk_backend *vk) {
  for (int id = 0; id < VK_KERNELS; id++)
    vk_destroy_pipeline(vk, &vk->pipelines[id]);
  for (int i = 0; i < VK_ATTN_CACHE; i++)
    vk_destroy_pipeline(vk, &vk->attention[i].pl);
}
