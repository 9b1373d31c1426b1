/* VigilSeriesItem: see vigil-series-item.h. */
#include "vigil-series-item.h"

struct _VigilSeriesItem {
  GObject parent_instance;
  VigilStudy *study;
  VigilSeries *series;
  GdkPaintable *thumbnail;
};

G_DEFINE_FINAL_TYPE(VigilSeriesItem, vigil_series_item, G_TYPE_OBJECT)

enum { PROP_0, PROP_THUMBNAIL, N_PROPS };
static GParamSpec *props[N_PROPS];
static guint changed_signal;

VigilSeriesItem *vigil_series_item_new(VigilStudy *study, VigilSeries *series) {
  VigilSeriesItem *self = g_object_new(VIGIL_TYPE_SERIES_ITEM, NULL);
  self->study = study;
  self->series = series;
  return self;
}

VigilStudy *vigil_series_item_get_study(VigilSeriesItem *self) {
  return self->study;
}

VigilSeries *vigil_series_item_get_series(VigilSeriesItem *self) {
  return self->series;
}

GdkPaintable *vigil_series_item_get_thumbnail(VigilSeriesItem *self) {
  return self->thumbnail;
}

void vigil_series_item_set_thumbnail(VigilSeriesItem *self, GdkPaintable *thumbnail) {
  if (g_set_object(&self->thumbnail, thumbnail))
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_THUMBNAIL]);
}

void vigil_series_item_changed(VigilSeriesItem *self) {
  g_signal_emit(self, changed_signal, 0);
}

static void vigil_series_item_get_property(GObject *object, guint id, GValue *value,
                                           GParamSpec *pspec) {
  VigilSeriesItem *self = VIGIL_SERIES_ITEM(object);
  if (id == PROP_THUMBNAIL)
    g_value_set_object(value, self->thumbnail);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void vigil_series_item_finalize(GObject *object) {
  g_clear_object(&VIGIL_SERIES_ITEM(object)->thumbnail);
  G_OBJECT_CLASS(vigil_series_item_parent_class)->finalize(object);
}

static void vigil_series_item_class_init(VigilSeriesItemClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = vigil_series_item_get_property;
  object_class->finalize = vigil_series_item_finalize;
  props[PROP_THUMBNAIL] = g_param_spec_object("thumbnail", NULL, NULL, GDK_TYPE_PAINTABLE,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
  changed_signal = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                NULL, NULL, G_TYPE_NONE, 0);
}

static void vigil_series_item_init(VigilSeriesItem *self) {
  (void)self;
}
