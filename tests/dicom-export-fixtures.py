#!/usr/bin/python3
"""Writes the sources of the DICOM export test into OUTDIR (nothing is committed):

  ct.dcm        CT Image Storage, 100 x 150 (not square, not the model's 240), full
                geometry; Study Time in the old ACR-NEMA form 12:30:00, which the
                export must repair into 123000
  enhanced.dcm  Enhanced CT, 3 frames of 40 x 30, geometry only in the functional
                groups (a position per frame)
  nogeo.dcm     Secondary Capture without any patient geometry; Study Date in the
                old form 2024.01.02, to be repaired into 20240102
  truncated.dcm the first half of ct.dcm
  partial.dcm   CT with a Frame of Reference but no Image Position (Patient)
  slice.png     a PNG slice: not DICOM
  report.pdf    a small PDF of odd length (DICOM pads it; the length must survive)
"""
import os
import sys
import zlib
import struct

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from dicom_dataset import new_file_dataset

OUT = sys.argv[1]
CT = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
SC = "1.2.840.10008.5.1.4.1.1.7"


def base(sop_class, rows, cols, frames=None):
    ds = new_file_dataset(sop_class)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID = "Export^Test", "VGX042"
    ds.PatientBirthDate, ds.PatientSex = "19700203", "M"
    ds.StudyDate, ds.StudyTime, ds.StudyID = "20240102", "123000", "7"
    ds.AccessionNumber, ds.ReferringPhysicianName = "ACC9", ""
    ds.StudyDescription, ds.Manufacturer = "Vigil export fixtures", "Scanner Co"
    ds.SeriesNumber, ds.InstanceNumber = 3, 1
    ds.Modality = "CT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    n = rows * cols * (frames or 1)
    ds.PixelData = (np.arange(n, dtype="<u2") % 4000).tobytes()
    return ds


def save(ds, name):
    ds.save_as(os.path.join(OUT, name), write_like_original=False)


def ct(name, with_position=True):
    ds = base(CT, 100, 150)
    ds.FrameOfReferenceUID = generate_uid()
    ds.PositionReferenceIndicator = ""
    if with_position:
        ds.ImagePositionPatient = [-120.5, -80.25, 33.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.8, 0.7]
    ds.SliceThickness = "2.5"
    ds.BodyPartExamined = "CHEST"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.KVP, ds.AcquisitionNumber = 120, 1
    save(ds, name)
    if name == "ct.dcm":  # the old form, written over the valid one
        data = open(os.path.join(OUT, name), "rb").read()
        assert data.count(b"123000") == 1
        open(os.path.join(OUT, name), "wb").write(data.replace(b"TM\x06\x00123000",
                                                               b"TM\x08\x0012:30:00"))


def item(**tags):
    it = Dataset()
    for key, value in tags.items():
        setattr(it, key, value)
    return it


def enhanced():
    ds = base(ENHANCED_CT, 40, 30, frames=3)
    ds.NumberOfFrames = 3
    ds.FrameOfReferenceUID = generate_uid()
    shared = item(PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=[0, 1, 0, 0, 0, -1])]),
                  PixelMeasuresSequence=Sequence([item(PixelSpacing=[1.25, 1.5], SliceThickness=3)]))
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.PerFrameFunctionalGroupsSequence = Sequence([
        item(PlanePositionSequence=Sequence([item(ImagePositionPatient=[10.0 + 3 * f, -20.0, 5.5])]))
        for f in range(3)])
    save(ds, "enhanced.dcm")


def nogeo():
    ds = base(SC, 64, 48)
    ds.ConversionType = "WSD"
    save(ds, "nogeo.dcm")
    path = os.path.join(OUT, "nogeo.dcm")
    data = open(path, "rb").read()  # Study Date in the old form 2024.01.02
    assert data.count(b"DA\x08\x0020240102") == 1
    open(path, "wb").write(data.replace(b"DA\x08\x0020240102", b"DA\x0a\x002024.01.02"))


def truncated():
    data = open(os.path.join(OUT, "ct.dcm"), "rb").read()
    open(os.path.join(OUT, "truncated.dcm"), "wb").write(data[:len(data) // 2])


def png():
    raw = b"".join(b"\0" + bytes(range(8)) for _ in range(8))
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data
                                + struct.pack(">I", zlib.crc32(kind + data)))
    open(os.path.join(OUT, "slice.png"), "wb").write(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pdf():
    body = b"%PDF-1.4\n% Vigil test report\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    body += b"x" * (1 - len(body) % 2)  # odd on purpose
    assert len(body) % 2 == 1
    open(os.path.join(OUT, "report.pdf"), "wb").write(body)


ct("ct.dcm")
ct("partial.dcm", with_position=False)
enhanced()
nogeo()
truncated()
png()
pdf()
