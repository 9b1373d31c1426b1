/* What the DICOM sources share (not installed):
 *   vigil-dicom.cpp         the header (layout, info), reading frames, the C API
 *   vigil-dicom-load.cpp    opening files: DCMTK's codecs, deflated datasets, memory files
 *   vigil-dicom-codecs.cpp  encapsulated frames: fragments, RLE, JPEG 2000 / HTJ2K
 * The arithmetic on the samples (conversion, RLE's PackBits) is plain C in
 * vigil-pixels.c. */
#pragma once

#include <dcmtk/config/osconfig.h>
/* osconfig first */
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <glib.h>
#include <memory>
#include <string_view>

#include "vigil-pixels.h"

namespace vigil_dicom {

constexpr Uint32 kLazyBytes = 4096; /* larger values stay in the file until needed */

/* The pixel coding a file uses, as its meta header names it. DCMTK 3.6.7 has
 * no JPEG 2000 codec and does not know HTJ2K's UIDs (it reads those datasets
 * as explicit little endian with encapsulated pixel data), so these are
 * decided here rather than by DcmXfer. */
enum class Coding { Native, Dcmtk, Rle, J2k };

/* Image description shared by validation and decoding. */
struct Layout {
  int rows = 0, cols = 0, frames = 1, spp = 1, planar = 0;
  int bits_allocated = 0, bits_stored = 0, high_bit = 0, signed_px = 0;
  double slope = 1, intercept = 0;
  OFString photometric;
  bool compressed = false;
  Coding coding = Coding::Native;
  E_TransferSyntax xfer = EXS_Unknown; /* DCMTK's view of the dataset */
  OFString xfer_uid;                   /* the file's own Transfer Syntax UID */
};

std::string_view trim(const OFString &s);
/* `l` for vigil-pixels.h, with `photometric` (trimmed) as the colour model. */
VigilPixelLayout pixel_layout(const Layout &l, std::string_view photometric);

/* A file image in an anonymous memory file, named /proc/self/fd/N: DCMTK
 * reads it like a file, leaving large values unread and checking lengths
 * against the file size (its buffer stream would allocate whatever a
 * header claims). */
class MemoryFile {
public:
  MemoryFile(const guint8 *data, gsize size);
  ~MemoryFile();
  MemoryFile(const MemoryFile &) = delete;
  MemoryFile &operator=(const MemoryFile &) = delete;
  const char *path() const { return path_; }
  bool append(const void *data, gsize size);

private:
  int fd_ = -1;
  char *path_ = nullptr;
};

/* vigil-dicom-load.cpp */

/* DCMTK's decoders registered and its log quietened (errors go through
 * GError), once per process; every entry point that uses DCMTK calls it. */
void init_dcmtk();

/* An opened file. A deflated dataset is inflated into a memory file that
 * DCMTK reads as explicit little endian; it must live as long as `ff`,
 * whose values load lazily from it. */
struct Loaded {
  DcmFileFormat ff;
  std::unique_ptr<MemoryFile> inflated;
  OFString xfer_uid; /* the file's Transfer Syntax UID, before any inflation */
};
bool load_path(Loaded &loaded, const char *path, GError **error);

/* vigil-dicom-codecs.cpp */

/* Bytes in all fragments of encapsulated pixel data. */
guint64 compressed_bytes(DcmPixelData *px);
/* One RLE frame into `bytes` of native little-endian, interleaved samples
 * (vigil_rle_decode on the frame's fragment). */
bool decode_rle(DcmPixelData *px, const Layout &l, int frame, guint8 *buf, gsize bytes,
                GError **error);
/* One JPEG 2000 / HTJ2K frame into `bytes` of native little-endian,
 * interleaved samples (bits kept, see vigil-j2k.h); *rgb tells whether the
 * codestream's colour transform already made the samples RGB. */
bool decode_j2k(DcmPixelData *px, const Layout &l, int frame, guint8 *buf, gsize bytes, bool *rgb,
                GError **error);
/* Before DCMTK's JPEG decoder (1.2.840.10008.1.2.4.50 to .79) sees the
 * fragments: false (told why) when one would make it loop forever
 * (vigil_jpeg_check_markers). Other transfer syntaxes pass. */
bool check_jpeg(DcmPixelData *px, const Layout &l, GError **error);

} // namespace vigil_dicom
