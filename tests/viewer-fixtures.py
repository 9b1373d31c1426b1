#!/usr/bin/python3
"""Writes the viewer's GUI test scans, of known orientation and identity.

Usage: viewer-fixtures.py OUTDIR
  OUTDIR/axial/slice<N>.dcm  3 axial CT slices (Image Orientation (Patient)
      1\\0\\0\\0\\1\\0), patient DOE^JANE, institution, Slice Location 10, 15, 20
  OUTDIR/sagittal.dcm        one multi-frame MR file of 6 sagittal frames
      (0\\1\\0\\0\\0\\-1) with Frame Time 50 ms (20 frames per second)
"""
import os
import sys

import numpy as np
from pydicom.uid import CTImageStorage, MRImageStorage, generate_uid

from dicom_dataset import new_file_dataset


def dataset(sop_class, rows, cols):
    ds = new_file_dataset(sop_class)
    ds.PatientName, ds.PatientID = "DOE^JANE", "P-0042"
    ds.PatientBirthDate, ds.PatientSex = "19700131", "F"
    ds.InstitutionName = "Vigil General"
    ds.StudyDate, ds.StudyDescription = "20240102", "CHEST"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelSpacing = [0.8, 0.8]
    return ds


out = sys.argv[1]
os.makedirs(os.path.join(out, "axial"), exist_ok=True)
study, series = generate_uid(), generate_uid()
y, x = np.mgrid[0:48, 0:64]
for i in range(3):
    ds = dataset(CTImageStorage, 48, 64)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.Modality, ds.SeriesNumber, ds.SeriesDescription = "CT", 3, "Axial 5mm"
    ds.InstanceNumber = i + 1
    ds.ImagePositionPatient = [0.0, 0.0, 10.0 + 5 * i]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceLocation, ds.SliceThickness = 10.0 + 5 * i, 5.0
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.PixelData = (1024 + 10 * x + 100 * i).astype(np.int16).tobytes()
    ds.save_as(os.path.join(out, "axial", f"slice{i}.dcm"), write_like_original=False)

frames = 6
ds = dataset(MRImageStorage, 40, 40)
ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
ds.Modality, ds.SeriesNumber, ds.SeriesDescription = "MR", 5, "Sagittal cine"
ds.InstanceNumber = 1
ds.ImagePositionPatient = [0.0, 0.0, 0.0]
ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
ds.NumberOfFrames, ds.FrameTime = frames, 50.0
ds.FrameIncrementPointer = 0x00181063
vol = np.stack([(40 * f + 3 * np.mgrid[0:40, 0:40][1]) for f in range(frames)])
ds.PixelData = vol.astype(np.int16).tobytes()
ds.save_as(os.path.join(out, "sagittal.dcm"), write_like_original=False)
