#pragma once

#include <gtk/gtk.h>

#include "vigil-heatmap.h"
#include "vigil-dicom.h"
#include "vigil-image.h"
#include "vigil-orientation.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_SLICE_VIEW (vigil_slice_view_get_type())
G_DECLARE_FINAL_TYPE(VigilSliceView, vigil_slice_view, VIGIL, SLICE_VIEW, GtkWidget)

GtkWidget *vigil_slice_view_new(void);

/* Shows `image` (the view takes ownership; NULL clears). The window is kept
 * unless `reset_window` is set, then it becomes the default window. */
void vigil_slice_view_set_image(VigilSliceView *self, VigilImage *image, gboolean reset_window);
const VigilImage *vigil_slice_view_get_image(VigilSliceView *self);
/* The same, naming the image's pixels with `key` (e.g. its VigilSlice): the
 * view then keeps windowed textures per (key, window) and reuses them when
 * the slice comes back. Call forget_textures when keys may be reused. */
void vigil_slice_view_set_image_keyed(VigilSliceView *self, VigilImage *image, gconstpointer key,
                                      gboolean reset_window);
void vigil_slice_view_forget_textures(VigilSliceView *self);
/* Pixels windowed elsewhere (a prefetch worker) for a keyed slice and window:
 * vigil_window_level_to_bgra32's layout, img_width x img_height. */
gboolean vigil_slice_view_has_texture(VigilSliceView *self, gconstpointer key, double center,
                                      double width);
void vigil_slice_view_add_pixels(VigilSliceView *self, gconstpointer key, double center,
                                 double width, GBytes *bgra, int img_width, int img_height);

/* The window that R (reset) returns to, e.g. from the file or a preset. */
void vigil_slice_view_set_default_window(VigilSliceView *self, double center, double width);
void vigil_slice_view_set_window(VigilSliceView *self, double center, double width);
void vigil_slice_view_get_window(VigilSliceView *self, double *center, double *width);

/* Slices are navigated here; the owner listens to notify::slice and supplies images. */
void vigil_slice_view_set_slice_count(VigilSliceView *self, int count);
int vigil_slice_view_get_slice_count(VigilSliceView *self);
void vigil_slice_view_set_slice(VigilSliceView *self, int slice);
int vigil_slice_view_get_slice(VigilSliceView *self);

/* 1 = the image fits the view; the view zooms around a point in widget coordinates. */
void vigil_slice_view_set_zoom(VigilSliceView *self, double zoom);
double vigil_slice_view_get_zoom(VigilSliceView *self);
void vigil_slice_view_zoom_at(VigilSliceView *self, double factor, double x, double y);
void vigil_slice_view_fit(VigilSliceView *self);
void vigil_slice_view_reset(VigilSliceView *self);

/* The unit of gray values in the readout, e.g. "HU" for CT; NULL for none. */
void vigil_slice_view_set_value_unit(VigilSliceView *self, const char *unit);

/* An anomaly map laid over the whole image (the view copies it; NULL
 * removes it). Values are coloured from lo to hi; `threshold` draws a contour
 * (NAN for none) and hides values below it when `hide_below` is set. */
void vigil_slice_view_set_overlay(VigilSliceView *self, const VigilMap *map, double lo, double hi);
void vigil_slice_view_set_overlay_style(VigilSliceView *self, double opacity,
                                        VigilColormap colormap, double threshold);
gboolean vigil_slice_view_has_overlay(VigilSliceView *self);
/* The legend's scale name, shown above it ("calibrated", "raw"; NULL: none). */
void vigil_slice_view_set_legend_title(VigilSliceView *self, const char *title);
const char *vigil_slice_view_get_legend_title(VigilSliceView *self);
/* The overlay as shown (borrowed; FALSE: none) and the range it is coloured over. */
gboolean vigil_slice_view_get_overlay(VigilSliceView *self, VigilMap *map, double *lo, double *hi);

/* The menu a right click (without motion), a long press or the Menu key
 * opens; NULL for none. popup_menu opens it at a widget point (FALSE: none). */
void vigil_slice_view_set_context_menu(VigilSliceView *self, GMenuModel *menu);
gboolean vigil_slice_view_popup_menu(VigilSliceView *self, double x, double y);
GtkWidget *vigil_slice_view_get_context_popover(VigilSliceView *self);

/* Widget point -> image pixel; FALSE outside the image. */
gboolean vigil_slice_view_widget_to_pixel(VigilSliceView *self, double x, double y, int *px,
                                          int *py);
/* Widget points <-> image coordinates (pixel units, (0, 0) the top-left corner
 * of the top-left pixel) under zoom, pan and the view's transform; FALSE
 * without an image. */
gboolean vigil_slice_view_widget_to_image(VigilSliceView *self, double x, double y, double *ix,
                                          double *iy);
gboolean vigil_slice_view_image_to_widget(VigilSliceView *self, double ix, double iy, double *x,
                                          double *y);

/* Drawn after the slice and the heatmap, inside their transform: coordinates
 * are image pixels; pixel_scale is widget pixels per image pixel (for line
 * widths and handles). NULL removes it. Use color and texture nodes here:
 * under GTK 4.8's cairo renderer a cairo node appended under this scaled
 * transform does not land where a color node of the same rectangle does (so
 * the slice itself is painted in widget space there); draw cairo in widget
 * space with image_to_widget. */
typedef void (*VigilSliceViewPainter)(GtkSnapshot *snapshot, double pixel_scale, gpointer data);
void vigil_slice_view_set_image_painter(VigilSliceView *self, VigilSliceViewPainter painter,
                                        gpointer data);
/* Drawn last, in widget coordinates (labels that stay upright). */
void vigil_slice_view_set_widget_painter(VigilSliceView *self, VigilSliceViewPainter painter,
                                         gpointer data);

/* How the slice is shown: turned, flipped, inverted (vigil-orientation.h);
 * "transform-changed" tells each change. Reset (R) returns to the identity. */
void vigil_slice_view_set_transform(VigilSliceView *self, const VigilViewTransform *t);
void vigil_slice_view_get_transform(VigilSliceView *self, VigilViewTransform *t);
void vigil_slice_view_rotate(VigilSliceView *self, int quarter_turns); /* > 0: clockwise */
void vigil_slice_view_flip(VigilSliceView *self, gboolean horizontal);
void vigil_slice_view_set_inverted(VigilSliceView *self, gboolean inverted);

/* The corner text (property "corner-text", on by default); the orientation
 * letters stay. The shown slice's header feeds both (NULL: none); location
 * in mm along the series, NAN when unknown. */
void vigil_slice_view_set_corner_text(VigilSliceView *self, gboolean shown);
gboolean vigil_slice_view_get_corner_text(VigilSliceView *self);
void vigil_slice_view_set_slice_info(VigilSliceView *self, const VigilSliceInfo *info,
                                     double location);
/* What the corners and edges show now, one "name: text" line each (tests). */
char *vigil_slice_view_describe_annotations(VigilSliceView *self);

G_END_DECLS
