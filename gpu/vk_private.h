/* Internals of the Vulkan backend, shared by its source files (not installed).
 *
 * vk_context.c  instance, device, pipelines, device list
 * vk_memory.c   buffers, tensors, upload/download
 * vk_record.c   the command buffer: hazards, barriers, dispatches, flush
 * vk_ops.c      the backend operations
 * vg_vulkan.c   backend construction and the ops table */
#pragma once

#include <stdint.h>
#include <vulkan/vulkan.h>

#include "vg_vulkan.h"

#define VK_TRY(call, what)                                                                         \
  do {                                                                                             \
    VkResult r_ = (call);                                                                          \
    if (r_ != VK_SUCCESS)                                                                          \
      return vg_fail(VG_ERR_DEVICE, "%s failed (VkResult %d)", what, (int)r_);                     \
  } while (0)

#define VG_TRY(call)                                                                               \
  do {                                                                                             \
    vg_status s_ = (call);                                                                         \
    if (s_ != VG_OK)                                                                               \
      return s_;                                                                                   \
  } while (0)

#define VK_MAX_BINDINGS 4
#define VK_MAX_SPEC 6
#define VK_ATTN_CACHE 8
#define VK_QUERIES 1024   /* profiling timestamps per command buffer, the begin one included */
#define VK_DESC_SETS 1024 /* a ViT-L/14 forward (~300 dispatches) fits one submission */

typedef struct vk_pipeline {
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout layout;
  VkPipeline pipeline;
  uint32_t bindings;
  uint32_t push_bytes;
  uint32_t spec[VK_MAX_SPEC]; /* spec[0] is the workgroup size */
} vk_pipeline;

typedef struct vk_buffer {
  VkBuffer buffer;
  VkDeviceMemory memory;
  VkDeviceSize size;
  void *mapped; /* NULL for device-local memory, reached through staging copies */
  /* Hazard tracking: the barrier epoch of the last read and write recorded,
   * and the batch that last used the buffer (still pending when == vk->batch). */
  uint64_t read_epoch, write_epoch, batch;
} vk_buffer;

typedef struct vk_attention_pipeline {
  uint32_t head_dim;
  vk_pipeline pl;
} vk_attention_pipeline;

typedef struct vk_backend {
  vg_backend base;
  VkInstance instance;
  VkDebugUtilsMessengerEXT messenger;
  VkPhysicalDevice physical;
  VkPhysicalDeviceProperties props;
  VkPhysicalDeviceMemoryProperties mem_props;
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
  vk_pipeline add_scaled, matmul_f32, matmul_f16, layer_norm, activation, l2_normalize;
  uint32_t tile_m, tile_n; /* the GEMM's output tile */
  vk_attention_pipeline attention[VK_ATTN_CACHE];
  /* Scoring (vk_score_ops.c). */
  vk_pipeline upsample, softmax_pick, row_mean, min_distance, min_reduce;
  uint32_t min_tile;      /* min_distance's query and bank tile */
  vk_buffer *min_scratch; /* its per-chunk partial minima */
  /* Profiling (vk_profile.c). */
  vg_profile *prof;
  VkQueryPool query_pool;
  uint32_t ts_bits, queries;
  uint8_t query_kind[VK_QUERIES]; /* the op kind of each timestamp */
} vk_backend;

/* vk_context.c */
vg_status vk_create_instance(vk_backend *vk, int validation, int sync_validation);
vg_status vk_pick_device(vk_backend *vk, const char *choice);
vg_status vk_create_device(vk_backend *vk, int allow_storage16);
vg_status vk_create_pipeline(vk_backend *vk, vk_pipeline *pl, const uint32_t *spv, size_t spv_bytes,
                             uint32_t bindings, uint32_t push_bytes, const uint32_t *spec,
                             uint32_t nspec);
void vk_destroy_pipeline(vk_backend *vk, vk_pipeline *pl);

/* vk_memory.c */
vg_status vk_buffer_new(vk_backend *vk, VkDeviceSize bytes, int host_visible, vk_buffer **out);
void vk_buffer_free(vk_backend *vk, vk_buffer *buf);
vg_status vk_buffer_release_later(vk_backend *vk, vk_buffer *buf);
void vk_free_garbage(vk_backend *vk);
vg_status vk_tensor_alloc(vg_backend *be, vg_tensor *t);
void vk_tensor_release(vg_backend *be, vg_tensor *t);
vg_status vk_upload(vg_backend *be, vg_tensor *t, const void *src);
vg_status vk_download(vg_backend *be, const vg_tensor *t, void *dst);

/* vk_record.c */
vg_status vk_begin(vk_backend *vk);
vg_status vk_access(vk_backend *vk, vk_buffer *const *reads, uint32_t nr, vk_buffer *const *writes,
                    uint32_t nw);
vg_status vk_dispatch(vk_backend *vk, const vk_pipeline *pl, vk_buffer *const *bufs, uint32_t n,
                      uint32_t writes_mask, const void *push, uint32_t gx, uint32_t gy);
vg_status vk_copy(vk_backend *vk, vk_buffer *src, VkDeviceSize src_off, vk_buffer *dst,
                  VkDeviceSize dst_off, VkDeviceSize bytes);
vg_status vk_flush(vk_backend *vk);
int vk_pending(const vk_backend *vk, const vk_buffer *buf);
/* vk_dispatch over a 3-D grid of workgroups. */
vg_status vk_dispatch3(vk_backend *vk, const vk_pipeline *pl, vk_buffer *const *bufs, uint32_t n,
                       uint32_t writes_mask, const void *push, uint32_t gx, uint32_t gy,
                       uint32_t gz);

/* vk_transfer.c */
vg_status vk_download_many(vg_backend *be, int n, const vg_tensor *const *t, void *const *dst);

/* vk_profile.c */
vg_status vk_profile_set(vg_backend *be, vg_profile *p);
void vk_profile_begin_cmd(vk_backend *vk);
vg_status vk_profile_reserve(vk_backend *vk);
void vk_profile_mark(vk_backend *vk);
vg_status vk_profile_collect(vk_backend *vk);
void vk_profile_destroy(vk_backend *vk);

/* vk_ops.c */
vg_status vk_matmul(vg_backend *be, vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                    const vg_tensor *bias);
vg_status vk_layer_norm(vg_backend *be, vg_tensor *out, const vg_tensor *x, const vg_tensor *gamma,
                        const vg_tensor *beta, float eps);
vg_status vk_activation(vg_backend *be, vg_tensor *x, vg_activation act, float alpha);
vg_status vk_add_scaled(vg_backend *be, vg_tensor *out, const vg_tensor *a, float alpha,
                        const vg_tensor *b, float beta);
vg_status vk_attention(vg_backend *be, vg_tensor *out, const vg_tensor *qkv, int heads, int causal,
                       int seqs);
vg_status vk_copy_rows(vg_backend *be, vg_tensor *dst, int64_t dst_row, const vg_tensor *src,
                       int64_t src_row, int64_t rows);
vg_status vk_l2_normalize(vg_backend *be, vg_tensor *out, const vg_tensor *x, float eps);
vg_status vk_create_op_pipelines(vk_backend *vk);
void vk_destroy_op_pipelines(vk_backend *vk);

/* vk_score_ops.c */
vg_status vk_upsample(vg_backend *be, vg_tensor *out, const vg_tensor *x, int in_h, int in_w,
                      int out_h, int out_w);
vg_status vk_softmax_pick(vg_backend *be, vg_tensor *out, const vg_tensor *x, int pick);
vg_status vk_row_mean(vg_backend *be, vg_tensor *out, const vg_tensor *x);
vg_status vk_min_distance(vg_backend *be, vg_tensor *out, const vg_tensor *q, const vg_tensor *bank,
                          int64_t bank_rows);
vg_status vk_create_score_pipelines(vk_backend *vk);
void vk_destroy_score_pipelines(vk_backend *vk);
