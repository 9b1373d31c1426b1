/* Internals of the Vulkan backend, shared by its source files (not installed).
 *
 * vk_context.c  instance, device, device list
 * vk_coop.c     cooperative matrices: what a device offers, tiles for the coop GEMM
 * vk_kernels.c  the kernel table (types in vk_kernels.h): each pipeline's shader, bindings,
 *               push constants, specialisation and write flags; building and destroying them
 * vk_alloc.c    buffers, and the block sub-allocator they are bound in
 * vk_memory.c   tensors, upload/download, buffers released once the batch is done
 * vk_cache.c    the on-disk pipeline cache
 * vk_fault.c    fault injection (VIGIL_VK_FAULT)
 * vk_limits.c   the storage-buffer and memory limits a model must fit
 * vk_record.c   the command buffer: hazards, barriers, dispatches, flush
 * vk_transfer.c several downloads behind one wait
 * vk_profile.c  per-op device timestamps (bench --profile)
 * vk_ops.c      the backend operations of the encoder
 * vk_score_ops.c the scoring operations (upsampling, softmax pick, row means, min-distance)
 * vg_vulkan.c   backend construction and the ops table
 *
 * Calls go one way: a file calls only files on the lines below its own, so no
 * two files call each other (shared primitives sit low, hooks report instead
 * of calling back):
 *   vg_vulkan.c
 *   vk_ops.c  vk_score_ops.c  vk_transfer.c
 *   vk_memory.c
 *   vk_record.c
 *   vk_profile.c  vk_limits.c
 *   vk_alloc.c
 *   vk_context.c
 *   vk_coop.c
 *   vk_kernels.c
 *   vk_cache.c
 *   vk_fault.c */
#pragma once

#include <stdint.h>
#include <vulkan/vulkan.h>

#include "vg_vulkan.h"
#include "vk_kernels.h"

#define VK_TRY(call, what)                                                                         \
  do {                                                                                             \
    VkResult r_ = (call);                                                                          \
    if (r_ != VK_SUCCESS)                                                                          \
      return vg_fail(VG_ERR_DEVICE, "%s failed (%s, %d)", what, vk_result_name(r_), (int)r_);      \
  } while (0)

#define VG_TRY(call)                                                                               \
  do {                                                                                             \
    vg_status s_ = (call);                                                                         \
    if (s_ != VG_OK)                                                                               \
      return s_;                                                                                   \
  } while (0)

#define VK_MAX_BINDINGS 4
#define VK_MAX_SPEC 10
#define VK_ATTN_CACHE 8
#define VK_QUERIES 1024   /* profiling timestamps per command buffer, the begin one included */
#define VK_DESC_SETS 1024 /* a ViT-L/14 forward (~300 dispatches) fits one submission */

/* A built row of the kernel table. */
typedef struct vk_pipeline {
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout layout;
  VkPipeline pipeline;
  const vk_kernel *kernel; /* its bindings, write flags and push size */
} vk_pipeline;

typedef struct vk_block vk_block; /* one VkDeviceMemory, private to vk_alloc.c */

typedef struct vk_buffer {
  VkBuffer buffer;
  vk_block *block;           /* the memory the buffer is bound in */
  VkDeviceSize offset, span; /* where in the block, and the bytes reserved there */
  VkDeviceSize size;
  void *mapped; /* NULL for device-local memory, reached through staging copies */
  /* Hazard tracking: the barrier epoch of the last read and write recorded,
   * and the batch that last used the buffer (still pending when == vk->batch). */
  uint64_t read_epoch, write_epoch, batch;
} vk_buffer;

typedef struct vk_attention_pipeline {
  uint32_t head_dim, lanes;
  vk_pipeline pl;
} vk_attention_pipeline;

typedef struct vk_allocator {
  vk_block *blocks;       /* live VkDeviceMemory objects, a list */
  VkDeviceSize max_block; /* the largest shared block; bigger buffers get their own */
  VkDeviceSize max_alloc; /* maxMemoryAllocationSize */
  uint32_t allocations, peak_allocations, dedicated, buffers;
  uint64_t total_allocations, allocated_bytes, used_bytes;
  VkDeviceSize staging_pending; /* staging bytes waiting for the batch to finish */
} vk_allocator;

typedef enum {
  VK_FAULT_NONE,
  VK_FAULT_ALLOC,
  VK_FAULT_PIPELINE,
  VK_FAULT_LOST,
  VK_FAULT_MEM
} vk_fault_kind;

typedef struct vk_fault {
  vk_fault_kind kind;
  uint64_t after; /* calls that succeed before the fault; for MEM, the bytes the device has */
  uint64_t calls;
  int fired;     /* later calls of the kind fail too: a lost device stays lost */
  uint64_t peak; /* MEM: the most bytes bound at once */
} vk_fault;
/* Cooperative matrices of one device (VK_NV_cooperative_matrix). */
/* VK_KHR_cooperative_matrix, declared here: Debian 12's Vulkan headers
 * (1.3.239) predate it. Values from the Vulkan registry. */
#define VG_KHR_COOP_EXTENSION_NAME "VK_KHR_cooperative_matrix"
#define VG_STYPE_COOP_FEATURES_KHR ((VkStructureType)1000506000)
#define VG_STYPE_COOP_PROPERTIES_KHR ((VkStructureType)1000506001)
#define VG_STYPE_COOP_DEVICE_PROPERTIES_KHR ((VkStructureType)1000506002)
typedef struct vg_coop_features_khr {
  VkStructureType sType;
  void *pNext;
  VkBool32 cooperativeMatrix, cooperativeMatrixRobustBufferAccess;
} vg_coop_features_khr;
typedef struct vg_coop_properties_khr {
  VkStructureType sType;
  void *pNext;
  uint32_t MSize, NSize, KSize;
  uint32_t AType, BType, CType, ResultType; /* VkComponentTypeKHR: F16 0, F32 1 */
  VkBool32 saturatingAccumulation;
  uint32_t scope; /* VkScopeKHR: subgroup 3 */
} vg_coop_properties_khr;
typedef struct vg_coop_device_properties_khr {
  VkStructureType sType;
  void *pNext;
  VkShaderStageFlags cooperativeMatrixSupportedStages;
} vg_coop_device_properties_khr;
typedef VkResult(VKAPI_PTR *vg_get_coop_properties_khr)(VkPhysicalDevice, uint32_t *,
                                                        vg_coop_properties_khr *);

/* Which extension the coop GEMM runs through. */
typedef enum vk_coop_api { VK_COOP_NONE, VK_COOP_NV, VK_COOP_KHR } vk_coop_api;

typedef struct vk_coop_caps {
  int nv, khr;         /* the extensions the driver lists */
  vk_coop_api api;     /* when usable: the one the GEMM uses */
  int usable;          /* the coop GEMM can run: extensions, features, stage, shape */
  const char *why_not; /* when not usable: the first thing missing */
  uint32_t subgroup_size;
  uint32_t n_shapes; /* F16 x F16 -> F32 subgroup-scope shapes, the driver's order */
  vg_vk_coop_shape shapes[VG_VK_MAX_COOP_SHAPES];
  vg_vk_coop_shape shape; /* the one the GEMM uses */
} vk_coop_caps;

/* The emulated coop shader's "subgroup" (its spec constant 9). */
#define VK_COOP_EMU_LANES 32

/* The coop GEMM's tiling (spec constants 0-8 of shaders/matmul_coop.comp). */
typedef struct vk_coop_tiles {
  uint32_t threads, bm, bn, bk, subgroups, wn;
} vk_coop_tiles;

typedef struct vk_backend {
  vg_backend base;
  VkInstance instance;
  VkDebugUtilsMessengerEXT messenger;
  VkPhysicalDevice physical;
  VkPhysicalDeviceProperties props;
  VkPhysicalDeviceMemoryProperties mem_props;
  /* Queried once at device creation (zero before Vulkan 1.1): the coop GEMM
   * and the attention layout depend on them. */
  VkPhysicalDeviceSubgroupProperties subgroup;
  VkDevice device;
  VkQueue queue;
  uint32_t queue_family;
  VkCommandPool cmd_pool;
  VkCommandBuffer cmd;
  VkFence fence;
  VkDescriptorPool desc_pool;
  int validation_messages;
  int storage16;    /* storageBuffer16BitAccess enabled: F16 weights read natively */
  int device_local; /* tensors in device-local memory, staged through host buffers */
  uint32_t threads; /* workgroup size of the 1-D kernels (a power of two) */
  /* Recording state: ops are recorded into `cmd` and submitted by vk_flush. */
  int recording;
  uint32_t sets_used;
  uint64_t epoch, batch;
  vk_buffer **garbage; /* buffers to free once the pending batch has finished */
  size_t garbage_len, garbage_cap;
  /* The kernel table's pipelines built at start-up and the coop GEMM's; the
   * attention rows live in `attention` instead, one per head size. */
  vk_pipeline pipelines[VK_KERNELS];
  uint32_t tile_m, tile_n; /* the GEMM's output tile */
  /* Cooperative matrices: caps found at device creation; `coop` when F16
   * matmuls use matmul_coop, else `coop_note` says why not. */
  vk_coop_caps coop_caps;
  vg_vk_coop_shape coop_emulate; /* tests: the emulated shader, this shape (m != 0) */
  int coop;
  char coop_note[384];
  vk_coop_tiles coop_tiles;
  char coop_tiles_spec[48]; /* VIGIL_VK_COOP_TILES or the option; "" = pick */
  vk_kernel_id coop_kernel; /* when `coop`: the variant built (NV, KHR or emulated) */
  vk_attention_pipeline attention[VK_ATTN_CACHE];
  /* Attention layout: query rows per workgroup and invocations per row
   * (lanes > 1 uses the subgroup-shuffle variant); attn_note says which. */
  uint32_t attn_rows, attn_lanes;
  char attn_note[96];
  /* Scoring (vk_score_ops.c). */
  uint32_t min_tile;      /* min_distance's query and bank tile */
  vk_buffer *min_scratch; /* its per-chunk partial minima */
  vk_allocator mem;
  vk_fault fault;
  uint64_t max_buffer;    /* bytes one shader binding may span (maxStorageBufferRange) */
  uint64_t max_device;    /* bytes of the heap tensors live in */
  VkPipelineCache pcache; /* VK_NULL_HANDLE without the disk cache */
  char *pcache_path;      /* where it is saved */
  char pcache_state[256]; /* what happened to the file at start-up */
  size_t pcache_loaded;   /* bytes of cache data loaded at start-up */
  size_t pcache_synced;   /* bytes the file holds now */
  uint64_t pcache_hash;   /* of what the file holds: unchanged data is not rewritten */
  /* Profiling (vk_profile.c). */
  vg_profile *prof;
  VkQueryPool query_pool;
  uint32_t ts_bits, queries;
  uint8_t query_kind[VK_QUERIES]; /* the op kind of each timestamp */
} vk_backend;

/* vk_context.c */
vg_status vk_create_instance(vk_backend *vk, int validation, int sync_validation);
vg_status vk_pick_device(vk_backend *vk, const char *choice);
vg_status vk_create_device(vk_backend *vk, int allow_storage16, int allow_coop);

/* vk_kernels.c */
/* Sets the workgroup sizes and builds the kernels start-up builds on this device. */
vg_status vk_kernels_create(vk_backend *vk);
/* Builds row `id` of the table into `pl` (args: for on-use kernels, else
 * NULL); on failure `pl` is left empty. */
vg_status vk_kernel_create(vk_backend *vk, vk_kernel_id id, const vk_spec_args *args,
                           vk_pipeline *pl);
void vk_destroy_pipeline(vk_backend *vk, vk_pipeline *pl);
/* Destroys every pipeline built from the table, attention included. */
void vk_kernels_destroy(vk_backend *vk);

/* vk_alloc.c */
vg_status vk_memory_init(vk_backend *vk);
VkDeviceSize vk_tensor_heap_bytes(const vk_backend *vk);
vg_status vk_buffer_new(vk_backend *vk, VkDeviceSize bytes, int host_visible, vk_buffer **out);
void vk_buffer_free(vk_backend *vk, vk_buffer *buf);
/* After a submission: frees the buffers whose release waited for it. */
void vk_free_garbage(vk_backend *vk);

/* vk_cache.c */
void vk_pipeline_cache_open(vk_backend *vk, int disabled);
void vk_pipeline_cache_close(vk_backend *vk);

/* vk_fault.c */
vg_status vk_fault_init(vk_backend *vk);
VkResult vk_fault_check(vk_backend *vk, vk_fault_kind kind);
/* MEM: whether binding `bytes` more stays within the injected budget. */
VkResult vk_fault_bind(vk_backend *vk, VkDeviceSize bytes);
void vk_fault_report(const vk_backend *vk);
const char *vk_result_name(VkResult r);

/* vk_limits.c */
void vk_limits_init(vk_backend *vk, uint64_t max_buffer, uint64_t max_memory);
vg_status vk_check_plan(vg_backend *be, const vg_tensor_plan *plan, size_t n);
vg_status vk_check_bindable(vk_backend *vk, vk_buffer *const *bufs, uint32_t n);
/* vk_coop.c */
typedef struct vk_coop_chain {
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coop;
  vg_coop_features_khr coop_khr;
  VkPhysicalDeviceShaderFloat16Int8FeaturesKHR f16;
  VkPhysicalDeviceVulkanMemoryModelFeaturesKHR vmm;
} vk_coop_chain;

void vk_coop_query(VkInstance instance, VkPhysicalDevice dev, const VkPhysicalDeviceProperties *p,
                   const VkPhysicalDeviceSubgroupProperties *sg, vk_coop_caps *caps);
/* Sets vk->coop (and coop_note when off) once the device is picked and
 * vk->storage16 decided. */
void vk_coop_decide(vk_backend *vk, int allow);
/* Fills `c` with the features the coop GEMM needs, chained in front of
 * `next`, and appends its extensions to exts[*n_exts]; returns the chain head. */
void *vk_coop_enable(const vk_backend *vk, vk_coop_chain *c, void *next, const char **exts,
                     uint32_t *n_exts);
vg_status vk_coop_create_pipeline(vk_backend *vk);

/* vk_memory.c */
vg_status vk_buffer_release_later(vk_backend *vk, vk_buffer *buf);
vg_status vk_tensor_alloc(vg_backend *be, vg_tensor *t);
void vk_tensor_release(vg_backend *be, vg_tensor *t);
vg_status vk_upload(vg_backend *be, vg_tensor *t, const void *src);
vg_status vk_download(vg_backend *be, const vg_tensor *t, void *dst);

/* The buffer behind a Vulkan tensor. */
static inline vk_buffer *vk_buf_of(const vg_tensor *t) {
  return t->priv;
}

/* vk_record.c */
/* Workgroups for a grid-stride loop over n items (or rows), capped at the
 * device's limit (the shaders loop over the rest). */
uint32_t vk_groups_for(const vk_backend *vk, uint64_t n, uint32_t per_group);
/* Records one dispatch of `pl`: bufs[i] at binding i, as many as its kernel
 * binds; `push` is the kernel's vk_push_* struct, push_bytes its sizeof. */
vg_status vk_dispatch(vk_backend *vk, const vk_pipeline *pl, vk_buffer *const *bufs,
                      const void *push, size_t push_bytes, uint32_t gx, uint32_t gy);
vg_status vk_copy(vk_backend *vk, vk_buffer *src, VkDeviceSize src_off, vk_buffer *dst,
                  VkDeviceSize dst_off, VkDeviceSize bytes);
vg_status vk_flush(vk_backend *vk);
int vk_pending(const vk_backend *vk, const vk_buffer *buf);
/* vk_dispatch over a 3-D grid of workgroups. */
vg_status vk_dispatch3(vk_backend *vk, const vk_pipeline *pl, vk_buffer *const *bufs,
                       const void *push, size_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz);

/* vk_transfer.c */
vg_status vk_download_many(vg_backend *be, int n, const vg_tensor *const *t, void *const *dst);

/* vk_profile.c: hooks vk_record.c calls while recording; it calls nothing back. */
/* Starts (or, p NULL, stops) profiling; the caller has flushed the batch before. */
vg_status vk_profile_start(vk_backend *vk, vg_profile *p);
void vk_profile_begin_cmd(vk_backend *vk);
/* Whether the timestamps are used up: the batch must be submitted first. */
int vk_profile_full(const vk_backend *vk);
void vk_profile_mark(vk_backend *vk);
vg_status vk_profile_collect(vk_backend *vk);
void vk_profile_destroy(vk_backend *vk);

/* vk_ops.c */
vg_status vk_matmul(vg_backend *be, vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                    const vg_tensor *bias);
vg_status vk_layer_norm(vg_backend *be, vg_tensor *out, const vg_tensor *x, const vg_tensor *gamma,
                        const vg_tensor *beta, float eps);
vg_status vk_activation(vg_backend *be, vg_tensor *x, vg_activation act, float alpha);
vg_status vk_patch_rows(vg_backend *be, vg_tensor *out, const vg_tensor *images, int side,
                        int patch);
vg_status vk_add_scaled(vg_backend *be, vg_tensor *out, const vg_tensor *a, float alpha,
                        const vg_tensor *b, float beta);
vg_status vk_attention(vg_backend *be, vg_tensor *out, const vg_tensor *qkv, int heads, int causal,
                       int seqs);
vg_status vk_copy_rows(vg_backend *be, vg_tensor *dst, int64_t dst_row, const vg_tensor *src,
                       int64_t src_row, int64_t rows);
vg_status vk_l2_normalize(vg_backend *be, vg_tensor *out, const vg_tensor *x, float eps);
vg_status vk_pick_attention(vk_backend *vk, const char *spec);

/* vk_score_ops.c */
vg_status vk_upsample(vg_backend *be, vg_tensor *out, const vg_tensor *x, int in_h, int in_w,
                      int out_h, int out_w);
vg_status vk_softmax_pick(vg_backend *be, vg_tensor *out, const vg_tensor *x, int pick);
vg_status vk_row_mean(vg_backend *be, vg_tensor *out, const vg_tensor *x);
vg_status vk_min_distance(vg_backend *be, vg_tensor *out, const vg_tensor *q, const vg_tensor *bank,
                          int64_t bank_rows);
