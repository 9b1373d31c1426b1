/* MVFA's prompt ensemble: counts, order, exact strings (SHA-256 of the lists as MVFA-AD's
 * Python formats them), placeholder handling, and that every prompt tokenizes untruncated. */
#include <glib.h>
#include <string.h>

#include "vg_prompts.h"
#include "vg_tokenizer.h"

static char **generate(const char *name, vg_prompt_state state, int *count) {
  char **texts = NULL;
  g_assert_cmpint(vg_prompts_generate(name, state, &texts, count), ==, VG_OK);
  g_assert_cmpint(*count, ==, vg_prompt_count(state));
  return texts;
}

/* SHA-256 of the prompts joined by '\n', as computed from MVFA-AD's utils.py lists. */
static char *digest(char **texts, int count) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < count; i++)
    g_string_append_printf(s, i ? "\n%s" : "%s", texts[i]);
  char *d = g_compute_checksum_for_string(G_CHECKSUM_SHA256, s->str, -1);
  g_string_free(s, TRUE);
  d[16] = '\0';
  return d;
}

static void test_counts(void) {
  g_assert_cmpint(vg_prompt_count(VG_PROMPT_NORMAL), ==, 7 * 35);
  g_assert_cmpint(vg_prompt_count(VG_PROMPT_ABNORMAL), ==, 5 * 35);
  g_assert_cmpint(vg_prompt_count((vg_prompt_state)7), ==, 0);
  g_assert_cmpstr(vg_prompt_template(0), ==, "a bad photo of a {}.");
  g_assert_cmpstr(vg_prompt_template(34), ==, "this is one {} in the scene.");
  g_assert_null(vg_prompt_template(35));
  g_assert_cmpstr(vg_prompt_state_phrase(VG_PROMPT_ABNORMAL, 1), ==, "broken {}");
  g_assert_null(vg_prompt_state_phrase(VG_PROMPT_ABNORMAL, 5));
}

static void test_exact_lists(void) {
  static const struct {
    const char *name, *normal, *abnormal;
  } want[] = {
      {"Brain", "c30ddf1f3cfb541c", "ba50064713462a37"},
      {"Liver", "e4eb7cc4e445a6e0", "a8f8909dfa500c7e"},
      {"retinal OCT", "2506ba9305149fc8", "eb62efb7a874c60b"},
      {"Chest X-ray film", "6195acc73032cbd1", "284e9cd0859f31a9"},
      {"histopathological image", "62d872ce9bb51c70", "eca3a8ddc5e918fa"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
    int n = 0;
    char **normal = generate(want[i].name, VG_PROMPT_NORMAL, &n);
    g_autofree char *dn = digest(normal, n);
    g_assert_cmpstr(dn, ==, want[i].normal);
    vg_prompts_free(normal, n);
    char **abnormal = generate(want[i].name, VG_PROMPT_ABNORMAL, &n);
    g_autofree char *da = digest(abnormal, n);
    g_assert_cmpstr(da, ==, want[i].abnormal);
    vg_prompts_free(abnormal, n);
  }
}

static void test_strings(void) {
  int n = 0;
  char **p = generate("Brain", VG_PROMPT_NORMAL, &n);
  g_assert_cmpstr(p[0], ==, "a bad photo of a Brain.");
  g_assert_cmpstr(p[35], ==, "a bad photo of a flawless Brain."); /* state major */
  g_assert_cmpstr(p[4 * 35 + 3], ==, "a cropped photo of the Brain without flaw.");
  g_assert_cmpstr(p[n - 1], ==, "this is one Brain without damage in the scene.");
  vg_prompts_free(p, n);
  p = generate("Brain", VG_PROMPT_ABNORMAL, &n);
  g_assert_cmpstr(p[35], ==, "a bad photo of a broken Brain.");
  g_assert_cmpstr(p[n - 1], ==, "this is one Brain with damage in the scene.");
  vg_prompts_free(p, n);
  p = generate("Chest X-ray film", VG_PROMPT_ABNORMAL, &n); /* a case of the reference file */
  g_assert_cmpstr(p[22], ==, "a jpeg corrupted photo of the damaged Chest X-ray film.");
  vg_prompts_free(p, n);
}

static void test_placeholder(void) {
  int n = 0;
  char **p = generate("a{}b {0} %s", VG_PROMPT_ABNORMAL, &n); /* inserted verbatim */
  g_assert_cmpstr(p[0], ==, "a bad photo of a damaged a{}b {0} %s.");
  vg_prompts_free(p, n);
  p = generate("", VG_PROMPT_NORMAL, &n);
  g_assert_cmpstr(p[0], ==, "a bad photo of a .");
  vg_prompts_free(p, n);
  char **out = NULL;
  g_assert_cmpint(vg_prompts_generate(NULL, VG_PROMPT_NORMAL, &out, &n), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_prompts_generate("x", (vg_prompt_state)2, &out, &n), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "invalid prompt state"));
  char *long_name = g_strnfill(VG_PROMPT_MAX_CLASS_BYTES + 1, 'x');
  g_assert_cmpint(vg_prompts_generate(long_name, VG_PROMPT_NORMAL, &out, &n), ==, VG_ERR_ARG);
  g_assert_null(out);
  g_free(long_name);
}

static void test_class_names(void) {
  g_assert_cmpstr(vg_prompts_class_name("Brain"), ==, "Brain");
  g_assert_cmpstr(vg_prompts_class_name("Retina_RESC"), ==, "retinal OCT");
  g_assert_cmpstr(vg_prompts_class_name("Retina_OCT2017"), ==, "retinal OCT");
  g_assert_cmpstr(vg_prompts_class_name("Chest"), ==, "Chest X-ray film");
  g_assert_cmpstr(vg_prompts_class_name("Histopathology"), ==, "histopathological image");
  g_assert_null(vg_prompts_class_name("Knee"));
  g_assert_null(vg_prompts_class_name(NULL));
}

static void test_tokenize_all(void) {
  vg_tokenizer *tok = NULL;
  g_assert_cmpint(vg_tokenizer_open(VG_TEST_VOCAB, &tok), ==, VG_OK);
  const char *names[] = {"Brain", "Liver", "retinal OCT", "Chest X-ray film",
                         "histopathological image"};
  for (gsize c = 0; c < G_N_ELEMENTS(names); c++)
    for (int s = VG_PROMPT_NORMAL; s <= VG_PROMPT_ABNORMAL; s++) {
      int n = 0;
      char **p = generate(names[c], (vg_prompt_state)s, &n);
      for (int i = 0; i < n; i++) {
        int32_t ids[VG_CLIP_CONTEXT];
        bool truncated = true;
        g_assert_cmpint(vg_tokenizer_encode_ex(tok, p[i], ids, &truncated), ==, VG_OK);
        g_assert_false(truncated);
        g_assert_cmpint(vg_tokenizer_eot_index(ids), >, 4);
        g_assert_cmpint(ids[vg_tokenizer_eot_index(ids) - 1], ==, 269); /* ".</w>" */
      }
      vg_prompts_free(p, n);
    }
  vg_tokenizer_free(tok);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/prompts/counts", test_counts);
  g_test_add_func("/prompts/exact-lists", test_exact_lists);
  g_test_add_func("/prompts/strings", test_strings);
  g_test_add_func("/prompts/placeholder", test_placeholder);
  g_test_add_func("/prompts/class-names", test_class_names);
  g_test_add_func("/prompts/tokenize-all", test_tokenize_all);
  return g_test_run();
}
