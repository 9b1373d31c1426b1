#include "bench-gemm-args.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double bench_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int bench_int_arg(const char *s, int lo, int hi, int *out) {
  char *end = NULL;
  const long v = strtol(s, &end, 10);
  *out = (int)v;
  return end != s && !*end && v >= lo && v <= hi;
}

int bench_positive_arg(const char *s, double *out) {
  char *end = NULL;
  *out = strtod(s, &end);
  return end != s && !*end && *out > 0;
}

int bench_shape_arg(const char *s, int max_m, shape *out) {
  char tail;
  out->name = "custom";
  return sscanf(s, "%dx%dx%d%c", &out->m, &out->n, &out->k, &tail) == 3 && out->m > 0 &&
         out->n > 0 && out->k > 0 && out->m <= max_m && out->n <= 1 << 16 && out->k <= 1 << 16;
}

int bench_vit_shapes(int batch, shape *out) {
  const int m = BENCH_TOKENS * batch;
  out[0] = (shape){"qkv", m, 3 * BENCH_WIDTH, BENCH_WIDTH};
  out[1] = (shape){"attn-out", m, BENCH_WIDTH, BENCH_WIDTH};
  out[2] = (shape){"mlp-fc1", m, BENCH_MLP, BENCH_WIDTH};
  out[3] = (shape){"mlp-fc2", m, BENCH_WIDTH, BENCH_MLP};
  return 4;
}
