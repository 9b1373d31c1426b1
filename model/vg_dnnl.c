/* One matmul primitive per call, its weights read in place (PyTorch's Linear
 * layout is oneDNN's "ba"); oneDNN's own primitive cache makes the repeated
 * creations cheap. The activations of a BF16 matmul are rounded to BF16 here
 * first (AVX512_BF16 where the CPU has it), in threads for big ones. */
#include "vg_dnnl.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef VG_HAVE_DNNL
#include <immintrin.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>

/* oneDNN here runs on OpenMP; its thread count is per calling thread. */
void omp_set_num_threads(int n);

static struct {
  pthread_once_t once;
  dnnl_engine_t engine;
  char describe[96];
} dn = {.once = PTHREAD_ONCE_INIT};

static const char *isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
  case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
  case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
  case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
  case dnnl_cpu_isa_avx512_core: return "avx512_core";
  case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
  case dnnl_cpu_isa_avx2: return "avx2";
  case dnnl_cpu_isa_avx: return "avx";
  case dnnl_cpu_isa_sse41: return "sse41";
  default: return "other";
  }
}

static void start(void) {
  if (dnnl_engine_create(&dn.engine, dnnl_cpu, 0) != dnnl_success)
    dn.engine = NULL;
  const dnnl_version_t *v = dnnl_version();
  snprintf(dn.describe, sizeof dn.describe, "oneDNN %d.%d.%d, %s", v->major, v->minor, v->patch,
           isa_name(dnnl_get_effective_cpu_isa()));
}

int vg_dnnl_built(void) {
  return 1;
}

const char *vg_dnnl_describe(void) {
  pthread_once(&dn.once, start);
  return dn.describe;
}

int vg_dnnl_bf16(const char **why) {
  pthread_once(&dn.once, start);
  const unsigned need = dnnl_cpu_isa_avx512_core_bf16;
  if (dn.engine && ((unsigned)dnnl_get_effective_cpu_isa() & need) == need)
    return 1;
  if (why)
    *why = dn.engine ? "this CPU has neither AMX-BF16 nor AVX512_BF16 (as oneDNN sees it)"
                     : "oneDNN could not open the CPU engine";
  return 0;
}

typedef struct round_job {
  const vg_gemm_args *g;
  uint16_t *dst; /* m x k, packed */
  int native;    /* AVX512_BF16's conversion instruction */
} round_job;

__attribute__((target("avx512f,avx512bf16"))) static void round_row_native(const float *src,
                                                                           uint16_t *dst, int k) {
  int i = 0;
  for (; i + 16 <= k; i += 16)
    _mm256_storeu_si256((__m256i *)(dst + i),
                        (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
  for (; i < k; i++)
    dst[i] = vg_f32_to_bf16(src[i]);
}

static void round_rows(void *ctx, int t, int n) {
  const round_job *j = ctx;
  const int m = j->g->m, k = j->g->k;
  for (int r = m * t / n; r < m * (t + 1) / n; r++) {
    const float *src = j->g->a + (int64_t)r * j->g->lda;
    uint16_t *dst = j->dst + (int64_t)r * k;
    if (j->native) {
      round_row_native(src, dst, k);
    } else {
      for (int i = 0; i < k; i++)
        dst[i] = vg_f32_to_bf16(src[i]);
    }
  }
}

/* a[m, k] as BF16 (caller frees), or NULL. */
static uint16_t *round_activations(const vg_gemm_args *g, int threads) {
  uint16_t *dst = aligned_alloc(64, ((size_t)g->m * (size_t)g->k * 2 + 63) & ~(size_t)63);
  if (!dst)
    return NULL;
  __builtin_cpu_init();
  round_job j = {.g = g, .dst = dst, .native = __builtin_cpu_supports("avx512bf16")};
  const int64_t values = (int64_t)g->m * g->k;
  vg_parallel(values < (1 << 16) ? 1 : threads, round_rows, &j);
  return dst;
}

static vg_status dnnl_fail(const char *what, dnnl_status_t st) {
  return vg_fail(VG_ERR_DEVICE, "oneDNN matmul: %s failed (status %d)", what, (int)st);
}

typedef struct mems {
  dnnl_memory_t m[4];
  int n;
} mems;

static dnnl_status_t add_mem(mems *ms, dnnl_exec_arg_t *args, int arg, const dnnl_memory_desc_t *md,
                             const void *data) {
  dnnl_status_t st = dnnl_memory_create(&ms->m[ms->n], md, dn.engine, (void *)data);
  if (st == dnnl_success) {
    args[ms->n] = (dnnl_exec_arg_t){arg, ms->m[ms->n]};
    ms->n++;
  }
  return st;
}

/* Creates (or finds in oneDNN's cache) the primitive and runs it. */
static vg_status execute(const vg_gemm_args *g, const void *a, int bf16, int threads) {
  const dnnl_data_type_t in = bf16 ? dnnl_bf16 : dnnl_f32;
  const dnnl_dims_t a_dims = {g->m, g->k}, a_str = {bf16 ? g->k : g->lda, 1};
  const dnnl_dims_t w_dims = {g->k, g->n}, w_str = {g->w_kn ? g->ldw : 1, g->w_kn ? 1 : g->ldw};
  const dnnl_dims_t b_dims = {1, g->n}, b_str = {g->n, 1};
  const dnnl_dims_t o_dims = {g->m, g->n}, o_str = {g->ldo, 1};
  dnnl_memory_desc_t a_md, w_md, b_md, o_md;
  dnnl_memory_desc_init_by_strides(&a_md, 2, a_dims, in, a_str);
  dnnl_memory_desc_init_by_strides(&w_md, 2, w_dims, in, w_str);
  dnnl_memory_desc_init_by_strides(&b_md, 2, b_dims, dnnl_f32, b_str);
  dnnl_memory_desc_init_by_strides(&o_md, 2, o_dims, dnnl_f32, o_str);
  dnnl_matmul_desc_t desc;
  dnnl_status_t st = dnnl_matmul_desc_init(&desc, &a_md, &w_md, g->bias ? &b_md : NULL, &o_md);
  if (st != dnnl_success)
    return dnnl_fail("the descriptor", st);
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_t prim = NULL;
  dnnl_stream_t stream = NULL;
  mems ms = {.n = 0};
  dnnl_exec_arg_t args[4];
  vg_status s = VG_OK;
  if ((st = dnnl_primitive_desc_create(&pd, &desc, NULL, dn.engine, NULL)) != dnnl_success)
    s = dnnl_fail("finding an implementation", st);
  else if ((st = dnnl_primitive_create(&prim, pd)) != dnnl_success)
    s = dnnl_fail("creating the primitive", st);
  else if ((st = dnnl_stream_create(&stream, dn.engine, dnnl_stream_default_flags)) != dnnl_success)
    s = dnnl_fail("creating a stream", st);
  if (s == VG_OK &&
      ((st = add_mem(&ms, args, DNNL_ARG_SRC, &a_md, a)) != dnnl_success ||
       (st = add_mem(&ms, args, DNNL_ARG_WEIGHTS, &w_md, g->w)) != dnnl_success ||
       (g->bias && (st = add_mem(&ms, args, DNNL_ARG_BIAS, &b_md, g->bias)) != dnnl_success) ||
       (st = add_mem(&ms, args, DNNL_ARG_DST, &o_md, g->out)) != dnnl_success))
    s = dnnl_fail("wrapping the tensors", st);
  if (s == VG_OK) {
    omp_set_num_threads(threads < 1 ? 1 : threads);
    if ((st = dnnl_primitive_execute(prim, stream, ms.n, args)) != dnnl_success ||
        (st = dnnl_stream_wait(stream)) != dnnl_success)
      s = dnnl_fail("running", st);
  }
  for (int i = 0; i < ms.n; i++)
    dnnl_memory_destroy(ms.m[i]);
  if (stream)
    dnnl_stream_destroy(stream);
  if (prim)
    dnnl_primitive_destroy(prim);
  if (pd)
    dnnl_primitive_desc_destroy(pd);
  return s;
}

vg_status vg_dnnl_matmul(const vg_gemm_args *g, int bf16_weights, int threads) {
  pthread_once(&dn.once, start);
  if (!dn.engine)
    return vg_fail(VG_ERR_UNSUPPORTED, "oneDNN could not open the CPU engine");
  if (g->w_f16)
    return vg_fail(VG_ERR_UNSUPPORTED, "oneDNN matmul: F16 weights are not supported here");
  if (bf16_weights && !vg_dnnl_bf16(NULL))
    return vg_fail(VG_ERR_UNSUPPORTED, "oneDNN matmul: no BF16 path on this CPU");
  if (!bf16_weights)
    return execute(g, g->a, 0, threads);
  uint16_t *a = round_activations(g, threads);
  if (!a)
    return vg_fail(VG_ERR_NOMEM, "oneDNN matmul: no memory for %d x %d BF16 activations", g->m,
                   g->k);
  vg_status s = execute(g, a, 1, threads);
  free(a);
  return s;
}

#else /* built without oneDNN */

int vg_dnnl_built(void) {
  return 0;
}

const char *vg_dnnl_describe(void) {
  return "no oneDNN";
}

int vg_dnnl_bf16(const char **why) {
  if (why)
    *why = "this build has no oneDNN (install libdnnl-dev and rebuild)";
  return 0;
}

vg_status vg_dnnl_matmul(const vg_gemm_args *g, int bf16_weights, int threads) {
  (void)g, (void)bf16_weights, (void)threads;
  return vg_fail(VG_ERR_UNSUPPORTED, "this build has no oneDNN (install libdnnl-dev and rebuild)");
}

#endif
