/* Which GEMM runs the CPU backend's matmuls: the own kernel (vg_gemm.c),
 * OpenBLAS or oneDNN (vg_dnnl.h), chosen per machine by timing each on
 * ViT-L/14's QKV shape (once; the verdict is cached), or forced with
 * VG_CPU_GEMM=own|openblas|dnnl. */
#pragma once

#include "vg_backend.h"
#include "vg_gemm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_cpu_gemm_kind {
  VG_CPU_GEMM_OWN,
  VG_CPU_GEMM_OPENBLAS,
  VG_CPU_GEMM_DNNL,
  VG_CPU_GEMM_KINDS
} vg_cpu_gemm_kind;

typedef struct vg_cpu_gemm_choice {
  vg_cpu_gemm_kind kind;
  /* How it was chosen, e.g. "probe 290x3072x1024, 2 threads: own 213, openblas
   * 230, dnnl 262 GFLOP/s" or "VG_CPU_GEMM=openblas". */
  char how[256];
  double gflops[VG_CPU_GEMM_KINDS]; /* the probe's figures; 0 where not timed */
} vg_cpu_gemm_choice;

/* "own", "openblas" or "dnnl". */
const char *vg_cpu_gemm_name(vg_cpu_gemm_kind kind);
/* Whether `kind` can run here (the own kernel needs AVX2 or AVX-512, oneDNN
 * the build). */
int vg_cpu_gemm_runs(vg_cpu_gemm_kind kind);
/* The process's choice, made on the first call with `threads` threads: the
 * cached verdict for them, or a probe (which caches its verdict). */
const vg_cpu_gemm_choice *vg_cpu_gemm_choose(int threads);
/* out = a w^T + bias (vg_gemm_args) through `kind`, with `wt` weights (F32,
 * F16, BF16). F16 weights go to the own kernel where oneDNN was asked (it has
 * no F16 path on most CPUs), BF16 weights only to oneDNN. */
vg_status vg_cpu_gemm_run(vg_cpu_gemm_kind kind, const vg_gemm_args *g, vg_dtype wt, int threads);
/* 1 when vg_cpu_gemm_run(kind, ..., wt) goes to oneDNN, which applies
 * vg_gemm_args.act itself. */
int vg_cpu_gemm_fuses_act(vg_cpu_gemm_kind kind, vg_dtype wt);

#ifdef __cplusplus
}
#endif
