/* VigilCine: plays a series. Each tick of the view's frame clock moves to
 * the slice due at that time (start + elapsed * rate), so the rate holds
 * whatever the display's refresh; at rates above it slices are skipped. */
#include "vigil-cine.h"

#include <math.h>

#define MIN_RATE 0.5
#define MAX_RATE 120.0

struct _VigilCine {
  GObject parent_instance;
  VigilSliceView *view; /* not owned */
  double rate;
  guint tick_id;   /* 0: stopped */
  gint64 start_us; /* frame time of the first tick; 0 before it */
  guint64 stepped; /* slices due since start_us */
  guint shown;     /* ticks that showed a new slice; the rest of stepped were skipped */
  double played;   /* seconds from start_us to the latest tick */
};

G_DEFINE_FINAL_TYPE(VigilCine, vigil_cine, G_TYPE_OBJECT)

enum { PROP_0, PROP_PLAYING, PROP_RATE, N_PROPS };
static GParamSpec *props[N_PROPS];

VigilCine *vigil_cine_new(VigilSliceView *view) {
  VigilCine *self = g_object_new(VIGIL_TYPE_CINE, NULL);
  self->view = view;
  return self;
}

static gboolean on_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer data) {
  VigilCine *self = data;
  const gint64 now = gdk_frame_clock_get_frame_time(clock);
  if (self->start_us == 0)
    self->start_us = now;
  self->played = (now - self->start_us) / 1e6;
  const guint64 due = (guint64)floor(self->played * self->rate);
  const int n = vigil_slice_view_get_slice_count(VIGIL_SLICE_VIEW(widget));
  if (due > self->stepped && n > 1) {
    const int step = (int)((due - self->stepped) % (guint64)n);
    const int slice = vigil_slice_view_get_slice(VIGIL_SLICE_VIEW(widget));
    vigil_slice_view_set_slice(VIGIL_SLICE_VIEW(widget), (slice + step) % n); /* loops */
    self->stepped = due;
    self->shown++;
  }
  return G_SOURCE_CONTINUE;
}

void vigil_cine_set_playing(VigilCine *self, gboolean playing) {
  if (playing && vigil_slice_view_get_slice_count(self->view) < 2)
    playing = FALSE;
  if (!playing == !self->tick_id)
    return;
  if (playing) {
    self->start_us = 0, self->stepped = 0, self->shown = 0, self->played = 0;
    self->tick_id = gtk_widget_add_tick_callback(GTK_WIDGET(self->view), on_tick, self, NULL);
  } else {
    gtk_widget_remove_tick_callback(GTK_WIDGET(self->view), self->tick_id);
    self->tick_id = 0;
  }
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PLAYING]);
}

gboolean vigil_cine_get_playing(VigilCine *self) {
  return self->tick_id != 0;
}

/* A new rate counts from now: what was played stays played. */
void vigil_cine_set_rate(VigilCine *self, double fps) {
  fps = CLAMP(isfinite(fps) ? fps : MIN_RATE, MIN_RATE, MAX_RATE);
  if (fps == self->rate)
    return;
  self->rate = fps;
  if (self->tick_id)
    self->start_us = 0, self->stepped = 0, self->shown = 0, self->played = 0;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_RATE]);
}

double vigil_cine_get_rate(VigilCine *self) {
  return self->rate;
}

void vigil_cine_get_stats(VigilCine *self, guint *shown, guint *skipped, double *seconds) {
  *shown = self->shown;
  *skipped = (guint)(self->stepped - self->shown);
  *seconds = self->played;
}

static void vigil_cine_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  VigilCine *self = VIGIL_CINE(object);
  switch (id) {
  case PROP_PLAYING: g_value_set_boolean(value, vigil_cine_get_playing(self)); break;
  case PROP_RATE: g_value_set_double(value, self->rate); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void vigil_cine_set_property(GObject *object, guint id, const GValue *value,
                                    GParamSpec *pspec) {
  VigilCine *self = VIGIL_CINE(object);
  switch (id) {
  case PROP_PLAYING: vigil_cine_set_playing(self, g_value_get_boolean(value)); break;
  case PROP_RATE: vigil_cine_set_rate(self, g_value_get_double(value)); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void vigil_cine_class_init(VigilCineClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = vigil_cine_get_property;
  object_class->set_property = vigil_cine_set_property;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  props[PROP_PLAYING] = g_param_spec_boolean("playing", NULL, NULL, FALSE, rw);
  props[PROP_RATE] = g_param_spec_double("rate", NULL, NULL, MIN_RATE, MAX_RATE, 10, rw);
  g_object_class_install_properties(object_class, N_PROPS, props);
}

static void vigil_cine_init(VigilCine *self) {
  self->rate = 10;
}
