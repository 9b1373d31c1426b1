/* F32 weights are read in place (PyTorch's Linear layout is oneDNN's "ba").
 * BF16 weights are kept in the blocked layout oneDNN's AMX / AVX512_BF16
 * matmul wants (packed once, at upload): handed plain ones, it would repack
 * them on every call, which cost a third of a BF16 forward. The primitives
 * are kept per shape (creating one, even found in oneDNN's cache, costs tens
 * of microseconds, 114 times a forward). The activations of a BF16 matmul are
 * rounded to BF16 here first (AVX512_BF16 where the CPU has it). */
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

/* The descriptor of an n x k weight (PyTorch's layout, rows `ldw` apart, or
 * k x n with w_kn) as oneDNN's k x n matrix; `packed`: the blocked BF16 layout. */
static void weights_md(dnnl_memory_desc_t *md, int n, int k, int64_t ldw, int w_kn,
                       dnnl_data_type_t type) {
  const dnnl_dims_t dims = {k, n}, str = {w_kn ? ldw : 1, w_kn ? 1 : ldw};
  dnnl_memory_desc_init_by_strides(md, 2, dims, type, str);
}

typedef struct shape {
  int m, n, k, bf16, packed, w_kn, bias, act; /* act: vg_gemm_args.act */
  float act_alpha;
  int64_t lda, ldw, ldo;
} shape;

/* The activation as a post-op: erf GELU (oneDNN's erf is within float
 * rounding, test-gemm checks), QuickGELU as swish(1.702), LeakyReLU. */
static dnnl_status_t activation_attr(int act, float alpha, dnnl_primitive_attr_t *attr) {
  const dnnl_alg_kind_t alg = act == VG_ACT_GELU         ? dnnl_eltwise_gelu_erf
                              : act == VG_ACT_QUICK_GELU ? dnnl_eltwise_swish
                                                         : dnnl_eltwise_relu;
  const float a = act == VG_ACT_QUICK_GELU ? 1.702f : act == VG_ACT_LEAKY_RELU ? alpha : 0.0f;
  dnnl_post_ops_t ops = NULL;
  dnnl_status_t st = dnnl_post_ops_create(&ops);
  if (st == dnnl_success &&
      (st = dnnl_post_ops_append_eltwise(ops, 1.0f, alg, a, 0.0f)) == dnnl_success &&
      (st = dnnl_primitive_attr_create(attr)) == dnnl_success &&
      (st = dnnl_primitive_attr_set_post_ops(*attr, ops)) != dnnl_success) {
    dnnl_primitive_attr_destroy(*attr);
    *attr = NULL;
  }
  if (ops)
    dnnl_post_ops_destroy(ops);
  return st;
}

static dnnl_status_t packed_md(int n, int k, dnnl_memory_desc_t *md);

/* The primitive descriptor for `sh` (weights: its layout, or "any" when packed). */
static dnnl_status_t describe(const shape *sh, dnnl_primitive_desc_t *pd) {
  const dnnl_data_type_t in = sh->bf16 ? dnnl_bf16 : dnnl_f32;
  const dnnl_dims_t a_dims = {sh->m, sh->k}, a_str = {sh->lda, 1};
  const dnnl_dims_t b_dims = {1, sh->n}, b_str = {sh->n, 1};
  const dnnl_dims_t o_dims = {sh->m, sh->n}, o_str = {sh->ldo, 1};
  dnnl_memory_desc_t a_md, w_md, b_md, o_md;
  dnnl_memory_desc_init_by_strides(&a_md, 2, a_dims, in, a_str);
  if (sh->packed == 2) { /* finding the layout */
    const dnnl_dims_t w_dims = {sh->k, sh->n};
    dnnl_memory_desc_init_by_tag(&w_md, 2, w_dims, in, dnnl_format_tag_any);
  } else if (sh->packed) {
    dnnl_status_t st = packed_md(sh->n, sh->k, &w_md);
    if (st != dnnl_success)
      return st;
  } else {
    weights_md(&w_md, sh->n, sh->k, sh->ldw, sh->w_kn, in);
  }
  dnnl_memory_desc_init_by_strides(&b_md, 2, b_dims, dnnl_f32, b_str);
  dnnl_memory_desc_init_by_strides(&o_md, 2, o_dims, dnnl_f32, o_str);
  dnnl_matmul_desc_t desc;
  dnnl_status_t st = dnnl_matmul_desc_init(&desc, &a_md, &w_md, sh->bias ? &b_md : NULL, &o_md);
  if (st != dnnl_success)
    return st;
  dnnl_primitive_attr_t attr = NULL;
  if (sh->act && (st = activation_attr(sh->act - 1, sh->act_alpha, &attr)) != dnnl_success)
    return st;
  st = dnnl_primitive_desc_create(pd, &desc, attr, dn.engine, NULL);
  if (attr)
    dnnl_primitive_attr_destroy(attr);
  return st;
}

/* The packed layout of an n x k BF16 weight: the one oneDNN picks at MVFA's
 * 290 rows. Other row counts are described with it (for tiny ones oneDNN
 * would prefer another layout, but takes this one too: test-gemm checks). */
static dnnl_status_t packed_md(int n, int k, dnnl_memory_desc_t *md) {
  const shape sh = {.m = 290, .n = n, .k = k, .bf16 = 1, .packed = 2, .lda = k, .ldo = n};
  dnnl_primitive_desc_t pd = NULL;
  dnnl_status_t st = describe(&sh, &pd);
  if (st == dnnl_success)
    *md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  if (pd)
    dnnl_primitive_desc_destroy(pd);
  return st;
}

/* Member by member: memcmp would also compare the padding after act_alpha,
 * which an initialiser need not clear, and miss kept primitives. */
static int same_shape(const shape *a, const shape *b) {
  return a->m == b->m && a->n == b->n && a->k == b->k && a->bf16 == b->bf16 &&
         a->packed == b->packed && a->w_kn == b->w_kn && a->bias == b->bias && a->act == b->act &&
         a->act_alpha == b->act_alpha && a->lda == b->lda && a->ldw == b->ldw && a->ldo == b->ldo;
}

/* Primitives by shape, never evicted (a forward uses some six shapes per
 * batch size): running one needs no lock. Past the table's size, a
 * primitive is made for the call and dropped. */
#define KEPT_MAX 256
static struct {
  pthread_mutex_t lock;
  int n;
  shape shapes[KEPT_MAX];
  dnnl_primitive_t prims[KEPT_MAX];
} kept = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The primitive for `sh`; *temporary when the caller destroys it. */
static vg_status primitive(const shape *sh, dnnl_primitive_t *prim, int *temporary) {
  pthread_mutex_lock(&kept.lock);
  for (int i = 0; i < kept.n; i++)
    if (same_shape(&kept.shapes[i], sh)) {
      *prim = kept.prims[i];
      *temporary = 0;
      pthread_mutex_unlock(&kept.lock);
      return VG_OK;
    }
  dnnl_primitive_desc_t pd = NULL;
  dnnl_status_t st = describe(sh, &pd);
  vg_status s = VG_OK;
  if (st != dnnl_success)
    s = dnnl_fail("finding an implementation", st);
  else if ((st = dnnl_primitive_create(prim, pd)) != dnnl_success)
    s = dnnl_fail("creating the primitive", st);
  if (pd)
    dnnl_primitive_desc_destroy(pd);
  *temporary = s == VG_OK && kept.n == KEPT_MAX;
  if (s == VG_OK && !*temporary) {
    kept.shapes[kept.n] = *sh;
    kept.prims[kept.n++] = *prim;
  }
  pthread_mutex_unlock(&kept.lock);
  return s;
}

typedef struct mems {
  dnnl_memory_t m[4];
  int n;
} mems;

/* Wraps `data` as the primitive's argument `arg`, described by its query (what, index). */
static dnnl_status_t add_mem(mems *ms, dnnl_exec_arg_t *args, dnnl_primitive_t prim, int arg,
                             dnnl_query_t what, int index, const void *data) {
  const_dnnl_primitive_desc_t pd;
  dnnl_status_t st = dnnl_primitive_get_primitive_desc(prim, &pd);
  if (st != dnnl_success)
    return st;
  st = dnnl_memory_create(&ms->m[ms->n], dnnl_primitive_desc_query_md(pd, what, index), dn.engine,
                          (void *)data);
  if (st == dnnl_success) {
    args[ms->n] = (dnnl_exec_arg_t){arg, ms->m[ms->n]};
    ms->n++;
  }
  return st;
}

/* Runs the matmul of `sh` on a (F32 or BF16, per sh->bf16). */
static vg_status execute(const shape *sh, const vg_gemm_args *g, const void *a, int threads) {
  dnnl_primitive_t prim = NULL;
  int temporary = 0;
  vg_status s = primitive(sh, &prim, &temporary);
  dnnl_stream_t stream = NULL;
  mems ms = {.n = 0};
  dnnl_exec_arg_t args[4];
  dnnl_status_t st;
  if (s == VG_OK &&
      (st = dnnl_stream_create(&stream, dn.engine, dnnl_stream_default_flags)) != dnnl_success)
    s = dnnl_fail("creating a stream", st);
  if (s == VG_OK &&
      ((st = add_mem(&ms, args, prim, DNNL_ARG_SRC, dnnl_query_src_md, 0, a)) != dnnl_success ||
       (st = add_mem(&ms, args, prim, DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, g->w)) !=
           dnnl_success ||
       (g->bias && (st = add_mem(&ms, args, prim, DNNL_ARG_BIAS, dnnl_query_weights_md, 1,
                                 g->bias)) != dnnl_success) ||
       (st = add_mem(&ms, args, prim, DNNL_ARG_DST, dnnl_query_dst_md, 0, g->out)) != dnnl_success))
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
  if (temporary)
    dnnl_primitive_destroy(prim);
  return s;
}

vg_status vg_dnnl_matmul(const vg_gemm_args *g, int bf16_weights, int threads) {
  pthread_once(&dn.once, start);
  if (!dn.engine)
    return vg_fail(VG_ERR_UNSUPPORTED, "oneDNN could not open the CPU engine");
  if (g->w_f16)
    return vg_fail(VG_ERR_UNSUPPORTED, "oneDNN matmul: F16 weights are not supported here");
  if ((bf16_weights || g->w_packed) && !vg_dnnl_bf16(NULL))
    return vg_fail(VG_ERR_UNSUPPORTED, "oneDNN matmul: no BF16 path on this CPU");
  const int bf16 = bf16_weights || g->w_packed;
  shape sh = {.m = g->m,
              .n = g->n,
              .k = g->k,
              .bf16 = bf16,
              .packed = g->w_packed,
              .w_kn = g->w_packed ? 0 : g->w_kn,
              .bias = g->bias != NULL,
              .act = g->act,
              .act_alpha = g->act ? g->act_alpha : 0,
              .lda = bf16 ? g->k : g->lda,
              .ldw = g->w_packed ? 0 : g->ldw,
              .ldo = g->ldo};
  if (!bf16)
    return execute(&sh, g, g->a, threads);
  uint16_t *a = round_activations(g, threads);
  if (!a)
    return vg_fail(VG_ERR_NOMEM, "oneDNN matmul: no memory for %d x %d BF16 activations", g->m,
                   g->k);
  vg_status s = execute(&sh, g, a, threads);
  free(a);
  return s;
}

size_t vg_dnnl_bf16_packed_bytes(int n, int k) {
  pthread_once(&dn.once, start);
  dnnl_memory_desc_t md;
  return dn.engine && packed_md(n, k, &md) == dnnl_success ? dnnl_memory_desc_get_size(&md) : 0;
}

/* One reorder between the plain n x k BF16 weight and its packed layout. */
static vg_status reorder(const void *from, void *to, int n, int k, int packing) {
  pthread_once(&dn.once, start);
  dnnl_memory_desc_t plain, packed;
  dnnl_status_t st = dn.engine ? packed_md(n, k, &packed) : dnnl_runtime_error;
  if (st != dnnl_success)
    return dnnl_fail("finding the BF16 weight layout", st);
  weights_md(&plain, n, k, k, 0, dnnl_bf16);
  const dnnl_memory_desc_t *src = packing ? &plain : &packed, *dst = packing ? &packed : &plain;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_t prim = NULL;
  dnnl_stream_t stream = NULL;
  dnnl_memory_t m_src = NULL, m_dst = NULL;
  if ((st = dnnl_reorder_primitive_desc_create(&pd, src, dn.engine, dst, dn.engine, NULL)) ==
          dnnl_success &&
      (st = dnnl_primitive_create(&prim, pd)) == dnnl_success &&
      (st = dnnl_stream_create(&stream, dn.engine, dnnl_stream_default_flags)) == dnnl_success &&
      (st = dnnl_memory_create(&m_src, src, dn.engine, (void *)from)) == dnnl_success &&
      (st = dnnl_memory_create(&m_dst, dst, dn.engine, to)) == dnnl_success) {
    const dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, m_src}, {DNNL_ARG_TO, m_dst}};
    if ((st = dnnl_primitive_execute(prim, stream, 2, args)) == dnnl_success)
      st = dnnl_stream_wait(stream);
  }
  dnnl_memory_destroy(m_src), dnnl_memory_destroy(m_dst);
  if (stream)
    dnnl_stream_destroy(stream);
  if (prim)
    dnnl_primitive_destroy(prim);
  if (pd)
    dnnl_primitive_desc_destroy(pd);
  return st == dnnl_success ? VG_OK : dnnl_fail(packing ? "packing weights" : "unpacking", st);
}

vg_status vg_dnnl_bf16_pack(const uint16_t *w, int n, int k, void *packed) {
  return reorder(w, packed, n, k, 1);
}

vg_status vg_dnnl_bf16_unpack(const void *packed, int n, int k, uint16_t *w) {
  return reorder(packed, w, n, k, 0);
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

static vg_status no_dnnl(void) {
  return vg_fail(VG_ERR_UNSUPPORTED, "this build has no oneDNN (install libdnnl-dev and rebuild)");
}

vg_status vg_dnnl_matmul(const vg_gemm_args *g, int bf16_weights, int threads) {
  (void)g, (void)bf16_weights, (void)threads;
  return no_dnnl();
}

size_t vg_dnnl_bf16_packed_bytes(int n, int k) {
  (void)n, (void)k;
  return 0;
}

vg_status vg_dnnl_bf16_pack(const uint16_t *w, int n, int k, void *packed) {
  (void)w, (void)n, (void)k, (void)packed;
  return no_dnnl();
}

vg_status vg_dnnl_bf16_unpack(const void *packed, int n, int k, uint16_t *w) {
  (void)packed, (void)n, (void)k, (void)w;
  return no_dnnl();
}

#endif
