/* DICOM through DCMTK (C++17), behind the C API of vigil-dicom.h.
 * Headers are read with values above kLazyBytes left on disk, so scanning a
 * folder never loads pixel data; a frame is read (and decompressed) alone
 * through DcmPixelData::getUncompressedFrame. */
#include "vigil-dicom.h"

#include "vigil-dicom-private.h"
/* after osconfig.h, which the private header includes first */
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdeftag.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <glib/gstdio.h>
#include <unistd.h>

#include "vigil-pixels.h"
#include "vigil-scan-error.h"

namespace vigil_dicom {

std::string_view trim(const OFString &s) {
  std::string_view v(s.c_str(), s.length());
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0'))
    v.remove_suffix(1);
  return v;
}

VigilPixelLayout pixel_layout(const Layout &l, std::string_view photometric) {
  VigilPixelLayout p = {};
  p.rows = l.rows, p.cols = l.cols, p.samples = l.spp, p.planar = l.planar == 1;
  p.bits_allocated = l.bits_allocated, p.bits_stored = l.bits_stored, p.high_bit = l.high_bit;
  p.is_signed = l.signed_px != 0;
  p.slope = l.slope, p.intercept = l.intercept;
  p.photometric = vigil_photometric_from_name(photometric.data(), (gssize)photometric.size());
  return p;
}

} // namespace vigil_dicom

namespace {

using namespace vigil_dicom;

/* No codec packs more than this many bytes of pixels into one compressed
 * byte in practice (RLE at most 64; JPEG 2000 more on flat images); more
 * means a lying header. Checked before anything is allocated. */
constexpr guint64 kMaxCompression = 4096;
constexpr guint64 kMaxJ2kCompression = 65536;

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

bool is_color_model(std::string_view p) {
  return p == "RGB" || p == "YBR_FULL" || p == "YBR_FULL_422" || p == "YBR_RCT" || p == "YBR_ICT";
}

/* JPEG 2000 (lossless only, lossless or lossy) and HTJ2K (lossless, RPCL
 * lossless, lossless or lossy), decoded by OpenJPEG (vigil-j2k.c). */
const char *j2k_name(std::string_view uid) {
  static const struct {
    const char *uid, *name;
  } names[] = {
      {"1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)"},
      {"1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression"},
      {"1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)"},
      {"1.2.840.10008.1.2.4.202",
       "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)"},
      {"1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression"},
  };
  for (const auto &n : names)
    if (uid == n.uid)
      return n.name;
  return nullptr;
}

/* How the pixels are coded: the file's UID first, as DCMTK 3.6.7 misreads
 * HTJ2K (see Coding). */
void find_coding(DcmDataset *ds, Layout &l) {
  l.xfer = ds->getOriginalXfer();
  if (j2k_name(trim(l.xfer_uid)))
    l.coding = Coding::J2k;
  else if (l.xfer == EXS_RLELossless)
    l.coding = Coding::Rle;
  else if (DcmXfer(l.xfer).isEncapsulated())
    l.coding = Coding::Dcmtk;
  else
    l.coding = Coding::Native;
  l.compressed = l.coding != Coding::Native;
}

/* Bytes in one native frame. */
guint64 native_frame_bytes(const Layout &l) {
  const VigilPixelLayout p = pixel_layout(l, trim(l.photometric));
  return vigil_pixels_frame_bytes(&p);
}

bool check_xfer(const Layout &l, GError **error) {
  if (l.coding != Coding::Dcmtk || DcmCodecList::canChangeCoding(l.xfer, EXS_LittleEndianExplicit))
    return true;
  DcmXfer x(l.xfer);
  return vigil_scan_fail(
      error, VIGIL_SCAN_ERROR_UNSUPPORTED,
      "transfer syntax '%s' (%s) is not supported; Vigil decodes uncompressed, "
      "deflated, RLE, JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000 and HTJ2K",
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
 * Pixel Measures macro; VIGIL_SPACING_NONE (and zeros) when none is valid. */
VigilSpacingSource pixel_spacing(DcmDataset *ds, int frame, double out[2]) {
  DcmItem *measures = functional_group(ds, DCM_PixelMeasuresSequence, frame);
  VigilSpacingSource source = VIGIL_SPACING_NONE;
  if (get_doubles(ds, DCM_PixelSpacing, out, 2))
    source = VIGIL_SPACING_PIXEL;
  else if (get_doubles(ds, DCM_ImagerPixelSpacing, out, 2))
    source = VIGIL_SPACING_IMAGER;
  else if (measures && get_doubles(measures, DCM_PixelSpacing, out, 2))
    source = VIGIL_SPACING_PIXEL;
  if (source == VIGIL_SPACING_NONE || out[0] <= 0 || out[1] <= 0) {
    out[0] = out[1] = 0;
    return VIGIL_SPACING_NONE;
  }
  return source;
}

/* Reads and checks the image description: every later step may trust it. */
bool read_layout(DcmDataset *ds, Layout &l, GError **error) {
  find_coding(ds, l);
  bool has_rows = false, has_cols = false;
  l.rows = get_int(ds, DCM_Rows, 0, &has_rows);
  l.cols = get_int(ds, DCM_Columns, 0, &has_cols);
  if (!has_rows || !has_cols)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_FORMAT,
                           "no Rows/Columns (0028,0010/0011): not an image");
  if (l.rows < 1 || l.cols < 1 || (gint64)l.rows * l.cols > ((gint64)1 << 28))
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_INVALID,
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
      return vigil_scan_fail(error, VIGIL_SCAN_ERROR_INVALID,
                             "Number of Frames '%s' is out of range (1..%d)", frames.c_str(),
                             VIGIL_DICOM_MAX_FRAMES);
    l.frames = (int)n;
  }
  if (l.bits_allocated != 8 && l.bits_allocated != 16 && l.bits_allocated != 32)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_UNSUPPORTED,
                           "Bits Allocated %d is not supported (8, 16 or 32)", l.bits_allocated);
  if (l.bits_stored < 1 || l.bits_stored > l.bits_allocated)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_INVALID,
                           "Bits Stored %d does not fit Bits "
                           "Allocated %d",
                           l.bits_stored, l.bits_allocated);
  if (l.high_bit < l.bits_stored - 1 || l.high_bit >= l.bits_allocated)
    l.high_bit = l.bits_stored - 1; /* inconsistent High Bit: the usual layout */
  if (l.spp == 1 && pi != "MONOCHROME1" && pi != "MONOCHROME2")
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_UNSUPPORTED,
                           "Photometric Interpretation '%s' with one sample is not supported",
                           l.photometric.c_str());
  if (l.spp == 3 && (!is_color_model(pi) || l.bits_allocated == 32))
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_UNSUPPORTED,
                           "colour image '%s' with %d bits is not supported", l.photometric.c_str(),
                           l.bits_allocated);
  if (l.spp != 1 && l.spp != 3)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_INVALID, "Samples per Pixel %d (must be 1 or 3)",
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
    vigil_scan_fail(error, VIGIL_SCAN_ERROR_FORMAT, "no Pixel Data (7FE0,0010) in this file");
    return nullptr;
  }
  auto *px = static_cast<DcmPixelData *>(elem);
  if (!l.compressed) {
    guint64 need = native_frame_bytes(l) * (guint64)l.frames;
    if ((guint64)px->getLength() < need) {
      vigil_scan_fail(error, VIGIL_SCAN_ERROR_TRUNCATED,
                      "Pixel Data holds %u bytes, %" G_GUINT64_FORMAT " needed for %d frame(s) of "
                      "%d x %d",
                      (unsigned)px->getLength(), need, l.frames, l.cols, l.rows);
      return nullptr;
    }
  }
  return px;
}

void fill_windows(DcmDataset *ds, const Layout &l, VigilSliceInfo *info) {
  DcmElement *centers = nullptr, *widths = nullptr;
  if (ds->findAndGetElement(DCM_WindowCenter, centers).bad() ||
      ds->findAndGetElement(DCM_WindowWidth, widths).bad())
    return;
  int n = (int)MIN(centers->getVM(), widths->getVM());
  n = MIN(n, 64);
  info->windows = g_new0(VigilFileWindow, MAX(n, 1));
  const VigilPixelLayout p = pixel_layout(l, trim(l.photometric));
  const double k = vigil_pixels_mirror_constant(&p);
  for (int i = 0; i < n; i++) {
    Float64 c, w;
    if (centers->getFloat64(c, (unsigned long)i).bad() ||
        widths->getFloat64(w, (unsigned long)i).bad() || !std::isfinite(c) || !std::isfinite(w) ||
        w < 1)
      continue;
    VigilFileWindow *win = &info->windows[info->n_windows++];
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
void fill_frame_geometry(DcmDataset *ds, VigilSliceInfo *info) {
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

void fill_strings(DcmDataset *ds, VigilSliceInfo *info) {
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
  info->institution = dup_string(ds, DCM_InstitutionName);
  info->series_number = dup_string(ds, DCM_SeriesNumber);
}

/* What a viewer shows beside the pixels: where the slice is, and how fast a
 * multi-frame file asks to be played. */
void fill_display(DcmDataset *ds, VigilSliceInfo *info) {
  info->has_slice_location = get_doubles(ds, DCM_SliceLocation, &info->slice_location, 1);
  double t = 0;
  if (get_doubles(ds, DCM_FrameTime, &t, 1) && t > 0 && t < 1e6)
    info->frame_time = t;
  else if (int rate = get_int(ds, DCM_RecommendedDisplayFrameRate, 0); rate > 0 && rate < 10000)
    info->frame_time = 1000.0 / rate; /* IS, as Cine Rate */
  else if (int cine = get_int(ds, DCM_CineRate, 0); cine > 0 && cine < 10000)
    info->frame_time = 1000.0 / cine;
}

/* The file's own transfer syntax (a deflated one too, though DCMTK read an
 * inflated copy), and whether its pixels went through lossy coding. */
void fill_coding(DcmDataset *ds, const Layout &l, VigilSliceInfo *info) {
  std::string_view uid = trim(l.xfer_uid);
  const char *name = j2k_name(uid);
  info->transfer_syntax_uid = g_strndup(uid.data(), uid.size());
  info->transfer_syntax_name =
      g_strdup(name ? name : DcmXfer(info->transfer_syntax_uid).getXferName());
  OFString flag;
  info->lossy =
      (ds->findAndGetOFString(DCM_LossyImageCompression, flag).good() && trim(flag) == "01") ||
      l.xfer == EXS_JPEGProcess1 || l.xfer == EXS_JPEGProcess2_4;
  info->lossy_method = dup_string(ds, DCM_LossyImageCompressionMethod);
  Float64 ratio = 0;
  if (ds->findAndGetFloat64(DCM_LossyImageCompressionRatio, ratio).good() && std::isfinite(ratio) &&
      ratio > 0)
    info->lossy_ratio = ratio;
}

VigilSliceInfo *info_from(Loaded &loaded, const char *name, GError **error) {
  DcmDataset *ds = loaded.ff.getDataset();
  Layout l;
  l.xfer_uid = loaded.xfer_uid;
  if (!read_layout(ds, l, error))
    return nullptr;
  DcmPixelData *px = find_pixels(ds, l, error);
  if (!px)
    return nullptr;
  ds->convertToUTF8(); /* best effort: strings are made valid UTF-8 below anyway */
  VigilSliceInfo *info = g_new0(VigilSliceInfo, 1);
  info->path = g_strdup(name);
  fill_strings(ds, info);
  fill_coding(ds, l, info);
  fill_display(ds, info);
  info->photometric = g_strndup(trim(l.photometric).data(), trim(l.photometric).size());
  bool found = false;
  info->instance_number = get_int(ds, DCM_InstanceNumber, 0, &found);
  info->has_instance_number = found;
  info->has_position = get_doubles(ds, DCM_ImagePositionPatient, info->position, 3);
  info->has_orientation = get_doubles(ds, DCM_ImageOrientationPatient, info->orientation, 6);
  info->has_pixel_spacing = pixel_spacing(ds, 0, info->pixel_spacing) != VIGIL_SPACING_NONE;
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

/* A hostile header may claim a huge image over a few bytes of data: checked
 * before anything is allocated. */
bool check_compressed_size(DcmDataset *ds, DcmPixelData *px, const Layout &l, guint64 bytes,
                           GError **error) {
  Uint32 size = 0; /* what DCMTK says a codec will produce */
  if (px->getUncompressedFrameSize(ds, size).bad() || size > bytes)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_INVALID, "cannot size a decompressed frame");
  const guint64 have = compressed_bytes(px);
  const guint64 ratio = l.coding == Coding::J2k ? kMaxJ2kCompression : kMaxCompression;
  if (bytes * (guint64)l.frames > have * ratio)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_TRUNCATED,
                           "%" G_GUINT64_FORMAT
                           " compressed bytes cannot hold %d frame(s) of %d x %d",
                           have, l.frames, l.cols, l.rows);
  return true;
}

/* Frame `frame`'s samples into `buf` in the native layout `l` then
 * describes (updated where a decoder changes it); `model` is the colour
 * model of the result. */
bool frame_samples(DcmDataset *ds, DcmPixelData *px, Layout &l, int frame, guint8 *buf,
                   guint64 bytes, OFString &model, GError **error) {
  model = l.photometric;
  if (l.coding == Coding::Rle) {
    l.planar = 0;
    return decode_rle(px, l, frame, buf, bytes, error);
  }
  if (l.coding == Coding::J2k) {
    bool rgb = false;
    if (!decode_j2k(px, l, frame, buf, bytes, &rgb, error))
      return false;
    l.planar = 0;
    l.high_bit = l.bits_stored - 1; /* decoded samples sit in the low bits */
    /* The codestream's colour transform (YBR_RCT, YBR_ICT) gives RGB; without
     * one, YBR_FULL is converted here and anything else is taken as RGB. */
    std::string_view pi = trim(l.photometric);
    model = rgb || (pi != "YBR_FULL" && pi != "YBR_FULL_422") ? "RGB" : "YBR_FULL";
    return true;
  }
  if (l.coding == Coding::Dcmtk && !check_jpeg(px, l, error))
    return false;
  /* Native frames are read directly: getUncompressedFrame sizes YBR_FULL_422 as 3 samples. */
  Uint32 start_fragment = 0;
  OFCondition c = l.coding == Coding::Native
                      ? px->getPartialValue(buf, (Uint32)(bytes * (guint64)frame), (Uint32)bytes)
                      : px->getUncompressedFrame(ds, (Uint32)frame, start_fragment, buf,
                                                 (Uint32)(bytes + 2) & ~1u, model);
  if (c.bad())
    return vigil_scan_fail(error,
                           l.compressed ? VIGIL_SCAN_ERROR_FORMAT : VIGIL_SCAN_ERROR_TRUNCATED,
                           "cannot %s frame %d (%s): %s", l.compressed ? "decompress" : "read",
                           frame, DcmXfer(l.xfer).getXferName(), c.text());
  if (l.compressed && trim(model) == "YBR_FULL_422")
    model = "YBR_FULL"; /* codecs return full-resolution chroma */
  return true;
}

VigilImage *decode_from(Loaded &loaded, int frame, GError **error) {
  DcmDataset *ds = loaded.ff.getDataset();
  Layout l;
  l.xfer_uid = loaded.xfer_uid;
  if (!read_layout(ds, l, error))
    return nullptr;
  if (frame < 0 || frame >= l.frames) {
    vigil_scan_fail(error, VIGIL_SCAN_ERROR_INVALID, "frame %d is out of range: the file has %d",
                    frame, l.frames);
    return nullptr;
  }
  DcmPixelData *px = find_pixels(ds, l, error);
  if (!px)
    return nullptr;
  guint64 bytes = l.compressed ? (guint64)l.rows * l.cols * l.spp * (l.bits_allocated / 8)
                               : native_frame_bytes(l);
  if (l.compressed && !check_compressed_size(ds, px, l, bytes, error))
    return nullptr;
  g_autofree guint8 *buf = (guint8 *)g_try_malloc0(bytes + 2);
  if (!buf) {
    vigil_scan_fail(error, VIGIL_SCAN_ERROR_INVALID, "not enough memory for a %d x %d frame",
                    l.cols, l.rows);
    return nullptr;
  }
  OFString model;
  if (!frame_samples(ds, px, l, frame, buf, bytes, model, error))
    return nullptr;
  VigilImage *img =
      vigil_image_new(l.cols, l.rows, l.spp == 3 ? VIGIL_IMAGE_RGB : VIGIL_IMAGE_GRAY, error);
  if (!img)
    return nullptr;
  /* Grey frames keep the header's photometric (MONOCHROME1 or 2); colour
   * ones take the decoder's, which may have converted the samples. */
  const VigilPixelLayout p = pixel_layout(l, trim(l.spp == 3 ? model : l.photometric));
  const gsize n = (gsize)img->width * img->height * vigil_image_channels(img);
  if (!vigil_pixels_convert(&p, buf, bytes, img->values, n, error)) {
    vigil_image_free(img);
    return nullptr;
  }
  img->spacing_source = pixel_spacing(ds, frame, img->pixel_spacing);
  vigil_image_update_range(img);
  return img;
}

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

VigilSliceInfo *vigil_dicom_read_info(const char *path, GError **error) {
  GStatBuf st;
  if (g_stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
    vigil_scan_fail(error, VIGIL_SCAN_ERROR_FORMAT, "the file is empty");
    return nullptr; /* DCMTK would call it a bare dataset that ends early */
  }
  Loaded loaded;
  GError *local = nullptr;
  VigilSliceInfo *info =
      load_path(loaded, path, &local) ? info_from(loaded, path, &local) : nullptr;
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
  Loaded loaded;
  if (!load_path(loaded, path, error))
    return nullptr;
  return decode_from(loaded, frame, error);
}

VigilSliceInfo *vigil_dicom_read_info_from_data(const guint8 *data, gsize size, const char *name,
                                                GError **error) {
  MemoryFile file(data, size);
  if (!file.path()) {
    vigil_scan_fail(error, VIGIL_SCAN_ERROR_IO, "cannot make a memory file: %s", g_strerror(errno));
    return nullptr;
  }
  Loaded loaded;
  if (!load_path(loaded, file.path(), error))
    return nullptr;
  return info_from(loaded, name, error);
}

VigilImage *vigil_dicom_decode_frame_from_data(const guint8 *data, gsize size, int frame,
                                               GError **error) {
  MemoryFile file(data, size);
  if (!file.path()) {
    vigil_scan_fail(error, VIGIL_SCAN_ERROR_IO, "cannot make a memory file: %s", g_strerror(errno));
    return nullptr;
  }
  Loaded loaded;
  if (!load_path(loaded, file.path(), error))
    return nullptr;
  return decode_from(loaded, frame, error);
}

void vigil_slice_info_free(VigilSliceInfo *info) {
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
                      &info->institution,
                      &info->series_number,
                      &info->transfer_syntax_uid,
                      &info->transfer_syntax_name,
                      &info->photometric,
                      &info->lossy_method};
  for (char **s : strings)
    g_free(*s);
  for (int i = 0; i < info->n_windows; i++)
    g_free(info->windows[i].explanation);
  g_free(info->windows);
  g_free(info->frame_positions);
  g_free(info);
}

char **vigil_dicom_read_dicomdir(const char *path, GError **error) {
  Loaded loaded;
  if (!load_path(loaded, path, error))
    return nullptr;
  DcmSequenceOfItems *records = nullptr;
  if (loaded.ff.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).bad() ||
      !records) {
    vigil_scan_fail(error, VIGIL_SCAN_ERROR_FORMAT, "not a DICOMDIR: no Directory Record Sequence");
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
