/* The tag browser's model (app/vigil-dicom-tag.h) against dcmdump on a real
 * file (pydicom's CT_small.dcm: a sequence, GE private groups): the same
 * attributes in the same order and nesting, with the same tag, VR and
 * keyword, and the same value for text and integer VRs. Searching by
 * keyword, tag and value; private tags marked; a file that is not DICOM. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vigil-dicom-tag.h"

static char *test_file(void) {
  char *out = NULL;
  g_assert_true(g_spawn_command_line_sync("/usr/bin/python3 -c \"import pydicom.data as d; "
                                          "print(d.get_testdata_file('CT_small.dcm'))\"",
                                          &out, NULL, NULL, NULL));
  return g_strstrip(out);
}

/* "depth tag VR keyword" per attribute, depth-first as dcmdump lists them,
 * and each one's value (stripped, "" for none) at the same index. */
static void flatten(GListModel *list, int depth, GPtrArray *out, GPtrArray *vals) {
  for (guint i = 0; list && i < g_list_model_get_n_items(list); i++) {
    g_autoptr(VigilDicomTag) t = g_list_model_get_item(list, i);
    g_ptr_array_add(out,
                    g_strdup_printf("%d %s %s %s", depth, vigil_dicom_tag_get_tag(t),
                                    vigil_dicom_tag_get_vr(t), vigil_dicom_tag_get_keyword(t)));
    const char *v = vigil_dicom_tag_get_value(t);
    g_ptr_array_add(vals, g_strstrip(g_strdup(v ? v : "")));
    flatten(vigil_dicom_tag_get_children(t), depth + 1, out, vals);
  }
}

static gboolean compared_vr(const char *vr) {
  static const char *const vrs[] = {"AE", "AS", "CS", "DA", "DS", "IS", "LO", "LT", "PN",
                                    "SH", "ST", "TM", "UI", "US", "SS", "UL", "SL", NULL};
  return g_strv_contains(vrs, vr);
}

static void test_matches_dcmdump(void) {
  g_autofree char *path = test_file();
  g_autoptr(GError) error = NULL;
  g_autoptr(GListStore) tags = vigil_dicom_tags_read(path, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) ours = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) our_values = g_ptr_array_new_with_free_func(g_free);
  flatten(G_LIST_MODEL(tags), 0, ours, our_values);

  g_autofree char *dump = NULL;
  const char *argv[] = {"dcmdump", "+L", path, NULL};
  int status = 0;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                             G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &dump,
                             NULL, &status, NULL));
  g_assert_cmpint(status, ==, 0);
  g_autoptr(GRegex) line = g_regex_new(
      "^( *)\\(([0-9a-f]{4},[0-9a-f]{4})\\) (\\w\\w) (.*?) +# +\\d+, *\\d+ (\\S+)$", 0, 0, NULL);
  g_auto(GStrv) lines = g_strsplit(dump, "\n", -1);
  guint n = 0, compared = 0;
  for (char **l = lines; *l; l++) {
    g_autoptr(GMatchInfo) m = NULL;
    if (!g_regex_match(line, *l, 0, &m))
      continue;
    g_autofree char *indent = g_match_info_fetch(m, 1), *tag = g_match_info_fetch(m, 2);
    g_autofree char *vr = g_match_info_fetch(m, 3), *value = g_match_info_fetch(m, 4);
    g_autofree char *keyword = g_match_info_fetch(m, 5);
    if (g_str_equal(tag, "fffe,e00d") || g_str_equal(tag, "fffe,e0dd"))
      continue; /* delimiters dcmdump shows for re-encoding; no attributes */
    const int depth = (int)strlen(indent) / 2;
    g_autofree char *expected = g_strdup_printf("%d (%s) %s %s", depth, tag, vr, keyword);
    g_assert_cmpuint(n, <, ours->len);
    g_assert_cmpstr(g_ptr_array_index(ours, n), ==, expected);
    n++;
    if (!compared_vr(vr) || value[0] == '=') /* "=CTImageStorage": a UID's name */
      continue;
    g_autofree char *shown =
        g_str_has_prefix(value, "[") && g_str_has_suffix(value, "]")
            ? g_strndup(value + 1, strlen(value) - 2)
            : g_strdup(g_str_equal(value, "(no value available)") ? "" : value);
    g_assert_cmpstr(g_ptr_array_index(our_values, n - 1), ==, g_strstrip(shown));
    compared++;
  }
  g_assert_cmpuint(n, ==, ours->len);
  g_assert_cmpuint(n, >, 250);
  g_assert_cmpuint(compared, >, 150);
}

static VigilDicomTag *find(GListModel *list, const char *needle) {
  for (guint i = 0; list && i < g_list_model_get_n_items(list); i++) {
    g_autoptr(VigilDicomTag) t = g_list_model_get_item(list, i);
    if (vigil_dicom_tag_matches(t, needle))
      return g_steal_pointer(&t);
    VigilDicomTag *inner = find(vigil_dicom_tag_get_children(t), needle);
    if (inner)
      return inner;
  }
  return NULL;
}

static void test_search_and_private(void) {
  g_autofree char *path = test_file();
  g_autoptr(GListStore) tags = vigil_dicom_tags_read(path, NULL);
  g_assert_nonnull(tags);
  const char *needles[] = {"patientname", "(0010,0010)", "0010,0010", "00100010"};
  for (gsize i = 0; i < G_N_ELEMENTS(needles); i++) {
    g_autoptr(VigilDicomTag) t = find(G_LIST_MODEL(tags), needles[i]);
    g_assert_nonnull(t);
    g_assert_cmpstr(vigil_dicom_tag_get_keyword(t), ==, "PatientName");
    g_assert_cmpstr(vigil_dicom_tag_get_value(t), ==, "CompressedSamples^CT1");
    g_assert_false(vigil_dicom_tag_is_private(t));
  }
  g_autoptr(VigilDicomTag) creator = find(G_LIST_MODEL(tags), "GEMS_IDEN_01");
  g_assert_cmpstr(vigil_dicom_tag_get_tag(creator), ==, "(0009,0010)");
  g_assert_true(vigil_dicom_tag_is_private(creator));
  /* Inside the sequence: an item's attribute. */
  g_autoptr(VigilDicomTag) seq = find(G_LIST_MODEL(tags), "OtherPatientIDsSequence");
  GListModel *items = vigil_dicom_tag_get_children(seq);
  g_assert_cmpuint(g_list_model_get_n_items(items), ==, 2);
  g_autoptr(VigilDicomTag) item = g_list_model_get_item(items, 0);
  g_assert_cmpstr(vigil_dicom_tag_get_keyword(item), ==, "Item");
  g_assert_nonnull(vigil_dicom_tag_get_children(item));
  g_assert_null(find(G_LIST_MODEL(tags), "no such thing anywhere"));
}

static void test_not_dicom(void) {
  g_autofree char *dir = g_dir_make_tmp("vigil-tags-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "notes.txt", NULL);
  g_assert_true(g_file_set_contents(path, "not a DICOM file at all\n", -1, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(GListStore) tags = vigil_dicom_tags_read(path, &error);
  g_assert_null(tags);
  g_assert_nonnull(error);
  g_autoptr(GError) missing = NULL;
  g_autoptr(GListStore) none = vigil_dicom_tags_read("/nonexistent/x.dcm", &missing);
  g_assert_null(none);
  g_assert_nonnull(missing);
  g_unlink(path);
  g_rmdir(dir);
}

static guint count_all(GListModel *list) {
  guint n = 0;
  for (guint i = 0; list && i < g_list_model_get_n_items(list); i++) {
    g_autoptr(VigilDicomTag) t = g_list_model_get_item(list, i);
    n += 1 + count_all(vigil_dicom_tag_get_children(t));
  }
  return n;
}

/* Every file in `dir` ending in `suffix` ("" for all): a tree or an error. */
static guint read_all(const char *dir, const char *suffix, guint *refused) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  guint read = 0;
  for (const char *name; (name = g_dir_read_name(d));) {
    if (!g_str_has_suffix(name, suffix))
      continue;
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GListStore) tags = vigil_dicom_tags_read(path, &error);
    g_assert_true((tags != NULL) != (error != NULL));
    if (!tags) {
      (*refused)++;
      continue;
    }
    g_assert_cmpuint(count_all(G_LIST_MODEL(tags)), >, 0);
    read++;
  }
  return read;
}

/* Every file pydicom tests itself with (big endian, no meta header, deflated,
 * private and UN sequences, truncated, encapsulated), and the fuzzing corpus
 * of the DICOM loader (tests/fuzz/corpus-dicom): a tree or an error each. */
static void test_every_file(void) {
  g_autofree char *ct = test_file();
  g_autofree char *dir = g_path_get_dirname(ct);
  guint refused = 0;
  guint read = read_all(dir, ".dcm", &refused);
  g_test_message("pydicom: %u files read, %u refused", read, refused);
  g_assert_cmpuint(read, >, 50);
  g_autofree char *corpus =
      g_build_filename(g_getenv("VIGIL_SOURCE_DIR"), "tests", "fuzz", "corpus-dicom", NULL);
  refused = 0;
  read = read_all(corpus, "", &refused);
  g_test_message("fuzz corpus: %u files read, %u refused", read, refused);
  g_assert_cmpuint(read + refused, >, 0);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/dicom-tags/matches-dcmdump", test_matches_dcmdump);
  g_test_add_func("/dicom-tags/search-and-private", test_search_and_private);
  g_test_add_func("/dicom-tags/not-dicom", test_not_dicom);
  g_test_add_func("/dicom-tags/every-file", test_every_file);
  return g_test_run();
}
