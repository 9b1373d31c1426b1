/* The probe times each available GEMM on ViT-L/14's QKV matmul at MVFA's 290
 * tokens (the most frequent big shape of a forward), with the threads the
 * backend will use: which one wins depends on the CPU model,
 * the OpenBLAS build and the thread count, so a static rule would be wrong
 * somewhere (OpenBLAS 0.3.21 runs SSE3 kernels on CPUs it does not know). It
 * costs about 3 x 4 such matmuls (some 90 ms on 2 cores).
 *
 * The verdict is kept per machine, in $XDG_CACHE_HOME/vigil/cpu-gemm-T (T
 * threads; ~/.cache without XDG_CACHE_HOME), keyed by the CPU model and the
 * libraries: later processes take it instead of probing again, so every run
 * on a machine uses the same kernel and gives the same bits (kernels sum in
 * different orders). Delete the file to probe again. */
#include "vg_cpu_gemm.h"

#include <cblas.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vg_dnnl.h"

/* With OpenMP in the build (vg_parallel on oneDNN's threads), OpenBLAS's own
 * pool busy-waits beside ours through the attention and element-wise ops: a
 * forward on OpenBLAS took 1.7 s against oneDNN's 1.35 s when the probe had
 * them level (AVX2 paths, 2 cores). So OpenBLAS must win the probe by this
 * factor there. */
#ifdef VG_HAVE_OPENMP
#define OPENBLAS_COST (1.0 / 1.15)
#else
#define OPENBLAS_COST 1.0
#endif

#define PROBE_M 290
#define PROBE_N 3072
#define PROBE_K 1024

static const char *const names[VG_CPU_GEMM_KINDS] = {"own", "openblas", "dnnl"};

const char *vg_cpu_gemm_name(vg_cpu_gemm_kind kind) {
  return kind >= 0 && kind < VG_CPU_GEMM_KINDS ? names[kind] : "?";
}

int vg_cpu_gemm_runs(vg_cpu_gemm_kind kind) {
  switch (kind) {
  case VG_CPU_GEMM_OWN: return vg_gemm_available();
  case VG_CPU_GEMM_OPENBLAS: return 1;
  case VG_CPU_GEMM_DNNL: return vg_dnnl_built();
  default: return 0;
  }
}

/* F16 weights, widened to F32 for OpenBLAS (caller frees). */
static float *widen(const vg_gemm_args *g) {
  const size_t n = (size_t)g->n * (size_t)g->ldw;
  float *out = malloc(n * sizeof *out);
  if (!out)
    return NULL;
  const uint16_t *h = g->w;
  for (size_t i = 0; i < n; i++)
    out[i] = vg_f16_to_f32(h[i]);
  return out;
}

static vg_status run_openblas(const vg_gemm_args *g) {
  const float *w = g->w_f16 ? widen(g) : g->w;
  if (!w)
    return vg_fail(VG_ERR_NOMEM, "matmul: cannot widen F16 weights");
  float beta = 0.0f;
  if (g->bias) {
    for (int i = 0; i < g->m; i++)
      memcpy(g->out + (size_t)i * g->ldo, g->bias, (size_t)g->n * sizeof(float));
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, g->w_kn ? CblasNoTrans : CblasTrans, g->m, g->n, g->k,
              1.0f, g->a, (int)g->lda, w, (int)g->ldw, beta, g->out, (int)g->ldo);
  if (w != g->w)
    free((void *)w);
  return VG_OK;
}

int vg_cpu_gemm_fuses_act(vg_cpu_gemm_kind kind, vg_dtype wt) {
  return wt == VG_BF16 || (kind == VG_CPU_GEMM_DNNL && wt == VG_F32 && vg_dnnl_built());
}

vg_status vg_cpu_gemm_run(vg_cpu_gemm_kind kind, const vg_gemm_args *g, vg_dtype wt, int threads) {
  if (vg_cpu_gemm_fuses_act(kind, wt))
    return vg_dnnl_matmul(g, wt == VG_BF16, threads);
  if (kind != VG_CPU_GEMM_OPENBLAS && vg_gemm_available()) {
    vg_gemm(g, threads);
    return VG_OK;
  }
  return run_openblas(g);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Seconds of one run, or a negative value on failure. */
static double time_once(vg_cpu_gemm_kind kind, const vg_gemm_args *g, int threads) {
  const double t0 = now_s();
  return vg_cpu_gemm_run(kind, g, VG_F32, threads) == VG_OK ? now_s() - t0 : -1;
}

/* A probed kernel's speed as the choice weighs it (0 when not timed). */
static double worth(const vg_cpu_gemm_choice *c, vg_cpu_gemm_kind k) {
  return c->gflops[k] * (k == VG_CPU_GEMM_OPENBLAS ? OPENBLAS_COST : 1.0);
}

/* Times every kernel that runs here; c->how gets `note` then the figures. */
static void probe(vg_cpu_gemm_choice *c, int threads, const char *note) {
  float *a = malloc(sizeof(float) * PROBE_M * PROBE_K);
  float *w = malloc(sizeof(float) * PROBE_N * PROBE_K);
  float *out = malloc(sizeof(float) * PROBE_M * PROBE_N);
  if (!a || !w || !out) {
    snprintf(c->how, sizeof c->how, "no memory to probe; own where it runs");
    c->kind = vg_gemm_available() ? VG_CPU_GEMM_OWN : VG_CPU_GEMM_OPENBLAS;
    free(a), free(w), free(out);
    return;
  }
  for (int i = 0; i < PROBE_M * PROBE_K; i++)
    a[i] = (float)(i % 17) * 0.125f - 1.0f;
  for (int i = 0; i < PROBE_N * PROBE_K; i++)
    w[i] = (float)(i % 13) * 0.0625f - 0.375f;
  const vg_gemm_args g = {.m = PROBE_M,
                          .n = PROBE_N,
                          .k = PROBE_K,
                          .a = a,
                          .lda = PROBE_K,
                          .w = w,
                          .ldw = PROBE_K,
                          .out = out,
                          .ldo = PROBE_N};
  int len = snprintf(c->how, sizeof c->how, "%sprobe %dx%dx%d, %d threads:", note, PROBE_M, PROBE_N,
                     PROBE_K, threads);
  /* Per kernel a warm-up run (oneDNN compiles its kernel) and the best of
   * three. OpenBLAS goes last: its workers busy-wait some 0.1 s after a
   * call, and a kernel timed in that wake ran at half speed (seen: oneDNN
   * 85 against 171 GFLOP/s when the kernels took turns). */
  static const vg_cpu_gemm_kind order[] = {VG_CPU_GEMM_OWN, VG_CPU_GEMM_DNNL, VG_CPU_GEMM_OPENBLAS};
  double best[VG_CPU_GEMM_KINDS]; /* seconds; negative: cannot run */
  for (int k = 0; k < VG_CPU_GEMM_KINDS; k++)
    best[k] = vg_cpu_gemm_runs((vg_cpu_gemm_kind)k) ? HUGE_VAL : -1;
  for (size_t o = 0; o < sizeof order / sizeof *order; o++)
    for (int round = 0; round < 4 && best[order[o]] >= 0; round++) {
      const double t = time_once(order[o], &g, threads);
      if (t < 0 || (round > 0 && t < best[order[o]]))
        best[order[o]] = t;
    }
  c->kind = VG_CPU_GEMM_OPENBLAS;
  for (int k = 0; k < VG_CPU_GEMM_KINDS; k++) {
    if (!(best[k] > 0 && best[k] < HUGE_VAL))
      continue;
    c->gflops[k] = 2.0 * PROBE_M * PROBE_N * PROBE_K / best[k] * 1e-9;
    if (worth(c, (vg_cpu_gemm_kind)k) > worth(c, c->kind))
      c->kind = (vg_cpu_gemm_kind)k;
    if (len < (int)sizeof c->how)
      len +=
          snprintf(c->how + len, sizeof c->how - (size_t)len, " %s %.0f", names[k], c->gflops[k]);
  }
  if (len < (int)sizeof c->how)
    snprintf(c->how + len, sizeof c->how - (size_t)len, " GFLOP/s");
  free(a), free(w), free(out);
}

/* "model name" of /proc/cpuinfo, the thread count and the kernels' versions. */
static void cache_key(char *key, size_t size, int threads) {
  char model[128] = "unknown CPU", line[256];
  FILE *f = fopen("/proc/cpuinfo", "r");
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
      snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
      model[strcspn(model, "\n")] = 0;
      break;
    }
  if (f)
    fclose(f);
  snprintf(key, size, "%s; %d threads; own %s; %s; %s", model, threads, vg_gemm_kind(),
           vg_dnnl_describe(), openblas_get_config());
}

/* The cache file for `threads`, or 0 without a home. */
static int cache_path(char *path, size_t size, int threads) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (xdg && *xdg)
    return snprintf(path, size, "%s/vigil/cpu-gemm-%d", xdg, threads) < (int)size;
  return home && *home &&
         snprintf(path, size, "%s/.cache/vigil/cpu-gemm-%d", home, threads) < (int)size;
}

/* Takes a verdict stored under `key`; 0 when there is none. */
static int cache_read(vg_cpu_gemm_choice *c, const char *path, const char *key) {
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  char line[512];
  int kind = -1, ok = fgets(line, sizeof line, f) && strcspn(line, "\n") == strlen(key) &&
                      strncmp(line, key, strlen(key)) == 0;
  ok = ok &&
       fscanf(f, "%d %lf %lf %lf\n", &kind, &c->gflops[0], &c->gflops[1], &c->gflops[2]) == 4 &&
       kind >= 0 && kind < VG_CPU_GEMM_KINDS && vg_cpu_gemm_runs((vg_cpu_gemm_kind)kind) &&
       fgets(c->how, sizeof c->how, f);
  fclose(f);
  if (!ok)
    return 0;
  c->kind = (vg_cpu_gemm_kind)kind;
  c->how[strcspn(c->how, "\n")] = 0;
  return 1;
}

/* mkdir -p of the folder `path` is in. */
static void make_parent(const char *path) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  *strrchr(dir, '/') = 0;
  for (char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
    if (p)
      *p = 0;
    mkdir(dir, 0755);
    if (!p)
      break;
    *p = '/';
  }
}

/* Stores the verdict (best effort: without a writable cache the next process probes again). */
static void cache_write(const vg_cpu_gemm_choice *c, const char *path, const char *key) {
  char tmp[4200];
  make_parent(path);
  snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f)
    return;
  const int ok = fprintf(f, "%s\n%d %g %g %g\n%s (probed %s)\n", key, (int)c->kind, c->gflops[0],
                         c->gflops[1], c->gflops[2], c->how, "once; cached") > 0;
  if (fclose(f) == 0 && ok)
    rename(tmp, path);
  else
    remove(tmp);
}

/* An exclusive lock on "<path>.lock" (held until the descriptor closes), or -1. */
static int lock_cache(const char *path) {
  char name[4200];
  make_parent(path);
  snprintf(name, sizeof name, "%s.lock", path);
  const int fd = open(name, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int chosen;
static vg_cpu_gemm_choice choice;

static void choose(vg_cpu_gemm_choice *c, int threads) {
  const char *env = getenv("VG_CPU_GEMM");
  if (!env || !*env) {
    char key[512], path[4096];
    cache_key(key, sizeof key, threads);
    const int cached = cache_path(path, sizeof path, threads);
    if (cached && cache_read(c, path, key))
      return;
    /* One probe per machine: a process that finds another one probing waits
     * for its verdict, since two probes under load may disagree and runs on
     * one machine must give the same bits. */
    const int fd = cached ? lock_cache(path) : -1;
    if (fd >= 0 && cache_read(c, path, key)) {
      close(fd);
      return;
    }
    probe(c, threads, "");
    if (cached)
      cache_write(c, path, key);
    if (fd >= 0)
      close(fd); /* releases the lock */
    return;
  }
  char note[96];
  snprintf(note, sizeof note, "VG_CPU_GEMM=%.24s unknown (own, openblas or dnnl); ", env);
  for (int k = 0; k < VG_CPU_GEMM_KINDS; k++) {
    if (strcmp(env, names[k]) != 0)
      continue;
    if (vg_cpu_gemm_runs((vg_cpu_gemm_kind)k)) {
      c->kind = (vg_cpu_gemm_kind)k;
      snprintf(c->how, sizeof c->how, "VG_CPU_GEMM=%s", names[k]);
      return;
    }
    snprintf(note, sizeof note, "VG_CPU_GEMM=%s cannot run here (%s); ", names[k],
             k == VG_CPU_GEMM_DNNL ? "no oneDNN in this build" : "no AVX2 or AVX-512");
  }
  probe(c, threads, note);
}

const vg_cpu_gemm_choice *vg_cpu_gemm_choose(int threads) {
  pthread_mutex_lock(&lock);
  if (!chosen)
    choose(&choice, threads < 1 ? 1 : threads);
  chosen = 1;
  pthread_mutex_unlock(&lock);
  return &choice;
}
