/* The CLIP tokenizer against the reference ids in tests/reference/tokenizer_cases.json
 * (open_clip 2.16 rules, written by tests/clip-tokenizer-ref.py --write-cases), plus truncation,
 * the ftfy subset, bad text and bad vocabulary files. */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "vg_tokenizer.h"

static vg_tokenizer *tok;

static int count_nonzero(const int32_t *ids) {
  int n = 0;
  for (int i = 0; i < VG_CLIP_CONTEXT; i++)
    n += ids[i] != 0;
  return n;
}

static void test_reference_cases(void) {
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(json_parser_load_from_file(parser, VG_TEST_CASES, &error));
  g_assert_no_error(error);
  JsonObject *root = json_node_get_object(json_parser_get_root(parser));
  g_assert_cmpint(json_object_get_int_member(root, "context_length"), ==, VG_CLIP_CONTEXT);
  g_assert_cmpint(json_object_get_int_member(root, "sot_id"), ==, VG_CLIP_SOT_ID);
  g_assert_cmpint(json_object_get_int_member(root, "eot_id"), ==, VG_CLIP_EOT_ID);
  JsonArray *cases = json_object_get_array_member(root, "cases");
  g_assert_cmpuint(json_array_get_length(cases), >=, 40);
  for (guint c = 0; c < json_array_get_length(cases); c++) {
    JsonObject *tc = json_array_get_object_element(cases, c);
    const char *name = json_object_get_string_member(tc, "name");
    JsonArray *want = json_object_get_array_member(tc, "ids");
    g_assert_cmpuint(json_array_get_length(want), ==, VG_CLIP_CONTEXT);
    int32_t ids[VG_CLIP_CONTEXT];
    bool truncated = false;
    g_assert_cmpint(
        vg_tokenizer_encode_ex(tok, json_object_get_string_member(tc, "text"), ids, &truncated), ==,
        VG_OK);
    int eot = -1;
    for (int i = 0; i < VG_CLIP_CONTEXT; i++) {
      gint64 w = json_array_get_int_element(want, (guint)i);
      if (ids[i] != w)
        g_error("case '%s': id %d is %d, expected %" G_GINT64_FORMAT, name, i, ids[i], w);
      if (w == VG_CLIP_EOT_ID && eot < 0)
        eot = i;
    }
    g_assert_cmpint(truncated, ==, json_object_get_boolean_member(tc, "truncated"));
    g_assert_cmpint(vg_tokenizer_eot_index(ids), ==, eot);
  }
}

/* A text of `words` times "a " gives `words` BPE tokens. */
static void encode_words(int words, int32_t ids[VG_CLIP_CONTEXT], bool *truncated) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < words; i++)
    g_string_append(s, "a ");
  g_assert_cmpint(vg_tokenizer_encode_ex(tok, s->str, ids, truncated), ==, VG_OK);
  g_string_free(s, TRUE);
}

static void test_truncation(void) {
  int32_t ids[VG_CLIP_CONTEXT];
  bool truncated = true;
  encode_words(74, ids, &truncated);
  g_assert_false(truncated);
  g_assert_cmpint(ids[75], ==, VG_CLIP_EOT_ID);
  g_assert_cmpint(ids[76], ==, 0);
  encode_words(75, ids, &truncated); /* exactly fills the context */
  g_assert_false(truncated);
  g_assert_cmpint(ids[76], ==, VG_CLIP_EOT_ID);
  g_assert_cmpint(vg_tokenizer_eot_index(ids), ==, 76);
  encode_words(500, ids, &truncated);
  g_assert_true(truncated);
  g_assert_cmpint(ids[0], ==, VG_CLIP_SOT_ID);
  for (int i = 1; i < 76; i++)
    g_assert_cmpint(ids[i], ==, 320); /* "a</w>" */
  g_assert_cmpint(ids[76], ==, VG_CLIP_EOT_ID);
  /* The longest accepted text still works; one byte more is refused. */
  char *big = g_malloc(VG_CLIP_MAX_TEXT_BYTES + 2);
  memset(big, 'b', VG_CLIP_MAX_TEXT_BYTES + 1);
  big[VG_CLIP_MAX_TEXT_BYTES] = '\0';
  g_assert_cmpint(vg_tokenizer_encode_ex(tok, big, ids, &truncated), ==, VG_OK);
  g_assert_true(truncated);
  big[VG_CLIP_MAX_TEXT_BYTES + 1] = '\0';
  big[VG_CLIP_MAX_TEXT_BYTES] = 'b';
  g_assert_cmpint(vg_tokenizer_encode(tok, big, ids), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "longer than 65536 bytes"));
  g_free(big);
}

static void test_simple_texts(void) {
  int32_t ids[VG_CLIP_CONTEXT], again[VG_CLIP_CONTEXT];
  g_assert_cmpint(vg_tokenizer_encode(tok, "", ids), ==, VG_OK);
  g_assert_cmpint(ids[0], ==, VG_CLIP_SOT_ID);
  g_assert_cmpint(ids[1], ==, VG_CLIP_EOT_ID);
  g_assert_cmpint(count_nonzero(ids), ==, 2);
  g_assert_cmpint(vg_tokenizer_eot_index(ids), ==, 1);
  /* Case and spacing do not matter; the special token's literal is recognised. */
  g_assert_cmpint(vg_tokenizer_encode(tok, "  A Photo\tOF a BRAIN ", ids), ==, VG_OK);
  g_assert_cmpint(vg_tokenizer_encode(tok, "a photo of a brain", again), ==, VG_OK);
  g_assert_cmpmem(ids, sizeof ids, again, sizeof again);
  g_assert_cmpint(vg_tokenizer_encode(tok, "<start_of_text>x", ids), ==, VG_OK);
  g_assert_cmpint(ids[1], ==, VG_CLIP_SOT_ID);
  /* Non-ASCII: every UTF-8 byte is a symbol, so nothing is unknown. */
  g_assert_cmpint(vg_tokenizer_encode(tok, "脑 MRT мозг 🧠", ids), ==, VG_OK);
  g_assert_cmpint(count_nonzero(ids), >, 6);
  int len = 0;
  g_assert_cmpstr(vg_tokenizer_token(tok, VG_CLIP_SOT_ID, &len), ==, "<start_of_text>");
  g_assert_cmpint(len, ==, 15);
  const char *a = vg_tokenizer_token(tok, 320, &len);
  g_assert_cmpmem(a, (gsize)len, "a</w>", 5);
  g_assert_null(vg_tokenizer_token(tok, VG_CLIP_VOCAB_SIZE, NULL));
  g_assert_null(vg_tokenizer_token(tok, -1, NULL));
}

static void test_invalid_utf8(void) {
  const char *bad[] = {"\xff", "ok \xc0\xaf", "\xed\xa0\x80", "cut \xe2\x82", "\xf4\x90\x80\x80"};
  int32_t ids[VG_CLIP_CONTEXT] = {7};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_cmpint(vg_tokenizer_encode(tok, bad[i], ids), ==, VG_ERR_ARG);
    g_assert_nonnull(strstr(vg_last_error(), "not valid UTF-8"));
    g_assert_cmpint(ids[0], ==, 7); /* untouched */
  }
  g_assert_cmpint(vg_tokenizer_encode(tok, NULL, ids), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_tokenizer_encode(NULL, "x", ids), ==, VG_ERR_ARG);
  char *out = NULL;
  g_assert_cmpint(vg_clip_clean_text("\xff", &out), ==, VG_ERR_ARG);
  g_assert_null(out);
}

static void check_clean(const char *in, const char *want) {
  char *out = NULL;
  g_assert_cmpint(vg_clip_clean_text(in, &out), ==, VG_OK);
  if (g_strcmp0(out, want) != 0)
    g_error("clean(\"%s\") = \"%s\", expected \"%s\"", in, out, want);
  free(out);
}

static void test_cleaning(void) {
  check_clean("A  B\t\n C\xc2\xa0\xe2\x80\x83 ", "a b c");           /* Unicode spaces */
  check_clean("\xce\xa3\xce\x91\xce\xa3 \xce\x91\xce\xa3. \xce\xa3", /* final sigma */
              "\xcf\x83\xce\xb1\xcf\x82 \xce\xb1\xcf\x82. \xcf\x83");
  check_clean("\xc4\xb0", "i\xcc\x87"); /* İ lower-cases to two code points */
  /* html.unescape twice, and ftfy's own unescaping until nothing changes. */
  check_clean("&eacute; &eacute &notit; &#x41;&#65; &#128; &#0;x &#1;y",
              "\xc3\xa9 \xc3\xa9 \xc2\xacit; aa \xe2\x82\xac \xef\xbf\xbdx y");
  check_clean("&amp;amp;amp;amp; &EACUTE;", "& \xc3\xa9");
  check_clean("<b>&amp;amp;amp;</b>", "<b>&amp;</b>");       /* ftfy skips lines with '<' */
  check_clean("\xef\xac\x81ne \xef\xac\x82ow", "fine flow"); /* ligatures */
  check_clean("\xef\xbc\xa6\xef\xbd\x95\xe3\x80\x80\xef\xbc\x91", "fu 1"); /* full width */
  check_clean("\xe2\x80\x9cq\xe2\x80\x9d \xe2\x80\x98s\xe2\x80\x99 \xca\xbc", "\"q\" 's' '");
  check_clean("\xc2\x93hi\xc2\x94 \xc2\x85", "\"hi\" \xe2\x80\xa6"); /* C1 as Windows-1252 */
  /* NFC: composed accents, Hangul jamo, singletons, reordered marks. */
  check_clean("cafe\xcc\x81 \xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8 \xe2\x84\xab",
              "caf\xc3\xa9 \xea\xb0\x81 \xc3\xa5");
  check_clean("a\xcc\x82\xcc\xa3 a\xcc\xa3\xcc\x82", "\xe1\xba\xad \xe1\xba\xad");
  check_clean("\x1b[1;31mred\x1b[0m a\x01"
              "b\xef\xbb\xbf"
              "c",
              "red abc");
}

typedef struct {
  const char *text;
  int32_t ids[VG_CLIP_CONTEXT];
} thread_job;

static gpointer encode_many(gpointer data) {
  thread_job *job = data;
  for (int i = 0; i < 200; i++) {
    int32_t ids[VG_CLIP_CONTEXT];
    g_assert_cmpint(vg_tokenizer_encode(tok, job->text, ids), ==, VG_OK);
    g_assert_cmpmem(ids, sizeof ids, job->ids, sizeof job->ids);
  }
  return NULL;
}

static void test_threads(void) {
  thread_job jobs[4] = {{"a photo of a damaged brain", {0}},
                        {"pneumonoultramicroscopicsilicovolcanoconiosis", {0}},
                        {"histopathological image with defect", {0}},
                        {"retinal OCT without flaw", {0}}};
  GThread *threads[4];
  for (int i = 0; i < 4; i++)
    g_assert_cmpint(vg_tokenizer_encode(tok, jobs[i].text, jobs[i].ids), ==, VG_OK);
  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new("encode", encode_many, &jobs[i]);
  for (int i = 0; i < 4; i++)
    g_thread_join(threads[i]);
}

/* Writes `n` bytes of `data` gzip-compressed to a new temporary file. */
static char *write_gz(const char *data, size_t n) {
  char *path = NULL;
  int fd = g_file_open_tmp("vg-vocab-XXXXXX.gz", &path, NULL);
  g_assert_cmpint(fd, >=, 0);
  gzFile gz = gzdopen(fd, "wb");
  g_assert_cmpint(gzwrite(gz, data, (unsigned)n), ==, (int)n);
  g_assert_cmpint(gzclose(gz), ==, Z_OK);
  return path;
}

static void expect_open_error(const char *path, vg_status status, const char *message) {
  vg_tokenizer *t = (vg_tokenizer *)&t;
  g_assert_cmpint(vg_tokenizer_open(path, &t), ==, status);
  g_assert_null(t);
  if (!strstr(vg_last_error(), message) || !strstr(vg_last_error(), path))
    g_error("error '%s' should name '%s' and say '%s'", vg_last_error(), path, message);
}

/* The real vocabulary's text, inflated. */
static GString *real_vocab_text(void) {
  gzFile gz = gzopen(VG_TEST_VOCAB, "rb");
  g_assert_nonnull(gz);
  GString *s = g_string_new(NULL);
  char buf[65536];
  int n;
  while ((n = gzread(gz, buf, sizeof buf)) > 0)
    g_string_append_len(s, buf, n);
  gzclose(gz);
  return s;
}

static void test_bad_vocab(void) {
  expect_open_error("/nonexistent/bpe.txt.gz", VG_ERR_IO, "cannot open");
  g_autofree char *plain = NULL;
  int fd = g_file_open_tmp("vg-vocab-XXXXXX.txt", &plain, NULL);
  g_assert_true(write(fd, "#version: 0.2\ni n\n", 18) == 18);
  close(fd);
  expect_open_error(plain, VG_ERR_FORMAT, "not a gzip file");
  g_unlink(plain);

  GString *real = real_vocab_text();
  /* The gzip stream cut in the middle. */
  g_autofree char *gz_bytes = NULL;
  gsize gz_len = 0;
  g_assert_true(g_file_get_contents(VG_TEST_VOCAB, &gz_bytes, &gz_len, NULL));
  g_autofree char *cut = NULL;
  fd = g_file_open_tmp("vg-vocab-XXXXXX.gz", &cut, NULL);
  g_assert_true(write(fd, gz_bytes, gz_len / 3) == (ssize_t)(gz_len / 3));
  close(fd);
  expect_open_error(cut, VG_ERR_FORMAT, "truncated");
  g_unlink(cut);

  const char *line = real->str;
  for (int i = 0; i < 1000; i++)
    line = strchr(line, '\n') + 1;
  g_autofree char *few = write_gz(real->str, (size_t)(line - real->str));
  expect_open_error(few, VG_ERR_FORMAT, "has 999 merges, expected 48894");
  g_unlink(few);

  GString *edited = g_string_new(real->str);
  g_string_insert(edited, (gssize)(strchr(edited->str, '\n') - edited->str + 1) + 3, " x");
  g_autofree char *three = write_gz(edited->str, edited->len);
  expect_open_error(three, VG_ERR_FORMAT, "line 2: expected two symbols");
  g_unlink(three);
  g_string_free(edited, TRUE);

  edited = g_string_new(real->str);
  g_string_insert(edited, (gssize)(strchr(edited->str, '\n') - edited->str + 1), "qq");
  g_autofree char *unknown = write_gz(edited->str, edited->len);
  expect_open_error(unknown, VG_ERR_FORMAT, "symbol 'qqi' is unknown");
  g_unlink(unknown);
  g_string_free(edited, TRUE);

  g_autofree char *latin1 = write_gz("#v\n\xe9 x\n", 8);
  expect_open_error(latin1, VG_ERR_FORMAT, "not UTF-8");
  g_unlink(latin1);
  g_string_free(real, TRUE);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  if (vg_tokenizer_open(VG_TEST_VOCAB, &tok) != VG_OK)
    g_error("cannot load %s: %s", VG_TEST_VOCAB, vg_last_error());
  g_test_add_func("/tokenizer/reference-cases", test_reference_cases);
  g_test_add_func("/tokenizer/truncation", test_truncation);
  g_test_add_func("/tokenizer/simple-texts", test_simple_texts);
  g_test_add_func("/tokenizer/invalid-utf8", test_invalid_utf8);
  g_test_add_func("/tokenizer/cleaning", test_cleaning);
  g_test_add_func("/tokenizer/threads", test_threads);
  g_test_add_func("/tokenizer/bad-vocab", test_bad_vocab);
  int rc = g_test_run();
  vg_tokenizer_free(tok);
  return rc;
}
