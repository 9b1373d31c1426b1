/* vigil-cli model: random CLIP + MVFA weights, and what a checkpoint holds.
 * A pure engine tool: it uses model/ directly because it writes and inspects
 * weight files, before and apart from any engine that loads them. */
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "vg_clip.h"
#include "vg_clip_random.h"
#include "vg_safetensors.h"
#include "vg_pth.h"
#include "vigil-cli.h"

static gboolean parse_dtype(const char *name, vg_wdtype *out) {
  if (g_ascii_strcasecmp(name, "f32") == 0)
    *out = VG_W_F32;
  else if (g_ascii_strcasecmp(name, "f16") == 0)
    *out = VG_W_F16;
  else if (g_ascii_strcasecmp(name, "bf16") == 0)
    *out = VG_W_BF16;
  else
    return FALSE;
  return TRUE;
}

static int model_random(int argc, char **argv) {
  g_autofree char *preset_name = NULL, *out = NULL, *dtype_name = NULL;
  gint64 seed = 0;
  const GOptionEntry entries[] = {
      {"preset", 0, 0, G_OPTION_ARG_STRING, &preset_name, "tiny or vit-l-14 (default tiny)", "P"},
      {"seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 0)", "N"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Output directory (required)", "DIR"},
      {"dtype", 0, 0, G_OPTION_ARG_STRING, &dtype_name, "f32 (default), f16 or bf16", "T"},
      {NULL},
  };
  if (!vigil_cli_parse("model random", "write a random CLIP and MVFA adapters", entries, &argc,
                       &argv))
    return VIGIL_CLI_USAGE;
  const vg_clip_preset *p = vg_clip_preset_find(preset_name ? preset_name : "tiny");
  vg_clip_random_options o = {.seed = (uint64_t)seed};
  if (!p || !out || argc > 1 || (dtype_name && !parse_dtype(dtype_name, &o.dtype))) {
    fprintf(stderr,
            "vigil-cli model random: need --out DIR, --preset one of %s, --dtype "
            "f32|f16|bf16\n",
            vg_clip_preset_names());
    return VIGIL_CLI_USAGE;
  }
  if (g_mkdir_with_parents(out, 0755) != 0) {
    fprintf(stderr, "vigil-cli model random: cannot create %s: %s\n", out, g_strerror(errno));
    return VIGIL_CLI_FAILED;
  }
  vg_weights *clip = NULL, *adapters = NULL;
  g_autofree char *clip_path = g_build_filename(out, "clip.safetensors", NULL);
  g_autofree char *ad_path = g_build_filename(out, "adapters.safetensors", NULL);
  g_autofree char *pth_path = g_build_filename(out, "adapters.pth", NULL);
  vg_status s = vg_clip_random(p, &o, &clip, &adapters);
  if (s == VG_OK)
    s = vg_safetensors_write(clip_path, clip);
  if (s == VG_OK)
    s = vg_safetensors_write(ad_path, adapters);
  /* The same adapters as MVFA releases them: {'seg_adapters': ..., 'det_adapters': ...}.
   * A .pth has no metadata; the random CLIP file still marks the pair as random. */
  if (s == VG_OK)
    s = vg_pth_write(pth_path, adapters, VG_PTH_NESTED);
  vg_weights_free(clip), vg_weights_free(adapters);
  if (s != VG_OK) {
    fprintf(stderr, "vigil-cli model random: %s\n", vg_last_error());
    return VIGIL_CLI_FAILED;
  }
  printf("%s\n%s\n%s\n", clip_path, ad_path, pth_path);
  return VIGIL_CLI_OK;
}

/* Both towers if present; otherwise whichever one loads. */
static vg_status detect_any(const vg_weights *clip, const vg_weights *ad, int image_size,
                            vg_clip_arch *a) {
  static const unsigned tries[3] = {VG_CLIP_IMAGE | VG_CLIP_TEXT, VG_CLIP_IMAGE, VG_CLIP_TEXT};
  vg_status first = VG_OK;
  g_autofree char *message = NULL;
  for (int i = 0; i < 3; i++) {
    vg_clip_options o = {.image_size = image_size, .towers = tries[i]};
    vg_status s = vg_clip_detect(clip, tries[i] == VG_CLIP_TEXT ? NULL : ad, &o, a);
    if (s == VG_OK)
      return s;
    if (i == 0) {
      first = s;
      message = g_strdup(vg_last_error());
    }
  }
  return vg_fail(first, "%s", message);
}

static void member_int(JsonBuilder *b, const char *name, gint64 v) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, v);
}

static void print_json(const vg_clip_arch *a, gboolean random, const char *clip_path) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "clip");
  json_builder_add_string_value(b, clip_path);
  json_builder_set_member_name(b, "naming");
  json_builder_add_string_value(b, a->naming);
  json_builder_set_member_name(b, "dtype");
  json_builder_add_string_value(b, vg_wdtype_name(a->dtype));
  json_builder_set_member_name(b, "random");
  json_builder_add_boolean_value(b, random);
  member_int(b, "params", a->params);
  member_int(b, "embed_dim", a->embed_dim);
  if (a->has_image) {
    json_builder_set_member_name(b, "image");
    json_builder_begin_object(b);
    member_int(b, "width", a->width), member_int(b, "layers", a->layers);
    member_int(b, "heads", a->heads), member_int(b, "mlp_width", a->mlp_width);
    member_int(b, "patch", a->patch), member_int(b, "pos_grid", a->pos_grid);
    member_int(b, "image_size", a->image_size), member_int(b, "grid", a->grid);
    member_int(b, "tokens", a->tokens);
    json_builder_end_object(b);
  }
  if (a->has_text) {
    json_builder_set_member_name(b, "text");
    json_builder_begin_object(b);
    member_int(b, "width", a->text_width), member_int(b, "layers", a->text_layers);
    member_int(b, "heads", a->text_heads), member_int(b, "context_length", a->context_length);
    member_int(b, "vocab", a->vocab);
    json_builder_end_object(b);
  }
  if (a->n_adapters) {
    json_builder_set_member_name(b, "adapters");
    json_builder_begin_object(b);
    member_int(b, "count", a->n_adapters), member_int(b, "dim", a->adapter_dim);
    json_builder_set_member_name(b, "after_blocks");
    json_builder_begin_array(b);
    for (int i = 0; i < a->n_adapters; i++)
      json_builder_add_int_value(b, a->adapter_layers[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
  vigil_cli_print_json(b);
}

static int model_info(int argc, char **argv) {
  g_autofree char *clip_path = NULL, *ad_path = NULL;
  gboolean as_json = FALSE;
  int image_size = 240;
  const GOptionEntry entries[] = {
      {"clip", 0, 0, G_OPTION_ARG_FILENAME, &clip_path, "CLIP safetensors (required)", "F"},
      {"adapters", 0, 0, G_OPTION_ARG_FILENAME, &ad_path, "MVFA adapters safetensors", "F"},
      {"image-size", 0, 0, G_OPTION_ARG_INT, &image_size, "Input size (default 240)", "N"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &as_json, "Print JSON", NULL},
      {NULL},
  };
  if (!vigil_cli_parse("model info", "describe a CLIP checkpoint", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  if (!clip_path || argc > 1) {
    fprintf(stderr, "vigil-cli model info: need --clip FILE\n");
    return VIGIL_CLI_USAGE;
  }
  vg_weights *clip = NULL, *ad = NULL;
  vg_clip_arch a;
  vg_status s = vg_safetensors_open(clip_path, &clip);
  if (s == VG_OK && ad_path)
    s = vg_safetensors_open(ad_path, &ad);
  if (s == VG_OK)
    s = detect_any(clip, ad, image_size, &a);
  if (s != VG_OK) {
    fprintf(stderr, "vigil-cli model info: %s\n", vg_last_error());
    vg_weights_free(clip), vg_weights_free(ad);
    return VIGIL_CLI_FAILED;
  }
  const gboolean random = g_strcmp0(vg_weights_meta(clip, "vigil.random"), "true") == 0;
  if (as_json) {
    print_json(&a, random, clip_path);
  } else {
    char desc[512];
    vg_clip_arch_describe(&a, desc, sizeof desc);
    printf("%s: %s%s\n", clip_path, desc, random ? "; random weights (vigil.random)" : "");
  }
  vg_weights_free(clip), vg_weights_free(ad);
  return VIGIL_CLI_OK;
}

int vigil_cli_model(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "random") == 0)
    return model_random(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "info") == 0)
    return model_info(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "import") == 0)
    return vigil_cli_model_import(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "list") == 0)
    return vigil_cli_model_list(argc - 1, argv + 1);
  FILE *out = argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr;
  fprintf(out, "Usage: vigil-cli model random --out DIR [--preset tiny|vit-l-14] [--seed N] "
               "[--dtype f32|f16|bf16]\n"
               "       vigil-cli model info --clip FILE [--adapters FILE] [--json]\n"
               "       vigil-cli model import [--domain ID] [--dir DIR] FILE...\n"
               "       vigil-cli model list [--dir DIR]\n");
  return out == stdout ? VIGIL_CLI_OK : VIGIL_CLI_USAGE;
}
