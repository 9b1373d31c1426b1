/* VigilWindow, indexing: what was opened is read by a VigilIndexer in the
 * background. Series join the sidebar as they are found, the first complete
 * one is shown at once, thumbnails follow, and a progress bar counts files.
 * The indexer groups on this (the UI) thread, so the scan is only touched here.
 * The win.indexing action's state reports progress (for tests and tools),
 * with the milliseconds from opening to the first series shown (its middle
 * slice decoded and handed to the view) and to the end of indexing. */
#include "vigil-window-private.h"

static GPtrArray *series_rows(VigilWindow *self) {
  GPtrArray *rows = g_ptr_array_new();
  for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(self->file_list)); child;
       child = gtk_widget_get_next_sibling(child))
    if (VIGIL_IS_SERIES_ROW(child))
      g_ptr_array_add(rows, child);
  return rows;
}

static VigilSeriesRow *row_of(VigilWindow *self, const VigilSeries *series) {
  g_autoptr(GPtrArray) rows = series_rows(self);
  for (guint i = 0; i < rows->len; i++)
    if (vigil_series_row_get_series(g_ptr_array_index(rows, i)) == series)
      return g_ptr_array_index(rows, i);
  return NULL;
}

static void publish_state(VigilWindow *self) {
  VigilIndexer *ix = self->indexer;
  g_autoptr(GPtrArray) rows = series_rows(self);
  guint thumbs = 0;
  for (guint i = 0; i < rows->len; i++)
    thumbs += vigil_series_row_has_thumbnail(g_ptr_array_index(rows, i));
  GVariantDict dict;
  g_variant_dict_init(&dict, NULL);
  g_variant_dict_insert(&dict, "done", "b", ix ? vigil_indexer_is_finished(ix) : TRUE);
  g_variant_dict_insert(&dict, "files", "u", ix ? vigil_indexer_get_files_done(ix) : 0);
  g_variant_dict_insert(&dict, "total", "u", ix ? vigil_indexer_get_files_total(ix) : 0);
  g_variant_dict_insert(&dict, "series", "u", rows->len);
  g_variant_dict_insert(&dict, "thumbnails", "u", thumbs);
  g_variant_dict_insert(&dict, "showing", "s", self->series ? self->series->uid : "");
  g_variant_dict_insert(&dict, "showing-slices", "u",
                        self->series ? vigil_slice_view_get_slice_count(self->slice_view) : 0);
  g_variant_dict_insert(&dict, "shown-while-indexing", "b", self->shown_while_indexing);
  g_variant_dict_insert(&dict, "shown-after-ms", "u", self->shown_after_ms);
  g_variant_dict_insert(&dict, "indexed-after-ms", "u", self->indexed_after_ms);
  g_simple_action_set_state(self->indexing_action, g_variant_dict_end(&dict));
}

static void show_progress(VigilWindow *self) {
  VigilIndexer *ix = self->indexer;
  guint done = vigil_indexer_get_files_done(ix), total = vigil_indexer_get_files_total(ix);
  gboolean busy = !vigil_indexer_is_finished(ix);
  gtk_widget_set_visible(GTK_WIDGET(self->index_progress), busy);
  g_autofree char *text = total ? g_strdup_printf("Indexing %u of %u files…", done, total)
                                : g_strdup("Looking for files…");
  gtk_progress_bar_set_text(self->index_progress, text);
  if (total)
    gtk_progress_bar_set_fraction(self->index_progress, (double)done / total);
  else
    gtk_progress_bar_pulse(self->index_progress);
}

/* Rows in scan order: the sidebar lists studies, then their series. */
static int position_of(VigilScan *scan, const VigilSeries *series) {
  int pos = 0;
  for (guint i = 0; i < scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len; j++, pos++)
      if (g_ptr_array_index(study->series, j) == series)
        return pos;
  }
  return -1;
}

static void on_series_added(VigilIndexer *ix, VigilStudy *study, VigilSeries *series,
                            VigilWindow *self) {
  GtkWidget *row = vigil_series_row_new(study, series);
  gtk_list_box_insert(self->file_list, row, position_of(vigil_indexer_get_scan(ix), series));
}

static void on_series_changed(VigilIndexer *ix, VigilSeries *series, VigilWindow *self) {
  (void)ix;
  VigilSeriesRow *row = row_of(self, series);
  if (row)
    vigil_series_row_update(row);
  if (series == self->series) /* more slices arrived for what is shown */
    _vigil_window_series_grew(self);
  publish_state(self);
}

/* Thumbnails for settled series; the first settled one is shown if nothing is. */
static void on_progress(VigilIndexer *ix, VigilWindow *self) {
  g_autoptr(GPtrArray) rows = series_rows(self);
  GtkListBoxRow *first = NULL;
  for (guint i = 0; i < rows->len; i++) {
    VigilSeriesRow *row = g_ptr_array_index(rows, i);
    if (!vigil_indexer_is_settled(ix, vigil_series_row_get_series(row)))
      continue;
    first = first ? first : GTK_LIST_BOX_ROW(row);
    if (!g_object_get_data(G_OBJECT(row), "vigil-thumbnail-asked")) {
      g_object_set_data(G_OBJECT(row), "vigil-thumbnail-asked", GINT_TO_POINTER(1));
      vigil_thumbnailer_request(self->thumbnailer, G_OBJECT(ix), row);
    }
  }
  if (!self->series && first) {
    self->shown_while_indexing = !vigil_indexer_is_finished(ix);
    gtk_list_box_select_row(self->file_list, first);
    self->shown_after_ms = (guint)((g_get_monotonic_time() - self->index_started_us) / 1000);
  }
  show_progress(self);
  publish_state(self);
}

static void report_issues(VigilWindow *self, VigilScan *scan) {
  if (scan->issues->len == 0)
    return;
  const VigilScanIssue *issue = g_ptr_array_index(scan->issues, 0);
  /* Some errors name their file already; the others get it in front. */
  const char *message = issue->error->message;
  g_autofree char *named = g_str_has_prefix(message, issue->path)
                               ? g_strdup(message)
                               : g_strdup_printf("%s: %s", issue->path, message);
  g_autofree char *text =
      scan->issues->len == 1
          ? g_strdup(named)
          : g_strdup_printf("%u files could not be opened, e.g. %s", scan->issues->len, named);
  _vigil_window_toast(self, text);
}

static void on_finished(VigilIndexer *ix, VigilWindow *self) {
  VigilScan *scan = vigil_indexer_get_scan(ix);
  self->indexed_after_ms = (guint)((g_get_monotonic_time() - self->index_started_us) / 1000);
  report_issues(self, scan);
  if (vigil_scan_n_series(scan) == 0)
    _vigil_window_toast(self, "No scans found in what was opened");
  _vigil_window_session_scanned(self);
  _vigil_window_session_changed(self);
  publish_state(self);
}

static void stop(VigilWindow *self) {
  if (!self->indexer)
    return;
  vigil_indexer_cancel(self->indexer);
  g_signal_handlers_disconnect_by_data(self->indexer, self);
  vigil_thumbnailer_clear_queue(self->thumbnailer);
  g_clear_object(&self->indexer); /* jobs still reading hold their own reference */
}

void _vigil_window_index_start(VigilWindow *self, const char *const *paths) {
  GtkWidget *child; /* nothing may point into the old scan once it goes */
  _vigil_window_show_series(self, NULL);
  while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->file_list))))
    gtk_list_box_remove(self->file_list, child);
  stop(self);
  self->shown_while_indexing = FALSE;
  self->shown_after_ms = self->indexed_after_ms = 0;
  self->index_started_us = g_get_monotonic_time();
  self->indexer = vigil_indexer_new(paths, VIGIL_SLICE_CACHE_DEFAULT);
  self->scan = vigil_indexer_get_scan(self->indexer);
  g_signal_connect(self->indexer, "series-added", G_CALLBACK(on_series_added), self);
  g_signal_connect(self->indexer, "series-changed", G_CALLBACK(on_series_changed), self);
  g_signal_connect(self->indexer, "progress", G_CALLBACK(on_progress), self);
  g_signal_connect(self->indexer, "finished", G_CALLBACK(on_finished), self);
  show_progress(self);
  publish_state(self);
  vigil_indexer_start(self->indexer);
}

void _vigil_window_index_init(VigilWindow *self) {
  self->thumbnailer = vigil_thumbnailer_new();
  g_signal_connect_swapped(self->thumbnailer, "thumbnail-ready", G_CALLBACK(publish_state), self);
}

void _vigil_window_index_dispose(VigilWindow *self) {
  stop(self);
  self->scan = NULL;
  if (self->thumbnailer)
    g_signal_handlers_disconnect_by_data(self->thumbnailer, self);
  g_clear_object(&self->thumbnailer);
  self->indexing_action = NULL; /* the action map owns it */
}
