/* VigilSliceView: one slice of a scan, drawn with GtkSnapshot.
 *
 * Wheel scrolls slices, Ctrl+wheel or pinch zooms around the pointer, primary drag
 * pans, secondary drag (or the W/L tool) changes window/level, double-click
 * fits. A secondary click without motion, a long press or the Menu key opens
 * the context menu. Corner text shows the slice, window, zoom and the value under the
 * pointer. Pixel spacing sets the aspect ratio. */
#include "vigil-slice-view.h"

#include "vigil-texture-cache.h"
#include "vigil-window-level.h"

#include <math.h>

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
  VigilColormap colormap;
  GdkTexture *overlay_texture;
  double drag_center, drag_width, drag_pan_x, drag_pan_y;
  double pinch_zoom;       /* zoom when the pinch began */
  GtkWidget *context_menu; /* a GtkPopoverMenu parented to the view, or NULL */
  VigilSliceViewPainter image_painter, widget_painter; /* measurements */
  gpointer image_painter_data, widget_painter_data;
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
  N_PROPS
};
static GParamSpec *props[N_PROPS];

GtkWidget *vigil_slice_view_new(void) {
  return g_object_new(VIGIL_TYPE_SLICE_VIEW, NULL);
}

/* Image extent in millimetres (or pixels when the spacing is unknown). */
static void image_extent(VigilSliceView *self, double *w, double *h, double *sx, double *sy) {
  double row = self->image->pixel_spacing[0], col = self->image->pixel_spacing[1];
  *sx = col > 0 && row > 0 ? col / row : 1.0; /* x stretch relative to y */
  *sy = 1.0;
  *w = self->image->width * *sx;
  *h = self->image->height * *sy;
}

/* Scale (widget px per image unit) and the image's top-left corner in the widget. */
static double layout(VigilSliceView *self, double *ox, double *oy) {
  double w, h, sx, sy;
  image_extent(self, &w, &h, &sx, &sy);
  double vw = gtk_widget_get_width(GTK_WIDGET(self)), vh = gtk_widget_get_height(GTK_WIDGET(self));
  double scale = fmin(vw / w, vh / h) * self->zoom;
  if (!(scale > 0))
    scale = 1;
  *ox = vw / 2 + self->pan_x - w * scale / 2;
  *oy = vh / 2 + self->pan_y - h * scale / 2;
  return scale;
}

gboolean vigil_slice_view_widget_to_image(VigilSliceView *self, double x, double y, double *ix,
                                          double *iy) {
  if (!self->image)
    return FALSE;
  double ox, oy, w, h, sx, sy;
  double scale = layout(self, &ox, &oy);
  image_extent(self, &w, &h, &sx, &sy);
  *ix = (x - ox) / (scale * sx);
  *iy = (y - oy) / (scale * sy);
  return TRUE;
}

gboolean vigil_slice_view_image_to_widget(VigilSliceView *self, double ix, double iy, double *x,
                                          double *y) {
  if (!self->image)
    return FALSE;
  double ox, oy, w, h, sx, sy;
  double scale = layout(self, &ox, &oy);
  image_extent(self, &w, &h, &sx, &sy);
  *x = ox + ix * scale * sx;
  *y = oy + iy * scale * sy;
  return TRUE;
}

void vigil_slice_view_set_image_painter(VigilSliceView *self, VigilSliceViewPainter painter,
                                        gpointer data) {
  self->image_painter = painter;
  self->image_painter_data = data;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vigil_slice_view_set_widget_painter(VigilSliceView *self, VigilSliceViewPainter painter,
                                         gpointer data) {
  self->widget_painter = painter;
  self->widget_painter_data = data;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean vigil_slice_view_widget_to_pixel(VigilSliceView *self, double x, double y, int *px,
                                          int *py) {
  if (!self->image)
    return FALSE;
  double ox, oy, w, h, sx, sy;
  double scale = layout(self, &ox, &oy);
  image_extent(self, &w, &h, &sx, &sy);
  double ix = (x - ox) / (scale * sx), iy = (y - oy) / (scale * sy);
  if (ix < 0 || iy < 0 || ix >= self->image->width || iy >= self->image->height)
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

/* The cairo renderer of GTK 4.8 converts a texture through floats on every
 * frame; a cairo node paints the cached ARGB32 surface directly, with the
 * same extend and filter as a texture node. Other renderers keep the texture. */
static void append_slice(VigilSliceView *self, GtkSnapshot *snapshot, const graphene_rect_t *area,
                         const graphene_rect_t *visible) {
  GtkNative *native = gtk_widget_get_native(GTK_WIDGET(self));
  GskRenderer *renderer = native ? gtk_native_get_renderer(native) : NULL;
  if (!renderer || !GSK_IS_CAIRO_RENDERER(renderer)) {
    gtk_snapshot_append_texture(snapshot, vigil_windowed_texture(self->shown), area);
    return;
  }
  graphene_rect_t bounds;
  if (!graphene_rect_intersection(area, visible, &bounds))
    return;
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &bounds);
  cairo_translate(cr, area->origin.x, area->origin.y);
  cairo_scale(cr, area->size.width / vigil_windowed_width(self->shown),
              area->size.height / vigil_windowed_height(self->shown));
  cairo_set_source_surface(cr, vigil_windowed_surface(self->shown), 0, 0);
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
  cairo_rectangle(cr, 0, 0, vigil_windowed_width(self->shown), vigil_windowed_height(self->shown));
  cairo_fill(cr);
  cairo_destroy(cr);
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

static void add_overlay(VigilSliceView *self, GtkSnapshot *snapshot, const graphene_rect_t *r) {
  if (!self->overlay_texture)
    rebuild_overlay_texture(self);
  gtk_snapshot_append_texture(snapshot, self->overlay_texture, r);
  if (isnan(self->overlay_threshold))
    return;
  g_autoptr(GArray) seg = vigil_map_contour(&self->overlay, self->overlay_threshold);
  if (seg->len == 0)
    return;
  const double sx = r->size.width / self->overlay.width, sy = r->size.height / self->overlay.height;
  /* GTK 4.8 has no path nodes: each cell edge is a thin rectangle. */
  const GdkRGBA white = {1, 1, 1, 0.95};
  const float *v = (const float *)seg->data;
  for (guint i = 0; i + 3 < seg->len; i += 4) {
    double x0 = r->origin.x + v[i] * sx, y0 = r->origin.y + v[i + 1] * sy;
    double x1 = r->origin.x + v[i + 2] * sx, y1 = r->origin.y + v[i + 3] * sy;
    graphene_rect_t line = GRAPHENE_RECT_INIT(MIN(x0, x1) - 0.75, MIN(y0, y1) - 0.75,
                                              fabs(x1 - x0) + 1.5, fabs(y1 - y0) + 1.5);
    gtk_snapshot_append_color(snapshot, &white, &line);
  }
}

static void add_legend(VigilSliceView *self, GtkSnapshot *snapshot) {
  const double h = gtk_widget_get_height(GTK_WIDGET(self)),
               w = gtk_widget_get_width(GTK_WIDGET(self));
  const double top = 48, bottom = h - 48, x = w - 26;
  if (bottom - top < 40)
    return;
  const int steps = 64;
  for (int i = 0; i < steps; i++) {
    guint8 rgb[3];
    vigil_colormap_rgb(self->colormap, 1.0 - (i + 0.5) / steps, rgb);
    GdkRGBA c = {rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0, 1};
    double y0 = top + (bottom - top) * i / steps;
    gtk_snapshot_append_color(snapshot, &c,
                              &GRAPHENE_RECT_INIT(x, y0, 12, (bottom - top) / steps + 0.5));
  }
}

static void add_corner_text(VigilSliceView *self, GtkSnapshot *snapshot, const char *text,
                            gboolean right, gboolean bottom) {
  PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
  pango_layout_set_alignment(pl, right ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
  int tw, th;
  pango_layout_get_pixel_size(pl, &tw, &th);
  const double margin = 8;
  double x = right ? gtk_widget_get_width(GTK_WIDGET(self)) - tw - margin : margin;
  double y = bottom ? gtk_widget_get_height(GTK_WIDGET(self)) - th - margin : margin;
  const GdkRGBA shadow = {0, 0, 0, 0.8}, fg = {0.92, 0.92, 0.92, 1};
  for (int pass = 0; pass < 2; pass++) { /* a dark offset copy keeps text legible on bright scans */
    gtk_snapshot_save(snapshot);
    gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(x + (pass ? 0 : 1), y + (pass ? 0 : 1)));
    gtk_snapshot_append_layout(snapshot, pl, pass ? &fg : &shadow);
    gtk_snapshot_restore(snapshot);
  }
  g_object_unref(pl);
}

static void add_overlay_text(VigilSliceView *self, GtkSnapshot *snapshot) {
  g_autofree char *slice =
      self->slice_count > 0 ? g_strdup_printf("Slice %d / %d", self->slice + 1, self->slice_count)
                            : g_strdup("");
  add_corner_text(self, snapshot, slice, FALSE, FALSE);
  g_autofree char *zoom = g_strdup_printf("Zoom %.0f%%", self->zoom * 100);
  add_corner_text(self, snapshot, zoom, TRUE, FALSE);
  g_autofree char *wl = self->image->kind == VIGIL_IMAGE_GRAY
                            ? g_strdup_printf("W %.0f  L %.0f", self->width, self->center)
                            : g_strdup("RGB");
  add_corner_text(self, snapshot, wl, FALSE, TRUE);
  int px, py;
  if (self->pointer_inside &&
      vigil_slice_view_widget_to_pixel(self, self->pointer_x, self->pointer_y, &px, &py)) {
    const float *v = self->image->values +
                     ((gsize)py * self->image->width + px) * vigil_image_channels(self->image);
    g_autofree char *value =
        self->image->kind == VIGIL_IMAGE_GRAY
            ? g_strdup_printf("(%d, %d)  %.6g%s%s", px, py, v[0], self->value_unit ? " " : "",
                              self->value_unit ? self->value_unit : "")
            : g_strdup_printf("(%d, %d)  %.0f %.0f %.0f", px, py, v[0], v[1], v[2]);
    if (self->overlay.values) {
      int mx = px * self->overlay.width / self->image->width;
      int my = py * self->overlay.height / self->image->height;
      g_autofree char *with_score = g_strdup_printf(
          "%s\nAnomaly %.3f", value, self->overlay.values[my * self->overlay.width + mx]);
      add_corner_text(self, snapshot, with_score, TRUE, TRUE);
    } else {
      add_corner_text(self, snapshot, value, TRUE, TRUE);
    }
  }
}

static void vigil_slice_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  VigilSliceView *self = VIGIL_SLICE_VIEW(widget);
  double vw = gtk_widget_get_width(widget), vh = gtk_widget_get_height(widget);
  gtk_snapshot_append_color(snapshot, &(GdkRGBA){0, 0, 0, 1}, &GRAPHENE_RECT_INIT(0, 0, vw, vh));
  if (!self->image)
    return;
  if (!self->shown)
    rebuild_texture(self);
  double ox, oy, w, h, sx, sy;
  double scale = layout(self, &ox, &oy);
  image_extent(self, &w, &h, &sx, &sy);
  gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(0, 0, vw, vh));
  graphene_rect_t area = GRAPHENE_RECT_INIT(ox, oy, w * scale, h * scale);
  append_slice(self, snapshot, &area, &GRAPHENE_RECT_INIT(0, 0, vw, vh));
  if (self->overlay.values)
    add_overlay(self, snapshot, &area);
  if (self->image_painter) {
    gtk_snapshot_save(snapshot);
    gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(ox, oy));
    gtk_snapshot_scale(snapshot, scale * sx, scale * sy);
    self->image_painter(snapshot, scale * sqrt(sx * sy), self->image_painter_data);
    gtk_snapshot_restore(snapshot);
  }
  gtk_snapshot_pop(snapshot);
  if (self->overlay.values)
    add_legend(self, snapshot);
  add_overlay_text(self, snapshot);
  if (self->widget_painter)
    self->widget_painter(snapshot, scale * sqrt(sx * sy), self->widget_painter_data);
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
  if (!self->image) {
    vigil_slice_view_set_zoom(self, self->zoom * factor);
    return;
  }
  double ox, oy, w, h, sx, sy;
  double scale = layout(self, &ox, &oy);
  image_extent(self, &w, &h, &sx, &sy);
  double ux = (x - ox) / scale, uy = (y - oy) / scale;
  vigil_slice_view_set_zoom(self, self->zoom * factor);
  double scale2 = layout(self, &ox, &oy);
  double vw = gtk_widget_get_width(GTK_WIDGET(self)), vh = gtk_widget_get_height(GTK_WIDGET(self));
  self->pan_x = (x - ux * scale2) - vw / 2 + w * scale2 / 2;
  self->pan_y = (y - uy * scale2) - vh / 2 + h * scale2 / 2;
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

static gboolean on_key(GtkEventControllerKey *key, guint keyval, guint keycode,
                       GdkModifierType state, gpointer user_data) {
  (void)key, (void)keycode, (void)state;
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
  default: return FALSE;
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
  g_object_class_install_properties(object_class, N_PROPS, props);
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
