/* bench-gemm: the matmul op (out = a w^T + bias) on ViT-L/14's GEMM shapes
 * at MVFA's 290 tokens per image, on Vulkan with F32 weights, F16 weights on
 * the plain GEMM, and F16 weights on cooperative matrices (where the device
 * has them), against the CPU backend in the same run.
 *
 * Vulkan time: `iters` matmuls recorded as one batch and synchronised, wall
 * time over the batch (submission cost is spread over the batch). CPU time:
 * the median of `cpu-iters` single calls. Each result is checked against the
 * CPU backend's (F16 variants against the CPU with the same F16 weights) and
 * the normalised max error printed, so a fast wrong kernel shows.
 *
 * usage: bench-gemm [--batch B] [--iters N] [--cpu-iters N] [--no-cpu]
 *                   [--shape MxNxK]... [--device D] [--max-err E]
 * Exit status: 0; 1 on a failure (message on stderr) or, with --max-err, an
 * error above E; 2 on bad arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-gemm-args.h"
#include "vg_cpu.h"
#include "vg_vulkan.h"

#define MAX_SHAPES 16

typedef struct variant {
  const char *name;
  vg_backend *be;
  vg_dtype wt;
  int cpu;
} variant;

typedef struct args {
  int batch, iters, cpu_iters, no_cpu, n_shapes;
  const char *device;
  double max_err; /* 0: no limit */
  shape shapes[MAX_SHAPES];
} args;

static int usage(const char *msg) {
  fprintf(stderr,
          "bench-gemm: %s\nusage: bench-gemm [--batch B] [--iters N] [--cpu-iters N] [--no-cpu] "
          "[--shape MxNxK]... [--device D] [--max-err E]\n",
          msg);
  return 2;
}

static int parse(int argc, char **argv, args *a) {
  *a = (args){.batch = 1, .iters = 20, .cpu_iters = 3};
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(o, "--no-cpu") == 0) {
      a->no_cpu = 1;
      continue;
    }
    if (!v)
      return usage("an option lacks its value or is unknown");
    i++;
    int ok = 1;
    if (strcmp(o, "--batch") == 0)
      ok = bench_int_arg(v, 1, 256, &a->batch);
    else if (strcmp(o, "--iters") == 0)
      ok = bench_int_arg(v, 1, 200, &a->iters); /* one batch holds 256 dispatches */
    else if (strcmp(o, "--cpu-iters") == 0)
      ok = bench_int_arg(v, 1, 100, &a->cpu_iters);
    else if (strcmp(o, "--device") == 0)
      a->device = v;
    else if (strcmp(o, "--max-err") == 0)
      ok = bench_positive_arg(v, &a->max_err);
    else if (strcmp(o, "--shape") == 0 && a->n_shapes < MAX_SHAPES)
      ok = bench_shape_arg(v, 1 << 20, &a->shapes[a->n_shapes++]);
    else
      return usage("unknown option or too many --shape");
    if (!ok)
      return usage("bad option value (batch 1-256, iters 1-200, cpu-iters 1-100, shape MxNxK, "
                   "max-err > 0)");
  }
  if (a->n_shapes == 0) /* one transformer block's GEMMs */
    a->n_shapes = bench_vit_shapes(a->batch, a->shapes);
  return 0;
}

static double max_err(const float *got, const float *want, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(got[i]) || isnan(want[i]))
      return INFINITY;
    num = fmax(num, fabs((double)got[i] - want[i]));
    den = fmax(den, fabs((double)want[i]));
  }
  return num / (den > 0 ? den : 1);
}

static int cmp_double(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* Times one variant on one shape; the output goes to `out`. Seconds per
 * matmul, or a negative value on failure. */
static double time_variant(const variant *v, const shape *s, const float *a, const void *w,
                           const float *bias, int iters, float *out) {
  vg_tensor *ta = vg_tensor_new(v->be, VG_F32, s->m, s->k);
  vg_tensor *tw = vg_tensor_new(v->be, v->wt, s->n, s->k);
  vg_tensor *tb = vg_tensor_new(v->be, VG_F32, 1, s->n);
  vg_tensor *to = vg_tensor_new(v->be, VG_F32, s->m, s->n);
  double per = -1, times[100];
  if (!ta || !tw || !tb || !to || vg_tensor_upload(ta, a) || vg_tensor_upload(tw, w) ||
      vg_tensor_upload(tb, bias))
    goto done;
  /* Warm-up: pipelines, caches, clocks. */
  if (vg_matmul(to, ta, tw, tb) || vg_matmul(to, ta, tw, tb) || vg_backend_synchronize(v->be))
    goto done;
  if (v->cpu) {
    for (int i = 0; i < iters; i++) {
      const double t0 = bench_now_s();
      if (vg_matmul(to, ta, tw, tb) || vg_backend_synchronize(v->be))
        goto done;
      times[i] = bench_now_s() - t0;
    }
    qsort(times, (size_t)iters, sizeof *times, cmp_double);
    per = times[iters / 2];
  } else {
    const double t0 = bench_now_s();
    for (int i = 0; i < iters; i++)
      if (vg_matmul(to, ta, tw, tb))
        goto done;
    if (vg_backend_synchronize(v->be))
      goto done;
    per = (bench_now_s() - t0) / iters;
  }
  if (vg_tensor_download(to, out))
    per = -1;
done:
  vg_tensor_free(ta), vg_tensor_free(tw), vg_tensor_free(tb), vg_tensor_free(to);
  return per;
}

static void fill(float *v, size_t n, unsigned *state) {
  for (size_t i = 0; i < n; i++) {
    *state = *state * 1664525u + 1013904223u;
    v[i] = (float)((*state >> 8) * (2.0 / 16777216.0) - 1.0);
  }
}

/* Runs every variant on one shape; adds each time to totals[]. */
static int bench_shape(const args *ar, const shape *s, variant *vs, int nv, double *totals,
                       int *too_big) {
  const size_t na = (size_t)s->m * s->k, nw = (size_t)s->n * s->k, no = (size_t)s->m * s->n;
  float *a = malloc(na * sizeof *a), *w = malloc(nw * sizeof *w), *bias = malloc(s->n * 4);
  uint16_t *wh = malloc(nw * sizeof *wh);
  float *outs = malloc(no * sizeof *outs * (size_t)nv);
  int rc = 1;
  if (!a || !w || !bias || !wh || !outs) {
    fprintf(stderr, "bench-gemm: out of memory for %dx%dx%d\n", s->m, s->n, s->k);
    goto done;
  }
  unsigned state = (unsigned)(s->m * 31 + s->n * 7 + s->k);
  fill(a, na, &state), fill(w, nw, &state), fill(bias, s->n, &state);
  for (size_t i = 0; i < nw; i++)
    wh[i] = vg_f32_to_f16(w[i]);
  const double flop = 2.0 * s->m * s->n * s->k;
  char dims[48];
  snprintf(dims, sizeof dims, "%dx%dx%d", s->m, s->n, s->k);
  for (int i = 0; i < nv; i++) {
    const void *wv = vs[i].wt == VG_F16 ? (const void *)wh : (const void *)w;
    const int iters = vs[i].cpu ? ar->cpu_iters : ar->iters;
    const double per = time_variant(&vs[i], s, a, wv, bias, iters, outs + no * i);
    if (per < 0) {
      fprintf(stderr, "bench-gemm: %s on %dx%dx%d: %s\n", vs[i].name, s->m, s->n, s->k,
              vg_last_error());
      goto done;
    }
    totals[i] += per;
    /* The reference: the CPU variant with the same weight type. */
    char err[32] = "-";
    int bad = 0;
    for (int r = 0; r < i; r++) {
      if (vs[r].cpu && vs[r].wt == vs[i].wt) {
        const double e = max_err(outs + no * i, outs + no * r, no);
        snprintf(err, sizeof err, "%.2g", e);
        bad = ar->max_err > 0 && !(e <= ar->max_err);
      }
    }
    printf("%-9s %-16s %-16s %9.3f ms %8.3f TFLOP/s  err %s\n", s->name, dims, vs[i].name,
           per * 1e3, flop / per * 1e-12, err);
    fflush(stdout);
    if (bad) { /* reported, and the exit status says so, but the others still run */
      fprintf(stderr, "bench-gemm: %s on %dx%dx%d: error %s exceeds --max-err %g\n", vs[i].name,
              s->m, s->n, s->k, err, ar->max_err);
      *too_big = 1;
    }
  }
  rc = 0;
done:
  free(a), free(w), free(bias), free(wh), free(outs);
  return rc;
}

int main(int argc, char **argv) {
  args ar;
  int rc = parse(argc, argv, &ar);
  if (rc)
    return rc;
  vg_vk_options plain_o = {.device = ar.device, .no_coopmat = 1}, coop_o = {.device = ar.device};
  vg_backend *plain = vg_vulkan_backend_new(&plain_o), *coop = NULL, *cpu = NULL;
  if (!plain) {
    fprintf(stderr, "bench-gemm: %s\n", vg_last_error());
    return 1;
  }
  const char *why = NULL;
  coop = vg_vulkan_backend_new(&coop_o);
  if (coop && !vg_vulkan_coopmat(coop, &why)) {
    printf("cooperative matrices: off (%s)\n", why);
    vg_backend_destroy(coop), coop = NULL;
  } else if (coop)
    printf("cooperative matrices: on (%s)\n", why);
  variant vs[5];
  int nv = 0;
  if (!ar.no_cpu) { /* first: the references for the error column */
    cpu = vg_cpu_backend_new(0);
    if (!cpu) {
      fprintf(stderr, "bench-gemm: %s\n", vg_last_error());
      vg_backend_destroy(plain), vg_backend_destroy(coop);
      return 1;
    }
    vs[nv++] = (variant){"cpu f32", cpu, VG_F32, 1};
    vs[nv++] = (variant){"cpu f16", cpu, VG_F16, 1};
  }
  vs[nv++] = (variant){"vulkan f32", plain, VG_F32, 0};
  vs[nv++] = (variant){"vulkan f16", plain, VG_F16, 0};
  if (coop)
    vs[nv++] = (variant){"vulkan f16 coop", coop, VG_F16, 0};
  printf("vulkan: %s; cpu: %s; batch %d (%d tokens); vulkan %d iters per batch, cpu median of "
         "%d\n",
         plain->device_name, cpu ? cpu->device_name : "skipped", ar.batch, BENCH_TOKENS * ar.batch,
         ar.iters, ar.cpu_iters);
  double totals[5] = {0};
  int too_big = 0;
  for (int s = 0; s < ar.n_shapes && rc == 0; s++)
    rc = bench_shape(&ar, &ar.shapes[s], vs, nv, totals, &too_big);
  if (rc == 0 && strcmp(ar.shapes[0].name, "custom") != 0)
    for (int i = 0; i < nv; i++) /* the four GEMMs above, once per block */
      printf("ViT-L/14 block GEMMs x %d (one forward at batch %d): %-16s %9.2f ms\n", BENCH_LAYERS,
             ar.batch, vs[i].name, totals[i] * BENCH_LAYERS * 1e3);
  vg_backend_destroy(plain), vg_backend_destroy(coop), vg_backend_destroy(cpu);
  return rc || too_big ? 1 : 0;
}
