/* The CPU backend's scoring ops: the same arithmetic as the host scoring code
 * (vg_score.c, vg_membank.c), so the backend path on the CPU matches it. */
#include "vg_cpu_score.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "vg_cpu.h"
#include "vg_gemm.h"
#include "vg_score.h"

/* Bank rows per GEMM block: bounds the scratch at q->rows x 1024 floats. */
#define MIN_BLOCK 1024

static float *f32(const vg_tensor *t) {
  return (float *)t->host;
}

vg_status vg_cpu_upsample(vg_backend *be, vg_tensor *out, const vg_tensor *x, int in_h, int in_w,
                          int out_h, int out_w) {
  (void)be;
  return vg_upsample_bilinear(f32(x), (int)x->rows, in_h, in_w, f32(out), out_h, out_w);
}

/* As torch.softmax: subtract the column's max, exponentiate, divide by the sum. */
vg_status vg_cpu_softmax_pick(vg_backend *be, vg_tensor *out, const vg_tensor *x, int pick) {
  (void)be;
  const int64_t k = x->rows, n = x->cols;
  const float *v = f32(x);
  for (int64_t j = 0; j < n; j++) {
    float m = -INFINITY, sum = 0.0f;
    for (int64_t i = 0; i < k; i++)
      m = fmaxf(m, v[i * n + j]);
    for (int64_t i = 0; i < k; i++)
      sum += expf(v[i * n + j] - m);
    f32(out)[j] = expf(v[pick * n + j] - m) / sum;
  }
  return VG_OK;
}

vg_status vg_cpu_row_mean(vg_backend *be, vg_tensor *out, const vg_tensor *x) {
  (void)be;
  for (int64_t r = 0; r < x->rows; r++) {
    const float *row = f32(x) + r * x->cols;
    double sum = 0;
    for (int64_t i = 0; i < x->cols; i++)
      sum += row[i];
    f32(out)[r] = (float)(sum / (double)x->cols);
  }
  return VG_OK;
}

/* sim[m, nb] = q bank_rows^T: on our threads through the own GEMM where it
 * runs (OpenBLAS is then single-threaded), else through OpenBLAS. */
static void similarities(vg_backend *be, const vg_tensor *q, const float *bank, int64_t nb,
                         float *sim) {
  const int m = (int)q->rows, c = (int)q->cols;
  if (!vg_gemm_available()) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, (int)nb, c, 1.0f, f32(q), c, bank, c,
                0.0f, sim, (int)nb);
    return;
  }
  const vg_gemm_args g = {.m = m,
                          .n = (int)nb,
                          .k = c,
                          .a = f32(q),
                          .lda = c,
                          .w = bank,
                          .ldw = c,
                          .out = sim,
                          .ldo = nb};
  vg_gemm(&g, vg_cpu_threads(be));
}

vg_status vg_cpu_min_distance(vg_backend *be, vg_tensor *out, const vg_tensor *q,
                              const vg_tensor *bank, int64_t bank_rows) {
  const int64_t m = q->rows, c = q->cols;
  const int64_t block = bank_rows < MIN_BLOCK ? bank_rows : MIN_BLOCK;
  float *sim = malloc(sizeof *sim * (size_t)(m * block));
  if (!sim)
    return vg_fail(VG_ERR_NOMEM, "min_distance: no memory for %lld x %lld similarities",
                   (long long)m, (long long)block);
  float *dist = f32(out);
  for (int64_t i = 0; i < m; i++)
    dist[i] = INFINITY;
  for (int64_t r0 = 0; r0 < bank_rows; r0 += block) {
    const int64_t nb = bank_rows - r0 < block ? bank_rows - r0 : block;
    similarities(be, q, f32(bank) + r0 * c, nb, sim);
    for (int64_t i = 0; i < m; i++) {
      float d = dist[i];
      for (int64_t j = 0; j < nb; j++) {
        float v = 1.0f - sim[i * nb + j]; /* min of (1 - cos), as MVFA */
        d = v < d ? v : d;
      }
      dist[i] = d;
    }
  }
  free(sim);
  return VG_OK;
}
