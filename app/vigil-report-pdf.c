/* The report as PDF through cairo: a summary page (identification, note,
 * references, provenance, notice), then one page per slice with the overlay
 * and the plain slice side by side, a legend and the scores. Text is real
 * text (cairo's toy API: selectable, searchable); slice images are embedded
 * at their own pixel size and only scaled by the page's transform. */
#include "vigil-report-private.h"

#include <cairo-pdf.h>
#include <math.h>
#include <string.h>

#include "vigil-config.h"
#include "vigil-export.h"

#define MARGIN 42.0
#define BODY 10.0
#define LINE 1.35 /* line height in font sizes */

typedef struct {
  cairo_t *cr;
  double width, height; /* the page, points */
  double y;             /* the next line's top */
} Pen;

static void page_size(VigilPaper paper, double *w, double *h) {
  if (paper == VIGIL_PAPER_LETTER)
    *w = 612, *h = 792;
  else
    *w = 595.276, *h = 841.89;
}

static void new_page(Pen *p) {
  cairo_show_page(p->cr);
  p->y = MARGIN;
}

/* Room for `needed` points more on this page, else a new page. */
static void need(Pen *p, double needed) {
  if (p->y + needed > p->height - MARGIN)
    new_page(p);
}

static void font(Pen *p, double size, gboolean bold) {
  cairo_select_font_face(p->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(p->cr, size);
}

static void show_line(Pen *p, const char *text, double size) {
  need(p, size * LINE);
  cairo_move_to(p->cr, MARGIN, p->y + size);
  cairo_show_text(p->cr, text);
  p->y += size * LINE;
}

/* The longest prefix of `s` (up to a space) that fits `width`; at least one word. */
static gsize fitting(cairo_t *cr, const char *s, double width) {
  gsize best = 0;
  for (gsize i = 0;; i++) {
    if (s[i] != ' ' && s[i] != '\0')
      continue;
    g_autofree char *part = g_strndup(s, i);
    cairo_text_extents_t e;
    cairo_text_extents(cr, part, &e);
    if (best && e.x_advance > width)
      break;
    best = i;
    if (!s[i])
      break;
  }
  return best;
}

/* Text wrapped to the page width; '\n' starts a new line. */
static void paragraph(Pen *p, const char *text, double size, gboolean bold) {
  font(p, size, bold);
  g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
  for (int i = 0; lines[i]; i++) {
    const char *s = lines[i];
    do {
      const gsize n = fitting(p->cr, s, p->width - 2 * MARGIN);
      g_autofree char *part = g_strndup(s, n);
      show_line(p, part, size);
      s += n;
      while (*s == ' ')
        s++;
    } while (*s);
  }
}

static void heading(Pen *p, const char *text) {
  p->y += BODY * 0.6;
  need(p, 3 * BODY * LINE);
  paragraph(p, text, BODY + 2, TRUE);
}

static void fact(Pen *p, const char *label, const char *value) {
  g_autofree char *line = g_strdup_printf("%s: %s", label, value && *value ? value : "(none)");
  paragraph(p, line, BODY, FALSE);
}

/* An image at its own pixel size, scaled into the box (keeping its aspect). */
static void draw_image(cairo_t *cr, cairo_surface_t *s, double x, double y, double w, double h) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, w / cairo_image_surface_get_width(s), h / cairo_image_surface_get_height(s));
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_restore(cr);
}

static void fit(int w, int h, double box_w, double box_h, double *out_w, double *out_h) {
  const double scale = MIN(box_w / w, box_h / h);
  *out_w = w * scale, *out_h = h * scale;
}

/* ---- the summary page ---- */

static void identification(Pen *p, const VigilReport *rep) {
  heading(p, "Identification");
  if (rep->anonymise) {
    paragraph(p, "anonymised", BODY, FALSE);
    return;
  }
  fact(p, "Patient", rep->patient_name);
  fact(p, "Patient ID", rep->patient_id);
  fact(p, "Study date", rep->study_date);
  fact(p, "Modality", rep->modality);
  fact(p, "Series description", rep->series_description);
}

static void references(Pen *p, const VigilReport *rep) {
  heading(p, rep->few_shot ? "Normal references (few-shot)" : "Normal references");
  if (rep->references->len == 0)
    paragraph(p, "none (zero-shot: the class name alone)", BODY, FALSE);
  const double side = 64;
  for (guint i = 0; i < rep->references->len; i++) {
    const VigilReportReference *r = rep->references->pdata[i];
    g_autofree char *label =
        rep->anonymise ? g_strdup_printf("reference %u", i + 1) : g_strdup(r->label);
    need(p, side + 6);
    if (r->thumb) {
      cairo_surface_t *s = vigil_export_slice_surface(r->thumb, r->center, r->width);
      double w, h;
      fit(r->thumb->width, r->thumb->height, side, side, &w, &h);
      draw_image(p->cr, s, MARGIN, p->y, w, h);
      cairo_surface_destroy(s);
    }
    font(p, BODY, FALSE);
    cairo_move_to(p->cr, MARGIN + side + 10, p->y + BODY);
    cairo_show_text(p->cr, label);
    if (!r->thumb) {
      g_autofree char *why = g_strdup_printf("(no thumbnail: %s)", r->thumb_error);
      cairo_move_to(p->cr, MARGIN + side + 10, p->y + 2.5 * BODY);
      cairo_show_text(p->cr, rep->anonymise ? "(no thumbnail)" : why);
    }
    p->y += side + 6;
  }
}

static void provenance(Pen *p, const VigilReport *rep) {
  heading(p, "Provenance");
  paragraph(p, rep->model_identity, BODY, FALSE);
  if (vigil_report_identity_random(rep->model_identity))
    paragraph(p, "random model, results meaningless", BODY, TRUE);
  g_autofree char *date = g_date_time_format(rep->date, "%Y-%m-%d %H:%M:%S %Z");
  g_autofree char *device = vigil_report_identity_device(rep->model_identity);
  fact(p, "Device", device);
  fact(p, "Precision", vigil_report_identity_precision(rep->model_identity));
  fact(p, "Vigil version", VIGIL_VERSION);
  fact(p, "Report date", date);
}

static void measurements(Pen *p, const VigilReport *rep) {
  if (rep->measurements->len == 0)
    return;
  heading(p, "Measurements");
  for (guint i = 0; i < rep->measurements->len; i++) {
    const VigilMeasurement *m = rep->measurements->pdata[i];
    g_autofree char *text = vigil_measurement_describe(m);
    g_autofree char *line = g_strdup_printf("  Slice %d: %s", m->slice + 1, text);
    paragraph(p, line, BODY, FALSE);
  }
}

static void summary(Pen *p, const VigilReport *rep) {
  paragraph(p, "Vigil anomaly report", 18, TRUE);
  paragraph(p, VIGIL_REPORT_NOTICE, BODY, TRUE);
  if (vigil_report_identity_random(rep->model_identity))
    paragraph(p, "random model, results meaningless", BODY, TRUE);
  identification(p, rep);
  heading(p, "Analysis");
  fact(p, "Class", rep->class_name);
  fact(p, "Mode", rep->few_shot ? "few-shot" : "zero-shot");
  g_autofree char *count = g_strdup_printf("%u of %u", rep->slices->len, rep->series->slices->len);
  fact(p, "Slices in this report", count);
  for (guint i = 0; i < rep->slices->len; i++) {
    const VigilReportSlice *s = rep->slices->pdata[i];
    g_autofree char *score = vigil_report_format_score(vigil_report_slice_score(s));
    g_autofree char *calibrated = vigil_report_slice_calibrated_text(s);
    g_autofree char *line = g_strdup_printf("  Slice %d: %s score %s, %s%s", s->slice + 1,
                                            s->few ? "few-shot" : "zero-shot", score, calibrated,
                                            s->stale ? ", STALE" : "");
    paragraph(p, line, BODY, FALSE);
  }
  g_autofree char *calibration = vigil_report_calibration_text(rep);
  fact(p, "Calibration", calibration);
  heading(p, "Findings note");
  paragraph(p, rep->note ? rep->note : "(none)", BODY, FALSE);
  measurements(p, rep);
  references(p, rep);
  provenance(p, rep);
}

/* ---- one page per slice ---- */

static void legend(Pen *p, const VigilReport *rep, double x, double y, double h, double lo,
                   double hi) {
  const int steps = 64;
  for (int i = 0; i < steps; i++) {
    guint8 rgb[3];
    vigil_colormap_rgb(rep->colormap, 1.0 - (i + 0.5) / steps, rgb);
    cairo_set_source_rgb(p->cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
    cairo_rectangle(p->cr, x, y + h * i / steps, 12, h / steps + 0.3);
    cairo_fill(p->cr);
  }
  cairo_set_source_rgb(p->cr, 0, 0, 0);
  font(p, 8, FALSE);
  for (int k = 0; k <= 4; k++) {
    char text[32];
    g_snprintf(text, sizeof text, "%.3g", hi - (hi - lo) * k / 4);
    cairo_move_to(p->cr, x + 15, y + h * k / 4 + 3);
    cairo_show_text(p->cr, text);
  }
}

static void slice_images(Pen *p, const VigilReport *rep, const VigilReportSlice *s) {
  double lo, hi;
  const float *values = vigil_report_slice_map(s, &lo, &hi);
  VigilMap map = {s->detection->side, s->detection->side, (float *)values};
  VigilExportRequest r = {.image = s->image,
                          .window_center = s->view_center,
                          .window_width = s->view_width,
                          .map = &map,
                          .map_lo = lo,
                          .map_hi = hi,
                          .opacity = rep->opacity,
                          .colormap = rep->colormap};
  const double gap = 12, legend_w = 50;
  const double box = (p->width - 2 * MARGIN - gap - legend_w) / 2;
  double w, h;
  fit(s->image->width, s->image->height, box, box, &w, &h);
  need(p, h + 20);
  cairo_surface_t *overlay = vigil_export_overlay_surface(&r);
  draw_image(p->cr, overlay, MARGIN, p->y, w, h);
  cairo_surface_destroy(overlay);
  cairo_save(p->cr);
  cairo_translate(p->cr, MARGIN, p->y);
  cairo_rectangle(p->cr, 0, 0, w, h);
  cairo_clip(p->cr);
  vigil_export_draw_measurements(p->cr, s->measurements, w / s->image->width, h / s->image->height);
  cairo_restore(p->cr);
  if (!isnan(rep->threshold)) {
    cairo_save(p->cr);
    cairo_translate(p->cr, MARGIN, p->y);
    cairo_rectangle(p->cr, 0, 0, w, h);
    cairo_clip(p->cr);
    vigil_export_draw_contour(p->cr, &map, lo + rep->threshold * (hi - lo), w / map.width,
                              h / map.height);
    cairo_restore(p->cr);
  }
  cairo_surface_t *plain = vigil_export_slice_surface(s->image, s->view_center, s->view_width);
  draw_image(p->cr, plain, MARGIN + box + gap, p->y, w, h);
  cairo_surface_destroy(plain);
  legend(p, rep, MARGIN + 2 * box + gap + 8, p->y, h, lo, hi);
  p->y += h + 6;
  font(p, 8, FALSE);
  cairo_move_to(p->cr, MARGIN, p->y + 8);
  cairo_show_text(p->cr, "with the anomaly map");
  cairo_move_to(p->cr, MARGIN + box + gap, p->y + 8);
  cairo_show_text(p->cr, "without overlay");
  p->y += 16;
}

static void slice_page(Pen *p, const VigilReport *rep, const VigilReportSlice *s) {
  new_page(p);
  g_autofree char *title =
      g_strdup_printf("Slice %d of %u", s->slice + 1, rep->series->slices->len);
  paragraph(p, title, 14, TRUE);
  if (s->stale)
    paragraph(p, "STALE: made under other analysis settings than the current ones", BODY, TRUE);
  slice_images(p, rep, s);
  g_autofree char *score = vigil_report_format_score(vigil_report_slice_score(s));
  g_autofree char *line =
      g_strdup_printf("Image score (%s): %s", s->few ? "few-shot" : "zero-shot", score);
  paragraph(p, line, 12, TRUE);
  g_autofree char *calibrated = vigil_report_slice_calibrated_text(s);
  g_autofree char *calibration = vigil_report_calibration_text(rep);
  paragraph(p, vigil_report_calibrated(rep) ? calibrated : calibration, BODY, FALSE);
  g_autofree char *region = vigil_map_region_describe(&s->region);
  fact(p, "Region above the contour level", region);
  g_autofree char *zero = vigil_report_format_score(s->detection->zero_score);
  fact(p, "Zero-shot score", zero);
  if (s->few) {
    g_autofree char *few = vigil_report_format_score(s->detection->few_score);
    fact(p, "Few-shot score", few);
  }
  fact(p, "Class", s->class_name);
  fact(p, "Mode", s->few ? "few-shot" : "zero-shot");
  g_autofree char *refs = g_strdup_printf("%u", s->references->len);
  fact(p, "References used", s->few ? refs : "none");
  g_autofree char *window = s->window_text
                                ? g_strdup(s->window_text)
                                : g_strdup_printf("W %g L %g", s->model_width, s->model_center);
  fact(p, "Window the model saw", window);
  g_autofree char *size = g_strdup_printf("%d x %d px", s->image->width, s->image->height);
  fact(p, "Slice size", size);
  g_autofree char *when = g_date_time_format(s->when, "%Y-%m-%d %H:%M:%S");
  fact(p, "Analysed", when);
  p->y += BODY;
  paragraph(p, VIGIL_REPORT_NOTICE, BODY, TRUE);
}

static cairo_status_t append(void *closure, const unsigned char *data, unsigned int length) {
  g_byte_array_append(closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

gboolean vigil_report_write_pdf(VigilReport *rep, const char *path, GCancellable *cancellable,
                                GError **error) {
  if (!vigil_report_prepare(rep, cancellable, error))
    return FALSE;
  g_autoptr(GByteArray) bytes = g_byte_array_new();
  Pen p = {.y = MARGIN};
  page_size(rep->paper, &p.width, &p.height);
  cairo_surface_t *surface = cairo_pdf_surface_create_for_stream(append, bytes, p.width, p.height);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, "Vigil anomaly report");
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Vigil " VIGIL_VERSION);
  p.cr = cairo_create(surface);
  summary(&p, rep);
  for (guint i = 0; i < rep->slices->len; i++) {
    if (g_cancellable_is_cancelled(cancellable))
      break;
    slice_page(&p, rep, rep->slices->pdata[i]);
  }
  cairo_show_page(p.cr);
  cairo_status_t status = cairo_status(p.cr);
  cairo_destroy(p.cr);
  cairo_surface_finish(surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (g_cancellable_set_error_if_cancelled(cancellable, error))
    return FALSE;
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE, "cannot draw the PDF: %s",
                cairo_status_to_string(status));
    return FALSE;
  }
  return vigil_report_save(path, "PDF", bytes->data, bytes->len, error);
}
