/* VigilWindow's view look and cine: turns, flips, inverted grey and the
 * corner text (the slice view does them; here they are kept per series and
 * in the session), and playing a series at a frame rate, the file's own for a
 * multi-frame file that declares one. Part of VigilWindow (see
 * vigil-window-private.h). */
#include "vigil-window-private.h"

static GSimpleAction *action(VigilWindow *self, const char *name) {
  return G_SIMPLE_ACTION(g_action_map_lookup_action(G_ACTION_MAP(self), name));
}

static const char *shown_uid(VigilWindow *self) {
  VigilSeries *series = vigil_workspace_get_series(self->workspace);
  return series ? series->uid : NULL;
}

/* win.rotate(i): quarter turns, clockwise when positive. */
void _vigil_window_action_rotate(GSimpleAction *a, GVariant *param, gpointer user_data) {
  (void)a;
  vigil_slice_view_rotate(VIGIL_WINDOW(user_data)->slice_view, g_variant_get_int32(param));
}

/* win.flip(s): "horizontal" or "vertical", as the screen shows the slice. */
void _vigil_window_action_flip(GSimpleAction *a, GVariant *param, gpointer user_data) {
  (void)a;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  const char *how = g_variant_get_string(param, NULL);
  if (g_str_equal(how, "horizontal") || g_str_equal(how, "vertical")) {
    vigil_slice_view_flip(self->slice_view, g_str_equal(how, "horizontal"));
    return;
  }
  g_autofree char *msg = g_strdup_printf("No flip '%s' (horizontal or vertical)", how);
  _vigil_window_toast(self, msg);
}

/* win.invert (a check item) */
void _vigil_window_change_invert(GSimpleAction *a, GVariant *value, gpointer user_data) {
  (void)a;
  vigil_slice_view_set_inverted(VIGIL_WINDOW(user_data)->slice_view, g_variant_get_boolean(value));
}

/* win.corner-text (a check item) */
void _vigil_window_change_corner_text(GSimpleAction *a, GVariant *value, gpointer user_data) {
  (void)a;
  vigil_slice_view_set_corner_text(VIGIL_WINDOW(user_data)->slice_view,
                                   g_variant_get_boolean(value));
}

/* win.cine (a check item; Space in the view) */
void _vigil_window_change_cine(GSimpleAction *a, GVariant *value, gpointer user_data) {
  (void)a;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  vigil_cine_set_playing(self->cine, g_variant_get_boolean(value));
  if (g_variant_get_boolean(value) && !vigil_cine_get_playing(self->cine))
    _vigil_window_toast(self, "Cine needs a series of two slices or more");
}

/* win.cine-rate(d): frames per second */
void _vigil_window_change_cine_rate(GSimpleAction *a, GVariant *value, gpointer user_data) {
  (void)a;
  vigil_cine_set_rate(VIGIL_WINDOW(user_data)->cine, g_variant_get_double(value));
}

/* win.print-annotations: the corner text and orientation letters as shown,
 * logged for GUI tests (which read what the view draws without OCR). */
void _vigil_window_action_print_annotations(GSimpleAction *a, GVariant *param, gpointer user_data) {
  (void)a, (void)param;
  g_autofree char *text =
      vigil_slice_view_describe_annotations(VIGIL_WINDOW(user_data)->slice_view);
  g_auto(GStrv) lines = g_strsplit(g_strstrip(text), "\n", -1);
  g_autofree char *one = g_strjoinv("; ", lines);
  g_message("annotations: %s", one);
}

static void on_transform_changed(VigilSliceView *view, VigilWindow *self) {
  VigilViewTransform t;
  vigil_slice_view_get_transform(view, &t);
  if (shown_uid(self))
    g_hash_table_replace(self->view_transforms, g_strdup(shown_uid(self)), g_memdup2(&t, sizeof t));
  g_simple_action_set_state(action(self, "invert"), g_variant_new_boolean(t.invert));
  vigil_workspace_changed(self->workspace); /* the autosave keeps it */
}

static void on_corner_text(VigilSliceView *view, GParamSpec *pspec, VigilWindow *self) {
  (void)pspec;
  g_simple_action_set_state(action(self, "corner-text"),
                            g_variant_new_boolean(vigil_slice_view_get_corner_text(view)));
  vigil_workspace_changed(self->workspace);
}

static void on_cine_playing(VigilCine *cine, GParamSpec *pspec, VigilWindow *self) {
  (void)pspec;
  const gboolean playing = vigil_cine_get_playing(cine);
  g_simple_action_set_state(action(self, "cine"), g_variant_new_boolean(playing));
  guint shown, skipped;
  double seconds;
  vigil_cine_get_stats(cine, &shown, &skipped, &seconds);
  if (!playing && seconds > 0) /* what a benchmark compares with the rate asked */
    g_message("cine: %u slices shown in %.3f s: %.2f per second (asked %.2f; %u skipped)", shown,
              seconds, shown / seconds, vigil_cine_get_rate(cine), skipped);
}

static void on_cine_rate(VigilCine *cine, GParamSpec *pspec, VigilWindow *self) {
  (void)pspec;
  g_simple_action_set_state(action(self, "cine-rate"),
                            g_variant_new_double(vigil_cine_get_rate(cine)));
}

static void apply_transform(VigilWindow *self) {
  const char *uid = shown_uid(self);
  const VigilViewTransform *t = uid ? g_hash_table_lookup(self->view_transforms, uid) : NULL;
  vigil_slice_view_set_transform(self->slice_view, t ? t : &(VigilViewTransform){0});
}

/* A new series: its own transform, cine stopped, the file's frame rate. */
static void on_show_series(VigilWorkspace *ws, VigilSeries *series, VigilWindow *self) {
  (void)ws;
  vigil_cine_set_playing(self->cine, FALSE);
  apply_transform(self);
  const VigilSlice *first =
      series && series->slices->len ? g_ptr_array_index(series->slices, 0) : NULL;
  if (first && first->info && first->info->frames > 1 && first->info->frame_time > 0)
    vigil_cine_set_rate(self->cine, 1000.0 / first->info->frame_time);
}

static void on_restore_view(VigilWorkspace *ws, const VigilSession *s, VigilWindow *self) {
  (void)ws;
  GHashTableIter it;
  gpointer uid, t;
  g_hash_table_iter_init(&it, s->transforms);
  while (g_hash_table_iter_next(&it, &uid, &t))
    g_hash_table_replace(self->view_transforms, g_strdup(uid),
                         g_memdup2(t, sizeof(VigilViewTransform)));
  apply_transform(self);
  vigil_slice_view_set_corner_text(self->slice_view, !s->hide_corner_text);
}

static void on_capture_view(VigilWorkspace *ws, VigilSession *s, VigilWindow *self) {
  (void)ws;
  GHashTableIter it;
  gpointer uid, t;
  g_hash_table_iter_init(&it, self->view_transforms);
  while (g_hash_table_iter_next(&it, &uid, &t))
    vigil_session_set_transform(s, uid, t);
  s->hide_corner_text = !vigil_slice_view_get_corner_text(self->slice_view);
}

void _vigil_window_view_init(VigilWindow *self) {
  self->view_transforms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  self->cine = vigil_cine_new(self->slice_view);
  g_signal_connect(self->slice_view, "transform-changed", G_CALLBACK(on_transform_changed), self);
  g_signal_connect(self->slice_view, "notify::corner-text", G_CALLBACK(on_corner_text), self);
  g_signal_connect(self->cine, "notify::playing", G_CALLBACK(on_cine_playing), self);
  g_signal_connect(self->cine, "notify::rate", G_CALLBACK(on_cine_rate), self);
  g_signal_connect(self->workspace, "show-series", G_CALLBACK(on_show_series), self);
  g_signal_connect(self->workspace, "restore-view", G_CALLBACK(on_restore_view), self);
  g_signal_connect(self->workspace, "capture-view", G_CALLBACK(on_capture_view), self);
}

void _vigil_window_view_dispose(VigilWindow *self) {
  if (self->slice_view) {
    g_signal_handlers_disconnect_by_func(self->slice_view, on_transform_changed, self);
    g_signal_handlers_disconnect_by_func(self->slice_view, on_corner_text, self);
  }
  if (self->cine) {
    g_signal_handlers_disconnect_by_data(self->cine, self);
    vigil_cine_set_playing(self->cine, FALSE); /* its tick runs on the view */
  }
  g_clear_object(&self->cine);
  g_clear_pointer(&self->view_transforms, g_hash_table_unref);
}
