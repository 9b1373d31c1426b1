/* Times MVFA scoring of one image at full size on random tokens, on the host
 * (vg_score.h, vg_membank.h) and through the backend (vg_score_backend.h) on
 * the CPU backend and on Vulkan (not a test):
 *   bench-score-backend [refs] [queries]
 * refs: references in the bank (default 4); VIGIL_VK_DEVICE picks the GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vg_cpu.h"
#include "vg_membank.h"
#include "vg_score_backend.h"
#include "vg_vulkan.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill(float *p, size_t n, unsigned *seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (float)rand_r(seed) / (float)RAND_MAX - 0.5f;
}

static const vg_score_shape shape = {4, 768, 17, 240};

typedef struct {
  const float *seg[4], *det[4];
  const float *text;
  float *maps; /* 3 x 4 + 3 planes */
} job;

static vg_score_out out_of(const job *j) {
  const size_t SS = (size_t)shape.side * shape.side;
  return (vg_score_out){.zero_layer_maps = j->maps,
                        .zero_map = j->maps + 4 * SS,
                        .few_layer_maps = j->maps + 5 * SS,
                        .few_map = j->maps + 9 * SS,
                        .few_det_map = j->maps + 10 * SS};
}

/* One bank of `refs` (all the same tokens: only the sizes matter here). */
static vg_membank *bank_of(vg_backend *be, const job *j, int refs, double *add_ms) {
  vg_membank *bank = NULL;
  if (vg_membank_new(&shape, (size_t)refs, &bank) != VG_OK ||
      (be && vg_membank_mirror(bank, be) != VG_OK))
    return NULL;
  double t0 = now();
  for (int r = 0; r < refs; r++)
    if (vg_membank_add(bank, j->seg, j->det, NULL) != VG_OK)
      return NULL;
  if (be)
    vg_backend_synchronize(be);
  *add_ms = 1e3 * (now() - t0) / refs;
  return bank;
}

static int bench_host(const job *j, int refs, int queries) {
  double add_ms;
  vg_membank *bank = bank_of(NULL, j, refs, &add_ms);
  if (!bank)
    return 1;
  vg_score_out o = out_of(j);
  double t0 = now();
  for (int q = 0; q < queries; q++) {
    vg_score_zero_seg(&shape, j->seg, j->text, o.zero_layer_maps, o.zero_map);
    vg_score_zero_det(&shape, j->det, j->text, NULL, &o.zero_score);
    vg_membank_query(bank, VG_HEAD_SEG, j->seg, o.few_layer_maps, o.few_map, NULL);
    vg_membank_query(bank, VG_HEAD_DET, j->det, NULL, o.few_det_map, &o.few_score);
  }
  printf("host (vg_score + vg_membank): add %.2f ms/ref, score %.1f ms/image\n", add_ms,
         1e3 * (now() - t0) / queries);
  vg_membank_free(bank);
  return 0;
}

static int bench_backend(vg_backend *be, const job *j, int refs, int queries) {
  double add_ms;
  vg_membank *bank = bank_of(be, j, refs, &add_ms);
  vg_scorer *sc = NULL;
  if (!bank || vg_scorer_new(be, &shape, &sc) != VG_OK)
    return 1;
  vg_score_out o = out_of(j);
  vg_status st = VG_OK;
  double first = 0, t0 = now();
  for (int q = 0; q <= queries && st == VG_OK; q++) { /* the first run warms up */
    st = vg_scorer_set_text(sc, j->text);
    if (st == VG_OK)
      st = vg_scorer_run_host(sc, j->seg, j->det, vg_membank_mirrored(bank), &o);
    if (q == 0)
      first = now() - t0, t0 = now();
  }
  if (st != VG_OK)
    return 1;
  printf("%s (%s): add %.2f ms/ref, first %.1f ms, score %.1f ms/image\n", be->kind,
         be->device_name, add_ms, 1e3 * first, 1e3 * (now() - t0) / queries);
  vg_scorer_free(sc);
  vg_membank_free(bank);
  return 0;
}

int main(int argc, char **argv) {
  int refs = argc > 1 ? atoi(argv[1]) : 4, queries = argc > 2 ? atoi(argv[2]) : 5;
  if (refs < 1 || queries < 1) {
    fprintf(stderr, "usage: bench-score-backend [refs >= 1] [queries >= 1]\n");
    return 2;
  }
  const size_t layer = (size_t)vg_score_tokens(&shape) * shape.channels;
  const size_t SS = (size_t)shape.side * shape.side;
  unsigned seed = 1;
  float *tok = malloc(sizeof(float) * 8 * layer), *text = malloc(sizeof(float) * 1536);
  job j = {.text = text, .maps = malloc(sizeof(float) * 11 * SS)};
  if (!tok || !text || !j.maps)
    return 1;
  fill(tok, 8 * layer, &seed);
  fill(text, 1536, &seed);
  for (int l = 0; l < 4; l++)
    j.seg[l] = tok + l * layer, j.det[l] = tok + (4 + l) * layer;
  printf("MVFA scoring of 1 image, %d refs (4 layers, 768 wide, 17x17 -> 240x240)\n", refs);
  int rc = bench_host(&j, refs, queries);
  vg_backend *cpu = vg_cpu_backend_new(0);
  rc |= bench_backend(cpu, &j, refs, queries);
  vg_backend_destroy(cpu);
  vg_backend *vk = vg_vulkan_backend_new(NULL);
  if (vk)
    rc |= bench_backend(vk, &j, refs, queries);
  else
    printf("vulkan: %s\n", vg_last_error());
  vg_backend_destroy(vk);
  if (rc)
    fprintf(stderr, "bench-score-backend: %s\n", vg_last_error());
  free(tok), free(text), free(j.maps);
  return rc;
}
