/* Bicubic resize that reproduces Pillow 9.x libImaging/Resample.c for 8-bit
 * images bit for bit; the structure and rounding follow that file. */
#include "vigil-resize.h"

#include <math.h>

#include "vigil-scan-error.h"

#define PRECISION_BITS (32 - 8 - 2) /* Pillow's choice for 8 bits per channel */

/* Pillow's bicubic_filter: Keys cubic with a = -0.5, support 2. */
static double bicubic_filter(double x) {
  const double a = -0.5;
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

typedef struct {
  int ksize;
  int *bounds; /* per output pixel: first input index, count */
  gint32 *kk;  /* per output pixel: ksize fixed-point weights */
} Coeffs;

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc over the full box. */
static void precompute_coeffs(int in_size, int out_size, Coeffs *c) {
  const double scale = (double)in_size / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 2.0 * filterscale;
  c->ksize = (int)ceil(support) * 2 + 1;
  c->bounds = g_new(int, (gsize)out_size * 2);
  c->kk = g_new0(gint32, (gsize)out_size * c->ksize);
  double *k = g_new(double, c->ksize);
  for (int xx = 0; xx < out_size; xx++) {
    const double center = (xx + 0.5) * scale, ss = 1.0 / filterscale;
    int xmin = (int)(center - support + 0.5);
    if (xmin < 0)
      xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > in_size)
      xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; x++) {
      k[x] = bicubic_filter((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (int x = 0; x < xmax; x++) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      c->kk[xx * c->ksize + x] = w < 0 ? (gint32)(-0.5 + w * (1 << PRECISION_BITS))
                                       : (gint32)(0.5 + w * (1 << PRECISION_BITS));
    }
    c->bounds[xx * 2] = xmin;
    c->bounds[xx * 2 + 1] = xmax;
  }
  g_free(k);
}

static void coeffs_clear(Coeffs *c) {
  g_free(c->bounds);
  g_free(c->kk);
}

static guint8 clip8(gint64 in) {
  if (in >= ((gint64)1 << PRECISION_BITS << 8))
    return 255;
  if (in <= 0)
    return 0;
  return (guint8)(in >> PRECISION_BITS);
}

/* Rows [row0, row0 + rows) of `in` (in_w wide) to `out` (out_w wide, rows high). */
static void resample_horizontal(const guint8 *in, int in_w, int row0, int rows, int ch, guint8 *out,
                                int out_w, const Coeffs *c) {
  for (int y = 0; y < rows; y++) {
    const guint8 *src = in + (gsize)(row0 + y) * in_w * ch;
    guint8 *dst = out + (gsize)y * out_w * ch;
    for (int xx = 0; xx < out_w; xx++) {
      const int xmin = c->bounds[xx * 2], xmax = c->bounds[xx * 2 + 1];
      const gint32 *k = c->kk + (gsize)xx * c->ksize;
      for (int b = 0; b < ch; b++) {
        gint64 ss = 1 << (PRECISION_BITS - 1);
        for (int x = 0; x < xmax; x++)
          ss += src[(x + xmin) * ch + b] * (gint64)k[x];
        dst[xx * ch + b] = clip8(ss);
      }
    }
  }
}

/* `bounds` are relative to the first row of `in`. */
static void resample_vertical(const guint8 *in, int w, int ch, guint8 *out, int out_h,
                              const Coeffs *c) {
  const gsize stride = (gsize)w * ch;
  for (int yy = 0; yy < out_h; yy++) {
    const int ymin = c->bounds[yy * 2], ymax = c->bounds[yy * 2 + 1];
    const gint32 *k = c->kk + (gsize)yy * c->ksize;
    for (gsize x = 0; x < stride; x++) {
      gint64 ss = 1 << (PRECISION_BITS - 1);
      for (int y = 0; y < ymax; y++)
        ss += in[(gsize)(y + ymin) * stride + x] * (gint64)k[y];
      out[yy * stride + x] = clip8(ss);
    }
  }
}

gboolean vigil_resize_bicubic_u8(const guint8 *in, int in_w, int in_h, int channels, guint8 *out,
                                 int out_w, int out_h, GError **error) {
  if (in_w < 1 || in_h < 1 || out_w < 1 || out_h < 1 || in_w > 65536 || in_h > 65536 ||
      out_w > 65536 || out_h > 65536 || channels < 1 || channels > 4) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID,
                "cannot resize %d x %d x %d to %d x %d", in_w, in_h, channels, out_w, out_h);
    return FALSE;
  }
  const gboolean need_h = out_w != in_w, need_v = out_h != in_h;
  Coeffs ch = {0}, cv = {0};
  precompute_coeffs(in_w, out_w, &ch);
  precompute_coeffs(in_h, out_h, &cv);
  /* Like Pillow, the horizontal pass only covers the rows the vertical one reads. */
  const int first = cv.bounds[0];
  const int last = cv.bounds[out_h * 2 - 2] + cv.bounds[out_h * 2 - 1];
  const guint8 *src = in;
  guint8 *temp = NULL;
  if (need_h) {
    for (int i = 0; i < out_h; i++)
      cv.bounds[i * 2] -= first;
    guint8 *dst = need_v ? (temp = g_malloc((gsize)out_w * (last - first) * channels)) : out;
    resample_horizontal(in, in_w, first, need_v ? last - first : in_h, channels, dst, out_w, &ch);
    src = dst;
  }
  if (need_v)
    resample_vertical(src, out_w, channels, out, out_h, &cv);
  else if (!need_h)
    memcpy(out, in, (gsize)in_w * in_h * channels);
  g_free(temp);
  coeffs_clear(&ch);
  coeffs_clear(&cv);
  return TRUE;
}

float *vigil_model_input_from_u8(const guint8 *pixels, int width, int height, int channels,
                                 GError **error) {
  if (channels != 1 && channels != 3) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID,
                "model input needs 1 or 3 channels, not %d", channels);
    return NULL;
  }
  const int n = VIGIL_MODEL_INPUT_SIZE;
  g_autofree guint8 *small = g_malloc((gsize)n * n * channels);
  if (!vigil_resize_bicubic_u8(pixels, width, height, channels, small, n, n, error))
    return NULL;
  float *out = g_new(float, 3 * n * n);
  for (int p = 0; p < 3; p++)
    for (int i = 0; i < n * n; i++)
      out[p * n * n + i] = small[i * channels + (channels == 3 ? p : 0)] / 255.0f;
  return out;
}

float *vigil_model_input(const VigilImage *slice, double center, double width, GError **error) {
  const int ch = vigil_image_channels(slice);
  g_autofree guint8 *u8 = g_malloc((gsize)slice->width * slice->height * ch);
  vigil_image_window_to_u8(slice, center, width, u8);
  return vigil_model_input_from_u8(u8, slice->width, slice->height, ch, error);
}
