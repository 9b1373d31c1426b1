/* VigilWindow, indexing: the workspace's indexer reads what was opened in
 * the background. Series join the sidebar as they are found, the sidebar
 * selects what the workspace shows, thumbnails follow, and a progress bar
 * counts files. The win.indexing action's state reports progress (for tests
 * and tools), with the milliseconds from opening to the first series shown
 * (its middle slice decoded and handed to the view) and to the end of
 * indexing. */
#include "vigil-window-private.h"

static void publish_state(VigilWindow *self) {
  VigilIndexer *ix = vigil_workspace_get_indexer(self->workspace);
  VigilSeries *shown = vigil_workspace_get_series(self->workspace);
  guint shown_after_ms, indexed_after_ms;
  gboolean shown_while_indexing;
  vigil_workspace_get_index_times(self->workspace, &shown_after_ms, &indexed_after_ms,
                                  &shown_while_indexing);
  GListModel *items = vigil_series_list_get_items(self->series_list);
  GVariantDict dict;
  g_variant_dict_init(&dict, NULL);
  g_variant_dict_insert(&dict, "done", "b", ix ? vigil_indexer_is_finished(ix) : TRUE);
  g_variant_dict_insert(&dict, "files", "u", ix ? vigil_indexer_get_files_done(ix) : 0);
  g_variant_dict_insert(&dict, "total", "u", ix ? vigil_indexer_get_files_total(ix) : 0);
  g_variant_dict_insert(&dict, "series", "u", g_list_model_get_n_items(items));
  g_variant_dict_insert(&dict, "thumbnails", "u",
                        vigil_series_list_count_thumbnails(self->series_list));
  g_variant_dict_insert(&dict, "showing", "s", shown ? shown->uid : "");
  g_variant_dict_insert(&dict, "showing-slices", "u",
                        shown ? vigil_slice_view_get_slice_count(self->slice_view) : 0);
  g_variant_dict_insert(&dict, "shown-while-indexing", "b", shown_while_indexing);
  g_variant_dict_insert(&dict, "shown-after-ms", "u", shown_after_ms);
  g_variant_dict_insert(&dict, "indexed-after-ms", "u", indexed_after_ms);
  g_simple_action_set_state(self->indexing_action, g_variant_dict_end(&dict));
}

static void show_progress(VigilWindow *self) {
  VigilIndexer *ix = vigil_workspace_get_indexer(self->workspace);
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

static void on_series_added(VigilWorkspace *ws, VigilStudy *study, VigilSeries *series,
                            VigilWindow *self) {
  /* In scan order: the sidebar lists studies, then their series. */
  int position = vigil_scan_series_position(vigil_workspace_get_scan(ws), series);
  vigil_series_list_insert(self->series_list, study, series, (guint)MAX(position, 0));
}

static void on_series_changed(VigilWorkspace *ws, VigilSeries *series, VigilWindow *self) {
  (void)ws;
  VigilSeriesItem *item = vigil_series_list_find(self->series_list, series);
  if (item)
    vigil_series_item_changed(item);
  publish_state(self);
}

/* Thumbnails for settled series. */
static void on_progress(VigilWorkspace *ws, VigilWindow *self) {
  VigilIndexer *ix = vigil_workspace_get_indexer(ws);
  GListModel *items = vigil_series_list_get_items(self->series_list);
  for (guint i = 0; i < g_list_model_get_n_items(items); i++) {
    g_autoptr(VigilSeriesItem) item = g_list_model_get_item(items, i);
    if (vigil_indexer_is_settled(ix, vigil_series_item_get_series(item)))
      vigil_series_list_request_thumbnail(self->series_list, G_OBJECT(ix), item);
  }
  show_progress(self);
  publish_state(self);
}

/* The sidebar selects what is shown. */
static void on_show_series(VigilWorkspace *ws, VigilSeries *series, VigilWindow *self) {
  (void)ws;
  if (series)
    vigil_series_list_select(self->series_list, series);
}

static void on_scan_started(VigilWorkspace *ws, VigilWindow *self) {
  (void)ws;
  vigil_series_list_clear(self->series_list);
}

void _vigil_window_index_init(VigilWindow *self) {
  VigilWorkspace *ws = self->workspace;
  g_signal_connect(ws, "scan-started", G_CALLBACK(on_scan_started), self);
  g_signal_connect(ws, "series-added", G_CALLBACK(on_series_added), self);
  g_signal_connect(ws, "series-changed", G_CALLBACK(on_series_changed), self);
  g_signal_connect(ws, "index-progress", G_CALLBACK(on_progress), self);
  g_signal_connect(ws, "show-series", G_CALLBACK(on_show_series), self);
  g_signal_connect_swapped(ws, "scan-finished", G_CALLBACK(publish_state), self);
  g_signal_connect_swapped(self->series_list, "thumbnail-ready", G_CALLBACK(publish_state), self);
}

void _vigil_window_index_dispose(VigilWindow *self) {
  if (self->series_list)
    g_signal_handlers_disconnect_by_data(self->series_list, self);
  self->indexing_action = NULL; /* the action map owns it */
}
