/* vigil-cli report: a scan analysed through a VigilAnalysisSession, as the
 * window does it (model, series, class, references, window, results), and
 * the report built from that session written as PDF, JSON and PNG. */
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "vigil-analysis-session.h"
#include "vigil-cli-engine.h"
#include "vigil-cli.h"
#include "vigil-dicom-send.h"
#include "vigil-report.h"
#include "vigil-resize.h"
#include "vigil-scan-images.h"

typedef struct {
  EngineArgs engine;
  char **refs;
  gboolean augment, anonymise, dicom, seg_binary;
  gboolean bundle;            /* --out DIR alone: everything through vigil_report_write_bundle */
  char *formats_text;         /* --formats */
  VigilReportFormats formats; /* parsed from it, else 0 */
  int slice, top;
  char *note, *paper, *series, *window, *pdf, *json, *png, *out;
  char *send, *calling_aet;   /* --send AE@HOST:PORT */
  char *send_aet, *send_host; /* parsed from it */
  int send_port;
} ReportArgs;

static void report_args_clear(ReportArgs *a) {
  vigil_cli_engine_args_clear(&a->engine);
  g_strfreev(a->refs);
  g_free(a->note), g_free(a->paper), g_free(a->series), g_free(a->window);
  g_free(a->pdf), g_free(a->json), g_free(a->png), g_free(a->out), g_free(a->formats_text);
  g_free(a->send), g_free(a->calling_aet), g_free(a->send_aet), g_free(a->send_host);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ReportArgs, report_args_clear)

static gboolean fail(const char *message) {
  fprintf(stderr, "vigil-cli report: %s\n", message);
  return FALSE;
}

/* Outputs are checked before the work so a typo costs no model run. */
static gboolean output_ok(const char *path) {
  if (!path)
    return TRUE;
  g_autofree char *dir = g_path_get_dirname(path);
  if (g_file_test(path, G_FILE_TEST_IS_DIR) || !g_file_test(dir, G_FILE_TEST_IS_DIR) ||
      access(dir, W_OK) != 0) {
    g_autofree char *msg = g_strdup_printf("cannot write %s: the folder %s is missing or not "
                                           "writable",
                                           path, dir);
    return fail(msg);
  }
  return TRUE;
}

/* The series SCAN holds (--series picks one), or NULL (said). */
static VigilSeries *pick_series(VigilScan *scan, const char *scan_path, const char *uid) {
  for (guint i = 0; i < scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len; j++) {
      VigilSeries *series = g_ptr_array_index(study->series, j);
      if (!uid || g_strcmp0(series->uid, uid) == 0)
        return series;
    }
  }
  const VigilScanIssue *issue = scan->issues->len ? scan->issues->pdata[0] : NULL;
  g_autofree char *msg = uid     ? g_strdup_printf("%s: no series %s", scan_path, uid)
                         : issue ? g_strdup_printf("%s: %s", issue->path, issue->error->message)
                                 : g_strdup_printf("%s: no scan found", scan_path);
  fail(msg);
  return NULL;
}

/* The window the model sees: --window, else the viewer's default for the series. */
static gboolean set_window(VigilAnalysisSession *session, VigilSeries *series, int slice,
                           const char *text, GError **error) {
  VigilWindowLevel w;
  const char *why = "--window";
  if (text && !vigil_window_level_parse(text, &w)) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "bad --window '%s'", text);
    return FALSE;
  }
  if (!text) {
    g_autoptr(VigilImage) image = vigil_series_get_slice(series, (guint)slice, error);
    if (!image)
      return FALSE;
    w = vigil_series_default_window(series, image, &why);
  }
  g_autofree char *label = g_strdup_printf("W %g L %g (%s)", w.width, w.center, why);
  vigil_analysis_session_set_window(session, w.center, w.width, label);
  return TRUE;
}

/* References into the engine's bank and the session, as the window adds them. */
static gboolean add_references(VigilEngine *engine, vg_membank *bank, VigilAnalysisSession *session,
                               const ReportArgs *a, GError **error) {
  for (int i = 0; a->refs && a->refs[i]; i++) {
    guint64 id = 0;
    if (!vigil_cli_add_reference(engine, bank, a->refs[i], a->augment, &id, error))
      return FALSE;
    g_autofree char *label = g_path_get_basename(a->refs[i]);
    vigil_analysis_session_add_reference(session, id, label, a->refs[i], NULL, 0);
  }
  return TRUE;
}

/* Analyses `slices` in groups of the engine's batch and stores the results
 * in the session under its key. */
static gboolean analyse(VigilEngine *engine, VigilAnalysisSession *session, const float *text,
                        const vg_membank *bank, GArray *slices, GError **error) {
  VigilSeries *series = vigil_analysis_session_get_series(session);
  g_autofree char *key = g_strdup(vigil_analysis_session_get_key(session));
  double center, width;
  vigil_analysis_session_get_window(session, &center, &width);
  gboolean ok = TRUE;
  for (guint first = 0, n = 0; ok && first < slices->len; first += n) {
    n = MIN((guint)vigil_engine_batch_limit(engine), slices->len - first);
    g_autofree float **inputs = g_new0(float *, n);
    g_autofree VigilDetection **d = g_new0(VigilDetection *, n);
    for (guint i = 0; ok && i < n; i++) {
      const int s = g_array_index(slices, int, first + i);
      g_autoptr(VigilImage) image = vigil_series_get_slice(series, (guint)s, error);
      ok = image && (inputs[i] = vigil_model_input(image, center, width, error));
    }
    ok = ok && vigil_engine_analyse_batch(engine, (int)n, (const float *const *)inputs, text, bank,
                                          NULL, d, error);
    for (guint i = 0; i < n; i++) {
      g_free(inputs[i]);
      if (ok)
        vigil_analysis_session_store(session, key, g_array_index(slices, int, first + i), d[i]);
    }
  }
  return ok;
}

static gboolean run_engine(const ReportArgs *a, VigilAnalysisSession *session, GArray *slices,
                           GError **error) {
  g_autoptr(VigilEngine) engine = vigil_cli_open_engine("report", &a->engine);
  if (!engine)
    return FALSE;
  g_autofree char *identity = vigil_engine_dup_identity(engine);
  g_autofree char *device = vigil_engine_dup_device(engine);
  g_autofree char *key = g_strdup_printf("%s|%s|%s|%s", a->engine.clip, a->engine.adapters, device,
                                         vigil_precision_name(vigil_cli_precision(&a->engine)));
  vigil_analysis_session_set_model(session, key, identity);
  g_autofree float *text = vigil_engine_text_features(engine, a->engine.class_name, NULL, error);
  vg_membank *bank = text && a->refs ? vigil_engine_new_bank(engine, error) : NULL;
  gboolean ok = text && (!a->refs || bank) && add_references(engine, bank, session, a, error);
  vigil_analysis_session_set_few_shot(session, a->refs != NULL);
  ok = ok && analyse(engine, session, text, bank, slices, error);
  vigil_cli_report_fallback("report", engine);
  vigil_engine_free_bank(engine, bank);
  if (!ok && error && !*error)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the analysis failed");
  return ok;
}

/* Writes the outputs asked for; a failure removes those already written, so
 * a run leaves all its files or none. */
static gboolean write_outputs(VigilReport *report, const ReportArgs *a, GError **error) {
  typedef gboolean (*Writer)(VigilReport *, const char *, GCancellable *, GError **);
  const struct {
    const char *path;
    Writer write;
  } out[] = {{a->pdf, vigil_report_write_pdf},
             {a->json, vigil_report_write_json},
             {a->png, vigil_report_write_png}};
  for (guint i = 0; i < G_N_ELEMENTS(out); i++) {
    if (!out[i].path || out[i].write(report, out[i].path, NULL, error))
      continue;
    for (guint j = 0; j < i; j++)
      if (out[j].path)
        g_unlink(out[j].path);
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS(out); i++)
    if (out[i].path)
      printf("%s\n", out[i].path);
  return TRUE;
}

/* The DICOM objects to the --send node; the files stay in --out either way. */
static gboolean send_objects(const ReportArgs *a, GPtrArray *dicom, GError **error) {
  const VigilPacsPeer peer = {.host = a->send_host,
                              .port = a->send_port,
                              .called_aet = a->send_aet,
                              .calling_aet = a->calling_aet};
  g_ptr_array_add(dicom, NULL);
  const gboolean ok = vigil_pacs_send(&peer, (const char *const *)dicom->pdata,
                                      vigil_cli_print_sent, NULL, NULL, error);
  g_ptr_array_remove_index(dicom, dicom->len - 1);
  if (!ok)
    g_prefix_error(error, "sending failed (the files stay in %s): ", a->out);
  return ok;
}

/* --out DIR: every format (or those --formats picks), all or none. */
static gboolean write_bundle(VigilReport *report, const ReportArgs *a, GError **error) {
  /* Everything by default, as the issue names it; --formats picks. */
  VigilReportFormats formats =
      a->formats ? a->formats : VIGIL_REPORT_FORMAT_FILES | VIGIL_REPORT_FORMAT_DICOM;
  if (a->dicom)
    formats |= VIGIL_REPORT_FORMAT_DICOM;
  if (a->seg_binary)
    formats |= VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) dicom = g_ptr_array_new_with_free_func(g_free);
  if (!vigil_report_write_bundle(report, a->out, formats, written, dicom, NULL, error))
    return FALSE;
  for (guint i = 0; i < written->len; i++)
    printf("%s\n", (const char *)written->pdata[i]);
  fflush(stdout);
  GPtrArray *notes = vigil_report_get_notes(report);
  for (guint i = 0; i < notes->len; i++)
    fprintf(stderr, "vigil-cli report: note: %s\n", (const char *)notes->pdata[i]);
  return !a->send || send_objects(a, dicom, error);
}

static gboolean report_scan(const ReportArgs *a, const char *scan_path) {
  const char *paths[] = {scan_path, NULL};
  g_autoptr(VigilScan) scan = vigil_scan_open(paths, VIGIL_SLICE_CACHE_DEFAULT);
  VigilSeries *series = pick_series(scan, scan_path, a->series);
  if (!series)
    return FALSE;
  const int n = (int)series->slices->len;
  if (a->slice < 0 || a->slice >= n) {
    g_autofree char *msg = g_strdup_printf("--slice %d: the series has %d slice%s (from 0 to %d)",
                                           a->slice, n, n == 1 ? "" : "s", n - 1);
    return fail(msg);
  }
  g_autoptr(GArray) slices = g_array_new(FALSE, FALSE, sizeof(int));
  for (int s = a->top ? 0 : a->slice; s < (a->top ? n : a->slice + 1); s++)
    g_array_append_val(slices, s);
  g_autoptr(VigilAnalysisSession) session = vigil_analysis_session_new();
  g_autoptr(GError) error = NULL;
  vigil_analysis_session_set_series(session, series);
  vigil_analysis_session_set_slice(session, a->slice);
  vigil_analysis_session_set_class_name(session, a->engine.class_name);
  VigilReportRequest request;
  vigil_report_request_init(&request);
  request.selection = a->top ? VIGIL_REPORT_TOP_K : VIGIL_REPORT_CURRENT;
  request.top_k = (guint)a->top;
  request.anonymise = a->anonymise;
  request.note = a->note;
  if (a->paper)
    vigil_paper_from_name(a->paper, &request.paper);
  g_autoptr(VigilReport) report = NULL;
  gboolean ok = set_window(session, series, a->slice, a->window, &error) &&
                run_engine(a, session, slices, &error) &&
                (report = vigil_report_new(session, &request, &error)) &&
                (a->bundle ? write_bundle(report, a, &error) : write_outputs(report, a, &error));
  return ok || fail(error ? error->message : "failed");
}

/* --out DIR alone writes through the bundle; with files named one by one,
 * report.pdf, report.json and report.png go there unless named. */
static void default_outputs(ReportArgs *a) {
  a->bundle = a->out && !a->pdf && !a->json && !a->png;
  if (!a->out || a->bundle)
    return;
  char **slot[] = {&a->pdf, &a->json, &a->png};
  const char *name[] = {"report.pdf", "report.json", "report.png"};
  for (guint i = 0; i < G_N_ELEMENTS(slot); i++)
    if (!*slot[i])
      *slot[i] = g_build_filename(a->out, name[i], NULL);
}

/* --formats picks the bundle's formats; --dicom and --seg-binary add to them. */
static gboolean formats_ok(ReportArgs *a) {
  g_autoptr(GError) error = NULL;
  if (!a->formats_text)
    return TRUE;
  if (!vigil_report_formats_parse(a->formats_text, &a->formats, &error)) {
    g_autofree char *msg = g_strdup_printf("--formats: %s", error->message);
    return fail(msg);
  }
  return TRUE;
}

/* --formats, --dicom, --seg-binary and --send write through the bundle into
 * --out; --send sends the DICOM formats (all of them without --formats). */
static gboolean dicom_args_ok(ReportArgs *a) {
  a->dicom = a->dicom || (a->send && !a->formats);
  if ((a->dicom || a->seg_binary || a->formats) && !a->bundle)
    return fail("--formats, --dicom, --seg-binary and --send write into --out DIR (without "
                "--pdf, --json or --png)");
  if (a->send && !a->dicom && !a->seg_binary &&
      !(a->formats & (VIGIL_REPORT_FORMAT_DICOM | VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY)))
    return fail("--send: --formats names no DICOM object (seg, seg-binary, pmap, sc, dcmpdf)");
  if (!a->send)
    return TRUE;
  if (!vigil_cli_parse_node(a->send, &a->send_aet, &a->send_host, &a->send_port))
    return fail("--send wants AE@HOST:PORT, e.g. ORTHANC@pacs.example.org:4242");
  const VigilPacsPeer peer = {.host = a->send_host,
                              .port = a->send_port,
                              .called_aet = a->send_aet,
                              .calling_aet = a->calling_aet};
  g_autoptr(GError) error = NULL;
  return vigil_pacs_peer_validate(&peer, &error) || fail(error->message);
}

static gboolean args_ok(ReportArgs *a, int argc) {
  VigilPaper paper;
  default_outputs(a);
  if (argc != 2 || !a->engine.clip || !a->engine.adapters || !a->engine.class_name ||
      !(a->pdf || a->json || a->png || a->bundle)) {
    fprintf(stderr, "usage: vigil-cli report --clip F --adapters F --class NAME [--ref IMG]... "
                    "[--slice N | --top K] [--note TEXT] [--paper a4|letter] [--anonymise] "
                    "[--pdf OUT.pdf] [--json OUT.json] [--png OUT.png] "
                    "[--out DIR [--formats LIST] [--dicom] [--seg-binary] [--send AE@HOST:PORT "
                    "[--calling-aet AE]]] SCAN\n"
                    "  --formats LIST: comma-separated, of " VIGIL_REPORT_FORMAT_NAMES "\n");
    return FALSE;
  }
  if (!formats_ok(a) || !dicom_args_ok(a))
    return FALSE;
  if (a->top && a->slice)
    return fail("--slice and --top exclude each other");
  if (a->top < 0)
    return fail("--top needs a number of slices of at least 1");
  if (a->paper && !vigil_paper_from_name(a->paper, &paper))
    return fail("--paper: expected a4 or letter");
  return vigil_cli_dtype_ok("report", &a->engine);
}

int vigil_cli_report(int argc, char **argv) {
  g_auto(ReportArgs) a = {0};
  EngineArgs *e = &a.engine;
  const GOptionEntry entries[] = {
      {"clip", 0, 0, G_OPTION_ARG_FILENAME, &e->clip, "CLIP weights (safetensors)", "FILE"},
      {"adapters", 0, 0, G_OPTION_ARG_FILENAME, &e->adapters, "MVFA adapters (.pth/.safetensors)",
       "FILE"},
      {"class", 0, 0, G_OPTION_ARG_STRING, &e->class_name, "Class name for the prompts", "NAME"},
      {"ref", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &a.refs, "A normal reference (repeat)", "IMG"},
      {"augment", 0, 0, G_OPTION_ARG_NONE, &a.augment, "MVFA's 11-fold reference augmentation",
       NULL},
      {"series", 0, 0, G_OPTION_ARG_STRING, &a.series, "Series Instance UID", "UID"},
      {"slice", 0, 0, G_OPTION_ARG_INT, &a.slice, "Report this slice (from 0; default 0)", "N"},
      {"top", 0, 0, G_OPTION_ARG_INT, &a.top, "Analyse every slice, report the K highest", "K"},
      {"window", 0, 0, G_OPTION_ARG_STRING, &a.window, "Window center,width", "C,W"},
      {"note", 0, 0, G_OPTION_ARG_STRING, &a.note, "Findings note printed in the report", "TEXT"},
      {"paper", 0, 0, G_OPTION_ARG_STRING, &a.paper, "a4 (default) or letter", "SIZE"},
      {"page", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &a.paper, "Same as --paper", "SIZE"},
      {"anonymise", 0, 0, G_OPTION_ARG_NONE, &a.anonymise, "No patient identity in any output",
       NULL},
      {"pdf", 0, 0, G_OPTION_ARG_FILENAME, &a.pdf, "Write the PDF report", "FILE"},
      {"json", 0, 0, G_OPTION_ARG_FILENAME, &a.json, "Write the JSON report", "FILE"},
      {"png", 0, 0, G_OPTION_ARG_FILENAME, &a.png, "Write the annotated view", "FILE"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &a.out,
       "report.pdf, .json and .png (and the DICOM objects) in DIR", "DIR"},
      {"formats", 0, 0, G_OPTION_ARG_STRING, &a.formats_text,
       "With --out: the formats, comma-separated: " VIGIL_REPORT_FORMAT_NAMES
       " (default pdf,png,json)",
       "LIST"},
      {"dicom", 0, 0, G_OPTION_ARG_NONE, &a.dicom,
       "With --out: DICOM SEG, Parametric Map, SC and encapsulated PDF too (seg,pmap,sc,dcmpdf)",
       NULL},
      {"seg-binary", 0, 0, G_OPTION_ARG_NONE, &a.seg_binary,
       "With --out: a binary SEG at the threshold too (seg-binary)", NULL},
      {"send", 0, 0, G_OPTION_ARG_STRING, &a.send,
       "With --out: send the DICOM objects to this node (implies --dicom)", "AE@HOST:PORT"},
      {"calling-aet", 0, 0, G_OPTION_ARG_STRING, &a.calling_aet, "Our AE title for --send (VIGIL)",
       "AE"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &e->backend, "cpu, vulkan or auto", "NAME"},
      {"device", 0, 0, G_OPTION_ARG_STRING, &e->device, "Vulkan device index or name", "DEV"},
      {"dtype", 0, 0, G_OPTION_ARG_STRING, &e->dtype,
       "Matmuls: f32 (default), f16 or bf16 (CPUs with AMX/AVX512_BF16)", "T"},
      {NULL},
  };
  /* Past a file size limit (ulimit -f) a write must fail with EFBIG, as on a
   * full disk, so that the writers remove their partial files, rather than
   * SIGXFSZ killing us with a temporary file left behind. */
  signal(SIGXFSZ, SIG_IGN);
  if (!vigil_cli_parse("report", "analyse a scan and write its report (PDF, JSON, PNG, DICOM)",
                       entries, &argc, &argv) ||
      !args_ok(&a, argc))
    return VIGIL_CLI_USAGE;
  g_autofree char *in_out = a.bundle && g_file_test(a.out, G_FILE_TEST_EXISTS)
                                ? g_build_filename(a.out, "report.pdf", NULL)
                                : NULL; /* a missing --out is created */
  if (!output_ok(a.pdf) || !output_ok(a.json) || !output_ok(a.png) || !output_ok(in_out))
    return VIGIL_CLI_FAILED;
  return report_scan(&a, argv[1]) ? VIGIL_CLI_OK : VIGIL_CLI_FAILED;
}
