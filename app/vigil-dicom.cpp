/* DICOM through DCMTK (C++17), behind the C API of vigil-dicom.h.
 * Headers are read with values above kLazyBytes left on disk, so scanning a
 * folder never loads pixel data; a frame is read (and decompressed) alone
 * through DcmPixelData::getUncompressedFrame. */
#include "vigil-dicom.h"

#include <dcmtk/config/osconfig.h>
/* osconfig first */
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <memory>
#include <string_view>
#include <glib/gstdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vigil-scan-error.h"

namespace {

constexpr Uint32 kLazyBytes = 4096; /* larger values stay in the file until needed */
/* No codec we register packs more than this many bytes of pixels into one
 * compressed byte in practice (RLE at most 64); more means a lying header. */
constexpr guint64 kMaxCompression = 4096;

void init_dcmtk() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    /* Errors are reported through GError; DCMTK's own log would be noise. */
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();   /* JPEG baseline, extended, lossless */
    DJLSDecoderRegistration::registerCodecs(); /* JPEG-LS */
    DcmRLEDecoderRegistration::registerCodecs();
    g_once_init_leave(&once, 1);
  }
}

/* Image description shared by validation and decoding. */
struct Layout {
  int rows = 0, cols = 0, frames = 1, spp = 1, planar = 0;
  int bits_allocated = 0, bits_stored = 0, high_bit = 0, signed_px = 0;
  double slope = 1, intercept = 0;
  OFString photometric;
  bool compressed = false;
  E_TransferSyntax xfer = EXS_Unknown;
};

std::string_view trim(const OFString &s) {
  std::string_view v(s.c_str(), s.length());
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0'))
    v.remove_suffix(1);
  return v;
}

char *dup_string(DcmItem *item, const DcmTagKey &key) {
  OFString value;
  if (item->findAndGetOFStringArray(key, value).bad())
    return g_strdup("");
  std::string_view v = trim(value);
  return g_utf8_make_valid(v.data(), (gssize)v.size()); /* charset conversion may fail */
}

int get_int(DcmItem *item, const DcmTagKey &key, int fallback, bool *found = nullptr) {
  Sint32 value = 0;
  OFCondition c = item->findAndGetSint32(key, value);
  if (c.bad()) {
    Uint16 u = 0;
    c = item->findAndGetUint16(key, u);
    value = u;
  }
  if (found)
    *found = c.good();
  return c.good() ? (int)value : fallback;
}

bool get_doubles(DcmItem *item, const DcmTagKey &key, double *out, int n) {
  for (int i = 0; i < n; i++) {
    Float64 v;
    if (item->findAndGetFloat64(key, v, (unsigned long)i).bad() || !std::isfinite(v))
      return false;
    out[i] = v;
  }
  return true;
}

bool set_error(GError **error, int code, const char *format, ...) G_GNUC_PRINTF(3, 4);
bool set_error(GError **error, int code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  g_autofree char *msg = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error_literal(error, VIGIL_SCAN_ERROR, code, msg);
  return false;
}

bool is_color_model(std::string_view p) {
  return p == "RGB" || p == "YBR_FULL" || p == "YBR_FULL_422";
}

/* Bytes in one native frame. YBR_FULL_422 stores two chroma samples per two pixels. */
guint64 native_frame_bytes(const Layout &l) {
  guint64 samples = (guint64)l.rows * l.cols * l.spp;
  if (trim(l.photometric) == "YBR_FULL_422")
    samples = (guint64)l.rows * l.cols * 2;
  return samples * (guint64)(l.bits_allocated / 8);
}

bool check_xfer(const Layout &l, GError **error) {
  DcmXfer x(l.xfer);
  if (!x.isEncapsulated())
    return true;
  if (DcmCodecList::canChangeCoding(l.xfer, EXS_LittleEndianExplicit))
    return true;
  return set_error(error, VIGIL_SCAN_ERROR_UNSUPPORTED,
                   "transfer syntax '%s' (%s) is not supported; Vigil decodes uncompressed, "
                   "RLE, JPEG baseline/extended/lossless and JPEG-LS",
                   x.getXferName(), x.getXferID());
}

/* Enhanced multi-frame objects keep geometry and rescale in functional group
 * macros: the frame's own item first, then the shared one. */
DcmItem *functional_group(DcmDataset *ds, const DcmTagKey &macro, int frame) {
  DcmItem *group = nullptr, *item = nullptr;
  if (ds->findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, group, frame).good() &&
      group && group->findAndGetSequenceItem(macro, item, 0).good() && item)
    return item;
  if (ds->findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, group, 0).good() && group &&
      group->findAndGetSequenceItem(macro, item, 0).good() && item)
    return item;
  return nullptr;
}

/* Pixel Spacing (mm), falling back to Imager Pixel Spacing and the frame's
 * Pixel Measures macro; false (and zeros) when none is valid. */
bool pixel_spacing(DcmDataset *ds, int frame, double out[2]) {
  DcmItem *measures = functional_group(ds, DCM_PixelMeasuresSequence, frame);
  bool ok = get_doubles(ds, DCM_PixelSpacing, out, 2) ||
            get_doubles(ds, DCM_ImagerPixelSpacing, out, 2) ||
            (measures && get_doubles(measures, DCM_PixelSpacing, out, 2));
  if (!ok || out[0] <= 0 || out[1] <= 0) {
    out[0] = out[1] = 0;
    return false;
  }
  return true;
}

/* Reads and checks the image description: every later step may trust it. */
bool read_layout(DcmDataset *ds, Layout &l, GError **error) {
  l.xfer = ds->getOriginalXfer();
  l.compressed = DcmXfer(l.xfer).isEncapsulated();
  bool has_rows = false, has_cols = false;
  l.rows = get_int(ds, DCM_Rows, 0, &has_rows);
  l.cols = get_int(ds, DCM_Columns, 0, &has_cols);
  if (!has_rows || !has_cols)
    return set_error(error, VIGIL_SCAN_ERROR_FORMAT,
                     "no Rows/Columns (0028,0010/0011): not an image");
  if (l.rows < 1 || l.cols < 1 || (gint64)l.rows * l.cols > ((gint64)1 << 28))
    return set_error(error, VIGIL_SCAN_ERROR_INVALID,
                     "image size %d x %d (Columns x Rows) is "
                     "out of range",
                     l.cols, l.rows);
  l.spp = get_int(ds, DCM_SamplesPerPixel, 1);
  l.planar = get_int(ds, DCM_PlanarConfiguration, 0);
  l.bits_allocated = get_int(ds, DCM_BitsAllocated, 0);
  l.bits_stored = get_int(ds, DCM_BitsStored, l.bits_allocated);
  l.high_bit = get_int(ds, DCM_HighBit, l.bits_stored - 1);
  l.signed_px = get_int(ds, DCM_PixelRepresentation, 0) == 1;
  if (ds->findAndGetOFString(DCM_PhotometricInterpretation, l.photometric).bad())
    l.photometric = l.spp == 3 ? "RGB" : "MONOCHROME2";
  std::string_view pi = trim(l.photometric);
  OFString frames;
  if (ds->findAndGetOFString(DCM_NumberOfFrames, frames).good()) {
    char *end = nullptr;
    gint64 n = g_ascii_strtoll(frames.c_str(), &end, 10);
    if (n < 1 || n > VIGIL_DICOM_MAX_FRAMES)
      return set_error(error, VIGIL_SCAN_ERROR_INVALID,
                       "Number of Frames '%s' is out of range (1..%d)", frames.c_str(),
                       VIGIL_DICOM_MAX_FRAMES);
    l.frames = (int)n;
  }
  if (l.bits_allocated != 8 && l.bits_allocated != 16 && l.bits_allocated != 32)
    return set_error(error, VIGIL_SCAN_ERROR_UNSUPPORTED,
                     "Bits Allocated %d is not supported (8, 16 or 32)", l.bits_allocated);
  if (l.bits_stored < 1 || l.bits_stored > l.bits_allocated)
    return set_error(error, VIGIL_SCAN_ERROR_INVALID,
                     "Bits Stored %d does not fit Bits "
                     "Allocated %d",
                     l.bits_stored, l.bits_allocated);
  if (l.high_bit < l.bits_stored - 1 || l.high_bit >= l.bits_allocated)
    l.high_bit = l.bits_stored - 1; /* inconsistent High Bit: the usual layout */
  if (l.spp == 1 && pi != "MONOCHROME1" && pi != "MONOCHROME2")
    return set_error(error, VIGIL_SCAN_ERROR_UNSUPPORTED,
                     "Photometric Interpretation '%s' with one sample is not supported",
                     l.photometric.c_str());
  if (l.spp == 3 && (!is_color_model(pi) || l.bits_allocated == 32))
    return set_error(error, VIGIL_SCAN_ERROR_UNSUPPORTED,
                     "colour image '%s' with %d bits is not supported", l.photometric.c_str(),
                     l.bits_allocated);
  if (l.spp != 1 && l.spp != 3)
    return set_error(error, VIGIL_SCAN_ERROR_INVALID, "Samples per Pixel %d (must be 1 or 3)",
                     l.spp);
  DcmItem *rescale = ds;
  if (!ds->tagExists(DCM_RescaleSlope) && l.frames > 1) /* enhanced: frame 0's or shared */
    rescale = functional_group(ds, DCM_PixelValueTransformationSequence, 0);
  if (!rescale || rescale->findAndGetFloat64(DCM_RescaleSlope, l.slope).bad() ||
      !std::isfinite(l.slope) || l.slope == 0)
    l.slope = 1;
  if (!rescale || rescale->findAndGetFloat64(DCM_RescaleIntercept, l.intercept).bad() ||
      !std::isfinite(l.intercept))
    l.intercept = 0;
  return check_xfer(l, error);
}

DcmPixelData *find_pixels(DcmDataset *ds, const Layout &l, GError **error) {
  DcmElement *elem = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, elem).bad() || !elem || elem->ident() != EVR_PixelData) {
    set_error(error, VIGIL_SCAN_ERROR_FORMAT, "no Pixel Data (7FE0,0010) in this file");
    return nullptr;
  }
  auto *px = static_cast<DcmPixelData *>(elem);
  if (!l.compressed) {
    guint64 need = native_frame_bytes(l) * (guint64)l.frames;
    if ((guint64)px->getLength() < need) {
      set_error(error, VIGIL_SCAN_ERROR_TRUNCATED,
                "Pixel Data holds %u bytes, %" G_GUINT64_FORMAT " needed for %d frame(s) of "
                "%d x %d",
                (unsigned)px->getLength(), need, l.frames, l.cols, l.rows);
      return nullptr;
    }
  }
  return px;
}

/* Modality-value range of the stored bits, for MONOCHROME1 mirroring. */
double mirror_constant(const Layout &l) {
  double lo = l.signed_px ? -std::ldexp(1.0, l.bits_stored - 1) : 0;
  double hi =
      l.signed_px ? std::ldexp(1.0, l.bits_stored - 1) - 1 : std::ldexp(1.0, l.bits_stored) - 1;
  return (lo + hi) * l.slope + 2 * l.intercept;
}

void fill_windows(DcmDataset *ds, const Layout &l, VigilDicomInfo *info) {
  DcmElement *centers = nullptr, *widths = nullptr;
  if (ds->findAndGetElement(DCM_WindowCenter, centers).bad() ||
      ds->findAndGetElement(DCM_WindowWidth, widths).bad())
    return;
  int n = (int)MIN(centers->getVM(), widths->getVM());
  n = MIN(n, 64);
  info->windows = g_new0(VigilDicomWindow, MAX(n, 1));
  const double k = mirror_constant(l);
  for (int i = 0; i < n; i++) {
    Float64 c, w;
    if (centers->getFloat64(c, (unsigned long)i).bad() ||
        widths->getFloat64(w, (unsigned long)i).bad() || !std::isfinite(c) || !std::isfinite(w) ||
        w < 1)
      continue;
    VigilDicomWindow *win = &info->windows[info->n_windows++];
    win->center = info->inverted ? k - c : c;
    win->width = w;
    OFString text;
    if (ds->findAndGetOFString(DCM_WindowCenterWidthExplanation, text, (unsigned long)i).good())
      win->explanation = g_utf8_make_valid(trim(text).data(), (gssize)trim(text).size());
    else
      win->explanation = g_strdup("");
  }
}

/* Geometry of enhanced multi-frame files: positions per frame, and the
 * orientation and pixel measures when the top level has none. */
void fill_frame_geometry(DcmDataset *ds, VigilDicomInfo *info) {
  DcmItem *item;
  if (!info->has_orientation && (item = functional_group(ds, DCM_PlaneOrientationSequence, 0)))
    info->has_orientation = get_doubles(item, DCM_ImageOrientationPatient, info->orientation, 6);
  if (info->slice_thickness <= 0 && (item = functional_group(ds, DCM_PixelMeasuresSequence, 0)) &&
      !get_doubles(item, DCM_SliceThickness, &info->slice_thickness, 1))
    info->slice_thickness = 0;
  double *pos = g_new(double, 3 * (gsize)info->frames);
  for (int f = 0; f < info->frames; f++) {
    item = functional_group(ds, DCM_PlanePositionSequence, f);
    if (!item || !get_doubles(item, DCM_ImagePositionPatient, pos + 3 * f, 3)) {
      g_free(pos);
      return;
    }
  }
  info->frame_positions = pos;
  if (!info->has_position)
    memcpy(info->position, pos, sizeof info->position), info->has_position = TRUE;
}

void fill_strings(DcmDataset *ds, VigilDicomInfo *info) {
  info->patient_name = dup_string(ds, DCM_PatientName);
  info->patient_id = dup_string(ds, DCM_PatientID);
  info->patient_sex = dup_string(ds, DCM_PatientSex);
  info->patient_birth_date = dup_string(ds, DCM_PatientBirthDate);
  info->study_date = dup_string(ds, DCM_StudyDate);
  info->study_description = dup_string(ds, DCM_StudyDescription);
  info->study_uid = dup_string(ds, DCM_StudyInstanceUID);
  info->series_description = dup_string(ds, DCM_SeriesDescription);
  info->series_uid = dup_string(ds, DCM_SeriesInstanceUID);
  info->modality = dup_string(ds, DCM_Modality);
  info->body_part = dup_string(ds, DCM_BodyPartExamined);
  info->manufacturer = dup_string(ds, DCM_Manufacturer);
  info->sop_instance_uid = dup_string(ds, DCM_SOPInstanceUID);
}

VigilDicomInfo *info_from(DcmFileFormat &ff, const char *name, GError **error) {
  DcmDataset *ds = ff.getDataset();
  Layout l;
  if (!read_layout(ds, l, error))
    return nullptr;
  DcmPixelData *px = find_pixels(ds, l, error);
  if (!px)
    return nullptr;
  ds->convertToUTF8(); /* best effort: strings are made valid UTF-8 below anyway */
  VigilDicomInfo *info = g_new0(VigilDicomInfo, 1);
  info->path = g_strdup(name);
  fill_strings(ds, info);
  DcmXfer x(l.xfer);
  info->transfer_syntax_uid = g_strdup(x.getXferID());
  info->transfer_syntax_name = g_strdup(x.getXferName());
  info->photometric = g_strndup(trim(l.photometric).data(), trim(l.photometric).size());
  bool found = false;
  info->instance_number = get_int(ds, DCM_InstanceNumber, 0, &found);
  info->has_instance_number = found;
  info->has_position = get_doubles(ds, DCM_ImagePositionPatient, info->position, 3);
  info->has_orientation = get_doubles(ds, DCM_ImageOrientationPatient, info->orientation, 6);
  info->has_pixel_spacing = pixel_spacing(ds, 0, info->pixel_spacing);
  if (!get_doubles(ds, DCM_SliceThickness, &info->slice_thickness, 1))
    info->slice_thickness = 0;
  info->rows = l.rows, info->cols = l.cols, info->frames = l.frames;
  info->samples_per_pixel = l.spp;
  info->bits_allocated = l.bits_allocated, info->bits_stored = l.bits_stored;
  info->pixel_representation = l.signed_px;
  info->rescale_slope = l.slope, info->rescale_intercept = l.intercept;
  info->inverted = trim(l.photometric) == "MONOCHROME1";
  if (l.frames > 1)
    fill_frame_geometry(ds, info);
  fill_windows(ds, l, info);
  info->has_pixel_data = TRUE;
  info->compressed = l.compressed;
  return info;
}

/* Bytes in all fragments of encapsulated pixel data. */
guint64 compressed_bytes(DcmPixelData *px, E_TransferSyntax xfer) {
  DcmPixelSequence *seq = nullptr;
  if (px->getEncapsulatedRepresentation(xfer, nullptr, seq).bad() || !seq)
    return 0;
  guint64 total = 0;
  for (unsigned long i = 0; i < seq->card(); i++) {
    DcmPixelItem *item = nullptr;
    if (seq->getItem(item, i).good() && item)
      total += item->getLength();
  }
  return total;
}

/* ---- RLE ----
 * Decoded here rather than by DcmRLEDecoder, which reads out of bounds on
 * corrupt segment tables (found by fuzzing, tests/fuzz/corpus-dicom). */

/* PackBits-decodes `in` into exactly `n` bytes written `stride` apart. */
bool unpack_segment(const guint8 *in, gsize len, guint8 *out, gsize n, gsize stride) {
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

/* One frame (its own fragment, PS3.5 A.4) into native little-endian,
 * interleaved samples. */
bool decode_rle(DcmPixelData *px, const Layout &l, int frame, guint8 *buf, GError **error) {
  DcmPixelSequence *seq = nullptr;
  DcmPixelItem *item = nullptr;
  Uint8 *data = nullptr;
  if (px->getEncapsulatedRepresentation(l.xfer, nullptr, seq).bad() || !seq ||
      seq->getItem(item, (unsigned long)frame + 1).bad() || !item ||
      item->getUint8Array(data).bad() || !data || item->getLength() < 64)
    return set_error(error, VIGIL_SCAN_ERROR_TRUNCATED, "no RLE fragment for frame %d", frame);
  const gsize len = item->getLength(), bytes = (gsize)l.bits_allocated / 8;
  const gsize pixels = (gsize)l.rows * l.cols, nseg = (gsize)l.spp * bytes;
  guint32 header[16];
  memcpy(header, data, sizeof header);
  if (GUINT32_FROM_LE(header[0]) != nseg)
    return set_error(error, VIGIL_SCAN_ERROR_FORMAT, "RLE frame %d has %u segments, %zu expected",
                     frame, GUINT32_FROM_LE(header[0]), nseg);
  for (gsize s = 0; s < nseg; s++) {
    const gsize start = GUINT32_FROM_LE(header[s + 1]);
    const gsize end = s + 1 < nseg ? GUINT32_FROM_LE(header[s + 2]) : len;
    if (start < 64 || start > end || end > len)
      return set_error(error, VIGIL_SCAN_ERROR_FORMAT, "RLE frame %d: bad segment offsets", frame);
    /* Segment order: per sample, most significant byte first. */
    const gsize sample = s / bytes, byte = bytes - 1 - s % bytes;
    guint8 *out = buf + sample * bytes + byte;
    if (!unpack_segment(data + start, end - start, out, pixels, (gsize)l.spp * bytes))
      return set_error(error, VIGIL_SCAN_ERROR_TRUNCATED, "RLE frame %d: segment %zu is short",
                       frame, s);
  }
  return true;
}

/* ---- pixel conversion ---- */

inline gint64 stored_value(const guint8 *buf, gsize index, const Layout &l) {
  guint64 raw;
  if (l.bits_allocated == 8)
    raw = buf[index];
  else if (l.bits_allocated == 16)
    raw = ((const guint16 *)buf)[index];
  else
    raw = ((const guint32 *)buf)[index];
  raw >>= l.high_bit + 1 - l.bits_stored;
  raw &= (((guint64)1) << l.bits_stored) - 1;
  gint64 v = (gint64)raw;
  if (l.signed_px && (raw >> (l.bits_stored - 1)))
    v -= (gint64)1 << l.bits_stored;
  return v;
}

/* out = stored * a + b, with T the sample type; the common cases (all bits
 * stored, no shift) skip masking and sign extension per pixel. */
template <typename T>
void convert_typed(const guint8 *buf, const Layout &l, double a, double b, float *out) {
  const gsize n = (gsize)l.rows * l.cols;
  const T *px = (const T *)buf;
  if (l.bits_stored == (int)sizeof(T) * 8 && l.high_bit == l.bits_stored - 1) {
    for (gsize i = 0; i < n; i++)
      out[i] = (float)((double)px[i] * a + b);
    return;
  }
  for (gsize i = 0; i < n; i++)
    out[i] = (float)((double)stored_value(buf, i, l) * a + b);
}

void convert_gray(const guint8 *buf, const Layout &l, VigilImage *img) {
  const bool invert = trim(l.photometric) == "MONOCHROME1";
  /* MONOCHROME1: v' = k - (s * slope + intercept), folded into a and b. */
  const double a = invert ? -l.slope : l.slope;
  const double b = invert ? mirror_constant(l) - l.intercept : l.intercept;
  float *out = img->values;
  if (l.bits_allocated == 8)
    l.signed_px ? convert_typed<gint8>(buf, l, a, b, out)
                : convert_typed<guint8>(buf, l, a, b, out);
  else if (l.bits_allocated == 16)
    l.signed_px ? convert_typed<gint16>(buf, l, a, b, out)
                : convert_typed<guint16>(buf, l, a, b, out);
  else
    l.signed_px ? convert_typed<gint32>(buf, l, a, b, out)
                : convert_typed<guint32>(buf, l, a, b, out);
}

void ybr_to_rgb(float *px) {
  const double y = px[0], cb = px[1] - 128, cr = px[2] - 128;
  px[0] = (float)CLAMP(y + 1.402 * cr, 0, 255);
  px[1] = (float)CLAMP(y - 0.344136 * cb - 0.714136 * cr, 0, 255);
  px[2] = (float)CLAMP(y + 1.772 * cb, 0, 255);
}

void convert_color(const guint8 *buf, const Layout &l, std::string_view model, VigilImage *img) {
  const gsize n = (gsize)l.rows * l.cols;
  const double scale = 255.0 / (std::ldexp(1.0, l.bits_stored) - 1);
  Layout u = l;
  u.signed_px = 0; /* colour samples are unsigned */
  for (gsize i = 0; i < n; i++) {
    for (int c = 0; c < 3; c++) {
      gsize src;
      if (model == "YBR_FULL_422") /* Y0 Y1 Cb Cr per pixel pair, interleaved */
        src = c == 0 ? (i / 2) * 4 + (i % 2) : (i / 2) * 4 + 1 + c;
      else
        src = l.planar == 1 ? c * n + i : i * 3 + c;
      img->values[i * 3 + c] = (float)(stored_value(buf, src, u) * scale);
    }
    if (model != "RGB")
      ybr_to_rgb(&img->values[i * 3]);
  }
}

VigilImage *decode_from(DcmFileFormat &ff, int frame, GError **error) {
  DcmDataset *ds = ff.getDataset();
  Layout l;
  if (!read_layout(ds, l, error))
    return nullptr;
  if (frame < 0 || frame >= l.frames) {
    set_error(error, VIGIL_SCAN_ERROR_INVALID, "frame %d is out of range: the file has %d", frame,
              l.frames);
    return nullptr;
  }
  DcmPixelData *px = find_pixels(ds, l, error);
  if (!px)
    return nullptr;
  guint64 bytes = l.compressed ? (guint64)l.rows * l.cols * l.spp * (l.bits_allocated / 8)
                               : native_frame_bytes(l);
  if (l.compressed) { /* let DCMTK say what the codec will produce, then check it fits */
    Uint32 size = 0;
    if (px->getUncompressedFrameSize(ds, size).bad() || size > bytes) {
      set_error(error, VIGIL_SCAN_ERROR_INVALID, "cannot size a decompressed frame");
      return nullptr;
    }
    /* A hostile header may claim a huge image over a few bytes of data. */
    guint64 have = compressed_bytes(px, l.xfer);
    if (bytes * (guint64)l.frames > have * kMaxCompression) {
      set_error(error, VIGIL_SCAN_ERROR_TRUNCATED,
                "%" G_GUINT64_FORMAT " compressed bytes cannot hold %d frame(s) of %d x %d", have,
                l.frames, l.cols, l.rows);
      return nullptr;
    }
  }
  g_autofree guint8 *buf = (guint8 *)g_try_malloc0(bytes + 2);
  if (!buf) {
    set_error(error, VIGIL_SCAN_ERROR_INVALID, "not enough memory for a %d x %d frame", l.cols,
              l.rows);
    return nullptr;
  }
  Uint32 start_fragment = 0;
  OFString model = l.photometric;
  const bool rle = l.xfer == EXS_RLELossless;
  if (rle && !decode_rle(px, l, frame, buf, error))
    return nullptr;
  if (rle)
    l.planar = 0;
  /* Native frames are read directly: getUncompressedFrame sizes YBR_FULL_422 as 3 samples. */
  OFCondition c = rle ? EC_Normal
                  : !l.compressed
                      ? px->getPartialValue(buf, (Uint32)(bytes * (guint64)frame), (Uint32)bytes)
                      : px->getUncompressedFrame(ds, (Uint32)frame, start_fragment, buf,
                                                 (Uint32)(bytes + 2) & ~1u, model);
  if (c.bad()) {
    set_error(error, l.compressed ? VIGIL_SCAN_ERROR_FORMAT : VIGIL_SCAN_ERROR_TRUNCATED,
              "cannot %s frame %d (%s): %s", l.compressed ? "decompress" : "read", frame,
              DcmXfer(l.xfer).getXferName(), c.text());
    return nullptr;
  }
  if (l.compressed && trim(model) == "YBR_FULL_422")
    model = "YBR_FULL"; /* codecs return full-resolution chroma */
  VigilImage *img =
      vigil_image_new(l.cols, l.rows, l.spp == 3 ? VIGIL_IMAGE_RGB : VIGIL_IMAGE_GRAY, error);
  if (!img)
    return nullptr;
  if (l.spp == 3)
    convert_color(buf, l, trim(model), img);
  else
    convert_gray(buf, l, img);
  pixel_spacing(ds, frame, img->pixel_spacing);
  vigil_image_update_range(img);
  return img;
}

/* ---- loading ---- */

bool load_condition(OFCondition c, GError **error) {
  if (c.good())
    return true;
  int code = VIGIL_SCAN_ERROR_FORMAT;
  const char *what = "not a readable DICOM file";
  if (c == EC_InvalidFilename) {
    code = VIGIL_SCAN_ERROR_IO;
    what = "cannot open the file";
  } else if (c == EC_StreamNotifyClient || c == EC_ItemEnd || c == EC_SequEnd) {
    code = VIGIL_SCAN_ERROR_TRUNCATED;
    what = "the file ends early";
  }
  return set_error(error, code, "%s (%s)", what, c.text());
}

/* A deflated dataset cannot leave values on disk: DCMTK would allocate any
 * length a hostile header states. Such files (rare for images) are refused
 * after reading the meta header alone. */
bool check_not_deflated(const char *path, GError **error) {
  DcmInputFileStream in(path);
  if (in.status().bad())
    return true; /* loadFile reports it */
  DcmMetaInfo meta;
  meta.transferInit();
  OFCondition c = meta.read(in, EXS_Unknown, EGL_noChange, kLazyBytes);
  meta.transferEnd();
  OFString uid;
  if (c.bad()) /* values may claim more than the file holds: do not touch them */
    return true;
  if (meta.findAndGetOFString(DCM_TransferSyntaxUID, uid).bad() ||
      DcmXfer(uid.c_str()).getXfer() != EXS_DeflatedLittleEndianExplicit)
    return true;
  return set_error(error, VIGIL_SCAN_ERROR_UNSUPPORTED,
                   "transfer syntax 'Deflated Explicit VR Little Endian' (%s) is not supported",
                   uid.c_str());
}

bool load_path(DcmFileFormat &ff, const char *path, GError **error) {
  init_dcmtk();
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
    return set_error(error, VIGIL_SCAN_ERROR_IO, "no such file");
  if (access(path, R_OK) != 0)
    return set_error(error, VIGIL_SCAN_ERROR_IO, "cannot read the file: %s", g_strerror(errno));
  if (!check_not_deflated(path, error))
    return false;
  return load_condition(ff.loadFile(path, EXS_Unknown, EGL_noChange, kLazyBytes), error);
}

/* Memory goes through an anonymous file rather than DCMTK's buffer stream:
 * that stream allocates whatever length a hostile header claims, while file
 * reading leaves large values on disk and checks them against the file size. */
class MemoryFile {
public:
  MemoryFile(const guint8 *data, gsize size) {
    fd_ = memfd_create("vigil-dicom", MFD_CLOEXEC);
    if (fd_ >= 0 && write_all(data, size))
      path_ = g_strdup_printf("/proc/self/fd/%d", fd_);
  }
  ~MemoryFile() {
    g_free(path_);
    if (fd_ >= 0)
      close(fd_);
  }
  const char *path() const { return path_; }

private:
  bool write_all(const guint8 *data, gsize size) {
    while (size > 0) {
      ssize_t n = write(fd_, data, size);
      if (n <= 0)
        return false;
      data += n, size -= (gsize)n;
    }
    return true;
  }
  int fd_ = -1;
  char *path_ = nullptr;
};

} // namespace

extern "C" {

/* TRUE if the file starts with a DICOM preamble ("DICM" at byte 128). */
static gboolean vigil_dicom_has_preamble(const char *path) {
  char head[132];
  FILE *f = fopen(path, "rb");
  if (!f)
    return FALSE;
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  return n == sizeof head && memcmp(head + 128, "DICM", 4) == 0;
}

VigilDicomInfo *vigil_dicom_read_info(const char *path, GError **error) {
  GStatBuf st;
  if (g_stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
    set_error(error, VIGIL_SCAN_ERROR_FORMAT, "the file is empty");
    return nullptr; /* DCMTK would call it a bare dataset that ends early */
  }
  DcmFileFormat ff;
  GError *local = nullptr;
  VigilDicomInfo *info = load_path(ff, path, &local) ? info_from(ff, path, &local) : nullptr;
  if (local && local->code != VIGIL_SCAN_ERROR_IO && local->code != VIGIL_SCAN_ERROR_UNSUPPORTED &&
      !vigil_dicom_has_preamble(path)) {
    /* Without the marker DCMTK tries the file as a bare dataset; say what it likely is. */
    g_prefix_error(&local, "not a DICOM file (no 'DICM' marker at byte 128; as a bare dataset: ");
    char *msg = g_strconcat(local->message, ")", NULL);
    g_free(local->message);
    local->message = msg;
    local->code = VIGIL_SCAN_ERROR_FORMAT;
  }
  if (local)
    g_propagate_error(error, local);
  return info;
}

VigilImage *vigil_dicom_decode_frame(const char *path, int frame, GError **error) {
  DcmFileFormat ff;
  if (!load_path(ff, path, error))
    return nullptr;
  return decode_from(ff, frame, error);
}

VigilDicomInfo *vigil_dicom_read_info_from_data(const guint8 *data, gsize size, const char *name,
                                                GError **error) {
  MemoryFile file(data, size);
  if (!file.path()) {
    set_error(error, VIGIL_SCAN_ERROR_IO, "cannot make a memory file: %s", g_strerror(errno));
    return nullptr;
  }
  DcmFileFormat ff;
  if (!load_path(ff, file.path(), error))
    return nullptr;
  return info_from(ff, name, error);
}

VigilImage *vigil_dicom_decode_frame_from_data(const guint8 *data, gsize size, int frame,
                                               GError **error) {
  MemoryFile file(data, size);
  if (!file.path()) {
    set_error(error, VIGIL_SCAN_ERROR_IO, "cannot make a memory file: %s", g_strerror(errno));
    return nullptr;
  }
  DcmFileFormat ff;
  if (!load_path(ff, file.path(), error))
    return nullptr;
  return decode_from(ff, frame, error);
}

void vigil_dicom_info_free(VigilDicomInfo *info) {
  if (!info)
    return;
  char **strings[] = {&info->path,
                      &info->patient_name,
                      &info->patient_id,
                      &info->patient_sex,
                      &info->patient_birth_date,
                      &info->study_date,
                      &info->study_description,
                      &info->study_uid,
                      &info->series_description,
                      &info->series_uid,
                      &info->modality,
                      &info->body_part,
                      &info->manufacturer,
                      &info->sop_instance_uid,
                      &info->transfer_syntax_uid,
                      &info->transfer_syntax_name,
                      &info->photometric};
  for (char **s : strings)
    g_free(*s);
  for (int i = 0; i < info->n_windows; i++)
    g_free(info->windows[i].explanation);
  g_free(info->windows);
  g_free(info->frame_positions);
  g_free(info);
}

char **vigil_dicom_read_dicomdir(const char *path, GError **error) {
  DcmFileFormat ff;
  if (!load_path(ff, path, error))
    return nullptr;
  DcmSequenceOfItems *records = nullptr;
  if (ff.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).bad() || !records) {
    set_error(error, VIGIL_SCAN_ERROR_FORMAT, "not a DICOMDIR: no Directory Record Sequence");
    return nullptr;
  }
  g_autofree char *dir = g_path_get_dirname(path);
  GPtrArray *files = g_ptr_array_new();
  for (unsigned long i = 0; i < records->card(); i++) {
    DcmItem *rec = records->getItem(i);
    OFString id;
    if (rec->findAndGetOFStringArray(DCM_ReferencedFileID, id).bad() || id.empty())
      continue;
    g_autofree char *joined = g_strndup(trim(id).data(), trim(id).size());
    g_auto(GStrv) parts = g_strsplit(joined, "\\", -1);
    bool safe = true;
    for (char **p = parts; *p; p++)
      safe = safe && **p && strcmp(*p, "..") != 0 && strcmp(*p, ".") != 0 && !strchr(*p, '/');
    if (!safe)
      continue; /* a reference outside the DICOMDIR's folder is not followed */
    g_autofree char *rel = g_strjoinv(G_DIR_SEPARATOR_S, parts);
    g_ptr_array_add(files, g_build_filename(dir, rel, NULL));
  }
  g_ptr_array_add(files, nullptr);
  return (char **)g_ptr_array_free(files, FALSE);
}

} /* extern "C" */
