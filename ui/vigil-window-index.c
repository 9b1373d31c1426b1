/* VigilWindow, indexing: what was opened is read by a VigilIndexer in the
 * background. Series join the sidebar as they are found, the first complete
 * one is shown at once, thumbnails follow, and a progress bar counts files.
 * The indexer groups on this (the UI) thread, so the scan is only touched here.
 * The win.indexing action's state reports progress (for tests and tools),
 * with the milliseconds from opening to the first series shown (its middle
 * slice decoded and handed to the view) and to the end of indexing. */
#include "vigil-window-private.h"

static void publish_state(VigilWindow *self) {
  VigilIndexer *ix = self->indexer;
  GListModel *items = vigil_series_list_get_items(self->series_list);
  GVariantDict dict;
  g_variant_dict_init(&dict, NULL);
  g_variant_dict_insert(&dict, "done", "b", ix ? vigil_indexer_is_finished(ix) : TRUE);
  g_variant_dict_insert(&dict, "files", "u", ix ? vigil_indexer_get_files_done(ix) : 0);
  g_variant_dict_insert(&dict, "total", "u", ix ? vigil_indexer_get_files_total(ix) : 0);
  g_variant_dict_insert(&dict, "series", "u", g_list_model_get_n_items(items));
  g_variant_dict_insert(&dict, "thumbnails", "u",
                        vigil_series_list_count_thumbnails(self->series_list));
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

static void on_series_added(VigilIndexer *ix, VigilStudy *study, VigilSeries *series,
                            VigilWindow *self) {
  /* In scan order: the sidebar lists studies, then their series. */
  int position = vigil_scan_series_position(vigil_indexer_get_scan(ix), series);
  vigil_series_list_insert(self->series_list, study, series, (guint)MAX(position, 0));
}

static void on_series_changed(VigilIndexer *ix, VigilSeries *series, VigilWindow *self) {
  (void)ix;
  VigilSeriesItem *item = vigil_series_list_find(self->series_list, series);
  if (item)
    vigil_series_item_changed(item);
  if (series == self->series) /* more slices arrived for what is shown */
    _vigil_window_series_grew(self);
  publish_state(self);
}

/* Thumbnails for settled series; the first settled one is shown if nothing is. */
static void on_progress(VigilIndexer *ix, VigilWindow *self) {
  GListModel *items = vigil_series_list_get_items(self->series_list);
  VigilSeries *first = NULL;
  for (guint i = 0; i < g_list_model_get_n_items(items); i++) {
    g_autoptr(VigilSeriesItem) item = g_list_model_get_item(items, i);
    VigilSeries *series = vigil_series_item_get_series(item);
    if (!vigil_indexer_is_settled(ix, series))
      continue;
    first = first ? first : series;
    vigil_series_list_request_thumbnail(self->series_list, G_OBJECT(ix), item);
  }
  if (!self->series && first) {
    self->shown_while_indexing = !vigil_indexer_is_finished(ix);
    vigil_series_list_select(self->series_list, first);
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
  g_clear_object(&self->indexer); /* jobs still reading hold their own reference */
}

void _vigil_window_index_start(VigilWindow *self, const char *const *paths) {
  _vigil_window_show_series(self, NULL); /* nothing may point into the old scan once it goes */
  vigil_series_list_clear(self->series_list);
  stop(self);
  self->shown_while_indexing = FALSE;
  self->shown_after_ms = self->indexed_after_ms = 0;
  self->index_started_us = g_get_monotonic_time();
  self->indexer = vigil_indexer_new(paths, VIGIL_SLICE_CACHE_DEFAULT);
  self->scan = vigil_indexer_get_scan(self->indexer);
  vigil_reference_queue_set_scan(self->references, self->scan);
  g_signal_connect(self->indexer, "series-added", G_CALLBACK(on_series_added), self);
  g_signal_connect(self->indexer, "series-changed", G_CALLBACK(on_series_changed), self);
  g_signal_connect(self->indexer, "progress", G_CALLBACK(on_progress), self);
  g_signal_connect(self->indexer, "finished", G_CALLBACK(on_finished), self);
  show_progress(self);
  publish_state(self);
  vigil_indexer_start(self->indexer);
}

void _vigil_window_index_init(VigilWindow *self) {
  g_signal_connect_swapped(self->series_list, "thumbnail-ready", G_CALLBACK(publish_state), self);
}

void _vigil_window_index_dispose(VigilWindow *self) {
  stop(self);
  if (self->references)
    vigil_reference_queue_set_scan(self->references, NULL);
  if (self->series_list)
    g_signal_handlers_disconnect_by_data(self->series_list, self);
  self->scan = NULL;
  self->indexing_action = NULL; /* the action map owns it */
}
