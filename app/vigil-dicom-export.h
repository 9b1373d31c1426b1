/* DICOM outputs of an analysed slice, written with DCMTK's own modules (C API
 * over vigil-dicom-export.cpp and vigil-dicom-export-maps.cpp):
 *   Segmentation       dcmseg: the anomaly map, FRACTIONAL PROBABILITY (8 bits,
 *                      255 = 1.0) or BINARY at a threshold
 *   Parametric Map     dcmpmap: the map as Float32, unitless anomaly scores
 *   Secondary Capture  the annotated view as RGB pixels
 *   Encapsulated PDF   a PDF report
 *
 * Every object goes into a NEW series (new Series and SOP Instance UIDs from
 * dcmGenerateUniqueIdentifier) of the source's study: Study Instance UID and
 * the patient and study attributes are copied from the source file, the
 * Manufacturer and Manufacturer's Model Name are "Vigil", Software Versions is
 * VIGIL_VERSION, and the source image is referenced (Derivation Image
 * functional group and Common Instance Reference for SEG and PMAP, Source
 * Image Sequence for SC, Source Instance Sequence for the PDF). Values the
 * source holds in a form DICOM forbids (a TM with colons, a DA with dots) are
 * repaired, or dropped when they cannot be. Descriptions and titles are
 * written as ASCII (transliterated), without backslashes, at most 64 characters.
 *
 * Sources that are not DICOM (PNG, JPEG, NIfTI slices), or a NULL source:
 * SEG and PMAP are refused (they must reference a source image and carry its
 * geometry, which is never invented). SC and PDF are written into a new study
 * (source->study_uid, or a generated one) with no patient name and a Patient
 * ID made from the Study Instance UID ("VIGIL-" and 16 hex digits of its
 * SHA-256), so that a PACS keeps such studies apart.
 *
 * Anonymised (source->anonymise), after PS3.15 Annex E's Basic Application
 * Confidentiality Profile for the attributes Vigil writes: the source is
 * de-identified before anything is copied from it. Patient's Name is empty,
 * Patient ID "VIGIL-" and 16 hex digits of a keyed hash;
 * birth date, sex, age, accession number, study ID, date and time,
 * institution, physicians, operators, descriptions, the source's dates and
 * its private attributes are removed (type 2 ones written empty). Every
 * instance UID the objects copy or reference (Study, Series, SOP Instance,
 * Frame of Reference) becomes "2.25." and the decimal of HMAC-SHA256(key,
 * UID), so the objects join a NEW study and still agree with each other
 * while none reveals a source UID. Each object says Patient Identity Removed
 * YES, De-identification Method (Code Sequence: DCM 113100, Basic
 * Application Confidentiality Profile) and Longitudinal Temporal Information
 * Modified REMOVED. Geometry (position, orientation, spacing) is kept.
 * Pixel data is not examined: the source slice's pixels are never written,
 * the SC holds Vigil's view (see vigil-report.h) and the PDF is as given.
 *
 * Geometry: SEG and PMAP frames are the source slice's Rows x Columns; the
 * map (computed on a side x side plain stretch of the shown slice, see
 * vigil-resize.h) is resampled back bilinearly, pixel centres aligned. They
 * carry the source's Frame of Reference UID, Plane Position / Orientation
 * (Patient) and Pixel Measures, read for the frame from the per-frame
 * functional groups, the shared ones, then the top level. A PMAP needs all of
 * them; a SEG of a source with none of them (an old secondary capture, say)
 * references its source through the Derivation Image group alone; a source
 * with only part of them is refused with the names of the missing ones.
 *
 * Writes are atomic (a temporary file in the output folder, then a rename):
 * success replaces a file already at out_path (ask the user first); on any
 * error no file is left there (one already there is kept) and `error` says
 * why, in G_IO_ERROR:
 *   G_IO_ERROR_NOT_SUPPORTED      SEG or PMAP asked of a source that is not DICOM,
 *                                 or of one without the geometry it must carry
 *   G_IO_ERROR_INVALID_ARGUMENT   bad arguments: map not square, no frame N, ...
 *   G_IO_ERROR_INVALID_DATA       unreadable source, NaN in the
 *                                 map, a file that is not a PDF
 *   others (NOT_FOUND, PERMISSION_DENIED, NO_SPACE, IS_DIRECTORY, FAILED)
 *                                 from the file system, naming the path
 *
 * Nothing is shared between calls: the writers may run on worker threads.
 * Viewers: OHIF shows BINARY segmentations only and overlays Parametric Maps
 * (3.9+); Vigil's own reader opens the fractional SEG and the SC. */
#pragma once

#include <glib.h>

#include "vigil-heatmap.h"

G_BEGIN_DECLS

typedef struct {
  const char *path; /* the analysed slice's file; NULL: no source (SC and PDF only) */
  int frame;        /* 0-based frame of a multi-frame file; 0 otherwise */
  /* Only for a source that is not DICOM: the Study Instance UID of the new
   * study, so that all objects of one report share it (see
   * vigil_dicom_export_new_uid); NULL: each object gets a new one. */
  const char *study_uid;
  /* De-identify (see "Anonymised" above): the objects go into a new study,
   * with no patient identity and the source's UIDs replaced. */
  gboolean anonymise;
  /* The key of the replaced UIDs: objects written with one key reference the
   * same replaced source, study and frame of reference, so give all objects
   * of one report the same (random, never stored) key. NULL: a random one per
   * call. */
  const char *anonymise_key;
} VigilDicomExportSource;

typedef enum {
  VIGIL_DICOM_SEG_FRACTIONAL, /* PROBABILITY: round(255 * clamp(v, 0, 1)) */
  VIGIL_DICOM_SEG_BINARY,     /* 1 where v >= threshold (after resampling) */
} VigilDicomSegType;

/* A new UID under DCMTK's root (dcmGenerateUniqueIdentifier), e.g. the
 * study_uid for all objects of one report on a non-DICOM source. g_free it. */
char *vigil_dicom_export_new_uid(void);

/* Segmentation of `map` (values read as probabilities in 0..1, so pass a map
 * already scaled to that range, e.g. the layer sum divided by the layers;
 * every value must be finite) with one segment "Anomaly" (category SCT
 * 49755003 Morphologically Abnormal Structure, type SCT 52988006 Lesion,
 * algorithm AUTOMATIC "MVFA (Vigil)"). `threshold` is used by BINARY only,
 * on the resampled values. `description` is the Series Description, e.g.
 * "Vigil anomaly map (zero-shot)"; NULL gives "Vigil anomaly segmentation". */
gboolean vigil_dicom_write_seg(const VigilDicomExportSource *source, const VigilMap *map,
                               VigilDicomSegType type, double threshold, const char *description,
                               const char *out_path, GError **error);

/* Parametric Map of `map` as Float32 (finite values, any range), Real World
 * Value Mapping identity with unit UCUM "1" (no units), LUT label "ANOMALY",
 * Frame Anatomy from Body Part Examined (else Entire body). `description`
 * NULL gives "Vigil anomaly map". */
gboolean vigil_dicom_write_pmap(const VigilDicomExportSource *source, const VigilMap *map,
                                const char *description, const char *out_path, GError **error);

/* Secondary Capture of an 8-bit RGB image (width x height, rows of width * 3
 * bytes, no padding), Conversion Type WSD, Burned In Annotation YES.
 * `description` NULL gives "Vigil annotated view". */
gboolean vigil_dicom_write_sc(const VigilDicomExportSource *source, const guint8 *rgb, int width,
                              int height, const char *description, const char *out_path,
                              GError **error);

/* Encapsulated PDF of the file `pdf_path` (it must start with "%PDF-"),
 * Document Title `title` (NULL: "Vigil report"), Burned In Annotation YES.
 * An odd-sized document is padded with one zero byte, as DICOM requires;
 * Encapsulated Document Length holds the true size. `description` NULL gives
 * "Vigil report". */
gboolean vigil_dicom_write_pdf(const VigilDicomExportSource *source, const char *pdf_path,
                               const char *title, const char *description, const char *out_path,
                               GError **error);

G_END_DECLS
