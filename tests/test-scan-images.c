/* PNG, JPEG and NIfTI files in the study/series model, next to DICOM. */
#include <glib.h>
#include <glib/gstdio.h>

#include "vigil-png.h"
#include "vigil-scan-error.h"
#include "vigil-scan-images.h"

#define CH2 "/usr/share/mricron/templates/ch2.nii.gz"

static void test_mixed_folder(void) {
  g_autofree char *dir = g_dir_make_tmp("vigil-scan-images-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "slice.png", NULL);
  g_autofree char *junk = g_build_filename(dir, "notes.txt", NULL);
  guint8 pixels[6 * 4];
  for (int i = 0; i < 24; i++)
    pixels[i] = (guint8)(i * 10);
  g_assert_true(vigil_png_save_u8(png, pixels, 6, 4, 1, NULL));
  g_assert_true(g_file_set_contents(junk, "not a scan", -1, NULL));
  const char *paths[] = {dir, CH2, NULL};
  g_autoptr(VigilScan) scan = vigil_scan_open(paths, 1 << 20);
  g_assert_cmpuint(scan->studies->len, ==, 2);
  g_assert_cmpuint(scan->issues->len, ==, 1); /* the text file, named */
  VigilScanIssue *issue = g_ptr_array_index(scan->issues, 0);
  g_assert_cmpstr(issue->path, ==, junk);
  g_assert_cmpuint(vigil_scan_n_series(scan), ==, 2);

  for (guint i = 0; i < scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    VigilSeries *series = g_ptr_array_index(study->series, 0);
    g_autoptr(GError) error = NULL;
    if (g_str_has_suffix(series->uid, ".png")) {
      g_assert_cmpuint(series->slices->len, ==, 1);
      g_autoptr(VigilImage) im = vigil_series_get_slice(series, 0, &error);
      g_assert_no_error(error);
      g_assert_cmpint(im->width, ==, 6);
      g_assert_cmpfloat(im->values[5], ==, 50);
      VigilWindowLevel w = vigil_series_default_window(series, im, NULL);
      g_assert_cmpfloat(w.width, ==, 256); /* 8-bit shows as stored */
    } else {
      g_assert_cmpstr(series->uid, ==, CH2);
      g_assert_cmpuint(series->slices->len, ==, 181);
      g_autoptr(VigilImage) im = vigil_series_get_slice(series, 90, &error);
      g_assert_no_error(error);
      g_assert_cmpint(im->width, ==, 181);
      g_assert_cmpint(im->height, ==, 217);
      g_assert_cmpfloat(im->max_value, >, 0);
    }
  }
  g_unlink(png), g_unlink(junk), g_rmdir(dir);
}

static void test_load_slice(void) {
  g_autoptr(GError) error = NULL;
  VigilWindowLevel w;
  g_autoptr(VigilImage) im = vigil_scan_load_slice(CH2, NULL, 45, &w, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(w.width, >=, 1);
  g_assert_null(vigil_scan_load_slice(CH2, NULL, 181, &w, &error));
  g_assert_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_null(vigil_scan_load_slice(CH2, "1.2.3", 0, &w, &error));
  g_assert_nonnull(strstr(error->message, "no series 1.2.3"));
  g_clear_error(&error);
  g_assert_null(vigil_scan_load_slice("/nonexistent.png", NULL, 0, &w, &error));
  g_assert_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_IO);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/scan-images/mixed-folder", test_mixed_folder);
  g_test_add_func("/scan-images/load-slice", test_load_slice);
  return g_test_run();
}
