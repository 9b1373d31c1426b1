/* A report's formats written together into one folder, all or nothing: the
 * files (PDF, PNG, JSON) and the DICOM objects (vigil-dicom-export.h) of
 * every report slice. See vigil_report_write_bundle in vigil-report.h. */
#include "vigil-report-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "vigil-dicom-export.h"

#define SLICE_FORMATS                                                                              \
  (VIGIL_REPORT_FORMAT_DICOM_SEG | VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY |                          \
   VIGIL_REPORT_FORMAT_DICOM_PMAP | VIGIL_REPORT_FORMAT_DICOM_SC)
#define NEEDS_DICOM_SOURCE                                                                         \
  (VIGIL_REPORT_FORMAT_DICOM_SEG | VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY |                          \
   VIGIL_REPORT_FORMAT_DICOM_PMAP)

typedef struct {
  VigilReport *rep;
  const char *dir;
  VigilReportFormats formats;
  char *study_uid;      /* shared by the objects of a non-DICOM source; else NULL */
  char *key;            /* an anonymised report's key for its replaced UIDs; else NULL */
  GPtrArray *written;   /* paths this call wrote, in order */
  GPtrArray *dicom;     /* the DICOM ones among them */
  char *pdf;            /* the PDF to encapsulate (report.pdf or a temporary one) */
  gboolean pdf_is_temp; /* remove `pdf` in any case */
  GCancellable *cancel;
} Bundle;

static gboolean bundle_fail(GError **error, VigilReportError code, const char *message) {
  g_set_error_literal(error, VIGIL_REPORT_ERROR, code, message);
  return FALSE;
}

static gboolean source_is_dicom(const VigilReport *rep) {
  for (guint i = 0; i < rep->slices->len; i++)
    if (!((const VigilReportSlice *)rep->slices->pdata[i])->dicom)
      return FALSE;
  return TRUE;
}

/* The formats that apply to this report, or 0 with the error. */
static VigilReportFormats applicable(const VigilReport *rep, VigilReportFormats formats,
                                     GError **error) {
  const gboolean dicom = source_is_dicom(rep);
  if (formats == 0)
    return bundle_fail(error, VIGIL_REPORT_ERROR_WRITE, "no report format was chosen");
  if ((formats & VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY) && isnan(rep->threshold))
    return bundle_fail(error, VIGIL_REPORT_ERROR_WRITE,
                       "a binary segmentation needs the report's threshold, and none is set");
  if (!dicom)
    formats &= ~(VigilReportFormats)NEEDS_DICOM_SOURCE;
  if (formats == 0)
    return bundle_fail(error, VIGIL_REPORT_ERROR_NOT_DICOM,
                       "segmentations and parametric maps need a DICOM source; this scan is "
                       "not DICOM");
  return formats;
}

gboolean vigil_report_formats_parse(const char *text, VigilReportFormats *formats, GError **error) {
  static const struct {
    const char *name;
    VigilReportFormats format;
  } names[] = {{"pdf", VIGIL_REPORT_FORMAT_PDF},
               {"png", VIGIL_REPORT_FORMAT_PNG},
               {"json", VIGIL_REPORT_FORMAT_JSON},
               {"seg", VIGIL_REPORT_FORMAT_DICOM_SEG},
               {"seg-binary", VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY},
               {"pmap", VIGIL_REPORT_FORMAT_DICOM_PMAP},
               {"sc", VIGIL_REPORT_FORMAT_DICOM_SC},
               {"dcmpdf", VIGIL_REPORT_FORMAT_DICOM_PDF}};
  g_auto(GStrv) parts = g_strsplit(text ? text : "", ",", -1);
  VigilReportFormats found = 0;
  for (guint i = 0; parts[i]; i++) {
    const char *name = g_strstrip(parts[i]);
    guint j = 0;
    while (j < G_N_ELEMENTS(names) && g_ascii_strcasecmp(name, names[j].name) != 0)
      j++;
    if (j == G_N_ELEMENTS(names)) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "unknown report format '%s'; the formats are " VIGIL_REPORT_FORMAT_NAMES, name);
      return FALSE;
    }
    found |= names[j].format;
  }
  if (!found) {
    g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "no report format was given; the formats are " VIGIL_REPORT_FORMAT_NAMES);
    return FALSE;
  }
  *formats = found;
  return TRUE;
}

/* ---- writing, each file recorded so a failure can take them all back ---- */

static char *path_of(const Bundle *b, const char *name) {
  return g_build_filename(b->dir, name, NULL);
}

/* `ok` is the writer's result for `path`: recorded, or the error made to name the file. */
static gboolean record(Bundle *b, char *path, gboolean is_dicom, gboolean ok, GError **error) {
  if (!ok) {
    if (error && *error && (*error)->domain == G_IO_ERROR &&
        (*error)->code != G_IO_ERROR_CANCELLED && !strstr((*error)->message, path))
      g_prefix_error(error, "cannot write %s: ", path);
    g_free(path);
    return FALSE;
  }
  g_ptr_array_add(b->written, path);
  if (is_dicom)
    g_ptr_array_add(b->dicom, g_strdup(path));
  return TRUE;
}

/* A G_IO_ERROR from the DICOM writers becomes VIGIL_REPORT_ERROR_WRITE (it names the file). */
static gboolean as_report_error(gboolean ok, GError **error) {
  if (!ok && error && *error && (*error)->domain == G_IO_ERROR &&
      (*error)->code != G_IO_ERROR_CANCELLED) {
    (*error)->domain = VIGIL_REPORT_ERROR;
    (*error)->code = VIGIL_REPORT_ERROR_WRITE;
  }
  return ok;
}

typedef gboolean (*FileWriter)(VigilReport *, const char *, GCancellable *, GError **);

static gboolean write_file(Bundle *b, VigilReportFormats format, const char *name, FileWriter write,
                           GError **error) {
  if (!(b->formats & format))
    return TRUE;
  if (g_cancellable_set_error_if_cancelled(b->cancel, error))
    return FALSE;
  char *path = path_of(b, name);
  return record(b, path, FALSE, write(b->rep, path, b->cancel, error), error);
}

/* The PDF to encapsulate: report.pdf when written, else a hidden temporary one. */
static gboolean pdf_for_dicom(Bundle *b, GError **error) {
  if (b->formats & VIGIL_REPORT_FORMAT_PDF) {
    b->pdf = path_of(b, "report.pdf");
    return TRUE;
  }
  b->pdf = path_of(b, ".vigil-report-XXXXXX.pdf");
  const int fd = g_mkstemp_full(b->pdf, O_RDWR, 0600);
  if (fd < 0) {
    const int saved = errno;
    g_set_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE, "cannot write in %s: %s",
                b->dir, g_strerror(saved));
    g_clear_pointer(&b->pdf, g_free);
    return FALSE;
  }
  close(fd);
  b->pdf_is_temp = TRUE;
  return vigil_report_write_pdf(b->rep, b->pdf, b->cancel, error);
}

static const char *mode_of(const VigilReportSlice *s) {
  return s->few ? "few-shot" : "zero-shot";
}

static VigilDicomExportSource source_of(const Bundle *b, const VigilReportSlice *s) {
  return (VigilDicomExportSource){.path = s->dicom ? s->path : NULL,
                                  .frame = s->frame,
                                  .study_uid = b->study_uid,
                                  .anonymise = b->rep->anonymise,
                                  .anonymise_key = b->key};
}

/* A SEG or PMAP the source cannot carry (its geometry is missing): left out,
 * with a note that says why, while the other objects are written. */
static gboolean leave_out(Bundle *b, guint n, const char *what, GError **error) {
  if (!g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
    return FALSE;
  g_ptr_array_add(b->rep->notes,
                  g_strdup_printf("slice %u: no %s: %s", n, what, (*error)->message));
  g_clear_error(error);
  return TRUE;
}

/* Writes one SEG or PMAP (`ok` its writer's result), or leaves it out. */
static gboolean map_object(Bundle *b, guint n, const char *what, char *path, gboolean ok,
                           GError **error) {
  if (!ok && leave_out(b, n, what, error)) {
    g_free(path);
    return TRUE;
  }
  return record(b, path, TRUE, ok, error);
}

static gboolean write_segs(Bundle *b, const VigilReportSlice *s, guint n, const VigilMap *map,
                           GError **error) {
  const VigilDicomExportSource src = source_of(b, s);
  if (b->formats & VIGIL_REPORT_FORMAT_DICOM_SEG) {
    char *path = g_strdup_printf("%s/slice-%03u-seg.dcm", b->dir, n);
    g_autofree char *what = g_strdup_printf("Vigil anomaly map (%s)", mode_of(s));
    if (!map_object(
            b, n, "segmentation", path,
            vigil_dicom_write_seg(&src, map, VIGIL_DICOM_SEG_FRACTIONAL, 0, what, path, error),
            error))
      return FALSE;
  }
  if (b->formats & VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY) {
    char *path = g_strdup_printf("%s/slice-%03u-seg-binary.dcm", b->dir, n);
    g_autofree char *what =
        g_strdup_printf("Vigil anomaly map at %.2f (%s)", b->rep->threshold, mode_of(s));
    if (!map_object(b, n, "binary segmentation", path,
                    vigil_dicom_write_seg(&src, map, VIGIL_DICOM_SEG_BINARY, b->rep->threshold,
                                          what, path, error),
                    error))
      return FALSE;
  }
  return TRUE;
}

static gboolean write_pmap(Bundle *b, const VigilReportSlice *s, guint n, const VigilMap *map,
                           GError **error) {
  if (!(b->formats & VIGIL_REPORT_FORMAT_DICOM_PMAP))
    return TRUE;
  const VigilDicomExportSource src = source_of(b, s);
  char *path = g_strdup_printf("%s/slice-%03u-pmap.dcm", b->dir, n);
  g_autofree char *what = g_strdup_printf("Vigil anomaly map, parametric (%s)", mode_of(s));
  return map_object(b, n, "parametric map", path,
                    vigil_dicom_write_pmap(&src, map, what, path, error), error);
}

/* The annotated view as packed RGB (cairo's RGB24 is one native-endian word a pixel). */
static guint8 *view_rgb(const VigilReport *rep, const VigilReportSlice *s, int *w, int *h,
                        GError **error) {
  VigilMap map;
  VigilExportRequest r;
  vigil_report_view_request(rep, s, &map, &r);
  cairo_surface_t *surface = vigil_export_view_surface(&r);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE, "cannot draw the view: %s",
                cairo_status_to_string(cairo_surface_status(surface)));
    cairo_surface_destroy(surface);
    return NULL;
  }
  *w = cairo_image_surface_get_width(surface), *h = cairo_image_surface_get_height(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  const guint8 *data = cairo_image_surface_get_data(surface);
  guint8 *rgb = g_malloc((gsize)*w * *h * 3);
  for (int y = 0; y < *h; y++)
    for (int x = 0; x < *w; x++) {
      const guint32 px = *(const guint32 *)(data + (gsize)y * stride + (gsize)x * 4);
      guint8 *out = rgb + ((gsize)y * *w + x) * 3;
      out[0] = (guint8)(px >> 16), out[1] = (guint8)(px >> 8), out[2] = (guint8)px;
    }
  cairo_surface_destroy(surface);
  return rgb;
}

static gboolean write_sc(Bundle *b, const VigilReportSlice *s, guint n, GError **error) {
  if (!(b->formats & VIGIL_REPORT_FORMAT_DICOM_SC))
    return TRUE;
  int w = 0, h = 0;
  g_autofree guint8 *rgb = view_rgb(b->rep, s, &w, &h, error);
  if (!rgb)
    return FALSE;
  const VigilDicomExportSource src = source_of(b, s);
  char *path = g_strdup_printf("%s/slice-%03u-sc.dcm", b->dir, n);
  g_autofree char *what = g_strdup_printf("Vigil annotated view (%s)", mode_of(s));
  return record(b, path, TRUE, vigil_dicom_write_sc(&src, rgb, w, h, what, path, error), error);
}

static gboolean write_slice(Bundle *b, guint index, GError **error) {
  const VigilReportSlice *s = b->rep->slices->pdata[index];
  if (g_cancellable_set_error_if_cancelled(b->cancel, error))
    return FALSE;
  g_autofree float *scaled = vigil_report_slice_scaled_map(s);
  const VigilMap map = {s->detection->side, s->detection->side, scaled};
  const guint n = (guint)s->slice + 1;
  return write_segs(b, s, n, &map, error) && write_pmap(b, s, n, &map, error) &&
         write_sc(b, s, n, error);
}

static gboolean write_pdf_object(Bundle *b, GError **error) {
  if (!(b->formats & VIGIL_REPORT_FORMAT_DICOM_PDF))
    return TRUE;
  if (g_cancellable_set_error_if_cancelled(b->cancel, error) || !pdf_for_dicom(b, error))
    return FALSE;
  const VigilDicomExportSource src = source_of(b, b->rep->slices->pdata[0]);
  char *path = path_of(b, "report-pdf.dcm");
  g_autofree char *what =
      g_strdup_printf("Vigil report (%s)", b->rep->few_shot ? "few-shot" : "zero-shot");
  return record(b, path, TRUE,
                vigil_dicom_write_pdf(&src, b->pdf, "Vigil anomaly report", what, path, error),
                error);
}

static gboolean write_all(Bundle *b, GError **error) {
  if (!write_file(b, VIGIL_REPORT_FORMAT_PDF, "report.pdf", vigil_report_write_pdf, error) ||
      !write_file(b, VIGIL_REPORT_FORMAT_PNG, "report.png", vigil_report_write_png, error) ||
      !write_file(b, VIGIL_REPORT_FORMAT_JSON, "report.json", vigil_report_write_json, error))
    return FALSE;
  for (guint i = 0; (b->formats & SLICE_FORMATS) && i < b->rep->slices->len; i++)
    if (!as_report_error(write_slice(b, i, error), error))
      return FALSE;
  return as_report_error(write_pdf_object(b, error), error) &&
         !g_cancellable_set_error_if_cancelled(b->cancel, error);
}

static gboolean make_dir(const char *dir, gboolean *created, GError **error) {
  *created = !g_file_test(dir, G_FILE_TEST_EXISTS);
  if (g_mkdir_with_parents(dir, 0755) == 0 && g_file_test(dir, G_FILE_TEST_IS_DIR))
    return TRUE;
  const int saved = errno;
  g_set_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE,
              "cannot create the folder %s: %s", dir,
              g_file_test(dir, G_FILE_TEST_EXISTS) ? "it is a file" : g_strerror(saved));
  return FALSE;
}

GPtrArray *vigil_report_get_notes(VigilReport *report) {
  return report->notes;
}

gboolean vigil_report_write_bundle(VigilReport *rep, const char *dir, VigilReportFormats formats,
                                   GPtrArray *written, GPtrArray *dicom, GCancellable *cancellable,
                                   GError **error) {
  g_return_val_if_fail(rep && dir && written, FALSE);
  Bundle b = {.rep = rep, .dir = dir, .cancel = cancellable};
  g_ptr_array_set_size(rep->notes, 0);
  gboolean created = FALSE;
  if (!(b.formats = applicable(rep, formats, error)) || !make_dir(dir, &created, error))
    return FALSE;
  b.written = g_ptr_array_new_with_free_func(g_free);
  b.dicom = g_ptr_array_new_with_free_func(g_free);
  b.study_uid = source_is_dicom(rep) ? NULL : vigil_dicom_export_new_uid();
  /* One random key a call: its objects agree, and nothing links two exports. */
  b.key = rep->anonymise ? g_uuid_string_random() : NULL;
  const gboolean ok = vigil_report_prepare(rep, cancellable, error) && write_all(&b, error);
  if (b.pdf_is_temp)
    g_unlink(b.pdf);
  for (guint i = 0; !ok && i < b.written->len; i++)
    g_unlink(b.written->pdata[i]);
  if (!ok && created)
    g_rmdir(dir); /* only when empty */
  for (guint i = 0; ok && i < b.written->len; i++)
    g_ptr_array_add(written, g_strdup(b.written->pdata[i]));
  for (guint i = 0; ok && dicom && i < b.dicom->len; i++)
    g_ptr_array_add(dicom, g_strdup(b.dicom->pdata[i]));
  g_ptr_array_unref(b.written), g_ptr_array_unref(b.dicom);
  g_free(b.pdf), g_free(b.study_uid), g_free(b.key);
  return ok;
}
