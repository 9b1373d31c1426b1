/* Studies and series: grouping, slice order, splitting, per-file errors,
 * lazy decoding through the LRU cache, and a non-DICOM pixel source. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "dicom-test-util.h"
#include "vigil-scan-error.h"
#include "vigil-scan-images.h"
#include "vigil-scan.h"
#include "vigil-series.h"

static char *fixtures;

static VigilScan *open_one(const char *name, gsize cache_bytes) {
  g_autofree char *path = g_build_filename(fixtures, name, NULL);
  const char *paths[] = {path, NULL};
  return vigil_scan_open(paths, cache_bytes);
}

static VigilSeries *only_series(VigilScan *scan) {
  g_assert_cmpuint(vigil_scan_n_series(scan), ==, 1);
  VigilStudy *study = g_ptr_array_index(scan->studies, 0);
  return g_ptr_array_index(study->series, 0);
}

/* The first value of each slice, in display order, against series_order.txt line `line`. */
static void check_order(VigilSeries *series, int line) {
  g_autofree char *file = g_build_filename(fixtures, "series_order.txt", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_auto(GStrv) want = g_strsplit(lines[line], " ", -1);
  g_assert_cmpuint(g_strv_length(want), ==, series->slices->len);
  for (guint i = 0; i < series->slices->len; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(VigilImage) image = vigil_series_get_slice(series, i, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(image->values[0], ==, g_ascii_strtod(want[i], NULL));
  }
}

static void test_position_order(void) {
  g_autoptr(VigilScan) scan = open_one("series_pos", VIGIL_SLICE_CACHE_DEFAULT);
  g_assert_cmpuint(scan->issues->len, ==, 0);
  VigilSeries *series = only_series(scan);
  g_assert_cmpint(series->order, ==, VIGIL_ORDER_POSITION);
  g_assert_cmpfloat_with_epsilon(series->slice_spacing, 2.5, 1e-3);
  g_assert_cmpfloat_with_epsilon(series->normal[1], -sin(0.3), 1e-5);
  g_assert_null(series->warning);
  check_order(series, 0); /* instance numbers and names are shuffled: position wins */
}

static void test_instance_order(void) {
  g_autoptr(VigilScan) scan = open_one("series_inst", VIGIL_SLICE_CACHE_DEFAULT);
  VigilSeries *series = only_series(scan);
  g_assert_cmpint(series->order, ==, VIGIL_ORDER_INSTANCE);
  check_order(series, 1);
}

static void test_split(void) {
  g_autoptr(VigilScan) scan = open_one("mixed", VIGIL_SLICE_CACHE_DEFAULT);
  g_assert_cmpuint(vigil_scan_n_series(scan), ==, 2);
  VigilStudy *study = g_ptr_array_index(scan->studies, 0);
  for (guint i = 0; i < 2; i++) {
    VigilSeries *series = g_ptr_array_index(study->series, i);
    g_assert_nonnull(series->warning);
    g_assert_nonnull(strstr(series->warning, "split into 2 parts"));
    g_assert_nonnull(strstr(series->warning, "12 x 12"));
  }
}

static const char *issue_for(VigilScan *scan, const char *base) {
  for (guint i = 0; i < scan->issues->len; i++) {
    VigilScanIssue *issue = g_ptr_array_index(scan->issues, i);
    if (g_str_has_suffix(issue->path, base))
      return issue->error->message;
  }
  return NULL;
}

/* Broken files are listed one by one; the good ones still open. */
static void test_mixed_bag(void) {
  g_autofree char *bag = g_build_filename(fixtures, "mixed_bag", NULL);
  g_autofree char *ghost = g_build_filename(fixtures, "ghost", NULL);
  const char *paths[] = {bag, ghost, NULL};
  g_autoptr(VigilScan) scan = vigil_scan_open(paths, VIGIL_SLICE_CACHE_DEFAULT);
  g_assert_nonnull(strstr(issue_for(scan, "notes.txt"), "not a DICOM file"));
  g_assert_nonnull(strstr(issue_for(scan, "truncated.dcm"), "ends early"));
  g_assert_nonnull(strstr(issue_for(scan, "nopixels.dcm"), "no Pixel Data"));
  g_assert_nonnull(strstr(issue_for(scan, "absurd.dcm"), "out of range"));
  g_assert_nonnull(strstr(issue_for(scan, "short_pixels.dcm"), "Pixel Data holds"));
  g_assert_null(issue_for(scan, "j2k.dcm")); /* JPEG 2000 decodes */
  g_assert_nonnull(strstr(issue_for(scan, "ghost"), "no such file"));
  guint want_series = 2; /* CT_small, JPEG2000 */
  if (geteuid() == 0)
    want_series++; /* root reads the chmod 000 file */
  else
    g_assert_nonnull(strstr(issue_for(scan, "locked.dcm"), "cannot read"));
  g_assert_cmpuint(vigil_scan_n_series(scan), ==, want_series);
  g_assert_cmpuint(scan->n_files, ==, 8);
}

/* One series whose slices are uncompressed, JPEG 2000, deflated and HTJ2K by
 * turns: it sorts by position as one series, opens with the files' window,
 * and every slice decodes exactly to its own file's values. */
static void test_mixed_syntaxes(void) {
  g_autoptr(VigilScan) scan = open_one("series_xfer", VIGIL_SLICE_CACHE_DEFAULT);
  for (guint i = 0; i < scan->issues->len; i++) {
    VigilScanIssue *issue = g_ptr_array_index(scan->issues, i);
    g_error("%s: %s", issue->path, issue->error->message);
  }
  VigilSeries *series = only_series(scan);
  g_assert_cmpuint(series->slices->len, ==, 8);
  g_assert_cmpint(series->order, ==, VIGIL_ORDER_POSITION);
  g_assert_cmpfloat_with_epsilon(series->slice_spacing, 2.5, 1e-6);
  g_assert_null(series->warning);
  check_order(series, 2);
  g_autoptr(GHashTable) syntaxes = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < series->slices->len; i++) {
    VigilSlice *slice = g_ptr_array_index(series->slices, i);
    g_hash_table_add(syntaxes, slice->info->transfer_syntax_uid);
    g_assert_cmpint(slice->info->n_windows, ==, 1);
    g_assert_cmpfloat(slice->info->windows[0].center, ==, 40);
    g_assert_cmpfloat(slice->info->windows[0].width, ==, 400);
    g_autoptr(GError) error = NULL;
    g_autoptr(VigilImage) image = vigil_series_get_slice(series, i, &error);
    if (!image)
      g_error("%s: %s", slice->path, error->message);
    gsize count = 0;
    g_autofree char *base = g_path_get_basename(slice->path);
    g_autofree char *expected = g_build_filename("series_xfer_expected", base, NULL);
    g_autofree float *want = dicom_fixture_expected(fixtures, expected, &count);
    g_assert_nonnull(want);
    g_assert_cmpuint(count, ==, (gsize)image->width * image->height);
    for (gsize k = 0; k < count; k++)
      if (image->values[k] != want[k])
        g_error("%s (%s) value %zu: decoded %g, expected %g", slice->path,
                slice->info->transfer_syntax_uid, k, image->values[k], want[k]);
    VigilWindowLevel window = vigil_series_default_window(series, image, NULL);
    g_assert_cmpfloat(window.center, ==, 40);
    g_assert_cmpfloat(window.width, ==, 400);
  }
  g_assert_cmpuint(g_hash_table_size(syntaxes), ==, 4);
  g_autofree char *names = vigil_series_transfer_syntaxes(series);
  g_auto(GStrv) parts = g_strsplit(names, ", ", -1);
  g_assert_cmpuint(g_strv_length(parts), ==, 4);
  g_assert_cmpuint(vigil_series_lossy_slices(series, NULL), ==, 0);
}

/* Opening reads headers only; slices decode on demand within the cache cap. */
static void test_lazy_cache(void) {
  const gsize slice_bytes = 8 * 8 * sizeof(float);
  g_autoptr(VigilScan) scan = open_one("series_pos", 3 * slice_bytes);
  VigilSeries *series = only_series(scan);
  g_assert_cmpuint(vigil_slice_cache_decodes(series->cache), ==, 0);
  for (guint i = 0; i < series->slices->len; i++) {
    g_autoptr(VigilImage) image = vigil_series_get_slice(series, i, NULL);
    g_assert_cmpuint(vigil_slice_cache_bytes(series->cache), <=, 3 * slice_bytes);
  }
  g_assert_cmpuint(vigil_slice_cache_decodes(series->cache), ==, 12);
  g_autoptr(VigilImage) last = vigil_series_get_slice(series, 11, NULL); /* cached */
  g_assert_cmpuint(vigil_slice_cache_decodes(series->cache), ==, 12);
  g_autoptr(VigilImage) first = vigil_series_get_slice(series, 0, NULL); /* evicted */
  g_assert_cmpuint(vigil_slice_cache_decodes(series->cache), ==, 13);
  g_assert_cmpfloat(first->values[0], ==, 0);
  g_autoptr(GError) error = NULL;
  g_assert_null(vigil_series_get_slice(series, 12, &error));
  g_assert_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID);
}

static void test_multiframe(void) {
  g_autoptr(VigilScan) scan = open_one("multiframe.dcm", VIGIL_SLICE_CACHE_DEFAULT);
  VigilSeries *series = only_series(scan);
  g_assert_cmpuint(series->slices->len, ==, 4);
  for (guint i = 0; i < 4; i++) {
    VigilSlice *slice = g_ptr_array_index(series->slices, i);
    g_assert_cmpint(slice->frame, ==, (int)i);
    g_autoptr(VigilImage) image = vigil_series_get_slice(series, i, NULL);
    g_assert_cmpfloat(image->values[0], ==, 1000.0 * i);
  }
}

/* Per-frame positions of an enhanced multi-frame file order its frames. */
static void test_enhanced(void) {
  g_autoptr(VigilScan) scan = open_one("enhanced.dcm", VIGIL_SLICE_CACHE_DEFAULT);
  VigilSeries *series = only_series(scan);
  g_assert_cmpuint(series->slices->len, ==, 6);
  g_assert_cmpint(series->order, ==, VIGIL_ORDER_POSITION);
  g_assert_cmpfloat_with_epsilon(series->slice_spacing, 2.5, 1e-6);
  for (guint i = 0; i < 6; i++) {
    VigilSlice *slice = g_ptr_array_index(series->slices, i);
    g_assert_cmpint(slice->frame, ==, 5 - (int)i);
    g_autoptr(VigilImage) image = vigil_series_get_slice(series, i, NULL);
    g_assert_cmpfloat(image->values[0], ==, (5 - (int)i) * 20 - 100);
    g_assert_cmpfloat(image->pixel_spacing[0], ==, 0.5);
  }
}

static void test_dicomdir(void) {
  const char *paths[] = {
      "/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests/DICOMDIR", NULL};
  g_autoptr(VigilScan) scan = vigil_scan_open(paths, VIGIL_SLICE_CACHE_DEFAULT);
  g_assert_cmpuint(scan->issues->len, ==, 0);
  g_assert_cmpuint(scan->n_files, ==, 31);
  g_assert_cmpuint(scan->studies->len, ==, 6);
  guint slices = 0;
  for (guint i = 0; i < scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len; j++)
      slices += ((VigilSeries *)g_ptr_array_index(study->series, j))->slices->len;
  }
  g_assert_cmpuint(slices, ==, 31);
}

/* Another loader plugs in through the vtable and shares the cache. */
static int fake_decodes;
static VigilImage *fake_decode(const VigilSlice *slice, GError **error) {
  fake_decodes++;
  VigilImage *image = vigil_image_new(4, 2, VIGIL_IMAGE_GRAY, error);
  for (int i = 0; i < 8; i++)
    image->values[i] = slice->frame * 100 + GPOINTER_TO_INT(slice->data);
  return image;
}
static const VigilPixelSource fake_source = {"fake", fake_decode};

static void test_custom_source(void) {
  VigilSliceCache *cache = vigil_slice_cache_new(1 << 20);
  VigilSeries *series = vigil_series_new("nifti-like", cache);
  vigil_slice_cache_unref(cache);
  for (int z = 0; z < 3; z++)
    g_ptr_array_add(series->slices,
                    vigil_slice_new(&fake_source, "volume.nii", z, GINT_TO_POINTER(7), NULL));
  vigil_series_sort(series);
  g_assert_cmpint(series->order, ==, VIGIL_ORDER_FILE);
  for (int round = 0; round < 2; round++)
    for (guint i = 0; i < 3; i++) {
      g_autoptr(VigilImage) image = vigil_series_get_slice(series, i, NULL);
      g_assert_cmpfloat(image->values[3], ==, i * 100 + 7);
    }
  g_assert_cmpint(fake_decodes, ==, 3);
  vigil_series_free(series);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  fixtures = dicom_fixtures_make();
  g_test_add_func("/series/position-order", test_position_order);
  g_test_add_func("/series/instance-order", test_instance_order);
  g_test_add_func("/series/split", test_split);
  g_test_add_func("/series/mixed-bag", test_mixed_bag);
  g_test_add_func("/series/mixed-syntaxes", test_mixed_syntaxes);
  g_test_add_func("/series/lazy-cache", test_lazy_cache);
  g_test_add_func("/series/multiframe", test_multiframe);
  g_test_add_func("/series/enhanced", test_enhanced);
  g_test_add_func("/series/dicomdir", test_dicomdir);
  g_test_add_func("/series/custom-source", test_custom_source);
  int status = g_test_run();
  dicom_fixtures_remove(fixtures);
  g_free(fixtures);
  return status;
}
