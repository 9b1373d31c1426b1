/* The Vulkan backend of the engine's backend interface. */
#pragma once

#include <stdint.h>

#include "vg_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A cooperative-matrix fragment shape: M x N x K. */
typedef struct vg_vk_coop_shape {
  uint32_t m, n, k;
} vg_vk_coop_shape;

typedef struct vg_vk_options {
  /* Enable VK_LAYER_KHRONOS_validation and count every message it reports. */
  int validation;
  /* With validation: also the layer's synchronization validation, which
   * reports missing barriers between dependent commands. */
  int sync_validation;
  /* Which device: NULL picks the best (discrete > integrated > virtual > CPU);
   * otherwise an index from vg_vk_list_devices or a substring of the name.
   * The VIGIL_VK_DEVICE environment variable is used when this is NULL. */
  const char *device;
  /* Keep tensors in device-local memory behind staging copies even on UMA and
   * CPU devices (discrete GPUs always do); lets tests cover that path. */
  int staging;
  /* Leave 16-bit storage off even where the device has it, so F16 weights are
   * read as packed 32-bit words as on devices without it (for tests). */
  int no_16bit_storage;
  /* Lower limits than the device's, to test what happens on smaller devices:
   * bytes one kernel binding may span (maxStorageBufferRange) and bytes of
   * the memory heap tensors live in. 0 = the device's own (or the
   * VIGIL_VK_MAX_BUFFER / VIGIL_VK_MAX_MEMORY environment variables). */
  uint64_t max_buffer_bytes;
  uint64_t max_memory_bytes;
  /* Do not load or save the pipeline cache in $XDG_CACHE_HOME/vigil/
   * vulkan-pipelines (also VIGIL_VK_PIPELINE_CACHE=0). */
  int no_pipeline_cache;
  /* Never run matmuls on cooperative matrices (also VIGIL_VK_NO_COOPMAT=1). */
  int no_coopmat;
  /* Tests only, where m != 0: run F16 matmuls through the coop GEMM's tiling
   * with its matrix ops emulated in plain GLSL (any device with shaderFloat16),
   * using this fragment shape (sides 8, 16 or 32). */
  vg_vk_coop_shape coop_emulate;
  /* The coop GEMM's tiling, "BMxBNxBK/SG/WN" (e.g. "128x128x32/8/2": a BM x BN
   * output tile, K slices of BK, SG subgroups of which WN along N), for
   * tuning on a new GPU; NULL = VIGIL_VK_COOP_TILES, else picked from the
   * device's limits. A tiling that does not fit is refused (coop_note says
   * why) and the picked one is used. */
  const char *coop_tiles;
  /* The attention layout, "ROWSxLANES": query rows per workgroup and
   * invocations sharing a row (1, 2, 4 or 8; more than 1 splits a row's
   * channels over a subgroup's lanes). NULL = VIGIL_VK_ATTN, else 16x4 on GPUs
   * whose subgroups shuffle and 64x1 on CPU devices such as lavapipe (where
   * the split runs no faster and its first compile takes about a minute). A
   * layout the device cannot run fails the backend with the reason. */
  const char *attention;
} vg_vk_options;

#define VG_VK_MAX_COOP_SHAPES 8

#define VG_VK_RANK_MIN_GPU 2 /* vg_vk_device_info.rank from here up: a GPU */

typedef struct vg_vk_device_info {
  char name[256];
  const char *type; /* "discrete", "integrated", "virtual", "cpu", "other" */
  /* The order a NULL device choice follows: discrete 4, integrated 3,
   * virtual 2 (VG_VK_RANK_MIN_GPU), CPU (lavapipe) 1, other 0. */
  int rank;
  uint32_t api_version;
  uint64_t max_storage_buffer_range;
  uint64_t device_local_bytes;
  int float16; /* shaderFloat16 and 16-bit storage buffers */
  /* Vigil's coop GEMM can run here (VK_NV_cooperative_matrix with an F16 x F16
   * -> F32 subgroup shape and the features its shader needs); if not, why. */
  int cooperative_matrix;
  const char *coop_why_not;
  int coop_nv, coop_khr; /* VK_NV_ / VK_KHR_cooperative_matrix listed by the driver */
  const char *coop_api;  /* the extension the GEMM would use, or NULL (VIGIL_VK_COOP=nv|khr) */
  /* The F16 x F16 -> F32 subgroup shapes (M x N x K) of coop_api's extension, or
   * of the last one tried. */
  int n_coop_shapes;
  vg_vk_coop_shape coop_shapes[VG_VK_MAX_COOP_SHAPES];
} vg_vk_device_info;

/* Fills up to `max` entries; returns how many devices exist, or -1 (message
 * in vg_last_error) when there is no Vulkan at all. */
int vg_vk_list_devices(vg_vk_device_info *out, int max);

/* NULL on failure, with the reason in vg_last_error(). */
vg_backend *vg_vulkan_backend_new(const vg_vk_options *options);

/* Whether matmuls with F16 weights run on cooperative matrices. `why` (may
 * be NULL) gets the fragment shape and tiles ("16x16x16 fragments, 128x128
 * tiles") when they do, or the reason they do not. */
int vg_vulkan_coopmat(const vg_backend *be, const char **why);

/* The attention layout in words ("attention: 16 query rows x 4 lanes ..."). */
const char *vg_vulkan_attention_layout(const vg_backend *be);

/* Messages the validation layer has reported so far (0 without validation). */
int vg_vulkan_validation_messages(const vg_backend *be);

typedef struct vg_vk_memory_stats {
  uint32_t allocations;       /* live VkDeviceMemory objects */
  uint32_t peak_allocations;  /* the most that were live at once */
  uint32_t dedicated;         /* live ones holding one large buffer alone */
  uint32_t buffers;           /* live buffers bound in them */
  uint64_t total_allocations; /* vkAllocateMemory calls so far */
  uint64_t allocated_bytes;   /* in live VkDeviceMemory objects */
  uint64_t used_bytes;        /* bound to live buffers */
  uint64_t max_block_bytes;   /* the largest shared block */
} vg_vk_memory_stats;

/* 1 and *out filled for a Vulkan backend, else 0. */
int vg_vulkan_memory_stats(const vg_backend *be, vg_vk_memory_stats *out);

typedef struct vg_vk_pipeline_cache_info {
  const char *path;    /* the cache file, NULL when the cache is off */
  const char *state;   /* "disabled", "absent", "loaded", or "ignored: <why>" */
  size_t loaded_bytes; /* cache data handed to the driver at start-up */
} vg_vk_pipeline_cache_info;

/* 1 and *out filled (valid while the backend lives) for a Vulkan backend. */
int vg_vulkan_pipeline_cache_info(const vg_backend *be, vg_vk_pipeline_cache_info *out);

#ifdef __cplusplus
}
#endif
