/* Cooperative matrices: what a device offers, the features device creation
 * enables for them, and the tiling and pipeline of the coop GEMM
 * (shaders/matmul_coop.comp).
 *
 * Two extensions carry them: VK_NV_cooperative_matrix (NVIDIA) and
 * VK_KHR_cooperative_matrix (NVIDIA, AMD, Intel, Arm). Debian 12's glslang
 * writes only the NV SPIR-V, which spirv-val checks here; the KHR module is
 * translated from it at build time (shaders/spirv-nv-to-khr.py). NV is tried
 * first where both are listed, being the one validated here; VIGIL_VK_COOP=
 * nv or khr picks one. The shader needs, besides the extension: F16
 * arithmetic (VK_KHR_shader_float16_int8), the Vulkan memory model (which
 * GL_KHR_memory_scope_semantics implies), 16-bit storage buffers, and basic
 * subgroup operations in compute shaders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_private.h"

#define COOP_MAX_PROPS 64

/* Every tiling divides a subgroup's block into 32 x 32 pieces at least, so a
 * fragment shape fits if each side divides 32. */
static int shape_fits(const vg_vk_coop_shape *s) {
  return s->m && s->n && s->k && 32 % s->m == 0 && 32 % s->n == 0 && 32 % s->k == 0;
}

static int has_ext(const VkExtensionProperties *e, uint32_t n, const char *name) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(e[i].extensionName, name) == 0)
      return 1;
  return 0;
}

static void add_shape(vk_coop_caps *caps, uint32_t m, uint32_t n, uint32_t k) {
  if (caps->n_shapes < VG_VK_MAX_COOP_SHAPES)
    caps->shapes[caps->n_shapes++] = (vg_vk_coop_shape){m, n, k};
}

/* The F16 x F16 -> F32 subgroup shapes of VK_NV_cooperative_matrix. */
static void query_shapes_nv(VkInstance instance, VkPhysicalDevice dev, vk_coop_caps *caps) {
  PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV get =
      (PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV)vkGetInstanceProcAddr(
          instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV");
  VkCooperativeMatrixPropertiesNV props[COOP_MAX_PROPS];
  uint32_t n = COOP_MAX_PROPS;
  for (uint32_t i = 0; i < n; i++)
    props[i] = (VkCooperativeMatrixPropertiesNV){
        .sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV};
  if (!get || get(dev, &n, props) < 0) /* VK_INCOMPLETE: the first 64 will do */
    return;
  for (uint32_t i = 0; i < n; i++) {
    const VkCooperativeMatrixPropertiesNV *q = &props[i];
    if (q->AType == VK_COMPONENT_TYPE_FLOAT16_NV && q->BType == VK_COMPONENT_TYPE_FLOAT16_NV &&
        q->CType == VK_COMPONENT_TYPE_FLOAT32_NV && q->DType == VK_COMPONENT_TYPE_FLOAT32_NV &&
        q->scope == VK_SCOPE_SUBGROUP_NV)
      add_shape(caps, q->MSize, q->NSize, q->KSize);
  }
}

/* The same for VK_KHR_cooperative_matrix (same component and scope values);
 * shapes that need saturating accumulation are skipped. */
static void query_shapes_khr(VkInstance instance, VkPhysicalDevice dev, vk_coop_caps *caps) {
  vg_get_coop_properties_khr get = (vg_get_coop_properties_khr)vkGetInstanceProcAddr(
      instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
  vg_coop_properties_khr props[COOP_MAX_PROPS];
  uint32_t n = COOP_MAX_PROPS;
  for (uint32_t i = 0; i < n; i++)
    props[i] = (vg_coop_properties_khr){.sType = VG_STYPE_COOP_PROPERTIES_KHR};
  if (!get || get(dev, &n, props) < 0)
    return;
  for (uint32_t i = 0; i < n; i++) {
    const vg_coop_properties_khr *q = &props[i];
    if (q->AType == VK_COMPONENT_TYPE_FLOAT16_NV && q->BType == VK_COMPONENT_TYPE_FLOAT16_NV &&
        q->CType == VK_COMPONENT_TYPE_FLOAT32_NV && q->ResultType == VK_COMPONENT_TYPE_FLOAT32_NV &&
        q->scope == VK_SCOPE_SUBGROUP_NV && !q->saturatingAccumulation)
      add_shape(caps, q->MSize, q->NSize, q->KSize);
  }
}

/* The first unmet requirement of the shader, or NULL. */
static const char *check_features(VkPhysicalDevice dev, vk_coop_api api,
                                  const VkPhysicalDeviceSubgroupProperties *sg,
                                  vk_coop_caps *caps) {
  const int khr = api == VK_COOP_KHR;
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coop = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
  vg_coop_features_khr coop_khr = {.sType = VG_STYPE_COOP_FEATURES_KHR};
  VkPhysicalDeviceShaderFloat16Int8FeaturesKHR f16 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES_KHR,
      .pNext = khr ? (void *)&coop_khr : (void *)&coop};
  VkPhysicalDeviceVulkanMemoryModelFeaturesKHR vmm = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES_KHR, .pNext = &f16};
  VkPhysicalDevice16BitStorageFeatures s16 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES, .pNext = &vmm};
  VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                 .pNext = &s16};
  vkGetPhysicalDeviceFeatures2(dev, &f);
  VkPhysicalDeviceCooperativeMatrixPropertiesNV cp = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_NV};
  vg_coop_device_properties_khr cp_khr = {.sType = VG_STYPE_COOP_DEVICE_PROPERTIES_KHR};
  VkPhysicalDeviceProperties2 p = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                   .pNext = khr ? (void *)&cp_khr : (void *)&cp};
  vkGetPhysicalDeviceProperties2(dev, &p);
  caps->subgroup_size = sg->subgroupSize;
  if (!(khr ? coop_khr.cooperativeMatrix : coop.cooperativeMatrix))
    return "the cooperativeMatrix feature is off";
  const VkShaderStageFlags stages =
      khr ? cp_khr.cooperativeMatrixSupportedStages : cp.cooperativeMatrixSupportedStages;
  if (!(stages & VK_SHADER_STAGE_COMPUTE_BIT))
    return "cooperative matrices are not supported in compute shaders";
  if (!f16.shaderFloat16 || !vmm.vulkanMemoryModel || !s16.storageBuffer16BitAccess)
    return "shaderFloat16, vulkanMemoryModel or 16-bit storage buffers are missing";
  if (!(sg->supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ||
      !(sg->supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT) || sg->subgroupSize == 0)
    return "basic subgroup operations are not supported in compute shaders";
  return NULL;
}

/* Whether the coop GEMM can run through `api` (listed by the driver); fills
 * caps' shapes, shape and why_not. */
static int try_api(VkInstance instance, VkPhysicalDevice dev, const VkPhysicalDeviceProperties *p,
                   const VkPhysicalDeviceSubgroupProperties *sg, int extras, vk_coop_api api,
                   vk_coop_caps *caps) {
  caps->n_shapes = 0;
  if (api == VK_COOP_KHR)
    query_shapes_khr(instance, dev, caps);
  else
    query_shapes_nv(instance, dev, caps);
  if (p->apiVersion < VK_API_VERSION_1_1 || !extras) {
    caps->why_not = "the device lacks VK_KHR_shader_float16_int8 or VK_KHR_vulkan_memory_model";
    return 0;
  }
  caps->why_not = check_features(dev, api, sg, caps);
  if (caps->why_not)
    return 0;
  /* The driver lists its preferred shapes first; 16x16x16 is the usual best. */
  int pick = -1;
  for (uint32_t i = 0; i < caps->n_shapes; i++) {
    const vg_vk_coop_shape *s = &caps->shapes[i];
    if (shape_fits(s) && (pick < 0 || (s->m == 16 && s->n == 16 && s->k == 16)))
      pick = (int)i;
  }
  if (pick < 0) {
    caps->why_not = "no F16 x F16 -> F32 subgroup shape with sides dividing 32";
    return 0;
  }
  caps->shape = caps->shapes[pick];
  return 1;
}

void vk_coop_query(VkInstance instance, VkPhysicalDevice dev, const VkPhysicalDeviceProperties *p,
                   const VkPhysicalDeviceSubgroupProperties *sg, vk_coop_caps *caps) {
  *caps = (vk_coop_caps){
      .why_not = "the device lacks VK_NV_cooperative_matrix and VK_KHR_cooperative_matrix"};
  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(dev, NULL, &n, NULL);
  VkExtensionProperties *exts = calloc(n ? n : 1, sizeof *exts);
  if (!exts) {
    caps->why_not = "out of memory";
    return;
  }
  vkEnumerateDeviceExtensionProperties(dev, NULL, &n, exts);
  caps->nv = has_ext(exts, n, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
  caps->khr = has_ext(exts, n, VG_KHR_COOP_EXTENSION_NAME);
  const int extras = has_ext(exts, n, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME) &&
                     has_ext(exts, n, VK_KHR_VULKAN_MEMORY_MODEL_EXTENSION_NAME);
  free(exts);
  const char *pick = getenv("VIGIL_VK_COOP");
  const int only_nv = pick && strcmp(pick, "nv") == 0, only_khr = pick && strcmp(pick, "khr") == 0;
  if (pick && *pick && !only_nv && !only_khr) {
    caps->why_not = "VIGIL_VK_COOP must be nv or khr";
    return;
  }
  if ((only_nv && !caps->nv) || (only_khr && !caps->khr)) {
    caps->why_not = only_nv ? "VIGIL_VK_COOP=nv but the device lacks VK_NV_cooperative_matrix"
                            : "VIGIL_VK_COOP=khr but the device lacks VK_KHR_cooperative_matrix";
    return;
  }
  if (caps->nv && !only_khr && try_api(instance, dev, p, sg, extras, VK_COOP_NV, caps))
    caps->api = VK_COOP_NV;
  else if (caps->khr && !only_nv && try_api(instance, dev, p, sg, extras, VK_COOP_KHR, caps))
    caps->api = VK_COOP_KHR;
  caps->usable = caps->api != VK_COOP_NONE;
}

/* The emulated shader needs F16 arithmetic (shared F16 tiles) only. */
static const char *check_emulation(const vk_backend *vk) {
  const vg_vk_coop_shape *s = &vk->coop_emulate;
  if (!shape_fits(s))
    return "the emulated fragment shape's sides must divide 32";
  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(vk->physical, NULL, &n, NULL);
  VkExtensionProperties *exts = calloc(n ? n : 1, sizeof *exts);
  if (!exts)
    return "out of memory";
  vkEnumerateDeviceExtensionProperties(vk->physical, NULL, &n, exts);
  const int f16_ext = has_ext(exts, n, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
  free(exts);
  VkPhysicalDeviceShaderFloat16Int8FeaturesKHR f16 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES_KHR};
  VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                 .pNext = &f16};
  if (f16_ext)
    vkGetPhysicalDeviceFeatures2(vk->physical, &f);
  return f16_ext && f16.shaderFloat16 ? NULL : "the emulation needs shaderFloat16";
}

void vk_coop_decide(vk_backend *vk, int allow) {
  vk_coop_query(vk->instance, vk->physical, &vk->props, &vk->subgroup, &vk->coop_caps);
  vk_coop_caps *c = &vk->coop_caps;
  const int emulate = vk->coop_emulate.m != 0;
  const char *why = NULL;
  if (!allow)
    why = "disabled (no_coopmat option or VIGIL_VK_NO_COOPMAT=1)";
  else if (!vk->storage16)
    why = "16-bit storage is off";
  else if (emulate)
    why = check_emulation(vk);
  else if (!c->usable)
    why = c->why_not;
  vk->coop = why == NULL;
  if (why)
    snprintf(vk->coop_note, sizeof vk->coop_note, "%s", why);
  if (vk->coop && emulate)
    c->shape = vk->coop_emulate, c->subgroup_size = VK_COOP_EMU_LANES;
}

void *vk_coop_enable(const vk_backend *vk, vk_coop_chain *c, void *next, const char **exts,
                     uint32_t *n_exts) {
  c->f16 = (VkPhysicalDeviceShaderFloat16Int8FeaturesKHR){
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES_KHR,
      .pNext = next,
      .shaderFloat16 = VK_TRUE};
  exts[(*n_exts)++] = VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME;
  if (vk->coop_emulate.m)
    return &c->f16;
  const int khr = vk->coop_caps.api == VK_COOP_KHR;
  c->coop = (VkPhysicalDeviceCooperativeMatrixFeaturesNV){
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
      .pNext = &c->f16,
      .cooperativeMatrix = VK_TRUE};
  c->coop_khr = (vg_coop_features_khr){
      .sType = VG_STYPE_COOP_FEATURES_KHR, .pNext = &c->f16, .cooperativeMatrix = VK_TRUE};
  c->vmm = (VkPhysicalDeviceVulkanMemoryModelFeaturesKHR){
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES_KHR,
      .pNext = khr ? (void *)&c->coop_khr : (void *)&c->coop,
      .vulkanMemoryModel = VK_TRUE};
  exts[(*n_exts)++] = khr ? VG_KHR_COOP_EXTENSION_NAME : VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME;
  exts[(*n_exts)++] = VK_KHR_VULKAN_MEMORY_MODEL_EXTENSION_NAME;
  return &c->vmm;
}

/* Whether tiling `o` suits the fragment shape and the device: 1, or 0 with
 * the reason. Sets o->threads. The shader needs SG / WN subgroup rows whose
 * blocks are whole fragments, and BK a multiple of lK and of 8 (its vector
 * staging). */
static int tiles_fit(const vk_backend *vk, vk_coop_tiles *o, char *why, size_t size) {
  const VkPhysicalDeviceLimits *lim = &vk->props.limits;
  const vg_vk_coop_shape *s = &vk->coop_caps.shape;
  if (!o->bm || !o->bn || !o->bk || !o->subgroups || !o->wn || o->subgroups % o->wn ||
      o->bm % (o->subgroups / o->wn) || o->bn % o->wn) {
    snprintf(why, size, "SG must be a multiple of WN, BM of SG/WN and BN of WN");
    return 0;
  }
  const uint32_t sm = o->bm / (o->subgroups / o->wn), sn = o->bn / o->wn;
  if (sm % s->m || sn % s->n || o->bk % s->k || o->bk % 8) {
    snprintf(why, size,
             "a subgroup's %ux%u block is not whole %ux%u fragments, or BK %u is not a "
             "multiple of %u and 8",
             sm, sn, s->m, s->n, o->bk, s->k);
    return 0;
  }
  o->threads = o->subgroups * vk->coop_caps.subgroup_size;
  const uint64_t shared = (uint64_t)(o->bm + o->bn) * (o->bk + 8) * 2 +
                          (uint64_t)o->subgroups * s->m * s->n * sizeof(float);
  if (o->threads > lim->maxComputeWorkGroupInvocations ||
      o->threads > lim->maxComputeWorkGroupSize[0] || shared > lim->maxComputeSharedMemorySize) {
    snprintf(why, size, "%u threads and %llu bytes of shared memory pass the device's %u and %u",
             o->threads, (unsigned long long)shared, lim->maxComputeWorkGroupInvocations,
             lim->maxComputeSharedMemorySize);
    return 0;
  }
  return 1;
}

/* Parses and checks a "BMxBNxBK/SG/WN" tiling against the fragment shape and
 * the device's limits: 1, or 0 with the reason in `why`. */
static int vk_coop_parse_tiles(const vk_backend *vk, const char *spec, vk_coop_tiles *t, char *why,
                               size_t why_size) {
  vk_coop_tiles o = {0};
  char tail = 0;
  if (sscanf(spec, "%ux%ux%u/%u/%u%c", &o.bm, &o.bn, &o.bk, &o.subgroups, &o.wn, &tail) != 5 ||
      o.bm > 1024 || o.bn > 1024 || o.bk > 256 || o.subgroups > 64) {
    snprintf(why, why_size, "expected BMxBNxBK/SG/WN such as 128x128x32/8/2");
    return 0;
  }
  if (!tiles_fit(vk, &o, why, why_size))
    return 0;
  *t = o;
  return 1;
}

/* 128 x 128 tiles on 8 subgroups where shared memory allows, else 64 x 64 on
 * 4. A subgroup's block is 32 x 64 or 32 x 32, so fitting shapes divide it. */
static int vk_coop_pick_tiles(const vk_backend *vk, vk_coop_tiles *t) {
  static const vk_coop_tiles options[] = {{0, 128, 128, 32, 8, 2}, {0, 64, 64, 32, 4, 2}};
  char why[160];
  for (size_t i = 0; i < sizeof options / sizeof *options; i++) {
    vk_coop_tiles o = options[i];
    if (tiles_fit(vk, &o, why, sizeof why)) {
      *t = o;
      return 1;
    }
  }
  return 0;
}

/* Builds the coop GEMM when device creation enabled it; any failure leaves F16
 * matmuls on the plain GEMM and says why in coop_note. */
vg_status vk_coop_create_pipeline(vk_backend *vk) {
  if (!vk->coop)
    return VG_OK;
  vk_coop_tiles *t = &vk->coop_tiles;
  const vg_vk_coop_shape *s = &vk->coop_caps.shape;
  char asked[256] = "", why[160];
  const int custom = vk->coop_tiles_spec[0] != 0;
  if (custom && !vk_coop_parse_tiles(vk, vk->coop_tiles_spec, t, why, sizeof why))
    snprintf(asked, sizeof asked, "tiling '%s' refused: %s; ", vk->coop_tiles_spec, why);
  else if (custom)
    snprintf(asked, sizeof asked, "tiling %s asked; ", vk->coop_tiles_spec);
  if ((!custom || strstr(asked, "refused")) && !vk_coop_pick_tiles(vk, t)) {
    vk->coop = 0;
    snprintf(vk->coop_note, sizeof vk->coop_note,
             "%sno tiling fits the workgroup and shared-memory limits", asked);
    return VG_OK;
  }
  const int emulate = vk->coop_emulate.m != 0, khr = vk->coop_caps.api == VK_COOP_KHR;
  vk->coop_kernel = emulate ? VK_K_MATMUL_COOP_EMU : khr ? VK_K_MATMUL_COOP_KHR : VK_K_MATMUL_COOP;
  if (vk_kernel_create(vk, vk->coop_kernel, NULL, &vk->pipelines[vk->coop_kernel]) != VG_OK) {
    vk->coop = 0;
    snprintf(vk->coop_note, sizeof vk->coop_note, "the coop pipeline failed: %s", vg_last_error());
    return VG_OK;
  }
  snprintf(vk->coop_note, sizeof vk->coop_note, "%s%s%ux%ux%u fragments, %ux%u tiles", asked,
           emulate ? "emulated "
           : khr   ? "VK_KHR_cooperative_matrix, "
                   : "VK_NV_cooperative_matrix, ",
           s->m, s->n, s->k, t->bm, t->bn);
  return VG_OK;
}
