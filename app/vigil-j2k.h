/* JPEG 2000 and HTJ2K frames through OpenJPEG: one frame's codestream (raw
 * J2K, HTJ2K, or a JP2 file) decoded into the native pixel layout the DICOM
 * header describes, so the DICOM path converts it like uncompressed data. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the DICOM header says one frame holds. */
typedef struct {
  int width, height;  /* Columns, Rows */
  int components;     /* Samples per Pixel: 1 or 3 */
  int bits_allocated; /* 8 or 16 */
  int bits_stored;    /* 1..bits_allocated */
  gboolean is_signed; /* Pixel Representation 1 */
} VigilJ2kFrame;

/* What the codestream said. */
typedef struct {
  gboolean jp2;               /* wrapped in a JP2 file (boxes), not a raw codestream */
  gboolean htj2k;             /* high-throughput (Part 15) block coding */
  gboolean mct;               /* a multi-component transform (RCT/ICT): samples are RGB */
  gboolean reversible;        /* 5-3 wavelet (lossless possible), else 9-7 (lossy) */
  int precision;              /* bits per sample in the codestream */
  gboolean codestream_signed; /* may differ from the Pixel Representation */
} VigilJ2kInfo;

/* Largest side and pixel count a codestream may declare (as the DICOM loader). */
#define VIGIL_J2K_MAX_SIDE 65536
#define VIGIL_J2K_MAX_PIXELS ((gint64)1 << 28)

/* Decodes `data` (one frame's fragments joined) into `out`: exactly
 * width * height * components samples of bits_allocated / 8 bytes each,
 * little endian, interleaved (planar configuration 0). Samples keep their
 * bits: a codestream whose signedness disagrees with the Pixel Representation
 * is reinterpreted by the caller's masking and sign extension at Bits Stored
 * (DICOM PS3.5 8.2.4: the Pixel Representation decides). Sizes, component
 * count and subsampling must match `frame`; a codestream that disagrees, is
 * truncated or corrupt is an error (VIGIL_SCAN_ERROR_FORMAT / _TRUNCATED /
 * _INVALID / _UNSUPPORTED), never a crash. `info` may be NULL. */
gboolean vigil_j2k_decode(const guint8 *data, gsize size, const VigilJ2kFrame *frame, guint8 *out,
                          gsize out_size, VigilJ2kInfo *info, GError **error);

/* TRUE if `data` starts a J2K codestream (SOC + SIZ) or a JP2 signature box:
 * where a frame begins among fragments without an offset table. */
gboolean vigil_j2k_is_frame_start(const guint8 *data, gsize size);

G_END_DECLS
