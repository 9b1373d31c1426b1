/* The sidebar: a list model of series in scan order, selection as a signal,
 * thumbnails on the items, and rows that name what a radiologist must know
 * about the coding: "lossy" in the subtitle where the files say their pixels
 * went through lossy compression, and the transfer syntax on hover. */
#include <adwaita.h>

#include "vigil-scan.h"
#include "vigil-series-list.h"
#include "vigil-series-row.h"

#define PYDICOM_FILES "/usr/lib/python3/dist-packages/pydicom/data/test_files/"

static VigilScan *open_files(const char *const *names) {
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  for (const char *const *n = names; *n; n++)
    g_ptr_array_add(paths, g_strconcat(PYDICOM_FILES, *n, NULL));
  g_ptr_array_add(paths, NULL);
  return vigil_scan_open((const char *const *)paths->pdata, VIGIL_SLICE_CACHE_DEFAULT);
}

/* A row showing the only series in `name`; the scan goes to *scan (free it after the row). */
static GtkWidget *row_for(const char *name, VigilScan **scan) {
  const char *one[] = {name, NULL};
  *scan = open_files(one);
  g_assert_cmpuint(vigil_scan_n_series(*scan), ==, 1);
  VigilStudy *study = g_ptr_array_index((*scan)->studies, 0);
  g_autoptr(VigilSeriesItem) item =
      vigil_series_item_new(study, g_ptr_array_index(study->series, 0));
  GtkWidget *row = g_object_ref_sink(vigil_series_row_new());
  vigil_series_row_set_item(VIGIL_SERIES_ROW(row), item);
  g_assert_true(vigil_series_row_get_item(VIGIL_SERIES_ROW(row)) == item);
  return row;
}

static void test_lossy(void) {
  VigilScan *scan;
  GtkWidget *row = row_for("693_J2KI.dcm", &scan);
  g_assert_nonnull(strstr(adw_action_row_get_subtitle(ADW_ACTION_ROW(row)), " · lossy"));
  const char *tip = gtk_widget_get_tooltip_text(row);
  g_assert_true(g_str_has_prefix(tip, "JPEG 2000 Image Compression\nLossy compressed"));
  g_object_unref(row);
  vigil_scan_free(scan);
}

static void test_lossless(void) {
  VigilScan *scan;
  GtkWidget *row = row_for("MR_small_jp2klossless.dcm", &scan);
  g_assert_null(strstr(adw_action_row_get_subtitle(ADW_ACTION_ROW(row)), "lossy"));
  g_assert_cmpstr(gtk_widget_get_tooltip_text(row), ==,
                  "JPEG 2000 Image Compression (Lossless Only)");
  g_object_unref(row);
  vigil_scan_free(scan);
}

/* A series that gains slices while indexing: the row's text follows its item. */
static void test_row_follows_item(void) {
  VigilScan *scan;
  GtkWidget *row = row_for("CT_small.dcm", &scan);
  VigilSeriesItem *item = vigil_series_row_get_item(VIGIL_SERIES_ROW(row));
  VigilSeries *series = vigil_series_item_get_series(item);
  g_assert_nonnull(strstr(adw_action_row_get_subtitle(ADW_ACTION_ROW(row)), "1 slice "));
  g_ptr_array_add(series->slices, g_ptr_array_index(series->slices, 0));
  vigil_series_item_changed(item);
  g_assert_nonnull(strstr(adw_action_row_get_subtitle(ADW_ACTION_ROW(row)), "2 slices"));
  g_ptr_array_steal_index(series->slices, 1); /* the same slice twice: not freed twice */
  g_object_unref(row);
  vigil_scan_free(scan);
}

static void on_selected(VigilSeriesList *list, VigilSeries *series, gpointer user_data) {
  (void)list;
  g_ptr_array_add(user_data, series);
}

static void on_thumbnail(VigilSeriesList *list, gpointer user_data) {
  (void)list;
  ++*(guint *)user_data;
}

/* Items in the order given, the selection as a signal, thumbnails once per item. */
static void test_list(void) {
  const char *names[] = {"CT_small.dcm", "MR_small.dcm", NULL};
  VigilScan *scan = open_files(names);
  g_assert_cmpuint(vigil_scan_n_series(scan), ==, 2);
  VigilSeriesList *list = VIGIL_SERIES_LIST(g_object_ref_sink(vigil_series_list_new()));
  g_autoptr(GPtrArray) chosen = g_ptr_array_new();
  guint ready = 0;
  g_signal_connect(list, "series-selected", G_CALLBACK(on_selected), chosen);
  g_signal_connect(list, "thumbnail-ready", G_CALLBACK(on_thumbnail), &ready);
  VigilSeries *s[2];
  /* Inserted out of order, each at its position, as the indexer does. */
  guint k = 0;
  for (guint i = 0; i < scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len; j++, k++) {
      s[k] = g_ptr_array_index(study->series, j);
      g_assert_cmpint(vigil_scan_series_position(scan, s[k]), ==, (int)k);
      g_assert_true(vigil_scan_find_series(scan, s[k]->uid) == s[k]);
    }
  }
  VigilStudy *study1 = g_ptr_array_index(scan->studies, scan->studies->len - 1);
  VigilStudy *study0 = g_ptr_array_index(scan->studies, 0);
  vigil_series_list_insert(list, study1, s[1], 0);
  vigil_series_list_insert(list, study0, s[0], 0);
  GListModel *items = vigil_series_list_get_items(list);
  g_assert_cmpuint(g_list_model_get_n_items(items), ==, 2);
  for (guint i = 0; i < 2; i++) {
    g_autoptr(VigilSeriesItem) item = g_list_model_get_item(items, i);
    g_assert_true(vigil_series_item_get_series(item) == s[i]);
    g_assert_true(vigil_series_list_find(list, s[i]) == item);
  }
  g_assert_cmpuint(chosen->len, ==, 0); /* nothing chosen by itself */
  vigil_series_list_select(list, s[1]);
  g_assert_cmpuint(chosen->len, ==, 1);
  g_assert_true(g_ptr_array_index(chosen, 0) == s[1]);

  for (int round = 0; round < 2; round++) /* asked twice, rendered once */
    for (guint i = 0; i < 2; i++)
      vigil_series_list_request_thumbnail(list, G_OBJECT(list), vigil_series_list_find(list, s[i]));
  while (ready < 2)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpuint(vigil_series_list_count_thumbnails(list), ==, 2);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration(NULL, FALSE);
  g_assert_cmpuint(ready, ==, 2);

  vigil_series_list_clear(list);
  g_assert_cmpuint(g_list_model_get_n_items(items), ==, 0);
  g_assert_null(vigil_series_list_find(list, s[0]));
  g_assert_cmpuint(chosen->len, ==, 1); /* clearing chooses nothing */
  g_object_unref(list);
  vigil_scan_free(scan);
}

int main(int argc, char **argv) {
  gtk_test_init(&argc, &argv, NULL);
  adw_init();
  g_test_add_func("/series-list/row-lossy", test_lossy);
  g_test_add_func("/series-list/row-lossless", test_lossless);
  g_test_add_func("/series-list/row-follows-item", test_row_follows_item);
  g_test_add_func("/series-list/list", test_list);
  return g_test_run();
}
