#include "vigil-measurement-list.h"

struct _VigilMeasurementList {
  GtkBox parent_instance;
  GtkListBox *rows;
  VigilMeasurements *measurements;
  char *series_uid;
};

G_DEFINE_FINAL_TYPE(VigilMeasurementList, vigil_measurement_list, GTK_TYPE_BOX)

enum { SIGNAL_SLICE_ACTIVATED, SIGNAL_SELECTION_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

#define ID_KEY "vigil-measurement-id"
#define SLICE_KEY "vigil-measurement-slice"

static guint row_id(GtkListBoxRow *row) {
  return row ? GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(row), ID_KEY)) : 0;
}

guint vigil_measurement_list_get_selected(VigilMeasurementList *self) {
  return row_id(gtk_list_box_get_selected_row(self->rows));
}

static GtkWidget *new_row(const VigilMeasurement *m) {
  g_autofree char *text = vigil_measurement_describe(m);
  g_autofree char *line = g_strdup_printf("Slice %d: %s", m->slice + 1, text);
  GtkWidget *label = gtk_label_new(line);
  gtk_label_set_wrap(GTK_LABEL(label), TRUE);
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  gtk_widget_set_margin_top(label, 4), gtk_widget_set_margin_bottom(label, 4);
  gtk_widget_set_margin_start(label, 6), gtk_widget_set_margin_end(label, 6);
  GtkWidget *row = gtk_list_box_row_new();
  gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), label);
  g_object_set_data(G_OBJECT(row), ID_KEY, GUINT_TO_POINTER(m->id));
  g_object_set_data(G_OBJECT(row), SLICE_KEY, GINT_TO_POINTER(m->slice));
  gtk_accessible_update_property(GTK_ACCESSIBLE(row), GTK_ACCESSIBLE_PROPERTY_LABEL, line, -1);
  return row;
}

/* Rebuilt on every change: a series has a handful of measurements. */
static void rebuild(VigilMeasurementList *self) {
  guint selected = vigil_measurement_list_get_selected(self);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->rows))))
    gtk_list_box_remove(self->rows, child);
  if (!self->measurements)
    return;
  g_autoptr(GPtrArray) list = vigil_measurements_of(self->measurements, self->series_uid, -1);
  for (guint i = 0; i < list->len; i++) {
    const VigilMeasurement *m = list->pdata[i];
    GtkWidget *row = new_row(m);
    gtk_list_box_append(self->rows, row);
    if (m->id == selected)
      gtk_list_box_select_row(self->rows, GTK_LIST_BOX_ROW(row));
  }
  if (selected && !vigil_measurement_list_get_selected(self))
    g_signal_emit(self, signals[SIGNAL_SELECTION_CHANGED], 0, 0u);
}

void vigil_measurement_list_set_model(VigilMeasurementList *self, VigilMeasurements *measurements) {
  if (self->measurements)
    g_signal_handlers_disconnect_by_data(self->measurements, self);
  g_set_object(&self->measurements, measurements);
  if (measurements)
    g_signal_connect_swapped(measurements, "changed", G_CALLBACK(rebuild), self);
  rebuild(self);
}

void vigil_measurement_list_set_series(VigilMeasurementList *self, const char *series_uid) {
  g_free(self->series_uid);
  self->series_uid = g_strdup(series_uid);
  rebuild(self);
}

static void on_row_activated(GtkListBox *box, GtkListBoxRow *row, VigilMeasurementList *self) {
  (void)box;
  g_signal_emit(self, signals[SIGNAL_SLICE_ACTIVATED], 0,
                GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), SLICE_KEY)));
}

static void on_selected(GtkListBox *box, GtkListBoxRow *row, VigilMeasurementList *self) {
  (void)box;
  g_signal_emit(self, signals[SIGNAL_SELECTION_CHANGED], 0, row_id(row));
}

static gboolean on_key(GtkEventControllerKey *key, guint keyval, guint keycode,
                       GdkModifierType state, VigilMeasurementList *self) {
  (void)key, (void)keycode, (void)state;
  if ((keyval != GDK_KEY_Delete && keyval != GDK_KEY_KP_Delete) ||
      !vigil_measurement_list_get_selected(self))
    return FALSE;
  return gtk_widget_activate_action(GTK_WIDGET(self), "win.delete-measurement", "u", 0u);
}

static void vigil_measurement_list_dispose(GObject *object) {
  VigilMeasurementList *self = VIGIL_MEASUREMENT_LIST(object);
  if (self->measurements)
    g_signal_handlers_disconnect_by_data(self->measurements, self);
  g_clear_object(&self->measurements);
  gtk_widget_dispose_template(GTK_WIDGET(self), VIGIL_TYPE_MEASUREMENT_LIST);
  G_OBJECT_CLASS(vigil_measurement_list_parent_class)->dispose(object);
}

static void vigil_measurement_list_finalize(GObject *object) {
  g_free(VIGIL_MEASUREMENT_LIST(object)->series_uid);
  G_OBJECT_CLASS(vigil_measurement_list_parent_class)->finalize(object);
}

static void vigil_measurement_list_class_init(VigilMeasurementListClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = vigil_measurement_list_dispose;
  object_class->finalize = vigil_measurement_list_finalize;
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/vigil/Vigil/vigil-measurement-list.ui");
  gtk_widget_class_bind_template_child(widget_class, VigilMeasurementList, rows);
  gtk_widget_class_bind_template_callback(widget_class, on_row_activated);
  gtk_widget_class_bind_template_callback(widget_class, on_selected);
  signals[SIGNAL_SLICE_ACTIVATED] =
      g_signal_new("slice-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  signals[SIGNAL_SELECTION_CHANGED] =
      g_signal_new("selection-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void vigil_measurement_list_init(VigilMeasurementList *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  GtkEventController *key = gtk_event_controller_key_new();
  g_signal_connect(key, "key-pressed", G_CALLBACK(on_key), self);
  gtk_widget_add_controller(GTK_WIDGET(self->rows), key);
}
