/* Stored samples to display values, and RLE frames to stored samples.
 * See vigil-pixels.h. */
#include "vigil-pixels.h"

#include <math.h>
#include <string.h>

#include "vigil-scan-error.h"

#define MAX_PIXELS ((guint64)1 << 28) /* as vigil-image.h */
#define RLE_TABLE_BYTES 64            /* segment count + 15 offsets, PS3.5 G.5 */

VigilPhotometric vigil_photometric_from_name(const char *name, gssize length) {
  gsize n = length < 0 ? strlen(name) : (gsize)length;
  while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\0'))
    n--;
  static const struct {
    const char *name;
    VigilPhotometric value;
  } names[] = {
      {"MONOCHROME1", VIGIL_PHOTOMETRIC_MONOCHROME1},
      {"MONOCHROME2", VIGIL_PHOTOMETRIC_MONOCHROME2},
      {"RGB", VIGIL_PHOTOMETRIC_RGB},
      {"YBR_FULL_422", VIGIL_PHOTOMETRIC_YBR_FULL_422},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
    if (strlen(names[i].name) == n && memcmp(names[i].name, name, n) == 0)
      return names[i].value;
  return VIGIL_PHOTOMETRIC_YBR_FULL;
}

/* Every later step shifts and indexes by these fields, so nothing else may
 * reach them: a shift by a negative or too large count is undefined. */
static gboolean layout_ok(const VigilPixelLayout *l, GError **error) {
  const int ba = l->bits_allocated, bs = l->bits_stored;
  if (l->rows < 1 || l->cols < 1 || (guint64)l->rows * (guint64)l->cols > MAX_PIXELS ||
      (l->samples != 1 && l->samples != 3) || (ba != 8 && ba != 16 && ba != 32) || bs < 1 ||
      bs > ba || l->high_bit < bs - 1 || l->high_bit >= ba ||
      (guint)l->photometric > VIGIL_PHOTOMETRIC_YBR_FULL_422)
    return vigil_scan_fail(
        error, VIGIL_SCAN_ERROR_INVALID,
        "pixel layout out of range: %d x %d, %d samples, %d/%d bits, high bit %d", l->cols, l->rows,
        l->samples, bs, ba, l->high_bit);
  return TRUE;
}

static gsize pixel_count(const VigilPixelLayout *l) {
  return (gsize)l->rows * (gsize)l->cols;
}

/* The samples a frame holds: YBR_FULL_422 stores two per pixel. */
static gsize frame_samples(const VigilPixelLayout *l) {
  if (l->samples == 3 && l->photometric == VIGIL_PHOTOMETRIC_YBR_FULL_422)
    return pixel_count(l) * 2;
  return pixel_count(l) * (gsize)l->samples;
}

guint64 vigil_pixels_frame_bytes(const VigilPixelLayout *l) {
  return (guint64)frame_samples(l) * (guint64)(l->bits_allocated / 8);
}

double vigil_pixels_mirror_constant(const VigilPixelLayout *l) {
  double lo = l->is_signed ? -ldexp(1.0, l->bits_stored - 1) : 0;
  double hi = l->is_signed ? ldexp(1.0, l->bits_stored - 1) - 1 : ldexp(1.0, l->bits_stored) - 1;
  return (lo + hi) * l->slope + 2 * l->intercept;
}

/* ---- grey ---- */

/* Sample `index`: its Bits Stored bits below High Bit, sign-extended when
 * signed (whatever the bits above hold: overlays, junk). */
static inline gint64 stored_value(const guint8 *buf, gsize index, const VigilPixelLayout *l,
                                  gboolean is_signed) {
  guint64 raw;
  if (l->bits_allocated == 8)
    raw = buf[index];
  else if (l->bits_allocated == 16)
    raw = ((const guint16 *)buf)[index];
  else
    raw = ((const guint32 *)buf)[index];
  raw >>= l->high_bit + 1 - l->bits_stored;
  raw &= (((guint64)1) << l->bits_stored) - 1;
  gint64 v = (gint64)raw;
  if (is_signed && (raw >> (l->bits_stored - 1)))
    v -= (gint64)1 << l->bits_stored;
  return v;
}

/* out = sample * a + b over n samples of type T that use all their bits. */
#define AFFINE(T)                                                                                  \
  do {                                                                                             \
    for (gsize i = 0; i < n; i++)                                                                  \
      out[i] = (float)((double)((const T *)buf)[i] * a + b);                                       \
  } while (0)

/* The common layouts (all bits stored, no shift) read samples as their C type,
 * skipping masking and sign extension: the loop a large CT spends its time in. */
static gboolean convert_full_width(const guint8 *buf, const VigilPixelLayout *l, double a, double b,
                                   float *out) {
  const gsize n = pixel_count(l);
  if (l->bits_stored != l->bits_allocated || l->high_bit != l->bits_stored - 1)
    return FALSE;
  if (l->bits_allocated == 8 && l->is_signed)
    AFFINE(gint8);
  else if (l->bits_allocated == 8)
    AFFINE(guint8);
  else if (l->bits_allocated == 16 && l->is_signed)
    AFFINE(gint16);
  else if (l->bits_allocated == 16)
    AFFINE(guint16);
  else if (l->is_signed)
    AFFINE(gint32);
  else
    AFFINE(guint32);
  return TRUE;
}

static void convert_gray(const guint8 *buf, const VigilPixelLayout *l, float *out) {
  const gboolean invert = l->photometric == VIGIL_PHOTOMETRIC_MONOCHROME1;
  /* MONOCHROME1: v' = k - (s * slope + intercept), folded into a and b. */
  const double a = invert ? -l->slope : l->slope;
  const double b = invert ? vigil_pixels_mirror_constant(l) - l->intercept : l->intercept;
  if (convert_full_width(buf, l, a, b, out))
    return;
  const gsize n = pixel_count(l);
  for (gsize i = 0; i < n; i++)
    out[i] = (float)((double)stored_value(buf, i, l, l->is_signed) * a + b);
}

/* ---- colour ---- */

static void ybr_to_rgb(float *px) {
  const double y = px[0], cb = px[1] - 128, cr = px[2] - 128;
  px[0] = (float)CLAMP(y + 1.402 * cr, 0, 255);
  px[1] = (float)CLAMP(y - 0.344136 * cb - 0.714136 * cr, 0, 255);
  px[2] = (float)CLAMP(y + 1.772 * cb, 0, 255);
}

/* Where component c of pixel i is stored. */
static gsize color_index(const VigilPixelLayout *l, gsize n, gsize i, int c) {
  if (l->photometric == VIGIL_PHOTOMETRIC_YBR_FULL_422) /* Y0 Y1 Cb Cr per pixel pair */
    return c == 0 ? (i / 2) * 4 + (i % 2) : (i / 2) * 4 + 1 + (gsize)c;
  return l->planar ? (gsize)c * n + i : i * 3 + (gsize)c;
}

/* `have` samples are readable: an odd pixel count leaves YBR_FULL_422's last
 * pixel without its chroma pair, read as 0 rather than past the buffer. */
static void convert_color(const guint8 *buf, gsize have, const VigilPixelLayout *l, float *out) {
  const gsize n = pixel_count(l);
  const double scale = 255.0 / (ldexp(1.0, l->bits_stored) - 1);
  for (gsize i = 0; i < n; i++) {
    for (int c = 0; c < 3; c++) {
      const gsize src = color_index(l, n, i, c);
      const gint64 v = src < have ? stored_value(buf, src, l, FALSE) : 0;
      out[i * 3 + c] = (float)(v * scale);
    }
    if (l->photometric != VIGIL_PHOTOMETRIC_RGB)
      ybr_to_rgb(&out[i * 3]);
  }
}

gboolean vigil_pixels_convert(const VigilPixelLayout *l, const guint8 *data, gsize size, float *out,
                              gsize out_count, GError **error) {
  if (!layout_ok(l, error))
    return FALSE;
  const guint64 need = vigil_pixels_frame_bytes(l);
  if (size < need)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_TRUNCATED,
                           "%zu bytes of samples, %" G_GUINT64_FORMAT " needed for a %d x %d frame",
                           size, need, l->cols, l->rows);
  const gsize values = pixel_count(l) * (gsize)l->samples;
  if (out_count < values)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_INVALID, "room for %zu values, %zu needed",
                           out_count, values);
  if (l->samples == 3)
    convert_color(data, size / (gsize)(l->bits_allocated / 8), l, out);
  else
    convert_gray(data, l, out);
  return TRUE;
}

/* ---- RLE ----
 * Decoded here rather than by DcmRLEDecoder, which reads out of bounds on
 * corrupt segment tables (found by fuzzing, tests/fuzz/corpus-dicom). */

/* PackBits-decodes `in` into exactly `n` bytes written `stride` apart; a run
 * is cut where the input or the output ends. */
static gboolean unpack_segment(const guint8 *in, gsize len, guint8 *out, gsize n, gsize stride) {
  gsize o = 0, i = 0;
  while (o < n && i < len) {
    const int c = (gint8)in[i++];
    if (c >= 0) {
      for (int k = 0; k <= c && o < n && i < len; k++)
        out[stride * o++] = in[i++];
    } else if (c != -128 && i < len) {
      const guint8 v = in[i++];
      for (int k = 0; k < 1 - c && o < n; k++)
        out[stride * o++] = v;
    }
  }
  return o == n;
}

static guint32 table_entry(const guint8 *data, gsize index) {
  guint32 v;
  memcpy(&v, data + 4 * index, sizeof v);
  return GUINT32_FROM_LE(v);
}

gboolean vigil_rle_decode(const VigilPixelLayout *l, const guint8 *data, gsize size, guint8 *out,
                          gsize out_size, GError **error) {
  if (!layout_ok(l, error))
    return FALSE;
  const gsize bytes = (gsize)l->bits_allocated / 8, pixels = pixel_count(l);
  const gsize nseg = (gsize)l->samples * bytes, stride = nseg; /* at most 12 < 15 */
  if (out_size < pixels * stride)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_INVALID, "room for %zu bytes, %zu needed",
                           out_size, pixels * stride);
  if (size < RLE_TABLE_BYTES)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_TRUNCATED,
                           "%zu bytes, less than the segment table", size);
  if (table_entry(data, 0) != nseg)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_FORMAT, "%u segments, %zu expected",
                           table_entry(data, 0), nseg);
  for (gsize s = 0; s < nseg; s++) {
    const gsize start = table_entry(data, s + 1);
    const gsize end = s + 1 < nseg ? table_entry(data, s + 2) : size;
    if (start < RLE_TABLE_BYTES || start > end || end > size)
      return vigil_scan_fail(error, VIGIL_SCAN_ERROR_FORMAT, "bad segment offsets");
    /* Segment order: per sample, most significant byte first. */
    const gsize sample = s / bytes, byte = bytes - 1 - s % bytes;
    if (!unpack_segment(data + start, end - start, out + sample * bytes + byte, pixels, stride))
      return vigil_scan_fail(error, VIGIL_SCAN_ERROR_TRUNCATED, "segment %zu is short", s);
  }
  return TRUE;
}

/* One step of DCMTK's walk from `offset`: the next offset, or `size` when
 * the walk ends (a frame header, an invalid marker); -1 on TEM. */
static gssize jpeg_marker_step(const guint8 *d, gsize size, gsize offset) {
  const guint marker = ((guint)d[offset] << 8) | d[offset + 1];
  const gsize segment = (((gsize)d[offset + 2] << 8) | d[offset + 3]) + 2;
  if (marker == 0xff01)
    return -1; /* TEM: DCMTK does not move on */
  if (marker >= 0xffc0 && marker <= 0xffcf && marker != 0xffc4 && marker != 0xffc8 &&
      marker != 0xffcc)
    return (gssize)size; /* SOFn: the walk ends */
  if ((marker >= 0xffd0 && marker <= 0xffd9))
    return (gssize)(offset + 2); /* RSTm, SOI, EOI */
  if (marker == 0xffff)
    return (gssize)(offset + 1); /* fill byte */
  if ((marker >= 0xffc4 && marker <= 0xffcc) || (marker >= 0xffda && marker <= 0xfffe))
    return (gssize)(offset + segment); /* DHT, JPG, DAC, SOS, DQT, ..., APPn, JPGn, COM */
  if (d[offset] == 0xff && d[offset + 1] > 2 && d[offset + 1] <= 0xbf)
    return (gssize)(offset + 2); /* reserved markers */
  return (gssize)size;           /* an invalid marker: the walk stops */
}

gboolean vigil_jpeg_check_markers(const guint8 *data, gsize size, GError **error) {
  for (gsize offset = 0; data && offset + 4 < size;) {
    const gssize next = jpeg_marker_step(data, size, offset);
    if (next < 0)
      return vigil_scan_fail(error, VIGIL_SCAN_ERROR_FORMAT,
                             "the JPEG data has a TEM marker at byte %" G_GSIZE_FORMAT
                             " before its frame header, which DCMTK cannot decode past",
                             offset);
    offset = (gsize)next;
  }
  return TRUE;
}
