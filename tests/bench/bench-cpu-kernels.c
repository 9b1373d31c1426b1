/* bench-cpu-kernels: the CPU backend's non-GEMM kernels on one ViT-L/14
 * forward's shapes at MVFA's 290 tokens (24 blocks): attention, exact GELU
 * over the MLP activations, and the 49 layer norms (24 of them with the fused
 * residual add), for each instruction set this CPU has ("c" is the plain C
 * fallback). Times are the minimum over `iters` runs of a whole forward's
 * worth of calls, so a machine shared with other work still gives the
 * kernels' own speed; the per-op profile of `vigil-cli bench --profile`
 * shows them inside the forward.
 *
 * usage: bench-cpu-kernels [--threads N] [--iters N] [--tokens T]
 * Exit status: 0; 2 on bad arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_cpu.h"
#include "vg_cpu_attn.h"
#include "vg_vec.h"

#define WIDTH 1024
#define MLP 4096
#define HEADS 16
#define LAYERS 24

static double now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static float *values(size_t n, float scale) {
  float *v = malloc(n * sizeof *v);
  if (!v) {
    fprintf(stderr, "bench-cpu-kernels: out of memory\n");
    exit(1);
  }
  unsigned s = 12345;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    v[i] = ((float)(s >> 8) / (float)(1 << 24) - 0.5f) * scale;
  }
  return v;
}

typedef struct shapes {
  int tokens, threads;
  float *qkv, *attn, *mlp, *mlp_src, *x, *add, *ln_out, *gamma, *beta;
} shapes;

/* One forward's attention: 24 calls through the backend's kernel. */
static double run_attention(shapes *s, clockid_t clock) {
  const double t0 = now_ms(clock);
  for (int l = 0; l < LAYERS; l++)
    if (vg_cpu_attention_run(s->attn, s->qkv, s->tokens, WIDTH, HEADS, 0, 1, s->threads) != VG_OK)
      exit(1);
  return now_ms(clock) - t0;
}

/* One forward's GELU, on the calling thread (the backend splits it over its
 * threads). Each layer starts from fresh values, untimed: GELU applied over
 * and over would drive the negatives into denormals. */
static double run_gelu(shapes *s, clockid_t clock) {
  const size_t n = (size_t)s->tokens * MLP;
  double ms = 0;
  for (int l = 0; l < LAYERS; l++) {
    memcpy(s->mlp, s->mlp_src, n * sizeof *s->mlp);
    const double t0 = now_ms(clock);
    vg_vec()->act(s->mlp, n, VG_ACT_GELU, 0);
    ms += now_ms(clock) - t0;
  }
  return ms;
}

/* One forward's 49 layer norms, every other one with the residual add. */
static double run_layer_norm(shapes *s, clockid_t clock) {
  const double t0 = now_ms(clock);
  for (int l = 0; l < 2 * LAYERS + 1; l++)
    for (int r = 0; r < s->tokens; r++)
      vg_vec()->layer_norm(s->x + (size_t)r * WIDTH, l % 2 ? s->add + (size_t)r * WIDTH : NULL,
                           s->ln_out + (size_t)r * WIDTH, s->gamma, s->beta, WIDTH, 1e-5f);
  return now_ms(clock) - t0;
}

/* The least time one run of fn took on `clock`. */
static double best_of(int iters, double (*fn)(shapes *, clockid_t), shapes *s, clockid_t clock) {
  double best = INFINITY;
  for (int i = 0; i < iters; i++) {
    const double ms = fn(s, clock);
    best = ms < best ? ms : best;
  }
  return best;
}

static int arg_int(int argc, char **argv, int *i, const char *name, int *out) {
  if (strcmp(argv[*i], name) != 0)
    return 0;
  char *end;
  const long v = *i + 1 < argc ? strtol(argv[*i + 1], &end, 10) : 0;
  if (*i + 1 >= argc || *end || v < 1 || v > 100000) {
    fprintf(stderr, "bench-cpu-kernels: %s needs a positive number\n", name);
    exit(2);
  }
  *out = (int)v;
  (*i)++;
  return 1;
}

int main(int argc, char **argv) {
  shapes s = {.tokens = 290, .threads = 2};
  int iters = 5;
  for (int i = 1; i < argc; i++)
    if (!arg_int(argc, argv, &i, "--threads", &s.threads) &&
        !arg_int(argc, argv, &i, "--iters", &iters) &&
        !arg_int(argc, argv, &i, "--tokens", &s.tokens)) {
      fprintf(stderr, "usage: bench-cpu-kernels [--threads N] [--iters N] [--tokens T]\n");
      return 2;
    }
  const size_t t = (size_t)s.tokens;
  s.qkv = values(t * 3 * WIDTH, 4), s.attn = values(t * WIDTH, 1), s.mlp = values(t * MLP, 8);
  s.mlp_src = values(t * MLP, 8);
  s.x = values(t * WIDTH, 2), s.add = values(t * WIDTH, 0.001f), s.ln_out = values(t * WIDTH, 1);
  s.gamma = values(WIDTH, 1), s.beta = values(WIDTH, 1);
  const double attn_flops = LAYERS * 4.0 * t * t * WIDTH;
  printf("ViT-L/14, %d tokens, %d layers, min of %d runs; attention on %d threads (wall ms, and "
         "CPU ms over all threads); GELU and layer norm on one thread (CPU ms)\n",
         s.tokens, LAYERS, iters, s.threads);
  printf("%-8s %9s %8s %13s %10s %9s %9s\n", "kernels", "attn ms", "GFLOP/s", "attn CPU ms",
         "GFLOP/s*", "GELU ms", "LN ms");
  const char *kinds[] = {"c", "avx2", "avx512"};
  for (int k = 0; k < 3; k++) {
    if (!vg_vec_force(kinds[k]))
      continue;
    const double attn = best_of(iters, run_attention, &s, CLOCK_MONOTONIC);
    const double attn_cpu = best_of(iters, run_attention, &s, CLOCK_PROCESS_CPUTIME_ID);
    const double gelu = best_of(iters, run_gelu, &s, CLOCK_THREAD_CPUTIME_ID);
    const double ln = best_of(iters, run_layer_norm, &s, CLOCK_THREAD_CPUTIME_ID);
    printf("%-8s %9.1f %8.1f %13.1f %10.1f %9.1f %9.1f\n", kinds[k], attn, attn_flops / attn * 1e-6,
           attn_cpu, attn_flops / attn_cpu * 1e-6 * s.threads, gelu, ln);
  }
  free(s.qkv), free(s.attn), free(s.mlp), free(s.mlp_src), free(s.x), free(s.add), free(s.ln_out);
  free(s.gamma), free(s.beta);
  printf("* from the CPU time: what the threads reach while they run (threads x per-core)\n");
  return 0;
}
