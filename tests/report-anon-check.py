#!/usr/bin/python3
"""Reads back an anonymised report bundle (tests/test-report-anon.sh) with tools
that share no code with Vigil:
  report-anon-check.py DIR PLANTED SOURCE...
DIR the bundle of `vigil-cli report --anonymise --dicom --seg-binary`, PLANTED a
file of the identity values planted in the source (one a line), SOURCE the
source slices. No planted value and no source UID may appear in any file, raw
bytes or decoded (PDF text, PNG text chunks, every DICOM string at any depth);
the DICOM objects say Patient Identity Removed YES with the basic profile's
code, share one new study, agree among themselves on the replaced source
references, keep the source's geometry, and pass dciodvfy without errors."""
import glob
import json
import os
import subprocess
import sys
import zlib

import pydicom
from PIL import Image

from dicom_checks import PDF, PMAP, SC, SEG, check, dciodvfy, finish

DIR, PLANTED, SOURCES = sys.argv[1], sys.argv[2], sys.argv[3:]


sources = {}
for p in SOURCES:
    ds = pydicom.dcmread(p)
    sources[ds.SOPInstanceUID] = ds
secrets = [l.strip() for l in open(PLANTED) if l.strip()]
src0 = next(iter(sources.values()))
source_uids = {src0.StudyInstanceUID, src0.SeriesInstanceUID, src0.FrameOfReferenceUID}
source_uids |= set(sources)
secrets += sorted(source_uids)
check(len(secrets) >= 10, f"too few planted values: {secrets}")


def strings(ds):
    """Every string value of a dataset, nested sequences included."""
    for e in ds.iterall():
        if e.VR in ("OB", "OW", "OF", "OD", "UN") or e.tag == 0x7FE00010:
            continue
        yield str(e.value)


def pdf_text(data):
    """The text of a PDF and its inflated streams."""
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True)
    check(out.returncode == 0, "pdftotext failed")
    texts = [out.stdout.decode("utf-8", "replace")]
    for chunk in data.split(b"stream")[1:]:
        try:
            texts.append(zlib.decompressobj().decompress(chunk.lstrip(b"\r\n"))
                         .decode("latin-1"))
        except zlib.error:
            pass
    return "\n".join(texts)


files = sorted(glob.glob(os.path.join(DIR, "*")))
names = sorted(os.path.basename(f) for f in files)
check(len(names) >= 8 and "report-pdf.dcm" in names and "report.pdf" in names, names)
dicom = {}
for f in files:
    name = os.path.basename(f)
    data = open(f, "rb").read()
    decoded = [data.decode("latin-1")]
    if name.endswith(".pdf"):
        decoded.append(pdf_text(data))
    elif name.endswith(".png"):
        decoded += [f"{k}={v}" for k, v in Image.open(f).text.items()]
    elif name.endswith(".dcm"):
        ds = dicom[name] = pydicom.dcmread(f)
        decoded += list(strings(ds))
        if "EncapsulatedDocument" in ds:
            decoded.append(pdf_text(bytes(ds.EncapsulatedDocument)))
    for secret in secrets:
        check(not any(secret in text for text in decoded),
              f"{name} holds the planted or source value {secret!r}")

report = json.load(open(os.path.join(DIR, "report.json")))
check(report["anonymised"] is True and report["identification"] == "anonymised", "JSON")

studies, patients, series = set(), set(), []
for name, ds in sorted(dicom.items()):
    dciodvfy(os.path.join(DIR, name))
    check(ds.get("PatientIdentityRemoved") == "YES", f"{name}: Patient Identity Removed")
    codes = ds.get("DeidentificationMethodCodeSequence", [])
    check(len(codes) == 1 and codes[0].CodeValue == "113100"
          and codes[0].CodingSchemeDesignator == "DCM", f"{name}: method code")
    check("Basic Application Confidentiality Profile" in str(ds.get("DeidentificationMethod")),
          f"{name}: De-identification Method {ds.get('DeidentificationMethod')}")
    check(str(ds.get("PatientName", "")) == "", f"{name}: Patient's Name {ds.get('PatientName')}")
    for kw in ("PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID", "StudyDate",
               "ReferringPhysicianName"):
        check(str(ds.get(kw, "")) == "", f"{name}: {kw} = {ds.get(kw)}")
    for kw in ("InstitutionName", "InstitutionAddress", "StudyDescription", "OtherPatientNames"):
        check(kw not in ds, f"{name}: {kw} present")
    check(not any(e.tag.is_private for e in ds.iterall()), f"{name}: private attributes")
    studies.add(ds.StudyInstanceUID)
    patients.add(ds.PatientID)
    series.append(ds.SeriesInstanceUID)
check(len(studies) == 1 and next(iter(studies)).startswith("2.25."), f"studies {studies}")
check(len(patients) == 1 and next(iter(patients)).startswith("VIGIL-"), f"patients {patients}")
check(len(set(series)) == len(series), f"series UIDs reused: {series}")


def derivation_ref(ds):
    item = ds.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0]
    return item.SourceImageSequence[0].ReferencedSOPInstanceUID


# Per slice, every object names the same replaced source instance, and the
# replacement differs per slice; SEG and PMAP share the replaced frame of
# reference and series, and keep the source's geometry.
refs, frames, ref_series = {}, set(), set()
for seg_name in sorted(n for n in dicom if n.endswith("-seg.dcm")):
    stem = seg_name[:-len("-seg.dcm")]
    seg, binary = dicom[seg_name], dicom[stem + "-seg-binary.dcm"]
    pmap, sc = dicom[stem + "-pmap.dcm"], dicom[stem + "-sc.dcm"]
    check([d.SOPClassUID for d in (seg, binary, pmap, sc)] == [SEG, SEG, PMAP, SC], "classes")
    ids = {derivation_ref(seg), derivation_ref(binary), derivation_ref(pmap),
           sc.SourceImageSequence[0].ReferencedSOPInstanceUID}
    for d in (seg, binary, pmap):
        ids.add(d.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
                .ReferencedSOPInstanceUID)
        ref_series.add(d.ReferencedSeriesSequence[0].SeriesInstanceUID)
        frames.add(d.FrameOfReferenceUID)
    check(len(ids) == 1, f"{stem}: the objects reference {ids}")
    refs[stem] = next(iter(ids))
    # the source slice of this stem, by its number (slice-NNN counts from 1)
    src = sorted(sources.values(), key=lambda d: int(d.InstanceNumber))[int(stem[-3:]) - 1]
    for d in (seg, pmap):
        fg = d.PerFrameFunctionalGroupsSequence[0]
        shared = d.SharedFunctionalGroupsSequence[0]
        check([float(v) for v in fg.PlanePositionSequence[0].ImagePositionPatient]
              == [float(v) for v in src.ImagePositionPatient], f"{stem}: position")
        check([float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient]
              == [float(v) for v in src.ImageOrientationPatient], f"{stem}: orientation")
        check([float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing]
              == [float(v) for v in src.PixelSpacing], f"{stem}: spacing")
check(len(refs) == len(SOURCES) and len(set(refs.values())) == len(refs),
      f"one replaced reference per slice: {refs}")
check(len(frames) == 1 and len(ref_series) == 1, f"frames {frames}, series {ref_series}")
check(not (set(refs.values()) | frames | ref_series) & source_uids, "a source UID kept")
doc = dicom["report-pdf.dcm"]
check(doc.SOPClassUID == PDF and doc.SourceInstanceSequence[0].ReferencedSOPInstanceUID
      in refs.values(), "the PDF references a replaced source slice")
check(doc.EncapsulatedDocument[:doc.EncapsulatedDocumentLength]
      == open(os.path.join(DIR, "report.pdf"), "rb").read(), "the PDF object holds report.pdf")

finish()
