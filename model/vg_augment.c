#include "vg_augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* affine_grid's base coordinates (align_corners=False): torch.linspace(-1, 1, n)
 * times (n - 1), over n. The linspace values follow PyTorch 1.13's x86 CPU kernel
 * (AVX2 build): each 8-lane vector, in pairs while 16 values remain, is
 * base + j * step with base = fma(step, idx, start) (from the start in the first
 * half, from the end in the second); the tail is the scalar fma. This gives
 * bit-identical grids, which matters: one ulp near 1 is 1e-5 pixel at 240. */
static float linspace_at(int i, int n, float step) {
  return i < n / 2 ? fmaf(step, (float)i, -1.0f) : fmaf(-step, (float)(n - i - 1), 1.0f);
}

static void base_coords(int n, float *out) {
  if (n == 1) {
    out[0] = 0.0f;
    return;
  }
  float step = 2.0f / (float)(n - 1);
  int i = 0;
  for (; i + 16 <= n; i += 16)
    for (int v = i; v < i + 16; v += 8) {
      float base = linspace_at(v, n, step);
      for (int j = 0; j < 8; j++)
        out[v + j] = base + (float)j * step;
    }
  for (; i < n; i++)
    out[i] = linspace_at(i, n, step);
  for (i = 0; i < n; i++)
    out[i] = out[i] * (float)(n - 1) / (float)n;
}

/* grid_sample's source coordinate (align_corners=False, reflection padding).
 * PyTorch's AVX2 kernel unnormalises with one fused multiply-add; without it
 * about 1 pixel in 800 moves by an ulp (1e-5 in value at 240 x 240). */
static float source_coord(float g, int size) {
  float x = fmaf(g + 1.0f, (float)size / 2.0f, -0.5f);
  /* Reflect about -0.5 and size - 0.5, then clip into [0, size - 1]. */
  float span = (float)size;
  float in = fabsf(x + 0.5f);
  float extra = fmodf(in, span);
  int flips = (int)floorf(in / span);
  x = (flips % 2 == 0) ? extra - 0.5f : span - extra - 0.5f;
  return fminf(fmaxf(x, 0.0f), (float)(size - 1));
}

static float tap(const float *plane, int H, int W, int y, int x) {
  return (x >= 0 && x < W && y >= 0 && y < H) ? plane[(size_t)y * W + x] : 0.0f;
}

/* One affine warp as MVFA's rot_img/translation_img: theta is the 2x3
 * matrix (row major) given to F.affine_grid. */
static vg_status vg_affine_warp(const float *img, int channels, int height, int width,
                                const float theta[6], float *out) {
  if (!img || !out || !theta || channels < 1 || height < 1 || width < 1 ||
      height > VG_AUGMENT_MAX_SIDE || width > VG_AUGMENT_MAX_SIDE || channels > 64)
    return vg_fail(VG_ERR_ARG, "affine warp: bad image %d x %d x %d", channels, height, width);
  float *bx = malloc(sizeof(float) * (size_t)(width + height));
  if (!bx)
    return vg_fail(VG_ERR_NOMEM, "affine warp: out of memory");
  float *by = bx + width;
  base_coords(width, bx);
  base_coords(height, by);
  size_t plane = (size_t)height * width;
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      /* affine_grid: [x, y, 1] @ theta^T */
      float gx = bx[x] * theta[0] + by[y] * theta[1] + theta[2];
      float gy = bx[x] * theta[3] + by[y] * theta[4] + theta[5];
      float ix = source_coord(gx, width), iy = source_coord(gy, height);
      float fx = floorf(ix), fy = floorf(iy);
      int x0 = (int)fx, y0 = (int)fy;
      float w = ix - fx, e = 1.0f - w, n = iy - fy, s = 1.0f - n;
      for (int c = 0; c < channels; c++) {
        const float *p = img + c * plane;
        out[c * plane + (size_t)y * width + x] = tap(p, height, width, y0, x0) * (s * e) +
                                                 tap(p, height, width, y0, x0 + 1) * (s * w) +
                                                 tap(p, height, width, y0 + 1, x0) * (n * e) +
                                                 tap(p, height, width, y0 + 1, x0 + 1) * (n * w);
      }
    }
  free(bx);
  return VG_OK;
}

static void flip(const float *img, int channels, int H, int W, int horizontal, float *out) {
  for (int c = 0; c < channels; c++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        int sy = horizontal ? y : H - 1 - y, sx = horizontal ? W - 1 - x : x;
        out[((size_t)c * H + y) * W + x] = img[((size_t)c * H + sy) * W + sx];
      }
}

vg_status vg_augment_mvfa(const float *img, int channels, int height, int width, float *out) {
  if (!img || !out)
    return vg_fail(VG_ERR_ARG, "augment: NULL image or output");
  /* cos and sin of the float32 angles -pi/8, -pi/16, pi/16, pi/8 as MVFA's
   * get_rot_mat gets them from torch.cos/torch.sin (float32): PyTorch's cos(pi/16)
   * is one ulp above the correctly rounded cosf, and one ulp in the matrix moves
   * samples by up to ~1e-5 pixel, so its values are used as they are. */
  static const float rot_cs[4][2] = {{0x1.d906bcp-1f, -0x1.87de2cp-2f},
                                     {0x1.f6297ep-1f, -0x1.8f8b84p-3f},
                                     {0x1.f6297ep-1f, 0x1.8f8b84p-3f},
                                     {0x1.d906bcp-1f, 0x1.87de2cp-2f}};
  static const float shifts[4][2] = {{0.1f, 0.1f}, {-0.1f, 0.1f}, {-0.1f, -0.1f}, {0.1f, -0.1f}};
  size_t n = (size_t)channels * height * width;
  vg_status st = VG_OK;
  for (int i = 0; i < 4 && st == VG_OK; i++) {
    float c = rot_cs[i][0], sn = rot_cs[i][1];
    float rot[6] = {c, -sn, 0.0f, sn, c, 0.0f};
    st = vg_affine_warp(img, channels, height, width, rot, out + (1 + i) * n);
  }
  for (int i = 0; i < 4 && st == VG_OK; i++) {
    float tr[6] = {1.0f, 0.0f, shifts[i][0], 0.0f, 1.0f, shifts[i][1]};
    st = vg_affine_warp(img, channels, height, width, tr, out + (5 + i) * n);
  }
  if (st != VG_OK)
    return st;
  memcpy(out, img, n * sizeof(float));
  flip(img, channels, height, width, 1, out + 9 * n);
  flip(img, channels, height, width, 0, out + 10 * n);
  return VG_OK;
}
