/* VigilSeriesList: see vigil-series-list.h. Rows are VigilSeriesRow,
 * recycled by the list view's factory; each row is also a drag source. */
#include "vigil-series-list.h"

#include "vigil-series-row.h"
#include "vigil-thumbnailer.h"

struct _VigilSeriesList {
  AdwBin parent_instance;
  GtkListView *list_view;
  GtkSingleSelection *selection;
  GListStore *items;
  VigilThumbnailer *thumbnailer;
  GHashTable *thumbnails_asked; /* VigilSeriesItem* listed whose thumbnail was requested */
};

G_DEFINE_FINAL_TYPE(VigilSeriesList, vigil_series_list, ADW_TYPE_BIN)

static VigilSeriesDrag *series_drag_copy(const VigilSeriesDrag *d) {
  VigilSeriesDrag *c = g_new(VigilSeriesDrag, 1);
  c->series_uid = g_strdup(d->series_uid);
  c->slice = d->slice;
  return c;
}

static void series_drag_free(VigilSeriesDrag *d) {
  g_free(d->series_uid);
  g_free(d);
}

G_DEFINE_BOXED_TYPE(VigilSeriesDrag, vigil_series_drag, series_drag_copy, series_drag_free)

enum { SIGNAL_SERIES_SELECTED, SIGNAL_THUMBNAIL_READY, N_SIGNALS };
static guint signals[N_SIGNALS];

GtkWidget *vigil_series_list_new(void) {
  return g_object_new(VIGIL_TYPE_SERIES_LIST, NULL);
}

GListModel *vigil_series_list_get_items(VigilSeriesList *self) {
  return G_LIST_MODEL(self->items);
}

void vigil_series_list_clear(VigilSeriesList *self) {
  vigil_thumbnailer_clear_queue(self->thumbnailer);
  g_hash_table_remove_all(self->thumbnails_asked);
  g_list_store_remove_all(self->items);
}

void vigil_series_list_request_thumbnail(VigilSeriesList *self, GObject *owner,
                                         VigilSeriesItem *item) {
  if (g_hash_table_add(self->thumbnails_asked, item))
    vigil_thumbnailer_request(self->thumbnailer, owner, item);
}

static void on_thumbnail_ready(VigilSeriesList *self) {
  g_signal_emit(self, signals[SIGNAL_THUMBNAIL_READY], 0);
}

VigilSeriesItem *vigil_series_list_insert(VigilSeriesList *self, VigilStudy *study,
                                          VigilSeries *series, guint position) {
  g_autoptr(VigilSeriesItem) item = vigil_series_item_new(study, series);
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->items));
  g_list_store_insert(self->items, MIN(position, n), item);
  return item; /* the store holds it */
}

static gboolean find_position(VigilSeriesList *self, const VigilSeries *series, guint *position) {
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->items));
  for (guint i = 0; i < n; i++) {
    g_autoptr(VigilSeriesItem) item = g_list_model_get_item(G_LIST_MODEL(self->items), i);
    if (vigil_series_item_get_series(item) == series) {
      *position = i;
      return TRUE;
    }
  }
  return FALSE;
}

VigilSeriesItem *vigil_series_list_find(VigilSeriesList *self, const VigilSeries *series) {
  guint position;
  if (!find_position(self, series, &position))
    return NULL;
  g_autoptr(VigilSeriesItem) item = g_list_model_get_item(G_LIST_MODEL(self->items), position);
  return item; /* the store holds it */
}

void vigil_series_list_select(VigilSeriesList *self, const VigilSeries *series) {
  guint position;
  if (find_position(self, series, &position))
    gtk_single_selection_set_selected(self->selection, position);
}

guint vigil_series_list_count_thumbnails(VigilSeriesList *self) {
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->items)), count = 0;
  for (guint i = 0; i < n; i++) {
    g_autoptr(VigilSeriesItem) item = g_list_model_get_item(G_LIST_MODEL(self->items), i);
    count += vigil_series_item_get_thumbnail(item) != NULL;
  }
  return count;
}

static void on_selected(VigilSeriesList *self) {
  VigilSeriesItem *item = gtk_single_selection_get_selected_item(self->selection);
  if (item)
    g_signal_emit(self, signals[SIGNAL_SERIES_SELECTED], 0, vigil_series_item_get_series(item));
}

/* A drag from a row carries its series; the row follows the pointer. */
static GdkContentProvider *on_drag_prepare(GtkDragSource *source, double x, double y,
                                           VigilSeriesRow *row) {
  (void)x, (void)y;
  VigilSeriesItem *item = vigil_series_row_get_item(row);
  if (!item)
    return NULL;
  g_autoptr(GdkPaintable) icon = gtk_widget_paintable_new(GTK_WIDGET(row));
  gtk_drag_source_set_icon(source, icon, 16, 16);
  VigilSeriesDrag d = {vigil_series_item_get_series(item)->uid, -1};
  return gdk_content_provider_new_typed(vigil_series_drag_get_type(), &d);
}

static void on_setup_row(GtkSignalListItemFactory *factory, GtkListItem *list_item,
                         gpointer user_data) {
  (void)factory, (void)user_data;
  GtkWidget *row = vigil_series_row_new();
  GtkDragSource *drag = gtk_drag_source_new();
  gtk_drag_source_set_actions(drag, GDK_ACTION_COPY);
  g_signal_connect(drag, "prepare", G_CALLBACK(on_drag_prepare), row);
  gtk_widget_add_controller(row, GTK_EVENT_CONTROLLER(drag));
  gtk_list_item_set_child(list_item, row);
}

static void on_bind_row(GtkSignalListItemFactory *factory, GtkListItem *list_item,
                        gpointer user_data) {
  (void)factory, (void)user_data;
  vigil_series_row_set_item(VIGIL_SERIES_ROW(gtk_list_item_get_child(list_item)),
                            gtk_list_item_get_item(list_item));
}

static void on_unbind_row(GtkSignalListItemFactory *factory, GtkListItem *list_item,
                          gpointer user_data) {
  (void)factory, (void)user_data;
  vigil_series_row_set_item(VIGIL_SERIES_ROW(gtk_list_item_get_child(list_item)), NULL);
}

static void vigil_series_list_dispose(GObject *object) {
  VigilSeriesList *self = VIGIL_SERIES_LIST(object);
  if (self->thumbnailer)
    g_signal_handlers_disconnect_by_data(self->thumbnailer, self);
  g_clear_object(&self->thumbnailer);
  g_clear_pointer(&self->thumbnails_asked, g_hash_table_unref);
  gtk_widget_dispose_template(GTK_WIDGET(object), VIGIL_TYPE_SERIES_LIST);
  G_OBJECT_CLASS(vigil_series_list_parent_class)->dispose(object);
}

static void vigil_series_list_class_init(VigilSeriesListClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = vigil_series_list_dispose;
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/vigil/Vigil/vigil-series-list.ui");
  gtk_widget_class_bind_template_child(widget_class, VigilSeriesList, list_view);
  gtk_widget_class_bind_template_child(widget_class, VigilSeriesList, selection);
  gtk_widget_class_bind_template_child(widget_class, VigilSeriesList, items);
  gtk_widget_class_bind_template_callback(widget_class, on_selected);
  gtk_widget_class_bind_template_callback(widget_class, on_setup_row);
  gtk_widget_class_bind_template_callback(widget_class, on_bind_row);
  gtk_widget_class_bind_template_callback(widget_class, on_unbind_row);
  signals[SIGNAL_SERIES_SELECTED] =
      g_signal_new("series-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_THUMBNAIL_READY] =
      g_signal_new("thumbnail-ready", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 0);
}

static void vigil_series_list_init(VigilSeriesList *self) {
  g_type_ensure(VIGIL_TYPE_SERIES_ITEM);
  gtk_widget_init_template(GTK_WIDGET(self));
  self->thumbnailer = vigil_thumbnailer_new();
  self->thumbnails_asked = g_hash_table_new(NULL, NULL);
  g_signal_connect_swapped(self->thumbnailer, "thumbnail-ready", G_CALLBACK(on_thumbnail_ready),
                           self);
}
