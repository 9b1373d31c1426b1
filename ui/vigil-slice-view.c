/* VigilSliceView: one slice of a scan, drawn with GtkSnapshot.
 *
 * Wheel scrolls slices, Ctrl+wheel or pinch zooms around the pointer, primary drag
 * pans, secondary drag (or the W/L tool) changes window/level, double-click
 * fits. A secondary click without motion, a long press or the Menu key opens
 * the context menu. Corner text (vigil-slice-annotations.c) shows the patient, study,
 * series, slice, window, zoom and the value under the pointer; letters at the edges
 * show the orientation. The view turns, flips and inverts the slice
 * (vigil-view-geometry.c maps points). Pixel spacing sets the aspect ratio. */
#include "vigil-slice-view.h"

#include "vigil-slice-annotations.h"
#include "vigil-slice-paint.h"
#include "vigil-texture-cache.h"
#include "vigil-view-geometry.h"
#include "vigil-window-level.h"

#include <math.h>
#include <string.h>

#define MIN_ZOOM 0.1
#define MAX_ZOOM 40.0
#define TEXTURE_CACHE_BYTES (128u << 20) /* 128 windowed 512 x 512 slices */

struct _VigilSliceView {
  GtkWidget parent_instance;
  VigilImage *image;
  VigilWindowed *shown;    /* `image` windowed, made when drawn */
  gconstpointer image_key; /* names `image` in the texture cache, or NULL */
  VigilTextureCache *textures;
  double center, width;                 /* current window */
  double default_center, default_width; /* what reset returns to */
  double zoom, pan_x, pan_y;
  int slice, slice_count;
  char *value_unit;
  gboolean pointer_inside;
  double pointer_x, pointer_y;
  gboolean adjusting_window; /* the active drag changes W/L, not pan */
  VigilMap overlay;          /* values == NULL: none */
  double overlay_lo, overlay_hi, overlay_opacity, overlay_threshold;
  char *legend_title; /* the legend's scale, e.g. "calibrated" */
  VigilColormap colormap;
  GdkTexture *overlay_texture;
  double drag_center, drag_width, drag_pan_x, drag_pan_y;
  double pinch_zoom;       /* zoom when the pinch began */
  GtkWidget *context_menu; /* a GtkPopoverMenu parented to the view, or NULL */
  VigilViewTransform transform;
  gboolean corner_text; /* FALSE: the orientation letters only */
  VigilSliceAnnotations *annotations;
  VigilSliceViewPainter painter, widget_painter; /* image space; widget space, drawn last */
  gpointer painter_data, widget_painter_data;
};

/* A secondary press that moves less than this is a click, not a W/L drag. */
#define CLICK_SLOP 4.0

G_DEFINE_FINAL_TYPE(VigilSliceView, vigil_slice_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SLICE,
  PROP_SLICE_COUNT,
  PROP_ZOOM,
  PROP_WINDOW_CENTER,
  PROP_WINDOW_WIDTH,
  PROP_CORNER_TEXT,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum { SIGNAL_TRANSFORM_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

GtkWidget *vigil_slice_view_new(void) {
  return g_object_new(VIGIL_TYPE_SLICE_VIEW, NULL);
}

static void geometry(VigilSliceView *self, VigilViewGeometry *g) {
  vigil_view_geometry_init(g, self->image->width, self->image->height, self->image->pixel_spacing,
                           gtk_widget_get_width(GTK_WIDGET(self)),
                           gtk_widget_get_height(GTK_WIDGET(self)), self->zoom, self->pan_x,
                           self->pan_y, &self->transform);
}

gboolean vigil_slice_view_widget_to_image(VigilSliceView *self, double x, double y, double *ix,
                                          double *iy) {
  if (!self->image)
    return FALSE;
  VigilViewGeometry g;
  geometry(self, &g);
  vigil_view_geometry_to_image(&g, x, y, ix, iy);
  return TRUE;
}

gboolean vigil_slice_view_image_to_widget(VigilSliceView *self, double ix, double iy, double *x,
                                          double *y) {
  if (!self->image)
    return FALSE;
  VigilViewGeometry g;
  geometry(self, &g);
  vigil_view_geometry_to_widget(&g, ix, iy, x, y);
  return TRUE;
}

void vigil_slice_view_set_widget_painter(VigilSliceView *self, VigilSliceViewPainter painter,
                                         gpointer data) {
  self->widget_painter = painter;
  self->widget_painter_data = data;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean vigil_slice_view_widget_to_pixel(VigilSliceView *self, double x, double y, int *px,
                                          int *py) {
  double ix, iy;
  if (!vigil_slice_view_widget_to_image(self, x, y, &ix, &iy) || ix < 0 || iy < 0 ||
      ix >= self->image->width || iy >= self->image->height)
    return FALSE;
  *px = (int)ix;
  *py = (int)iy;
  return TRUE;
}

gboolean vigil_slice_view_has_texture(VigilSliceView *self, gconstpointer key, double center,
                                      double width) {
  return vigil_texture_cache_contains(self->textures, key, center, width);
}

void vigil_slice_view_add_pixels(VigilSliceView *self, gconstpointer key, double center,
                                 double width, GBytes *bgra, int img_width, int img_height) {
  g_autoptr(VigilWindowed) w = vigil_windowed_new(g_bytes_ref(bgra), img_width, img_height);
  if (w)
    vigil_texture_cache_insert(self->textures, key, center, width, w);
}

void vigil_slice_view_forget_textures(VigilSliceView *self) {
  vigil_texture_cache_clear(self->textures);
}

static void rebuild_texture(VigilSliceView *self) {
  g_clear_pointer(&self->shown, vigil_windowed_unref);
  if (!self->image)
    return;
  const VigilImage *im = self->image;
  if (self->image_key)
    self->shown =
        vigil_texture_cache_lookup(self->textures, self->image_key, self->center, self->width);
  if (self->shown && vigil_windowed_width(self->shown) == im->width &&
      vigil_windowed_height(self->shown) == im->height)
    return;
  g_clear_pointer(&self->shown, vigil_windowed_unref);
  GBytes *bytes = g_bytes_new_take(vigil_window_level_to_bgra32(im, self->center, self->width),
                                   (gsize)im->width * im->height * 4);
  self->shown = vigil_windowed_new(bytes, im->width, im->height);
  if (self->image_key)
    vigil_texture_cache_insert(self->textures, self->image_key, self->center, self->width,
                               self->shown);
}

static void rebuild_overlay_texture(VigilSliceView *self) {
  g_clear_object(&self->overlay_texture);
  if (!self->overlay.values)
    return;
  const VigilMap *m = &self->overlay;
  gsize n = (gsize)m->width * m->height;
  guint32 *argb = g_new(guint32, n);
  vigil_map_to_argb(m, self->overlay_lo, self->overlay_hi, -INFINITY, self->overlay_opacity,
                    self->colormap, argb);
  g_autoptr(GBytes) bytes = g_bytes_new_take(argb, n * 4);
  self->overlay_texture =
      gdk_memory_texture_new(m->width, m->height, GDK_MEMORY_DEFAULT, bytes, (gsize)m->width * 4);
}

/* r: the image in its own pixels; (tx, ty): half a line's width in them. */
static void add_overlay(VigilSliceView *self, GtkSnapshot *snapshot, const graphene_rect_t *r,
                        double tx, double ty) {
  if (!self->overlay_texture)
    rebuild_overlay_texture(self);
  gtk_snapshot_append_texture(snapshot, self->overlay_texture, r);
  vigil_slice_paint_contour(snapshot, &self->overlay, self->overlay_threshold, r, tx, ty);
}

static void annotation_state(VigilSliceView *self, VigilAnnotationState *st, char *readout) {
  *st = (VigilAnnotationState){.slice = self->slice,
                               .slice_count = self->slice_count,
                               .center = self->center,
                               .width = self->width,
                               .zoom = self->zoom,
                               .rgb = self->image && self->image->kind != VIGIL_IMAGE_GRAY,
                               .readout = readout,
                               .transform = &self->transform,
                               .legend = self->overlay.values != NULL};
}

char *vigil_slice_view_describe_annotations(VigilSliceView *self) {
  VigilAnnotationState st;
  annotation_state(self, &st, NULL);
  return vigil_slice_annotations_describe(self->annotations, &st, self->corner_text && self->image);
}

/* The slice, its overlay and the painter's marks, in image pixels. */
static void add_image(VigilSliceView *self, GtkSnapshot *snapshot, const VigilViewGeometry *g) {
  const graphene_rect_t area = GRAPHENE_RECT_INIT(0, 0, g->width, g->height);
  if (self->transform.invert)
    vigil_slice_paint_push_invert(snapshot);
  if (!vigil_slice_paint_windowed(GTK_WIDGET(self), snapshot, self->shown, g)) {
    vigil_slice_paint_push_transform(snapshot, g, &self->transform);
    gtk_snapshot_append_texture(snapshot, vigil_windowed_texture(self->shown), &area);
    gtk_snapshot_restore(snapshot);
  }
  if (self->transform.invert)
    gtk_snapshot_pop(snapshot);
  vigil_slice_paint_push_transform(snapshot, g, &self->transform);
  if (self->overlay.values)
    add_overlay(self, snapshot, &area, 0.75 / g->scale_x, 0.75 / g->scale_y);
  if (self->painter)
    self->painter(snapshot, g->scale_y, self->painter_data);
  gtk_snapshot_restore(snapshot);
}

const char *vigil_slice_view_get_legend_title(VigilSliceView *self) {
  return self->legend_title;
}

void vigil_slice_view_set_legend_title(VigilSliceView *self, const char *title) {
  if (g_strcmp0(title, self->legend_title) == 0)
    return;
  g_free(self->legend_title);
  self->legend_title = g_strdup(title);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void vigil_slice_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  VigilSliceView *self = VIGIL_SLICE_VIEW(widget);
  double vw = gtk_widget_get_width(widget), vh = gtk_widget_get_height(widget);
  gtk_snapshot_append_color(snapshot, &(GdkRGBA){0, 0, 0, 1}, &GRAPHENE_RECT_INIT(0, 0, vw, vh));
  if (!self->image)
    return;
  if (!self->shown)
    rebuild_texture(self);
  VigilViewGeometry g;
  geometry(self, &g);
  gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(0, 0, vw, vh));
  add_image(self, snapshot, &g);
  gtk_snapshot_pop(snapshot);
  if (self->overlay.values)
    vigil_slice_paint_legend(widget, snapshot, self->colormap, self->overlay_lo, self->overlay_hi,
                             self->overlay_threshold, self->legend_title);
  int px, py;
  g_autofree char *readout =
      self->corner_text && self->pointer_inside &&
              vigil_slice_view_widget_to_pixel(self, self->pointer_x, self->pointer_y, &px, &py)
          ? vigil_slice_annotations_readout(self->image, &self->overlay, px, py, self->value_unit)
          : NULL;
  VigilAnnotationState st;
  annotation_state(self, &st, readout);
  vigil_slice_annotations_draw(self->annotations, widget, snapshot, &st, self->corner_text);
  if (self->widget_painter)
    self->widget_painter(snapshot, sqrt(g.scale_x * g.scale_y), self->widget_painter_data);
}

void vigil_slice_view_set_overlay(VigilSliceView *self, const VigilMap *map, double lo, double hi) {
  g_clear_pointer(&self->overlay.values, g_free);
  g_clear_object(&self->overlay_texture);
  if (map && map->width > 0 && map->height > 0) {
    self->overlay.width = map->width;
    self->overlay.height = map->height;
    self->overlay.values = g_memdup2(map->values, (gsize)map->width * map->height * sizeof(float));
  }
  self->overlay_lo = lo;
  self->overlay_hi = hi;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vigil_slice_view_set_overlay_style(VigilSliceView *self, double opacity,
                                        VigilColormap colormap, double threshold) {
  self->overlay_opacity = CLAMP(opacity, 0, 1);
  self->colormap = colormap;
  self->overlay_threshold = threshold;
  g_clear_object(&self->overlay_texture);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean vigil_slice_view_has_overlay(VigilSliceView *self) {
  return self->overlay.values != NULL;
}

gboolean vigil_slice_view_get_overlay(VigilSliceView *self, VigilMap *map, double *lo, double *hi) {
  *map = self->overlay;
  *lo = self->overlay_lo;
  *hi = self->overlay_hi;
  return self->overlay.values != NULL;
}

const VigilImage *vigil_slice_view_get_image(VigilSliceView *self) {
  return self->image;
}

void vigil_slice_view_set_default_window(VigilSliceView *self, double center, double width) {
  self->default_center = center;
  self->default_width = MAX(width, 1);
}

void vigil_slice_view_set_window(VigilSliceView *self, double center, double width) {
  width = MAX(width, 1);
  if (center == self->center && width == self->width)
    return;
  self->center = center;
  self->width = width;
  g_clear_pointer(&self->shown, vigil_windowed_unref);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_WINDOW_CENTER]);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_WINDOW_WIDTH]);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vigil_slice_view_get_window(VigilSliceView *self, double *center, double *width) {
  *center = self->center;
  *width = self->width;
}

void vigil_slice_view_set_image(VigilSliceView *self, VigilImage *image, gboolean reset_window) {
  vigil_slice_view_set_image_keyed(self, image, NULL, reset_window);
}

void vigil_slice_view_set_image_keyed(VigilSliceView *self, VigilImage *image, gconstpointer key,
                                      gboolean reset_window) {
  g_clear_pointer(&self->image, vigil_image_free);
  g_clear_pointer(&self->shown, vigil_windowed_unref);
  self->image = image;
  self->image_key = image ? key : NULL;
  if (image && reset_window)
    vigil_slice_view_set_window(self, self->default_center, self->default_width);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vigil_slice_view_set_slice_count(VigilSliceView *self, int count) {
  self->slice_count = MAX(count, 0);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_SLICE_COUNT]);
  vigil_slice_view_set_slice(self, self->slice);
}

int vigil_slice_view_get_slice_count(VigilSliceView *self) {
  return self->slice_count;
}

void vigil_slice_view_set_slice(VigilSliceView *self, int slice) {
  slice = self->slice_count > 0 ? CLAMP(slice, 0, self->slice_count - 1) : 0;
  if (slice == self->slice)
    return;
  self->slice = slice;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_SLICE]);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

int vigil_slice_view_get_slice(VigilSliceView *self) {
  return self->slice;
}

void vigil_slice_view_set_zoom(VigilSliceView *self, double zoom) {
  zoom = CLAMP(zoom, MIN_ZOOM, MAX_ZOOM);
  if (zoom == self->zoom)
    return;
  self->zoom = zoom;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ZOOM]);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

double vigil_slice_view_get_zoom(VigilSliceView *self) {
  return self->zoom;
}

/* Keeps the image point under (x, y) where it is while the scale changes. */
void vigil_slice_view_zoom_at(VigilSliceView *self, double factor, double x, double y) {
  double ix, iy;
  if (!vigil_slice_view_widget_to_image(self, x, y, &ix, &iy)) {
    vigil_slice_view_set_zoom(self, self->zoom * factor);
    return;
  }
  vigil_slice_view_set_zoom(self, self->zoom * factor);
  double nx, ny;
  vigil_slice_view_image_to_widget(self, ix, iy, &nx, &ny);
  self->pan_x += x - nx;
  self->pan_y += y - ny;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vigil_slice_view_fit(VigilSliceView *self) {
  self->pan_x = self->pan_y = 0;
  vigil_slice_view_set_zoom(self, 1.0);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vigil_slice_view_reset(VigilSliceView *self) {
  vigil_slice_view_fit(self);
  vigil_slice_view_set_window(self, self->default_center, self->default_width);
  vigil_slice_view_set_transform(self, &(VigilViewTransform){0});
}

void vigil_slice_view_set_transform(VigilSliceView *self, const VigilViewTransform *t) {
  VigilViewTransform next = *t;
  vigil_view_transform_rotate(&next, 0); /* 0..3 */
  if (memcmp(&next, &self->transform, sizeof next) == 0)
    return;
  self->transform = next;
  g_signal_emit(self, signals[SIGNAL_TRANSFORM_CHANGED], 0);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vigil_slice_view_get_transform(VigilSliceView *self, VigilViewTransform *t) {
  *t = self->transform;
}

void vigil_slice_view_rotate(VigilSliceView *self, int quarter_turns) {
  VigilViewTransform t = self->transform;
  vigil_view_transform_rotate(&t, quarter_turns);
  vigil_slice_view_set_transform(self, &t);
}

void vigil_slice_view_flip(VigilSliceView *self, gboolean horizontal) {
  VigilViewTransform t = self->transform;
  vigil_view_transform_flip(&t, horizontal);
  vigil_slice_view_set_transform(self, &t);
}

void vigil_slice_view_set_inverted(VigilSliceView *self, gboolean inverted) {
  VigilViewTransform t = self->transform;
  t.invert = inverted;
  vigil_slice_view_set_transform(self, &t);
}

void vigil_slice_view_set_corner_text(VigilSliceView *self, gboolean shown) {
  if (!shown == !self->corner_text)
    return;
  self->corner_text = shown;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CORNER_TEXT]);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean vigil_slice_view_get_corner_text(VigilSliceView *self) {
  return self->corner_text;
}

void vigil_slice_view_set_slice_info(VigilSliceView *self, const VigilSliceInfo *info,
                                     double location) {
  vigil_slice_annotations_set_info(self->annotations, info, location);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vigil_slice_view_set_image_painter(VigilSliceView *self, VigilSliceViewPainter painter,
                                        gpointer data) {
  self->painter = painter;
  self->painter_data = data;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vigil_slice_view_set_value_unit(VigilSliceView *self, const char *unit) {
  g_free(self->value_unit);
  self->value_unit = g_strdup(unit);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static gboolean on_scroll(GtkEventControllerScroll *controller, double dx, double dy,
                          gpointer user_data) {
  (void)dx;
  VigilSliceView *self = user_data;
  GdkModifierType mods =
      gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(controller));
  if (mods & GDK_CONTROL_MASK) {
    vigil_slice_view_zoom_at(self, pow(1.15, -dy), self->pointer_x, self->pointer_y);
    return TRUE;
  }
  if (dy != 0)
    vigil_slice_view_set_slice(self, self->slice + (dy > 0 ? 1 : -1));
  return TRUE;
}

static void on_motion(GtkEventControllerMotion *motion, double x, double y, gpointer user_data) {
  (void)motion;
  VigilSliceView *self = user_data;
  self->pointer_inside = TRUE;
  self->pointer_x = x;
  self->pointer_y = y;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void on_leave(GtkEventControllerMotion *motion, gpointer user_data) {
  (void)motion;
  VigilSliceView *self = user_data;
  self->pointer_inside = FALSE;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void on_drag_begin(GtkGestureDrag *gesture, double x, double y, gpointer user_data) {
  (void)x, (void)y;
  VigilSliceView *self = user_data;
  guint button = gtk_gesture_single_get_current_button(GTK_GESTURE_SINGLE(gesture));
  self->adjusting_window = button == GDK_BUTTON_SECONDARY;
  self->drag_center = self->center;
  self->drag_width = self->width;
  self->drag_pan_x = self->pan_x;
  self->drag_pan_y = self->pan_y;
  gtk_widget_grab_focus(GTK_WIDGET(self));
}

/* Right-drag: horizontal changes the width, vertical the level, at a rate
 * proportional to the current width so both CT and 8-bit data feel the same. */
static void on_drag_update(GtkGestureDrag *gesture, double dx, double dy, gpointer user_data) {
  (void)gesture;
  VigilSliceView *self = user_data;
  if (self->adjusting_window) {
    double rate = MAX(self->drag_width, 10) / 250.0;
    vigil_slice_view_set_window(self, self->drag_center + dy * rate, self->drag_width + dx * rate);
    return;
  }
  self->pan_x = self->drag_pan_x + dx;
  self->pan_y = self->drag_pan_y + dy;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void on_drag_end(GtkGestureDrag *gesture, double dx, double dy, gpointer user_data) {
  VigilSliceView *self = user_data;
  if (!self->adjusting_window || hypot(dx, dy) >= CLICK_SLOP)
    return;
  /* A right click: undo the tiny W/L change and open the menu there. */
  double x, y;
  gtk_gesture_drag_get_start_point(gesture, &x, &y);
  vigil_slice_view_set_window(self, self->drag_center, self->drag_width);
  vigil_slice_view_popup_menu(self, x, y);
}

static void on_long_press(GtkGestureLongPress *press, double x, double y, gpointer user_data) {
  (void)press;
  vigil_slice_view_popup_menu(user_data, x, y);
}

void vigil_slice_view_set_context_menu(VigilSliceView *self, GMenuModel *menu) {
  if (self->context_menu)
    gtk_popover_menu_set_menu_model(GTK_POPOVER_MENU(self->context_menu), menu);
  else if (menu) {
    self->context_menu = gtk_popover_menu_new_from_model(menu);
    gtk_widget_set_parent(self->context_menu, GTK_WIDGET(self));
    gtk_popover_set_has_arrow(GTK_POPOVER(self->context_menu), FALSE);
    gtk_widget_set_halign(self->context_menu, GTK_ALIGN_START);
  }
}

gboolean vigil_slice_view_popup_menu(VigilSliceView *self, double x, double y) {
  if (!self->context_menu)
    return FALSE;
  GdkRectangle at = {(int)x, (int)y, 1, 1};
  gtk_popover_set_pointing_to(GTK_POPOVER(self->context_menu), &at);
  gtk_popover_popup(GTK_POPOVER(self->context_menu));
  return TRUE;
}

GtkWidget *vigil_slice_view_get_context_popover(VigilSliceView *self) {
  return self->context_menu;
}

/* menu.popup (Menu, Shift+F10): the menu at the middle of the view. */
static void popup_action(GtkWidget *widget, const char *name, GVariant *param) {
  (void)name, (void)param;
  vigil_slice_view_popup_menu(VIGIL_SLICE_VIEW(widget), gtk_widget_get_width(widget) / 2.0,
                              gtk_widget_get_height(widget) / 2.0);
}

static void vigil_slice_view_size_allocate(GtkWidget *widget, int width, int height, int baseline) {
  (void)width, (void)height, (void)baseline;
  VigilSliceView *self = VIGIL_SLICE_VIEW(widget);
  if (self->context_menu)
    gtk_popover_present(GTK_POPOVER(self->context_menu));
}

static void on_pressed(GtkGestureClick *click, int n_press, double x, double y,
                       gpointer user_data) {
  (void)click, (void)x, (void)y;
  if (n_press == 2)
    vigil_slice_view_fit(user_data);
}

/* Keys of the view's look (the viewers' I for invert; brackets turn, H and V
 * flip, T the corner text) and Space for cine, which the window plays. */
static gboolean on_view_key(VigilSliceView *self, guint keyval, GdkModifierType state) {
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK | GDK_META_MASK))
    return FALSE; /* Ctrl+V and the like are someone else's */
  switch (keyval) {
  case GDK_KEY_i:
  case GDK_KEY_I: vigil_slice_view_set_inverted(self, !self->transform.invert); return TRUE;
  case GDK_KEY_bracketright: vigil_slice_view_rotate(self, 1); return TRUE;
  case GDK_KEY_bracketleft: vigil_slice_view_rotate(self, -1); return TRUE;
  case GDK_KEY_h:
  case GDK_KEY_H: vigil_slice_view_flip(self, TRUE); return TRUE;
  case GDK_KEY_v:
  case GDK_KEY_V: vigil_slice_view_flip(self, FALSE); return TRUE;
  case GDK_KEY_t:
  case GDK_KEY_T: vigil_slice_view_set_corner_text(self, !self->corner_text); return TRUE;
  case GDK_KEY_space: return gtk_widget_activate_action(GTK_WIDGET(self), "win.cine", NULL);
  default: return FALSE;
  }
}

static gboolean on_key(GtkEventControllerKey *key, guint keyval, guint keycode,
                       GdkModifierType state, gpointer user_data) {
  (void)key, (void)keycode;
  VigilSliceView *self = user_data;
  double cx = gtk_widget_get_width(GTK_WIDGET(self)) / 2.0;
  double cy = gtk_widget_get_height(GTK_WIDGET(self)) / 2.0;
  switch (keyval) {
  case GDK_KEY_Page_Up:
  case GDK_KEY_Up:
  case GDK_KEY_Left: vigil_slice_view_set_slice(self, self->slice - 1); return TRUE;
  case GDK_KEY_Page_Down:
  case GDK_KEY_Down:
  case GDK_KEY_Right: vigil_slice_view_set_slice(self, self->slice + 1); return TRUE;
  case GDK_KEY_Home: vigil_slice_view_set_slice(self, 0); return TRUE;
  case GDK_KEY_End: vigil_slice_view_set_slice(self, self->slice_count - 1); return TRUE;
  case GDK_KEY_plus:
  case GDK_KEY_equal:
  case GDK_KEY_KP_Add: vigil_slice_view_zoom_at(self, 1.25, cx, cy); return TRUE;
  case GDK_KEY_minus:
  case GDK_KEY_KP_Subtract: vigil_slice_view_zoom_at(self, 1 / 1.25, cx, cy); return TRUE;
  case GDK_KEY_0:
  case GDK_KEY_KP_0: vigil_slice_view_fit(self); return TRUE;
  case GDK_KEY_r:
  case GDK_KEY_R: vigil_slice_view_reset(self); return TRUE;
  default: return on_view_key(self, keyval, state);
  }
}

static void vigil_slice_view_get_property(GObject *object, guint id, GValue *value,
                                          GParamSpec *pspec) {
  VigilSliceView *self = VIGIL_SLICE_VIEW(object);
  switch (id) {
  case PROP_SLICE: g_value_set_int(value, self->slice); break;
  case PROP_SLICE_COUNT: g_value_set_int(value, self->slice_count); break;
  case PROP_ZOOM: g_value_set_double(value, self->zoom); break;
  case PROP_WINDOW_CENTER: g_value_set_double(value, self->center); break;
  case PROP_WINDOW_WIDTH: g_value_set_double(value, self->width); break;
  case PROP_CORNER_TEXT: g_value_set_boolean(value, self->corner_text); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void vigil_slice_view_set_property(GObject *object, guint id, const GValue *value,
                                          GParamSpec *pspec) {
  VigilSliceView *self = VIGIL_SLICE_VIEW(object);
  switch (id) {
  case PROP_SLICE: vigil_slice_view_set_slice(self, g_value_get_int(value)); break;
  case PROP_SLICE_COUNT: vigil_slice_view_set_slice_count(self, g_value_get_int(value)); break;
  case PROP_ZOOM: vigil_slice_view_set_zoom(self, g_value_get_double(value)); break;
  case PROP_WINDOW_CENTER:
    vigil_slice_view_set_window(self, g_value_get_double(value), self->width);
    break;
  case PROP_WINDOW_WIDTH:
    vigil_slice_view_set_window(self, self->center, g_value_get_double(value));
    break;
  case PROP_CORNER_TEXT: vigil_slice_view_set_corner_text(self, g_value_get_boolean(value)); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void vigil_slice_view_dispose(GObject *object) {
  VigilSliceView *self = VIGIL_SLICE_VIEW(object);
  g_clear_pointer(&self->context_menu, gtk_widget_unparent);
  G_OBJECT_CLASS(vigil_slice_view_parent_class)->dispose(object);
}

static void vigil_slice_view_finalize(GObject *object) {
  VigilSliceView *self = VIGIL_SLICE_VIEW(object);
  g_clear_pointer(&self->image, vigil_image_free);
  g_clear_pointer(&self->shown, vigil_windowed_unref);
  vigil_texture_cache_free(self->textures);
  g_clear_object(&self->overlay_texture);
  g_free(self->overlay.values);
  g_free(self->value_unit);
  vigil_slice_annotations_free(self->annotations);
  g_free(self->legend_title);
  G_OBJECT_CLASS(vigil_slice_view_parent_class)->finalize(object);
}

static void vigil_slice_view_class_init(VigilSliceViewClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = vigil_slice_view_dispose;
  object_class->finalize = vigil_slice_view_finalize;
  widget_class->size_allocate = vigil_slice_view_size_allocate;
  gtk_widget_class_install_action(widget_class, "menu.popup", NULL, popup_action);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Menu, 0, "menu.popup", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, "menu.popup",
                                      NULL);
  object_class->get_property = vigil_slice_view_get_property;
  object_class->set_property = vigil_slice_view_set_property;
  widget_class->snapshot = vigil_slice_view_snapshot;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  props[PROP_SLICE] = g_param_spec_int("slice", NULL, NULL, 0, G_MAXINT, 0, rw);
  props[PROP_SLICE_COUNT] = g_param_spec_int("slice-count", NULL, NULL, 0, G_MAXINT, 0, rw);
  props[PROP_ZOOM] = g_param_spec_double("zoom", NULL, NULL, MIN_ZOOM, MAX_ZOOM, 1, rw);
  props[PROP_WINDOW_CENTER] =
      g_param_spec_double("window-center", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 127.5, rw);
  props[PROP_WINDOW_WIDTH] =
      g_param_spec_double("window-width", NULL, NULL, 1, G_MAXDOUBLE, 256, rw);
  props[PROP_CORNER_TEXT] = g_param_spec_boolean("corner-text", NULL, NULL, TRUE, rw);
  g_object_class_install_properties(object_class, N_PROPS, props);
  /* A turn, flip or inversion: the window keeps it per series. */
  signals[SIGNAL_TRANSFORM_CHANGED] =
      g_signal_new("transform-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_css_name(widget_class, "slice-view");
  gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

/* Pinch (touchpad or touchscreen) zooms around the fingers' centre, like
 * Ctrl+wheel around the pointer; the gesture's scale is relative to its start. */
static void on_pinch_begin(GtkGesture *gesture, GdkEventSequence *sequence, gpointer user_data) {
  (void)gesture, (void)sequence;
  VigilSliceView *self = user_data;
  self->pinch_zoom = self->zoom;
}

static void on_pinch(GtkGestureZoom *gesture, double scale, gpointer user_data) {
  VigilSliceView *self = user_data;
  double x, y;
  if (!gtk_gesture_get_bounding_box_center(GTK_GESTURE(gesture), &x, &y) || scale <= 0)
    return;
  vigil_slice_view_zoom_at(self, self->pinch_zoom * scale / self->zoom, x, y);
}

static void vigil_slice_view_init(VigilSliceView *self) {
  GtkWidget *widget = GTK_WIDGET(self);
  self->zoom = 1;
  self->center = self->default_center = 127.5;
  self->width = self->default_width = 256;
  self->overlay_opacity = 0.5;
  self->overlay_threshold = NAN;
  self->textures = vigil_texture_cache_new(TEXTURE_CACHE_BYTES);
  self->annotations = vigil_slice_annotations_new();
  self->corner_text = TRUE;
  gtk_widget_set_focusable(widget, TRUE);
  gtk_widget_set_hexpand(widget, TRUE);
  gtk_widget_set_vexpand(widget, TRUE);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, "Scan slice",
                                 -1);

  GtkEventController *scroll = gtk_event_controller_scroll_new(
      GTK_EVENT_CONTROLLER_SCROLL_VERTICAL | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
  gtk_widget_add_controller(widget, scroll);

  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
  g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
  gtk_widget_add_controller(widget, motion);

  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), 0);
  g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
  g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);
  gtk_widget_add_controller(widget, GTK_EVENT_CONTROLLER(drag));

  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "pressed", G_CALLBACK(on_pressed), self);
  gtk_widget_add_controller(widget, GTK_EVENT_CONTROLLER(click));

  GtkGesture *press = gtk_gesture_long_press_new();
  gtk_gesture_single_set_touch_only(GTK_GESTURE_SINGLE(press), TRUE);
  g_signal_connect(press, "pressed", G_CALLBACK(on_long_press), self);
  gtk_widget_add_controller(widget, GTK_EVENT_CONTROLLER(press));

  GtkEventController *key = gtk_event_controller_key_new();
  g_signal_connect(key, "key-pressed", G_CALLBACK(on_key), self);
  gtk_widget_add_controller(widget, key);

  GtkGesture *pinch = gtk_gesture_zoom_new();
  g_signal_connect(pinch, "begin", G_CALLBACK(on_pinch_begin), self);
  g_signal_connect(pinch, "scale-changed", G_CALLBACK(on_pinch), self);
  gtk_widget_add_controller(widget, GTK_EVENT_CONTROLLER(pinch));
}
