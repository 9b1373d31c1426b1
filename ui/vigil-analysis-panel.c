/* VigilAnalysisPanel: what to look for, how to show it, and what was found.
 * The window owns the work; this panel edits its settings and shows the
 * scores of the analysis model's shown slice, following the model. */
#include "vigil-analysis-panel.h"

#include <math.h>

#include "vigil-domain.h"

struct _VigilAnalysisPanel {
  GtkBox parent_instance;
  GtkLabel *model_status;
  AdwComboRow *domain_row;
  AdwEntryRow *custom_row;
  AdwComboRow *mode_row;
  GtkBox *progress_box;
  GtkProgressBar *progress_bar;
  GtkLabel *zero_label, *few_label, *calibrated_label, *region_label;
  AdwActionRow *calibrated_row, *region_row;
  AdwActionRow *window_row;
  GtkScale *opacity_scale, *threshold_scale;
  GtkSwitch *contour_switch;
  AdwComboRow *colormap_row;
  GtkBox *layers_box;
  GtkToggleButton *layer_buttons[4];
  guint n_domains;
  VigilAnalysisSession *session;
};

G_DEFINE_FINAL_TYPE(VigilAnalysisPanel, vigil_analysis_panel, GTK_TYPE_BOX)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

GtkWidget *vigil_analysis_panel_new(void) {
  return g_object_new(VIGIL_TYPE_ANALYSIS_PANEL, NULL);
}

const char *vigil_analysis_panel_get_domain(VigilAnalysisPanel *self) {
  guint i = adw_combo_row_get_selected(self->domain_row);
  return i < self->n_domains ? vigil_domains()[i].id : NULL;
}

void vigil_analysis_panel_set_domain(VigilAnalysisPanel *self, const char *domain_id) {
  const VigilDomain *d = vigil_domains();
  guint i = 0;
  while (d[i].id && g_strcmp0(d[i].id, domain_id) != 0)
    i++;
  adw_combo_row_set_selected(self->domain_row, i); /* i == n_domains: custom */
}

const char *vigil_analysis_panel_get_class_name(VigilAnalysisPanel *self) {
  guint i = adw_combo_row_get_selected(self->domain_row);
  if (i < self->n_domains)
    return vigil_domains()[i].class_name;
  const char *text = gtk_editable_get_text(GTK_EDITABLE(self->custom_row));
  return text && *text ? text : NULL;
}

void vigil_analysis_panel_set_custom_class(VigilAnalysisPanel *self, const char *name) {
  gtk_editable_set_text(GTK_EDITABLE(self->custom_row), name ? name : "");
  if (name)
    adw_combo_row_set_selected(self->domain_row, self->n_domains);
}

gboolean vigil_analysis_panel_get_few_shot(VigilAnalysisPanel *self) {
  return adw_combo_row_get_selected(self->mode_row) == 1;
}

void vigil_analysis_panel_set_few_shot(VigilAnalysisPanel *self, gboolean few_shot) {
  adw_combo_row_set_selected(self->mode_row, few_shot ? 1 : 0);
}

double vigil_analysis_panel_get_opacity(VigilAnalysisPanel *self) {
  return gtk_range_get_value(GTK_RANGE(self->opacity_scale));
}

VigilColormap vigil_analysis_panel_get_colormap(VigilAnalysisPanel *self) {
  return adw_combo_row_get_selected(self->colormap_row) == 1 ? VIGIL_COLORMAP_INFERNO
                                                             : VIGIL_COLORMAP_JET;
}

double vigil_analysis_panel_get_threshold(VigilAnalysisPanel *self) {
  return gtk_switch_get_active(self->contour_switch)
             ? gtk_range_get_value(GTK_RANGE(self->threshold_scale))
             : NAN;
}

void vigil_analysis_panel_set_contour(VigilAnalysisPanel *self, gboolean shown) {
  gtk_switch_set_active(self->contour_switch, shown);
}

guint vigil_analysis_panel_get_layers(VigilAnalysisPanel *self) {
  guint mask = 0;
  for (int i = 0; i < 4; i++)
    if (gtk_toggle_button_get_active(self->layer_buttons[i]))
      mask |= 1u << i;
  return mask;
}

void vigil_analysis_panel_set_model_status(VigilAnalysisPanel *self, const char *message,
                                           gboolean warning) {
  gtk_widget_set_visible(GTK_WIDGET(self->model_status), message && *message);
  gtk_label_set_markup(self->model_status, message ? message : "");
  if (warning)
    gtk_widget_add_css_class(GTK_WIDGET(self->model_status), "warning");
  else
    gtk_widget_remove_css_class(GTK_WIDGET(self->model_status), "warning");
}

static void set_score(GtkLabel *label, double value) {
  g_autofree char *text = isnan(value) ? g_strdup("—") : g_strdup_printf("%.4f", value);
  gtk_label_set_label(label, text);
}

void vigil_analysis_panel_set_scores(VigilAnalysisPanel *self, double zero_shot, double few_shot,
                                     const char *window_text) {
  set_score(self->zero_label, zero_shot);
  set_score(self->few_label, few_shot);
  adw_action_row_set_subtitle(self->window_row, window_text ? window_text : "—");
}

void vigil_analysis_panel_set_progress(VigilAnalysisPanel *self, gboolean running, double fraction,
                                       const char *message) {
  gtk_widget_set_visible(GTK_WIDGET(self->progress_box), running);
  if (fraction < 0)
    gtk_progress_bar_pulse(self->progress_bar);
  else
    gtk_progress_bar_set_fraction(self->progress_bar, fraction);
  gtk_progress_bar_set_text(self->progress_bar, message);
}

static void emit_changed(VigilAnalysisPanel *self) {
  g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

static void on_domain_selected(VigilAnalysisPanel *self) {
  gtk_widget_set_visible(GTK_WIDGET(self->custom_row),
                         adw_combo_row_get_selected(self->domain_row) >= self->n_domains);
  emit_changed(self);
}

static void build_domains(VigilAnalysisPanel *self) {
  GtkStringList *labels = gtk_string_list_new(NULL);
  const VigilDomain *d = vigil_domains();
  for (self->n_domains = 0; d[self->n_domains].id; self->n_domains++)
    gtk_string_list_append(labels, d[self->n_domains].label);
  gtk_string_list_append(labels, "Custom class…");
  adw_combo_row_set_model(self->domain_row, G_LIST_MODEL(labels));
  g_object_unref(labels);
}

static void build_layers(VigilAnalysisPanel *self) {
  for (int i = 0; i < 4; i++) {
    g_autofree char *label = g_strdup_printf("%d", i + 1);
    g_autofree char *tip =
        g_strdup_printf("Include adapter layer %d (block %d)", i + 1, 6 * (i + 1));
    GtkWidget *b = gtk_toggle_button_new_with_label(label);
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(b), TRUE);
    gtk_widget_set_tooltip_text(b, tip);
    gtk_accessible_update_property(GTK_ACCESSIBLE(b), GTK_ACCESSIBLE_PROPERTY_LABEL, tip, -1);
    g_signal_connect_swapped(b, "toggled", G_CALLBACK(emit_changed), self);
    gtk_box_append(self->layers_box, b);
    self->layer_buttons[i] = GTK_TOGGLE_BUTTON(b);
  }
}

/* The calibrated score (0.5 the threshold) and which calibration says so;
 * the raw scores stay below it for the expert. */
static void show_calibrated(VigilAnalysisPanel *self, const VigilAnalysisResult *r) {
  const VigilCalibration *c = vigil_analysis_session_get_calibration(self->session);
  const double value = vigil_analysis_session_calibrated(self->session, r);
  g_autofree char *text =
      isnan(value) ? g_strdup("—")
                   : g_strdup_printf("%.2f, %s threshold", value, value >= 0.5 ? "above" : "below");
  gtk_label_set_label(self->calibrated_label, text);
  g_autofree char *how =
      c ? vigil_calibration_describe(c)
        : g_strdup("uncalibrated: no calibration for this model, class and mode");
  g_autofree char *escaped = g_markup_escape_text(how, -1);
  adw_action_row_set_subtitle(self->calibrated_row, escaped);
}

static void show_session_scores(VigilAnalysisPanel *self) {
  const VigilAnalysisResult *r = vigil_analysis_session_get_result(
      self->session, vigil_analysis_session_get_slice(self->session));
  const VigilDetection *d = r ? r->detection : NULL;
  vigil_analysis_panel_set_scores(self, d ? d->zero_score : NAN,
                                  d && d->has_few ? d->few_score : NAN, r ? r->window_text : NULL);
  show_calibrated(self, r);
}

void vigil_analysis_panel_set_region(VigilAnalysisPanel *self, const char *region,
                                     const char *level) {
  gtk_label_set_label(self->region_label, region ? region : "—");
  adw_action_row_set_subtitle(self->region_row, level ? level : "above the contour level");
}

void vigil_analysis_panel_set_session(VigilAnalysisPanel *self, VigilAnalysisSession *session) {
  if (self->session)
    g_signal_handlers_disconnect_by_data(self->session, self);
  g_set_object(&self->session, session);
  if (!session)
    return;
  g_signal_connect_swapped(session, "context-changed", G_CALLBACK(show_session_scores), self);
  g_signal_connect_swapped(session, "results-changed", G_CALLBACK(show_session_scores), self);
  g_signal_connect_swapped(session, "slice-changed", G_CALLBACK(show_session_scores), self);
  g_signal_connect_swapped(session, "calibration-changed", G_CALLBACK(show_session_scores), self);
  show_session_scores(self);
}

static void vigil_analysis_panel_dispose(GObject *object) {
  vigil_analysis_panel_set_session(VIGIL_ANALYSIS_PANEL(object), NULL);
  gtk_widget_dispose_template(GTK_WIDGET(object), VIGIL_TYPE_ANALYSIS_PANEL);
  G_OBJECT_CLASS(vigil_analysis_panel_parent_class)->dispose(object);
}

static void vigil_analysis_panel_class_init(VigilAnalysisPanelClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = vigil_analysis_panel_dispose;
  /* The analysis or display settings changed: results may need refreshing. */
  signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/vigil/Vigil/vigil-analysis-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, VigilAnalysisPanel, name)
  BIND(model_status);
  BIND(domain_row);
  BIND(custom_row);
  BIND(mode_row);
  BIND(progress_box);
  BIND(progress_bar);
  BIND(zero_label);
  BIND(few_label);
  BIND(calibrated_label);
  BIND(calibrated_row);
  BIND(region_label);
  BIND(region_row);
  BIND(window_row);
  BIND(opacity_scale);
  BIND(threshold_scale);
  BIND(contour_switch);
  BIND(colormap_row);
  BIND(layers_box);
#undef BIND
}

static void vigil_analysis_panel_init(VigilAnalysisPanel *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  build_domains(self);
  build_layers(self);
  g_signal_connect_swapped(self->domain_row, "notify::selected", G_CALLBACK(on_domain_selected),
                           self);
  g_signal_connect_swapped(self->custom_row, "changed", G_CALLBACK(emit_changed), self);
  g_signal_connect_swapped(self->mode_row, "notify::selected", G_CALLBACK(emit_changed), self);
  g_signal_connect_swapped(self->colormap_row, "notify::selected", G_CALLBACK(emit_changed), self);
  g_signal_connect_swapped(self->opacity_scale, "value-changed", G_CALLBACK(emit_changed), self);
  g_signal_connect_swapped(self->threshold_scale, "value-changed", G_CALLBACK(emit_changed), self);
  g_signal_connect_swapped(self->contour_switch, "notify::active", G_CALLBACK(emit_changed), self);
}
