#include "vigil-measurements.h"

struct _VigilMeasurements {
  GObject parent_instance;
  GPtrArray *items; /* VigilMeasurement*, owned, in the order made */
  guint next_id;
};

G_DEFINE_FINAL_TYPE(VigilMeasurements, vigil_measurements, G_TYPE_OBJECT)

static guint changed_signal;

VigilMeasurements *vigil_measurements_new(void) {
  return g_object_new(VIGIL_TYPE_MEASUREMENTS, NULL);
}

static void changed(VigilMeasurements *self) {
  g_signal_emit(self, changed_signal, 0);
}

static guint add_quietly(VigilMeasurements *self, VigilMeasurement *m) {
  m->id = ++self->next_id;
  g_ptr_array_add(self->items, m);
  return m->id;
}

guint vigil_measurements_add(VigilMeasurements *self, VigilMeasurement *m) {
  guint id = add_quietly(self, m);
  changed(self);
  return id;
}

gboolean vigil_measurements_remove(VigilMeasurements *self, guint id) {
  for (guint i = 0; i < self->items->len; i++)
    if (((VigilMeasurement *)g_ptr_array_index(self->items, i))->id == id) {
      g_ptr_array_remove_index(self->items, i);
      changed(self);
      return TRUE;
    }
  return FALSE;
}

const VigilMeasurement *vigil_measurements_find(VigilMeasurements *self, guint id) {
  for (guint i = 0; i < self->items->len; i++) {
    const VigilMeasurement *m = g_ptr_array_index(self->items, i);
    if (m->id == id)
      return m;
  }
  return NULL;
}

GPtrArray *vigil_measurements_of(VigilMeasurements *self, const char *series_uid, int slice) {
  GPtrArray *out = g_ptr_array_new();
  for (guint i = 0; i < self->items->len; i++) {
    VigilMeasurement *m = g_ptr_array_index(self->items, i);
    if (g_strcmp0(m->series_uid, series_uid ? series_uid : "") == 0 &&
        (slice < 0 || m->slice == slice))
      g_ptr_array_add(out, m);
  }
  return out;
}

void vigil_measurements_save_to(VigilMeasurements *self, VigilSession *session) {
  g_ptr_array_set_size(session->measurements, 0);
  for (guint i = 0; i < self->items->len; i++)
    g_ptr_array_add(session->measurements,
                    vigil_measurement_copy(g_ptr_array_index(self->items, i)));
}

void vigil_measurements_restore_from(VigilMeasurements *self, const VigilSession *session) {
  g_ptr_array_set_size(self->items, 0);
  for (guint i = 0; i < session->measurements->len; i++)
    add_quietly(self, vigil_measurement_copy(g_ptr_array_index(session->measurements, i)));
  changed(self);
}

static void vigil_measurements_finalize(GObject *object) {
  g_ptr_array_unref(VIGIL_MEASUREMENTS(object)->items);
  G_OBJECT_CLASS(vigil_measurements_parent_class)->finalize(object);
}

static void vigil_measurements_class_init(VigilMeasurementsClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = vigil_measurements_finalize;
  changed_signal = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                NULL, NULL, G_TYPE_NONE, 0);
}

static void vigil_measurements_init(VigilMeasurements *self) {
  self->items = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_measurement_free);
}
