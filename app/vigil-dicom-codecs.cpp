/* Encapsulated frames: the fragments of one frame, RLE (its fragment through
 * vigil-pixels.c), and JPEG 2000 / HTJ2K (joined fragments through
 * vigil-j2k.c). DCMTK's own codecs (JPEG, JPEG-LS) are called from
 * vigil-dicom.cpp. */
#include "vigil-dicom-private.h"

#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <vector>

#include "vigil-j2k.h"
#include "vigil-scan-error.h"

namespace vigil_dicom {

namespace {

/* The fragments as read, whatever DCMTK thinks the transfer syntax is
 * (HTJ2K datasets are "explicit little endian" to DCMTK 3.6.7). */
DcmPixelSequence *pixel_sequence(DcmPixelData *px) {
  E_TransferSyntax xfer = EXS_Unknown;
  const DcmRepresentationParameter *param = nullptr;
  px->getOriginalRepresentationKey(xfer, param);
  DcmPixelSequence *seq = nullptr;
  if (px->getEncapsulatedRepresentation(xfer, param, seq).bad())
    return nullptr;
  return seq;
}

} // namespace

guint64 compressed_bytes(DcmPixelData *px) {
  DcmPixelSequence *seq = pixel_sequence(px);
  if (!seq)
    return 0;
  guint64 total = 0;
  for (unsigned long i = 0; i < seq->card(); i++) {
    DcmPixelItem *item = nullptr;
    if (seq->getItem(item, i).good() && item)
      total += item->getLength();
  }
  return total;
}

/* One frame: its own fragment (PS3.5 A.4), decoded by vigil-pixels.c rather
 * than by DcmRLEDecoder, which reads out of bounds on corrupt segment tables
 * (found by fuzzing, tests/fuzz/corpus-dicom). */
bool decode_rle(DcmPixelData *px, const Layout &l, int frame, guint8 *buf, gsize bytes,
                GError **error) {
  DcmPixelSequence *seq = pixel_sequence(px);
  DcmPixelItem *item = nullptr;
  Uint8 *data = nullptr;
  if (!seq || seq->getItem(item, (unsigned long)frame + 1).bad() || !item ||
      item->getUint8Array(data).bad() || !data)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_TRUNCATED, "no RLE fragment for frame %d",
                           frame);
  const VigilPixelLayout p = pixel_layout(l, trim(l.photometric));
  if (vigil_rle_decode(&p, data, item->getLength(), buf, bytes, error))
    return true;
  g_prefix_error(error, "RLE frame %d: ", frame);
  return false;
}

namespace {

/* Fragment `i`'s bytes (loaded from the file on first use), or false. */
bool fragment(DcmPixelSequence *seq, unsigned long i, Uint8 *&data, Uint32 &length) {
  DcmPixelItem *item = nullptr;
  data = nullptr;
  length = 0;
  if (seq->getItem(item, i).bad() || !item)
    return false;
  length = item->getLength();
  return length == 0 || (item->getUint8Array(data).good() && data);
}

/* Where frame `frame`'s fragments are: [first, end). One frame takes them
 * all; otherwise the Basic Offset Table, or one fragment per frame, as DCMTK
 * determines them; failing both (no table, frames split over fragments), a
 * new frame at each fragment that starts a codestream. */
bool frame_fragments(DcmPixelSequence *seq, int frames, int frame, unsigned long &first,
                     unsigned long &end, GError **error) {
  const unsigned long n = seq->card(); /* item 0 is the offset table */
  if (n < 2)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_TRUNCATED, "the pixel data holds no fragment");
  if (frames == 1) {
    first = 1, end = n;
    return true;
  }
  Uint32 start = 0, next = 0;
  if (DcmCodec::determineStartFragment((Uint32)frame, frames, seq, start).good() && start > 0 &&
      start < n) {
    const bool last = frame + 1 == frames;
    if (last || (DcmCodec::determineStartFragment((Uint32)frame + 1, frames, seq, next).good() &&
                 next > start && next <= n)) {
      first = start, end = last ? n : next;
      return true;
    }
  }
  std::vector<unsigned long> starts;
  for (unsigned long i = 1; i < n; i++) {
    Uint8 *data;
    Uint32 length;
    if (fragment(seq, i, data, length) && vigil_j2k_is_frame_start(data, length))
      starts.push_back(i);
  }
  if ((int)starts.size() != frames || starts[0] != 1)
    return vigil_scan_fail(
        error, VIGIL_SCAN_ERROR_FORMAT,
        "cannot tell where frame %d starts: %zu of %lu fragments start a codestream "
        "for %d frames, and no offset table says",
        frame, starts.size(), n - 1, frames);
  first = starts[(size_t)frame];
  end = frame + 1 < frames ? starts[(size_t)frame + 1] : n;
  return true;
}

/* One frame's fragments joined. */
bool join_frame(DcmPixelData *px, const Layout &l, int frame, std::vector<guint8> &out,
                GError **error) {
  DcmPixelSequence *seq = pixel_sequence(px);
  if (!seq)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_FORMAT, "the pixel data is not encapsulated");
  unsigned long first = 0, end = 0;
  if (!frame_fragments(seq, l.frames, frame, first, end, error))
    return false;
  for (unsigned long i = first; i < end; i++) {
    Uint8 *data;
    Uint32 length;
    if (!fragment(seq, i, data, length))
      return vigil_scan_fail(error, VIGIL_SCAN_ERROR_TRUNCATED,
                             "fragment %lu of frame %d cannot be read", i, frame);
    out.insert(out.end(), data, data + length);
  }
  return true;
}

} // namespace

bool check_jpeg(DcmPixelData *px, const Layout &l, GError **error) {
  const char *uid = DcmXfer(l.xfer).getXferID();
  const char *prefix = "1.2.840.10008.1.2.4.";
  if (!uid || !g_str_has_prefix(uid, prefix))
    return true;
  const long process = strtol(uid + strlen(prefix), nullptr, 10);
  DcmPixelSequence *seq = process >= 50 && process <= 79 ? pixel_sequence(px) : nullptr;
  for (unsigned long i = 1; seq && i < seq->card(); i++) { /* item 0: the offset table */
    Uint8 *data = nullptr;
    Uint32 length = 0;
    if (fragment(seq, i, data, length) && !vigil_jpeg_check_markers(data, length, error)) {
      g_prefix_error(error, "fragment %lu: ", i);
      return false;
    }
  }
  return true;
}

bool decode_j2k(DcmPixelData *px, const Layout &l, int frame, guint8 *buf, gsize bytes, bool *rgb,
                GError **error) {
  std::vector<guint8> codestream;
  if (!join_frame(px, l, frame, codestream, error))
    return false;
  const VigilJ2kFrame want = {l.cols,           l.rows,        l.spp,
                              l.bits_allocated, l.bits_stored, l.signed_px != 0};
  VigilJ2kInfo info;
  if (!vigil_j2k_decode(codestream.data(), codestream.size(), &want, buf, bytes, &info, error)) {
    g_prefix_error(error, "frame %d: ", frame);
    return false;
  }
  *rgb = info.mct;
  return true;
}

} // namespace vigil_dicom
