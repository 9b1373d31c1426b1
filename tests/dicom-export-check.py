#!/usr/bin/python3
"""Reads back what tests/test-dicom-export.c wrote into DIR, with tools that share no
code with Vigil: dciodvfy (dicom3tools) must report no error for any object (its
warnings are printed), and pydicom + numpy check the content against the sources
(tests/dicom-export-fixtures.py), the map (map.f32, resampled here on its own), the
view (view.rgb) and the PDF. Usage: dicom-export-check.py DIR VIGIL_VERSION"""
import hashlib
import os
import sys

import numpy as np
import pydicom

from dicom_checks import PDF, PMAP, SC, SEG, check, dciodvfy, finish

DIR, VERSION = sys.argv[1], sys.argv[2]
SIDE = 240


def read(name):
    return pydicom.dcmread(os.path.join(DIR, name))


def resampled(rows, cols):
    """The map on the slice's grid: bilinear, pixel centres aligned, edges clamped."""
    m = np.fromfile(os.path.join(DIR, "map.f32"), dtype="<f4").reshape(SIDE, SIDE).astype(float)

    def axis(n):
        f = np.clip((np.arange(n) + 0.5) * SIDE / n - 0.5, 0, SIDE - 1)
        i0 = np.floor(f).astype(int)
        return i0, np.minimum(i0 + 1, SIDE - 1), f - i0

    y0, y1, ty = axis(rows)
    x0, x1, tx = axis(cols)
    top = m[y0][:, x0] * (1 - tx) + m[y0][:, x1] * tx
    bottom = m[y1][:, x0] * (1 - tx) + m[y1][:, x1] * tx
    return top * (1 - ty[:, None]) + bottom * ty[:, None]


def common(name, source, sop_class, all_series):
    """New series and instance in the source's study, made by Vigil."""
    ds = read(name)
    dciodvfy(os.path.join(DIR, name), show_warnings=True)
    check(ds.SOPClassUID == sop_class, f"{name}: SOP class {ds.SOPClassUID}")
    check(ds.StudyInstanceUID == source.StudyInstanceUID, f"{name}: not in the source's study")
    check(ds.SeriesInstanceUID not in all_series, f"{name}: series UID reused")
    all_series.add(ds.SeriesInstanceUID)
    check(ds.SOPInstanceUID != source.SOPInstanceUID, f"{name}: SOP instance UID reused")
    for key in ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "StudyDate"):
        check(ds.get(key) == source.get(key), f"{name}: {key} {ds.get(key)} != {source.get(key)}")
    check(ds.StudyTime == "123000", f"{name}: Study Time {ds.StudyTime!r} not repaired")
    check(ds.Manufacturer == "Vigil" and ds.ManufacturerModelName == "Vigil",
          f"{name}: manufacturer {ds.Manufacturer} / {ds.ManufacturerModelName}")
    check(ds.SoftwareVersions == VERSION, f"{name}: software version {ds.SoftwareVersions}")
    check(ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID, f"{name}: meta header")
    return ds


def frame_geometry(ds, frame):
    """Position, orientation, spacing, thickness of a frame of a source or an output."""
    def find(macro, key):
        for groups in (ds.get("PerFrameFunctionalGroupsSequence"), ):
            if groups and macro in groups[frame] and key in groups[frame][macro][0]:
                return groups[frame][macro][0][key].value
        shared = ds.get("SharedFunctionalGroupsSequence")
        if shared and macro in shared[0] and key in shared[0][macro][0]:
            return shared[0][macro][0][key].value
        return ds.get(key)

    return [list(map(float, find("PlanePositionSequence", "ImagePositionPatient") or [])),
            list(map(float, find("PlaneOrientationSequence", "ImageOrientationPatient") or [])),
            list(map(float, find("PixelMeasuresSequence", "PixelSpacing") or [])),
            float(find("PixelMeasuresSequence", "SliceThickness") or 0)]


def references(name, ds, source, frame, with_geometry=True):
    """Same grid and geometry as the source frame; the source referenced."""
    check((ds.Rows, ds.Columns) == (source.Rows, source.Columns),
          f"{name}: {ds.Rows} x {ds.Columns} is not the source's size")
    if with_geometry:
        check(ds.FrameOfReferenceUID == source.FrameOfReferenceUID, f"{name}: frame of reference")
        check(frame_geometry(ds, 0) == frame_geometry(source, frame),
              f"{name}: geometry {frame_geometry(ds, 0)} != {frame_geometry(source, frame)}")
    else:
        check("FrameOfReferenceUID" not in ds, f"{name}: invented a frame of reference")
        check(frame_geometry(ds, 0)[0] == [], f"{name}: invented a position")
    item = ds.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0]
    ref = item.SourceImageSequence[0]
    check(ref.ReferencedSOPInstanceUID == source.SOPInstanceUID, f"{name}: derivation reference")
    check(ref.ReferencedSOPClassUID == source.SOPClassUID, f"{name}: derivation SOP class")
    multi = int(source.get("NumberOfFrames", 1)) > 1
    check(int(ref.get("ReferencedFrameNumber", 0) or 0) == (frame + 1 if multi else 0),
          f"{name}: referenced frame {ref.get('ReferencedFrameNumber')}")
    series = ds.ReferencedSeriesSequence[0]
    check(series.SeriesInstanceUID == source.SeriesInstanceUID, f"{name}: referenced series")
    check(series.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID,
          f"{name}: referenced instance")


def check_seg(name, source, frame, series, binary=False, with_geometry=True):
    ds = common(name, source, SEG, series)
    references(name, ds, source, frame, with_geometry)
    segment = ds.SegmentSequence[0]
    check(segment.SegmentLabel == "Anomaly" and segment.SegmentAlgorithmType == "AUTOMATIC"
          and segment.SegmentAlgorithmName == "MVFA (Vigil)", f"{name}: segment description")
    values = resampled(ds.Rows, ds.Columns)
    pixels = ds.pixel_array.astype(int).reshape(ds.Rows, ds.Columns)
    if binary:
        check(ds.SegmentationType == "BINARY", f"{name}: type {ds.SegmentationType}")
        want = (values >= 0.5).astype(int)
        near = np.abs(values - 0.5) < 1e-5
        bad = (pixels != want) & ~near
    else:
        check(ds.SegmentationType == "FRACTIONAL" and ds.SegmentationFractionalType ==
              "PROBABILITY" and ds.MaximumFractionalValue == 255, f"{name}: fractional type")
        want = np.rint(255 * np.clip(values, 0, 1)).astype(int)
        bad = np.abs(pixels - want) > 1
        check(pixels.max() == 255 and pixels.min() == 0, f"{name}: the map is not clamped")
    check(not bad.any(), f"{name}: {int(bad.sum())} pixels differ from the resampled map")


def check_pmap(name, source, frame, series):
    ds = common(name, source, PMAP, series)
    references(name, ds, source, frame)
    floats = np.frombuffer(ds.FloatPixelData, dtype="<f4").reshape(ds.Rows, ds.Columns)
    want = resampled(ds.Rows, ds.Columns)
    err = np.abs(floats - want).max()
    check(err <= 1e-5, f"{name}: float values differ from the resampled map by {err}")
    rwvm = ds.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    check(rwvm.LUTLabel == "ANOMALY", f"{name}: LUT label {rwvm.LUTLabel}")
    unit = rwvm.MeasurementUnitsCodeSequence[0]
    check((unit.CodeValue, unit.CodingSchemeDesignator) == ("1", "UCUM"), f"{name}: unit")


def check_sc(name, source, series, frame=0):
    ds = common(name, source, SC, series) if source else read(name)
    rgb = np.fromfile(os.path.join(DIR, "view.rgb"), dtype=np.uint8)
    check((ds.Rows, ds.Columns, ds.SamplesPerPixel) == (51, 77, 3), f"{name}: size")
    check(ds.PhotometricInterpretation == "RGB", f"{name}: photometric")
    check(np.array_equal(ds.pixel_array.reshape(-1), rgb), f"{name}: pixels differ from the view")
    check(ds.ConversionType == "WSD" and ds.BurnedInAnnotation == "YES", f"{name}: SC module")
    if source:
        ref = ds.SourceImageSequence[0]
        check(ref.ReferencedSOPInstanceUID == source.SOPInstanceUID, f"{name}: source image")
        multi = int(source.get("NumberOfFrames", 1)) > 1
        check(int(ref.get("ReferencedFrameNumber", 0) or 0) == (frame + 1 if multi else 0),
              f"{name}: referenced frame")
    return ds


def check_pdf(name, source, series):
    ds = common(name, source, PDF, series) if source else read(name)
    pdf = open(os.path.join(DIR, "report.pdf"), "rb").read()
    doc = ds.EncapsulatedDocument
    check(ds.EncapsulatedDocumentLength == len(pdf), f"{name}: document length")
    check(doc[:ds.EncapsulatedDocumentLength] == pdf and doc[len(pdf):] in (b"", b"\0"),
          f"{name}: the PDF does not round-trip")
    check(ds.MIMETypeOfEncapsulatedDocument == "application/pdf", f"{name}: MIME type")
    check(ds.BurnedInAnnotation == "YES", f"{name}: burned in annotation")
    if source:
        check(ds.SourceInstanceSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID,
              f"{name}: source instance")
    return ds


def check_plain(series):
    """Non-DICOM sources: a new study, shared by the objects given its UID, with no
    patient name and a Patient ID made from the study UID."""
    sc, pdf = check_sc("sc-plain.dcm", None, series), check_pdf("pdf-plain.dcm", None, series)
    none = check_pdf("pdf-none.dcm", None, series)
    for name, ds in (("sc-plain.dcm", sc), ("pdf-plain.dcm", pdf), ("pdf-none.dcm", none)):
        dciodvfy(os.path.join(DIR, name), show_warnings=True)
        digest = hashlib.sha256(ds.StudyInstanceUID.encode()).hexdigest()[:16]
        check(str(ds.PatientName) == "" and ds.PatientID == "VIGIL-" + digest,
              f"{name}: patient {ds.PatientName} / {ds.PatientID}")
        check(ds.Manufacturer == "Vigil", f"{name}: manufacturer")
    check(sc.StudyInstanceUID == pdf.StudyInstanceUID, "plain: SC and PDF in different studies")
    check(none.StudyInstanceUID != sc.StudyInstanceUID, "pdf-none.dcm: reused a study")


def main():
    ct, enhanced, nogeo = read("ct.dcm"), read("enhanced.dcm"), read("nogeo.dcm")
    ct.StudyTime = "123000"  # what the export must make of 12:30:00
    enhanced.StudyTime = nogeo.StudyTime = "123000"
    nogeo.StudyDate = "20240102"  # what the export must make of 2024.01.02
    series = {ct.SeriesInstanceUID, enhanced.SeriesInstanceUID, nogeo.SeriesInstanceUID}
    check_seg("seg.dcm", ct, 0, series)
    check(read("seg.dcm").SeriesDescription == "Vigil anomaly map (zero-shot)", "description")
    check_seg("seg-binary.dcm", ct, 0, series, binary=True)
    text = "Vigil anomalie (zéro-shot) \\ seuil 0.5, avec une fin qui dépasse 64 caractères"
    want = text.replace("é", "e").replace("\\", "/")[:64]
    check(read("seg-binary.dcm").SeriesDescription == want, "seg-binary.dcm: description")
    check_sc("vue-é.dcm", ct, series)
    check_pmap("pmap.dcm", ct, 0, series)
    check_sc("sc.dcm", ct, series)
    check_pdf("pdf.dcm", ct, series)
    check(read("pdf.dcm").DocumentTitle == "Vigil test report", "pdf.dcm: title")
    check_seg("seg-multi.dcm", enhanced, 1, series)
    check_pmap("pmap-multi.dcm", enhanced, 1, series)
    check_sc("sc-multi.dcm", enhanced, series, frame=1)
    check_seg("seg-nogeo.dcm", nogeo, 0, series, with_geometry=False)
    check_plain(series)
    finish()


main()
