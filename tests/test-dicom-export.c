/* DICOM export (SEG, Parametric Map, Secondary Capture, Encapsulated PDF):
 * objects written from fixture sources (tests/dicom-export-fixtures.py), then
 * read back by independent tools in tests/dicom-export-check.py (dciodvfy,
 * pydicom, numpy's own resampling); bad input gives an error and no file. */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "vigil-config.h"
#include "vigil-dicom.h"
#include "vigil-dicom-export.h"

#define SIDE 240

static char *dir;     /* fixtures and outputs */
static float *values; /* the map: SIDE x SIDE, partly outside 0..1 */
static VigilMap map = {SIDE, SIDE, NULL};

static char *path(const char *name) {
  return g_build_filename(dir, name, NULL);
}

static void run_python(const char *script, GError **error, char **out, int *status) {
  const char *src = g_getenv("VIGIL_SOURCE_DIR");
  g_assert_nonnull(src);
  g_autofree char *file = g_build_filename(src, "tests", script, NULL);
  char *argv[] = {"/usr/bin/python3", file, dir, VIGIL_VERSION, NULL};
  g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, NULL, status, error);
}

static void make_fixtures(void) {
  g_autoptr(GError) error = NULL;
  dir = g_dir_make_tmp("vigil-dicom-export-XXXXXX", &error);
  g_assert_no_error(error);
  int status = 0;
  run_python("dicom-export-fixtures.py", &error, NULL, &status);
  g_assert_no_error(error);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  /* Smooth, with values below 0 and above 1 (the SEG clamps them). */
  values = g_new(float, SIDE *SIDE);
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++)
      values[y * SIDE + x] = (float)(0.5 + 0.7 * sin(x / 17.0) * cos(y / 23.0) + x * 1e-4);
  map.values = values;
  g_autofree char *f32 = path("map.f32");
  g_assert_true(g_file_set_contents(f32, (const char *)values, SIDE * SIDE * sizeof(float), NULL));
}

/* Writes `name` from `source` with `write` and checks it succeeded. */
#define WRITE_OK(name, call)                                                                       \
  do {                                                                                             \
    g_autoptr(GError) error = NULL;                                                                \
    g_autofree char *out = path(name);                                                             \
    gboolean ok = call;                                                                            \
    g_assert_no_error(error);                                                                      \
    g_assert_true(ok);                                                                             \
    g_assert_true(g_file_test(out, G_FILE_TEST_IS_REGULAR));                                       \
  } while (0)

/* An annotated view: a gradient the checker recomputes. */
static guint8 *view_rgb(int w, int h) {
  guint8 *rgb = g_malloc((gsize)w * h * 3);
  for (int i = 0; i < w * h; i++)
    rgb[3 * i] = (guint8)(i % w), rgb[3 * i + 1] = (guint8)(i / w), rgb[3 * i + 2] = (guint8)i;
  return rgb;
}

static void test_write_all(void) {
  g_autofree char *ct = path("ct.dcm"), *enhanced = path("enhanced.dcm");
  g_autofree char *nogeo = path("nogeo.dcm"), *png = path("slice.png");
  g_autofree char *pdf = path("report.pdf"), *study = vigil_dicom_export_new_uid();
  const VigilDicomExportSource src = {.path = ct}, multi = {.path = enhanced, .frame = 1};
  const VigilDicomExportSource old = {.path = nogeo}, plain = {.path = png, .study_uid = study};
  const int w = 77, h = 51;
  g_autofree guint8 *rgb = view_rgb(w, h);
  g_autofree char *rgb_path = path("view.rgb");
  g_assert_true(g_file_set_contents(rgb_path, (const char *)rgb, w * h * 3, NULL));
  const char *zero = "Vigil anomaly map (zero-shot)";
  WRITE_OK("seg.dcm",
           vigil_dicom_write_seg(&src, &map, VIGIL_DICOM_SEG_FRACTIONAL, 0, zero, out, &error));
  /* Written as ASCII without backslash, cut at 64 (checked in dicom-export-check.py). */
  const char *binary =
      "Vigil anomalie (zéro-shot) \\ seuil 0.5, avec une fin qui dépasse 64 caractères";
  WRITE_OK("seg-binary.dcm",
           vigil_dicom_write_seg(&src, &map, VIGIL_DICOM_SEG_BINARY, 0.5, binary, out, &error));
  WRITE_OK("pmap.dcm", vigil_dicom_write_pmap(&src, &map, zero, out, &error));
  WRITE_OK("sc.dcm", vigil_dicom_write_sc(&src, rgb, w, h, NULL, out, &error));
  WRITE_OK("vue-é.dcm", vigil_dicom_write_sc(&src, rgb, w, h, NULL, out, &error));
  WRITE_OK("pdf.dcm", vigil_dicom_write_pdf(&src, pdf, "Vigil test report", NULL, out, &error));
  WRITE_OK("seg-multi.dcm",
           vigil_dicom_write_seg(&multi, &map, VIGIL_DICOM_SEG_FRACTIONAL, 0, NULL, out, &error));
  WRITE_OK("pmap-multi.dcm", vigil_dicom_write_pmap(&multi, &map, NULL, out, &error));
  WRITE_OK("sc-multi.dcm", vigil_dicom_write_sc(&multi, rgb, w, h, NULL, out, &error));
  WRITE_OK("seg-nogeo.dcm",
           vigil_dicom_write_seg(&old, &map, VIGIL_DICOM_SEG_FRACTIONAL, 0, NULL, out, &error));
  WRITE_OK("sc-plain.dcm", vigil_dicom_write_sc(&plain, rgb, w, h, NULL, out, &error));
  WRITE_OK("pdf-plain.dcm", vigil_dicom_write_pdf(&plain, pdf, NULL, NULL, out, &error));
  WRITE_OK("pdf-none.dcm", vigil_dicom_write_pdf(NULL, pdf, NULL, NULL, out, &error));
}

/* Every object read back by dciodvfy and pydicom (tests/dicom-export-check.py). */
static void test_read_back(void) {
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  int status = 0;
  run_python("dicom-export-check.py", &error, &out, &status);
  g_assert_no_error(error);
  g_test_message("%s", out);
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("dicom-export-check.py failed:\n%s", out);
}

/* The objects Vigil's own reader can show open at their written size (it
 * reads neither 1-bit pixels, as in a BINARY SEG, nor Float Pixel Data, as in
 * a Parametric Map). */
static void test_reopen(void) {
  static const struct {
    const char *name;
    int width, height;
  } objects[] = {{"seg.dcm", 150, 100},
                 {"sc.dcm", 77, 51},
                 {"seg-multi.dcm", 30, 40},
                 {"seg-nogeo.dcm", 48, 64},
                 {"sc-plain.dcm", 77, 51}};
  for (gsize i = 0; i < G_N_ELEMENTS(objects); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *file = path(objects[i].name);
    g_autoptr(VigilImage) image = vigil_dicom_decode_frame(file, 0, &error);
    if (!image)
      g_error("%s does not open in Vigil: %s", objects[i].name, error->message);
    g_assert_cmpint(image->width, ==, objects[i].width);
    g_assert_cmpint(image->height, ==, objects[i].height);
  }
}

/* The call fails with `code` and a message holding `words`; `name` is not
 * written (or, when it existed, keeps its content). */
static void expect_failure(gboolean ok, GError *error, int code, const char *words,
                           const char *name) {
  g_assert_false(ok);
  g_assert_error(error, G_IO_ERROR, code);
  if (!strstr(error->message, words))
    g_error("\"%s\" does not say \"%s\"", error->message, words);
  g_autofree char *out = path(name), *content = NULL;
  if (g_file_get_contents(out, &content, NULL, NULL))
    g_assert_cmpstr(content, ==, "keep");
}

#define FAILS(code, words, name, call)                                                             \
  do {                                                                                             \
    g_autoptr(GError) error = NULL;                                                                \
    g_autofree char *out = path(name);                                                             \
    gboolean ok = call;                                                                            \
    expect_failure(ok, error, code, words, name);                                                  \
  } while (0)

static void test_bad_input(void) {
  g_autofree char *ct = path("ct.dcm"), *png = path("slice.png"), *nogeo = path("nogeo.dcm");
  g_autofree char *partial = path("partial.dcm"), *enhanced = path("enhanced.dcm");
  g_autofree char *pdf = path("report.pdf"), *keep = path("keep.dcm");
  const VigilDicomExportSource src = {.path = ct}, plain = {.path = png};
  const VigilDicomExportSource old = {.path = nogeo}, part = {.path = partial};
  const VigilDicomExportSource frame3 = {.path = enhanced, .frame = 3};
  const VigilDicomExportSource missing = {.path = "/nonexistent/ct.dcm"};
  g_autofree char *truncated = path("truncated.dcm");
  const VigilDicomExportSource cut = {.path = truncated};
  const VigilDicomExportSource *none = NULL;
  g_assert_true(g_file_set_contents(keep, "keep", -1, NULL));
  g_autofree float *nan_values = g_memdup2(values, SIDE * SIDE * sizeof(float));
  nan_values[SIDE * 7 + 5] = NAN;
  const VigilMap nan_map = {SIDE, SIDE, nan_values}, oblong = {SIDE, 200, values};
  guint8 pixel[3] = {0};
  const int F = VIGIL_DICOM_SEG_FRACTIONAL;
  FAILS(G_IO_ERROR_NOT_SUPPORTED, "not a DICOM file", "x1.dcm",
        vigil_dicom_write_seg(&plain, &map, F, 0, NULL, out, &error));
  FAILS(G_IO_ERROR_NOT_SUPPORTED, "not a DICOM file", "x2.dcm",
        vigil_dicom_write_pmap(&plain, &map, NULL, out, &error));
  FAILS(G_IO_ERROR_NOT_SUPPORTED, "there is no source", "x3.dcm",
        vigil_dicom_write_seg(none, &map, F, 0, NULL, out, &error));
  FAILS(G_IO_ERROR_INVALID_DATA, "cannot read the source", "x4.dcm",
        vigil_dicom_write_sc(&missing, pixel, 1, 1, NULL, out, &error));
  FAILS(G_IO_ERROR_INVALID_DATA, "the file ends early", "x10.dcm",
        vigil_dicom_write_pdf(&cut, pdf, NULL, NULL, out, &error));
  FAILS(G_IO_ERROR_INVALID_ARGUMENT, "240 x 200", "keep.dcm",
        vigil_dicom_write_seg(&src, &oblong, F, 0, NULL, out, &error));
  FAILS(G_IO_ERROR_INVALID_DATA, "not a number at x 5, y 7", "keep.dcm",
        vigil_dicom_write_pmap(&src, &nan_map, NULL, out, &error));
  FAILS(G_IO_ERROR_NOT_SUPPORTED, "Frame of Reference UID", "x5.dcm",
        vigil_dicom_write_pmap(&old, &map, NULL, out, &error));
  FAILS(G_IO_ERROR_NOT_SUPPORTED, "no Image Position (Patient) for frame 1", "x6.dcm",
        vigil_dicom_write_seg(&part, &map, F, 0, NULL, out, &error));
  FAILS(G_IO_ERROR_INVALID_ARGUMENT, "no frame 4", "x7.dcm",
        vigil_dicom_write_seg(&frame3, &map, F, 0, NULL, out, &error));
  FAILS(G_IO_ERROR_INVALID_ARGUMENT, "threshold", "x8.dcm",
        vigil_dicom_write_seg(&src, &map, VIGIL_DICOM_SEG_BINARY, NAN, NULL, out, &error));
  FAILS(G_IO_ERROR_INVALID_ARGUMENT, "0 x 1", "x9.dcm",
        vigil_dicom_write_sc(&src, pixel, 0, 1, NULL, out, &error));
  FAILS(G_IO_ERROR_INVALID_DATA, "is not a PDF file", "keep.dcm",
        vigil_dicom_write_pdf(&src, png, NULL, NULL, out, &error));
  /* Unwritable places (the tests may run as root, which ignores modes). */
  FAILS(G_IO_ERROR_NOT_FOUND, "cannot write in the folder", "no-such-folder/sc.dcm",
        vigil_dicom_write_sc(&src, pixel, 1, 1, NULL, out, &error));
  {
    g_autoptr(GError) error = NULL;
    gboolean ok = vigil_dicom_write_pdf(&src, pdf, NULL, NULL, "/proc/vigil-test.dcm", &error);
    g_assert_false(ok);
    g_assert_nonnull(error);
    g_assert_false(g_file_test("/proc/vigil-test.dcm", G_FILE_TEST_EXISTS));
  }
}

/* Failures after the temporary file exists: a full disk (the file size
 * limit stops DCMTK's writes; SIGXFSZ ignored so that write() says EFBIG) and
 * an output path that is a folder (the rename fails). */
static void test_failed_writes(void) {
  g_autofree char *ct = path("ct.dcm"), *folder = path("x-folder");
  const VigilDicomExportSource src = {.path = ct};
  g_assert_cmpint(g_mkdir(folder, 0755), ==, 0);
  struct rlimit old, small;
  g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old), ==, 0);
  small = old;
  small.rlim_cur = 4096; /* the map alone is 100 x 150 x 4 bytes */
  signal(SIGXFSZ, SIG_IGN);
  g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *out = path("x-full.dcm");
    gboolean ok = vigil_dicom_write_pmap(&src, &map, NULL, out, &error);
    setrlimit(RLIMIT_FSIZE, &old);
    expect_failure(ok, error, G_IO_ERROR_NO_SPACE, "file size limit", "x-full.dcm");
  }
  FAILS(G_IO_ERROR_IS_DIRECTORY, "x-folder", "x-folder",
        vigil_dicom_write_seg(&src, &map, VIGIL_DICOM_SEG_FRACTIONAL, 0, NULL, out, &error));
  g_assert_cmpint(g_rmdir(folder), ==, 0);
}

/* Failed writes leave no temporary file behind. */
static void test_no_leftovers(void) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (name[0] == '.' || g_str_has_prefix(name, "x"))
      g_error("left behind: %s", name);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  make_fixtures();
  g_test_add_func("/dicom-export/write-all", test_write_all);
  g_test_add_func("/dicom-export/read-back", test_read_back);
  g_test_add_func("/dicom-export/reopen", test_reopen);
  g_test_add_func("/dicom-export/bad-input", test_bad_input);
  g_test_add_func("/dicom-export/failed-writes", test_failed_writes);
  g_test_add_func("/dicom-export/no-leftovers", test_no_leftovers);
  const int result = g_test_run();
  char *argv_rm[] = {"rm", "-rf", dir, NULL};
  g_spawn_sync(NULL, argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  g_free(dir), g_free(values);
  return result;
}
