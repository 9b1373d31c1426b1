/* Times MVFA scoring at full size on random tokens (not a test):
 *   bench-score [refs] [queries]
 * refs: references in the bank (default 44 = 4 shots x 11 augmentations). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vg_augment.h"
#include "vg_membank.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill(float *p, size_t n, unsigned *seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (float)rand_r(seed) / (float)RAND_MAX - 0.5f;
}

int main(int argc, char **argv) {
  int refs = argc > 1 ? atoi(argv[1]) : 44, queries = argc > 2 ? atoi(argv[2]) : 5;
  if (refs < 1 || queries < 1) {
    fprintf(stderr, "usage: bench-score [refs >= 1] [queries >= 1]\n");
    return 2;
  }
  const vg_score_shape s = {4, 768, 17, 240};
  size_t layer = (size_t)vg_score_tokens(&s) * s.channels, SS = (size_t)s.side * s.side;
  unsigned seed = 1;
  float *tok = malloc(sizeof(float) * 2 * s.layers * layer), *text = malloc(sizeof(float) * 1536);
  float *maps = malloc(sizeof(float) * 5 * SS), *img = malloc(sizeof(float) * 3 * 240 * 240);
  float *aug = malloc(sizeof(float) * VG_AUGMENT_COUNT * 3 * 240 * 240);
  if (!tok || !text || !maps || !img || !aug)
    return 1;
  fill(tok, 2 * s.layers * layer, &seed);
  fill(text, 1536, &seed);
  fill(img, 3 * 240 * 240, &seed);
  const float *seg[4], *det[4];
  for (int l = 0; l < 4; l++) {
    seg[l] = tok + l * layer;
    det[l] = tok + (4 + l) * layer;
  }
  vg_membank *bank = NULL;
  if (vg_membank_new(&s, (size_t)refs, &bank) != VG_OK) {
    fprintf(stderr, "%s\n", vg_last_error());
    return 1;
  }
  double t0 = now();
  for (int r = 0; r < refs; r++)
    vg_membank_add(bank, seg, det, NULL);
  double t1 = now();
  for (int q = 0; q < queries; q++) {
    vg_membank_query(bank, VG_HEAD_SEG, seg, maps, maps + 4 * SS, NULL);
    vg_membank_query(bank, VG_HEAD_DET, det, NULL, maps + 4 * SS, NULL);
  }
  double t2 = now();
  float score;
  for (int q = 0; q < queries; q++) {
    vg_score_zero_seg(&s, seg, text, maps, maps + 4 * SS);
    vg_score_zero_det(&s, det, text, NULL, &score);
  }
  double t3 = now();
  vg_augment_mvfa(img, 3, 240, 240, aug);
  double t4 = now();
  printf("bank: %d refs, %.1f MiB; add %.2f ms/ref\n", refs,
         (double)vg_membank_bytes(bank) / (1 << 20), 1e3 * (t1 - t0) / refs);
  printf("few-shot query (seg + det heads, 4 layers, 240x240 maps): %.1f ms\n",
         1e3 * (t2 - t1) / queries);
  printf("zero-shot (seg map + det score): %.2f ms\n", 1e3 * (t3 - t2) / queries);
  printf("augment 3x240x240 -> 11 images: %.1f ms\n", 1e3 * (t4 - t3));
  vg_membank_free(bank);
  free(tok);
  free(text);
  free(maps);
  free(img);
  free(aug);
  return 0;
}
