/* VigilWindow's normal references: adding them (the current slice, a series
 * or slice dragged from the sidebar, image files dropped on the strip or
 * named over D-Bus), removing them without waiting for a running analysis,
 * and the slice view's context menu. Additions run one at a time from a
 * queue: files are opened on a worker, features are computed on a worker,
 * and only the new reference is encoded (the bank keeps the others).
 * Part of VigilWindow (see vigil-window-private.h). */
#include "vigil-job.h"
#include "vigil-scan-images.h"
#include "vigil-window-private.h"

/* One reference to add: a series of the open scan, or a file or folder. */
typedef struct {
  char *series_uid; /* NULL: the first series of `path` */
  char *path;       /* NULL: only from the open scan */
  int slice;        /* -1: see VigilSeriesDrag */
} RefSource;

static void ref_source_free(gpointer data) {
  RefSource *s = data;
  g_free(s->series_uid), g_free(s->path);
  g_free(s);
}

static GdkPaintable *thumbnail(const VigilImage *image, double center, double width) {
  /* RGB even for gray slices: GTK 4.8 has no 8-bit gray textures. */
  g_autoptr(GBytes) bytes = g_bytes_new_take(vigil_window_level_to_rgb8(image, center, width),
                                             (gsize)image->width * image->height * 3);
  return GDK_PAINTABLE(gdk_memory_texture_new(image->width, image->height, GDK_MEMORY_R8G8B8, bytes,
                                              (gsize)image->width * 3));
}

void _vigil_window_ref_free(gpointer data) {
  VigilWindowRef *ref = data;
  g_free(ref->label), g_free(ref->path), g_free(ref->series_uid);
  g_clear_object(&ref->thumb);
  g_free(ref);
}

static void process_next(VigilWindow *self);

/* What a batch (e.g. one drop) added and refused is told once it is done,
 * in one toast each rather than a queue of them. */
static void note_failed(VigilWindow *self, const char *name, const char *reason) {
  g_log("Vigil", G_LOG_LEVEL_INFO, "not a reference: %s: %s", name, reason);
  g_ptr_array_add(self->ref_failed, g_strdup(name));
  g_ptr_array_add(self->ref_failed, g_strdup(reason));
}

static void tell_batch(VigilWindow *self) {
  GPtrArray *added = self->ref_added, *failed = self->ref_failed;
  g_autofree char *msg = NULL;
  if (added->len == 1)
    msg = g_strdup_printf("Added %s as a normal reference", (char *)added->pdata[0]);
  else if (added->len > 1)
    msg = g_strdup_printf("Added %u normal references", added->len);
  if (msg)
    _vigil_window_toast(self, msg);
  g_clear_pointer(&msg, g_free);
  const char *name = failed->len ? failed->pdata[0] : NULL, *why = name ? failed->pdata[1] : NULL;
  if (failed->len == 2) {
    msg = g_strdup_printf("%s was not added as a reference: %s", name, why);
  } else if (failed->len > 2) {
    g_autoptr(GString) names = g_string_new(name);
    for (guint i = 2; i < failed->len; i += 2)
      g_string_append_printf(names, ", %s", (char *)failed->pdata[i]);
    msg = g_strdup_printf("%u files were not added as references: %s (%s: %s)", failed->len / 2,
                          names->str, name, why);
  }
  if (msg)
    _vigil_window_toast(self, msg);
  g_ptr_array_set_size(added, 0);
  g_ptr_array_set_size(failed, 0);
}

/* One queued source is done (added or not): on to the next. */
static void source_done(VigilWindow *self) {
  self->ref_busy = FALSE;
  process_next(self);
  if (self->ref_busy)
    return;
  tell_batch(self);
  _vigil_window_session_continue_references(self);
}

static void on_reference_added(GObject *source, GAsyncResult *result, gpointer user_data) {
  VigilWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = vigil_job_run_finish(VIGIL_JOB(source), result, &error);
  if (!self->files) { /* the window closed meanwhile */
    g_object_unref(self);
    return;
  }
  if (ok) {
    guint64 id = vigil_analyzer_take_reference_id(self->analyzer, VIGIL_JOB(source));
    VigilWindowRef *ref = *(VigilWindowRef **)g_object_get_data(source, "vigil-ref");
    /* The model holds the reference, the strip its thumbnail (set first: the
     * strip redraws as soon as the model has it). */
    vigil_reference_strip_set_thumbnail(self->reference_strip, id, ref->thumb);
    vigil_analysis_session_add_reference(self->analysis, id, ref->label, ref->path, ref->series_uid,
                                         ref->slice);
    if (!self->pending)
      g_ptr_array_add(self->ref_added, g_strdup(ref->label));
  } else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    VigilWindowRef **slot = g_object_get_data(source, "vigil-ref");
    note_failed(self, *slot ? (*slot)->label : "A slice", error->message);
  }
  source_done(self);
  g_object_unref(self);
}

static void free_ref_slot(gpointer data) {
  VigilWindowRef **slot = data;
  if (*slot)
    _vigil_window_ref_free(*slot);
  g_free(slot);
}

static gboolean is_reference(VigilWindow *self, const char *series_uid, int slice) {
  for (guint i = 0; i < vigil_analysis_session_n_references(self->analysis); i++) {
    const VigilAnalysisReference *r = vigil_analysis_session_get_reference(self->analysis, i);
    if (r->slice == slice && g_strcmp0(r->series_uid, series_uid) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Encodes `image` on a worker into the bank. `view` is the window it is
 * shown with; the model sees the domain's fixed window, else that one. */
static void add_image(VigilWindow *self, const VigilImage *image, VigilWindowLevel view,
                      VigilWindowRef *ref) {
  if (is_reference(self, ref->series_uid, ref->slice)) {
    /* The same slice twice would only weigh it double (and a session keeps it once). */
    note_failed(self, ref->label, "it is already a reference");
    _vigil_window_ref_free(ref);
    source_done(self);
    return;
  }
  double center = view.center, width = view.width;
  _vigil_window_analysis_fixed_window(self, &center, &width);
  g_autoptr(VigilJob) job = vigil_analyzer_add_reference(self->analyzer, image, center, width);
  ref->thumb = thumbnail(image, view.center, view.width);
  VigilWindowRef **slot = g_new0(VigilWindowRef *, 1);
  *slot = ref;
  g_object_set_data_full(G_OBJECT(job), "vigil-ref", slot, free_ref_slot);
  vigil_job_run_async(job, self->ref_cancellable, on_reference_added, g_object_ref(self));
}

static int pick_slice(VigilWindow *self, const VigilSeries *series, int slice) {
  if (slice >= 0)
    return slice;
  if (series == self->series)
    return vigil_slice_view_get_slice(self->slice_view);
  return (int)series->slices->len / 2;
}

static char *series_label(const VigilSeries *series, const char *path, int slice) {
  g_autofree char *name = path ? g_path_get_basename(path) : NULL;
  const char *what = series->description && *series->description ? series->description
                     : name                                      ? name
                                                                 : "";
  if (series->slices->len == 1)
    return g_strdup(what);
  return g_strdup_printf("%s, slice %d of %u", what, slice + 1, series->slices->len);
}

/* A series of the open scan: its slice is decoded here, as the viewer does. */
static void add_from_series(VigilWindow *self, VigilSeries *series, int slice) {
  slice = pick_slice(self, series, slice);
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilImage) image = slice < (int)series->slices->len
                                    ? vigil_series_get_slice(series, (guint)slice, &error)
                                    : NULL;
  if (!image) {
    g_autofree char *label = series_label(series, NULL, slice);
    note_failed(self, label, error ? error->message : "that slice is not in the series");
    source_done(self);
    return;
  }
  VigilWindowLevel view;
  if (series == self->series)
    vigil_slice_view_get_window(self->slice_view, &view.center, &view.width);
  else
    view = vigil_series_default_window(series, image, NULL);
  VigilWindowRef *ref = g_new0(VigilWindowRef, 1);
  ref->series_uid = g_strdup(series->uid);
  ref->path = g_strdup(
      series->slices->len ? ((VigilSlice *)g_ptr_array_index(series->slices, 0))->path : "");
  ref->label = series_label(series, ref->path, slice);
  ref->slice = slice;
  add_image(self, image, view, ref);
}

/* ---- files: opened on a worker, like the scans ----------------------------- */

typedef struct {
  RefSource *source;
  VigilImage *image;
  VigilWindowLevel view;
  VigilWindowRef *ref;
} FileWork;

static void file_work_free(gpointer data) {
  FileWork *w = data;
  vigil_image_free(w->image);
  if (w->ref)
    _vigil_window_ref_free(w->ref);
  g_free(w);
}

static gboolean series_failed(const VigilScan *scan, const char *uid, GError **error) {
  if (uid)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no series %s in it any more", uid);
  else if (scan->issues->len > 0)
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        ((VigilScanIssue *)g_ptr_array_index(scan->issues, 0))->error->message);
  else
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "no DICOM, PNG, JPEG or NIfTI image in it");
  return FALSE;
}

static gboolean open_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                               GError **error) {
  (void)job, (void)cancellable;
  FileWork *w = data;
  const char *paths[] = {w->source->path, NULL};
  g_autoptr(VigilScan) scan = vigil_scan_open(paths, 64u << 20);
  VigilSeries *series = NULL;
  for (guint i = 0; i < scan->studies->len && !series; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len && !series; j++) {
      VigilSeries *s = g_ptr_array_index(study->series, j);
      if (!w->source->series_uid || g_strcmp0(s->uid, w->source->series_uid) == 0)
        series = s;
    }
  }
  if (!series)
    return series_failed(scan, w->source->series_uid, error);
  /* A volume gives its middle slice unless a slice is named (a session's). */
  int slice = w->source->slice >= 0 ? w->source->slice : (int)series->slices->len / 2;
  if (slice >= (int)series->slices->len) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "it has no slice %d", slice + 1);
    return FALSE;
  }
  w->image = vigil_series_get_slice(series, (guint)slice, error);
  if (!w->image)
    return FALSE;
  w->view = vigil_series_default_window(series, w->image, NULL);
  w->ref = g_new0(VigilWindowRef, 1);
  w->ref->label = series_label(series, w->source->path, slice);
  w->ref->path = g_strdup(w->source->path);
  w->ref->series_uid = g_strdup(series->uid);
  w->ref->slice = slice;
  return TRUE;
}

static void on_file_opened(GObject *source, GAsyncResult *result, gpointer user_data) {
  VigilWindow *self = user_data;
  FileWork *w = g_object_get_data(source, "vigil-work");
  g_autoptr(GError) error = NULL;
  gboolean ok = vigil_job_run_finish(VIGIL_JOB(source), result, &error);
  if (!self->files) {
    g_object_unref(self);
    return;
  }
  if (ok && vigil_analyzer_get_engine(self->analyzer)) {
    add_image(self, w->image, w->view, g_steal_pointer(&w->ref));
  } else {
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_autofree char *name = g_path_get_basename(w->source->path);
      note_failed(self, name, error ? error->message : "the model is not loaded");
    }
    source_done(self);
  }
  g_object_unref(self);
}

static void add_from_file(VigilWindow *self, RefSource *source) {
  FileWork *w = g_new0(FileWork, 1);
  w->source = source;
  g_autoptr(VigilJob) job = vigil_job_new("Open reference", open_in_thread, w, file_work_free);
  g_object_set_data(G_OBJECT(job), "vigil-work", w);
  g_object_set_data_full(G_OBJECT(job), "vigil-source", source, ref_source_free);
  vigil_job_run_async(job, self->ref_cancellable, on_file_opened, g_object_ref(self));
}

/* ---- the queue ------------------------------------------------------------- */

static void process_next(VigilWindow *self) {
  if (self->ref_busy || !self->ref_queue || g_queue_is_empty(self->ref_queue))
    return;
  self->ref_busy = TRUE;
  RefSource *s = g_queue_pop_head(self->ref_queue);
  VigilSeries *series = s->series_uid ? vigil_scan_find_series(self->scan, s->series_uid) : NULL;
  if (series) {
    add_from_series(self, series, s->slice);
    ref_source_free(s);
  } else if (s->path) {
    add_from_file(self, s); /* the job owns s */
  } else {
    note_failed(self, "A series", "it is no longer open");
    ref_source_free(s);
    source_done(self);
  }
}

static gboolean model_or_toast(VigilWindow *self) {
  if (vigil_analyzer_get_engine(self->analyzer))
    return TRUE;
  _vigil_window_toast(self, "Load the model first (Preferences): references are encoded by it");
  return FALSE;
}

static void enqueue(VigilWindow *self, const char *path, const char *series_uid, int slice) {
  RefSource *s = g_new0(RefSource, 1);
  s->path = g_strdup(path);
  s->series_uid = g_strdup(series_uid);
  s->slice = slice;
  g_queue_push_tail(self->ref_queue, s);
  process_next(self);
}

void _vigil_window_analysis_add_reference_from(VigilWindow *self, VigilSeries *series, int slice) {
  enqueue(self, NULL, series->uid, slice);
}

void _vigil_window_references_add_path(VigilWindow *self, const char *path, const char *series_uid,
                                       int slice) {
  enqueue(self, path, series_uid, slice);
}

/* ---- actions --------------------------------------------------------------- */

void _vigil_window_action_add_reference(GSimpleAction *action, GVariant *param,
                                        gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  if (!self->series || !vigil_slice_view_get_image(self->slice_view)) {
    _vigil_window_toast(self, "Open a scan first");
    return;
  }
  if (model_or_toast(self))
    enqueue(self, NULL, self->series->uid, vigil_slice_view_get_slice(self->slice_view));
}

/* win.add-reference-files(as): each file (or folder) becomes a reference;
 * a volume gives its middle slice. Dropping files on the strip calls it. */
void _vigil_window_action_add_reference_files(GSimpleAction *action, GVariant *param,
                                              gpointer user_data) {
  (void)action;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  if (!model_or_toast(self))
    return;
  g_autofree const char **paths = g_variant_get_strv(param, NULL);
  for (const char **p = paths; *p; p++)
    enqueue(self, *p, NULL, -1);
}

/* win.add-reference-series((si)): a series of the open scan, slice -1 for
 * the shown (or middle) one. Dropping a sidebar row on the strip calls it. */
void _vigil_window_action_add_reference_series(GSimpleAction *action, GVariant *param,
                                               gpointer user_data) {
  (void)action;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  const char *uid;
  int slice;
  g_variant_get(param, "(&si)", &uid, &slice);
  if (model_or_toast(self))
    enqueue(self, NULL, uid, slice);
}

static void remove_reference(VigilWindow *self, guint64 id) {
  g_autoptr(GError) error = NULL;
  if (!vigil_analysis_session_find_reference(self->analysis, id)) {
    g_autofree char *msg = g_strdup_printf("There is no reference %" G_GUINT64_FORMAT, id);
    _vigil_window_toast(self, msg);
    return;
  }
  /* Never blocks: a running analysis applies it before it scores. */
  if (!vigil_analyzer_remove_reference(self->analyzer, id, &error)) {
    _vigil_window_toast(self, error->message);
    return;
  }
  /* The strip, the map and the session file follow the model. */
  vigil_analysis_session_remove_reference(self->analysis, id);
}

/* win.remove-reference(t): by the id the strip shows it under. */
void _vigil_window_action_remove_reference(GSimpleAction *action, GVariant *param,
                                           gpointer user_data) {
  (void)action;
  remove_reference(VIGIL_WINDOW(user_data), g_variant_get_uint64(param));
}

static void on_remove_clicked(VigilReferenceStrip *strip, guint64 id, gpointer user_data) {
  (void)strip;
  remove_reference(user_data, id);
}

void _vigil_window_action_reset_view(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  vigil_slice_view_reset(VIGIL_WINDOW(user_data)->slice_view);
}

/* ---- drag and drop --------------------------------------------------------- */

static gboolean on_strip_drop(VigilReferenceStrip *strip, const GValue *value, gpointer user_data) {
  (void)strip;
  VigilWindow *self = user_data;
  if (G_VALUE_HOLDS(value, vigil_series_drag_get_type())) {
    const VigilSeriesDrag *d = g_value_get_boxed(value);
    g_action_group_activate_action(G_ACTION_GROUP(self), "add-reference-series",
                                   g_variant_new("(si)", d->series_uid, d->slice));
    return TRUE;
  }
  if (!G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST))
    return FALSE;
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  for (GSList *l = g_value_get_boxed(value); l; l = l->next) {
    char *path = g_file_get_path(l->data);
    if (path)
      g_ptr_array_add(paths, path);
    else
      _vigil_window_toast(self, "Only local files can become references");
  }
  if (paths->len == 0)
    return FALSE;
  g_ptr_array_add(paths, NULL);
  g_action_group_activate_action(
      G_ACTION_GROUP(self), "add-reference-files",
      g_variant_new_strv((const char *const *)paths->pdata, (gssize)paths->len - 1));
  return TRUE;
}

static void setup_dnd(VigilWindow *self) {
  const GType types[] = {GDK_TYPE_FILE_LIST, vigil_series_drag_get_type()};
  vigil_reference_strip_set_drop_types(self->reference_strip, types, G_N_ELEMENTS(types));
  g_signal_connect(self->reference_strip, "dropped", G_CALLBACK(on_strip_drop), self);
}

/* ---- the slice view's context menu ----------------------------------------- */

static void build_context_menu(VigilWindow *self) {
  g_autoptr(GMenu) menu = g_menu_new();
  g_autoptr(GMenu) first = g_menu_new();
  g_menu_append(first, "Add This Slice as Normal Reference", "win.add-reference");
  g_menu_append(first, "Analyse This Slice", "win.analyse-slice");
  g_menu_append_section(menu, NULL, G_MENU_MODEL(first));
  g_autoptr(GMenu) view = g_menu_new();
  g_menu_append(view, "Reset View", "win.reset-view");
  GMenuModel *presets = gtk_menu_button_get_menu_model(self->window_presets);
  if (presets)
    g_menu_append_submenu(view, "Window Presets", presets);
  g_menu_append_section(menu, NULL, G_MENU_MODEL(view));
  vigil_slice_view_set_context_menu(self->slice_view, G_MENU_MODEL(menu));
}

void _vigil_window_references_init(VigilWindow *self) {
  self->ref_queue = g_queue_new();
  self->ref_added = g_ptr_array_new_with_free_func(g_free);
  self->ref_failed = g_ptr_array_new_with_free_func(g_free);
  self->ref_cancellable = g_cancellable_new();
  vigil_reference_strip_set_session(self->reference_strip, self->analysis);
  g_signal_connect(self->reference_strip, "remove-reference", G_CALLBACK(on_remove_clicked), self);
  setup_dnd(self);
  build_context_menu(self);
  g_signal_connect_swapped(self->window_presets, "notify::menu-model",
                           G_CALLBACK(build_context_menu), self);
}

void _vigil_window_references_dispose(VigilWindow *self) {
  /* The menu button drops its model as the template goes: not for us then. */
  if (self->window_presets)
    g_signal_handlers_disconnect_by_data(self->window_presets, self);
  g_cancellable_cancel(self->ref_cancellable);
  g_clear_object(&self->ref_cancellable);
  if (self->ref_queue)
    g_queue_free_full(g_steal_pointer(&self->ref_queue), ref_source_free);
  g_clear_pointer(&self->ref_added, g_ptr_array_unref);
  g_clear_pointer(&self->ref_failed, g_ptr_array_unref);
}
