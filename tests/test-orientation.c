/* Orientation letters at the edges of axial, sagittal, coronal and oblique
 * slices, and how rotations and flips of the view move them. */
#include <glib.h>
#include <math.h>

#include "vigil-orientation.h"
#include "vigil-view-geometry.h"

static void check_edges(const double o[6], const VigilViewTransform *t, const char *left,
                        const char *right, const char *top, const char *bottom) {
  char e[VIGIL_N_EDGES][4];
  vigil_orientation_edges(o, t, e);
  g_assert_cmpstr(e[VIGIL_EDGE_LEFT], ==, left);
  g_assert_cmpstr(e[VIGIL_EDGE_RIGHT], ==, right);
  g_assert_cmpstr(e[VIGIL_EDGE_TOP], ==, top);
  g_assert_cmpstr(e[VIGIL_EDGE_BOTTOM], ==, bottom);
}

static const double axial[6] = {1, 0, 0, 0, 1, 0};
static const double sagittal[6] = {0, 1, 0, 0, 0, -1};
static const double coronal[6] = {1, 0, 0, 0, 0, -1};

static void test_standard(void) {
  check_edges(axial, NULL, "R", "L", "A", "P");
  check_edges(sagittal, NULL, "A", "P", "H", "F");
  check_edges(coronal, NULL, "R", "L", "H", "F");
}

static void test_oblique(void) {
  const double c = cos(G_PI / 6), s = sin(G_PI / 6); /* 30 degrees */
  const double o[6] = {c, s, 0, -s, c, 0};           /* axial, turned about the head-foot axis */
  check_edges(o, NULL, "RA", "LP", "AL", "PR");
  char out[4];
  vigil_orientation_letters((double[]){0.1, 0, -0.99}, out); /* under ~15 degrees: one letter */
  g_assert_cmpstr(out, ==, "F");
  vigil_orientation_letters((double[]){-0.5, 0.4, 0.77}, out);
  g_assert_cmpstr(out, ==, "HRP");
  vigil_orientation_letters((double[]){0, 0, 0}, out);
  g_assert_cmpstr(out, ==, "");
}

static void test_transforms(void) {
  VigilViewTransform t = {0};
  vigil_view_transform_rotate(&t, 1); /* clockwise: the image's top goes right */
  check_edges(axial, &t, "P", "A", "R", "L");
  vigil_view_transform_rotate(&t, -2);
  check_edges(axial, &t, "A", "P", "L", "R");
  g_assert_cmpint(t.quarter_turns, ==, 3);
  t = (VigilViewTransform){0};
  vigil_view_transform_flip(&t, TRUE);
  check_edges(axial, &t, "L", "R", "A", "P");
  vigil_view_transform_flip(&t, FALSE);
  check_edges(sagittal, &t, "P", "A", "F", "H");
  g_assert_true(t.quarter_turns == 2 && !t.flip_h && !t.flip_v); /* both flips: a half turn */
  t = (VigilViewTransform){.flip_v = TRUE};
  check_edges(axial, &t, "R", "L", "P", "A");
  vigil_view_transform_rotate(&t, 0);
  g_assert_true(t.quarter_turns == 2 && t.flip_h && !t.flip_v);
  check_edges(axial, &t, "R", "L", "P", "A");
  /* A screen flip after a turn mirrors what the screen shows, not the image. */
  t = (VigilViewTransform){0};
  vigil_view_transform_rotate(&t, 1);
  vigil_view_transform_flip(&t, TRUE);
  check_edges(axial, &t, "A", "P", "R", "L");
  int m[4];
  vigil_view_transform_matrix(&t, m);
  g_assert_true(m[0] == 0 && m[1] == 1 && m[2] == 1 && m[3] == 0);
  g_assert_false(vigil_view_transform_is_identity(&t));
  vigil_view_transform_flip(&t, TRUE);
  vigil_view_transform_rotate(&t, -1);
  g_assert_true(vigil_view_transform_is_identity(&t));
  t.invert = TRUE;
  g_assert_false(vigil_view_transform_is_identity(&t));
  t = (VigilViewTransform){.quarter_turns = 3};
  vigil_view_transform_rotate(&t, G_MAXINT); /* any int, as win.rotate(i) may get */
  g_assert_cmpint(t.quarter_turns, ==, 2);
  vigil_view_transform_rotate(&t, G_MININT);
  g_assert_cmpint(t.quarter_turns, ==, 2);
}

/* A 200 x 100 image with 2:1 pixels (columns 1 mm apart, rows 0.5 mm) in a 400 x 300 view. */
static void test_geometry(void) {
  VigilViewGeometry g;
  const double spacing[2] = {0.5, 1.0};
  VigilViewTransform t = {0};
  vigil_view_geometry_init(&g, 200, 100, spacing, 400, 300, 1, 0, 0, &t);
  g_assert_cmpfloat_with_epsilon(g.scale_y, 1.0, 1e-12); /* 400 px for 400 units across */
  g_assert_cmpfloat_with_epsilon(g.scale_x, 2.0, 1e-12);
  double x, y, ix, iy;
  vigil_view_geometry_to_widget(&g, 0, 0, &x, &y);
  g_assert_cmpfloat_with_epsilon(x, 0, 1e-9);
  g_assert_cmpfloat_with_epsilon(y, 100, 1e-9);
  vigil_view_transform_rotate(&t, 1); /* now 100 units across, 400 down: fits 300 high */
  vigil_view_geometry_init(&g, 200, 100, spacing, 400, 300, 2, 10, -5, &t);
  g_assert_cmpfloat_with_epsilon(g.scale_y, 0.75 * 2, 1e-12);
  vigil_view_geometry_to_widget(&g, 0, 0, &x, &y); /* the top-left pixel goes top-right */
  g_assert_cmpfloat_with_epsilon(x, 200 + 10 + 50 * 1.5, 1e-9);
  g_assert_cmpfloat_with_epsilon(y, 150 - 5 - 100 * 3.0, 1e-9);
  vigil_view_transform_flip(&t, FALSE);
  vigil_view_geometry_init(&g, 200, 100, spacing, 400, 300, 1.5, 3, 7, &t);
  vigil_view_geometry_to_widget(&g, 12.25, 80.5, &x, &y);
  vigil_view_geometry_to_image(&g, x, y, &ix, &iy);
  g_assert_cmpfloat_with_epsilon(ix, 12.25, 1e-9);
  g_assert_cmpfloat_with_epsilon(iy, 80.5, 1e-9);
  double vis[4];
  g_assert_true(vigil_view_geometry_visible(&g, 400, 300, vis));
  g_assert_cmpfloat(vis[0], >=, 0);
  g_assert_cmpfloat(vis[0] + vis[2], <=, 200);
  vigil_view_geometry_init(&g, 200, 100, spacing, 400, 300, 1, 5000, 0, &t);
  g_assert_false(vigil_view_geometry_visible(&g, 400, 300, vis)); /* panned away */
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/orientation/standard", test_standard);
  g_test_add_func("/orientation/oblique", test_oblique);
  g_test_add_func("/orientation/transforms", test_transforms);
  g_test_add_func("/orientation/geometry", test_geometry);
  return g_test_run();
}
