/* Times detection of a batch through the engine both ways (not a test): the
 * two steps (features to the host, then vigil_engine_detect per image, as
 * before vigil_engine_analyse_batch) and the fused call, with the bytes that
 * crossed between host and backend per image:
 *   bench-fused CLIP ADAPTERS [backend] [images] [reps] [refs]
 * backend: a compute-device setting ("vulkan:0", "cpu", "auto"); default vulkan:0. */
#include <stdio.h>
#include <stdlib.h>

#include "vigil-engine.h"

typedef struct {
  VigilEngine *e;
  int n, refs;
  float **inputs;
  const float *text;
  vg_membank *bank;
} Bench;

static void two_step(Bench *b, VigilDetection **d) {
  VigilFeatures **f = g_new0(VigilFeatures *, b->n);
  g_autoptr(GError) error = NULL;
  if (!vigil_engine_features_batch(b->e, b->n, (const float *const *)b->inputs, f, &error))
    g_error("features: %s", error->message);
  for (int i = 0; i < b->n; i++) {
    if (!(d[i] = vigil_engine_detect(b->e, f[i], b->text, b->bank, &error)))
      g_error("detect: %s", error->message);
    vigil_features_free(f[i]);
  }
  g_free(f);
}

static void fused(Bench *b, VigilDetection **d) {
  g_autoptr(GError) error = NULL;
  if (!vigil_engine_analyse_batch(b->e, b->n, (const float *const *)b->inputs, b->text, b->bank,
                                  NULL, d, &error))
    g_error("analyse: %s", error->message);
}

typedef struct {
  const char *name;
  void (*run)(Bench *, VigilDetection **);
  double seconds;
  gint64 up, down;
} Way;

/* One call of `w`, timed and its bytes counted. */
static void once(Bench *b, Way *w, VigilDetection **d) {
  gint64 up0, down0, up1, down1;
  vigil_engine_transfer_bytes(b->e, &up0, &down0);
  const gint64 t0 = g_get_monotonic_time();
  w->run(b, d);
  w->seconds += (g_get_monotonic_time() - t0) / 1e6;
  vigil_engine_transfer_bytes(b->e, &up1, &down1);
  w->up += up1 - up0, w->down += down1 - down0;
  for (int i = 0; i < b->n; i++)
    g_clear_pointer(&d[i], vigil_detection_free);
}

/* The two ways alternate call by call, so a machine's load hits both alike. */
static void measure(Bench *b, int reps) {
  Way ways[2] = {{"two steps", two_step, 0, 0, 0}, {"fused", fused, 0, 0, 0}};
  VigilDetection **d = g_new0(VigilDetection *, b->n);
  for (int k = 0; k < 2; k++) { /* warm: pipelines, scorer, scratch */
    once(b, &ways[k], d);
    ways[k] = (Way){ways[k].name, ways[k].run, 0, 0, 0};
  }
  for (int r = 0; r < reps; r++)
    for (int k = 0; k < 2; k++)
      once(b, &ways[(k + r) % 2], d);
  const double per = (double)reps * b->n;
  for (int k = 0; k < 2; k++)
    printf("%-9s %s: %.1f ms per image; per image %.2f MB down, %.2f MB up\n", ways[k].name,
           b->refs ? "few-shot" : "zero-shot", 1e3 * ways[k].seconds / per,
           ways[k].down / per / 1e6, ways[k].up / per / 1e6);
  g_free(d);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench-fused CLIP ADAPTERS [backend] [images] [reps] [refs]\n");
    return 2;
  }
  VigilBackendOptions options;
  g_autofree char *device = NULL;
  g_autoptr(GError) error = NULL;
  if (!vigil_backend_options_from_setting(argc > 3 ? argv[3] : "vulkan:0", &options, &device,
                                          &error))
    g_error("%s", error->message);
  Bench b = {.n = argc > 4 ? atoi(argv[4]) : 4, .refs = argc > 6 ? atoi(argv[6]) : 0};
  const int reps = argc > 5 ? atoi(argv[5]) : 3;
  if (b.n < 1 || reps < 1 || b.refs < 0)
    g_error("images and reps must be at least 1, refs at least 0");
  if (!(b.e = vigil_engine_open(argv[1], argv[2], &options, &error)))
    g_error("%s", error->message);
  vigil_engine_set_cache_dir(b.e, NULL);
  g_autofree float *text = vigil_engine_text_features(b.e, "brain", NULL, &error);
  if (!text)
    g_error("%s", error->message);
  b.text = text;
  const int side = vigil_engine_arch(b.e)->image_size;
  b.inputs = g_new(float *, b.n);
  for (int i = 0; i < b.n; i++) {
    b.inputs[i] = g_new(float, (gsize)3 * side * side);
    for (int p = 0; p < 3 * side * side; p++)
      b.inputs[i][p] = (float)((p * 7919 + i * 104729) % 1000) / 1000.0f;
  }
  b.bank = b.refs ? vigil_engine_new_bank(b.e, &error) : NULL;
  for (int r = 0; r < b.refs; r++) {
    g_autoptr(VigilFeatures) f = vigil_engine_features(b.e, b.inputs[r % b.n], &error);
    if (!f || !vigil_engine_bank_add(b.e, b.bank, f, NULL, &error))
      g_error("reference: %s", error->message);
  }
  g_autofree char *on = vigil_engine_dup_device(b.e);
  printf("%s, %d images per call, %d calls\n", on, b.n, reps);
  measure(&b, reps);
  vigil_engine_free_bank(b.e, b.bank);
  for (int i = 0; i < b.n; i++)
    g_free(b.inputs[i]);
  g_free(b.inputs);
  vigil_engine_free(b.e);
  return 0;
}
