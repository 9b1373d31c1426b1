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

int main(int argc, char **argv) {
  gtk_test_init(&argc, &argv, NULL);
  adw_init();
  g_test_add_func("/analysis-panel/settings", test_panel);
  return g_test_run();
}
