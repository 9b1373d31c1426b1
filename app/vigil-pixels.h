/* DICOM pixel arithmetic without DCMTK: stored samples to the values Vigil
 * shows (PS3.3 C.7.6.3 and C.11.1), and RLE frames to stored samples
 * (PS3.5 annex G). vigil-dicom*.cpp read the header and fetch the bytes; the
 * functions here trust nothing but the layout they check, so tests and fuzzers
 * can feed them hand-made bytes. Samples are little endian, as DCMTK hands
 * them over on the little-endian hosts Vigil builds for. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Photometric Interpretation, as far as conversion cares. */
typedef enum {
  VIGIL_PHOTOMETRIC_MONOCHROME2,  /* grey, higher is brighter */
  VIGIL_PHOTOMETRIC_MONOCHROME1,  /* grey, higher is darker: mirrored on conversion */
  VIGIL_PHOTOMETRIC_RGB,          /* colour, kept as it is */
  VIGIL_PHOTOMETRIC_YBR_FULL,     /* colour, full-range YCbCr converted to RGB */
  VIGIL_PHOTOMETRIC_YBR_FULL_422, /* YBR_FULL with chroma shared by pixel pairs: Y0 Y1 Cb Cr */
} VigilPhotometric;

/* One frame's samples as the Image Pixel module describes them. */
typedef struct {
  int rows, cols;
  int samples;             /* Samples per Pixel: 1 (grey) or 3 (colour) */
  gboolean planar;         /* Planar Configuration 1: RR..GG..BB.. (else RGBRGB..) */
  int bits_allocated;      /* 8, 16 or 32 */
  int bits_stored;         /* 1..bits_allocated */
  int high_bit;            /* bits_stored - 1..bits_allocated - 1 */
  gboolean is_signed;      /* Pixel Representation 1; colour samples are always unsigned */
  double slope, intercept; /* Rescale Slope / Intercept (grey only) */
  VigilPhotometric photometric;
} VigilPixelLayout;

/* The enum for a Photometric Interpretation (`length` bytes, -1: up to the
 * NUL; DICOM's trailing spaces ignored). Grey conversion only asks whether it
 * is MONOCHROME1, so every name that is not one of the others reads as
 * YBR_FULL: the colour models a codec may hand back (YBR_RCT, YBR_ICT,
 * YBR_PARTIAL_*) are converted with the YBR_FULL formulas. */
VigilPhotometric vigil_photometric_from_name(const char *name, gssize length);

/* Bytes one uncompressed frame occupies: rows * cols * samples samples of
 * bits_allocated / 8 bytes, two samples per pixel for YBR_FULL_422. */
guint64 vigil_pixels_frame_bytes(const VigilPixelLayout *layout);

/* The constant k of MONOCHROME1 mirroring, v' = k - v: the sum of the lowest
 * and highest modality values the stored bits can hold, so the range maps
 * onto itself (a window on mirrored values uses k - center). */
double vigil_pixels_mirror_constant(const VigilPixelLayout *layout);

/* One frame of stored samples (`size` bytes, at least
 * vigil_pixels_frame_bytes) into `out`: grey gives rows * cols modality
 * values (bits outside Bits Stored / High Bit masked off, sign extended at
 * Bits Stored, rescaled, MONOCHROME1 mirrored); colour gives rows * cols * 3
 * interleaved RGB values in 0..255 (samples scaled from Bits Stored, YBR
 * converted with the PS3.3 C.7.6.3.1.2 formulas). `out_count` is the floats
 * `out` holds. A bad layout, short input or small output is an error
 * (VIGIL_SCAN_ERROR_INVALID / _TRUNCATED). */
gboolean vigil_pixels_convert(const VigilPixelLayout *layout, const guint8 *data, gsize size,
                              float *out, gsize out_count, GError **error);

/* One RLE frame (`data`: the 64-byte segment table and its PackBits
 * segments, one per byte of each sample, most significant byte first) into
 * `out`: rows * cols * samples samples of bits_allocated / 8 bytes, little
 * endian and interleaved whatever layout->planar says. Segment offsets that
 * leave the frame, a wrong segment count and segments that end before their
 * share of the frame are errors (VIGIL_SCAN_ERROR_FORMAT / _TRUNCATED); no
 * byte outside `data` or `out` is ever touched. Bytes decoded past a
 * segment's share (some encoders pad that way) are dropped, as pydicom does. */
gboolean vigil_rle_decode(const VigilPixelLayout *layout, const guint8 *data, gsize size,
                          guint8 *out, gsize out_size, GError **error);

/* Walks a JPEG fragment's markers as DCMTK 3.6.7's decoder does before it
 * decodes (DJCodecDecoder::scanJpegDataForBitDepth) and refuses, with
 * VIGIL_SCAN_ERROR_FORMAT, a fragment on which that walk never ends: a TEM
 * marker (FF01) reached before a frame header, which it does not step over
 * (found by fuzzing, tests/fuzz/corpus-dicom/jpeg-tem-marker). */
gboolean vigil_jpeg_check_markers(const guint8 *data, gsize size, GError **error);

G_END_DECLS
