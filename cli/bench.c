/* vigil-cli bench: time the MVFA image forward (CLIP image tower + adapters)
 * on a random model of a preset's shape, one image or a batch per forward,
 * optionally with a per-op profile. Compare with tools/bench-torch.py.
 * A pure engine tool: it times the raw forward on model/ directly (the backend
 * opens through app/) because VigilEngine's fallback and batching would blur it. */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_clip.h"
#include "vg_clip_random.h"
#include "vigil-backend.h"
#include "vigil-cli-cpu.h"
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

typedef struct bench {
  /* Settings. */
  int iters, warmup, batch, layers, profile;
  VigilPrecision precision;
  /* Results: per forward of `batch` images. */
  double median, min, max, gflops, rss_mb;
  int full_layers; /* the preset's blocks (layers < full_layers: truncated) */
  int chunk;       /* images per forward the model allows (vg_clip_batch_limit) */
  vg_profile prof;
  double prof_wall_ms; /* wall time of the profiled forward */
} bench;

static void add_num(JsonBuilder *b, const char *key, double value) {
  json_builder_set_member_name(b, key);
  json_builder_add_double_value(b, value);
}

static void add_int(JsonBuilder *b, const char *key, gint64 value) {
  json_builder_set_member_name(b, key);
  json_builder_add_int_value(b, value);
}

static double op_gflops(const vg_op_stats *s) {
  return s->flops > 0 && s->ms > 0 ? s->flops / (s->ms * 1e-3) * 1e-9 : 0;
}

static double ops_ms(const vg_profile *p) {
  double sum = 0;
  for (int k = 0; k < VG_OP_KINDS; k++)
    sum += p->op[k].ms;
  return sum;
}

static void print_profile(const bench *r) {
  const vg_profile *p = &r->prof;
  printf("profile (%s; one forward of %d image(s), %.1f ms wall):\n",
         p->clock ? p->clock : "NOT TIMED", r->batch, r->prof_wall_ms);
  printf("  %s\n", p->note);
  if (p->dispatches || p->submits)
    printf("  %lld device commands in %lld submission(s)\n", (long long)p->dispatches,
           (long long)p->submits);
  printf("  %-13s %7s %11s %8s %9s\n", "op", "calls", "total ms", "% fwd", "GFLOP/s");
  for (int k = 0; k < VG_OP_KINDS; k++) {
    const vg_op_stats *s = &p->op[k];
    if (!s->calls && s->ms == 0)
      continue;
    printf("  %-13s %7lld %11.3f %7.1f%%", vg_op_kind_name((vg_op_kind)k), (long long)s->calls,
           s->ms, r->prof_wall_ms > 0 ? 100 * s->ms / r->prof_wall_ms : 0);
    if (s->flops > 0 && p->clock)
      printf(" %9.2f", op_gflops(s));
    printf("\n");
  }
  const double sum = ops_ms(p);
  printf("  %-13s %7s %11.3f %7.1f%%\n", "sum of ops", "", sum,
         r->prof_wall_ms > 0 ? 100 * sum / r->prof_wall_ms : 0);
}

static void json_profile(JsonBuilder *b, const bench *r) {
  const vg_profile *p = &r->prof;
  json_builder_set_member_name(b, "profile");
  json_builder_begin_object(b);
  vigil_cli_json_add_string(b, "clock", p->clock);
  vigil_cli_json_add_string(b, "note", p->note);
  add_num(b, "forward_wall_ms", r->prof_wall_ms);
  add_num(b, "ops_ms", ops_ms(p));
  add_int(b, "dispatches", p->dispatches);
  add_int(b, "submits", p->submits);
  json_builder_set_member_name(b, "ops");
  json_builder_begin_array(b);
  for (int k = 0; k < VG_OP_KINDS; k++) {
    const vg_op_stats *s = &p->op[k];
    if (!s->calls && s->ms == 0)
      continue;
    json_builder_begin_object(b);
    vigil_cli_json_add_string(b, "op", vg_op_kind_name((vg_op_kind)k));
    add_int(b, "calls", s->calls);
    add_num(b, "ms", s->ms);
    add_num(b, "percent", r->prof_wall_ms > 0 ? 100 * s->ms / r->prof_wall_ms : 0);
    add_num(b, "gflop", s->flops * 1e-9);
    add_num(b, "gflops", p->clock ? op_gflops(s) : 0);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static void report(const vg_clip_arch *a, const vg_backend *be, int threads, const bench *r,
                   gboolean as_json) {
  char desc[512];
  vg_clip_arch_describe(a, desc, sizeof desc);
  const int truncated = r->layers < r->full_layers;
  const double per_image = r->median / r->batch;
  if (!as_json) {
    printf("model: %s\ndevice: %s (%s backend)\n", desc, be->device_name, be->kind);
    if (g_str_equal(be->kind, "cpu"))
      vigil_cli_cpu_print();
    if (truncated)
      printf("TRUNCATED FORWARD: %d of the preset's %d blocks (adapters after blocks %d..%d); "
             "times below are for this shortened model, not the full one\n",
             r->layers, r->full_layers, a->adapter_layers[0], a->adapter_layers[a->n_adapters - 1]);
    printf("forward of %d image(s)%s: median %.1f ms, min %.1f ms, max %.1f ms over %d runs\n",
           r->batch, r->chunk < r->batch ? " (in chunks that fit the memory bound)" : "",
           r->median * 1e3, r->min * 1e3, r->max * 1e3, r->iters);
    printf("per image: %.1f ms, %.2f images/s; %.1f GFLOP/s; peak RSS %.0f MB\n", per_image * 1e3,
           1.0 / per_image, r->gflops, r->rss_mb);
    if (r->profile)
      print_profile(r);
    return;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_cli_json_add_string(b, "engine", "vigil");
  vigil_cli_json_add_string(b, "model", desc);
  vigil_cli_json_add_string(b, "device", be->device_name);
  vigil_cli_json_add_string(b, "backend", be->kind);
  if (g_str_equal(be->kind, "cpu"))
    vigil_cli_cpu_json(b);
  add_int(b, "threads", threads);
  add_int(b, "iters", r->iters);
  add_int(b, "batch", r->batch);
  add_int(b, "images_per_forward", MIN(r->batch, r->chunk));
  add_int(b, "layers", r->layers);
  add_int(b, "preset_layers", r->full_layers);
  json_builder_set_member_name(b, "truncated");
  json_builder_add_boolean_value(b, truncated);
  vigil_cli_json_add_string(b, "weights", vigil_precision_name(r->precision));
  const char *dkeys[] = {"median_ms",    "min_ms", "max_ms",     "ms_per_image",
                         "images_per_s", "gflops", "peak_rss_mb"};
  const double dvals[] = {r->median * 1e3, r->min * 1e3, r->max * 1e3, per_image * 1e3,
                          1.0 / per_image, r->gflops,    r->rss_mb};
  for (size_t i = 0; i < G_N_ELEMENTS(dkeys); i++)
    add_num(b, dkeys[i], dvals[i]);
  if (r->profile)
    json_profile(b, r);
  json_builder_end_object(b);
  vigil_cli_print_json(b);
}

/* The batch's inputs and outputs, all tokens of every adapter included. */
typedef struct io {
  float *pixels, *pooled, *tokens;
  const float **inputs;
  vg_clip_image_out *outs;
} io;

static void io_free(io *x) {
  g_free(x->pixels), g_free(x->pooled), g_free(x->tokens), g_free(x->inputs), g_free(x->outs);
}

static void io_make(const vg_clip_arch *a, int n, io *x) {
  const size_t side = (size_t)a->image_size, img = 3 * side * side;
  const size_t tok = (size_t)a->tokens * a->adapter_dim;
  x->pixels = g_new(float, img *n);
  for (size_t i = 0; i < img * n; i++)
    x->pixels[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
  x->pooled = g_new(float, (size_t)a->embed_dim *n);
  x->tokens = g_new(float, tok * 2 * a->n_adapters * n + 1);
  x->inputs = g_new(const float *, n);
  x->outs = g_new0(vg_clip_image_out, n);
  for (int b = 0; b < n; b++) {
    x->inputs[b] = x->pixels + img * b;
    x->outs[b].pooled = x->pooled + (size_t)a->embed_dim * b;
    float *t = x->tokens + tok * 2 * a->n_adapters * b;
    for (int i = 0; i < a->n_adapters; i++)
      x->outs[b].seg_tokens[i] = t + tok * 2 * i, x->outs[b].det_tokens[i] = t + tok * (2 * i + 1);
  }
}

static vg_status profiled(vg_clip *model, vg_backend *be, int n, io *x, bench *r) {
  vg_status s = vg_backend_profile_begin(be, &r->prof);
  if (s != VG_OK)
    return s;
  const double t0 = now_s();
  s = vg_clip_encode_images(model, n, x->inputs, x->outs);
  vg_status e = vg_backend_profile_end(be);
  r->prof_wall_ms = (now_s() - t0) * 1e3;
  return s != VG_OK ? s : e;
}

/* Loads a random image tower + adapters and times forwards of r->batch images. */
static int run(const vg_clip_preset *preset, vg_backend *be, const vg_clip_arch **arch,
               vg_clip **model, bench *r) {
  vg_clip_preset p = *preset;
  r->full_layers = p.layers;
  if (r->layers > 0 && r->layers < p.layers) {
    p.layers = r->layers;
    p.adapters = p.adapters < p.layers ? p.adapters : p.layers;
  }
  r->layers = p.layers;
  vg_clip_random_options ro = {.seed = 1, .towers = VG_CLIP_IMAGE, .shared = 1};
  vg_weights *w = NULL, *ad = NULL;
  vg_clip_options o = {.towers = VG_CLIP_IMAGE,
                       .matmul_dtype = vigil_precision_dtype(r->precision),
                       .max_batch = r->batch};
  vg_status s = vg_clip_random(&p, &ro, &w, &ad);
  if (s == VG_OK)
    s = vg_clip_load(w, ad, &o, be, model);
  vg_weights_free(w), vg_weights_free(ad);
  if (s != VG_OK)
    return VIGIL_CLI_FAILED;
  const vg_clip_arch *a = *arch = vg_clip_arch_of(*model);
  r->chunk = vg_clip_batch_limit(*model);
  io x = {0};
  io_make(a, r->batch, &x);
  g_autofree double *times = g_new(double, r->iters);
  for (int i = -r->warmup; s == VG_OK && i < r->iters; i++) {
    const double t0 = now_s();
    s = vg_clip_encode_images(*model, r->batch, x.inputs, x.outs);
    if (i >= 0)
      times[i] = now_s() - t0;
  }
  if (s == VG_OK && r->profile)
    s = profiled(*model, be, r->batch, &x, r);
  io_free(&x);
  if (s != VG_OK)
    return VIGIL_CLI_FAILED;
  const int n = r->iters;
  qsort(times, (size_t)n, sizeof *times, cmp_double);
  r->median = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
  r->min = times[0], r->max = times[n - 1];
  r->gflops = image_flops(a) * r->batch / r->median * 1e-9;
  r->rss_mb = peak_rss_mb();
  return VIGIL_CLI_OK;
}

int vigil_cli_bench(int argc, char **argv) {
  g_autofree char *preset_name = NULL, *backend_name = NULL, *dtype_name = NULL;
  int threads = 0;
  gboolean as_json = FALSE, f16 = FALSE, profile = FALSE;
  bench r = {.iters = 5, .warmup = 1, .batch = 1};
  const GOptionEntry entries[] = {
      {"preset", 0, 0, G_OPTION_ARG_STRING, &preset_name, "tiny, mid or vit-l-14 (default)", "P"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &backend_name, "cpu (default), vulkan or auto", "B"},
      {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU threads (default: one per physical core)",
       "N"},
      {"iters", 0, 0, G_OPTION_ARG_INT, &r.iters, "Timed runs (default 5)", "N"},
      {"warmup", 0, 0, G_OPTION_ARG_INT, &r.warmup, "Untimed runs first (default 1)", "N"},
      {"batch", 0, 0, G_OPTION_ARG_INT, &r.batch, "Images per forward (default 1, at most 64)",
       "N"},
      {"layers", 0, 0, G_OPTION_ARG_INT, &r.layers,
       "Time a TRUNCATED model of the first K blocks (labelled as such)", "K"},
      {"profile", 0, 0, G_OPTION_ARG_NONE, &profile, "Per-op profile of one more forward", NULL},
      {"dtype", 0, 0, G_OPTION_ARG_STRING, &dtype_name,
       "Matmuls: f32 (default), f16 or bf16 (CPUs with AMX/AVX512_BF16)", "T"},
      {"f16", 0, 0, G_OPTION_ARG_NONE, &f16, "Same as --dtype f16", NULL},
      {"json", 0, 0, G_OPTION_ARG_NONE, &as_json, "Print JSON", NULL},
      {NULL},
  };
  if (!vigil_cli_parse("bench", "time the MVFA image forward", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  const vg_clip_preset *p = vg_clip_preset_find(preset_name ? preset_name : "vit-l-14");
  VigilBackendOptions bo = {.threads = threads};
  g_autoptr(GError) error = NULL;
  r.precision = f16 ? VIGIL_PRECISION_F16 : VIGIL_PRECISION_F32;
  if (!p || r.iters < 1 || r.iters > 10000 || r.warmup < 0 || threads < 0 || argc > 1 ||
      r.batch < 1 || r.batch > VG_CLIP_BATCH_MAX || r.layers < 0 ||
      (dtype_name && !vigil_precision_parse(dtype_name, &r.precision, NULL)) ||
      !vigil_backend_kind_parse(backend_name ? backend_name : "cpu", &bo.kind, &error)) {
    fprintf(stderr, "vigil-cli bench: %s\n",
            error ? error->message
                  : "bad --preset, --iters, --threads, --batch, --layers or --dtype");
    return VIGIL_CLI_USAGE;
  }
  r.profile = profile;
  vg_backend *be = vigil_backend_open(&bo, NULL, &error);
  if (!be) {
    fprintf(stderr, "vigil-cli bench: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  const vg_clip_arch *a = NULL;
  vg_clip *model = NULL;
  int rc = run(p, be, &a, &model, &r);
  if (rc == VIGIL_CLI_OK)
    report(a, be, threads, &r, as_json);
  else
    fprintf(stderr, "vigil-cli bench: %s\n", vg_last_error());
  vg_clip_free(model);
  vg_backend_destroy(be);
  return rc;
}
