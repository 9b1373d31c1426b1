/* VigilSeriesProfile: see vigil-series-profile.h. With a calibration the
 * scores are calibrated (0..1, the threshold at 0.5 drawn as a line and the
 * slices above it counted); without one they are the raw image scores of the
 * mode in use (few-shot's where it ran, else zero-shot's), scaled between
 * the lowest and highest of the series, and the caption says uncalibrated. */
#include "vigil-series-profile.h"

#include <math.h>

#define TOP_N 3
#define PAD 6.0

struct _VigilSeriesProfile {
  GtkWidget parent_instance;
  VigilAnalysisSession *session;
};

G_DEFINE_FINAL_TYPE(VigilSeriesProfile, vigil_series_profile, GTK_TYPE_WIDGET)

static guint activated_signal;

static double raw_score(const VigilAnalysisResult *r) {
  return r->detection->has_few ? r->detection->few_score : r->detection->zero_score;
}

static gboolean is_calibrated(VigilAnalysisSession *session) {
  const VigilCalibration *c = vigil_analysis_session_get_calibration(session);
  return c && c->source != VIGIL_CALIBRATION_UNCALIBRATED;
}

/* The calibrated score where a calibration applies, else the raw one. */
static double score_of(VigilAnalysisSession *session, const VigilAnalysisResult *r) {
  const double c = vigil_analysis_session_calibrated(session, r);
  return isnan(c) ? raw_score(r) : c;
}

static guint n_slices(VigilSeriesProfile *self) {
  VigilSeries *series = self->session ? vigil_analysis_session_get_series(self->session) : NULL;
  return series ? series->slices->len : 0;
}

static double x_of(VigilSeriesProfile *self, int slice, double width) {
  const guint n = n_slices(self);
  return n > 1 ? PAD + (width - 2 * PAD) * slice / (n - 1) : width / 2;
}

int vigil_series_profile_slice_at(VigilSeriesProfile *self, double x) {
  const guint n = n_slices(self);
  const double width = gtk_widget_get_width(GTK_WIDGET(self));
  if (n == 0 || width <= 2 * PAD)
    return -1;
  const double t = (x - PAD) / (width - 2 * PAD);
  return (int)CLAMP(lround(t * (n - 1)), 0, (long)n - 1);
}

typedef struct {
  const VigilAnalysisResult *result;
  double score;
} Scored;

static int by_score(gconstpointer a, gconstpointer b) {
  const double sa = ((const Scored *)a)->score, sb = ((const Scored *)b)->score;
  return (sa < sb) - (sa > sb);
}

/* "Calibrated score per slice · 2 above threshold · top: 4, 2, 5", or
 * "Score per slice (uncalibrated) · top: 4, 2, 5" (slices counted from 1). */
static char *caption(VigilAnalysisSession *session, GPtrArray *results) {
  g_autoptr(GArray) sorted = g_array_sized_new(FALSE, FALSE, sizeof(Scored), results->len);
  guint above = 0;
  for (guint i = 0; i < results->len; i++) {
    Scored s = {results->pdata[i], score_of(session, results->pdata[i])};
    above += s.score >= 0.5;
    g_array_append_val(sorted, s);
  }
  g_array_sort(sorted, by_score);
  GString *text = g_string_new(NULL);
  if (is_calibrated(session))
    g_string_printf(text, "Calibrated score per slice · %u above threshold · top:", above);
  else
    g_string_assign(text, "Score per slice (uncalibrated) · top:");
  for (guint i = 0; i < sorted->len && i < TOP_N; i++)
    g_string_append_printf(text, "%s %d", i ? "," : "",
                           g_array_index(sorted, Scored, i).result->slice + 1);
  return g_string_free(text, FALSE);
}

static void draw(VigilSeriesProfile *self, cairo_t *cr, double w, double h, GPtrArray *results) {
  VigilAnalysisSession *session = self->session;
  const gboolean calibrated = is_calibrated(session);
  double lo = calibrated ? 0 : INFINITY, hi = calibrated ? 1 : -INFINITY;
  for (guint i = 0; !calibrated && i < results->len; i++) {
    lo = MIN(lo, score_of(session, results->pdata[i]));
    hi = MAX(hi, score_of(session, results->pdata[i]));
  }
  const double top = 18, bottom = h - 4, span = hi > lo ? hi - lo : 1;
  cairo_set_source_rgb(cr, 0.12, 0.12, 0.12);
  cairo_paint(cr);
  if (calibrated) { /* the decision threshold */
    const double yt = bottom - (bottom - top) * 0.5;
    const double dash[] = {4, 3};
    cairo_set_source_rgba(cr, 0.9, 0.25, 0.25, 0.9);
    cairo_set_line_width(cr, 1);
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, PAD, yt), cairo_line_to(cr, w - PAD, yt), cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
  }
  /* The shown slice. */
  const double xs = x_of(self, vigil_analysis_session_get_slice(self->session), w);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.35);
  cairo_set_line_width(cr, 1);
  cairo_move_to(cr, xs, top), cairo_line_to(cr, xs, bottom), cairo_stroke(cr);
  /* The scores, in slice order (results come sorted by slice). */
  cairo_set_source_rgb(cr, 0.98, 0.55, 0.15);
  cairo_set_line_width(cr, 1.5);
  for (guint i = 0; i < results->len; i++) {
    const VigilAnalysisResult *r = results->pdata[i];
    const double x = x_of(self, r->slice, w);
    const double y = bottom - (bottom - top) * (score_of(session, r) - lo) / span;
    i ? cairo_line_to(cr, x, y) : cairo_move_to(cr, x, y);
  }
  cairo_stroke(cr);
  for (guint i = 0; i < results->len; i++) {
    const VigilAnalysisResult *r = results->pdata[i];
    cairo_arc(cr, x_of(self, r->slice, w),
              bottom - (bottom - top) * (score_of(session, r) - lo) / span, 2.5, 0, 2 * G_PI);
    cairo_fill(cr);
  }
  g_autofree char *text = caption(session, results);
  cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
  cairo_select_font_face(cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 11);
  cairo_move_to(cr, PAD, 13);
  cairo_show_text(cr, text);
}

static void vigil_series_profile_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  VigilSeriesProfile *self = VIGIL_SERIES_PROFILE(widget);
  const double w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  if (!self->session || w <= 0 || h <= 0)
    return;
  g_autoptr(GPtrArray) results = vigil_analysis_session_current_results(self->session);
  if (results->len == 0)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
  draw(self, cr, w, h, results);
  cairo_destroy(cr);
}

/* The model changed: shown from two analysed slices on, redrawn, described. */
static void update(VigilSeriesProfile *self) {
  g_autoptr(GPtrArray) results = vigil_analysis_session_current_results(self->session);
  gtk_widget_set_visible(GTK_WIDGET(self), results->len >= 2);
  if (results->len) {
    g_autofree char *text = caption(self->session, results);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
  }
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vigil_series_profile_set_session(VigilSeriesProfile *self, VigilAnalysisSession *session) {
  if (self->session)
    g_signal_handlers_disconnect_by_data(self->session, self);
  g_set_object(&self->session, session);
  if (!session)
    return;
  g_signal_connect_swapped(session, "results-changed", G_CALLBACK(update), self);
  g_signal_connect_swapped(session, "context-changed", G_CALLBACK(update), self);
  g_signal_connect_swapped(session, "slice-changed", G_CALLBACK(update), self);
  g_signal_connect_swapped(session, "calibration-changed", G_CALLBACK(update), self);
  update(self);
}

static void on_pressed(GtkGestureClick *gesture, int n_press, double x, double y,
                       VigilSeriesProfile *self) {
  (void)gesture, (void)n_press, (void)y;
  const int slice = vigil_series_profile_slice_at(self, x);
  if (slice >= 0)
    g_signal_emit(self, activated_signal, 0, slice);
}

GtkWidget *vigil_series_profile_new(void) {
  return g_object_new(VIGIL_TYPE_SERIES_PROFILE, NULL);
}

static void vigil_series_profile_dispose(GObject *object) {
  vigil_series_profile_set_session(VIGIL_SERIES_PROFILE(object), NULL);
  G_OBJECT_CLASS(vigil_series_profile_parent_class)->dispose(object);
}

static void vigil_series_profile_class_init(VigilSeriesProfileClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = vigil_series_profile_dispose;
  GTK_WIDGET_CLASS(klass)->snapshot = vigil_series_profile_snapshot;
  gtk_widget_class_set_accessible_role(GTK_WIDGET_CLASS(klass), GTK_ACCESSIBLE_ROLE_IMG);
  activated_signal = g_signal_new("slice-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void vigil_series_profile_init(VigilSeriesProfile *self) {
  gtk_widget_set_size_request(GTK_WIDGET(self), -1, 64);
  gtk_widget_set_visible(GTK_WIDGET(self), FALSE);
  gtk_widget_set_tooltip_text(GTK_WIDGET(self), "Click to go to a slice");
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "pressed", G_CALLBACK(on_pressed), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
}
