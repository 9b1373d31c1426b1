/* VigilSliceView under Xvfb: rendering follows window/level, zoom keeps the
 * point under the pointer, slices clamp, pixel spacing sets the aspect. */
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "vigil-slice-view.h"

static GtkWidget *window;
static VigilSliceView *view;

static void wait_for_draw(void) {
  for (int i = 0; i < 20; i++)
    while (g_main_context_iteration(NULL, FALSE))
      ;
}

/* A 100 x 50 ramp from -1000 to 1000 along x, values in HU-like units. */
static VigilImage *ramp(double row_spacing, double col_spacing) {
  VigilImage *im = vigil_image_new(100, 50, VIGIL_IMAGE_GRAY, NULL);
  for (int y = 0; y < 50; y++)
    for (int x = 0; x < 100; x++)
      im->values[y * 100 + x] = -1000.0f + 2000.0f * x / 99.0f;
  im->pixel_spacing[0] = row_spacing;
  im->pixel_spacing[1] = col_spacing;
  vigil_image_update_range(im);
  return im;
}

/* Renders the view and returns the gray level at widget point (x, y). */
static int rendered_gray(double x, double y) {
  int w = gtk_widget_get_width(GTK_WIDGET(view)), h = gtk_widget_get_height(GTK_WIDGET(view));
  GtkSnapshot *snapshot = gtk_snapshot_new();
  GTK_WIDGET_GET_CLASS(view)->snapshot(GTK_WIDGET(view), snapshot);
  GskRenderNode *node = gtk_snapshot_free_to_node(snapshot);
  GskRenderer *renderer = gtk_native_get_renderer(gtk_widget_get_native(GTK_WIDGET(view)));
  GdkTexture *texture =
      gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, w, h));
  guint32 *pixels = g_new(guint32, (gsize)w * h);
  gdk_texture_download(texture, (guchar *)pixels, (gsize)w * 4);
  int value = (pixels[(int)y * w + (int)x] >> 8) & 0xff; /* green of B8G8R8A8 premultiplied */
  g_free(pixels);
  g_object_unref(texture);
  gsk_render_node_unref(node);
  return value;
}

static void test_window_level_rendering(void) {
  vigil_slice_view_set_default_window(view, 0, 2000);
  vigil_slice_view_set_image(view, ramp(1, 1), TRUE);
  wait_for_draw();
  double c, w;
  vigil_slice_view_get_window(view, &c, &w);
  g_assert_cmpfloat(c, ==, 0);
  g_assert_cmpfloat(w, ==, 2000);
  /* The view is 400 x 300; the 100 x 50 image fits as 400 x 200 centred. */
  int px, py;
  g_assert_true(vigil_slice_view_widget_to_pixel(view, 200, 150, &px, &py));
  g_assert_cmpint(px, ==, 50);
  g_assert_cmpint(py, ==, 25);
  g_assert_false(vigil_slice_view_widget_to_pixel(view, 200, 20, &px, &py)); /* black band */
  int mid = rendered_gray(200, 150);
  g_assert_cmpint(abs(mid - 128), <=, 3);
  g_assert_cmpint(rendered_gray(200, 20), ==, 0);
  /* A narrow window around -1000 makes the middle white. */
  vigil_slice_view_set_window(view, -900, 100);
  g_assert_cmpint(rendered_gray(200, 150), ==, 255);
  vigil_slice_view_reset(view);
  vigil_slice_view_get_window(view, &c, &w);
  g_assert_cmpfloat(w, ==, 2000);
}

static void test_zoom_keeps_point(void) {
  vigil_slice_view_set_image(view, ramp(1, 1), TRUE);
  vigil_slice_view_fit(view);
  int before_x, before_y, after_x, after_y;
  g_assert_true(vigil_slice_view_widget_to_pixel(view, 300, 200, &before_x, &before_y));
  vigil_slice_view_zoom_at(view, 3.0, 300, 200);
  g_assert_cmpfloat(vigil_slice_view_get_zoom(view), ==, 3.0);
  g_assert_true(vigil_slice_view_widget_to_pixel(view, 300, 200, &after_x, &after_y));
  g_assert_cmpint(abs(after_x - before_x), <=, 1);
  g_assert_cmpint(abs(after_y - before_y), <=, 1);
  vigil_slice_view_zoom_at(view, 1000, 300, 200); /* clamped */
  g_assert_cmpfloat(vigil_slice_view_get_zoom(view), <=, 40.0);
  vigil_slice_view_fit(view);
  g_assert_cmpfloat(vigil_slice_view_get_zoom(view), ==, 1.0);
}

/* Zoomed in and off-centre, the pixel drawn under a point is the one
 * widget_to_pixel names there (the slice is clipped to the view). */
static void test_zoomed_pixels(void) {
  vigil_slice_view_set_default_window(view, 0, 2000);
  vigil_slice_view_set_image(view, ramp(1, 1), TRUE);
  vigil_slice_view_fit(view);
  vigil_slice_view_zoom_at(view, 6.0, 350, 100);
  for (int x = 20; x < 400; x += 60) {
    int px, py;
    g_assert_true(vigil_slice_view_widget_to_pixel(view, x, 150, &px, &py));
    double value = -1000.0 + 2000.0 * px / 99.0;
    int want = (int)((value + 1000.0) / 2000.0 * 255.0 + 0.5);
    g_assert_cmpint(abs(rendered_gray(x, 150) - want), <=, 4);
  }
  vigil_slice_view_fit(view);
}

static VigilImage *flat(float value) {
  VigilImage *im = vigil_image_new(20, 10, VIGIL_IMAGE_GRAY, NULL);
  for (int i = 0; i < 200; i++)
    im->values[i] = value;
  vigil_image_update_range(im);
  return im;
}

/* Keyed images reuse their windowed pixels per (key, window), never another
 * key's or another window's; pixels made elsewhere are used as given. */
static void test_keyed_textures(void) {
  static const int key_a = 0, key_b = 0, key_c = 0;
  vigil_slice_view_forget_textures(view);
  vigil_slice_view_set_window(view, 0, 2000);
  vigil_slice_view_set_image_keyed(view, flat(-1000), &key_a, FALSE);
  g_assert_cmpint(rendered_gray(200, 150), ==, 0);
  g_assert_true(vigil_slice_view_has_texture(view, &key_a, 0, 2000));
  vigil_slice_view_set_image_keyed(view, flat(1000), &key_b, FALSE);
  g_assert_cmpint(rendered_gray(200, 150), ==, 255);
  vigil_slice_view_set_image_keyed(view, flat(-1000), &key_a, FALSE);
  g_assert_cmpint(rendered_gray(200, 150), ==, 0);
  vigil_slice_view_set_window(view, -1000, 100); /* -1000 is now mid-grey */
  g_assert_false(vigil_slice_view_has_texture(view, &key_a, -1000, 100));
  g_assert_cmpint(abs(rendered_gray(200, 150) - 128), <=, 2);
  vigil_slice_view_set_window(view, 0, 2000);
  g_assert_cmpint(rendered_gray(200, 150), ==, 0);
  /* Pixels handed in for key_c (grey 0x50) win over windowing the image. */
  guint32 *pixels = g_new(guint32, 200);
  for (int i = 0; i < 200; i++)
    pixels[i] = 0xff505050u;
  g_autoptr(GBytes) bytes = g_bytes_new_take(pixels, 200 * 4);
  vigil_slice_view_add_pixels(view, &key_c, 0, 2000, bytes, 20, 10);
  vigil_slice_view_set_image_keyed(view, flat(1000), &key_c, FALSE);
  g_assert_cmpint(rendered_gray(200, 150), ==, 0x50);
  /* Pixels of another size than the image are not used. */
  vigil_slice_view_forget_textures(view);
  g_assert_false(vigil_slice_view_has_texture(view, &key_c, 0, 2000));
  vigil_slice_view_add_pixels(view, &key_c, 0, 2000, bytes, 10, 20);
  vigil_slice_view_set_image_keyed(view, flat(1000), &key_c, FALSE);
  g_assert_cmpint(rendered_gray(200, 150), ==, 255);
  vigil_slice_view_forget_textures(view);
}

static void test_slices_clamp(void) {
  vigil_slice_view_set_slice_count(view, 10);
  vigil_slice_view_set_slice(view, 25);
  g_assert_cmpint(vigil_slice_view_get_slice(view), ==, 9);
  vigil_slice_view_set_slice(view, -3);
  g_assert_cmpint(vigil_slice_view_get_slice(view), ==, 0);
  vigil_slice_view_set_slice_count(view, 0);
  g_assert_cmpint(vigil_slice_view_get_slice(view), ==, 0);
}

static void test_aspect_from_spacing(void) {
  /* Columns twice as wide as rows: the 100 x 50 image is square in mm. */
  vigil_slice_view_set_image(view, ramp(1, 0.5), TRUE);
  vigil_slice_view_fit(view);
  wait_for_draw();
  int px, py;
  /* 300 px tall view -> the image is 300 x 300 px, from x = 50 to 350. */
  g_assert_true(vigil_slice_view_widget_to_pixel(view, 52, 150, &px, &py));
  g_assert_cmpint(px, ==, 0);
  g_assert_false(vigil_slice_view_widget_to_pixel(view, 48, 150, &px, &py));
  g_assert_true(vigil_slice_view_widget_to_pixel(view, 348, 150, &px, &py));
  g_assert_cmpint(px, ==, 99);
}

static void test_overlay(void) {
  vigil_slice_view_set_default_window(view, 0, 2000);
  vigil_slice_view_set_image(view, ramp(1, 1), TRUE);
  vigil_slice_view_fit(view);
  /* A 10 x 10 map, hot in its left half: red over the left of the image. */
  float values[100];
  for (int i = 0; i < 100; i++)
    values[i] = (i % 10) < 5 ? 1.0f : 0.0f;
  VigilMap map = {10, 10, values};
  int gray_left = rendered_gray(100, 150);
  vigil_slice_view_set_overlay(view, &map, 0, 1);
  vigil_slice_view_set_overlay_style(view, 0.8, VIGIL_COLORMAP_JET, 0.5);
  g_assert_true(vigil_slice_view_has_overlay(view));
  /* Jet is dark red at 1 and dark blue at 0, so green drops on both sides. */
  g_assert_cmpint(rendered_gray(100, 150), <, gray_left);
  vigil_slice_view_set_overlay(view, NULL, 0, 1);
  g_assert_false(vigil_slice_view_has_overlay(view));
  g_assert_cmpint(rendered_gray(100, 150), ==, gray_left);
}

static void test_no_image(void) {
  vigil_slice_view_set_image(view, NULL, FALSE);
  int px, py;
  g_assert_false(vigil_slice_view_widget_to_pixel(view, 10, 10, &px, &py));
  g_assert_cmpint(rendered_gray(10, 10), ==, 0);
  vigil_slice_view_zoom_at(view, 2, 10, 10); /* must not crash without an image */
}

/* The context menu opens where asked, and from menu.popup (Menu, Shift+F10) at the middle. */
static void test_context_menu(void) {
  g_assert_false(vigil_slice_view_popup_menu(view, 10, 10)); /* no menu set: nothing opens */
  g_autoptr(GMenu) menu = g_menu_new();
  g_menu_append(menu, "Add This Slice as Normal Reference", "win.add-reference");
  vigil_slice_view_set_context_menu(view, G_MENU_MODEL(menu));
  GtkPopover *popover = GTK_POPOVER(vigil_slice_view_get_context_popover(view));
  g_assert_nonnull(popover);
  g_assert_true(gtk_widget_get_parent(GTK_WIDGET(popover)) == GTK_WIDGET(view));
  g_assert_true(vigil_slice_view_popup_menu(view, 120, 80));
  wait_for_draw();
  g_assert_true(gtk_widget_get_visible(GTK_WIDGET(popover)));
  GdkRectangle at;
  g_assert_true(gtk_popover_get_pointing_to(popover, &at));
  g_assert_cmpint(at.x, ==, 120);
  g_assert_cmpint(at.y, ==, 80);
  gtk_popover_popdown(popover);
  wait_for_draw();
  g_assert_false(gtk_widget_get_visible(GTK_WIDGET(popover)));
  g_assert_true(gtk_widget_activate_action(GTK_WIDGET(view), "menu.popup", NULL));
  wait_for_draw();
  g_assert_true(gtk_widget_get_visible(GTK_WIDGET(popover)));
  g_assert_true(gtk_popover_get_pointing_to(popover, &at));
  g_assert_cmpint(at.x, ==, 200); /* the view is 400 x 300 */
  g_assert_cmpint(at.y, ==, 150);
  gtk_popover_popdown(popover);
  wait_for_draw();
}

static int painted;
static double painted_scale;
static void count_paint(GtkSnapshot *snapshot, double pixel_scale, gpointer data) {
  (void)snapshot;
  g_assert_true(data == &painted);
  painted++;
  painted_scale = pixel_scale;
}

static void on_transform_changed(VigilSliceView *v, int *count) {
  (void)v;
  (*count)++;
}

/* Turns and flips move pixels where the screen shows them, inverted grey
 * renders dark for bright, the painter runs inside the image transform, and
 * R returns to the identity. */
static void test_transforms(void) {
  vigil_slice_view_set_default_window(view, 0, 2000);
  vigil_slice_view_set_image(view, ramp(1, 1), TRUE);
  vigil_slice_view_fit(view);
  int changed = 0;
  gulong id =
      g_signal_connect(view, "transform-changed", G_CALLBACK(on_transform_changed), &changed);
  double x, y, ix, iy;
  /* Turned clockwise, the 100 x 50 image is 50 x 100 units: 3 px per pixel in 300 px high. */
  vigil_slice_view_rotate(view, 1);
  g_assert_cmpint(changed, ==, 1);
  g_assert_true(vigil_slice_view_image_to_widget(view, 0, 0, &x, &y));
  g_assert_cmpfloat_with_epsilon(x, 200 + 25 * 3, 1e-9); /* the top-left pixel goes top-right */
  g_assert_cmpfloat_with_epsilon(y, 0, 1e-9);
  g_assert_true(vigil_slice_view_widget_to_image(view, x - 1.5, y + 1.5, &ix, &iy));
  g_assert_cmpfloat_with_epsilon(ix, 0.5, 1e-9);
  g_assert_cmpfloat_with_epsilon(iy, 0.5, 1e-9);
  /* The ramp runs down the screen now: dark at the top, bright at the bottom. */
  g_assert_cmpint(rendered_gray(200, 10), <, 30);
  g_assert_cmpint(rendered_gray(200, 290), >, 225);
  vigil_slice_view_flip(view, FALSE); /* top-bottom on the screen */
  g_assert_cmpint(rendered_gray(200, 10), >, 225);
  int px, py;
  g_assert_true(vigil_slice_view_widget_to_pixel(view, 200, 2, &px, &py));
  g_assert_cmpint(px, ==, 99);
  vigil_slice_view_set_inverted(view, TRUE);
  g_assert_cmpint(rendered_gray(200, 10), <, 30);
  vigil_slice_view_set_image_painter(view, count_paint, &painted);
  painted = 0;
  rendered_gray(200, 150);
  g_assert_cmpint(painted, ==, 1);
  g_assert_cmpfloat_with_epsilon(painted_scale, 3, 1e-9);
  vigil_slice_view_set_image_painter(view, NULL, NULL);
  VigilViewTransform t;
  vigil_slice_view_get_transform(view, &t);
  g_assert_true(t.invert && t.flip_h && t.quarter_turns == 1); /* flip_v as flip_h + half turn */
  changed = 0;
  vigil_slice_view_reset(view);
  g_assert_cmpint(changed, ==, 1);
  vigil_slice_view_get_transform(view, &t);
  g_assert_true(vigil_view_transform_is_identity(&t));
  g_signal_handler_disconnect(view, id);
}

/* The corner text follows the header and the switch; letters follow turns. */
static void test_annotations(void) {
  vigil_slice_view_set_image(view, ramp(1, 1), TRUE);
  vigil_slice_view_set_slice_count(view, 3);
  VigilSliceInfo info = {.patient_name = "DOE^JANE",
                         .patient_id = "P-7",
                         .patient_sex = "F",
                         .patient_birth_date = "19700131",
                         .study_date = "20240102",
                         .study_description = "CT CHEST",
                         .institution = "General",
                         .series_number = "4",
                         .series_description = "Axial 5mm",
                         .modality = "CT",
                         .slice_thickness = 5,
                         .has_orientation = TRUE,
                         .orientation = {1, 0, 0, 0, 1, 0}};
  vigil_slice_view_set_slice_info(view, &info, 12.5);
  g_autofree char *text = vigil_slice_view_describe_annotations(view);
  g_assert_nonnull(strstr(text, "top-left: DOE, JANE | ID: P-7 | DOB: 1970-01-31  Sex: F\n"));
  g_assert_nonnull(strstr(text, "top-right: General | CT CHEST | 2024-01-02\n"));
  g_assert_nonnull(strstr(text,
                          "bottom-left: Se: 4  Axial 5mm | CT | Slice 1 / 3 | Loc: 12.50 mm | "
                          "Thick: 5.00 mm\n"));
  g_assert_nonnull(strstr(text, "left: R\nright: L\ntop: A\nbottom: P\n"));
  vigil_slice_view_rotate(view, -1);
  g_autofree char *turned = vigil_slice_view_describe_annotations(view);
  g_assert_nonnull(strstr(turned, "left: A\nright: P\ntop: L\nbottom: R\n"));
  vigil_slice_view_set_corner_text(view, FALSE);
  g_autofree char *hidden = vigil_slice_view_describe_annotations(view);
  g_assert_null(strstr(hidden, "DOE"));
  g_assert_null(strstr(hidden, "top-left"));
  g_assert_nonnull(strstr(hidden, "left: A\n"));
  vigil_slice_view_set_corner_text(view, TRUE);
  vigil_slice_view_set_slice_info(view, NULL, NAN);
  vigil_slice_view_reset(view);
  vigil_slice_view_set_slice_count(view, 0);
}

/* A key as the view's key controller gets it; TRUE when handled. */
static gboolean press_with(guint keyval, GdkModifierType state) {
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(GTK_WIDGET(view));
  for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
    g_autoptr(GObject) c = g_list_model_get_item(controllers, i);
    gboolean handled = FALSE;
    if (GTK_IS_EVENT_CONTROLLER_KEY(c)) {
      g_signal_emit_by_name(c, "key-pressed", keyval, 0, state, &handled);
      return handled;
    }
  }
  g_assert_not_reached();
}

static gboolean press(guint keyval) {
  return press_with(keyval, 0);
}

/* The viewers' keys: slices, zoom, reset, invert, turns, flips, corner text. */
static void test_keys(void) {
  vigil_slice_view_set_image(view, ramp(1, 1), TRUE);
  vigil_slice_view_set_slice_count(view, 5);
  vigil_slice_view_set_slice(view, 2);
  g_assert_true(press(GDK_KEY_Down) && vigil_slice_view_get_slice(view) == 3);
  g_assert_true(press(GDK_KEY_Page_Up) && vigil_slice_view_get_slice(view) == 2);
  g_assert_true(press(GDK_KEY_End) && vigil_slice_view_get_slice(view) == 4);
  g_assert_true(press(GDK_KEY_Home) && vigil_slice_view_get_slice(view) == 0);
  g_assert_true(press(GDK_KEY_plus));
  g_assert_cmpfloat(vigil_slice_view_get_zoom(view), >, 1.2);
  VigilViewTransform t;
  g_assert_true(press(GDK_KEY_i) && press(GDK_KEY_bracketright) && press(GDK_KEY_h));
  vigil_slice_view_get_transform(view, &t);
  g_assert_true(t.invert && t.flip_h && t.quarter_turns == 3); /* a screen flip of a turn */
  g_assert_true(press(GDK_KEY_bracketleft) && press(GDK_KEY_v));
  vigil_slice_view_get_transform(view, &t);
  g_assert_true(t.quarter_turns == 0 && !t.flip_h && !t.flip_v && t.invert); /* undone */
  g_assert_true(press(GDK_KEY_t));
  g_assert_false(vigil_slice_view_get_corner_text(view));
  g_assert_true(press(GDK_KEY_T));
  g_assert_true(vigil_slice_view_get_corner_text(view));
  g_assert_false(press(GDK_KEY_space)); /* cine is the window's: no win.cine here */
  g_assert_false(press(GDK_KEY_q));
  g_assert_false(press_with(GDK_KEY_v, GDK_CONTROL_MASK)); /* Ctrl+V is not a flip */
  vigil_slice_view_get_transform(view, &t);
  g_assert_true(!t.flip_h && t.quarter_turns == 0);
  g_assert_true(press(GDK_KEY_r));
  vigil_slice_view_get_transform(view, &t);
  g_assert_true(vigil_view_transform_is_identity(&t));
  g_assert_cmpfloat(vigil_slice_view_get_zoom(view), ==, 1);
  vigil_slice_view_set_slice_count(view, 0);
}

int main(int argc, char **argv) {
  gtk_test_init(&argc, &argv, NULL);
  window = gtk_window_new();
  view = VIGIL_SLICE_VIEW(vigil_slice_view_new());
  gtk_window_set_child(GTK_WINDOW(window), GTK_WIDGET(view));
  gtk_window_set_default_size(GTK_WINDOW(window), 400, 300);
  gtk_window_set_decorated(GTK_WINDOW(window), FALSE);
  gtk_window_present(GTK_WINDOW(window));
  for (int i = 0; i < 200 && gtk_widget_get_width(GTK_WIDGET(view)) != 400; i++) {
    g_main_context_iteration(NULL, TRUE);
  }
  g_assert_cmpint(gtk_widget_get_width(GTK_WIDGET(view)), ==, 400);
  g_assert_cmpint(gtk_widget_get_height(GTK_WIDGET(view)), ==, 300);
  g_test_add_func("/slice-view/window-level-rendering", test_window_level_rendering);
  g_test_add_func("/slice-view/zoom-keeps-point", test_zoom_keeps_point);
  g_test_add_func("/slice-view/zoomed-pixels", test_zoomed_pixels);
  g_test_add_func("/slice-view/keyed-textures", test_keyed_textures);
  g_test_add_func("/slice-view/slices-clamp", test_slices_clamp);
  g_test_add_func("/slice-view/aspect-from-spacing", test_aspect_from_spacing);
  g_test_add_func("/slice-view/overlay", test_overlay);
  g_test_add_func("/slice-view/no-image", test_no_image);
  g_test_add_func("/slice-view/context-menu", test_context_menu);
  g_test_add_func("/slice-view/transforms", test_transforms);
  g_test_add_func("/slice-view/annotations", test_annotations);
  g_test_add_func("/slice-view/keys", test_keys);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(window));
  return rc;
}
