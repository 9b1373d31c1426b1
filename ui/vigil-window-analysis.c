/* VigilWindow's analysis: the model the preferences name, the panel's
 * settings handed to the analysis model (its context), Analyse and Cancel
 * handed to the workspace (which runs the jobs), and the shown slice's map
 * and scores read back from the analysis model.
 * Part of VigilWindow (see vigil-window-private.h). */
#include <math.h>

#include "vigil-config.h"
#include "vigil-domain.h"
#include "vigil-export.h"
#include "vigil-scan-images.h"
#include "vigil-job.h"
#include "vigil-model-dir.h"
#include "vigil-file-dialog.h"
#include "vigil-window-private.h"

/* The adapters for the chosen domain, or for a custom class the first set
 * any domain has (MVFA's checkpoints are per domain; a custom class borrows);
 * Preferences' choice first, else the model folder's. */
static void on_references_changed(VigilWindow *self);

static char *adapters_for(VigilWindow *self, GSettings *settings) {
  g_autoptr(GVariant) map = g_settings_get_value(settings, "adapter-checkpoints");
  return vigil_model_dir_pick_adapters(map, vigil_analysis_panel_get_domain(self->analysis_panel));
}

static void update_model_status(VigilWindow *self, const char *problem) {
  VigilEngine *engine = vigil_analyzer_get_engine(vigil_workspace_get_analyzer(self->workspace));
  g_autofree char *fallback = engine ? vigil_engine_dup_fallback_reason(engine) : NULL;
  if (problem) {
    g_autofree char *text = g_markup_escape_text(problem, -1);
    vigil_analysis_panel_set_model_status(self->analysis_panel, text, TRUE);
  } else if (engine && (vigil_engine_is_random(engine) || fallback)) {
    g_autofree char *cpu =
        fallback ? g_markup_printf_escaped("Running on the CPU: %s", fallback) : NULL;
    g_autofree char *text = g_strdup_printf(
        "%s%s%s",
        vigil_engine_is_random(engine) ? "<b>Random test model — results are meaningless</b>" : "",
        vigil_engine_is_random(engine) && cpu ? "\n" : "", cpu ? cpu : "");
    vigil_analysis_panel_set_model_status(self->analysis_panel, text, TRUE);
  } else {
    vigil_analysis_panel_set_model_status(self->analysis_panel, NULL, FALSE);
  }
}

/* Loaded, failed, or moved to the CPU: the panel's model status. */
static void on_model_changed(VigilWorkspace *ws, const char *problem, VigilWindow *self) {
  (void)ws;
  update_model_status(self, problem);
}

static void on_analysis_state(VigilWorkspace *ws, gboolean running, const char *title,
                              VigilWindow *self) {
  (void)ws;
  vigil_analysis_panel_set_progress(self->analysis_panel, running, 0, title);
  const struct {
    const char *name;
    gboolean enabled;
  } states[] = {
      {"analyse-slice", !running}, {"analyse-series", !running}, {"cancel-analysis", running}};
  for (gsize i = 0; i < G_N_ELEMENTS(states); i++) {
    GAction *a = g_action_map_lookup_action(G_ACTION_MAP(self), states[i].name);
    if (a)
      g_simple_action_set_enabled(G_SIMPLE_ACTION(a), states[i].enabled);
  }
}

static void on_analysis_progress(VigilWorkspace *ws, double fraction, const char *text,
                                 VigilWindow *self) {
  (void)ws;
  vigil_analysis_panel_set_progress(self->analysis_panel, TRUE, fraction, text);
}

/* Loads the model the preferences name, unless it is already loaded. */
static void ensure_model(VigilWindow *self) {
  GSettings *settings = _vigil_window_settings(self);
  if (!settings)
    return;
  g_autofree char *clip_setting = g_settings_get_string(settings, "clip-weights");
  g_autofree char *clip = vigil_model_dir_pick_clip(clip_setting);
  g_autofree char *adapters = adapters_for(self, settings);
  g_autofree char *device = g_settings_get_string(settings, "compute-device");
  g_autofree char *precision_name = g_settings_get_string(settings, "precision");
  VigilPrecision precision = VIGIL_PRECISION_F32;
  vigil_precision_parse(precision_name, &precision, NULL); /* the schema allows only valid names */
  if (!clip || !adapters) {
    update_model_status(self, "No model yet: import the CLIP ViT-L/14-336 weights and the MVFA "
                              "adapters for this domain (vigil-cli model import, or "
                              "tools/fetch-model), or choose them in Preferences. The viewer "
                              "works without them.");
    return;
  }
  vigil_workspace_load_model(self->workspace, clip, adapters, device, precision,
                             g_settings_get_int(settings, "cpu-threads"));
}

/* TRUE (with the window) when the domain fixes what the model sees (CT presets). */
static gboolean fixed_window(VigilWindow *self, double *center, double *width) {
  const VigilDomain *d = vigil_domain_find(vigil_analysis_panel_get_domain(self->analysis_panel));
  if (!d || d->window_from_file)
    return FALSE;
  *center = d->window_center;
  *width = d->window_width;
  return TRUE;
}

/* The window the model sees: the domain's CT preset, else what the user sees. */
static char *model_window(VigilWindow *self, double *center, double *width) {
  const VigilDomain *d = vigil_domain_find(vigil_analysis_panel_get_domain(self->analysis_panel));
  if (d && !d->window_from_file) {
    *center = d->window_center;
    *width = d->window_width;
    return g_strdup_printf("W %.0f L %.0f (%s preset)", *width, *center, d->label);
  }
  vigil_slice_view_get_window(self->slice_view, center, width);
  return g_strdup_printf("W %.0f L %.0f (as shown)", *width, *center);
}

/* The shown slice's current result, or NULL. */
static const VigilAnalysisResult *current_result(VigilWindow *self) {
  return vigil_analysis_session_get_result(vigil_workspace_get_analysis(self->workspace),
                                           vigil_slice_view_get_slice(self->slice_view));
}

/* The region of `map` at `level`, measured in the slice's mm. */
static char *describe_region(VigilWindow *self, const VigilMap *map, double level) {
  const VigilImage *image = vigil_slice_view_get_image(self->slice_view);
  VigilMapRegion region;
  vigil_map_region(map, level, image->width, image->height, image->pixel_spacing, &region);
  return vigil_map_region_describe(&region);
}

/* The contour level in map units: the threshold fraction of the map's
 * scale, the middle when the contour is off. */
static double contour_level(VigilWindow *self, double lo, double hi) {
  const double t = vigil_analysis_panel_get_threshold(self->analysis_panel);
  return lo + (isnan(t) ? 0.5 : t) * (hi - lo);
}

/* The region above the contour level on the panel. */
static void show_region(VigilWindow *self, const VigilShownMap *m, double level) {
  if (!m || !vigil_slice_view_get_image(self->slice_view) || m->layers == 0) {
    vigil_analysis_panel_set_region(self->analysis_panel, NULL, NULL);
    return;
  }
  VigilMap map = {m->side, m->side, m->values};
  g_autofree char *text = describe_region(self, &map, level);
  g_autofree char *how = m->calibrated
                             ? g_strdup_printf("calibrated, at %.2f (0.50 the threshold)", level)
                             : g_strdup_printf("uncalibrated map, at %.3g", level);
  vigil_analysis_panel_set_region(self->analysis_panel, text, how);
}

static void show_result(VigilWindow *self) {
  const VigilAnalysisResult *r = current_result(self);
  const VigilDetection *d = r ? r->detection : NULL;
  if (!d) {
    vigil_slice_view_set_overlay(self->slice_view, NULL, 0, 1);
    show_region(self, NULL, NAN);
    return;
  }
  VigilAnalysisSession *analysis = vigil_workspace_get_analysis(self->workspace);
  VigilShownMap m;
  vigil_shown_map_init(&m, d, vigil_analysis_panel_get_few_shot(self->analysis_panel),
                       vigil_analysis_panel_get_layers(self->analysis_panel),
                       vigil_analysis_session_get_calibration(analysis));
  VigilMap map = {m.side, m.side, m.values};
  vigil_slice_view_set_overlay(self->slice_view, m.layers ? &map : NULL, m.lo, m.hi); /* copied */
  vigil_slice_view_set_legend_title(self->slice_view, m.calibrated ? "calibrated" : "raw");
  const double t = vigil_analysis_panel_get_threshold(self->analysis_panel);
  const double level = contour_level(self, m.lo, m.hi);
  vigil_slice_view_set_overlay_style(
      self->slice_view, vigil_analysis_panel_get_opacity(self->analysis_panel),
      vigil_analysis_panel_get_colormap(self->analysis_panel), isnan(t) ? NAN : level);
  show_region(self, &m, level);
  vigil_shown_map_clear(&m);
}

/* Tells the analysis model what results now depend on: it decides which
 * results are stale. */
static void sync_context(VigilWindow *self) {
  double c, w;
  g_autofree char *window = model_window(self, &c, &w);
  VigilAnalysisSession *analysis = vigil_workspace_get_analysis(self->workspace);
  vigil_analysis_session_set_series(analysis, vigil_workspace_get_series(self->workspace));
  vigil_analysis_session_set_slice(analysis, vigil_slice_view_get_slice(self->slice_view));
  vigil_analysis_session_set_class_name(analysis,
                                        vigil_analysis_panel_get_class_name(self->analysis_panel));
  vigil_analysis_session_set_domain(analysis,
                                    vigil_analysis_panel_get_domain(self->analysis_panel));
  vigil_analysis_session_set_few_shot(analysis,
                                      vigil_analysis_panel_get_few_shot(self->analysis_panel));
  vigil_analysis_session_set_window(analysis, c, w, window);
  /* References are encoded in the window the model sees too. */
  gboolean fixed = fixed_window(self, &c, &w);
  vigil_reference_queue_set_fixed_window(vigil_workspace_get_references(self->workspace), fixed, c,
                                         w);
}

/* The model up to date with the view and the panel: the panel's scores
 * follow it by themselves; here the map does. */
static void show_cached(VigilWindow *self) {
  sync_context(self);
  show_result(self);
}

/* Results arrived: the shown slice's among them shows. */
static void on_analysed(VigilWorkspace *ws, GArray *slices, VigilWindow *self) {
  (void)ws;
  for (guint i = 0; i < slices->len; i++)
    if (g_array_index(slices, int, i) == vigil_slice_view_get_slice(self->slice_view))
      show_cached(self);
}

static gboolean can_analyse(VigilWindow *self) {
  VigilSeries *series = vigil_workspace_get_series(self->workspace);
  if (!series || !vigil_slice_view_get_image(self->slice_view) ||
      !vigil_analysis_panel_get_class_name(self->analysis_panel)) {
    _vigil_window_toast(self, !series ? "Open a scan first" : "Type the class name to look for");
    return FALSE;
  }
  if (!vigil_workspace_model_ready(self->workspace)) {
    ensure_model(self);
    _vigil_window_toast(self, "The model is not loaded yet");
    return FALSE;
  }
  sync_context(self); /* the workspace analyses in the model's context */
  return TRUE;
}

void _vigil_window_action_analyse_series(GSimpleAction *action, GVariant *param,
                                         gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  if (can_analyse(self))
    vigil_workspace_analyse(self->workspace, -1);
}

void _vigil_window_action_analyse_slice(GSimpleAction *action, GVariant *param,
                                        gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  if (can_analyse(self))
    vigil_workspace_analyse(self->workspace, vigil_slice_view_get_slice(self->slice_view));
}

char *vigil_window_dup_model_identity(VigilWindow *self) {
  VigilEngine *engine = vigil_analyzer_get_engine(vigil_workspace_get_analyzer(self->workspace));
  return engine ? vigil_engine_dup_identity(engine) : NULL;
}

void _vigil_window_action_cancel_analysis(GSimpleAction *action, GVariant *param,
                                          gpointer user_data) {
  (void)action, (void)param;
  vigil_workspace_cancel_analysis(VIGIL_WINDOW(user_data)->workspace);
}

/* win.load-model(ss): use these files (tests and scripts drive it over D-Bus). */
void _vigil_window_action_load_model(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  GSettings *settings = _vigil_window_settings(self);
  const char *clip, *adapters;
  g_variant_get(param, "(&s&s)", &clip, &adapters);
  if (!settings)
    return;
  const char *domain = vigil_analysis_panel_get_domain(self->analysis_panel);
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
  g_variant_builder_add(&b, "{ss}", domain ? domain : "custom", adapters);
  g_settings_set_string(settings, "clip-weights", clip);
  g_settings_set_value(settings, "adapter-checkpoints", g_variant_builder_end(&b));
}

static gboolean export_view(VigilWindow *self, const char *path, GError **error) {
  const VigilImage *image = vigil_slice_view_get_image(self->slice_view);
  if (!image) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "there is no slice to export");
    return FALSE;
  }
  double center, width;
  vigil_slice_view_get_window(self->slice_view, &center, &width);
  VigilSeries *series = vigil_workspace_get_series(self->workspace);
  g_autofree char *identity = vigil_window_dup_model_identity(self);
  const VigilAnalysisResult *shown = current_result(self);
  const VigilDetection *d = shown ? shown->detection : NULL;
  g_autofree char *window = g_strdup_printf("%g,%g", center, width);
  g_autofree char *zero = d ? g_strdup_printf("%.6f", d->zero_score) : NULL;
  g_autofree char *few = d && d->has_few ? g_strdup_printf("%.6f", d->few_score) : NULL;
  g_autofree char *slice = g_strdup_printf("%d", vigil_slice_view_get_slice(self->slice_view));
  const char *class_name = vigil_analysis_panel_get_class_name(self->analysis_panel);
  VigilAnalysisSession *analysis = vigil_workspace_get_analysis(self->workspace);
  const VigilCalibration *calibration = vigil_analysis_session_get_calibration(analysis);
  g_autofree char *how =
      calibration ? vigil_calibration_describe(calibration) : g_strdup("uncalibrated");
  const double value = vigil_analysis_session_calibrated(analysis, shown);
  g_autofree char *calibrated = isnan(value) ? g_strdup("none") : g_strdup_printf("%.6f", value);
  VigilMap map; /* the overlay as shown: the selected layers summed, or calibrated */
  double lo, hi;
  gboolean has_map = vigil_slice_view_get_overlay(self->slice_view, &map, &lo, &hi);
  g_autofree char *region =
      has_map ? describe_region(self, &map, contour_level(self, lo, hi)) : g_strdup("none");
  const char *scale = vigil_slice_view_get_legend_title(self->slice_view);
  const char *text[] = {"Software",
                        "Vigil " VIGIL_VERSION,
                        "vigil.series",
                        series ? series->uid : "",
                        "vigil.slice",
                        slice,
                        "vigil.window",
                        window,
                        "vigil.class",
                        class_name ? class_name : "",
                        "vigil.mode",
                        vigil_analysis_panel_get_few_shot(self->analysis_panel) ? "few-shot"
                                                                                : "zero-shot",
                        "vigil.model",
                        identity ? identity : "none",
                        "vigil.calibration",
                        how,
                        "vigil.calibrated_score",
                        calibrated,
                        "vigil.map_scale",
                        has_map && scale ? scale : "none",
                        "vigil.region",
                        region,
                        zero ? "vigil.zero_det_score" : NULL,
                        zero,
                        few ? "vigil.few_det_score" : NULL,
                        few,
                        NULL};
  g_autoptr(GPtrArray) measured = vigil_measurements_of(
      vigil_workspace_get_measurements(self->workspace), series ? series->uid : NULL,
      vigil_slice_view_get_slice(self->slice_view));
  const double t = vigil_analysis_panel_get_threshold(self->analysis_panel);
  g_autofree char *legend = g_strdup_printf(
      "%s%s", vigil_analysis_panel_get_few_shot(self->analysis_panel) ? "few-shot" : "zero-shot",
      g_strcmp0(scale, "calibrated") == 0 ? ", calibrated" : "");
  VigilExportRequest r = {
      .image = image,
      .window_center = center,
      .window_width = width,
      .map = has_map ? &map : NULL,
      .map_lo = has_map ? lo : 0,
      .map_hi = has_map ? hi : 0,
      .opacity = vigil_analysis_panel_get_opacity(self->analysis_panel),
      .threshold = isnan(t) ? NAN : lo + t * (hi - lo),
      .colormap = vigil_analysis_panel_get_colormap(self->analysis_panel),
      .legend_label = legend,
      .text = text,
      .measurements = measured,
  };
  return vigil_export_png(&r, path, error);
}

/* win.export-view(s): the view as a PNG at this path (the dialog uses it too). */
void _vigil_window_action_export_view(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  g_autoptr(GError) error = NULL;
  const char *path = g_variant_get_string(param, NULL);
  if (export_view(self, path, &error)) {
    g_autofree char *name = g_path_get_basename(path);
    g_autofree char *msg = g_strdup_printf("Exported %s", name);
    _vigil_window_toast(self, msg);
  } else {
    _vigil_window_toast(self, error->message);
  }
}

static void on_export_chosen(GListModel *files, gpointer user_data) {
  g_autofree char *path = vigil_file_dialog_first_path(files);
  if (path)
    g_action_group_activate_action(G_ACTION_GROUP(user_data), "export-view",
                                   g_variant_new_string(path));
}

void _vigil_window_action_export_dialog(GSimpleAction *action, GVariant *param,
                                        gpointer user_data) {
  (void)action, (void)param;
  const VigilFileDialog d = {VIGIL_FILE_SAVE,  FALSE, "Export View", "_Export",
                             "vigil-view.png", NULL};
  vigil_file_dialog_show(GTK_WINDOW(user_data), &d, on_export_chosen, user_data);
}

/* The model's references changed (added, removed): the strip and the
 * session file follow the model by themselves; here the map does. */
static void on_references_changed(VigilWindow *self) {
  show_cached(self);
  /* The shown few-shot map used the old bank (the model made it stale):
   * recompute this slice only (the bank keeps the other references'
   * features). A series run restarts by itself. */
  VigilAnalysisSession *analysis = vigil_workspace_get_analysis(self->workspace);
  if (vigil_analysis_session_staled_by_references(analysis,
                                                  vigil_slice_view_get_slice(self->slice_view)) &&
      !vigil_workspace_is_busy(self->workspace))
    g_action_group_activate_action(G_ACTION_GROUP(self), "analyse-slice", NULL);
}

static void on_panel_changed(VigilWindow *self) {
  show_cached(self);
  ensure_model(self);
  vigil_workspace_changed(self->workspace);
}

static gboolean start_loading(gpointer data) {
  VigilWindow *self = data;
  GSettings *settings = _vigil_window_settings(self);
  if (settings && self->workspace) {
    g_signal_connect_object(settings, "changed", G_CALLBACK(ensure_model), self, G_CONNECT_SWAPPED);
    ensure_model(self);
  }
  return G_SOURCE_REMOVE;
}

void _vigil_window_analysis_init(VigilWindow *self) {
  g_idle_add_full(G_PRIORITY_DEFAULT, start_loading, g_object_ref(self), g_object_unref);
  VigilWorkspace *ws = self->workspace;
  vigil_analysis_panel_set_session(self->analysis_panel, vigil_workspace_get_analysis(ws));
  vigil_series_profile_set_session(self->series_profile, vigil_workspace_get_analysis(ws));
  g_signal_connect_swapped(self->series_profile, "slice-activated",
                           G_CALLBACK(vigil_slice_view_set_slice), self->slice_view);
  g_signal_connect_swapped(vigil_workspace_get_analysis(ws), "references-changed",
                           G_CALLBACK(on_references_changed), self);
  g_signal_connect_swapped(vigil_workspace_get_analysis(ws), "calibration-changed",
                           G_CALLBACK(show_result), self); /* the map's scale */
  g_signal_connect(ws, "model-changed", G_CALLBACK(on_model_changed), self);
  g_signal_connect(ws, "analysis-state", G_CALLBACK(on_analysis_state), self);
  g_signal_connect(ws, "analysis-progress", G_CALLBACK(on_analysis_progress), self);
  g_signal_connect(ws, "analysed", G_CALLBACK(on_analysed), self);
  /* The shown slice's result follows the view (connected after the view's own handlers). */
  g_signal_connect_swapped(ws, "show-series", G_CALLBACK(show_cached), self);
  g_signal_connect_swapped(ws, "series-changed", G_CALLBACK(show_cached), self);
  g_signal_connect_swapped(self->slice_view, "notify::slice", G_CALLBACK(show_cached), self);
  g_signal_connect_swapped(self->analysis_panel, "changed", G_CALLBACK(on_panel_changed), self);
  on_analysis_state(ws, FALSE, NULL, self);
  sync_context(self);
}

void _vigil_window_analysis_dispose(VigilWindow *self) {
  if (self->workspace)
    g_signal_handlers_disconnect_by_data(vigil_workspace_get_analysis(self->workspace), self);
}
