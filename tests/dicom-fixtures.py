#!/usr/bin/python3
"""Writes the DICOM test fixtures into OUTDIR, with the expected decoded values.

Every `name.dcm` with known pixels gets `name.f32`: the values Vigil must
decode (modality values, MONOCHROME1 mirrored, RGB interleaved), frame after
frame, as little-endian float32 computed independently with numpy/pydicom.
Compressed copies come from DCMTK's own encoders (dcmcjpeg, dcmcjpls, dcmcrle).
Nothing here is committed: tests run this at start.
"""
import os
import random
import shutil
import subprocess
import sys

import numpy as np
import pydicom
import pydicom.data
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

OUT = sys.argv[1]
STUDY = generate_uid()
TEST_FILES = os.path.dirname(pydicom.data.get_testdata_file("CT_small.dcm"))


def dataset(rows, cols, photometric="MONOCHROME2", spp=1, bits=16, stored=None, signed=0,
            series=None, **tags):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # secondary capture
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = STUDY
    ds.SeriesInstanceUID = series or generate_uid()
    ds.PatientName, ds.PatientID, ds.PatientSex = "Test^Vigil", "VG001", "F"
    ds.PatientBirthDate, ds.StudyDate = "19800101", "20240102"
    ds.StudyDescription, ds.Modality, ds.Manufacturer = "Vigil fixtures", "CT", "Vigil"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, spp
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored = bits, stored or bits
    ds.HighBit, ds.PixelRepresentation = (stored or bits) - 1, signed
    if spp == 3:
        ds.PlanarConfiguration = 0
    for key, value in tags.items():
        setattr(ds, key, value)
    return ds


def save(ds, name, raw, expected=None):
    ds.PixelData = raw.tobytes()
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ds.save_as(path, write_like_original=False)
    if expected is not None:
        np.asarray(expected, dtype="<f4").tofile(path[:-4] + ".f32")
    return path


def rng_values(shape, lo, hi, seed):
    return np.random.default_rng(seed).integers(lo, hi + 1, size=shape)


def simple_files():
    # Signed 16-bit with rescale: modality = stored * 2 - 5.
    v = rng_values((24, 20), -32768, 32767, 1).astype("<i2")
    ds = dataset(24, 20, signed=1, RescaleSlope=2, RescaleIntercept=-5)
    save(ds, "signed16.dcm", v, v.astype(np.float64) * 2 - 5)
    # 12 stored bits, signed, with junk above the high bit that must be masked.
    v = rng_values((16, 16), -2048, 2047, 2)
    raw = ((v & 0x0FFF) | 0xA000).astype("<u2")
    ds = dataset(16, 16, stored=12, signed=1)
    save(ds, "signed12.dcm", raw, v)
    # Unsigned 16-bit (the source of the lossless compression copies).
    v = rng_values((40, 48), 0, 65535, 3).astype("<u2")
    save(dataset(40, 48), "u16.dcm", v, v)
    # 8-bit gray, smooth so JPEG baseline stays close.
    y, x = np.mgrid[0:64, 0:64]
    v = ((x * 3 + y * 2) % 256).astype("u1")
    save(dataset(64, 64, bits=8), "u8.dcm", v, v)
    # MONOCHROME1: 12 bits unsigned; decoded = 4095 - v; windows mirrored.
    v = rng_values((16, 20), 0, 4095, 4).astype("<u2")
    ds = dataset(16, 20, "MONOCHROME1", stored=12, WindowCenter=["1000", "3000"],
                 WindowWidth=["400", "800"], WindowCenterWidthExplanation=["SOFT", "BONE"])
    save(ds, "mono1.dcm", v, 4095 - v.astype(np.float64))
    # RGB, both planar configurations.
    rgb = rng_values((12, 10, 3), 0, 255, 5).astype("u1")
    save(dataset(12, 10, "RGB", spp=3, bits=8), "rgb_planar0.dcm", rgb, rgb)
    ds = dataset(12, 10, "RGB", spp=3, bits=8)
    ds.PlanarConfiguration = 1
    save(ds, "rgb_planar1.dcm", rgb.transpose(2, 0, 1).copy(), rgb)
    # Multi-frame: frame f holds f * 1000 + pixel index.
    frames = np.stack([np.arange(8 * 6).reshape(8, 6) + f * 1000 for f in range(4)])
    ds = dataset(8, 6, NumberOfFrames=4)
    save(ds, "multiframe.dcm", frames.astype("<u2"), frames)


def enhanced_multiframe():
    """Enhanced-style multi-frame: geometry and rescale only in functional
    groups; frame f (value 10 * f) lies at z = 10 - 2.5 f, so position order
    reverses the frames."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    ds = dataset(6, 4, NumberOfFrames=6, SeriesDescription="enhanced")
    shared = Dataset()
    orient, measures, rescale = Dataset(), Dataset(), Dataset()
    orient.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    measures.PixelSpacing, measures.SliceThickness = [0.5, 0.5], 2.5
    rescale.RescaleSlope, rescale.RescaleIntercept, rescale.RescaleType = 2, -100, "US"
    shared.PlaneOrientationSequence = Sequence([orient])
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PixelValueTransformationSequence = Sequence([rescale])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for f in range(6):
        item, pos = Dataset(), Dataset()
        pos.ImagePositionPatient = [0, 0, 10 - 2.5 * f]
        item.PlanePositionSequence = Sequence([pos])
        frames.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    v = np.stack([np.full((6, 4), 10 * f) for f in range(6)])
    save(ds, "enhanced.dcm", v.astype("<u2"), v * 2.0 - 100)


def compressed_copies():
    jobs = [("dcmcjpeg", "+e1", "u16.dcm", "u16_jpegll.dcm"),
            ("dcmcjpeg", "+e1", "signed16.dcm", "signed16_jpegll.dcm"),
            ("dcmcjpls", "+el", "u16.dcm", "u16_jls.dcm"),
            ("dcmcjpls", "+el", "rgb_planar0.dcm", "rgb_jls.dcm"),
            ("dcmcrle", None, "signed16.dcm", "signed16_rle.dcm"),
            ("dcmcrle", None, "rgb_planar0.dcm", "rgb_rle.dcm"),
            ("dcmcrle", None, "multiframe.dcm", "multiframe_rle.dcm"),
            ("dcmcjpeg", "+eb", "u8.dcm", "u8_jpegbase.dcm")]
    for tool, opt, src, dst in jobs:
        args = [tool] + ([opt] if opt else []) + [os.path.join(OUT, src), os.path.join(OUT, dst)]
        subprocess.run(args, check=True)
        shutil.copy(os.path.join(OUT, src[:-4] + ".f32"), os.path.join(OUT, dst[:-4] + ".f32"))


def oblique_series(folder, n=12, with_positions=True):
    """Slices k = 0..n-1 hold the value 10 * k; they lie along an oblique normal
    while instance numbers and file names are shuffled. Returns the expected
    display order as values."""
    series = generate_uid()
    row, col = np.array([1.0, 0, 0]), np.array([0, np.cos(0.3), np.sin(0.3)])
    normal = np.cross(row, col)
    rng = random.Random(7)
    instances = list(range(1, n + 1))
    rng.shuffle(instances)
    names = list(range(n))
    rng.shuffle(names)
    for k in range(n):
        ds = dataset(8, 8, series=series, InstanceNumber=instances[k], SliceThickness="2.5",
                     PixelSpacing=["0.7", "0.7"], SeriesDescription=os.path.basename(folder))
        if with_positions:
            pos = np.array([-50.0, 20.0, 5.0]) + 2.5 * k * normal
            ds.ImagePositionPatient = [f"{p:.4f}" for p in pos]
            ds.ImageOrientationPatient = [f"{p:.6f}" for p in np.concatenate([row, col])]
        save(ds, f"{folder}/f{names[k]:02d}.dcm", np.full((8, 8), 10 * k, "<u2"))
    if with_positions:
        return [10 * k for k in range(n)]
    return [10 * k for k in sorted(range(n), key=lambda k: instances[k])]


def folders():
    order = oblique_series("series_pos")
    order_inst = oblique_series("series_inst", n=6, with_positions=False)
    with open(os.path.join(OUT, "series_order.txt"), "w") as f:
        f.write(" ".join(map(str, order)) + "\n" + " ".join(map(str, order_inst)) + "\n")
    # Mixed sizes under one Series Instance UID: must split.
    series = generate_uid()
    for k, size in enumerate([8, 8, 12]):
        ds = dataset(size, size, series=series, InstanceNumber=k + 1)
        save(ds, f"mixed/m{k}.dcm", np.zeros((size, size), "<u2"))
    # A folder of good files and bad ones.
    shutil.copy(os.path.join(TEST_FILES, "CT_small.dcm"), os.path.join(OUT, "mixed_bag"))
    bag = os.path.join(OUT, "mixed_bag")
    with open(os.path.join(bag, "notes.txt"), "w") as f:
        f.write("not a scan\n" * 20)
    ct = open(os.path.join(TEST_FILES, "CT_small.dcm"), "rb").read()
    open(os.path.join(bag, "truncated.dcm"), "wb").write(ct[: len(ct) - 5000])
    ds = dataset(8, 8)
    save(ds, "mixed_bag/nopixels.dcm", np.zeros(0, "u1"))
    os.remove(os.path.join(bag, "nopixels.dcm"))
    del ds.PixelData
    ds.save_as(os.path.join(bag, "nopixels.dcm"), write_like_original=False)
    ds = dataset(60000, 60000)  # 7 GB image claimed, 128 bytes present
    save(ds, "mixed_bag/absurd.dcm", np.zeros(64, "<u2"))
    ds = dataset(16000, 16000)  # a possible size, but 128 bytes of pixels
    save(ds, "mixed_bag/short_pixels.dcm", np.zeros(64, "<u2"))
    shutil.copy(os.path.join(TEST_FILES, "JPEG2000.dcm"), os.path.join(bag, "j2k.dcm"))
    locked = save(dataset(8, 8), "mixed_bag/locked.dcm", np.zeros((8, 8), "<u2"))
    os.chmod(locked, 0)


def ct_small_reference():
    ds = pydicom.dcmread(pydicom.data.get_testdata_file("CT_small.dcm"))
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    np.asarray(hu, "<f4").tofile(os.path.join(OUT, "CT_small.f32"))
    shutil.copy(pydicom.data.get_testdata_file("CT_small.dcm"), OUT)
    ds = pydicom.dcmread(pydicom.data.get_testdata_file("MR_small.dcm"))
    np.asarray(ds.pixel_array, "<f4").tofile(os.path.join(OUT, "MR_small.f32"))
    for name in ("MR_small.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm",
                 "MR_small_bigendian.dcm", "MR_small_implicit.dcm", "JPEG2000.dcm"):
        shutil.copy(os.path.join(TEST_FILES, name), OUT)


def pydicom_references():
    """pydicom's own decoding of its colour, odd-size, 32-bit and multi-frame files."""
    from pydicom.pixel_data_handlers.util import convert_color_space
    for name in ("SC_rgb_rle.dcm", "SC_rgb_rle_16bit.dcm", "SC_rgb_rle_2frame.dcm",
                 "SC_ybr_full_422_uncompressed.dcm", "SC_rgb_small_odd.dcm", "rtdose.dcm"):
        src = pydicom.data.get_testdata_file(name)
        ds = pydicom.dcmread(src)
        values = ds.pixel_array.astype(np.float64)
        if ds.PhotometricInterpretation.startswith("YBR"):  # Vigil shows RGB
            values = convert_color_space(ds.pixel_array, "YBR_FULL", "RGB").astype(np.float64)
        if ds.SamplesPerPixel == 3 and ds.BitsStored > 8:  # colour is scaled to 0..255
            values = values * 255 / (2**ds.BitsStored - 1)
        shutil.copy(src, os.path.join(OUT, "pd_" + name))
        np.asarray(values, "<f4").tofile(os.path.join(OUT, "pd_" + name[:-4] + ".f32"))


os.makedirs(os.path.join(OUT, "mixed_bag"), exist_ok=True)
simple_files()
enhanced_multiframe()
compressed_copies()
folders()
ct_small_reference()
pydicom_references()
