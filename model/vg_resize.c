#include "vg_resize.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_A (-0.5) /* PyTorch's antialiased bicubic (and Pillow's) */

static double cubic(double x) {
  x = fabs(x);
  if (x < 1.0)
    return ((KEYS_A + 2.0) * x - (KEYS_A + 3.0)) * x * x + 1.0;
  if (x < 2.0)
    return (((x - 5.0) * x + 8.0) * x - 4.0) * KEYS_A;
  return 0.0;
}

/* One output sample's taps: input indices [first, first + count) with weights. */
typedef struct taps {
  int first, count;
  float *w;
} taps;

/* Builds the taps for resizing n_in samples to n_out (align_corners=False):
 * the kernel is stretched by the scale when shrinking, so every input sample
 * contributes (the antialiasing). Returns NULL when out of memory. */
static taps *make_taps(int n_in, int n_out) {
  const double scale = (double)n_in / n_out;
  const double support = scale >= 1.0 ? 2.0 * scale : 2.0;
  const double inv = scale >= 1.0 ? 1.0 / scale : 1.0;
  const int max_count = (int)ceil(support) * 2 + 1;
  taps *t = calloc((size_t)n_out, sizeof *t);
  float *pool = malloc((size_t)n_out * (size_t)max_count * sizeof *pool);
  if (!t || !pool) {
    free(t), free(pool);
    return NULL;
  }
  for (int i = 0; i < n_out; i++) {
    const double center = scale * (i + 0.5);
    int lo = (int)(int64_t)(center - support + 0.5), hi = (int)(int64_t)(center + support + 0.5);
    lo = lo < 0 ? 0 : lo;
    hi = hi > n_in ? n_in : hi;
    if (hi - lo > max_count)
      hi = lo + max_count;
    t[i] = (taps){.first = lo, .count = hi - lo, .w = pool + (size_t)i * max_count};
    double total = 0.0;
    for (int j = 0; j < t[i].count; j++)
      total += cubic((j + lo - center + 0.5) * inv);
    for (int j = 0; j < t[i].count; j++)
      t[i].w[j] = (float)(cubic((j + lo - center + 0.5) * inv) / (total != 0.0 ? total : 1.0));
  }
  return t;
}

static void free_taps(taps *t) {
  if (t)
    free(t[0].w);
  free(t);
}

vg_status vg_resize_bicubic_aa(const float *in, int ih, int iw, int c, float *out, int oh, int ow) {
  if (!in || !out || ih <= 0 || iw <= 0 || c <= 0 || oh <= 0 || ow <= 0 || ih > 4096 || iw > 4096 ||
      oh > 4096 || ow > 4096)
    return vg_fail(VG_ERR_ARG, "resize: bad sizes %dx%d -> %dx%d (%d channels)", ih, iw, oh, ow, c);
  taps *tx = make_taps(iw, ow), *ty = make_taps(ih, oh);
  float *mid = malloc((size_t)ih * (size_t)ow * (size_t)c * sizeof *mid);
  if (!tx || !ty || !mid) {
    free_taps(tx), free_taps(ty), free(mid);
    return vg_fail(VG_ERR_NOMEM, "resize: out of memory");
  }
  /* Width first, then height, as PyTorch's separable kernel does. */
  for (int y = 0; y < ih; y++)
    for (int x = 0; x < ow; x++) {
      float *dst = mid + ((size_t)y * ow + x) * c;
      memset(dst, 0, (size_t)c * sizeof *dst);
      for (int j = 0; j < tx[x].count; j++) {
        const float *src = in + ((size_t)y * iw + tx[x].first + j) * c;
        for (int k = 0; k < c; k++)
          dst[k] += tx[x].w[j] * src[k];
      }
    }
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
      float *dst = out + ((size_t)y * ow + x) * c;
      memset(dst, 0, (size_t)c * sizeof *dst);
      for (int j = 0; j < ty[y].count; j++) {
        const float *src = mid + ((size_t)(ty[y].first + j) * ow + x) * c;
        for (int k = 0; k < c; k++)
          dst[k] += ty[y].w[j] * src[k];
      }
    }
  free_taps(tx), free_taps(ty), free(mid);
  return VG_OK;
}
