/* Colour maps, contours, and the exported PNG (pixels and text chunks). */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <png.h>

#include "vigil-export.h"

static void test_colormaps(void) {
  guint8 rgb[3];
  vigil_colormap_rgb(VIGIL_COLORMAP_JET, 0, rgb);
  g_assert_cmpuint(rgb[0], ==, 0);
  g_assert_cmpuint(rgb[2], ==, 128); /* dark blue */
  vigil_colormap_rgb(VIGIL_COLORMAP_JET, 1, rgb);
  g_assert_cmpuint(rgb[0], ==, 128); /* dark red */
  g_assert_cmpuint(rgb[2], ==, 0);
  vigil_colormap_rgb(VIGIL_COLORMAP_JET, 0.5, rgb);
  g_assert_cmpuint(rgb[1], ==, 255); /* green in the middle */
  vigil_colormap_rgb(VIGIL_COLORMAP_JET, NAN, rgb);
  g_assert_cmpuint(rgb[2], ==, 128);
  vigil_colormap_rgb(VIGIL_COLORMAP_INFERNO, 1, rgb);
  g_assert_cmpuint(rgb[0], >, 240);
  VigilColormap map;
  g_assert_true(vigil_colormap_from_name("inferno", &map));
  g_assert_cmpstr(vigil_colormap_name(map), ==, "inferno");
  g_assert_false(vigil_colormap_from_name("rainbow", &map));
}

static VigilMap *square_map(void) {
  VigilMap *m = g_new0(VigilMap, 1);
  m->width = m->height = 8;
  m->values = g_new0(float, 64);
  for (int y = 2; y < 5; y++)
    for (int x = 3; x < 6; x++)
      m->values[y * 8 + x] = 1.0f; /* a 3 x 3 hot square */
  return m;
}

static void free_map(VigilMap *m) {
  g_free(m->values);
  g_free(m);
}

static void test_contour_and_argb(void) {
  VigilMap *m = square_map();
  g_autoptr(GArray) seg = vigil_map_contour(m, 0.5);
  g_assert_cmpuint(seg->len / 4, ==, 12); /* perimeter of a 3 x 3 square */
  guint32 argb[64];
  vigil_map_to_argb(m, 0, 1, 0.5, 0.5, VIGIL_COLORMAP_JET, argb);
  g_assert_cmpuint(argb[0], ==, 0); /* below the floor: transparent */
  g_assert_cmpuint(argb[2 * 8 + 3] >> 24, ==, 128);
  g_assert_cmpuint((argb[2 * 8 + 3] >> 16) & 0xff, ==, 64); /* 128 red, premultiplied by 0.5 */
  free_map(m);
}

static void read_png(const char *path, int *w, int *h, guint8 **rgb, GHashTable *text) {
  FILE *f = fopen(path, "rb");
  g_assert_nonnull(f);
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  g_assert_false(setjmp(png_jmpbuf(png)));
  png_init_io(png, f);
  png_read_info(png, info);
  *w = (int)png_get_image_width(png, info);
  *h = (int)png_get_image_height(png, info);
  g_assert_cmpint(png_get_color_type(png, info), ==, PNG_COLOR_TYPE_RGB);
  *rgb = g_malloc((gsize)*w * *h * 3);
  for (int y = 0; y < *h; y++)
    png_read_row(png, *rgb + (gsize)y * *w * 3, NULL);
  png_read_end(png, info);
  png_textp chunks;
  int n = png_get_text(png, info, &chunks, NULL);
  for (int i = 0; i < n; i++)
    g_hash_table_insert(text, g_strdup(chunks[i].key), g_strdup(chunks[i].text));
  png_destroy_read_struct(&png, &info, NULL);
  fclose(f);
}

static void test_export(void) {
  g_autoptr(VigilImage) im = vigil_image_new(64, 64, VIGIL_IMAGE_GRAY, NULL);
  for (int i = 0; i < 64 * 64; i++)
    im->values[i] = 100; /* mid gray in window 100/200 */
  VigilMap *m = square_map();
  const char *text[] = {"Software", "Vigil", "vigil.zero_det_score", "0.731", NULL};
  VigilExportRequest r = {.image = im,
                          .window_center = 100,
                          .window_width = 200,
                          .map = m,
                          .map_lo = 0,
                          .map_hi = 1,
                          .opacity = 0.6,
                          .threshold = 0.5,
                          .colormap = VIGIL_COLORMAP_JET,
                          .legend_label = "Anomaly",
                          .text = text};
  g_autofree char *dir = g_dir_make_tmp("vigil-export-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "view.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_export_png(&r, path, &error));
  g_assert_no_error(error);

  int w, h;
  g_autofree guint8 *rgb = NULL;
  g_autoptr(GHashTable) chunks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  read_png(path, &w, &h, &rgb, chunks);
  g_assert_cmpint(h, ==, 512); /* 64 px scaled by 8 */
  g_assert_cmpint(w, ==, 512 + 90);
  g_assert_cmpstr(g_hash_table_lookup(chunks, "vigil.zero_det_score"), ==, "0.731");
  /* Map cell (4, 3) is hot: reddish; cell (0, 7) is cold: bluish over gray. */
  const guint8 *hot = rgb + ((gsize)(3 * 64 + 16) * w + 4 * 64 + 32) * 3;
  const guint8 *cold = rgb + ((gsize)(7 * 64 + 32) * w + 32) * 3;
  g_assert_cmpint(hot[0], >, hot[2] + 40);
  g_assert_cmpint(cold[2], >, cold[0] + 40);
  /* The contour is drawn white on the square's top edge (map y = 2 -> 128 px). */
  const guint8 *edge = rgb + ((gsize)128 * w + 4 * 64) * 3;
  g_assert_cmpint(edge[0] + edge[1] + edge[2], >, 600);

  /* A destination that cannot be written is an error, not a crash. */
  g_autoptr(GError) bad = NULL;
  g_assert_false(vigil_export_png(&r, "/nonexistent-dir/view.png", &bad));
  g_assert_nonnull(bad);
  g_unlink(path);
  g_rmdir(dir);
  free_map(m);
}

/* A 4x4 map over a 100x60 image: each cell is 25x15 pixels. */
static void test_region(void) {
  float v[16] = {0};
  v[1 * 4 + 2] = 0.7f, v[2 * 4 + 2] = 0.9f, v[2 * 4 + 1] = 0.6f, v[3 * 4 + 3] = 0.4f;
  VigilMap m = {4, 4, v};
  VigilMapRegion r;
  const double spacing[2] = {0.5, 0.8};
  vigil_map_region(&m, 0.5, 100, 60, spacing, &r);
  g_assert_cmpuint(r.cells, ==, 3);
  g_assert_true(r.area_mm);
  g_assert_cmpfloat_with_epsilon(r.area, 3 * 25 * 15 * 0.5 * 0.8, 1e-9);
  g_assert_cmpfloat_with_epsilon(r.max_value, 0.9, 1e-6);
  g_assert_cmpfloat_with_epsilon(r.max_x, 2.5 * 25, 1e-9);
  g_assert_cmpfloat_with_epsilon(r.max_y, 2.5 * 15, 1e-9);
  g_autofree char *text = vigil_map_region_describe(&r);
  g_assert_cmpstr(text, ==, "450.0 mm², max 0.90 at (62, 38)");
  vigil_map_region(&m, 0.5, 100, 60, NULL, &r); /* no spacing: image pixels */
  g_assert_false(r.area_mm);
  g_assert_cmpfloat_with_epsilon(r.area, 3 * 25 * 15, 1e-9);
  vigil_map_region(&m, 0.95, 100, 60, spacing, &r);
  g_assert_cmpuint(r.cells, ==, 0);
  g_assert_true(isnan(r.max_value));
  g_autofree char *none = vigil_map_region_describe(&r);
  g_assert_cmpstr(none, ==, "no region above threshold");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/heatmap/colormaps", test_colormaps);
  g_test_add_func("/heatmap/contour-and-argb", test_contour_and_argb);
  g_test_add_func("/heatmap/region", test_region);
  g_test_add_func("/heatmap/export", test_export);
  return g_test_run();
}
