/* vigil-cli tokenize: the 77 CLIP token ids of texts, as the text tower gets them.
 * A pure engine tool: it uses model/'s tokenizer and prompts directly because
 * it shows their ids, which VigilEngine keeps inside (only the vocabulary's
 * path comes from app/). */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "vg_prompts.h"
#include "vg_tokenizer.h"
#include "vigil-cli.h"
#include "vigil-engine.h"
#include "vigil-config.h"

/* Appends MVFA's normal then abnormal prompts for `class_name` to `texts`. */
static gboolean add_prompts(GPtrArray *texts, const char *class_name) {
  for (int s = VG_PROMPT_NORMAL; s <= VG_PROMPT_ABNORMAL; s++) {
    char **list = NULL;
    int n = 0;
    if (vg_prompts_generate(class_name, (vg_prompt_state)s, &list, &n) != VG_OK) {
      fprintf(stderr, "vigil-cli tokenize: %s\n", vg_last_error());
      return FALSE;
    }
    for (int i = 0; i < n; i++)
      g_ptr_array_add(texts, g_strdup(list[i]));
    vg_prompts_free(list, n);
  }
  return TRUE;
}

static void add_json_text(JsonBuilder *b, const char *text, const int32_t *ids, gboolean cut) {
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "text");
  json_builder_add_string_value(b, text);
  char *clean = NULL;
  if (vg_clip_clean_text(text, &clean) == VG_OK) {
    json_builder_set_member_name(b, "clean");
    json_builder_add_string_value(b, clean);
  }
  free(clean);
  json_builder_set_member_name(b, "ids");
  json_builder_begin_array(b);
  for (int i = 0; i < VG_CLIP_CONTEXT; i++)
    json_builder_add_int_value(b, ids[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "eot_index");
  json_builder_add_int_value(b, vg_tokenizer_eot_index(ids));
  json_builder_set_member_name(b, "truncated");
  json_builder_add_boolean_value(b, cut);
  json_builder_end_object(b);
}

static void print_json(JsonBuilder *b) {
  vigil_cli_print_json(b);
}

/* Tokenizes every text; prints ids (or JSON); returns FALSE on the first failure. */
static gboolean tokenize_all(vg_tokenizer *tok, GPtrArray *texts, gboolean as_json,
                             gboolean timing) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "texts");
  json_builder_begin_array(b);
  g_autofree int32_t *ids = g_new(int32_t, (gsize)texts->len * VG_CLIP_CONTEXT);
  g_autofree gboolean *cut = g_new0(gboolean, texts->len);
  gint64 start = g_get_monotonic_time();
  for (guint t = 0; t < texts->len; t++) {
    bool truncated = false;
    if (vg_tokenizer_encode_ex(tok, texts->pdata[t], ids + t * VG_CLIP_CONTEXT, &truncated)) {
      fprintf(stderr, "vigil-cli tokenize: text %u: %s\n", t + 1, vg_last_error());
      return FALSE;
    }
    cut[t] = truncated;
  }
  if (timing)
    fprintf(stderr, "tokenized %u texts in %.3f ms\n", texts->len,
            (double)(g_get_monotonic_time() - start) / 1000.0);
  for (guint t = 0; t < texts->len; t++) {
    const int32_t *row = ids + t * VG_CLIP_CONTEXT;
    if (as_json) {
      add_json_text(b, texts->pdata[t], row, cut[t]);
      continue;
    }
    for (int i = 0; i < VG_CLIP_CONTEXT; i++)
      printf(i ? " %d" : "%d", row[i]);
    printf("\n");
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  if (as_json)
    print_json(b);
  return TRUE;
}

int vigil_cli_tokenize(int argc, char **argv) {
  gboolean as_json = FALSE, timing = FALSE;
  g_autofree char *vocab = NULL, *prompts_for = NULL;
  const GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &as_json, "Print JSON", NULL},
      {"vocab", 0, 0, G_OPTION_ARG_FILENAME, &vocab, "BPE vocabulary (.txt.gz)", "PATH"},
      {"mvfa-prompts", 0, 0, G_OPTION_ARG_STRING, &prompts_for,
       "Also tokenize MVFA's 420 prompts for a class name", "CLASS"},
      {"time", 0, 0, G_OPTION_ARG_NONE, &timing, "Print the tokenizing time to stderr", NULL},
      {NULL},
  };
  if (!vigil_cli_parse("tokenize", "CLIP token ids of TEXT...", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
  int first = argc > 1 && strcmp(argv[1], "--") == 0 ? 2 : 1; /* if GOption left the "--" */
  for (int i = first; i < argc; i++)
    g_ptr_array_add(texts, g_strdup(argv[i]));
  if (prompts_for && !add_prompts(texts, prompts_for))
    return VIGIL_CLI_FAILED;
  if (texts->len == 0) {
    fprintf(stderr, "vigil-cli tokenize: give at least one TEXT (or --mvfa-prompts CLASS)\n");
    return VIGIL_CLI_USAGE;
  }
  if (!vocab)
    vocab = vigil_vocab_path();
  vg_tokenizer *tok = NULL;
  gint64 start = g_get_monotonic_time();
  if (vg_tokenizer_open(vocab, &tok) != VG_OK) {
    fprintf(stderr, "vigil-cli tokenize: %s\n", vg_last_error());
    return VIGIL_CLI_FAILED;
  }
  if (timing)
    fprintf(stderr, "loaded the vocabulary in %.3f ms\n",
            (double)(g_get_monotonic_time() - start) / 1000.0);
  gboolean ok = tokenize_all(tok, texts, as_json, timing);
  vg_tokenizer_free(tok);
  return ok ? VIGIL_CLI_OK : VIGIL_CLI_FAILED;
}
