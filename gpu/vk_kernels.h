/* The kernel table's types (vk_kernels.c holds the table): every compute
 * pipeline of the backend is one row naming its SPIR-V, the storage buffers it
 * binds, its push-constant struct, its specialisation constants and which
 * bindings it writes, as ggml's Vulkan backend describes its shaders. A
 * dispatch then passes only buffers, push constants and a grid. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct vk_backend;

/* Push-constant blocks, field for field the `Params` block of their shaders
 * (4-byte scalars, so C and std430 agree without padding). The table records
 * their sizes with sizeof, and vk_dispatch checks the struct it is handed. */
typedef struct vk_push_matmul { /* matmul.comp, matmul_coop.comp */
  uint32_t m, n, k, has_bias;
} vk_push_matmul;
typedef struct vk_push_norm { /* layer_norm.comp, l2_normalize.comp */
  uint32_t rows, cols;
  float eps;
} vk_push_norm;
typedef struct vk_push_activation {
  uint32_t n, act;
  float alpha;
} vk_push_activation;
typedef struct vk_push_add_scaled {
  uint32_t n;
  float alpha, beta;
} vk_push_add_scaled;
typedef struct vk_push_attention {
  uint32_t t, d, causal; /* t: rows per sequence */
  float scale;
} vk_push_attention;
typedef struct vk_push_patch_rows {
  uint32_t total, side, patch, grid;
} vk_push_patch_rows;
typedef struct vk_push_upsample {
  uint32_t planes, in_h, in_w, out_h, out_w;
  float scale_h, scale_w;
} vk_push_upsample;
typedef struct vk_push_softmax_pick {
  uint32_t k, n, pick;
} vk_push_softmax_pick;
typedef struct vk_push_row_mean {
  uint32_t rows, cols;
} vk_push_row_mean;
typedef struct vk_push_min_distance {
  uint32_t m, n, k, chunk_rows;
} vk_push_min_distance;
typedef struct vk_push_min_reduce {
  uint32_t m, chunks;
} vk_push_min_reduce;

/* Named write flags: the bindings a kernel writes; it only reads the others.
 * vk_record.c's hazard tracking puts barriers by them. */
enum {
  VK_WRITES_0 = 1u << 0,
  VK_WRITES_1 = 1u << 1,
  VK_WRITES_2 = 1u << 2,
  VK_WRITES_3 = 1u << 3,
};

/* The rows of the table, in the order start-up builds them (VIGIL_VK_FAULT=
 * pipeline:N counts pipeline creations, so the order is kept). */
typedef enum vk_kernel_id {
  VK_K_ADD_SCALED,
  VK_K_ACTIVATION,
  VK_K_LAYER_NORM,
  VK_K_L2_NORMALIZE,
  VK_K_PATCH_ROWS,
  VK_K_MATMUL_F32,
  VK_K_MATMUL_F16,        /* F16 weights read through 16-bit storage */
  VK_K_MATMUL_F16_PACKED, /* the same, read as 32-bit words where that is off */
  VK_K_UPSAMPLE,
  VK_K_SOFTMAX_PICK,
  VK_K_ROW_MEAN,
  VK_K_MIN_REDUCE,
  VK_K_MIN_DISTANCE,
  VK_K_MATMUL_COOP, /* the coop GEMM through VK_NV_cooperative_matrix */
  VK_K_MATMUL_COOP_KHR,
  VK_K_MATMUL_COOP_EMU, /* its emulation with shared memory (tests) */
  VK_K_ATTENTION,
  VK_K_ATTENTION_SPLIT, /* a row's channels over subgroup lanes */
  VK_KERNELS
} vk_kernel_id;

/* When a kernel's pipeline is built. */
typedef enum vk_build {
  VK_BUILD_START,        /* at start-up, on every device */
  VK_BUILD_STORAGE16,    /* at start-up, with 16-bit storage buffers */
  VK_BUILD_NO_STORAGE16, /* at start-up, without them */
  VK_BUILD_COOP,         /* by vk_coop.c, the variant the coop GEMM runs */
  VK_BUILD_ON_USE,       /* by vk_ops.c, one per head size on first use */
} vk_build;

/* What an on-use kernel is specialised for (attention: its head size, the
 * lanes per query row and the K/V rows a tile holds in shared memory). */
typedef struct vk_spec_args {
  uint32_t head_dim, lanes, kv_rows;
} vk_spec_args;

/* Fills a kernel's specialisation constants; the table says how many the
 * shader declares (constant_id 0 is the workgroup size). */
typedef void (*vk_spec_fn)(const struct vk_backend *vk, const vk_spec_args *args, uint32_t *spec);

typedef struct vk_kernel {
  const char *name;
  const uint32_t *spv; /* vg_spv_<name> from shaders/ */
  size_t spv_bytes;
  uint32_t bindings;   /* storage buffers, bound in order */
  uint32_t writes;     /* VK_WRITES_* */
  uint32_t push_bytes; /* sizeof its vk_push_* struct */
  uint32_t nspec;
  vk_spec_fn spec;
  vk_build build;
} vk_kernel;
