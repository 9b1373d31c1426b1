/* The sidebar's series row names what a radiologist must know about the
 * coding: "lossy" in its subtitle where the files say their pixels went
 * through lossy compression, and the transfer syntax on hover. */
#include <adwaita.h>

#include "vigil-scan.h"
#include "vigil-series-row.h"

#define PYDICOM_FILES "/usr/lib/python3/dist-packages/pydicom/data/test_files/"

/* The row of the only series in `name`; the scan goes to *scan (free it after the row). */
static GtkWidget *row_for(const char *name, VigilScan **scan) {
  g_autofree char *path = g_strconcat(PYDICOM_FILES, name, NULL);
  const char *one[] = {path, NULL};
  *scan = vigil_scan_open(one, VIGIL_SLICE_CACHE_DEFAULT);
  g_assert_cmpuint(vigil_scan_n_series(*scan), ==, 1);
  VigilStudy *study = g_ptr_array_index((*scan)->studies, 0);
  GtkWidget *row = vigil_series_row_new(study, g_ptr_array_index(study->series, 0));
  return g_object_ref_sink(row);
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

int main(int argc, char **argv) {
  gtk_test_init(&argc, &argv, NULL);
  adw_init();
  g_test_add_func("/series-row/lossy", test_lossy);
  g_test_add_func("/series-row/lossless", test_lossless);
  return g_test_run();
}
