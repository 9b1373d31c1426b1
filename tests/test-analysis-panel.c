/* The analysis panel: class names from domains or typed, mode, overlay
 * settings, scores, progress and the model's status. */
#include <adwaita.h>
#include <math.h>

#include "vigil-analysis-panel.h"

static void test_panel(void) {
  GtkWidget *window = gtk_window_new();
  VigilAnalysisPanel *panel = VIGIL_ANALYSIS_PANEL(vigil_analysis_panel_new());
  gtk_window_set_child(GTK_WINDOW(window), GTK_WIDGET(panel));

  g_assert_cmpstr(vigil_analysis_panel_get_domain(panel), ==, "brain-mri");
  g_assert_cmpstr(vigil_analysis_panel_get_class_name(panel), ==, "Brain");
  vigil_analysis_panel_set_domain(panel, "chest-xray");
  g_assert_cmpstr(vigil_analysis_panel_get_class_name(panel), ==, "Chest X-ray film");
  vigil_analysis_panel_set_custom_class(panel, "kidney");
  g_assert_null(vigil_analysis_panel_get_domain(panel));
  g_assert_cmpstr(vigil_analysis_panel_get_class_name(panel), ==, "kidney");
  vigil_analysis_panel_set_custom_class(panel, "");
  g_assert_null(vigil_analysis_panel_get_class_name(panel)); /* nothing to analyse yet */

  g_assert_false(vigil_analysis_panel_get_few_shot(panel));
  vigil_analysis_panel_set_few_shot(panel, TRUE);
  g_assert_true(vigil_analysis_panel_get_few_shot(panel));

  g_assert_cmpuint(vigil_analysis_panel_get_layers(panel), ==, 0xf);
  g_assert_true(isnan(vigil_analysis_panel_get_threshold(panel))); /* contour off */
  g_assert_cmpfloat(vigil_analysis_panel_get_opacity(panel), ==, 0.5);
  g_assert_cmpint(vigil_analysis_panel_get_colormap(panel), ==, VIGIL_COLORMAP_JET);

  vigil_analysis_panel_set_scores(panel, 0.25, NAN, "W 400 L 60 (Liver CT preset)");
  vigil_analysis_panel_set_progress(panel, TRUE, 0.5, "Slice 3 of 6");
  vigil_analysis_panel_set_model_status(panel, "Random test model — results are meaningless", TRUE);
  gtk_window_destroy(GTK_WINDOW(window));
}

static gboolean shows_label(GtkWidget *root, const char *text) {
  if (GTK_IS_LABEL(root) && g_strcmp0(gtk_label_get_label(GTK_LABEL(root)), text) == 0)
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c))
    if (shows_label(c, text))
      return TRUE;
  return FALSE;
}

/* The scores follow the analysis model: a result stored for the shown
 * slice appears, another slice or a context change shows dashes. */
static void test_follows_model(void) {
  GtkWidget *panel = g_object_ref_sink(vigil_analysis_panel_new());
  g_autoptr(VigilAnalysisSession) session = vigil_analysis_session_new();
  VigilSeries series = {.uid = "1.2.3", .slices = g_ptr_array_new()};
  g_ptr_array_set_size(series.slices, 2); /* two slices, never decoded */
  vigil_analysis_session_set_series(session, &series);
  vigil_analysis_panel_set_session(VIGIL_ANALYSIS_PANEL(panel), session);
  g_assert_false(shows_label(panel, "0.2500"));
  VigilDetection *d = g_new0(VigilDetection, 1);
  d->zero_score = 0.25;
  g_assert_true(
      vigil_analysis_session_store(session, vigil_analysis_session_get_key(session), 0, d));
  g_assert_true(shows_label(panel, "0.2500"));
  vigil_analysis_session_set_slice(session, 1);
  g_assert_false(shows_label(panel, "0.2500"));
  vigil_analysis_session_set_slice(session, 0);
  g_assert_true(shows_label(panel, "0.2500"));
  vigil_analysis_session_set_class_name(session, "Liver"); /* another context: stale */
  g_assert_false(shows_label(panel, "0.2500"));
  g_object_unref(panel);
  vigil_analysis_session_set_series(session, NULL);
  g_ptr_array_unref(series.slices);
}

int main(int argc, char **argv) {
  gtk_test_init(&argc, &argv, NULL);
  adw_init();
  g_test_add_func("/analysis-panel/settings", test_panel);
  g_test_add_func("/analysis-panel/follows-model", test_follows_model);
  return g_test_run();
}
