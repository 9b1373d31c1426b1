/* vigil-cli bench: time the MVFA image forward (CLIP image tower + adapters)
 * on a random model of a preset's shape. Compare with tools/bench-torch.py. */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_clip.h"
#include "vg_clip_random.h"
#include "vigil-backend.h"
#include "vigil-cli.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* VmHWM, not getrusage: ru_maxrss survives exec, so a child of a big parent
 * (tools/bench-torch.py) would report the parent's peak. */
static double peak_rss_mb(void) {
  return vigil_cli_proc_mb("VmHWM:");
}

/* Multiply-adds x 2 of one image forward: patch embedding, blocks, adapters. */
static double image_flops(const vg_clip_arch *a) {
  const double t = a->tokens, w = a->width, m = a->mlp_width;
  const double per_block = 2 * t * (3 * w * w + w * w + 2 * w * m) + 2 * 2 * t * t * w;
  const double patches = 2.0 * a->grid * a->grid * w * 3 * a->patch * a->patch;
  const double adapters = a->n_adapters * 2 * 2 * (2 * t * w * a->adapter_dim);
  return patches + a->layers * per_block + adapters + 2 * w * a->embed_dim;
}

static int cmp_double(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

typedef struct result {
  double median, min, max, gflops, rss_mb;
  int iters;
} result;

static void report(const vg_clip_arch *a, const char *device, int threads, const result *r,
                   gboolean as_json) {
  char desc[512];
  vg_clip_arch_describe(a, desc, sizeof desc);
  if (!as_json) {
    printf("model: %s\ndevice: %s\n", desc, device);
    printf("image forward: median %.1f ms, min %.1f ms, max %.1f ms over %d runs; %.1f GFLOP/s; "
           "peak RSS %.0f MB\n",
           r->median * 1e3, r->min * 1e3, r->max * 1e3, r->iters, r->gflops, r->rss_mb);
    return;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  const char *skeys[] = {"engine", "vigil", "model", desc, "device", device};
  for (int i = 0; i < 6; i += 2) {
    json_builder_set_member_name(b, skeys[i]);
    json_builder_add_string_value(b, skeys[i + 1]);
  }
  json_builder_set_member_name(b, "threads");
  json_builder_add_int_value(b, threads);
  json_builder_set_member_name(b, "iters");
  json_builder_add_int_value(b, r->iters);
  const char *dkeys[] = {"median_ms", "min_ms", "max_ms", "gflops", "peak_rss_mb"};
  const double dvals[] = {r->median * 1e3, r->min * 1e3, r->max * 1e3, r->gflops, r->rss_mb};
  for (int i = 0; i < 5; i++) {
    json_builder_set_member_name(b, dkeys[i]);
    json_builder_add_double_value(b, dvals[i]);
  }
  json_builder_end_object(b);
  vigil_cli_print_json(b);
}

/* Loads a random image tower + adapters and times `iters` forwards. */
static int run(const vg_clip_preset *p, vg_backend *be, int iters, int warmup, vg_dtype dt,
               const vg_clip_arch **arch, vg_clip **model, result *r) {
  vg_clip_random_options ro = {.seed = 1, .towers = VG_CLIP_IMAGE, .shared = 1};
  vg_weights *w = NULL, *ad = NULL;
  vg_clip_options o = {.towers = VG_CLIP_IMAGE, .matmul_dtype = dt};
  vg_status s = vg_clip_random(p, &ro, &w, &ad);
  if (s == VG_OK)
    s = vg_clip_load(w, ad, &o, be, model);
  vg_weights_free(w), vg_weights_free(ad);
  if (s != VG_OK)
    return VIGIL_CLI_FAILED;
  const vg_clip_arch *a = *arch = vg_clip_arch_of(*model);
  const size_t side = (size_t)a->image_size, tok = (size_t)a->tokens * a->adapter_dim;
  g_autofree float *input = g_new(float, 3 * side * side);
  for (size_t i = 0; i < 3 * side * side; i++)
    input[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
  g_autofree float *pooled = g_new(float, a->embed_dim);
  g_autofree float *tokens = g_new(float, tok * 2 * VG_CLIP_MAX_ADAPTERS);
  vg_clip_image_out out = {.pooled = pooled};
  for (int i = 0; i < a->n_adapters; i++)
    out.seg_tokens[i] = tokens + tok * 2 * i, out.det_tokens[i] = tokens + tok * (2 * i + 1);
  g_autofree double *times = g_new(double, iters);
  for (int i = -warmup; i < iters; i++) {
    const double t0 = now_s();
    if (vg_clip_encode_image(*model, input, &out) != VG_OK)
      return VIGIL_CLI_FAILED;
    if (i >= 0)
      times[i] = now_s() - t0;
  }
  qsort(times, (size_t)iters, sizeof *times, cmp_double);
  r->iters = iters;
  r->median = iters % 2 ? times[iters / 2] : 0.5 * (times[iters / 2 - 1] + times[iters / 2]);
  r->min = times[0], r->max = times[iters - 1];
  r->gflops = image_flops(a) / r->median * 1e-9;
  r->rss_mb = peak_rss_mb();
  return VIGIL_CLI_OK;
}

int vigil_cli_bench(int argc, char **argv) {
  g_autofree char *preset_name = NULL, *backend_name = NULL, *dtype_name = NULL;
  int threads = 0, iters = 5, warmup = 1;
  gboolean as_json = FALSE;
  const GOptionEntry entries[] = {
      {"preset", 0, 0, G_OPTION_ARG_STRING, &preset_name, "tiny or vit-l-14 (default)", "P"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend_name, "cpu (default), vulkan or auto", "B"},
      {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU threads (default: OpenBLAS's)", "N"},
      {"iters", 0, 0, G_OPTION_ARG_INT, &iters, "Timed runs (default 5)", "N"},
      {"warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Untimed runs first (default 1)", "N"},
      {"dtype", 0, 0, G_OPTION_ARG_STRING, &dtype_name, "Matmul weights: f32 (default), f16", "T"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &as_json, "Print JSON", NULL},
      {NULL},
  };
  if (!vigil_cli_parse("bench", "time the MVFA image forward", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  const vg_clip_preset *p = vg_clip_preset_find(preset_name ? preset_name : "vit-l-14");
  VigilBackendOptions bo = {.threads = threads};
  g_autoptr(GError) error = NULL;
  const gboolean f16 = g_strcmp0(dtype_name, "f16") == 0;
  if (!p || iters < 1 || iters > 10000 || warmup < 0 || threads < 0 || argc > 1 ||
      (dtype_name && !f16 && g_strcmp0(dtype_name, "f32") != 0) ||
      !vigil_backend_kind_parse(backend_name ? backend_name : "cpu", &bo.kind, &error)) {
    fprintf(stderr, "vigil-cli bench: %s\n",
            error ? error->message : "bad --preset, --iters, --threads or --dtype");
    return VIGIL_CLI_USAGE;
  }
  vg_backend *be = vigil_backend_open(&bo, NULL, &error);
  if (!be) {
    fprintf(stderr, "vigil-cli bench: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  const vg_clip_arch *a = NULL;
  vg_clip *model = NULL;
  result r;
  int rc = run(p, be, iters, warmup, f16 ? VG_F16 : VG_F32, &a, &model, &r);
  if (rc == VIGIL_CLI_OK)
    report(a, be->device_name, threads, &r, as_json);
  else
    fprintf(stderr, "vigil-cli bench: %s\n", vg_last_error());
  vg_clip_free(model);
  vg_backend_destroy(be);
  return rc;
}
