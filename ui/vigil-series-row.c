/* VigilSeriesRow: one series in the sidebar: a thumbnail of its middle
 * slice, its description, modality, slice count and size, "lossy" where its
 * pixels went through lossy compression, and the patient; the transfer
 * syntax on hover. */
#include "vigil-series-row.h"

#define THUMB_PX 48

struct _VigilSeriesRow {
  AdwActionRow parent_instance;
  VigilSeriesItem *item; /* shown, or NULL */
  GtkImage *thumbnail;
};

G_DEFINE_FINAL_TYPE(VigilSeriesRow, vigil_series_row, ADW_TYPE_ACTION_ROW)

static const char *series_title(const VigilSeries *series) {
  return series->description && *series->description ? series->description
         : series->modality && *series->modality     ? series->modality
                                                     : "Series";
}

static void update_text(VigilSeriesRow *self) {
  const VigilSeries *series = vigil_series_item_get_series(self->item);
  const VigilStudy *study = vigil_series_item_get_study(self->item);
  g_autofree char *escaped = g_markup_escape_text(series_title(series), -1);
  adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self), escaped);
  const char *who = study->patient_name && *study->patient_name ? study->patient_name
                    : study->description                        ? study->description
                                                                : "";
  const guint n = series->slices->len;
  const gboolean lossy = vigil_series_lossy_slices(series, NULL) > 0;
  g_autofree char *subtitle = g_markup_printf_escaped(
      "%s · %u slice%s · %d × %d%s%s%s", series->modality ? series->modality : "", n,
      n == 1 ? "" : "s", series->width, series->height, lossy ? " · lossy" : "", *who ? "\n" : "",
      who);
  adw_action_row_set_subtitle(ADW_ACTION_ROW(self), subtitle);
  /* The coding on hover: lossless or not, the radiologist must be able to tell. */
  g_autofree char *syntaxes = vigil_series_transfer_syntaxes(series);
  g_autofree char *tooltip = g_strdup_printf(
      "%s%s", syntaxes,
      lossy ? "\nLossy compressed: fine detail may differ from the acquisition" : "");
  gtk_widget_set_tooltip_text(GTK_WIDGET(self), tooltip);
  /* Screen readers get one sentence instead of markup with separators. */
  g_autofree char *label = g_strdup_printf(
      "%s series %s, %u slice%s, %d by %d%s%s%s", series->modality ? series->modality : "",
      series_title(series), n, n == 1 ? "" : "s", series->width, series->height,
      lossy ? ", lossy compressed" : "", *who ? ", " : "", who);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  g_autofree char *thumb_label = g_strdup_printf("Middle slice of %s", series_title(series));
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->thumbnail), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                 thumb_label, -1);
}

static void update_thumbnail(VigilSeriesRow *self) {
  GdkPaintable *thumbnail = self->item ? vigil_series_item_get_thumbnail(self->item) : NULL;
  if (thumbnail) {
    gtk_image_set_from_paintable(self->thumbnail, thumbnail);
    gtk_widget_remove_css_class(GTK_WIDGET(self->thumbnail), "dim-label");
  } else {
    gtk_image_set_from_icon_name(self->thumbnail, "image-x-generic-symbolic");
    gtk_widget_add_css_class(GTK_WIDGET(self->thumbnail), "dim-label");
  }
}

GtkWidget *vigil_series_row_new(void) {
  return g_object_new(VIGIL_TYPE_SERIES_ROW, NULL);
}

void vigil_series_row_set_item(VigilSeriesRow *self, VigilSeriesItem *item) {
  if (self->item)
    g_signal_handlers_disconnect_by_data(self->item, self);
  g_set_object(&self->item, item);
  if (item) {
    g_signal_connect_swapped(item, "changed", G_CALLBACK(update_text), self);
    g_signal_connect_swapped(item, "notify::thumbnail", G_CALLBACK(update_thumbnail), self);
    update_text(self);
  }
  update_thumbnail(self);
}

VigilSeriesItem *vigil_series_row_get_item(VigilSeriesRow *self) {
  return self->item;
}

static void vigil_series_row_dispose(GObject *object) {
  vigil_series_row_set_item(VIGIL_SERIES_ROW(object), NULL);
  G_OBJECT_CLASS(vigil_series_row_parent_class)->dispose(object);
}

static void vigil_series_row_class_init(VigilSeriesRowClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = vigil_series_row_dispose;
}

static void vigil_series_row_init(VigilSeriesRow *self) {
  self->thumbnail = GTK_IMAGE(gtk_image_new_from_icon_name("image-x-generic-symbolic"));
  gtk_image_set_pixel_size(self->thumbnail, THUMB_PX);
  gtk_widget_set_size_request(GTK_WIDGET(self->thumbnail), THUMB_PX, THUMB_PX);
  gtk_widget_add_css_class(GTK_WIDGET(self->thumbnail), "series-thumbnail");
  adw_action_row_add_prefix(ADW_ACTION_ROW(self), GTK_WIDGET(self->thumbnail));
}
