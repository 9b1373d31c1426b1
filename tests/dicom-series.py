#!/usr/bin/python3
"""Writes a folder of CT-like DICOM series for GUI tests and benchmarks.

Usage: dicom-series.py OUTDIR [--series N] [--slices M] [--size S] [--studies K] [--interleave]
Each series is a stack of 16-bit signed slices (HU = stored - 1024) with a
soft-tissue window, positions 2.5 mm apart along z, and a pattern that
differs per series and slice, in OUTDIR/study<K>/series<N>/slice<M>.dcm, or
with --interleave all in OUTDIR, named so that series alternate file by file.
"""
import argparse
import os

import numpy as np
from pydicom.uid import CTImageStorage, generate_uid

from dicom_dataset import new_file_dataset

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--series", type=int, default=3)
ap.add_argument("--slices", type=int, default=10)
ap.add_argument("--size", type=int, default=64)
ap.add_argument("--studies", type=int, default=1)
ap.add_argument("--interleave", action="store_true",
                help="all series in one folder, files alternating between series")
args = ap.parse_args()

n = args.size
y, x = np.mgrid[0:n, 0:n] / n - 0.5
for st in range(args.studies):
    study = generate_uid()
    for se in range(args.series):
        series, frame_of_reference = generate_uid(), generate_uid()
        folder = args.out if args.interleave else os.path.join(args.out, f"study{st}", f"series{se}")
        os.makedirs(folder, exist_ok=True)
        for sl in range(args.slices):
            # A body-like disc with an off-centre blob that moves with the slice.
            r = np.hypot(x, y)
            hu = np.where(r < 0.42, 40.0, -1000.0)
            blob = np.hypot(x - 0.15 * np.cos(se + sl / 7), y - 0.15 * np.sin(se + sl / 7))
            hu += np.where(blob < 0.08 + 0.02 * se, 300.0, 0.0)
            hu += 20 * np.sin(12 * x + se) * (r < 0.42)
            ds = new_file_dataset(CTImageStorage)
            ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
            ds.PatientName, ds.PatientID = f"Series^Test{st}", f"VS{st:03d}"
            ds.StudyDescription, ds.SeriesDescription = f"Study {st}", f"Axial {se}"
            ds.Modality, ds.StudyDate = "CT", "20240102"
            ds.SeriesNumber, ds.InstanceNumber = se + 1, sl + 1
            ds.FrameOfReferenceUID = frame_of_reference
            ds.ImagePositionPatient = [0.0, 0.0, 2.5 * sl]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.PixelSpacing, ds.SliceThickness = [0.7, 0.7], 2.5
            ds.Rows = ds.Columns = n
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
            ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
            ds.WindowCenter, ds.WindowWidth = 40, 400
            ds.PixelData = (hu + 1024).astype("<i2").tobytes()
            name = f"slice{sl:03d}_{st}_{se}.dcm" if args.interleave else f"slice{sl:03d}.dcm"
            ds.save_as(os.path.join(folder, name), write_like_original=False)
