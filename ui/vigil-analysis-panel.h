#pragma once

#include <adwaita.h>

#include "vigil-analysis-session.h"

#include "vigil-heatmap.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_ANALYSIS_PANEL (vigil_analysis_panel_get_type())
G_DECLARE_FINAL_TYPE(VigilAnalysisPanel, vigil_analysis_panel, VIGIL, ANALYSIS_PANEL, GtkBox)

GtkWidget *vigil_analysis_panel_new(void);

/* The chosen domain id (see vigil-domain.h), or NULL for a custom class. */
const char *vigil_analysis_panel_get_domain(VigilAnalysisPanel *self);
void vigil_analysis_panel_set_domain(VigilAnalysisPanel *self, const char *domain_id);
/* The class name the prompts will use: the domain's, or the custom text. */
const char *vigil_analysis_panel_get_class_name(VigilAnalysisPanel *self);
void vigil_analysis_panel_set_custom_class(VigilAnalysisPanel *self, const char *name);
gboolean vigil_analysis_panel_get_few_shot(VigilAnalysisPanel *self);
void vigil_analysis_panel_set_few_shot(VigilAnalysisPanel *self, gboolean few_shot);

double vigil_analysis_panel_get_opacity(VigilAnalysisPanel *self);
VigilColormap vigil_analysis_panel_get_colormap(VigilAnalysisPanel *self);
/* The contour level, or NAN when the contour is off. */
double vigil_analysis_panel_get_threshold(VigilAnalysisPanel *self);
/* Shows (or hides) the contour at the threshold the slider sets. */
void vigil_analysis_panel_set_contour(VigilAnalysisPanel *self, gboolean shown);
/* Bit i set: adapter layer i (0..3) contributes to the shown map. */
guint vigil_analysis_panel_get_layers(VigilAnalysisPanel *self);

/* What the model situation is; `warning` styles it (e.g. a random model). */
void vigil_analysis_panel_set_model_status(VigilAnalysisPanel *self, const char *message,
                                           gboolean warning);
/* The analysis model whose scores the panel shows: those of the shown
 * slice's current result, following the model (dashes when there is none). */
void vigil_analysis_panel_set_session(VigilAnalysisPanel *self, VigilAnalysisSession *session);
/* Scores to show; NAN shows a dash. `window_text` says what the model saw. */
void vigil_analysis_panel_set_scores(VigilAnalysisPanel *self, double zero_shot, double few_shot,
                                     const char *window_text);
void vigil_analysis_panel_set_progress(VigilAnalysisPanel *self, gboolean running, double fraction,
                                       const char *message);

/* The region of the shown map above the contour level (vigil_map_region_describe;
 * NULL: none shown) and which level that is ("calibrated threshold 0.50"). */
void vigil_analysis_panel_set_region(VigilAnalysisPanel *self, const char *region,
                                     const char *level);

G_END_DECLS
