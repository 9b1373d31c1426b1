/* bench-cpu-gemm: the CPU backend's GEMMs (vg_cpu_gemm.h) on ViT-L/14's block
 * shapes at MVFA's 290 tokens per image: the own kernel, OpenBLAS and oneDNN
 * with F32 weights, the own kernel with F16 weights and oneDNN with BF16
 * weights and activations, each in GFLOP/s, and the backend's choice.
 *
 * The variants take turns, one call each per round, so load from other
 * processes falls on all of them alike; the median over rounds is printed.
 * Each result is checked against OpenBLAS's F32 one (normalised max error):
 * at most --max-err for F32 (default 1e-4), 1e-2 for F16 and 3e-2 for BF16.
 *
 * usage: bench-cpu-gemm [--batch B] [--threads T] [--iters N] [--shape MxNxK]...
 *                       [--max-err E]
 * Exit status: 0; 1 on a failure or an error above its bound; 2 on bad arguments. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-gemm-args.h"
#include "vg_cpu_gemm.h"
#include "vg_dnnl.h"

#define MAX_SHAPES 16
#define MAX_ITERS 100

typedef struct variant {
  const char *name;
  vg_cpu_gemm_kind kind;
  vg_dtype wt;
  double bound; /* largest error accepted */
} variant;

typedef struct args {
  int batch, threads, iters, n_shapes;
  double max_err;
  shape shapes[MAX_SHAPES];
} args;

static int usage(const char *msg) {
  fprintf(stderr,
          "bench-cpu-gemm: %s\nusage: bench-cpu-gemm [--batch B] [--threads T] [--iters N] "
          "[--shape MxNxK]... [--max-err E]\n",
          msg);
  return 2;
}

static int parse(int argc, char **argv, args *a) {
  *a = (args){.batch = 1, .threads = 2, .iters = 5, .max_err = 1e-4};
  for (int i = 1; i < argc; i += 2) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int ok = v != NULL;
    if (ok && strcmp(o, "--batch") == 0)
      ok = bench_int_arg(v, 1, 64, &a->batch);
    else if (ok && strcmp(o, "--threads") == 0)
      ok = bench_int_arg(v, 1, 256, &a->threads);
    else if (ok && strcmp(o, "--iters") == 0)
      ok = bench_int_arg(v, 1, MAX_ITERS, &a->iters);
    else if (ok && strcmp(o, "--max-err") == 0)
      ok = bench_positive_arg(v, &a->max_err);
    else if (ok && strcmp(o, "--shape") == 0 && a->n_shapes < MAX_SHAPES)
      ok = bench_shape_arg(v, 1 << 16, &a->shapes[a->n_shapes++]);
    else
      return usage("unknown option, missing value or too many --shape");
    if (!ok)
      return usage("bad value (batch 1-64, threads 1-256, iters 1-100, shape MxNxK, max-err > 0)");
  }
  if (a->n_shapes == 0) /* one transformer block's GEMMs */
    a->n_shapes = bench_vit_shapes(a->batch, a->shapes);
  return 0;
}

static int cmp_double(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static double max_err(const float *got, const float *want, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(got[i]))
      return INFINITY;
    num = fmax(num, fabs((double)got[i] - want[i]));
    den = fmax(den, fabs((double)want[i]));
  }
  return num / (den > 0 ? den : 1);
}

typedef struct data {
  float *a, *w, *bias, *outs;
  uint16_t *wh, *wb;
} data;

static int make(const shape *s, int nv, data *d) {
  const size_t na = (size_t)s->m * s->k, nw = (size_t)s->n * s->k;
  d->a = malloc(na * 4), d->w = malloc(nw * 4), d->bias = malloc((size_t)s->n * 4);
  d->wh = malloc(nw * 2), d->wb = malloc(nw * 2);
  d->outs = malloc((size_t)s->m * s->n * 4 * (size_t)nv);
  if (!d->a || !d->w || !d->bias || !d->wh || !d->wb || !d->outs)
    return 0;
  unsigned st = (unsigned)(s->m * 31 + s->n * 7 + s->k);
  for (size_t i = 0; i < na + nw + (size_t)s->n; i++) {
    st = st * 1664525u + 1013904223u;
    const float v = (float)((st >> 8) * (2.0 / 16777216.0) - 1.0);
    if (i < na)
      d->a[i] = v;
    else if (i < na + nw)
      d->w[i - na] = v, d->wh[i - na] = vg_f32_to_f16(v), d->wb[i - na] = vg_f32_to_bf16(v);
    else
      d->bias[i - na - nw] = v;
  }
  return 1;
}

static void release(data *d) {
  free(d->a), free(d->w), free(d->bias), free(d->wh), free(d->wb), free(d->outs);
}

/* Times every variant on one shape (rounds of one call each) and prints them. */
static int bench_shape(const args *ar, const shape *s, const variant *vs, int nv, double *totals) {
  data d = {0};
  int rc = 1;
  static double times[8][MAX_ITERS];
  if (!make(s, nv, &d)) {
    fprintf(stderr, "bench-cpu-gemm: out of memory for %dx%dx%d\n", s->m, s->n, s->k);
    goto done;
  }
  const size_t no = (size_t)s->m * s->n;
  for (int it = -1; it < ar->iters; it++) /* -1: warm-up (oneDNN compiles its kernels) */
    for (int v = 0; v < nv; v++) {
      const void *w = vs[v].wt == VG_F16 ? (void *)d.wh : vs[v].wt == VG_BF16 ? (void *)d.wb : d.w;
      const vg_gemm_args g = {.m = s->m,
                              .n = s->n,
                              .k = s->k,
                              .a = d.a,
                              .lda = s->k,
                              .w = w,
                              .ldw = s->k,
                              .w_f16 = vs[v].wt == VG_F16,
                              .bias = d.bias,
                              .out = d.outs + no * v,
                              .ldo = s->n};
      const double t0 = bench_now_s();
      if (vg_cpu_gemm_run(vs[v].kind, &g, vs[v].wt, ar->threads) != VG_OK) {
        fprintf(stderr, "bench-cpu-gemm: %s: %s\n", vs[v].name, vg_last_error());
        goto done;
      }
      if (it >= 0)
        times[v][it] = bench_now_s() - t0;
    }
  char dims[48];
  snprintf(dims, sizeof dims, "%dx%dx%d", s->m, s->n, s->k);
  rc = 0;
  for (int v = 0; v < nv; v++) {
    qsort(times[v], (size_t)ar->iters, sizeof(double), cmp_double);
    const double per = times[v][ar->iters / 2], e = max_err(d.outs + no * v, d.outs, no);
    totals[v] += per;
    printf("%-9s %-16s %-14s %9.3f ms %8.1f GFLOP/s  err %.2g\n", s->name, dims, vs[v].name,
           per * 1e3, 2.0 * s->m * s->n * s->k / per * 1e-9, e);
    if (!(e <= vs[v].bound)) {
      fprintf(stderr, "bench-cpu-gemm: %s on %s: error %.3g above %.3g\n", vs[v].name, dims, e,
              vs[v].bound);
      rc = 1;
    }
  }
  fflush(stdout);
done:
  release(&d);
  return rc;
}

int main(int argc, char **argv) {
  args ar;
  int rc = parse(argc, argv, &ar);
  if (rc)
    return rc;
  openblas_set_num_threads(ar.threads);
  variant vs[8];
  int nv = 0; /* the first is the reference for the error column */
  vs[nv++] = (variant){"openblas f32", VG_CPU_GEMM_OPENBLAS, VG_F32, ar.max_err};
  if (vg_cpu_gemm_runs(VG_CPU_GEMM_OWN))
    vs[nv++] = (variant){"own f32", VG_CPU_GEMM_OWN, VG_F32, ar.max_err};
  if (vg_cpu_gemm_runs(VG_CPU_GEMM_DNNL))
    vs[nv++] = (variant){"dnnl f32", VG_CPU_GEMM_DNNL, VG_F32, ar.max_err};
  vs[nv++] = (variant){"own f16", VG_CPU_GEMM_OWN, VG_F16, 1e-2};
  const char *why = NULL;
  if (vg_dnnl_bf16(&why))
    vs[nv++] = (variant){"dnnl bf16", VG_CPU_GEMM_DNNL, VG_BF16, 3e-2};
  const vg_cpu_gemm_choice *c = vg_cpu_gemm_choose(ar.threads);
  printf("threads %d; %s; BF16 %s; batch %d (%d tokens); median of %d\nbackend's choice: %s (%s)\n",
         ar.threads, vg_dnnl_describe(), why ? why : "yes", ar.batch, BENCH_TOKENS * ar.batch,
         ar.iters, vg_cpu_gemm_name(c->kind), c->how);
  double totals[8] = {0};
  int bad = 0;
  for (int s = 0; s < ar.n_shapes && rc == 0; s++) {
    const int r = bench_shape(&ar, &ar.shapes[s], vs, nv, totals);
    bad |= r == 1;
  }
  if (strcmp(ar.shapes[0].name, "custom") != 0)
    for (int v = 0; v < nv; v++)
      printf("ViT-L/14 block GEMMs x %d (one forward at batch %d): %-14s %9.1f ms\n", BENCH_LAYERS,
             ar.batch, vs[v].name, totals[v] * BENCH_LAYERS * 1e3);
  return bad ? 1 : 0;
}
