/* vigil-cli features and detect: the engine on scans from the command line,
 * writing .npy arrays that tests compare with PyTorch, and PNG heatmaps.
 * The model runs through app/'s VigilEngine as in the window; from model/ come
 * only the .npy writer and MVFA's reference augmentation (--augment). */
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vg_npy.h"
#include "vigil-cli-engine.h"
#include "vigil-cli.h"
#include "vigil-engine.h"
#include "vigil-export.h"
#include "vigil-resize.h"
#include "vigil-scan-images.h"

static gboolean write_npy(const char *dir, const char *name, int ndim, const int64_t *shape,
                          const float *data, GError **error) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  if (vg_npy_write(path, ndim, shape, data) != VG_OK) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s", vg_last_error());
    return FALSE;
  }
  return TRUE;
}

static gboolean write_features(const char *dir, const float *input, int side,
                               const VigilFeatures *f, GError **error) {
  const int64_t in_shape[3] = {3, side, side}, pooled[1] = {f->embed_dim};
  const int64_t tokens[2] = {f->tokens, f->dim};
  gboolean ok = write_npy(dir, "input.npy", 3, in_shape, input, error) &&
                write_npy(dir, "pooled.npy", 1, pooled, f->pooled, error);
  for (int l = 0; ok && l < f->layers; l++) {
    g_autofree char *seg = g_strdup_printf("seg_tokens_%d.npy", l);
    g_autofree char *det = g_strdup_printf("det_tokens_%d.npy", l);
    ok = write_npy(dir, seg, 2, tokens, f->seg[l], error) &&
         write_npy(dir, det, 2, tokens, f->det[l], error);
  }
  return ok;
}

int vigil_cli_features(int argc, char **argv) {
  g_auto(EngineArgs) a = {0};
  g_autofree char *image = NULL, *out = NULL, *series = NULL, *window = NULL;
  int slice = 0;
  const GOptionEntry entries[] = {
      {"clip", 0, 0, G_OPTION_ARG_FILENAME, &a.clip, "CLIP weights (safetensors)", "FILE"},
      {"adapters", 0, 0, G_OPTION_ARG_FILENAME, &a.adapters, "MVFA adapters (.pth/.safetensors)",
       "FILE"},
      {"image", 0, 0, G_OPTION_ARG_FILENAME, &image, "Scan file or folder", "PATH"},
      {"series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID", "UID"},
      {"slice", 0, 0, G_OPTION_ARG_INT, &slice, "Slice in display order, from 0", "N"},
      {"window", 0, 0, G_OPTION_ARG_STRING, &window, "Window center,width", "C,W"},
      {"class", 0, 0, G_OPTION_ARG_STRING, &a.class_name, "Also write text features", "NAME"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &a.backend, "cpu, vulkan or auto", "NAME"},
      {"device", 0, 0, G_OPTION_ARG_STRING, &a.device, "Vulkan device index or name", "DEV"},
      {"dtype", 0, 0, G_OPTION_ARG_STRING, &a.dtype,
       "Matmuls: f32 (default), f16 or bf16 (CPUs with AMX/AVX512_BF16)", "T"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Folder for the .npy files", "DIR"},
      {NULL},
  };
  if (!vigil_cli_parse("features", "write the model input, features and text features", entries,
                       &argc, &argv) ||
      !vigil_cli_dtype_ok("features", &a))
    return VIGIL_CLI_USAGE;
  if (argc != 1 || !a.clip || !a.adapters || !image || !out) {
    fprintf(stderr, "usage: vigil-cli features --clip F --adapters F --image PATH [--class NAME] "
                    "--out DIR\n");
    return VIGIL_CLI_USAGE;
  }
  g_autoptr(VigilEngine) engine = vigil_cli_open_engine("features", &a);
  if (!engine)
    return VIGIL_CLI_FAILED;
  g_autoptr(GError) error = NULL;
  g_autofree float *input = vigil_cli_load_input(image, series, slice, window, engine, &error);
  g_autoptr(VigilFeatures) f = input ? vigil_engine_features(engine, input, &error) : NULL;
  gboolean ok = f && g_mkdir_with_parents(out, 0755) == 0 &&
                write_features(out, input, vigil_engine_arch(engine)->image_size, f, &error);
  if (ok && a.class_name) {
    g_autofree float *text = vigil_engine_text_features(engine, a.class_name, NULL, &error);
    const int64_t shape[2] = {f->dim, 2};
    ok = text && write_npy(out, "text_features.npy", 2, shape, text, &error);
  }
  vigil_cli_report_fallback("features", engine);
  if (!ok) {
    fprintf(stderr, "vigil-cli features: %s\n",
            error ? error->message : "cannot create the folder");
    return VIGIL_CLI_FAILED;
  }
  return VIGIL_CLI_OK;
}

static gboolean write_maps(const char *dir, const float *input, const VigilDetection *d,
                           const char *identity, GError **error) {
  const int64_t plane[2] = {d->side, d->side};
  const gsize n = (gsize)d->side * d->side;
  gboolean ok = g_mkdir_with_parents(dir, 0755) == 0;
  for (int l = 0; ok && l < d->layers; l++) {
    g_autofree char *name = g_strdup_printf("zero_seg_map_%d.npy", l);
    ok = write_npy(dir, name, 2, plane, d->zero_layer_maps + n * l, error);
    if (ok && d->has_few) {
      g_autofree char *few = g_strdup_printf("few_seg_map_%d.npy", l);
      ok = write_npy(dir, few, 2, plane, d->few_layer_maps + n * l, error);
    }
  }
  ok = ok && write_npy(dir, "zero_seg_map.npy", 2, plane, d->zero_map, error);
  if (ok && d->has_few)
    ok = write_npy(dir, "few_seg_map.npy", 2, plane, d->few_map, error) &&
         write_npy(dir, "few_det_map.npy", 2, plane, d->few_det_map, error);
  /* For people: the model input with the map over it. */
  g_autoptr(VigilImage) shown =
      ok ? vigil_image_new(d->side, d->side, VIGIL_IMAGE_RGB, error) : NULL;
  for (gsize i = 0; shown && i < n; i++)
    for (int c = 0; c < 3; c++)
      shown->values[i * 3 + c] = input[n * c + i] * 255.0f;
  const char *maps[2] = {"zero_seg_map.png", "few_seg_map.png"};
  for (int k = 0; shown && ok && k < (d->has_few ? 2 : 1); k++) {
    const float *values = k ? d->few_map : d->zero_map;
    VigilMap map = {d->side, d->side, (float *)values};
    float lo = INFINITY, hi = -INFINITY;
    for (gsize i = 0; i < n; i++)
      lo = fminf(lo, values[i]), hi = fmaxf(hi, values[i]);
    const char *text[] = {"Software", "Vigil", "vigil.model", identity, NULL};
    VigilExportRequest r = {.image = shown,
                            .window_center = 127.5,
                            .window_width = 256,
                            .map = &map,
                            .map_lo = lo,
                            .map_hi = hi,
                            .opacity = 0.5,
                            .threshold = NAN,
                            .colormap = VIGIL_COLORMAP_JET,
                            .legend_label = k ? "few-shot" : "zero-shot",
                            .text = text};
    g_autofree char *path = g_build_filename(dir, maps[k], NULL);
    ok = vigil_export_png(&r, path, error);
  }
  return ok && shown;
}

static void add_result(JsonBuilder *b, const char *path, const VigilDetection *d) {
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "image");
  json_builder_add_string_value(b, path);
  json_builder_set_member_name(b, "zero_det_score");
  json_builder_add_double_value(b, d->zero_score);
  if (d->has_few) {
    json_builder_set_member_name(b, "few_det_score");
    json_builder_add_double_value(b, d->few_score);
  }
  json_builder_set_member_name(b, "scored_on_device");
  json_builder_add_boolean_value(b, d->on_device);
  json_builder_end_object(b);
}

/* Writes one image's maps (with --maps) and its JSON result. */
static gboolean detect_one(VigilEngine *engine, const char *maps, const char *path,
                           const float *input, const VigilDetection *d, JsonBuilder *b,
                           GError **error) {
  gboolean ok = TRUE;
  if (maps) {
    g_autofree char *base = g_path_get_basename(path);
    char *dot = strchr(base, '.');
    if (dot && dot != base)
      *dot = '\0';
    g_autofree char *dir = g_build_filename(maps, base, NULL);
    g_autofree char *identity = vigil_engine_dup_identity(engine);
    ok = write_maps(dir, input, d, identity, error);
  }
  if (ok)
    add_result(b, path, d);
  return ok;
}

/* n images: inputs, one batched encoder and scoring call (the tokens stay on
 * a GPU), then each image's maps. */
static gboolean detect_group(VigilEngine *engine, const float *text, const vg_membank *bank,
                             const char *maps, char **paths, int n, JsonBuilder *b,
                             GError **error) {
  g_autofree float **inputs = g_new0(float *, n);
  g_autofree VigilDetection **d = g_new0(VigilDetection *, n);
  g_autofree char *failed = NULL; /* what a failure is about */
  for (int i = 0; !failed && i < n; i++)
    if (!(inputs[i] = vigil_cli_load_input(paths[i], NULL, 0, NULL, engine, error)))
      failed = g_strdup(paths[i]);
  if (!failed && !vigil_engine_analyse_batch(engine, n, (const float *const *)inputs, text, bank,
                                             NULL, d, error))
    failed = n == 1 ? g_strdup(paths[0])
                    : g_strdup_printf("the batch %s ... %s", paths[0], paths[n - 1]);
  for (int i = 0; !failed && i < n; i++)
    if (!detect_one(engine, maps, paths[i], inputs[i], d[i], b, error))
      failed = g_strdup(paths[i]);
  if (failed && error && *error && !g_str_has_prefix((*error)->message, failed))
    g_prefix_error(error, "%s: ", failed); /* scan errors name the path already */
  for (int i = 0; i < n; i++)
    g_free(inputs[i]), vigil_detection_free(d[i]);
  return !failed;
}

int vigil_cli_detect(int argc, char **argv) {
  g_auto(EngineArgs) a = {0};
  g_auto(GStrv) refs = NULL;
  g_autofree char *maps = NULL;
  gboolean augment = FALSE;
  const GOptionEntry entries[] = {
      {"clip", 0, 0, G_OPTION_ARG_FILENAME, &a.clip, "CLIP weights (safetensors)", "FILE"},
      {"adapters", 0, 0, G_OPTION_ARG_FILENAME, &a.adapters, "MVFA adapters (.pth/.safetensors)",
       "FILE"},
      {"class", 0, 0, G_OPTION_ARG_STRING, &a.class_name, "Class name for the prompts", "NAME"},
      {"ref", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &refs, "A normal reference (repeat)", "IMG"},
      {"augment", 0, 0, G_OPTION_ARG_NONE, &augment, "MVFA's 11-fold reference augmentation", NULL},
      {"maps", 0, 0, G_OPTION_ARG_FILENAME, &maps, "Write maps to DIR/<image stem>/", "DIR"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &a.backend, "cpu, vulkan or auto", "NAME"},
      {"device", 0, 0, G_OPTION_ARG_STRING, &a.device, "Vulkan device index or name", "DEV"},
      {"dtype", 0, 0, G_OPTION_ARG_STRING, &a.dtype,
       "Matmuls: f32 (default), f16 or bf16 (CPUs with AMX/AVX512_BF16)", "T"},
      {NULL},
  };
  if (!vigil_cli_parse("detect", "anomaly maps and scores for images", entries, &argc, &argv) ||
      !vigil_cli_dtype_ok("detect", &a))
    return VIGIL_CLI_USAGE;
  if (argc < 2 || !a.clip || !a.adapters || !a.class_name) {
    fprintf(stderr, "usage: vigil-cli detect --clip F --adapters F --class NAME [--ref IMG]... "
                    "IMG... [--maps DIR]\n");
    return VIGIL_CLI_USAGE;
  }
  g_autoptr(VigilEngine) engine = vigil_cli_open_engine("detect", &a);
  if (!engine)
    return VIGIL_CLI_FAILED;
  g_autoptr(GError) error = NULL;
  g_autofree float *text = vigil_engine_text_features(engine, a.class_name, NULL, &error);
  vg_membank *bank = text && refs ? vigil_engine_new_bank(engine, &error) : NULL;
  gboolean ok = text && (!refs || bank);
  for (int i = 0; ok && refs && refs[i]; i++)
    ok = vigil_cli_add_reference(engine, bank, refs[i], augment, NULL, &error);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "results");
  json_builder_begin_array(b);
  /* Images go through the encoder in groups, one batched forward per group
   * (the group shrinks if the device runs out of memory on the way). */
  for (int first = 1, group = 0; ok && first < argc; first += group) {
    group = MIN(vigil_engine_batch_limit(engine), argc - first);
    ok = detect_group(engine, text, bank, maps, argv + first, group, b, &error);
  }
  json_builder_end_array(b);
  /* After the work: a fallback to the CPU during it shows here too. */
  g_autofree char *identity = vigil_engine_dup_identity(engine);
  g_autofree char *device = vigil_engine_dup_device(engine);
  g_autofree char *fallback = vigil_engine_dup_fallback_reason(engine);
  g_autofree char *batch_note = vigil_engine_dup_batch_note(engine);
  json_builder_set_member_name(b, "model");
  json_builder_add_string_value(b, identity);
  json_builder_set_member_name(b, "random_model");
  json_builder_add_boolean_value(b, vigil_engine_is_random(engine));
  json_builder_set_member_name(b, "device");
  json_builder_add_string_value(b, device);
  json_builder_set_member_name(b, "weights");
  json_builder_add_string_value(b, vigil_precision_name(vigil_cli_precision(&a)));
  vigil_cli_json_add_string(b, "backend_fallback", fallback);
  json_builder_set_member_name(b, "batch_limit");
  json_builder_add_int_value(b, vigil_engine_batch_limit(engine));
  vigil_cli_json_add_string(b, "batch_reduced", batch_note);
  json_builder_end_object(b);
  vigil_cli_report_fallback("detect", engine);
  vigil_engine_free_bank(engine, bank);
  if (!ok) {
    fprintf(stderr, "vigil-cli detect: %s\n", error ? error->message : "failed");
    return VIGIL_CLI_FAILED;
  }
  vigil_cli_print_json(b);
  return VIGIL_CLI_OK;
}
