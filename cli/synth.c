/* vigil-cli synth: phantom slices with planted lesions and their masks, in
 * MVFA's evaluation layout (DIR/{valid,test}/{good,Ungood}/img/NNN.png, masks
 * in Ungood/anomaly_mask/ under the same names), so calibrate and eval run
 * end to end without real data. A pure generator: no model, no scans read.
 * The same seed gives the same files. */
#include <math.h>
#include <stdio.h>

#include "vigil-cli.h"
#include "vigil-png.h"

#define SIDE 240

typedef enum { BRAIN, LIVER, RETINA } Texture;

/* Value noise: a coarse random grid, bilinearly interpolated, in [0, 1). */
static void smooth_noise(GRand *rng, int cells, float *out) {
  g_autofree float *grid = g_new(float, (cells + 1) * (cells + 1));
  for (int i = 0; i < (cells + 1) * (cells + 1); i++)
    grid[i] = (float)g_rand_double(rng);
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++) {
      float gx = (float)x * cells / SIDE, gy = (float)y * cells / SIDE;
      int ix = (int)gx, iy = (int)gy;
      float fx = gx - ix, fy = gy - iy;
      const float *g = grid + iy * (cells + 1) + ix;
      out[y * SIDE + x] = (g[0] * (1 - fx) + g[1] * fx) * (1 - fy) +
                          (g[cells + 1] * (1 - fx) + g[cells + 2] * fx) * fy;
    }
}

/* (x, y) against an ellipse centred at (cx, cy): below 1 inside. */
static float ellipse(int x, int y, float cx, float cy, float rx, float ry) {
  float dx = (x - cx) / rx, dy = (y - cy) / ry;
  return dx * dx + dy * dy;
}

/* Skull ring, grey matter with texture, two dark ventricles. */
static float brain(int x, int y, float n) {
  float e = ellipse(x, y, 120, 120, 95, 110);
  if (e > 1.1f)
    return 10;
  if (e > 0.9f)
    return 230;
  if (ellipse(x, y, 105, 115, 9, 25) < 1 || ellipse(x, y, 135, 115, 9, 25) < 1)
    return 40 + 20 * n;
  return 110 + 50 * n;
}

/* A large organ on a dark abdomen, with vessels as darker streaks. */
static float liver(int x, int y, float n) {
  float body = ellipse(x, y, 120, 125, 110, 95);
  if (body > 1)
    return 5;
  float organ = ellipse(x, y, 100, 110, 70, 55);
  if (organ > 1)
    return 70 + 30 * n;
  float vessel = fabsf(sinf(x * 0.08f + 3 * n) * 10 - (y - 110) * 0.3f);
  return (vessel < 2 ? 100 : 140) + 40 * n;
}

/* OCT-like: wavy horizontal layers of alternating brightness. */
static float retina(int x, int y, float n) {
  float top = 80 + 12 * sinf(x * 0.03f) + 6 * n;
  if (y < top)
    return 15 + 10 * n;
  int layer = (int)((y - top) / 14);
  if (layer > 6)
    return 20 + 15 * n;
  return (layer % 2 ? 90 : 170) + 50 * n;
}

/* Where a lesion may go: inside the tissue for each texture. */
static void lesion_centre(Texture t, GRand *rng, float *cx, float *cy) {
  *cx = (float)g_rand_double_range(rng, t == LIVER ? 70 : 75, t == LIVER ? 130 : 165);
  *cy =
      (float)(t == RETINA ? g_rand_double_range(rng, 100, 150)
                          : g_rand_double_range(rng, t == LIVER ? 90 : 70, t == LIVER ? 130 : 170));
}

/* One slice; with `mask`, a lesion (brighter or darker, soft-edged) whose
 * core is marked there (255). */
static void phantom(Texture t, GRand *rng, guint8 *pixels, guint8 *mask) {
  g_autofree float *coarse = g_new(float, SIDE *SIDE), *fine = g_new(float, SIDE *SIDE);
  smooth_noise(rng, 6, coarse);
  smooth_noise(rng, 40, fine);
  float cx = 0, cy = 0, rx = 0, ry = 0, contrast = 0;
  if (mask) {
    lesion_centre(t, rng, &cx, &cy);
    rx = (float)g_rand_double_range(rng, 8, 22), ry = (float)g_rand_double_range(rng, 8, 22);
    contrast = g_rand_boolean(rng) ? 70 : -60;
  }
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++) {
      int i = y * SIDE + x;
      float n = 0.7f * coarse[i] + 0.3f * fine[i];
      float v = t == BRAIN ? brain(x, y, n) : t == LIVER ? liver(x, y, n) : retina(x, y, n);
      v += (float)g_rand_double_range(rng, -8, 8); /* speckle */
      if (mask) {
        float e = ellipse(x, y, cx, cy, rx, ry);
        v += contrast * expf(-2 * e * e);
        mask[i] = e < 1 ? 255 : 0;
      }
      pixels[i] = (guint8)CLAMP(lroundf(v), 0, 255);
    }
}

static gboolean write_set(const char *out, const char *split, gboolean abnormal, int count,
                          Texture t, GRand *rng, GError **error) {
  const char *label = abnormal ? "Ungood" : "good";
  g_autofree char *img = g_build_filename(out, split, label, "img", NULL);
  g_autofree char *masks = g_build_filename(out, split, label, "anomaly_mask", NULL);
  if (g_mkdir_with_parents(img, 0755) != 0 || (abnormal && g_mkdir_with_parents(masks, 0755))) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot create %s", img);
    return FALSE;
  }
  g_autofree guint8 *pixels = g_new(guint8, SIDE * SIDE), *mask = g_new(guint8, SIDE * SIDE);
  for (int k = 0; k < count; k++) {
    g_autofree char *name = g_strdup_printf("%03d.png", k);
    g_autofree char *path = g_build_filename(img, name, NULL);
    g_autofree char *mask_path = g_build_filename(masks, name, NULL);
    phantom(t, rng, pixels, abnormal ? mask : NULL);
    if (!vigil_png_save_u8(path, pixels, SIDE, SIDE, 1, error) ||
        (abnormal && !vigil_png_save_u8(mask_path, mask, SIDE, SIDE, 1, error)))
      return FALSE;
  }
  return TRUE;
}

static gboolean parse_texture(const char *name, Texture *t) {
  static const char *names[] = {"brain", "liver", "retina"};
  for (int i = 0; i < 3; i++)
    if (g_strcmp0(name, names[i]) == 0) {
      *t = (Texture)i;
      return TRUE;
    }
  return FALSE;
}

int vigil_cli_synth(int argc, char **argv) {
  g_autofree char *out = NULL, *texture = NULL;
  int seed = 1, count = 6;
  const GOptionEntry entries[] = {
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Folder to write (MVFA's layout)", "DIR"},
      {"seed", 0, 0, G_OPTION_ARG_INT, &seed, "Random seed (default 1)", "S"},
      {"texture", 0, 0, G_OPTION_ARG_STRING, &texture, "brain (default), liver or retina", "NAME"},
      {"count", 0, 0, G_OPTION_ARG_INT, &count, "Images per folder (default 6)", "N"},
      {NULL},
  };
  if (!vigil_cli_parse("synth", "phantom slices with lesions and masks", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  Texture t = BRAIN;
  if (argc != 1 || !out || count < 1 || (texture && !parse_texture(texture, &t))) {
    fprintf(stderr, "usage: vigil-cli synth --out DIR [--seed S] [--texture brain|liver|retina] "
                    "[--count N]\n");
    return VIGIL_CLI_USAGE;
  }
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)seed);
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;
  const char *splits[2] = {"valid", "test"};
  for (int s = 0; ok && s < 2; s++)
    for (int abnormal = 0; ok && abnormal < 2; abnormal++)
      ok = write_set(out, splits[s], abnormal, count, t, rng, &error);
  if (!ok) {
    fprintf(stderr, "vigil-cli synth: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  return VIGIL_CLI_OK;
}
