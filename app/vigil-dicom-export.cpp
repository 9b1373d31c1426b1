/* DICOM export: the source slice (opened, its values repaired, its geometry
 * read), the attributes every new object copies or sets, atomic saving, and
 * the two objects built with dcmdata alone: Secondary Capture and
 * Encapsulated PDF. See vigil-dicom-export.h. */
#include "vigil-dicom-export-private.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrda.h>
#include <dcmtk/dcmdata/dcvrtm.h>

#include <cerrno>
#include <cstdarg>
#include <fcntl.h>
#include <string>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "vigil-config.h"

namespace vigil_export {

/* ---- errors and UIDs ------------------------------------------------------ */

bool fail(GError **error, int code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  g_autofree char *message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error_literal(error, G_IO_ERROR, code, message);
  return false;
}

bool check(OFCondition c, const char *doing, GError **error) {
  return c.good() || fail(error, G_IO_ERROR_FAILED, "%s: %s", doing, c.text());
}

OFString new_uid(const char *root) {
  char uid[100];
  return dcmGenerateUniqueIdentifier(uid, root);
}

OFString lo_value(const char *text, const char *fallback) {
  g_autofree char *ascii = g_str_to_ascii(text ? text : fallback, "C");
  g_strdelimit(ascii, "\\\r\n", '/');
  return OFString(ascii).substr(0, 64);
}

/* ---- the source ----------------------------------------------------------- */

namespace {

bool has_dicm_magic(const char *path) {
  char head[132] = {0};
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  const size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  return n == sizeof head && memcmp(head + 128, "DICM", 4) == 0;
}

/* A TM with colons (ACR-NEMA's 12:30:00) or a DA with dots (2024.01.02) is
 * still common in old files, and DCMTK rightly refuses to write either:
 * repair them, and drop what stays invalid rather than pass it on. */
void repair_dates_and_times(DcmItem &ds) {
  OFVector<DcmTagKey> drop;
  for (unsigned long i = 0; i < ds.card(); i++) {
    DcmElement *e = ds.getElement(i);
    const DcmEVR vr = e->ident();
    OFString value, fixed;
    if ((vr != EVR_TM && vr != EVR_DA) || e->getOFStringArray(value).bad())
      continue;
    for (char c : value)
      if (c != (vr == EVR_TM ? ':' : '.') && c != ' ')
        fixed += c;
    const bool valid = vr == EVR_TM ? DcmTime::checkStringValue(fixed, "1-n").good()
                                    : DcmDate::checkStringValue(fixed, "1-n").good();
    if (!valid)
      drop.push_back(e->getTag());
    else if (fixed != value)
      e->putOFStringArray(fixed);
  }
  for (const DcmTagKey &tag : drop)
    ds.findAndDeleteElement(tag);
}

/* What a source must hold to be referenced. */
bool read_identity(Source &src, const char *path, GError **error) {
  DcmDataset *ds = src.ds;
  const struct {
    const DcmTagKey tag;
    OFString *value;
    const char *name;
  } uids[] = {{DCM_SOPClassUID, &src.sop_class, "SOP Class UID"},
              {DCM_SOPInstanceUID, &src.sop_instance, "SOP Instance UID"},
              {DCM_StudyInstanceUID, &src.study_uid, "Study Instance UID"},
              {DCM_SeriesInstanceUID, &src.series_uid, "Series Instance UID"}};
  for (const auto &u : uids)
    if (ds->findAndGetOFString(u.tag, *u.value).bad() || u.value->empty())
      return fail(error, G_IO_ERROR_INVALID_DATA, "%s has no %s", path, u.name);
  if (ds->findAndGetUint16(DCM_Rows, src.rows).bad() ||
      ds->findAndGetUint16(DCM_Columns, src.cols).bad() || !src.rows || !src.cols)
    return fail(error, G_IO_ERROR_INVALID_DATA, "%s has no image size (Rows, Columns)", path);
  Sint32 frames = 1; /* DCMTK zeroes it when the tag is absent */
  if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad())
    frames = 1;
  else if (frames < 1)
    return fail(error, G_IO_ERROR_INVALID_DATA, "%s has Number of Frames %d", path, (int)frames);
  src.frames = frames;
  if (src.frame >= src.frames || src.frame >= G_MAXUINT16)
    return fail(error, G_IO_ERROR_INVALID_ARGUMENT, "%s has %d frame(s); there is no frame %d",
                path, src.frames, src.frame + 1);
  return true;
}

} // namespace

bool open_source(const VigilDicomExportSource *s, bool need_dicom, const char *what, Source &src,
                 GError **error) {
  const char *path = s ? s->path : nullptr;
  vigil_dicom::init_dcmtk();
  if (s && s->frame < 0)
    return fail(error, G_IO_ERROR_INVALID_ARGUMENT, "frame %d does not exist", s->frame);
  src.frame = s ? s->frame : 0;
  g_autoptr(GError) local = NULL;
  if (path && vigil_dicom::load_path(src.loaded, path, &local)) {
    src.ds = src.loaded.ff.getDataset();
    /* A non-DICOM file DCMTK happened to parse has no SOP instance at all. */
    if (has_dicm_magic(path) || src.ds->tagExists(DCM_SOPInstanceUID)) {
      repair_dates_and_times(*src.ds);
      if (s->anonymise)
        deidentify_source(src, s->anonymise_key);
      return read_identity(src, path, error);
    }
    src.ds = nullptr;
  } else if (path && (has_dicm_magic(path) || !g_file_test(path, G_FILE_TEST_IS_REGULAR))) {
    return fail(error, G_IO_ERROR_INVALID_DATA, "cannot read the source %s: %s", path,
                local->message);
  }
  if (need_dicom)
    return fail(error, G_IO_ERROR_NOT_SUPPORTED,
                "%s needs a DICOM source image to reference and to take its geometry from; %s",
                what, path ? "the source is not a DICOM file" : "there is no source");
  src.study_uid = s && s->study_uid ? OFString(s->study_uid) : new_uid(SITE_STUDY_UID_ROOT);
  src.anonymised = s && s->anonymise;
  return true;
}

int referenced_frame(const Source &src) {
  return src.frames > 1 ? src.frame + 1 : 0;
}

/* ---- geometry ------------------------------------------------------------- */

namespace {

/* The item holding `tag` for the frame: its per-frame macro, the shared one,
 * then the top level (classic single-frame images). */
DcmItem *holder(const Source &src, const DcmTagKey &macro, const DcmTagKey &tag) {
  DcmItem *group = nullptr, *item = nullptr;
  if (src.ds->findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, group, src.frame)
          .good() &&
      group->findAndGetSequenceItem(macro, item, 0).good() && item->tagExists(tag))
    return item;
  if (src.ds->findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, group, 0).good() &&
      group->findAndGetSequenceItem(macro, item, 0).good() && item->tagExists(tag))
    return item;
  return src.ds->tagExists(tag) ? src.ds : nullptr;
}

/* `n` values of a DS attribute into out[]; false unless all are there. */
bool get_values(const Source &src, const DcmTagKey &macro, const DcmTagKey &tag, OFString *out,
                int n) {
  DcmItem *item = holder(src, macro, tag);
  for (int i = 0; i < n; i++)
    if (!item || item->findAndGetOFString(tag, out[i], i).bad() || out[i].empty())
      return false;
  return true;
}

} // namespace

bool read_geometry(const Source &src, bool required, const char *what, Geometry &g,
                   GError **error) {
  OFString spacing[2], thickness;
  const bool parts[] = {
      src.ds->findAndGetOFString(DCM_FrameOfReferenceUID, g.frame_of_reference).good() &&
          !g.frame_of_reference.empty(),
      get_values(src, DCM_PlanePositionSequence, DCM_ImagePositionPatient, g.position, 3),
      get_values(src, DCM_PlaneOrientationSequence, DCM_ImageOrientationPatient, g.orientation, 6),
      get_values(src, DCM_PixelMeasuresSequence, DCM_PixelSpacing, spacing, 2)};
  const char *names[] = {"Frame of Reference UID", "Image Position (Patient)",
                         "Image Orientation (Patient)", "Pixel Spacing"};
  g_autoptr(GString) missing = g_string_new(NULL);
  for (int i = 0; i < 4; i++) {
    g.present = g.present || parts[i];
    if (!parts[i])
      g_string_append_printf(missing, "%s%s", missing->len ? ", " : "", names[i]);
  }
  if (!g.present && !required)
    return true;
  if (!missing->len) {
    g.spacing = spacing[0] + "\\" + spacing[1];
    if (get_values(src, DCM_PixelMeasuresSequence, DCM_SliceThickness, &thickness, 1))
      g.thickness = thickness;
    return true;
  }
  return fail(error, G_IO_ERROR_NOT_SUPPORTED,
              "the source has no %s for frame %d, which %s must carry; "
              "Vigil does not invent geometry",
              missing->str, src.frame + 1, what);
}

/* ---- attributes every object copies or sets ------------------------------- */

bool add_series_reference(DcmItem &out, const Source &src, GError **error) {
  DcmItem *series = nullptr, *instance = nullptr;
  out.findAndDeleteElement(DCM_ReferencedSeriesSequence);
  OFCondition c = out.findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, series, 0);
  if (c.good())
    c = series->putAndInsertOFStringArray(DCM_SeriesInstanceUID, src.series_uid);
  if (c.good())
    c = series->findOrCreateSequenceItem(DCM_ReferencedInstanceSequence, instance, 0);
  if (c.good())
    c = instance->putAndInsertOFStringArray(DCM_ReferencedSOPClassUID, src.sop_class);
  if (c.good())
    c = instance->putAndInsertOFStringArray(DCM_ReferencedSOPInstanceUID, src.sop_instance);
  return check(c, "cannot reference the source series", error);
}

namespace {

/* Puts string values, keeping the first failure. */
struct Put {
  DcmItem &item;
  OFCondition status = EC_Normal;
  Put &operator()(const DcmTagKey &tag, const OFString &value) {
    if (status.good())
      status = item.putAndInsertOFStringArray(tag, value);
    return *this;
  }
};

/* An attribute copied from the source; a type 2 one is present, empty, where
 * the source lacks it. */
struct Copied {
  DcmTagKey tag;
  bool type2;
};

template <size_t N>
void copy_from_source(DcmItem &out, const Source &src, const Copied (&tags)[N]) {
  for (const Copied &t : tags) {
    DcmElement *e = nullptr;
    if (src.ds && src.ds->findAndGetElement(t.tag, e).good())
      out.insert(OFstatic_cast(DcmElement *, e->clone()), OFTrue);
    else if (t.type2)
      out.insertEmptyElement(t.tag);
  }
}

/* Patient, General Study and Patient Study modules. */
void copy_patient_study(DcmItem &out, const Source &src) {
  static const Copied tags[] = {{DCM_SpecificCharacterSet, false},
                                {DCM_PatientName, true},
                                {DCM_PatientID, true},
                                {DCM_IssuerOfPatientID, false},
                                {DCM_PatientBirthDate, true},
                                {DCM_PatientSex, true},
                                {DCM_PatientAge, false},
                                {DCM_PatientSize, false},
                                {DCM_PatientWeight, false},
                                {DCM_StudyDate, true},
                                {DCM_StudyTime, true},
                                {DCM_ReferringPhysicianName, true},
                                {DCM_StudyID, true},
                                {DCM_AccessionNumber, true},
                                {DCM_StudyDescription, false}};
  copy_from_source(out, src, tags);
}

/* A new instance in a new series of the source's study, made by Vigil. */
OFCondition put_new_instance(DcmItem &out, const Source &src, const char *sop_class,
                             const char *modality, const char *series_number,
                             const OFString &description) {
  OFString date, time;
  DcmDate::getCurrentDate(date);
  DcmTime::getCurrentTime(time);
  copy_patient_study(out, src);
  Put put{out};
  if (!src.ds) {
    /* No known patient: an ID made from the study, so that a PACS files each
     * such study under its own patient rather than all under "". */
    g_autofree char *hash =
        g_compute_checksum_for_string(G_CHECKSUM_SHA256, src.study_uid.c_str(), -1);
    put(DCM_PatientID, OFString("VIGIL-") + OFString(hash, 16));
  }
  put(DCM_SOPClassUID, sop_class)(DCM_SOPInstanceUID, new_uid(SITE_INSTANCE_UID_ROOT));
  put(DCM_StudyInstanceUID, src.study_uid)(DCM_SeriesInstanceUID, new_uid(SITE_SERIES_UID_ROOT));
  put(DCM_Modality, modality)(DCM_SeriesNumber, series_number)(DCM_InstanceNumber, "1");
  put(DCM_SeriesDescription, description)(DCM_SeriesDate, date)(DCM_SeriesTime, time);
  put(DCM_ContentDate, date)(DCM_ContentTime, time);
  put(DCM_InstanceCreationDate, date)(DCM_InstanceCreationTime, time);
  put(DCM_Manufacturer, kVigil)(DCM_ManufacturerModelName, kVigil);
  put(DCM_SoftwareVersions, VIGIL_VERSION)(DCM_ConversionType, "WSD");
  put(DCM_SecondaryCaptureDeviceManufacturer, kVigil);
  put(DCM_SecondaryCaptureDeviceManufacturerModelName, kVigil);
  put(DCM_SecondaryCaptureDeviceSoftwareVersions, VIGIL_VERSION);
  put(DCM_BurnedInAnnotation, "YES");
  return put.status;
}

/* One item of `sequence` naming the source instance (and frame). */
OFCondition put_source_item(DcmItem &out, const DcmTagKey &sequence, const Source &src,
                            DcmItem *&item) {
  OFCondition c = out.findOrCreateSequenceItem(sequence, item, 0);
  if (c.good())
    c = item->putAndInsertOFStringArray(DCM_ReferencedSOPClassUID, src.sop_class);
  if (c.good())
    c = item->putAndInsertOFStringArray(DCM_ReferencedSOPInstanceUID, src.sop_instance);
  if (c.good() && referenced_frame(src))
    c = item->putAndInsertOFStringArray(DCM_ReferencedFrameNumber,
                                        OFString(std::to_string(referenced_frame(src)).c_str()));
  return c;
}

/* Source Image Sequence of a derived image (General Image module). */
OFCondition put_source_image(DcmItem &out, const Source &src) {
  DcmItem *item = nullptr, *purpose = nullptr;
  OFCondition c = put_source_item(out, DCM_SourceImageSequence, src, item);
  if (c.good())
    c = item->findOrCreateSequenceItem(DCM_PurposeOfReferenceCodeSequence, purpose, 0);
  if (c.bad())
    return c;
  Put put{*purpose};
  put(DCM_CodeValue, "121322")(DCM_CodingSchemeDesignator, "DCM");
  put(DCM_CodeMeaning, "Source image for image processing operation");
  return put.status;
}

bool io_fail(GError **error, int err, const char *format, const char *path) {
  return fail(error, g_io_error_from_errno(err), format, path, g_strerror(err));
}

/* fsync, so that a full disk shows here rather than after the rename. */
bool sync_file(const char *path, GError **error) {
  int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0 || fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0)
      close(fd);
    return io_fail(error, err, "cannot write %s: %s", path);
  }
  return close(fd) == 0 || io_fail(error, errno, "cannot write %s: %s", path);
}

/* DCMTK does not keep errno: a full disk is told by the space left, a file
 * size limit (ulimit -f) by the partial file having reached it. */
bool write_failed(const char *out_path, const char *temp, const char *dir, OFCondition c,
                  GError **error) {
  struct statvfs fs;
  struct rlimit limit;
  GStatBuf st;
  if (statvfs(dir, &fs) == 0 && (guint64)fs.f_bavail * fs.f_frsize < 65536)
    return fail(error, G_IO_ERROR_NO_SPACE, "cannot write %s: the disk is full", out_path);
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      g_stat(temp, &st) == 0 && (guint64)st.st_size + 65536 > (guint64)limit.rlim_cur)
    return fail(error, G_IO_ERROR_NO_SPACE,
                "cannot write %s: it is larger than the file size limit (ulimit -f) of %llu bytes",
                out_path, (unsigned long long)limit.rlim_cur);
  return fail(error, G_IO_ERROR_FAILED, "cannot write %s: %s", out_path, c.text());
}

} // namespace

bool check_out_path(const char *out_path, GError **error) {
  return (out_path && *out_path) ||
         fail(error, G_IO_ERROR_INVALID_ARGUMENT, "no output file was given");
}

bool save_atomic(DcmFileFormat &ff, const Source &src, const char *out_path, GError **error) {
  if (src.anonymised &&
      !check(mark_deidentified(*ff.getDataset()), "cannot mark the object de-identified", error))
    return false;
  g_autofree char *dir = g_path_get_dirname(out_path);
  g_autofree char *base = g_path_get_basename(out_path);
  g_autofree char *temp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
  const int fd = g_mkstemp_full(temp, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    return io_fail(error, errno, "cannot write in the folder %s: %s", dir);
  close(fd);
  const OFCondition c = ff.saveFile(temp, EXS_LittleEndianExplicit);
  bool ok = c.good() || write_failed(out_path, temp, dir, c, error);
  ok = ok && sync_file(temp, error);
  if (ok && g_rename(temp, out_path) != 0)
    ok = io_fail(error, errno, "cannot write %s: %s", out_path);
  if (!ok)
    g_unlink(temp);
  return ok;
}

} // namespace vigil_export

using namespace vigil_export;

/* ---- Secondary Capture and Encapsulated PDF ------------------------------- */

namespace {

bool build_sc(DcmDataset &ds, const Source &src, const guint8 *rgb, int width, int height,
              const char *description, GError **error) {
  OFCondition c = put_new_instance(ds, src, UID_SecondaryCaptureImageStorage, "OT", kSeriesSc,
                                   lo_value(description, "Vigil annotated view"));
  /* The view shows the source's body part. Laterality is needed for paired
   * parts: empty (unknown) when the source says neither. */
  static const Copied body[] = {{DCM_BodyPartExamined, false}, {DCM_Laterality, false}};
  copy_from_source(ds, src, body);
  Put put{ds};
  if (!ds.tagExists(DCM_BodyPartExamined) && !ds.tagExists(DCM_Laterality))
    put(DCM_Laterality, "");
  put(DCM_ImageType, "DERIVED\\SECONDARY")(DCM_PatientOrientation, "");
  put(DCM_DerivationDescription, "Vigil's anomaly map drawn over the source image");
  put(DCM_PhotometricInterpretation, "RGB");
  if (c.good())
    c = put.status;
  if (c.good() && src.ds)
    c = put_source_image(ds, src);
  const struct {
    DcmTagKey tag;
    Uint16 value;
  } pixel[] = {{DCM_SamplesPerPixel, 3},   {DCM_PlanarConfiguration, 0},
               {DCM_Rows, (Uint16)height}, {DCM_Columns, (Uint16)width},
               {DCM_BitsAllocated, 8},     {DCM_BitsStored, 8},
               {DCM_HighBit, 7},           {DCM_PixelRepresentation, 0}};
  for (const auto &p : pixel)
    if (c.good())
      c = ds.putAndInsertUint16(p.tag, p.value);
  if (c.good())
    c = ds.putAndInsertUint8Array(DCM_PixelData, rgb, (unsigned long)width * height * 3);
  return check(c, "cannot build the secondary capture", error);
}

/* The PDF's bytes, checked to be a PDF; padded to an even length. */
bool read_pdf(const char *pdf_path, char **data, gsize *size, GError **error) {
  if (!pdf_path)
    return fail(error, G_IO_ERROR_INVALID_ARGUMENT, "no PDF file was given");
  if (!g_file_get_contents(pdf_path, data, size, error))
    return false;
  if (*size < 5 || memcmp(*data, "%PDF-", 5) != 0)
    return fail(error, G_IO_ERROR_INVALID_DATA, "%s is not a PDF file", pdf_path);
  if (*size > G_MAXUINT32 - 1)
    return fail(error, G_IO_ERROR_INVALID_DATA, "%s is too large for DICOM", pdf_path);
  *data = (char *)g_realloc(*data, *size + 1);
  (*data)[*size] = 0;
  return true;
}

bool build_pdf(DcmDataset &ds, const Source &src, const guint8 *pdf, gsize size, const char *title,
               const char *description, GError **error) {
  OFCondition c = put_new_instance(ds, src, UID_EncapsulatedPDFStorage, "DOC", kSeriesPdf,
                                   lo_value(description, "Vigil report"));
  Put put{ds};
  put(DCM_DocumentTitle, lo_value(title, "Vigil report"))(DCM_AcquisitionDateTime, "");
  put(DCM_MIMETypeOfEncapsulatedDocument, "application/pdf");
  if (c.good())
    c = put.status;
  if (c.good())
    c = ds.insertEmptyElement(DCM_ConceptNameCodeSequence);
  DcmItem *item = nullptr;
  if (c.good() && src.ds)
    c = put_source_item(ds, DCM_SourceInstanceSequence, src, item);
  if (c.good())
    c = ds.putAndInsertUint32(DCM_EncapsulatedDocumentLength, (Uint32)size);
  if (c.good())
    c = ds.putAndInsertUint8Array(DCM_EncapsulatedDocument, pdf, (unsigned long)(size + size % 2));
  return check(c, "cannot build the encapsulated PDF", error);
}

} // namespace

char *vigil_dicom_export_new_uid(void) {
  return g_strdup(new_uid(SITE_INSTANCE_UID_ROOT).c_str());
}

gboolean vigil_dicom_write_sc(const VigilDicomExportSource *source, const guint8 *rgb, int width,
                              int height, const char *description, const char *out_path,
                              GError **error) {
  if (!check_out_path(out_path, error))
    return FALSE;
  if (!rgb || width < 1 || height < 1 || width > G_MAXUINT16 || height > G_MAXUINT16)
    return fail(error, G_IO_ERROR_INVALID_ARGUMENT,
                "a secondary capture needs an RGB image of 1 to 65535 pixels a side, not %d x %d",
                width, height);
  Source src;
  DcmFileFormat ff;
  return open_source(source, false, "a secondary capture", src, error) &&
         build_sc(*ff.getDataset(), src, rgb, width, height, description, error) &&
         save_atomic(ff, src, out_path, error);
}

gboolean vigil_dicom_write_pdf(const VigilDicomExportSource *source, const char *pdf_path,
                               const char *title, const char *description, const char *out_path,
                               GError **error) {
  g_autofree char *pdf = NULL;
  gsize size = 0;
  Source src;
  DcmFileFormat ff;
  return check_out_path(out_path, error) && read_pdf(pdf_path, &pdf, &size, error) &&
         open_source(source, false, "an encapsulated PDF", src, error) &&
         build_pdf(*ff.getDataset(), src, (const guint8 *)pdf, size, title, description, error) &&
         save_atomic(ff, src, out_path, error);
}
