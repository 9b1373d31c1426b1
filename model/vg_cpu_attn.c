/* Multi-head attention on the CPU, one (sequence, head) item at a time per
 * thread: K and V of the head are packed once into the GEMM micro-kernel's
 * panels, then for each block of ROWS query rows the scores Q K^T go
 * into a small block that stays in L1, are softmaxed there and multiplied by
 * V straight away. Nothing T x T is ever written out, and no panel is packed
 * twice (vg_gemm per head repacked K for every call and ran at a third of
 * its speed on these thin shapes). */
#include "vg_cpu_attn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vg_gemm.h"
#include "vg_vec.h"

#define MR VG_GEMM_MR
#define SUB 2 /* micro-kernel row blocks per block of query rows */
#define ROWS (SUB * MR)

typedef struct attn_job {
  float *out;
  const float *qkv;
  int d, heads, causal, seqs, tok;
  int nr;
  vg_gemm_kernel_fn kernel;
  const vg_vec_ops *vec;
  int failed; /* a thread could not get its scratch */
} attn_job;

/* Per thread: packed K (hd x kp_cols), packed V (tok x vp_cols), one block
 * of scores and one of output. */
typedef struct attn_scratch {
  float *kp, *vp, *scores, *otile;
  int kp_cols, vp_cols;
} attn_scratch;

static int round_up(int v, int to) {
  return (v + to - 1) / to * to;
}

static int scratch_new(const attn_job *j, attn_scratch *s) {
  const int hd = j->d / j->heads;
  s->kp_cols = round_up(j->tok, j->nr), s->vp_cols = round_up(hd, j->nr);
  s->kp = aligned_alloc(64, sizeof(float) * (size_t)hd * (size_t)s->kp_cols);
  s->vp = aligned_alloc(64, sizeof(float) * (size_t)round_up(j->tok, 16) * (size_t)s->vp_cols);
  s->scores = aligned_alloc(64, sizeof(float) * ROWS * (size_t)s->kp_cols);
  s->otile = aligned_alloc(64, sizeof(float) * ROWS * (size_t)s->vp_cols);
  return s->kp && s->vp && s->scores && s->otile;
}

static void scratch_free(attn_scratch *s) {
  free(s->kp), free(s->vp), free(s->scores), free(s->otile);
}

/* kp panel p holds K rows [p nr, p nr + nr) transposed: kp[p][dim][jj];
 * vp panel p holds V columns [p nr, p nr + nr): vp[p][token][jj]. Padding is
 * zero so the kernel's extra columns come out as zeros. */
static void pack_kv(const attn_job *j, const float *k, const float *v, attn_scratch *s) {
  const int hd = j->d / j->heads, nr = j->nr, ld = 3 * j->d, tok = j->tok;
  for (int p0 = 0; p0 < s->kp_cols; p0 += nr) {
    float *panel = s->kp + (size_t)p0 * hd;
    const int nc = tok - p0 < nr ? tok - p0 : nr;
    j->vec->transpose(k + (size_t)p0 * ld, ld, nc, hd, panel, nr);
    for (int dim = 0; dim < hd && nc < nr; dim++)
      memset(panel + dim * nr + nc, 0, sizeof(float) * (size_t)(nr - nc));
  }
  for (int p0 = 0; p0 < s->vp_cols; p0 += nr) {
    float *panel = s->vp + (size_t)p0 * tok;
    const int nc = hd - p0 < nr ? hd - p0 : nr;
    for (int t = 0; t < tok; t++) {
      memcpy(panel + t * nr, v + (size_t)t * ld + p0, sizeof(float) * (size_t)nc);
      memset(panel + t * nr + nc, 0, sizeof(float) * (size_t)(nr - nc));
    }
  }
}

/* Query rows [i0, i0 + rows) of one head, rows <= ROWS: scores, softmax,
 * times V, into out. Each packed panel serves SUB micro-kernel calls in a
 * row while it is in L1, halving what K and V stream from L2. */
static void row_block(const attn_job *j, const float *q, float *o, const attn_scratch *s, int i0) {
  const int hd = j->d / j->heads, nr = j->nr, tok = j->tok, ld = 3 * j->d;
  const int rows = tok - i0 < ROWS ? tok - i0 : ROWS;
  /* Keys past the block's last row are masked when causal: skip their panels. */
  const int keys = j->causal ? i0 + rows : tok, kcols = round_up(keys, nr);
  const float *qrow[ROWS], *prow[ROWS];
  float inv[ROWS];
  for (int r = 0; r < ROWS; r++) /* missing rows repeat the last; their results are dropped */
    qrow[r] = q + (size_t)(i0 + (r < rows ? r : rows - 1)) * ld;
  for (int p0 = 0; p0 < kcols; p0 += nr)
    for (int b = 0; b < SUB; b++)
      j->kernel(hd, qrow + b * MR, s->kp + (size_t)p0 * hd,
                s->scores + (size_t)b * MR * s->kp_cols + p0, s->kp_cols, 0);
  const float scale = 1.0f / sqrtf((float)hd);
  for (int r = 0; r < ROWS; r++) {
    float *row = s->scores + (size_t)r * s->kp_cols;
    const int i = i0 + (r < rows ? r : rows - 1);
    inv[r] = 1.0f / j->vec->softmax_exp(row, j->causal ? i + 1 : tok, keys, scale);
    prow[r] = row;
  }
  for (int p0 = 0; p0 < s->vp_cols; p0 += nr)
    for (int b = 0; b < SUB; b++)
      j->kernel(keys, prow + b * MR, s->vp + (size_t)p0 * tok,
                s->otile + (size_t)b * MR * s->vp_cols + p0, s->vp_cols, 0);
  for (int r = 0; r < rows; r++) /* the softmax's division, on hd values instead of tok */
    j->vec->scale(o + (size_t)(i0 + r) * j->d, s->otile + (size_t)r * s->vp_cols, hd, inv[r]);
}

/* Work item i is head i % heads of sequence i / heads. */
static void item_pointers(const attn_job *j, int i, const float **q, float **o) {
  const int hd = j->d / j->heads, seq = i / j->heads, h = i % j->heads;
  const size_t row = (size_t)seq * j->tok;
  *q = j->qkv + row * 3 * j->d + h * hd;
  *o = j->out + row * j->d + h * hd;
}

static void attn_items(void *ctx, int t, int n) {
  attn_job *j = ctx;
  attn_scratch s;
  if (!scratch_new(j, &s)) {
    scratch_free(&s);
    __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
    return;
  }
  for (int i = t; i < j->heads * j->seqs; i += n) {
    const float *q;
    float *o;
    item_pointers(j, i, &q, &o);
    pack_kv(j, q + j->d, q + 2 * j->d, &s);
    for (int i0 = 0; i0 < j->tok; i0 += ROWS)
      row_block(j, q, o, &s, i0);
  }
  scratch_free(&s);
}

/* Without the own GEMM (no AVX2): one head at a time through OpenBLAS,
 * which may use its own threads (ours are idle meanwhile). */
static vg_status attn_openblas(const attn_job *j) {
  const int t = j->tok, d = j->d, hd = d / j->heads, ld = 3 * d;
  float *scores = malloc(sizeof(float) * (size_t)t * (size_t)t);
  if (!scores)
    return vg_fail(VG_ERR_NOMEM, "attention: no memory for %d x %d scores", t, t);
  for (int i = 0; i < j->heads * j->seqs; i++) {
    const float *q;
    float *o;
    item_pointers(j, i, &q, &o);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, t, hd, 1.0f, q, ld, q + d, ld, 0.0f,
                scores, t);
    for (int r = 0; r < t; r++) {
      float *row = scores + (size_t)r * t;
      const float inv = 1.0f / j->vec->softmax_exp(row, j->causal ? r + 1 : t, t, 1.0f / sqrtf(hd));
      for (int c = 0; c < t; c++)
        row[c] *= inv;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, hd, t, 1.0f, scores, t, q + 2 * d, ld,
                0.0f, o, d);
  }
  free(scores);
  return VG_OK;
}

vg_status vg_cpu_attention_run(float *out, const float *qkv, int64_t rows, int d, int heads,
                               int causal, int seqs, int threads) {
  attn_job j = {.out = out,
                .qkv = qkv,
                .d = d,
                .heads = heads,
                .causal = causal,
                .seqs = seqs,
                .tok = (int)(rows / seqs),
                .vec = vg_vec()};
  if (!vg_gemm_available())
    return attn_openblas(&j);
  j.kernel = vg_gemm_kernel(&j.nr);
  const int items = heads * seqs;
  vg_parallel(threads < items ? threads : items, attn_items, &j);
  if (j.failed)
    return vg_fail(VG_ERR_NOMEM, "attention: no memory for the packed keys and values");
  return VG_OK;
}
