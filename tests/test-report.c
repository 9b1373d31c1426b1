/* Reports from an analysis session without the engine: which slices a
 * request picks (current, marked, top-k), stale results refused or marked,
 * errors for missing results and unwritable paths, cancellation, and writing
 * on a worker thread after the session is gone (the report holds copies). */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "vigil-report-private.h"
#include "vigil-report.h"

#define SIDE 8
#define LAYERS 2

/* 20 x 16 gradients; slice 3 does not decode. */
static VigilImage *decode(const VigilSlice *slice, GError **error) {
  if (slice->frame == 3) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "unreadable pixels");
    return NULL;
  }
  VigilImage *im = vigil_image_new(20, 16, VIGIL_IMAGE_GRAY, error);
  for (int i = 0; i < 20 * 16; i++)
    im->values[i] = (float)(i % 20 * 10 + slice->frame);
  vigil_image_update_range(im);
  return im;
}

static const VigilPixelSource source = {"test", decode};

static VigilSeries *series_new(guint n) {
  VigilSliceCache *cache = vigil_slice_cache_new(1 << 20);
  VigilSeries *s = vigil_series_new("1.2.3", cache);
  vigil_slice_cache_unref(cache);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(s->slices, vigil_slice_new(&source, "/scans/x.dcm", (int)i, NULL, NULL));
  s->width = 20, s->height = 16;
  return s;
}

static VigilDetection *detection(double score) {
  VigilDetection *d = g_new0(VigilDetection, 1);
  d->layers = LAYERS, d->side = SIDE;
  d->zero_layer_maps = g_new(float, LAYERS *SIDE *SIDE);
  d->zero_map = g_new0(float, SIDE *SIDE);
  for (int i = 0; i < LAYERS * SIDE * SIDE; i++) {
    d->zero_layer_maps[i] = (float)(i % (SIDE * SIDE)) / (SIDE * SIDE);
    d->zero_map[i % (SIDE * SIDE)] += d->zero_layer_maps[i];
  }
  d->zero_score = score;
  return d;
}

typedef struct {
  VigilAnalysisSession *session;
  VigilSeries *series;
  char *dir;
} Fixture;

static void store(Fixture *f, int slice, double score) {
  const char *key = vigil_analysis_session_get_key(f->session);
  g_assert_true(vigil_analysis_session_store(f->session, key, slice, detection(score)));
}

static void setup(Fixture *f, gconstpointer data) {
  (void)data;
  f->session = vigil_analysis_session_new();
  f->series = series_new(5);
  f->dir = g_dir_make_tmp("vigil-report-XXXXXX", NULL);
  vigil_analysis_session_set_model(f->session, "k",
                                   "CLIP c.safetensors (sha256 ab)\nRANDOM TEST MODEL");
  vigil_analysis_session_set_series(f->session, f->series);
  vigil_analysis_session_set_class_name(f->session, "Brain");
  vigil_analysis_session_set_window(f->session, 100, 200, "W 200 L 100 (test)");
  vigil_analysis_session_add_reference(f->session, 7, "missing.png", "/nonexistent/missing.png",
                                       NULL, 0);
}

static void remove_tree(const char *path) {
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  for (const char *name; dir && (name = g_dir_read_name(dir));) {
    g_autofree char *child = g_build_filename(path, name, NULL);
    remove_tree(child);
  }
  g_remove(path);
}

static void teardown(Fixture *f, gconstpointer data) {
  (void)data;
  g_clear_object(&f->session);
  vigil_series_free(f->series);
  remove_tree(f->dir);
  g_free(f->dir);
}

static char *path_in(Fixture *f, const char *name) {
  return g_build_filename(f->dir, name, NULL);
}

static void test_errors(Fixture *f, gconstpointer data) {
  (void)data;
  VigilReportRequest req;
  vigil_report_request_init(&req);
  g_autoptr(GError) error = NULL;
  g_assert_null(vigil_report_new(f->session, &req, &error));
  g_assert_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_NO_RESULTS);
  g_assert_nonnull(strstr(error->message, "slice 0 has not been analysed"));
  g_clear_error(&error);
  req.selection = VIGIL_REPORT_TOP_K;
  g_assert_null(vigil_report_new(f->session, &req, &error));
  g_assert_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_NO_RESULTS);
  g_clear_error(&error);
  const int marked[] = {1, 5};
  store(f, 1, 0.5);
  req.selection = VIGIL_REPORT_MARKED, req.slices = marked, req.n_slices = 2;
  g_assert_null(vigil_report_new(f->session, &req, &error));
  g_assert_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_SLICE);
  g_assert_nonnull(strstr(error->message, "slice 5 is not in the series (it has 5 slices"));
  g_clear_error(&error);
  req.n_slices = 0;
  g_assert_null(vigil_report_new(f->session, &req, &error));
  g_assert_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_SLICE);
  g_clear_error(&error);
  VigilPaper paper;
  g_assert_true(vigil_paper_from_name("Letter", &paper) && paper == VIGIL_PAPER_LETTER);
  g_assert_false(vigil_paper_from_name("legal", &paper));
}

static void test_selection(Fixture *f, gconstpointer data) {
  (void)data;
  const double scores[] = {0.2, 0.9, 0.1, 0.7, 0.4};
  for (int s = 0; s < 5; s++)
    store(f, s, scores[s]);
  VigilReportRequest req;
  vigil_report_request_init(&req);
  req.selection = VIGIL_REPORT_TOP_K, req.top_k = 3;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilReport) top = vigil_report_new(f->session, &req, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(vigil_report_n_slices(top), ==, 3);
  g_assert_cmpint(vigil_report_get_slice(top, 0), ==, 1);
  g_assert_cmpint(vigil_report_get_slice(top, 1), ==, 3);
  g_assert_cmpint(vigil_report_get_slice(top, 2), ==, 4);
  const int marked[] = {4, 0};
  req.selection = VIGIL_REPORT_MARKED, req.slices = marked, req.n_slices = 2;
  g_autoptr(VigilReport) m = vigil_report_new(f->session, &req, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(vigil_report_n_slices(m), ==, 2);
  g_assert_cmpint(vigil_report_get_slice(m, 0), ==, 4);
  g_assert_cmpint(vigil_report_get_slice(m, 1), ==, 0);
  vigil_analysis_session_set_slice(f->session, 2);
  req.selection = VIGIL_REPORT_CURRENT;
  g_autoptr(VigilReport) current = vigil_report_new(f->session, &req, &error);
  g_assert_cmpint(vigil_report_get_slice(current, 0), ==, 2);
  /* A slice that does not decode fails the writer and names the slice. */
  req.selection = VIGIL_REPORT_MARKED, req.slices = (const int[]){3}, req.n_slices = 1;
  g_autoptr(VigilReport) bad = vigil_report_new(f->session, &req, &error);
  g_autofree char *pdf = path_in(f, "bad.pdf");
  g_assert_false(vigil_report_write_pdf(bad, pdf, NULL, &error));
  g_assert_true(g_str_has_prefix(error->message, "slice 3: "));
  g_assert_nonnull(strstr(error->message, "unreadable pixels"));
  g_assert_false(g_file_test(pdf, G_FILE_TEST_EXISTS));
}

static JsonObject *first_slice(JsonParser *parser, const char *path) {
  g_autoptr(GError) error = NULL;
  g_assert_true(json_parser_load_from_file(parser, path, &error));
  JsonObject *root = json_node_get_object(json_parser_get_root(parser));
  return json_array_get_object_element(json_object_get_array_member(root, "slices"), 0);
}

static void test_stale(Fixture *f, gconstpointer data) {
  (void)data;
  store(f, 0, 0.25);
  vigil_analysis_session_set_class_name(f->session, "Liver"); /* every result turns stale */
  VigilReportRequest req;
  vigil_report_request_init(&req);
  g_autoptr(GError) error = NULL;
  g_assert_null(vigil_report_new(f->session, &req, &error));
  g_assert_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_STALE);
  g_clear_error(&error);
  req.allow_stale = TRUE;
  const VigilReportWindow window = {0, 50, 20};
  req.windows = &window, req.n_windows = 1;
  g_autoptr(VigilReport) rep = vigil_report_new(f->session, &req, &error);
  g_assert_no_error(error);
  g_autofree char *json = path_in(f, "r.json");
  g_assert_true(vigil_report_write_json(rep, json, NULL, &error));
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *s = first_slice(parser, json);
  g_assert_true(json_object_get_boolean_member(s, "stale"));
  g_assert_cmpstr(json_object_get_string_member(s, "class"), ==, "Brain"); /* as made */
  g_assert_cmpfloat(json_object_get_double_member(s, "zero_det_score"), ==, 0.25);
  JsonObject *view = json_object_get_object_member(s, "view_window");
  g_assert_cmpfloat(json_object_get_double_member(view, "center"), ==, 50);
  JsonObject *model = json_object_get_object_member(s, "model_window");
  g_assert_cmpfloat(json_object_get_double_member(model, "center"), ==, 100);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(s, "layers")), ==, LAYERS);
  /* The reference that does not decode is named without a thumbnail. */
  g_autofree char *pdf = path_in(f, "r.pdf");
  g_assert_true(vigil_report_write_pdf(rep, pdf, NULL, &error));
  g_autofree char *png = path_in(f, "r.png");
  g_assert_true(vigil_report_write_png(rep, png, NULL, &error));
  g_autofree char *bytes = NULL;
  gsize size = 0;
  g_assert_true(g_file_get_contents(png, &bytes, &size, NULL));
  g_assert_nonnull(memmem(bytes, size, "vigil.stale", strlen("vigil.stale")));
}

/* The series' measurements are in the JSON (every number) and the PDF (a line each). */
static void test_measurements(Fixture *f, gconstpointer data) {
  (void)data;
  store(f, 0, 0.5);
  g_autoptr(VigilImage) im = vigil_image_new(20, 16, VIGIL_IMAGE_GRAY, NULL);
  for (int i = 0; i < 20 * 16; i++)
    im->values[i] = (float)(i % 7) - 1000;
  im->pixel_spacing[0] = 0.5, im->pixel_spacing[1] = 0.8;
  im->spacing_source = VIGIL_SPACING_PIXEL;
  g_autoptr(GPtrArray) ms = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_measurement_free);
  const VigilMeasurePoint ruler[] = {{1, 1}, {4, 5}}, box[] = {{2, 2}, {12, 10}};
  g_ptr_array_add(ms, vigil_measurement_new(VIGIL_MEASURE_RULER, "1.2.3", 0, ruler, 2));
  g_ptr_array_add(ms, vigil_measurement_new(VIGIL_MEASURE_ELLIPSE, "1.2.3", 2, box, 2));
  for (guint i = 0; i < ms->len; i++)
    g_assert_true(vigil_measurement_compute(ms->pdata[i], im, "HU", NULL));
  VigilReportRequest req;
  vigil_report_request_init(&req);
  req.measurements = ms;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilReport) rep = vigil_report_new(f->session, &req, &error);
  g_assert_no_error(error);
  g_ptr_array_set_size(ms, 0); /* the report holds copies */
  g_autofree char *json = path_in(f, "m.json"), *pdf = path_in(f, "m.pdf");
  g_assert_true(vigil_report_write_json(rep, json, NULL, &error));
  g_assert_true(vigil_report_write_pdf(rep, pdf, NULL, &error));
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_file(parser, json, &error));
  JsonArray *a = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
                                              "measurements");
  g_assert_cmpuint(json_array_get_length(a), ==, 2);
  JsonObject *r = json_array_get_object_element(a, 0), *e = json_array_get_object_element(a, 1);
  g_assert_cmpstr(json_object_get_string_member(r, "kind"), ==, "ruler");
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(r, "length"), hypot(2.4, 2.0), 1e-9);
  g_assert_cmpstr(json_object_get_string_member(e, "unit"), ==, "HU");
  g_assert_cmpint(json_object_get_int_member(e, "slice"), ==, 2);
  g_assert_false(json_object_has_member(e, "series")); /* no source UID, anonymised or not */
  g_autofree char *text = NULL;
  const char *argv[] = {"pdftotext", pdf, "-", NULL};
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &text,
                             NULL, NULL, NULL));
  g_assert_nonnull(strstr(text, "Measurements"));
  g_assert_nonnull(strstr(text, "Slice 1: Ruler: 3.12 mm (Pixel Spacing)"));
  g_assert_nonnull(strstr(text, "Slice 3: Ellipse:"));
  /* The annotated PNG of slice 1 carries that slice's measurement in its text. */
  g_autofree char *png = path_in(f, "m.png"), *bytes = NULL;
  gsize size = 0;
  g_assert_true(vigil_report_write_png(rep, png, NULL, &error));
  g_assert_true(g_file_get_contents(png, &bytes, &size, NULL));
  g_assert_nonnull(memmem(bytes, size, "vigil.measurements", strlen("vigil.measurements")));
  g_assert_nonnull(memmem(bytes, size, "Ruler: 3.12 mm", strlen("Ruler: 3.12 mm")));
  g_assert_null(memmem(bytes, size, "Ellipse:", strlen("Ellipse:")));
}

static void test_write_errors(Fixture *f, gconstpointer data) {
  (void)data;
  store(f, 0, 0.5);
  VigilReportRequest req;
  vigil_report_request_init(&req);
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilReport) rep = vigil_report_new(f->session, &req, &error);
  g_assert_false(vigil_report_write_json(rep, "/nonexistent-dir/r.json", NULL, &error));
  g_assert_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE);
  g_assert_nonnull(strstr(error->message, "cannot write the JSON /nonexistent-dir/r.json"));
  g_clear_error(&error);
  g_autoptr(GCancellable) cancel = g_cancellable_new();
  g_cancellable_cancel(cancel);
  g_autofree char *pdf = path_in(f, "cancelled.pdf");
  g_assert_false(vigil_report_write_pdf(rep, pdf, cancel, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false(g_file_test(pdf, G_FILE_TEST_EXISTS));
}

static gpointer write_all(gpointer data) {
  VigilReport *rep = ((gpointer *)data)[0];
  const char *dir = ((gpointer *)data)[1];
  g_autofree char *pdf = g_build_filename(dir, "w.pdf", NULL);
  g_autofree char *json = g_build_filename(dir, "w.json", NULL);
  g_autofree char *png = g_build_filename(dir, "w.png", NULL);
  g_autoptr(GCancellable) cancel = g_cancellable_new();
  gboolean ok = vigil_report_write_pdf(rep, pdf, cancel, NULL) &&
                vigil_report_write_json(rep, json, cancel, NULL) &&
                vigil_report_write_png(rep, png, cancel, NULL);
  return GINT_TO_POINTER(ok);
}

/* As the window will: gather on its thread, write on a worker; the session
 * may change or go meanwhile. */
static void test_worker(Fixture *f, gconstpointer data) {
  (void)data;
  store(f, 0, 0.5);
  VigilReportRequest req;
  vigil_report_request_init(&req);
  req.note = "note";
  g_autoptr(VigilReport) rep = vigil_report_new(f->session, &req, NULL);
  g_clear_object(&f->session);
  gpointer args[] = {rep, f->dir};
  GThread *t = g_thread_new("report", write_all, args);
  g_assert_true(GPOINTER_TO_INT(g_thread_join(t)));
  g_autofree char *json = path_in(f, "w.json");
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *s = first_slice(parser, json);
  g_assert_cmpint(json_object_get_int_member(s, "width"), ==, 20);
  g_assert_cmpint(json_object_get_int_member(s, "height"), ==, 16);
}

/* ---- vigil_report_write_bundle ---- */

static VigilReport *bundle_report(Fixture *f) {
  store(f, 0, 0.5);
  VigilReportRequest req;
  vigil_report_request_init(&req);
  g_autoptr(GError) error = NULL;
  VigilReport *rep = vigil_report_new(f->session, &req, &error);
  g_assert_no_error(error);
  return rep;
}

static int by_name(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in `dir`, sorted and joined with spaces. */
static char *listing(const char *dir) {
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  for (const char *name; d && (name = g_dir_read_name(d));)
    g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, by_name);
  g_ptr_array_add(names, NULL);
  return g_strjoinv(" ", (char **)names->pdata);
}

static char *basenames(GPtrArray *paths) {
  g_autoptr(GString) s = g_string_new(NULL);
  for (guint i = 0; i < paths->len; i++)
    g_string_append_printf(s, "%s%s", i ? " " : "", strrchr(paths->pdata[i], '/') + 1);
  return g_string_free(g_steal_pointer(&s), FALSE);
}

/* A non-DICOM scan: files, SC and PDF objects (no SEG/PMAP, silently); the
 * encapsulated PDF is report.pdf; no temporary file stays. */
static void test_bundle(Fixture *f, gconstpointer data) {
  (void)data;
  g_autoptr(VigilReport) rep = bundle_report(f);
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) dicom = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = path_in(f, "out");
  g_assert_true(vigil_report_write_bundle(rep, out,
                                          VIGIL_REPORT_FORMAT_FILES | VIGIL_REPORT_FORMAT_DICOM |
                                              VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY,
                                          written, dicom, NULL, &error));
  g_assert_no_error(error);
  g_autofree char *w = basenames(written), *d = basenames(dicom), *l = listing(out);
  g_assert_cmpstr(w, ==, "report.pdf report.png report.json slice-001-sc.dcm report-pdf.dcm");
  g_assert_cmpstr(d, ==, "slice-001-sc.dcm report-pdf.dcm");
  g_assert_cmpstr(l, ==, "report-pdf.dcm report.json report.pdf report.png slice-001-sc.dcm");
  g_autofree char *pdf = NULL, *dcm = NULL;
  gsize pdf_size = 0, dcm_size = 0;
  g_autofree char *pdf_path = g_build_filename(out, "report.pdf", NULL);
  g_autofree char *dcm_path = g_build_filename(out, "report-pdf.dcm", NULL);
  g_assert_true(g_file_get_contents(pdf_path, &pdf, &pdf_size, NULL));
  g_assert_true(g_file_get_contents(dcm_path, &dcm, &dcm_size, NULL));
  g_assert_nonnull(memmem(dcm, dcm_size, pdf, pdf_size));
  /* The encapsulated PDF alone: its PDF is made on the side and removed. */
  g_autofree char *only = path_in(f, "only");
  g_assert_true(vigil_report_write_bundle(rep, only, VIGIL_REPORT_FORMAT_DICOM_PDF, written, NULL,
                                          NULL, &error));
  g_autofree char *l2 = listing(only);
  g_assert_cmpstr(l2, ==, "report-pdf.dcm");
  g_assert_cmpuint(written->len, ==, 6);
}

/* `formats` into `dir` must fail with `domain`/`code` and a message holding
 * `words`, touch neither array and leave `dir` as `left` lists it. */
static void bundle_fails(VigilReport *rep, const char *dir, VigilReportFormats formats,
                         GCancellable *cancel, GQuark domain, int code, const char *words,
                         const char *left) {
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) dicom = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_report_write_bundle(rep, dir, formats, written, dicom, cancel, &error));
  g_assert_error(error, domain, code);
  g_assert_nonnull(strstr(error->message, words));
  g_assert_cmpuint(written->len + dicom->len, ==, 0);
  g_autofree char *l = listing(dir);
  if (left)
    g_assert_cmpstr(l, ==, left);
  else
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

static void test_bundle_all_or_nothing(Fixture *f, gconstpointer data) {
  (void)data;
  g_autoptr(VigilReport) rep = bundle_report(f);
  const VigilReportFormats all = VIGIL_REPORT_FORMAT_FILES | VIGIL_REPORT_FORMAT_DICOM;
  g_autofree char *fresh = path_in(f, "fresh");
  bundle_fails(rep, fresh, 0, NULL, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE,
               "no report format", NULL);
  bundle_fails(rep, fresh, VIGIL_REPORT_FORMAT_DICOM_SEG | VIGIL_REPORT_FORMAT_DICOM_PMAP, NULL,
               VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_NOT_DICOM, "need a DICOM source", NULL);
  /* A folder that cannot be made (a file is in the way). */
  g_autofree char *file = path_in(f, "file");
  g_assert_true(g_file_set_contents(file, "x", 1, NULL));
  g_autofree char *under_file = g_build_filename(file, "out", NULL);
  bundle_fails(rep, under_file, all, NULL, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE,
               "cannot create the folder", NULL);
  /* Cancelled: nothing written, the folder this call made removed again. */
  g_autoptr(GCancellable) cancel = g_cancellable_new();
  g_cancellable_cancel(cancel);
  bundle_fails(rep, fresh, all, cancel, G_IO_ERROR, G_IO_ERROR_CANCELLED, "", NULL);
  /* A failure after PDF and PNG (report.json is a folder), then one after the
   * files among the DICOM objects (the SC's name is taken): what was written
   * goes, what was there stays. */
  g_autofree char *mid = path_in(f, "mid");
  g_autofree char *json_dir = g_build_filename(mid, "report.json", NULL);
  g_assert_cmpint(g_mkdir_with_parents(json_dir, 0755), ==, 0);
  bundle_fails(rep, mid, all, NULL, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE, "report.json",
               "report.json");
  g_assert_cmpint(g_rmdir(json_dir), ==, 0);
  g_autofree char *sc_dir = g_build_filename(mid, "slice-001-sc.dcm", NULL);
  g_assert_cmpint(g_mkdir(sc_dir, 0755), ==, 0);
  bundle_fails(rep, mid, all, NULL, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE,
               "slice-001-sc.dcm", "slice-001-sc.dcm");
  /* A binary SEG needs the threshold. */
  VigilReportRequest req;
  vigil_report_request_init(&req);
  req.threshold = NAN;
  g_autoptr(VigilReport) no_threshold = vigil_report_new(f->session, &req, NULL);
  bundle_fails(no_threshold, fresh, all | VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY, NULL,
               VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE, "threshold", NULL);
}

/* A report keeps the calibration in use: the calibrated score, the map on the
 * calibrated scale, and the region above the contour level (pixels: the test
 * slices have no spacing) with its maximum. */
static void test_calibrated(Fixture *f, gconstpointer data) {
  (void)data;
  store(f, 0, 0.3);
  VigilCalibration *c = g_new0(VigilCalibration, 1);
  c->source = VIGIL_CALIBRATION_LABELLED, c->class_name = g_strdup("Brain");
  c->threshold = 0.2, c->min = 0, c->max = 0.4, c->normal = 3, c->abnormal = 2;
  c->map_threshold = 1.0, c->map_min = 0, c->map_max = 2; /* zero_map spans 0..2 */
  c->clip_sha256 = g_strdup("c1"), c->adapters_sha256 = g_strdup("a1");
  vigil_analysis_session_set_calibration(f->session, c);
  VigilReportRequest req;
  vigil_report_request_init(&req);
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilReport) rep = vigil_report_new(f->session, &req, &error);
  g_assert_no_error(error);
  vigil_analysis_session_set_calibration(f->session, NULL); /* the report kept its copy */
  g_autofree char *json = path_in(f, "c.json");
  g_assert_true(vigil_report_write_json(rep, json, NULL, &error));
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *s = first_slice(parser, json);
  JsonObject *root = json_node_get_object(json_parser_get_root(parser));
  JsonObject *cal = json_object_get_object_member(root, "calibration");
  g_assert_cmpstr(json_object_get_string_member(cal, "source"), ==, "labelled");
  g_assert_cmpfloat(json_object_get_double_member(cal, "map_threshold"), ==, 1.0);
  /* (0.3 - 0.2) / 0.4 + 0.5 */
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(s, "calibrated_score"), 0.75, 1e-12);
  JsonObject *scale = json_object_get_object_member(s, "map_scale");
  g_assert_true(json_object_get_boolean_member(scale, "calibrated"));
  g_assert_cmpfloat(json_object_get_double_member(scale, "hi"), ==, 1);
  /* zero_map[i] = 2 i / 64: calibrated (v - 1) / 2 + 0.5 >= 0.5 from i = 32 on:
   * 32 cells of 20/8 x 16/8 pixels, the maximum in the last cell. */
  JsonObject *region = json_object_get_object_member(s, "region");
  g_assert_cmpint(json_object_get_int_member(region, "cells"), ==, 32);
  g_assert_cmpstr(json_object_get_string_member(region, "area_unit"), ==, "pixels");
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(region, "area"), 32 * 2.5 * 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(region, "max_x"), 7.5 * 2.5, 1e-9);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(region, "max_y"), 7.5 * 2, 1e-9);
  g_autofree char *png = path_in(f, "c.png");
  g_assert_true(vigil_report_write_png(rep, png, NULL, &error));
  g_autofree char *bytes = NULL;
  gsize size = 0;
  g_assert_true(g_file_get_contents(png, &bytes, &size, NULL));
  g_assert_nonnull(memmem(bytes, size, "labelled set (3 normal, 2 abnormal)", 35));
  g_autofree char *pdf = path_in(f, "c.pdf");
  g_assert_true(vigil_report_write_pdf(rep, pdf, NULL, &error));
}

/* The device and precision a report states, from each identity the engine writes. */
static void test_identity_precision(void) {
  const char *const suffix[] = {"", ", F16 matmul weights", ", BF16 matmul weights"};
  const char *const want[] = {"f32 matmul weights", "f16 matmul weights", "bf16 matmul weights"};
  for (guint i = 0; i < G_N_ELEMENTS(suffix); i++) {
    g_autofree char *id = g_strdup_printf("CLIP c (sha256 x)\nadapters a (sha256 y)\nopenclip on "
                                          "CPU (dnnl GEMM, avx512 attention, 2 threads)%s",
                                          suffix[i]);
    g_assert_cmpstr(vigil_report_identity_precision(id), ==, want[i]);
    g_autofree char *device = vigil_report_identity_device(id);
    g_assert_cmpstr(device, ==, "CPU (dnnl GEMM, avx512 attention, 2 threads)");
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/report/identity-precision", test_identity_precision);
  g_test_add("/report/errors", Fixture, NULL, setup, test_errors, teardown);
  g_test_add("/report/selection", Fixture, NULL, setup, test_selection, teardown);
  g_test_add("/report/stale", Fixture, NULL, setup, test_stale, teardown);
  g_test_add("/report/calibrated", Fixture, NULL, setup, test_calibrated, teardown);
  g_test_add("/report/measurements", Fixture, NULL, setup, test_measurements, teardown);
  g_test_add("/report/write-errors", Fixture, NULL, setup, test_write_errors, teardown);
  g_test_add("/report/worker", Fixture, NULL, setup, test_worker, teardown);
  g_test_add("/report/bundle", Fixture, NULL, setup, test_bundle, teardown);
  g_test_add("/report/bundle-all-or-nothing", Fixture, NULL, setup, test_bundle_all_or_nothing,
             teardown);
  return g_test_run();
}
