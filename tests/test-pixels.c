/* vigil-pixels.c on hand-made samples: masking and sign extension at Bits
 * Stored under junk bits, rescale, MONOCHROME1, RGB and YBR layouts, and RLE
 * frames, valid and hostile. Expected values come from the DICOM formulas
 * written out here, not from the code under test; buffers are exactly as
 * large as they claim, so the sanitizer build catches any stray access, and
 * outputs end in a canary that the plain build checks. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "vigil-pixels.h"
#include "vigil-scan-error.h"

#define CANARY 16

static VigilPixelLayout gray(int rows, int cols, int ba, int bs, int hb, gboolean is_signed) {
  VigilPixelLayout l = {
      rows, cols, 1, FALSE, ba, bs, hb, is_signed, 1, 0, VIGIL_PHOTOMETRIC_MONOCHROME2};
  return l;
}

static VigilPixelLayout color(int rows, int cols, int ba, int bs, VigilPhotometric p,
                              gboolean planar) {
  VigilPixelLayout l = {rows, cols, 3, planar, ba, bs, bs - 1, FALSE, 1, 0, p};
  return l;
}

/* Sample i of `ba` bits, little endian. */
static void put(guint8 *buf, gsize i, int ba, guint32 raw) {
  for (int b = 0; b < ba / 8; b++)
    buf[i * (gsize)(ba / 8) + (gsize)b] = (guint8)(raw >> (8 * b));
}

/* The raw sample holding `v` in bits hb-bs+1..hb and `junk` everywhere else. */
static guint32 encode(gint64 v, int ba, int bs, int hb, guint32 junk) {
  const int shift = hb - bs + 1;
  const guint64 field = (((guint64)1 << bs) - 1) << shift;
  const guint64 all = ((guint64)1 << ba) - 1;
  return (guint32)((((guint64)v << shift) & field) | (junk & all & ~field));
}

/* Converts `size` bytes (copied into a buffer of exactly that size). */
static float *convert(const VigilPixelLayout *l, const guint8 *data, gsize size) {
  const gsize n = (gsize)l->rows * l->cols * l->samples;
  g_autofree guint8 *exact = g_memdup2(data, size);
  float *out = g_new(float, n);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_pixels_convert(l, exact, size, out, n, &error));
  g_assert_no_error(error);
  return out;
}

/* ---- grey ---- */

typedef struct {
  int ba, bs, hb;
  gboolean is_signed;
} Bits;

/* Every Bits Allocated, all bits stored or fewer, the high bit where it
 * usually is and elsewhere. */
static const Bits bit_cases[] = {
    {8, 8, 7, FALSE},    {8, 8, 7, TRUE},     {8, 5, 4, FALSE},    {8, 5, 4, TRUE},
    {8, 3, 6, TRUE},     {16, 16, 15, FALSE}, {16, 16, 15, TRUE},  {16, 12, 11, FALSE},
    {16, 12, 11, TRUE},  {16, 10, 13, TRUE},  {16, 10, 13, FALSE}, {16, 1, 0, FALSE},
    {32, 32, 31, FALSE}, {32, 32, 31, TRUE},  {32, 20, 19, TRUE},  {32, 17, 27, TRUE},
    {32, 24, 30, FALSE},
};

static void value_range(const Bits *b, gint64 *lo, gint64 *hi) {
  *lo = b->is_signed ? -((gint64)1 << (b->bs - 1)) : 0;
  *hi = b->is_signed ? ((gint64)1 << (b->bs - 1)) - 1 : ((gint64)1 << b->bs) - 1;
}

/* Values at both ends of the range, around zero and in between. */
static gint64 *test_values(const Bits *b, gsize n) {
  gint64 lo, hi;
  value_range(b, &lo, &hi);
  gint64 *v = g_new(gint64, n);
  const gint64 fixed[] = {lo, hi, 0, lo + 1, hi - 1, MAX(lo, -1), MIN(hi, 1)};
  for (gsize i = 0; i < n; i++)
    v[i] = i < G_N_ELEMENTS(fixed) ? fixed[i] : lo + (gint64)(g_test_rand_double() * (hi - lo));
  return v;
}

static void check_bits(const Bits *b, double slope, double intercept) {
  enum { ROWS = 4, COLS = 5 };
  const gsize n = ROWS * COLS, size = n * (gsize)(b->ba / 8);
  g_autofree gint64 *v = test_values(b, n);
  g_autofree guint8 *buf = g_malloc(size);
  for (gsize i = 0; i < n; i++)
    put(buf, i, b->ba, encode(v[i], b->ba, b->bs, b->hb, g_test_rand_int()));
  VigilPixelLayout l = gray(ROWS, COLS, b->ba, b->bs, b->hb, b->is_signed);
  l.slope = slope, l.intercept = intercept;
  g_autofree float *out = convert(&l, buf, size);
  for (gsize i = 0; i < n; i++)
    if (out[i] != (float)((double)v[i] * slope + intercept))
      g_error("%d/%d bits, high bit %d, signed %d: value %" G_GINT64_FORMAT " gave %.9g", b->bs,
              b->ba, b->hb, b->is_signed, v[i], out[i]);
}

static void test_gray_bits(void) {
  for (gsize i = 0; i < G_N_ELEMENTS(bit_cases); i++)
    check_bits(&bit_cases[i], 1, 0);
}

/* Modality value = stored * slope + intercept (CT: HU). */
static void test_gray_rescale(void) {
  for (gsize i = 0; i < G_N_ELEMENTS(bit_cases); i++) {
    check_bits(&bit_cases[i], 0.5, -1024);
    check_bits(&bit_cases[i], 2.5, 10);
    check_bits(&bit_cases[i], -1, 0.25);
  }
}

/* MONOCHROME1: the lowest modality value shows brightest, so the range of
 * the stored bits is mirrored onto itself: v' = lowest + highest - v. */
static void check_mirror(const Bits *b, double slope, double intercept) {
  enum { N = 12 };
  g_autofree gint64 *v = test_values(b, N);
  g_autofree guint8 *buf = g_malloc(N * (gsize)(b->ba / 8));
  for (gsize i = 0; i < N; i++)
    put(buf, i, b->ba, encode(v[i], b->ba, b->bs, b->hb, g_test_rand_int()));
  VigilPixelLayout l = gray(3, 4, b->ba, b->bs, b->hb, b->is_signed);
  l.slope = slope, l.intercept = intercept;
  l.photometric = VIGIL_PHOTOMETRIC_MONOCHROME1;
  gint64 lo, hi;
  value_range(b, &lo, &hi);
  const double lowest = lo * slope + intercept, highest = hi * slope + intercept;
  g_assert_cmpfloat_with_epsilon(vigil_pixels_mirror_constant(&l), lowest + highest, 1e-6);
  g_autofree float *out = convert(&l, buf, N * (gsize)(b->ba / 8));
  for (gsize i = 0; i < N; i++) {
    const double want = lowest + highest - (v[i] * slope + intercept);
    g_assert_cmpfloat(fabs(out[i] - want), <=, 1e-6 * MAX(1, fabs(want)));
  }
}

static void test_monochrome1(void) {
  for (gsize i = 0; i < G_N_ELEMENTS(bit_cases); i++) {
    check_mirror(&bit_cases[i], 1, 0);
    check_mirror(&bit_cases[i], 2, -100);
  }
  /* 8 bits unsigned: the textbook 255 - v. */
  const guint8 px[] = {0, 1, 128, 255};
  VigilPixelLayout l = gray(2, 2, 8, 8, 7, FALSE);
  l.photometric = VIGIL_PHOTOMETRIC_MONOCHROME1;
  g_autofree float *out = convert(&l, px, sizeof px);
  for (gsize i = 0; i < G_N_ELEMENTS(px); i++)
    g_assert_cmpfloat(out[i], ==, 255 - px[i]);
}

/* ---- colour ---- */

/* Three pixels' R, G, B in 12 of 16 bits, junk above: interleaved and planar
 * give the same image, scaled to 0..255. */
static void test_rgb_planar(void) {
  const guint16 rgb[3][3] = {{0, 4095, 100}, {2048, 1, 4000}, {4095, 4095, 0}};
  guint8 inter[18], planes[18];
  for (gsize i = 0; i < 3; i++)
    for (gsize c = 0; c < 3; c++) {
      const guint32 raw = encode(rgb[i][c], 16, 12, 11, 0xF000);
      put(inter, i * 3 + c, 16, raw);
      put(planes, c * 3 + i, 16, raw);
    }
  VigilPixelLayout l0 = color(1, 3, 16, 12, VIGIL_PHOTOMETRIC_RGB, FALSE);
  VigilPixelLayout l1 = color(1, 3, 16, 12, VIGIL_PHOTOMETRIC_RGB, TRUE);
  g_autofree float *a = convert(&l0, inter, sizeof inter);
  g_autofree float *b = convert(&l1, planes, sizeof planes);
  for (gsize i = 0; i < 9; i++) {
    g_assert_cmpfloat_with_epsilon(a[i], rgb[i / 3][i % 3] * 255.0 / 4095.0, 1e-4);
    g_assert_cmpfloat(a[i], ==, b[i]);
  }
  const guint8 eight[] = {1, 2, 3, 250, 251, 252}; /* 8 bits: kept as they are */
  VigilPixelLayout l8 = color(2, 1, 8, 8, VIGIL_PHOTOMETRIC_RGB, FALSE);
  g_autofree float *c = convert(&l8, eight, sizeof eight);
  for (gsize i = 0; i < sizeof eight; i++)
    g_assert_cmpfloat(c[i], ==, eight[i]);
}

/* PS3.3 C.7.6.3.1.2, YBR_FULL: R = Y + 1.402 Cr', G = Y - 0.344136 Cb' -
 * 0.714136 Cr', B = Y + 1.772 Cb' with Cb' = Cb - 128, Cr' = Cr - 128,
 * clamped to 0..255. */
static void ybr_expected(double y, double cb, double cr, double rgb[3]) {
  rgb[0] = CLAMP(y + 1.402 * (cr - 128), 0, 255);
  rgb[1] = CLAMP(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128), 0, 255);
  rgb[2] = CLAMP(y + 1.772 * (cb - 128), 0, 255);
}

static const guint8 ybr_px[][3] = {{0, 0, 0},     {255, 255, 255}, {128, 128, 128}, {76, 85, 255},
                                   {150, 44, 21}, {29, 255, 107},  {200, 128, 10},  {16, 200, 60}};

static void check_ybr(const float *out, gsize pixel, const guint8 ybr[3]) {
  double want[3];
  ybr_expected(ybr[0], ybr[1], ybr[2], want);
  for (int c = 0; c < 3; c++)
    g_assert_cmpfloat_with_epsilon(out[pixel * 3 + (gsize)c], want[c], 1e-3);
}

static void test_ybr_full(void) {
  enum { N = G_N_ELEMENTS(ybr_px) };
  guint8 inter[N * 3], planes[N * 3];
  for (gsize i = 0; i < N; i++)
    for (gsize c = 0; c < 3; c++)
      inter[i * 3 + c] = planes[c * N + i] = ybr_px[i][c];
  for (int planar = 0; planar < 2; planar++) {
    VigilPixelLayout l = color(2, N / 2, 8, 8, VIGIL_PHOTOMETRIC_YBR_FULL, planar);
    g_autofree float *out = convert(&l, planar ? planes : inter, sizeof inter);
    for (gsize i = 0; i < N; i++)
      check_ybr(out, i, ybr_px[i]);
  }
}

/* YBR_FULL_422: Y0 Y1 Cb Cr for each pair of pixels, the pair sharing its
 * chroma: two samples per pixel. */
static void test_ybr_422(void) {
  enum { N = G_N_ELEMENTS(ybr_px) };
  guint8 pairs[N * 2];
  for (gsize i = 0; i < N; i += 2) {
    pairs[i * 2] = ybr_px[i][0], pairs[i * 2 + 1] = ybr_px[i + 1][0];
    pairs[i * 2 + 2] = ybr_px[i][1], pairs[i * 2 + 3] = ybr_px[i][2];
  }
  VigilPixelLayout l = color(N / 4, 4, 8, 8, VIGIL_PHOTOMETRIC_YBR_FULL_422, FALSE);
  g_assert_cmpuint(vigil_pixels_frame_bytes(&l), ==, sizeof pairs);
  g_autofree float *out = convert(&l, pairs, sizeof pairs);
  for (gsize i = 0; i < N; i++) {
    const guint8 shared[3] = {ybr_px[i][0], ybr_px[i & ~(gsize)1][1], ybr_px[i & ~(gsize)1][2]};
    check_ybr(out, i, shared);
  }
  /* An odd pixel count leaves the last pixel without all its chroma: read
   * within the frame's bytes (exactly 3 x 2 samples of 16 bits) all the same. */
  const guint8 odd[12] = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6};
  VigilPixelLayout lo = color(1, 3, 16, 16, VIGIL_PHOTOMETRIC_YBR_FULL_422, FALSE);
  g_assert_cmpuint(vigil_pixels_frame_bytes(&lo), ==, sizeof odd);
  g_autofree float *o = convert(&lo, odd, sizeof odd);
  for (gsize i = 0; i < 9; i++)
    g_assert_true(o[i] >= 0 && o[i] <= 255);
}

/* ---- names, sizes, refusals ---- */

static void test_names(void) {
  g_assert_cmpint(vigil_photometric_from_name("MONOCHROME1", -1), ==,
                  VIGIL_PHOTOMETRIC_MONOCHROME1);
  g_assert_cmpint(vigil_photometric_from_name("MONOCHROME2 ", -1), ==,
                  VIGIL_PHOTOMETRIC_MONOCHROME2);
  g_assert_cmpint(vigil_photometric_from_name("RGB", -1), ==, VIGIL_PHOTOMETRIC_RGB);
  g_assert_cmpint(vigil_photometric_from_name("YBR_FULL_422", -1), ==,
                  VIGIL_PHOTOMETRIC_YBR_FULL_422);
  g_assert_cmpint(vigil_photometric_from_name("YBR_FULL", -1), ==, VIGIL_PHOTOMETRIC_YBR_FULL);
  g_assert_cmpint(vigil_photometric_from_name("YBR_RCT", -1), ==, VIGIL_PHOTOMETRIC_YBR_FULL);
  /* A length cuts the name: "YBR_FULL_422" read as its first 8 bytes. */
  g_assert_cmpint(vigil_photometric_from_name("YBR_FULL_422", 8), ==, VIGIL_PHOTOMETRIC_YBR_FULL);
  g_assert_cmpint(vigil_photometric_from_name("RGB\0\0", 5), ==, VIGIL_PHOTOMETRIC_RGB);
}

static void test_frame_bytes(void) {
  VigilPixelLayout g = gray(3, 5, 16, 12, 11, TRUE);
  g_assert_cmpuint(vigil_pixels_frame_bytes(&g), ==, 3 * 5 * 2);
  VigilPixelLayout c = color(3, 5, 8, 8, VIGIL_PHOTOMETRIC_RGB, TRUE);
  g_assert_cmpuint(vigil_pixels_frame_bytes(&c), ==, 3 * 5 * 3);
  VigilPixelLayout y = color(3, 4, 16, 16, VIGIL_PHOTOMETRIC_YBR_FULL_422, FALSE);
  g_assert_cmpuint(vigil_pixels_frame_bytes(&y), ==, 3 * 4 * 2 * 2);
}

static void expect_refused(const VigilPixelLayout *l, gsize size, gsize out_count, int code) {
  g_autofree guint8 *buf = g_malloc0(MAX(size, 1));
  g_autofree float *out = g_new(float, MAX(out_count, 1));
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_pixels_convert(l, buf, size, out, out_count, &error));
  g_assert_error(error, VIGIL_SCAN_ERROR, code);
}

static void test_convert_refuses(void) {
  const VigilPixelLayout ok = gray(4, 4, 16, 16, 15, FALSE);
  expect_refused(&ok, 31, 16, VIGIL_SCAN_ERROR_TRUNCATED);
  expect_refused(&ok, 32, 15, VIGIL_SCAN_ERROR_INVALID);
  VigilPixelLayout bad[9];
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
    bad[i] = gray(4, 4, 16, 12, 11, FALSE);
  bad[0].rows = 0, bad[1].cols = -3, bad[2].samples = 2, bad[3].bits_allocated = 12;
  bad[4].bits_stored = 0, bad[5].bits_stored = 17; /* above Bits Allocated */
  bad[6].high_bit = 16, bad[7].high_bit = 2;       /* outside the sample, below Bits Stored */
  bad[8].photometric = (VigilPhotometric)99;
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
    expect_refused(&bad[i], 4096, 4096, VIGIL_SCAN_ERROR_INVALID);
  VigilPixelLayout huge = gray(1 << 15, 1 << 14, 8, 8, 7, FALSE); /* 2^29 pixels */
  expect_refused(&huge, 4096, 4096, VIGIL_SCAN_ERROR_INVALID);
}

/* ---- RLE ---- */

typedef struct {
  const guint8 *data;
  gsize size;
} Segment;

#define SEG(...)                                                                                   \
  { (const guint8[]){__VA_ARGS__}, sizeof((const guint8[]){__VA_ARGS__}) }

static void set_entry(GByteArray *frame, guint index, guint32 value) {
  const guint32 le = GUINT32_TO_LE(value);
  memcpy(frame->data + 4 * index, &le, 4);
}

static void set_offset(GByteArray *frame, guint segment, guint32 offset) {
  set_entry(frame, segment + 1, offset);
}

/* An RLE frame: the table (`count` segments, their offsets) and the segments. */
static GByteArray *rle_frame(const Segment *segs, guint n, guint32 count) {
  GByteArray *frame = g_byte_array_sized_new(64);
  g_byte_array_set_size(frame, 64);
  memset(frame->data, 0, 64);
  set_entry(frame, 0, count);
  for (guint s = 0; s < n; s++) {
    set_offset(frame, s, frame->len);
    g_byte_array_append(frame, segs[s].data, (guint)segs[s].size);
  }
  return frame;
}

/* Decodes `size` bytes of `frame` (copied to exactly that size) into `out`
 * (out_size bytes); the canary after them must survive whatever happens. */
static gboolean rle(const VigilPixelLayout *l, const GByteArray *frame, gsize size, guint8 *out,
                    gsize out_size, GError **error) {
  g_autofree guint8 *in = g_memdup2(frame->data, size);
  g_autofree guint8 *buf = g_malloc(out_size + CANARY);
  memset(buf, 0xAB, out_size + CANARY);
  const gboolean ok = vigil_rle_decode(l, in, size, buf, out_size, error);
  for (gsize i = 0; i < CANARY; i++)
    g_assert_cmphex(buf[out_size + i], ==, 0xAB);
  memcpy(out, buf, out_size);
  return ok;
}

static void expect_rle(const VigilPixelLayout *l, const GByteArray *frame, const guint8 *want,
                       gsize n) {
  g_autofree guint8 *out = g_malloc(n);
  g_autoptr(GError) error = NULL;
  g_assert_true(rle(l, frame, frame->len, out, n, &error));
  g_assert_no_error(error);
  g_assert_cmpmem(out, n, want, n);
}

static void expect_rle_error(const VigilPixelLayout *l, const GByteArray *frame, gsize size,
                             int code) {
  const gsize n = (gsize)l->rows * l->cols * l->samples * (gsize)(l->bits_allocated / 8);
  g_autofree guint8 *out = g_malloc(n);
  g_autoptr(GError) error = NULL;
  g_assert_false(rle(l, frame, size, out, n, &error));
  g_assert_error(error, VIGIL_SCAN_ERROR, code);
}

/* PackBits: n >= 0 copies n + 1 bytes, -127..-1 repeats the next byte 1 - n
 * times, -128 does nothing. */
static void test_rle_gray8(void) {
  const Segment seg[] = {SEG(0xFD, 7, 0x80, 0x03, 1, 2, 3, 4)};
  g_autoptr(GByteArray) frame = rle_frame(seg, 1, 1);
  const guint8 want[] = {7, 7, 7, 7, 1, 2, 3, 4};
  const VigilPixelLayout l = gray(2, 4, 8, 8, 7, FALSE);
  expect_rle(&l, frame, want, sizeof want);
}

/* 16 bits: the high bytes' segment first; the result is little endian and
 * converts to the values encoded. */
static void test_rle_gray16(void) {
  const Segment seg[] = {SEG(0x03, 0x12, 0xAB, 0x00, 0xFF), SEG(0x03, 0x34, 0xCD, 0x01, 0x00)};
  g_autoptr(GByteArray) frame = rle_frame(seg, 2, 2);
  const guint8 want[] = {0x34, 0x12, 0xCD, 0xAB, 0x01, 0x00, 0x00, 0xFF};
  VigilPixelLayout l = gray(2, 2, 16, 16, 15, TRUE);
  expect_rle(&l, frame, want, sizeof want);
  g_autofree float *v = convert(&l, want, sizeof want);
  const float signed_values[] = {0x1234, 0xABCD - 65536, 1, 0xFF00 - 65536};
  for (gsize i = 0; i < 4; i++)
    g_assert_cmpfloat(v[i], ==, signed_values[i]);
}

/* Colour: one segment per component, decoded interleaved even for a header
 * that says planar (RLE's segments are the planes). */
static void test_rle_rgb(void) {
  const Segment seg[] = {SEG(0xFE, 200), SEG(0x02, 1, 2, 3), SEG(0xFE, 0)};
  g_autoptr(GByteArray) frame = rle_frame(seg, 3, 3);
  const guint8 want[] = {200, 1, 0, 200, 2, 0, 200, 3, 0};
  VigilPixelLayout l = color(1, 3, 8, 8, VIGIL_PHOTOMETRIC_RGB, TRUE);
  expect_rle(&l, frame, want, sizeof want);
  /* 16-bit RGB: six segments, per component high byte then low byte. */
  const Segment seg16[] = {SEG(0x00, 0x01), SEG(0x00, 0x02), SEG(0x00, 0x03),
                           SEG(0x00, 0x04), SEG(0x00, 0x05), SEG(0x00, 0x06)};
  g_autoptr(GByteArray) frame16 = rle_frame(seg16, 6, 6);
  const guint8 want16[] = {0x02, 0x01, 0x04, 0x03, 0x06, 0x05};
  VigilPixelLayout l16 = color(1, 1, 16, 16, VIGIL_PHOTOMETRIC_RGB, FALSE);
  expect_rle(&l16, frame16, want16, sizeof want16);
}

static void test_rle_bad_offsets(void) {
  const Segment seg[] = {SEG(0x03, 1, 2, 3, 4), SEG(0x03, 5, 6, 7, 8)};
  const VigilPixelLayout l = gray(2, 2, 16, 16, 15, FALSE);
  const guint32 first[] = {0, 63, 1000, 0xFFFFFFFFu};
  for (gsize i = 0; i < G_N_ELEMENTS(first); i++) {
    g_autoptr(GByteArray) frame = rle_frame(seg, 2, 2);
    set_offset(frame, 0, first[i]);
    expect_rle_error(&l, frame, frame->len, VIGIL_SCAN_ERROR_FORMAT);
  }
  g_autoptr(GByteArray) backwards = rle_frame(seg, 2, 2); /* segment 2 before segment 1 */
  set_offset(backwards, 0, 69);
  set_offset(backwards, 1, 64);
  expect_rle_error(&l, backwards, backwards->len, VIGIL_SCAN_ERROR_FORMAT);
  g_autoptr(GByteArray) past = rle_frame(seg, 2, 2); /* the last segment starts past the end */
  set_offset(past, 1, past->len + 1);
  expect_rle_error(&l, past, past->len, VIGIL_SCAN_ERROR_FORMAT);
}

static void test_rle_short_segment(void) {
  const Segment seg[] = {SEG(0x01, 5, 6)}; /* 2 of 8 bytes */
  g_autoptr(GByteArray) frame = rle_frame(seg, 1, 1);
  const VigilPixelLayout l = gray(2, 4, 8, 8, 7, FALSE);
  expect_rle_error(&l, frame, frame->len, VIGIL_SCAN_ERROR_TRUNCATED);
  /* the table alone, or less */
  expect_rle_error(&l, frame, 64, VIGIL_SCAN_ERROR_TRUNCATED);
  expect_rle_error(&l, frame, 40, VIGIL_SCAN_ERROR_TRUNCATED);
}

static void test_rle_segment_count(void) {
  const Segment seg[] = {SEG(0xF9, 1), SEG(0xF9, 2)};
  const VigilPixelLayout l = gray(2, 4, 8, 8, 7, FALSE);
  const guint32 counts[] = {0, 2, 15, 16, 0xFFFFFFFFu};
  for (gsize i = 0; i < G_N_ELEMENTS(counts); i++) {
    g_autoptr(GByteArray) frame = rle_frame(seg, 2, counts[i]);
    expect_rle_error(&l, frame, frame->len, VIGIL_SCAN_ERROR_FORMAT);
  }
}

/* A literal run that claims more bytes than the segment holds, and a
 * replicate run that has lost its byte: the output is short, an error. */
static void test_rle_literal_past_input(void) {
  const VigilPixelLayout l = gray(2, 4, 8, 8, 7, FALSE);
  const Segment literal[] = {SEG(0x07, 1, 2, 3)};
  g_autoptr(GByteArray) a = rle_frame(literal, 1, 1);
  expect_rle_error(&l, a, a->len, VIGIL_SCAN_ERROR_TRUNCATED);
  const Segment replicate[] = {SEG(0x03, 1, 2, 3, 4, 0xFD)};
  g_autoptr(GByteArray) b = rle_frame(replicate, 1, 1);
  expect_rle_error(&l, b, b->len, VIGIL_SCAN_ERROR_TRUNCATED);
}

/* A run past the end of the output is cut there, never written past it: what
 * fits is kept, as pydicom does with such padding (with a warning). */
static void test_rle_run_past_output(void) {
  const VigilPixelLayout l = gray(2, 4, 8, 8, 7, FALSE);
  const Segment replicate[] = {SEG(0x01, 1, 2, 0x81, 9)}; /* 2 + 128 bytes for 8 */
  g_autoptr(GByteArray) a = rle_frame(replicate, 1, 1);
  const guint8 want[] = {1, 2, 9, 9, 9, 9, 9, 9};
  expect_rle(&l, a, want, sizeof want);
  const Segment literal[] = {SEG(0x0B, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)};
  g_autoptr(GByteArray) b = rle_frame(literal, 1, 1);
  expect_rle(&l, b, (const guint8[]){1, 2, 3, 4, 5, 6, 7, 8}, 8);
  /* an output buffer smaller than the frame is refused before any write */
  g_autofree guint8 *out = g_malloc(7);
  g_autoptr(GError) error = NULL;
  g_assert_false(rle(&l, a, a->len, out, 7, &error));
  g_assert_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID);
}

/* Random tables and segments over a few layouts: errors or not, nothing
 * outside the buffers is touched (the canary, and ASan in the sanitizer build). */
static void test_rle_random(void) {
  const VigilPixelLayout layouts[] = {gray(3, 5, 8, 8, 7, FALSE), gray(2, 3, 16, 12, 11, TRUE),
                                      color(2, 2, 8, 8, VIGIL_PHOTOMETRIC_RGB, FALSE),
                                      gray(1, 2, 32, 32, 31, FALSE)};
  for (int it = 0; it < 4000; it++) {
    const VigilPixelLayout *l = &layouts[it % G_N_ELEMENTS(layouts)];
    const gsize nseg = (gsize)l->samples * (gsize)(l->bits_allocated / 8);
    g_autoptr(GByteArray) frame = g_byte_array_new();
    g_byte_array_set_size(frame, 64 + (guint)g_test_rand_int_range(0, 64));
    for (guint i = 0; i < frame->len; i++)
      frame->data[i] = (guint8)g_test_rand_int();
    set_entry(frame, 0, g_test_rand_bit() ? (guint32)nseg : (guint32)g_test_rand_int_range(0, 16));
    for (guint s = 0; s < nseg; s++)
      set_offset(frame, s, (guint32)g_test_rand_int_range(56, (gint32)frame->len + 8));
    const gsize n = (gsize)l->rows * l->cols * nseg;
    g_autofree guint8 *out = g_malloc(n);
    g_autoptr(GError) error = NULL;
    if (!rle(l, frame, frame->len, out, n, &error))
      g_assert_true(error && error->domain == VIGIL_SCAN_ERROR);
  }
}

/* DCMTK 3.6.7's walk over a JPEG fragment's markers never ends on a TEM
 * marker before the frame header: such fragments are refused, others pass. */
static void test_jpeg_markers(void) {
  g_autoptr(GError) error = NULL;
  const guint8 tem_first[] = {0xff, 0x01, 0x00, 0x00, 0x00, 0x00};
  g_assert_false(vigil_jpeg_check_markers(tem_first, sizeof tem_first, &error));
  g_assert_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_FORMAT);
  g_assert_nonnull(strstr(error->message, "TEM marker at byte 0"));
  g_clear_error(&error);
  /* SOI, an APP0 segment of 4 bytes, fill bytes, then TEM: refused at byte 10. */
  const guint8 tem_later[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0xaa, 0xbb,
                              0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x00};
  g_assert_false(vigil_jpeg_check_markers(tem_later, sizeof tem_later, &error));
  g_assert_nonnull(strstr(error->message, "at byte 10"));
  g_clear_error(&error);
  /* A frame header first ends the walk: a TEM after it is the decoder's business. */
  const guint8 sof_first[] = {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0xff, 0x01, 0, 0, 0};
  g_assert_true(vigil_jpeg_check_markers(sof_first, sizeof sof_first, &error));
  /* An invalid marker ends it too, and so does the end of the data. */
  const guint8 invalid[] = {0xff, 0xd8, 0x12, 0x34, 0xff, 0x01, 0, 0, 0};
  g_assert_true(vigil_jpeg_check_markers(invalid, sizeof invalid, &error));
  g_assert_true(vigil_jpeg_check_markers(tem_first, 4, &error));
  g_assert_no_error(error);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pixels/jpeg-markers", test_jpeg_markers);
  g_test_add_func("/pixels/gray/bits", test_gray_bits);
  g_test_add_func("/pixels/gray/rescale", test_gray_rescale);
  g_test_add_func("/pixels/gray/monochrome1", test_monochrome1);
  g_test_add_func("/pixels/color/rgb-planar", test_rgb_planar);
  g_test_add_func("/pixels/color/ybr-full", test_ybr_full);
  g_test_add_func("/pixels/color/ybr-full-422", test_ybr_422);
  g_test_add_func("/pixels/names", test_names);
  g_test_add_func("/pixels/frame-bytes", test_frame_bytes);
  g_test_add_func("/pixels/refuses", test_convert_refuses);
  g_test_add_func("/pixels/rle/gray8", test_rle_gray8);
  g_test_add_func("/pixels/rle/gray16", test_rle_gray16);
  g_test_add_func("/pixels/rle/rgb", test_rle_rgb);
  g_test_add_func("/pixels/rle/bad-offsets", test_rle_bad_offsets);
  g_test_add_func("/pixels/rle/short-segment", test_rle_short_segment);
  g_test_add_func("/pixels/rle/segment-count", test_rle_segment_count);
  g_test_add_func("/pixels/rle/literal-past-input", test_rle_literal_past_input);
  g_test_add_func("/pixels/rle/run-past-output", test_rle_run_past_output);
  g_test_add_func("/pixels/rle/random", test_rle_random);
  return g_test_run();
}
