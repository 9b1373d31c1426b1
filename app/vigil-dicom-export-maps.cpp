/* DICOM export of the anomaly map: resampled onto the source slice, then a
 * Segmentation (dcmseg) or a Parametric Map (dcmpmap) with the source's
 * geometry and a Derivation Image group naming it. DCMTK 3.6.7 fills neither
 * the Dimension Index Values nor the Common Instance Reference module for us,
 * and both are required, so they are set here. See vigil-dicom-export.h. */
#include "vigil-dicom-export-private.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgframeanatomy.h>
#include <dcmtk/dcmfg/fgpixeltransform.h>
#include <dcmtk/dcmfg/fgparametricmapframetype.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgrealworldvaluemapping.h>
#include <dcmtk/dcmiod/modfloatingpointimagepixel.h>
#include <dcmtk/dcmpmap/dpmparametricmapiod.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>

#include <cmath>
#include <gio/gio.h>
#include <memory>
#include <vector>

#include "vigil-config.h"

using namespace vigil_export;

namespace {

constexpr const char *kAlgorithm = "MVFA (Vigil)";
/* A hostile header could claim 65535 x 65535 pixels: 16 GiB of floats. */
constexpr int kMaxSide = 8192;
constexpr gsize kMaxPixels = (gsize)kMaxSide * kMaxSide;

/* Vigil as manufacturer, model and device (DCMTK wants all four non-empty). */
template <class Info> Info equipment() {
  return Info(kVigil, kVigil, kVigil, VIGIL_VERSION);
}

/* ---- the map on the slice's grid ------------------------------------------ */

bool check_map(const VigilMap *map, GError **error) {
  if (!map || !map->values || map->width < 1 || map->width != map->height || map->width > 4096)
    return fail(error, G_IO_ERROR_INVALID_ARGUMENT,
                "the anomaly map must be square, side x side with side 1..4096 (the engine's "
                "grid), not %d x %d",
                map ? map->width : 0, map ? map->height : 0);
  const gsize n = (gsize)map->width * map->height;
  for (gsize i = 0; i < n; i++)
    if (!std::isfinite(map->values[i]))
      return fail(error, G_IO_ERROR_INVALID_DATA,
                  "the anomaly map has a value that is not a number at x %d, y %d",
                  (int)(i % map->width), (int)(i / map->width));
  return true;
}

/* Source position of output pixel `i` of `out` pixels over `in` map pixels:
 * the map was computed on a plain stretch of the whole slice (vigil-resize.h),
 * so pixel centres line up; *t is the weight of the upper neighbour. */
int source_index(int i, int out, int in, double *t) {
  double f = (i + 0.5) * in / out - 0.5;
  f = f < 0 ? 0 : f > in - 1 ? in - 1 : f;
  const int i0 = (int)f;
  *t = f - i0;
  return i0;
}

/* Bilinear resample of the map to rows x cols. */
std::vector<float> resample(const VigilMap &m, int rows, int cols) {
  std::vector<float> out((size_t)rows * cols);
  for (int y = 0; y < rows; y++) {
    double ty, tx;
    const int y0 = source_index(y, rows, m.height, &ty), y1 = MIN(y0 + 1, m.height - 1);
    const float *r0 = m.values + (gsize)y0 * m.width, *r1 = m.values + (gsize)y1 * m.width;
    for (int x = 0; x < cols; x++) {
      const int x0 = source_index(x, cols, m.width, &tx), x1 = MIN(x0 + 1, m.width - 1);
      const double top = r0[x0] + tx * (r0[x1] - r0[x0]);
      const double bottom = r1[x0] + tx * (r1[x1] - r1[x0]);
      out[(size_t)y * cols + x] = (float)(top + ty * (bottom - top));
    }
  }
  return out;
}

/* ---- functional groups both objects carry --------------------------------- */

/* Per-frame groups of the one frame, owned here; addFrame copies them. */
struct FrameGroups {
  FGPlanePosPatient position;
  FGFrameContent content;
  FGDerivationImage derivation;
  std::vector<FGBase *> list(const Geometry &g) {
    std::vector<FGBase *> v{&content, &derivation};
    if (g.present)
      v.push_back(&position);
    return v;
  }
};

OFCondition add_derivation(FGDerivationImage &fg, const Source &src) {
  DerivationImageItem *item = nullptr;
  OFCondition c = fg.addDerivationImageItem(CodeSequenceMacro("113076", "DCM", "Segmentation"),
                                            "Vigil anomaly map (MVFA)", item);
  if (c.bad())
    return c;
  auto *source = new SourceImageItem();
  item->getSourceImageItems().push_back(source);
  c = source->getPurposeOfReferenceCode().set("121322", "DCM",
                                              "Source image for image processing operation");
  ImageSOPInstanceReferenceMacro &ref = source->getImageSOPInstanceReference();
  if (c.good())
    c = ref.setReferencedSOPClassUID(src.sop_class);
  if (c.good())
    c = ref.setReferencedSOPInstanceUID(src.sop_instance);
  if (c.good() && referenced_frame(src))
    c = ref.addReferencedFrameNumber((Uint16)referenced_frame(src));
  return c;
}

/* The frame's groups, and the shared Pixel Measures and Plane Orientation
 * through `add_shared` (each IOD class has its own addForAllFrames). */
template <class Add>
bool make_groups(const Source &src, const Geometry &g, FrameGroups &frame, Add add_shared,
                 GError **error) {
  OFCondition c = add_derivation(frame.derivation, src);
  if (c.good() && g.present) {
    FGPixelMeasures measures;
    FGPlaneOrientationPatient orientation;
    const OFString *o = g.orientation;
    c = measures.setPixelSpacing(g.spacing);
    if (c.good() && !g.thickness.empty())
      c = measures.setSliceThickness(g.thickness);
    if (c.good())
      c = orientation.setImageOrientationPatient(o[0], o[1], o[2], o[3], o[4], o[5]);
    if (c.good())
      c = frame.position.setImagePositionPatient(g.position[0], g.position[1], g.position[2]);
    if (c.good())
      c = add_shared(measures);
    if (c.good())
      c = add_shared(orientation);
  }
  return check(c, "cannot describe the source's geometry", error);
}

/* Dimensions: (what, where) pairs, indexed 1 for the one frame. */
OFCondition add_dimensions(IODMultiframeDimensionModule &dims, FGFrameContent &content,
                           const std::vector<std::pair<DcmTagKey, DcmTagKey>> &indices) {
  const OFString uid = new_uid(SITE_INSTANCE_UID_ROOT);
  OFCondition c;
  for (size_t i = 0; c.good() && i < indices.size(); i++) {
    c = dims.addDimensionIndex(indices[i].first, uid, indices[i].second);
    if (c.good())
      c = content.setDimensionIndexValues(1, (unsigned)i);
  }
  auto org = std::make_unique<IODMultiframeDimensionModule::DimensionOrganizationItem>();
  if (c.good())
    c = org->setDimensionOrganizationUID(uid);
  if (c.good())
    dims.getDimensionOrganizationSequence().push_back(org.release());
  return c;
}

/* New series and instance, description, in the source's study. */
template <class Iod>
OFCondition set_series(Iod &iod, const char *number, const OFString &description) {
  OFCondition c = iod.getSeries().setSeriesInstanceUID(new_uid(SITE_SERIES_UID_ROOT));
  if (c.good())
    c = iod.getSeries().setSeriesNumber(number);
  if (c.good())
    c = iod.getSeries().setSeriesDescription(description);
  if (c.good())
    c = iod.getSOPCommon().setSOPInstanceUID(new_uid(SITE_INSTANCE_UID_ROOT));
  return c;
}

/* Writes `iod` with the series reference the library leaves out. */
template <class Iod> bool save(Iod &iod, const Source &src, const char *out_path, GError **error) {
  DcmFileFormat ff;
  return check(iod.writeDataset(*ff.getDataset()), "cannot build the DICOM object", error) &&
         add_series_reference(*ff.getDataset(), src, error) &&
         save_atomic(ff, src, out_path, error);
}

/* ---- Segmentation --------------------------------------------------------- */

std::vector<Uint8> seg_pixels(const std::vector<float> &v, VigilDicomSegType type,
                              double threshold) {
  std::vector<Uint8> px(v.size());
  for (size_t i = 0; i < v.size(); i++)
    px[i] = type == VIGIL_DICOM_SEG_BINARY ? v[i] >= threshold
                                           : (Uint8)lround(255.0 * CLAMP(v[i], 0.0, 1.0));
  return px;
}

std::unique_ptr<DcmSegmentation> create_seg(const Source &src, VigilDicomSegType type,
                                            const OFString &description, OFCondition &c) {
  const auto eq = equipment<IODGeneralEquipmentModule::EquipmentInfo>();
  ContentIdentificationMacro ci("1", "ANOMALY", description, "");
  DcmSegmentation *raw = nullptr;
  c = type == VIGIL_DICOM_SEG_BINARY
          ? DcmSegmentation::createBinarySegmentation(raw, src.rows, src.cols, eq, ci)
          : DcmSegmentation::createFractionalSegmentation(
                raw, src.rows, src.cols, DcmSegTypes::SFT_PROBABILITY, 255, eq, ci);
  std::unique_ptr<DcmSegmentation> seg(raw);
  if (c.good())
    c = seg->importFromSourceImage(*src.ds);
  if (c.good()) /* the import took the source's equipment */
    c = seg->setEquipmentInfo(eq);
  if (c.good())
    c = set_series(*seg, kSeriesSeg, description);
  DcmSegment *segment = nullptr;
  if (c.good())
    c = DcmSegment::create(
        segment, "Anomaly",
        CodeSequenceMacro("49755003", "SCT", "Morphologically Abnormal Structure"),
        CodeSequenceMacro("52988006", "SCT", "Lesion"), DcmSegTypes::SAT_AUTOMATIC, kAlgorithm);
  Uint16 number = 0;
  if (c.good() && (c = seg->addSegment(segment, number)).bad())
    delete segment;
  return seg;
}

bool build_seg(DcmSegmentation &seg, const Source &src, const Geometry &g, std::vector<Uint8> &px,
               GError **error) {
  if (!g.present) {
    /* Frame of Reference only when there is one; Patient Orientation, empty,
     * when there is no Image Orientation (Patient). */
    seg.getRules()->getByTag(DCM_FrameOfReferenceUID)->setType("1C");
    seg.getRules()->getByTag(DCM_PositionReferenceIndicator)->setType("2C");
    seg.getRules()->getByTag(DCM_PatientOrientation)->setType("2");
  }
  FrameGroups frame;
  auto add = [&seg](const FGBase &fg) { return seg.addForAllFrames(fg); };
  if (!make_groups(src, g, frame, add, error))
    return false;
  std::vector<std::pair<DcmTagKey, DcmTagKey>> indices{
      {DCM_ReferencedSegmentNumber, DCM_SegmentIdentificationSequence}};
  if (g.present)
    indices.push_back({DCM_ImagePositionPatient, DCM_PlanePositionSequence});
  OFCondition c = add_dimensions(seg.getDimensions(), frame.content, indices);
  const std::vector<FGBase *> groups = frame.list(g);
  if (c.good())
    c = seg.addFrame(px.data(), 1, OFVector<FGBase *>(groups.begin(), groups.end()));
  return check(c, "cannot build the segmentation", error);
}

/* ---- Parametric Map ------------------------------------------------------- */

/* Frame Anatomy is mandatory: the body part as SNOMED CT, else the body. */
void set_anatomy(FGFrameAnatomy &fg, const Source &src) {
  static const char *const parts[][3] = {
      {"HEAD", "69536005", "Head"},      {"BRAIN", "12738006", "Brain"},
      {"CHEST", "51185008", "Thorax"},   {"ABDOMEN", "818981001", "Abdomen"},
      {"PELVIS", "816092008", "Pelvis"}, {"NECK", "45048000", "Neck"},
      {"BREAST", "76752008", "Breast"},  {"LIVER", "10200004", "Liver"},
      {"SPINE", "421060004", "Spine"},   {"KNEE", "72696002", "Knee"}};
  OFString part;
  src.ds->findAndGetOFString(DCM_BodyPartExamined, part);
  const char *const *code = nullptr;
  for (const auto &p : parts)
    if (part == p[0])
      code = p;
  CodeSequenceMacro &region = fg.getAnatomy().getAnatomicRegion();
  if (code)
    region.set(code[1], "SCT", code[2]);
  else
    region.set("38266002", "SCT", "Entire body");
  fg.setLaterality(FGFrameAnatomy::LATERALITY_UNPAIRED);
}

/* Identity mapping of the stored floats to unitless anomaly scores. */
OFCondition add_value_mapping(DPMParametricMapIOD &pmap, const std::vector<float> &v) {
  FGRealWorldValueMapping fg;
  auto *item = new FGRealWorldValueMapping::RWVMItem();
  fg.getRealWorldValueMapping().push_back(item);
  float lo = v[0], hi = v[0];
  for (float x : v)
    lo = MIN(lo, x), hi = MAX(hi, x);
  OFCondition c = item->setRealWorldValueSlope(1.0);
  if (c.good())
    c = item->setRealWorldValueIntercept(0.0);
  if (c.good())
    c = item->setDoubleFloatRealWorldValueFirstValueMapped(lo);
  if (c.good())
    c = item->setDoubleFloatRealWorldValueLastValueMapped(hi);
  if (c.good())
    c = item->setLUTExplanation("Vigil anomaly score");
  if (c.good())
    c = item->setLUTLabel("ANOMALY");
  if (c.good())
    c = item->getMeasurementUnitsCode().set("1", "UCUM", "no units");
  return c.good() ? pmap.addForAllFrames(fg) : c;
}

/* The groups only a Parametric Map carries, shared by its frames. */
OFCondition add_pmap_groups(DPMParametricMapIOD &pmap, const Source &src,
                            const std::vector<float> &v) {
  FGFrameAnatomy anatomy;
  FGPixelValueTransformation identity;
  identity.setUseAsIdentityPixelValueTransformation();
  FGParametricMapFrameType frame_type;
  set_anatomy(anatomy, src);
  OFCondition c = frame_type.setFrameType("DERIVED\\PRIMARY\\VOLUME\\NONE");
  if (c.good())
    c = pmap.addForAllFrames(anatomy);
  if (c.good())
    c = pmap.addForAllFrames(identity);
  if (c.good())
    c = pmap.addForAllFrames(frame_type);
  return c.good() ? add_value_mapping(pmap, v) : c;
}

using PmapOrError = OFvariant<OFCondition, DPMParametricMapIOD>;

PmapOrError create_pmap(const Source &src, const OFString &description) {
  const auto eq = equipment<IODEnhGeneralEquipmentModule::EquipmentInfo>();
  ContentIdentificationMacro ci("1", "ANOMALY", description, "");
  OFString modality;
  if (src.ds->findAndGetOFString(DCM_Modality, modality).bad() || modality.empty())
    modality = "OT";
  return DPMParametricMapIOD::create<IODFloatingPointImagePixelModule>(
      modality, kSeriesPmap, "1", src.rows, src.cols, eq, ci, "VOLUME", "NONE",
      DPMTypes::CQ_RESEARCH);
}

bool build_pmap(DPMParametricMapIOD &pmap, const Source &src, const Geometry &g,
                std::vector<float> &v, const OFString &description, GError **error) {
  const auto eq = equipment<IODEnhGeneralEquipmentModule::EquipmentInfo>();
  OFCondition c = pmap.importHierarchy(*src.ds, OFTrue, OFTrue, OFTrue, OFFalse);
  if (c.good()) /* the import took the source's equipment */
    c = pmap.getIODEnhGeneralEquipmentModule().set(eq);
  if (c.good())
    c = set_series(pmap, kSeriesPmap, description);
  if (c.good())
    c = pmap.setRecognizableVisualFeatures(DPMTypes::RVF_NO);
  if (c.good())
    c = add_pmap_groups(pmap, src, v);
  if (!check(c, "cannot build the parametric map", error))
    return false;
  FrameGroups frame;
  auto add = [&pmap](const FGBase &fg) { return pmap.addForAllFrames(fg); };
  if (!make_groups(src, g, frame, add, error))
    return false;
  c = add_dimensions(pmap.getIODMultiframeDimensionModule(), frame.content,
                     {{DCM_ImagePositionPatient, DCM_PlanePositionSequence}});
  DPMParametricMapIOD::FramesType frames = pmap.getFrames();
  auto *floats = OFget<DPMParametricMapIOD::Frames<Float32>>(&frames);
  const std::vector<FGBase *> groups = frame.list(g);
  if (c.good() && !floats)
    c = EC_IllegalCall;
  if (c.good())
    c = floats->addFrame(v.data(), v.size(), OFVector<FGBase *>(groups.begin(), groups.end()));
  return check(c, "cannot build the parametric map", error);
}

/* The source, its geometry and the map on its grid, for `what`. */
bool prepare(const VigilDicomExportSource *source, const VigilMap *map, const char *out_path,
             bool geometry_required, const char *what, Source &src, Geometry &g,
             std::vector<float> &values, GError **error) {
  if (!check_out_path(out_path, error) || !check_map(map, error) ||
      !open_source(source, true, what, src, error) ||
      !read_geometry(src, geometry_required, what, g, error))
    return false;
  if ((gsize)src.rows * src.cols > kMaxPixels)
    return fail(error, G_IO_ERROR_INVALID_DATA,
                "the source slice is %d x %d pixels; %s stops at %d x %d", src.cols, src.rows, what,
                kMaxSide, kMaxSide);
  values = resample(*map, src.rows, src.cols);
  return true;
}

} // namespace

gboolean vigil_dicom_write_seg(const VigilDicomExportSource *source, const VigilMap *map,
                               VigilDicomSegType type, double threshold, const char *description,
                               const char *out_path, GError **error) {
  Source src;
  Geometry g;
  std::vector<float> values;
  if (type == VIGIL_DICOM_SEG_BINARY && !std::isfinite(threshold))
    return fail(error, G_IO_ERROR_INVALID_ARGUMENT, "a binary segmentation needs a threshold");
  if (!prepare(source, map, out_path, false, "a segmentation", src, g, values, error))
    return FALSE;
  std::vector<Uint8> px = seg_pixels(values, type, threshold);
  OFCondition c;
  std::unique_ptr<DcmSegmentation> seg =
      create_seg(src, type, lo_value(description, "Vigil anomaly segmentation"), c);
  return check(c, "cannot create the segmentation", error) && build_seg(*seg, src, g, px, error) &&
         save(*seg, src, out_path, error);
}

gboolean vigil_dicom_write_pmap(const VigilDicomExportSource *source, const VigilMap *map,
                                const char *description, const char *out_path, GError **error) {
  Source src;
  Geometry g;
  std::vector<float> values;
  if (!prepare(source, map, out_path, true, "a parametric map", src, g, values, error))
    return FALSE;
  const OFString text = lo_value(description, "Vigil anomaly map");
  PmapOrError created = create_pmap(src, text);
  if (OFCondition *c = OFget<OFCondition>(&created))
    return check(*c, "cannot create the parametric map", error);
  DPMParametricMapIOD &pmap = *OFget<DPMParametricMapIOD>(&created);
  return build_pmap(pmap, src, g, values, text, error) && save(pmap, src, out_path, error);
}
