/* What the DICOM export sources share (not installed):
 *   vigil-dicom-export.cpp       the source, attributes every object copies,
 *                                atomic saving, Secondary Capture, PDF
 *   vigil-dicom-export-maps.cpp  the map resampled, Segmentation, Parametric Map */
#pragma once

#include "vigil-dicom-private.h"
/* after DCMTK's osconfig */
#include <dcmtk/dcmdata/dcdeftag.h>

#include "vigil-dicom-export.h"

#include <string>

namespace vigil_export {

/* Series Numbers of the new series, one per kind, so that a viewer lists
 * them after the source's and apart from each other. */
constexpr const char *kSeriesSeg = "9901";
constexpr const char *kSeriesPmap = "9902";
constexpr const char *kSeriesSc = "9903";
constexpr const char *kSeriesPdf = "9904";
constexpr const char *kVigil = "Vigil";

/* The analysed slice. `ds` is NULL for a source that is not DICOM. */
struct Source {
  vigil_dicom::Loaded loaded;
  DcmDataset *ds = nullptr;
  int frame = 0, frames = 1;
  Uint16 rows = 0, cols = 0;
  OFString sop_class, sop_instance, series_uid, study_uid;
  bool anonymised = false; /* de-identified (then `key` replaced its UIDs) */
  std::string key;
};

/* Opens `s` for an object called `what` ("a segmentation"). With
 * `need_dicom`, a missing or non-DICOM source is an error; otherwise it gives
 * a Source without dataset whose study_uid is s->study_uid or a new one. */
bool open_source(const VigilDicomExportSource *s, bool need_dicom, const char *what, Source &src,
                 GError **error);

/* De-identifies the source's dataset in place (vigil-dicom-export-anon.cpp):
 * identifying attributes removed (the patient's name too), a generated ID,
 * private attributes removed, instance UIDs replaced by anonymous_uid under
 * `key` (NULL: a random one). */
void deidentify_source(Source &src, const char *key);
/* "2.25." and the decimal of a keyed hash of `uid`: one key, one answer. */
std::string anonymous_uid(const std::string &key, const OFString &uid);
/* Patient Identity Removed YES and the De-identification Method (code
 * 113100) on an object of an anonymised source. */
OFCondition mark_deidentified(DcmItem &out);

/* The source's image plane for its frame, as the strings it holds. */
struct Geometry {
  bool present = false; /* false: the source has none of it */
  OFString frame_of_reference, position[3], orientation[6], spacing, thickness;
};
/* Reads the geometry; false with `error` when only part of it is there, or
 * when `required` and none is. */
bool read_geometry(const Source &src, bool required, const char *what, Geometry &g, GError **error);

OFString new_uid(const char *root);
/* `text` (or `fallback` when NULL) as a DICOM LO value: transliterated to
 * ASCII (objects keep the source's character set), no backslash, at most 64
 * characters. */
OFString lo_value(const char *text, const char *fallback);
bool fail(GError **error, int code, const char *format, ...) G_GNUC_PRINTF(3, 4);
/* Sets `error` from a DCMTK condition, prefixed with what was being done. */
bool check(OFCondition c, const char *doing, GError **error);

/* Referenced Series Sequence (Common Instance Reference module) naming the
 * source instance, for objects whose functional groups reference it. */
bool add_series_reference(DcmItem &out, const Source &src, GError **error);
/* Referenced frame of a multi-frame source (1-based), 0 for a single frame. */
int referenced_frame(const Source &src);

/* false with `error` when `out_path` is NULL or empty. */
bool check_out_path(const char *out_path, GError **error);
/* Writes `ff` as explicit little endian to a temporary file beside
 * `out_path`, then renames it; removes the temporary file on failure. Marks
 * the object de-identified first when `src` is anonymised. */
bool save_atomic(DcmFileFormat &ff, const Source &src, const char *out_path, GError **error);

} // namespace vigil_export
