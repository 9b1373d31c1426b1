/* VigilSeriesProfile: after Analyse Series, the score of every analysed
 * slice along the series, drawn under the slice slider (the shown slice
 * marked, the top slices named), so a user looks rather than reads. It
 * observes the analysis model and is shown once two or more slices have a
 * current result. A click emits
 *   slice-activated (int slice)   go to that slice */
#pragma once

#include <gtk/gtk.h>

#include "vigil-analysis-session.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_SERIES_PROFILE (vigil_series_profile_get_type())
G_DECLARE_FINAL_TYPE(VigilSeriesProfile, vigil_series_profile, VIGIL, SERIES_PROFILE, GtkWidget)

GtkWidget *vigil_series_profile_new(void);
void vigil_series_profile_set_session(VigilSeriesProfile *self, VigilAnalysisSession *session);
/* The slice a click at x (widget coordinates) goes to, or -1 when none is analysed. */
int vigil_series_profile_slice_at(VigilSeriesProfile *self, double x);

G_END_DECLS
