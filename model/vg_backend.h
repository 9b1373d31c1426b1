/* The backend interface: the few operations a CLIP/MVFA forward pass needs.
 *
 * The forward pass is written once over these calls; the CPU backend (model/)
 * and the Vulkan backend (gpu/) each implement them. Tensors are 2-D, row
 * major, and live wherever their backend keeps them. Every public call checks
 * shapes and dtypes here before reaching the backend, so a backend may assume
 * its arguments are consistent. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vg_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* VG_BF16 (bfloat16) matmul weights run on the CPU backend only, where the
 * CPU has AMX-BF16 or AVX512_BF16 and the build has oneDNN (vg_cpu.h). */
typedef enum vg_dtype { VG_F32, VG_F16, VG_BF16 } vg_dtype;

typedef enum vg_activation {
  VG_ACT_GELU,       /* exact: x * 0.5 * (1 + erf(x / sqrt 2)) */
  VG_ACT_QUICK_GELU, /* x * sigmoid(1.702 x), OpenAI CLIP's original */
  VG_ACT_LEAKY_RELU, /* x < 0 ? alpha x : x */
} vg_activation;

typedef struct vg_backend vg_backend;

/* What an op is, for the per-op profile. */
typedef enum vg_op_kind {
  VG_OP_OTHER,
  VG_OP_MATMUL,
  VG_OP_ATTENTION,
  VG_OP_LAYER_NORM,
  VG_OP_ACTIVATION,
  VG_OP_ADD,
  VG_OP_COPY,
  VG_OP_L2_NORMALIZE,
  VG_OP_SCORE, /* the scoring ops: upsample, softmax_pick, row_mean, min_distance */
  VG_OP_PATCH_ROWS,
  VG_OP_KINDS
} vg_op_kind;

typedef struct vg_op_stats {
  int64_t calls;
  double ms;    /* time attributed to these ops */
  double flops; /* multiply-adds x 2 (matmul, attention); 0 for the rest */
} vg_op_stats;

/* A per-op profile. Device backends time their commands with device
 * timestamps; the CPU backend with the wall clock around each call. */
typedef struct vg_profile {
  const char *clock;  /* "vulkan timestamps", "wall clock", or NULL: no timing */
  char note[256];     /* why there is no timing, or how it is attributed */
  int64_t dispatches; /* device commands recorded (0 on the CPU) */
  int64_t submits;    /* command buffers submitted (0 on the CPU) */
  vg_op_stats op[VG_OP_KINDS];
} vg_profile;

/* "matmul", "attention", "layer_norm", ... */
const char *vg_op_kind_name(vg_op_kind kind);

typedef struct vg_tensor {
  vg_backend *backend;
  vg_dtype dtype;
  int64_t rows, cols;
  void *host; /* host-visible data, or NULL where the backend keeps it elsewhere */
  void *priv; /* the backend's own handle */
} vg_tensor;

/* One tensor a model is about to put on a backend, for vg_backend_check_plan. */
typedef struct vg_tensor_plan {
  const char *name; /* for messages, e.g. the checkpoint key */
  vg_dtype dtype;
  int64_t rows, cols;
  int gather_only; /* only ever read by copy_rows (an embedding table), never bound to a kernel */
} vg_tensor_plan;

typedef struct vg_backend_ops {
  vg_status (*tensor_alloc)(vg_backend *be, vg_tensor *t);
  void (*tensor_release)(vg_backend *be, vg_tensor *t);
  vg_status (*upload)(vg_backend *be, vg_tensor *t, const void *src);
  vg_status (*download)(vg_backend *be, const vg_tensor *t, void *dst);
  /* Optional: n downloads at once (one device submission); NULL = one by one. */
  vg_status (*download_many)(vg_backend *be, int n, const vg_tensor *const *t, void *const *dst);
  /* out[M,N] = a[M,K] * w[N,K]^T (+ bias[1,N]) -- PyTorch's Linear layout. */
  vg_status (*matmul)(vg_backend *be, vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                      const vg_tensor *bias);
  /* out[M,N] = (x - mean) / sqrt(var + eps) * gamma + beta, per row. */
  vg_status (*layer_norm)(vg_backend *be, vg_tensor *out, const vg_tensor *x,
                          const vg_tensor *gamma, const vg_tensor *beta, float eps);
  /* x = act(x), in place; alpha is LeakyReLU's negative slope. */
  vg_status (*activation)(vg_backend *be, vg_tensor *x, vg_activation act, float alpha);
  /* out = alpha * a + beta * b; out may alias a or b. */
  vg_status (*add_scaled)(vg_backend *be, vg_tensor *out, const vg_tensor *a, float alpha,
                          const vg_tensor *b, float beta);
  /* out[S*T,D] = multi-head softmax(Q K^T / sqrt(D/heads)) V, from packed
   * qkv[S*T,3D]: `seqs` sequences of T rows each, attended separately. */
  vg_status (*attention)(vg_backend *be, vg_tensor *out, const vg_tensor *qkv, int heads,
                         int causal, int seqs);
  /* dst[dst_row + i, :] = src[src_row + i, :] for i < rows (same column count). */
  vg_status (*copy_rows)(vg_backend *be, vg_tensor *dst, int64_t dst_row, const vg_tensor *src,
                         int64_t src_row, int64_t rows);
  /* out = x / max(|x|_2, eps), per row; out may alias x. */
  vg_status (*l2_normalize)(vg_backend *be, vg_tensor *out, const vg_tensor *x, float eps);
  /* Waits until all submitted work is done. */
  vg_status (*synchronize)(vg_backend *be);
  void (*destroy)(vg_backend *be);
  /* Scoring ops (MVFA's maps), appended so the table above stays as it was. */
  /* out[p, out_h*out_w] = bilinear upsampling, align_corners=True, of each
   * row x[p, in_h*in_w] read as an in_h x in_w plane (PyTorch's arithmetic). */
  vg_status (*upsample_bilinear)(vg_backend *be, vg_tensor *out, const vg_tensor *x, int in_h,
                                 int in_w, int out_h, int out_w);
  /* out[0, j] = softmax over i of x[i, j], entry `pick`: per column of x. */
  vg_status (*softmax_pick)(vg_backend *be, vg_tensor *out, const vg_tensor *x, int pick);
  /* out[i, 0] = mean of row i of x. */
  vg_status (*row_mean)(vg_backend *be, vg_tensor *out, const vg_tensor *x);
  /* out[0, i] = min over j < bank_rows of (1 - q[i,:] . bank[j,:]), without
   * ever holding the q x bank product (tiled, min reduced on the fly). */
  vg_status (*min_distance)(vg_backend *be, vg_tensor *out, const vg_tensor *q,
                            const vg_tensor *bank, int64_t bank_rows);
  /* CLIP's patch embedding input: out[(b, gy, gx), (ch, ky, kx)] =
   * images[b, ch, gy * patch + ky, gx * patch + kx] (conv1 as a matmul). */
  vg_status (*patch_rows)(vg_backend *be, vg_tensor *out, const vg_tensor *images, int side,
                          int patch);
  /* Optional: can all these tensors live on the backend at once? Checked
   * before a model is uploaded, so a model too big fails with one message. */
  vg_status (*check_plan)(vg_backend *be, const vg_tensor_plan *plan, size_t n);
  /* Optional device timing: records into `p` from now on (NULL: stop). Where
   * this is NULL the ops are timed with the wall clock around each call. */
  vg_status (*profile)(vg_backend *be, vg_profile *p);
  /* Optional fused ops, each saving a pass over memory; where NULL the
   * wrappers (vg_matmul_act, vg_add_layer_norm) run the plain ops instead. */
  /* out = act(a w^T + bias). */
  vg_status (*matmul_act)(vg_backend *be, vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                          const vg_tensor *bias, vg_activation act, float alpha);
  /* x += y, then out = layer_norm(x); out may alias y. */
  vg_status (*add_layer_norm)(vg_backend *be, vg_tensor *x, const vg_tensor *y, vg_tensor *out,
                              const vg_tensor *gamma, const vg_tensor *beta, float eps);
  /* Optional: makes `t` use `data` in place (a weight in a mapped file, which
   * outlives the tensor) instead of a copy; never written. NULL = copy. */
  vg_status (*tensor_wrap)(vg_backend *be, vg_tensor *t, const void *data);
} vg_backend_ops;

struct vg_backend {
  const vg_backend_ops *ops;
  const char *kind;      /* "cpu", "vulkan" */
  char device_name[256]; /* what the user sees, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" */
  vg_op_kind op;         /* the op being recorded (set by the wrappers below) */
  vg_profile *profile;   /* non-NULL while profiling */
  /* Bytes that crossed between host and backend through vg_tensor_upload and
   * the downloads, since the backend opened: what a caller saves by leaving
   * results on the device shows here. */
  int64_t uploaded_bytes, downloaded_bytes;
};

/* Tensors. */
vg_tensor *vg_tensor_new(vg_backend *be, vg_dtype dtype, int64_t rows, int64_t cols);
void vg_tensor_free(vg_tensor *t);
/* A tensor with `data`'s contents: used in place where the backend can
 * (tensor_wrap; `data` must then outlive it and stay unchanged), uploaded
 * otherwise. For weights read from a mapped file: no second copy on the CPU. */
vg_tensor *vg_tensor_wrap(vg_backend *be, vg_dtype dtype, int64_t rows, int64_t cols,
                          const void *data);
size_t vg_dtype_size(vg_dtype dtype);
size_t vg_tensor_bytes(const vg_tensor *t);
vg_status vg_tensor_upload(vg_tensor *t, const void *src);
vg_status vg_tensor_download(const vg_tensor *t, void *dst);
/* n tensors of one backend into dst[i] (NULL entries are skipped); a device
 * backend waits for its work once for all of them. */
vg_status vg_tensors_download(int n, const vg_tensor *const *t, void *const *dst);

/* Operations, shape-checked, then dispatched to the tensor's backend. */
vg_status vg_matmul(vg_tensor *out, const vg_tensor *a, const vg_tensor *w, const vg_tensor *bias);
vg_status vg_layer_norm(vg_tensor *out, const vg_tensor *x, const vg_tensor *gamma,
                        const vg_tensor *beta, float eps);
vg_status vg_activation_apply(vg_tensor *x, vg_activation act, float alpha);
/* Fused where the backend can (profiled as matmul and layer_norm), else the
 * plain ops one after the other: the results are the same either way. */
vg_status vg_matmul_act(vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                        const vg_tensor *bias, vg_activation act, float alpha);
vg_status vg_add_layer_norm(vg_tensor *x, const vg_tensor *y, vg_tensor *out,
                            const vg_tensor *gamma, const vg_tensor *beta, float eps);
vg_status vg_add_scaled(vg_tensor *out, const vg_tensor *a, float alpha, const vg_tensor *b,
                        float beta);
vg_status vg_attention(vg_tensor *out, const vg_tensor *qkv, int heads, int causal);
/* Attention over `seqs` sequences stacked in rows (rows must divide evenly). */
vg_status vg_attention_batched(vg_tensor *out, const vg_tensor *qkv, int heads, int causal,
                               int seqs);
vg_status vg_copy_rows(vg_tensor *dst, int64_t dst_row, const vg_tensor *src, int64_t src_row,
                       int64_t rows);
vg_status vg_l2_normalize(vg_tensor *out, const vg_tensor *x, float eps);
vg_status vg_backend_synchronize(vg_backend *be);
/* VG_OK when the backend has no limits to check; otherwise an error naming
 * the tensor (its size and the limit) or the total against the memory. */
vg_status vg_backend_check_plan(vg_backend *be, const vg_tensor_plan *plan, size_t n);
void vg_backend_destroy(vg_backend *be);

/* Scoring ops: see vg_backend_ops. */
/* images: c images of 3 x side x side floats, as (c * 3 * side) x side rows;
 * out: (c * g * g) x (3 * patch * patch) with g = side / patch (rounded down:
 * pixels past g * patch are unused, as conv1 with stride = kernel does). */
vg_status vg_patch_rows(vg_tensor *out, const vg_tensor *images, int side, int patch);
vg_status vg_upsample(vg_tensor *out, const vg_tensor *x, int in_h, int in_w, int out_h, int out_w);
vg_status vg_softmax_pick(vg_tensor *out, const vg_tensor *x, int pick);
vg_status vg_row_mean(vg_tensor *out, const vg_tensor *x);
vg_status vg_min_distance(vg_tensor *out, const vg_tensor *q, const vg_tensor *bank,
                          int64_t bank_rows);
/* Profiles the ops called from now until vg_backend_profile_end (which
 * synchronizes first), accumulating into `p` (zeroed here; caller-owned). */
vg_status vg_backend_profile_begin(vg_backend *be, vg_profile *p);
vg_status vg_backend_profile_end(vg_backend *be);

/* F16 <-> F32 conversions (IEEE binary16, round to nearest even). */
uint16_t vg_f32_to_f16(float f);
float vg_f16_to_f32(uint16_t h);
/* F32 <-> bfloat16 (the top 16 bits of an F32, round to nearest even; NaN stays NaN). */
uint16_t vg_f32_to_bf16(float f);
float vg_bf16_to_f32(uint16_t h);

#ifdef __cplusplus
}
#endif
