/* What the GEMM benchmarks (bench-gemm, bench-cpu-gemm) share: the clock,
 * their option values, and ViT-L/14's block GEMMs at MVFA's 290 tokens. */
#pragma once

#define BENCH_TOKENS 290 /* MVFA: ViT-L/14 at 240 px, 17 x 17 patches + CLS */
#define BENCH_WIDTH 1024
#define BENCH_MLP 4096
#define BENCH_LAYERS 24

typedef struct shape {
  const char *name;
  int m, n, k;
} shape;

/* Seconds on the monotonic clock. */
double bench_now_s(void);
/* An integer in lo..hi from `s` into *out; 0 when it is not one. */
int bench_int_arg(const char *s, int lo, int hi, int *out);
/* A number above 0 from `s` into *out; 0 when it is not one. */
int bench_positive_arg(const char *s, double *out);
/* "MxNxK" into *s (named "custom"), each at least 1, M at most max_m and N, K
 * at most 65536; 0 when it is not that. */
int bench_shape_arg(const char *s, int max_m, shape *out);
/* One transformer block's four GEMMs (qkv, attn-out, mlp-fc1, mlp-fc2) for
 * `batch` images into out[0..3]; returns 4. */
int bench_vit_shapes(int batch, shape *out);
