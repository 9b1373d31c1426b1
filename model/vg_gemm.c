/* A GotoBLAS-style GEMM: for each block of KC depths, a few NR-wide column
 * panels of B are packed depth-major (converting F16 on the way), then a
 * register-blocked micro-kernel sweeps MR rows of A at a time over them. */
#include "vg_gemm.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vg_backend.h"

#define MR VG_GEMM_MR /* rows of A per micro-kernel call */
#define KC 256        /* depth block: a packed panel of 32 columns is 32 KiB */
#define GROUP 1       /* panels packed together (one: the packed panel stays in L1) */
#define NR_MAX 32     /* panel width: 32 with AVX-512, 16 with AVX2 */

/* c[r][0..NR) (+)= sum_p rows[r][p] * bp[p][0..NR) for r < MR (row stride
 * ldc): adding to c when `add`, else overwriting it (c is then not read). */
typedef void (*kernel_fn)(int kc, const float *const *rows, const float *bp, float *c, int64_t ldc,
                          int add);

__attribute__((target("avx512f"))) static void
kernel_avx512(int kc, const float *const *rows, const float *bp, float *cp, int64_t ldc, int add) {
  __m512 c[MR][2];
  for (int r = 0; r < MR; r++) {
    c[r][0] = add ? _mm512_loadu_ps(cp + r * ldc) : _mm512_setzero_ps();
    c[r][1] = add ? _mm512_loadu_ps(cp + r * ldc + 16) : _mm512_setzero_ps();
  }
  const float *a0 = rows[0], *a1 = rows[1], *a2 = rows[2], *a3 = rows[3], *a4 = rows[4],
              *a5 = rows[5];
  for (int p = 0; p < kc; p++, bp += 32) {
    const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
    __m512 x = _mm512_set1_ps(a0[p]);
    c[0][0] = _mm512_fmadd_ps(x, b0, c[0][0]), c[0][1] = _mm512_fmadd_ps(x, b1, c[0][1]);
    x = _mm512_set1_ps(a1[p]);
    c[1][0] = _mm512_fmadd_ps(x, b0, c[1][0]), c[1][1] = _mm512_fmadd_ps(x, b1, c[1][1]);
    x = _mm512_set1_ps(a2[p]);
    c[2][0] = _mm512_fmadd_ps(x, b0, c[2][0]), c[2][1] = _mm512_fmadd_ps(x, b1, c[2][1]);
    x = _mm512_set1_ps(a3[p]);
    c[3][0] = _mm512_fmadd_ps(x, b0, c[3][0]), c[3][1] = _mm512_fmadd_ps(x, b1, c[3][1]);
    x = _mm512_set1_ps(a4[p]);
    c[4][0] = _mm512_fmadd_ps(x, b0, c[4][0]), c[4][1] = _mm512_fmadd_ps(x, b1, c[4][1]);
    x = _mm512_set1_ps(a5[p]);
    c[5][0] = _mm512_fmadd_ps(x, b0, c[5][0]), c[5][1] = _mm512_fmadd_ps(x, b1, c[5][1]);
  }
  for (int r = 0; r < MR; r++) {
    _mm512_storeu_ps(cp + r * ldc, c[r][0]);
    _mm512_storeu_ps(cp + r * ldc + 16, c[r][1]);
  }
}

__attribute__((target("avx2,fma"))) static void
kernel_avx2(int kc, const float *const *rows, const float *bp, float *cp, int64_t ldc, int add) {
  __m256 c[MR][2];
  for (int r = 0; r < MR; r++) {
    c[r][0] = add ? _mm256_loadu_ps(cp + r * ldc) : _mm256_setzero_ps();
    c[r][1] = add ? _mm256_loadu_ps(cp + r * ldc + 8) : _mm256_setzero_ps();
  }
  for (int p = 0; p < kc; p++, bp += 16) {
    const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
    for (int r = 0; r < MR; r++) {
      const __m256 x = _mm256_set1_ps(rows[r][p]);
      c[r][0] = _mm256_fmadd_ps(x, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(x, b1, c[r][1]);
    }
  }
  for (int r = 0; r < MR; r++) {
    _mm256_storeu_ps(cp + r * ldc, c[r][0]);
    _mm256_storeu_ps(cp + r * ldc + 8, c[r][1]);
  }
}

/* Plain C, for CPUs without AVX2 (where the backend prefers OpenBLAS anyway). */
static void kernel_c(int kc, const float *const *rows, const float *bp, float *cp, int64_t ldc,
                     int add) {
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < 16 && !add; j++)
      cp[r * ldc + j] = 0.0f;
  for (int r = 0; r < MR; r++)
    for (int p = 0; p < kc; p++)
      for (int j = 0; j < 16; j++)
        cp[r * ldc + j] += rows[r][p] * bp[p * 16 + j];
}

static void halves_c(const uint16_t *h, float *f, int n) {
  for (int i = 0; i < n; i++)
    f[i] = vg_f16_to_f32(h[i]);
}

/* n halves to floats with F16C (which every AVX2 and AVX-512 CPU here has). */
__attribute__((target("f16c,avx"))) static void halves(const uint16_t *h, float *f, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
  for (; i < n; i++)
    f[i] = vg_f16_to_f32(h[i]);
}

static struct {
  pthread_once_t once;
  kernel_fn kernel;
  void (*halves)(const uint16_t *h, float *f, int n);
  int nr, fast;
  const char *kind;
} cpu = {.once = PTHREAD_ONCE_INIT};

static void pick(void) {
  const char *env = getenv("VG_CPU_GEMM");
  const int off = env && strcmp(env, "openblas") == 0;
  const int avx2 = env && strcmp(env, "avx2") == 0; /* forced, for tests and benchmarks */
  __builtin_cpu_init();
  cpu.kind = "c";
  cpu.kernel = kernel_c, cpu.halves = halves_c, cpu.nr = 16;
  if (off || !__builtin_cpu_supports("f16c"))
    return;
  if (__builtin_cpu_supports("avx512f") && !avx2)
    cpu.kernel = kernel_avx512, cpu.nr = 32, cpu.kind = "avx512", cpu.fast = 1;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    cpu.kernel = kernel_avx2, cpu.nr = 16, cpu.kind = "avx2", cpu.fast = 1;
  if (cpu.fast)
    cpu.halves = halves;
}

int vg_gemm_available(void) {
  pthread_once(&cpu.once, pick);
  return cpu.fast;
}

vg_gemm_kernel_fn vg_gemm_kernel(int *nr) {
  pthread_once(&cpu.once, pick);
  *nr = cpu.nr;
  return cpu.kernel;
}

const char *vg_gemm_kind(void) {
  pthread_once(&cpu.once, pick);
  return cpu.kind;
}

/* Packs columns [j0, j0 + nr) x depths [k0, k0 + kc) of B into bp[p][jj],
 * zero beyond column n. Linear-layout rows are first copied whole into `rows`
 * (nr x KC scratch; sequential reads keep the memory system busy), then
 * transposed from cache; the next panel's rows are prefetched meanwhile. */
static void pack(const vg_gemm_args *g, int j0, int k0, int kc, int nr, float *bp, float *rows) {
  const int nc = g->n - j0 < nr ? g->n - j0 : nr;
  if (g->w_kn) {
    for (int p = 0; p < kc; p++) {
      const float *w = (const float *)g->w + (int64_t)(k0 + p) * g->ldw + j0;
      memcpy(bp + p * nr, w, sizeof(float) * (size_t)nc);
      memset(bp + p * nr + nc, 0, sizeof(float) * (size_t)(nr - nc));
    }
    return;
  }
  const size_t esize = g->w_f16 ? 2 : 4;
  for (int jj = 0; jj < nc; jj++) {
    const char *src = (const char *)g->w + ((int64_t)(j0 + jj) * g->ldw + k0) * esize;
    if (g->w_f16)
      cpu.halves((const uint16_t *)src, rows + jj * KC, kc);
    else
      memcpy(rows + jj * KC, src, sizeof(float) * (size_t)kc);
    if (j0 + nr + jj < g->n) { /* the same depths of the next panel's row */
      const char *next = src + (int64_t)nr * g->ldw * esize;
      for (size_t off = 0; off < (size_t)kc * esize; off += 64)
        __builtin_prefetch(next + off);
    }
  }
  for (int p = 0; p < kc; p++) {
    float *dst = bp + p * nr;
    for (int jj = 0; jj < nc; jj++)
      dst[jj] = rows[jj * KC + p];
    for (int jj = nc; jj < nr; jj++)
      dst[jj] = 0.0f;
  }
}

typedef struct job {
  const vg_gemm_args *g;
  int panels;
} job;

/* One thread's share: panels [first, last) of NR columns. */
static void run_panels(const vg_gemm_args *g, int first, int last) {
  const int nr = cpu.nr;
  float *bp = aligned_alloc(64, sizeof(float) * KC * NR_MAX * GROUP);
  float *tile = aligned_alloc(64, sizeof(float) * MR * NR_MAX);
  float *row = malloc(sizeof(float) * KC * NR_MAX);
  if (!bp || !tile || !row)
    abort(); /* 200 KiB: running out here means the process cannot go on */
  const int j_begin = first * nr, j_end = last * nr < g->n ? last * nr : g->n;
  for (int i = 0; i < g->m; i++)
    for (int j = j_begin; j < j_end; j++)
      g->out[i * g->ldo + j] = g->bias ? g->bias[j] : 0.0f;
  for (int k0 = 0; k0 < g->k; k0 += KC) {
    const int kc = g->k - k0 < KC ? g->k - k0 : KC;
    for (int p0 = first; p0 < last; p0 += GROUP) {
      const int np = last - p0 < GROUP ? last - p0 : GROUP;
      for (int q = 0; q < np; q++)
        pack(g, (p0 + q) * nr, k0, kc, nr, bp + q * KC * nr, row);
      for (int i0 = 0; i0 < g->m; i0 += MR) {
        const int mr = g->m - i0 < MR ? g->m - i0 : MR;
        const float *rows[MR];
        for (int r = 0; r < MR; r++) /* missing rows repeat the last; their results are dropped */
          rows[r] = g->a + (int64_t)(i0 + (r < mr ? r : mr - 1)) * g->lda + k0;
        for (int q = 0; q < np; q++) {
          const int j0 = (p0 + q) * nr, nc = g->n - j0 < nr ? g->n - j0 : nr;
          float *o = g->out + (int64_t)i0 * g->ldo + j0;
          if (mr == MR && nc == nr) /* a whole tile: straight into out */
            cpu.kernel(kc, rows, bp + q * KC * nr, o, g->ldo, 1);
          else {
            cpu.kernel(kc, rows, bp + q * KC * nr, tile, nr, 0);
            for (int r = 0; r < mr; r++)
              for (int jj = 0; jj < nc; jj++)
                o[r * g->ldo + jj] += tile[r * nr + jj];
          }
          if (g->post && k0 + kc == g->k) /* the tile is final */
            for (int r = 0; r < mr; r++)
              g->post(o + r * g->ldo, nc, g->post_arg);
        }
      }
    }
  }
  free(bp), free(tile), free(row);
}

static void gemm_thread(void *ctx, int t, int n) {
  const job *jb = ctx;
  const int per = (jb->panels + n - 1) / n;
  const int first = t * per, last = first + per < jb->panels ? first + per : jb->panels;
  if (first < last)
    run_panels(jb->g, first, last);
}

void vg_gemm(const vg_gemm_args *g, int threads) {
  vg_gemm_available();
  job jb = {.g = g, .panels = (g->n + cpu.nr - 1) / cpu.nr};
  /* Each thread needs at least a couple of panels to be worth starting. */
  int t = threads < jb.panels / 2 ? threads : jb.panels / 2;
  vg_parallel(t < 1 ? 1 : t, gemm_thread, &jb);
}
