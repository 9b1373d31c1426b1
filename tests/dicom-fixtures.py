#!/usr/bin/python3
"""Writes the DICOM test fixtures into OUTDIR, with the expected decoded values.

Every `name.dcm` with known pixels gets `name.f32`: the values Vigil must
decode (modality values, MONOCHROME1 mirrored, RGB interleaved), frame after
frame, as little-endian float32 computed independently with numpy/pydicom.
Compressed copies come from DCMTK's own encoders (dcmcjpeg, dcmcjpls, dcmcrle,
dcmconv +td for deflate), GDCM's (gdcmconv --j2k) and OpenJPH's (ojph_compress,
HTJ2K). Lossless copies share their source's values; lossy ones expect another
decoder's output (GDCM's, or OpenJPH's for HTJ2K), which Vigil must match
within a grey level once windowed. Nothing here is committed: tests run this
at start.
"""
import copy
import os
import random
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
import pydicom.data
from pydicom.encaps import generate_pixel_data_frame
from pydicom.uid import UID_dictionary, generate_uid

from dicom_dataset import new_file_dataset

OUT = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="vigil-fixtures-")  # codec intermediates, removed at the end
STUDY = generate_uid()
TEST_FILES = os.path.dirname(pydicom.data.get_testdata_file("CT_small.dcm"))

J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
J2K = "1.2.840.10008.1.2.4.91"
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
HTJ2K = "1.2.840.10008.1.2.4.203"
MPEG2 = "1.2.840.10008.1.2.4.100"
DEFLATED = "1.2.840.10008.1.2.1.99"
# pydicom 2.3 predates HTJ2K: without these entries it refuses to write the UIDs.
for uid, name in ((HTJ2K_LOSSLESS, "HTJ2KLossless"), (HTJ2K, "HTJ2K")):
    UID_dictionary.setdefault(uid, (name, "Transfer Syntax", "", "", name))


def dataset(rows, cols, photometric="MONOCHROME2", spp=1, bits=16, stored=None, signed=0,
            series=None, **tags):
    ds = new_file_dataset("1.2.840.10008.5.1.4.1.1.7")  # secondary capture
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


def out(name):
    return os.path.join(OUT, name)


def run(*args):
    """Runs a codec tool; its chatter is shown only when it fails."""
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def write_expected(name, values):
    os.makedirs(os.path.dirname(out(name)), exist_ok=True)
    np.asarray(values, "<f4").tofile(out(name[:-4] + ".f32"))


def copy_expected(src, dst):
    shutil.copy(out(src[:-4] + ".f32"), out(dst[:-4] + ".f32"))


def ct_hu(n, k, seed):
    """A CT-like slice in HU: a body disc, a bright blob that moves with k, noise."""
    y, x = np.mgrid[0:n, 0:n] / n - 0.5
    r = np.hypot(x, y)
    hu = np.where(r < 0.42, 40.0, -1000.0)
    hu += np.where(np.hypot(x - 0.15 * np.cos(k), y - 0.15 * np.sin(k)) < 0.1, 300.0, 0.0)
    hu += 20 * np.sin(12 * x + k) * (r < 0.42)
    return (hu + rng_values((n, n), -8, 8, seed)).astype(np.int64)


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
    ds = dataset(8, 6, NumberOfFrames=4, RecommendedDisplayFrameRate=25)  # cine: 40 ms
    save(ds, "multiframe.dcm", frames.astype("<u2"), frames)
    # RGB for JPEG 2000: GDCM refuses colour images under 20 x 20 (rgb_planar0 is 12 x 10).
    y, x = np.mgrid[0:24, 0:20]
    rgb = np.stack([x * 12, y * 10, (x + y) * 6], axis=-1) + rng_values((24, 20, 3), 0, 15, 6)
    rgb = rgb.astype("u1")
    save(dataset(24, 20, "RGB", spp=3, bits=8), "rgb24.dcm", rgb, rgb)
    # A smooth signed CT slice with a soft-tissue window, for lossy coding.
    hu = ct_hu(64, 0, 7)
    ds = dataset(64, 64, signed=1, RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=40,
                 WindowWidth=400)
    save(ds, "ct16.dcm", (hu + 1024).astype("<i2"), hu)


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
    orders = [oblique_series("series_pos"),
              oblique_series("series_inst", n=6, with_positions=False),
              mixed_syntax_series()]
    with open(os.path.join(OUT, "series_order.txt"), "w") as f:
        f.write("".join(" ".join(map(str, order)) + "\n" for order in orders))
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
                 "MR_small_bigendian.dcm", "MR_small_implicit.dcm"):
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


# --- JPEG 2000, HTJ2K and deflate ------------------------------------------------------


def item(data):
    return b"\xfe\xff\x00\xe0" + len(data).to_bytes(4, "little") + data


def encapsulate(frames, bot=True):
    """Pixel Data items for `frames`, each a list of fragments: the Basic Offset
    Table (empty when not bot), then the fragments, odd ones padded with 0x00."""
    offsets, body = [], b""
    for fragments in frames:
        offsets.append(len(body))
        for f in fragments:
            body += item(f + b"\0" * (len(f) % 2))
    table = b"".join(o.to_bytes(4, "little") for o in offsets) if bot else b""
    return item(table) + body


def save_encapsulated(ds, name, syntax, frames, bot=True):
    """`ds` (not changed) with `frames` as its encapsulated Pixel Data."""
    ds = copy.deepcopy(ds)
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate(frames, bot)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.is_little_endian, ds.is_implicit_VR = True, False
    os.makedirs(os.path.dirname(out(name)), exist_ok=True)
    ds.save_as(out(name), write_like_original=False)


def codestreams(name):
    """The codestream of each frame of an encapsulated file (one fragment each)."""
    ds = pydicom.dcmread(out(name))
    frames = int(ds.get("NumberOfFrames", 1))
    return [bytes(f) for f in generate_pixel_data_frame(ds.PixelData, frames)]


def split(codestream, pieces):
    """`pieces` fragments; all but the last of even length, as DICOM requires."""
    step = (len(codestream) // pieces) & ~1
    cuts = [i * step for i in range(pieces)] + [len(codestream)]
    return [codestream[a:b] for a, b in zip(cuts, cuts[1:])]


def gdcm_values(name):
    """Vigil's values for what GDCM decodes `name` to. GDCM's sample bits are
    read with the original header's Bits Stored and Pixel Representation (GDCM
    may rewrite Bits Stored from the codestream): masked and sign-extended
    there, as PS3.5 8.2.4 says (the Pixel Representation decides, whatever the
    codestream says), then rescaled. Colour must come out as RGB."""
    header = pydicom.dcmread(out(name))
    raw_path = os.path.join(WORK, "gdcm-raw.dcm")
    run("gdcmconv", "--raw", out(name), raw_path)
    raw = pydicom.dcmread(raw_path)
    frames, spp = int(header.get("NumberOfFrames", 1)), header.SamplesPerPixel
    count = frames * header.Rows * header.Columns * spp
    assert raw.BitsAllocated == header.BitsAllocated, name
    v = np.frombuffer(raw.PixelData, "<u1" if raw.BitsAllocated == 8 else "<u2")
    v = v[:count].astype(np.int64)
    assert v.size == count, name
    if spp == 3:
        assert raw.PhotometricInterpretation == "RGB", (name, raw.PhotometricInterpretation)
        if raw.get("PlanarConfiguration", 0) == 1:
            v = v.reshape(frames, 3, -1).transpose(0, 2, 1)
        return v.ravel()
    bits = header.BitsStored
    v &= (1 << bits) - 1
    if header.PixelRepresentation == 1:
        v = np.where(v >= 1 << (bits - 1), v - (1 << bits), v)
    return v * float(header.get("RescaleSlope", 1)) + float(header.get("RescaleIntercept", 0))


def j2k_copies():
    """GDCM's JPEG 2000. Lossless (--j2k): 5-3 wavelet, no colour transform
    (RGB stays RGB), sources' values. Lossy: --lossy alone keeps the 5-3
    wavelet (exact, yet marked lossy), so --irreversible (9-7) and -q 40 make
    it really lossy; the expected values are GDCM's decode. GDCM marks these
    Lossy Image Compression 01 with a ratio, but no method."""
    for src in ("signed16", "u16", "u8", "rgb24", "multiframe", "signed12"):
        run("gdcmconv", "--j2k", out(src + ".dcm"), out(src + "_j2k.dcm"))
        copy_expected(src + ".dcm", src + "_j2k.dcm")
    for src in ("u16", "u8", "rgb24", "ct16"):
        dst = src + "_j2k_lossy.dcm"
        run("gdcmconv", "--j2k", "--lossy", "--irreversible", "-q", "40", out(src + ".dcm"),
            out(dst))
        ds = pydicom.dcmread(out(dst))
        assert ds.file_meta.TransferSyntaxUID == J2K and ds.LossyImageCompression == "01", dst
        write_expected(dst, gdcm_values(dst))


def lossy_marks():
    """Lossy Image Compression against the transfer syntax: JPEG baseline with
    the mark removed is still lossy; lossless JPEG 2000 marked 01 (the pixels
    went through lossy coding before) is lossy too."""
    ds = pydicom.dcmread(out("u8_jpegbase.dcm"))
    for tag in ("LossyImageCompression", "LossyImageCompressionRatio",
                "LossyImageCompressionMethod"):
        delattr(ds, tag)
    ds.save_as(out("u8_jpegbase_unmarked.dcm"))
    ds = pydicom.dcmread(out("u16_j2k.dcm"))
    ds.LossyImageCompression, ds.LossyImageCompressionMethod = "01", "ISO_15444_1"
    ds.LossyImageCompressionRatio = "8.5"
    ds.save_as(out("u16_j2k_marked.dcm"))
    copy_expected("u16.dcm", "u16_j2k_marked.dcm")


def j2k_fragmented():
    """Multi-frame JPEG 2000 whose frames span 2 or 3 fragments each: without a
    Basic Offset Table (frames found by their codestream start) and with one."""
    frames = [split(cs, 2 + f % 2) for f, cs in enumerate(codestreams("multiframe_j2k.dcm"))]
    header = pydicom.dcmread(out("multiframe_j2k.dcm"))
    for name, bot in (("multiframe_j2k_frags.dcm", False), ("multiframe_j2k_frags_bot.dcm", True)):
        save_encapsulated(header, name, J2K_LOSSLESS, frames, bot)
        copy_expected("multiframe.dcm", name)


def decomps(rows, cols):
    """Wavelet levels for OpenJPH: fewer on tiny images, which its own decoder
    (0.9) fails at 5 levels for some sizes (e.g. 8-bit 12 x 10)."""
    return str(max(1, min(5, int(np.log2(min(rows, cols))) - 1)))


def ojph(values, signed, *options):
    """An HTJ2K codestream of `values` (rows x cols, or x 3 for RGB) by
    ojph_compress, and OpenJPH's own decode of it. OpenJPH 0.9's raw reader
    and writer ignore signedness (int16 is read as uint16: -1 becomes a
    coefficient of 65535, which OpenJPEG clamps to 32767; negatives are
    written back as 0), so signed samples go in as unsigned ones shifted by
    2^15, whose DC level shift makes exactly a signed codestream's
    coefficients, and the SIZ marker's Ssiz then gets its sign bit."""
    rows, cols = values.shape[:2]
    spp = 1 if values.ndim == 2 else 3
    gray16 = spp == 1 and (signed or values.max() > 255)
    src = os.path.join(WORK, "in.yuv" if gray16 else "in.ppm" if spp == 3 else "in.pgm")
    extra = []
    if gray16:
        (values.astype(np.int64) + (32768 if signed else 0)).astype("<u2").tofile(src)
        extra = ["-dims", f"{{{cols},{rows}}}", "-num_comps", "1", "-signed", "false",
                 "-bit_depth", "16", "-downsamp", "{1,1}"]
    else:
        with open(src, "wb") as f:
            f.write(b"P%d\n%d %d\n255\n" % (6 if spp == 3 else 5, cols, rows))
            f.write(values.astype("u1").tobytes())
    cs_path, back = os.path.join(WORK, "out.j2c"), os.path.join(WORK, "back" + src[-4:])
    run("ojph_compress", "-i", src, "-o", cs_path, "-num_decomps", decomps(rows, cols), *extra,
        *options)
    run("ojph_expand", "-i", cs_path, "-o", back)
    data = open(back, "rb").read()
    if gray16:
        decoded = np.frombuffer(data, "<u2").astype(np.int64) - (32768 if signed else 0)
    else:
        decoded = np.frombuffer(data[len(data) - values.size:], "u1")
    cs = bytearray(open(cs_path, "rb").read())
    if signed:
        assert cs[:4] == b"\xff\x4f\xff\x51" and cs[42] == 15  # SOC, SIZ; Ssiz: 16 bits
        cs[42] |= 0x80
    return bytes(cs), decoded.reshape(values.shape)


def htj2k(values, signed, *options):
    """A reversible HTJ2K codestream, checked to decode back to `values`."""
    cs, decoded = ojph(values, signed, "-reversible", "true", *options)
    assert (decoded == values).all()
    return cs


def htj2k_files():
    """HTJ2K (Debian's GDCM cannot write it; OpenJPH can) wrapped by pydicom.
    Reversible codestreams are exact, under the lossless-only syntax (.201) or
    the lossy-allowed one (.203, multi-frame: one fragment per frame, with a
    Basic Offset Table). RGB: without a colour transform (RGB) and with the
    reversible one (YBR_RCT). One irreversible file expects OpenJPH's decode."""
    for src, signed in (("u16", False), ("signed16", True), ("u8", False)):
        ds = pydicom.dcmread(out(src + ".dcm"))
        save_encapsulated(ds, src + "_htj2k.dcm", HTJ2K_LOSSLESS,
                          [[htj2k(ds.pixel_array, signed)]])
        copy_expected(src + ".dcm", src + "_htj2k.dcm")
    ds = pydicom.dcmread(out("rgb_planar0.dcm"))
    rgb = ds.pixel_array
    save_encapsulated(ds, "rgb_htj2k.dcm", HTJ2K_LOSSLESS,
                      [[htj2k(rgb, False, "-colour_trans", "false")]])
    copy_expected("rgb_planar0.dcm", "rgb_htj2k.dcm")
    ds.PhotometricInterpretation = "YBR_RCT"
    save_encapsulated(ds, "rgb_htj2k_rct.dcm", HTJ2K_LOSSLESS,
                      [[htj2k(rgb, False, "-colour_trans", "true")]])
    copy_expected("rgb_planar0.dcm", "rgb_htj2k_rct.dcm")
    ds = pydicom.dcmread(out("multiframe.dcm"))
    save_encapsulated(ds, "multiframe_htj2k.dcm", HTJ2K,
                      [[htj2k(frame, False)] for frame in ds.pixel_array])
    copy_expected("multiframe.dcm", "multiframe_htj2k.dcm")
    ds = pydicom.dcmread(out("ct16.dcm"))
    stored = ds.pixel_array.astype(np.int64)
    # With a coarser step (0.0005) OpenJPEG's decode strays up to 24 HU
    # from OpenJPH's; here they agree within 1 (different rounding).
    cs, decoded = ojph(stored, True, "-reversible", "false", "-qstep", "0.0002")
    assert 0 < np.abs(decoded - stored).max() < 50  # lossy, but the same picture
    ds.LossyImageCompression, ds.LossyImageCompressionMethod = "01", "ISO_15444_15"
    ds.LossyImageCompressionRatio = f"{stored.size * 2 / len(cs):.2f}"
    save_encapsulated(ds, "ct16_htj2k_lossy.dcm", HTJ2K, [[cs]])
    write_expected("ct16_htj2k_lossy.dcm", decoded - 1024.0)


def deflated_copies():
    """Deflated Explicit VR Little Endian by DCMTK, and pydicom's own."""
    for src in ("signed16", "rgb_planar0", "multiframe"):
        run("dcmconv", "+td", out(src + ".dcm"), out(src + "_deflated.dcm"))
        copy_expected(src + ".dcm", src + "_deflated.dcm")
    ds = pydicom.dcmread(os.path.join(TEST_FILES, "image_dfl.dcm"))
    shutil.copy(os.path.join(TEST_FILES, "image_dfl.dcm"), out("pd_image_dfl.dcm"))
    write_expected("pd_image_dfl.dcm", ds.pixel_array)


def pydicom_j2k():
    """pydicom's JPEG 2000 files, with GDCM's decode as the expected values:
    JPEG2000.dcm (9-7, lossy), 693_J2KI.dcm (5-3 but marked lossy; Bits Stored
    14 over a 16-bit signed codestream), GDCMJ2K_TextGBR.dcm (a JP2 file,
    YBR_RCT). J2K_pixelrep_mismatch.dcm is Pixel Representation 1 and Bits
    Stored 13 over an unsigned 13-bit codestream: GDCM hands back the
    codestream's unsigned samples (0..8191) under the same header, so read as
    unsigned they wrap (8191 for -1); gdcm_values() sign-extends them at bit
    13 as the Pixel Representation says, which gives sane HU (-2000 outside
    the scan, air near -1000) and equals pydicom's own decode of the file.
    MR_small_jp2klossless.dcm must equal MR_small.dcm (the test uses its .f32)."""
    shutil.copy(os.path.join(TEST_FILES, "MR_small_jp2klossless.dcm"), OUT)
    for name in ("JPEG2000.dcm", "693_J2KI.dcm", "J2K_pixelrep_mismatch.dcm",
                 "GDCMJ2K_TextGBR.dcm"):
        shutil.copy(os.path.join(TEST_FILES, name), out("pd_" + name))
        write_expected("pd_" + name, gdcm_values("pd_" + name))
    hu = np.fromfile(out("pd_J2K_pixelrep_mismatch.f32"), "<f4")
    assert hu.min() == -2000 and hu.max() < 2000 and np.median(hu) < 200, (hu.min(), hu.max())


def broken(ds, name, syntax, frames, bot=True):
    """save_encapsulated() with UIDs of its own: a broken copy must not join
    (or split) its source's series when the whole fixture folder is opened."""
    ds = copy.deepcopy(ds)
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    save_encapsulated(ds, name, syntax, frames, bot)


def bad_files():
    """bad_codec/: broken compressed files. Each must fail (reading the header
    or decoding its last frame) with an error, never a crash."""
    header = pydicom.dcmread(out("u16_j2k.dcm"))
    cs = codestreams("u16_j2k.dcm")[0]
    # Cut: after SOC, inside SIZ, after the main header, in the packets.
    for cut in (2, 30, cs.find(b"\xff\x90"), len(cs) // 4, len(cs) // 2, len(cs) - 100):
        broken(header, f"bad_codec/j2k_cut{cut}.dcm", J2K_LOSSLESS, [[cs[:cut]]])
    junk = np.random.default_rng(9).integers(0, 256, len(cs)).astype("u1").tobytes()
    broken(header, "bad_codec/j2k_junk.dcm", J2K_LOSSLESS, [[junk]])
    # A 24 x 20 codestream under a 40 x 48 header (same bits and signedness).
    small = dataset(24, 20)
    small.PixelData = rng_values((24, 20), 0, 65535, 10).astype("<u2").tobytes()
    small.save_as(os.path.join(WORK, "small.dcm"), write_like_original=False)
    run("gdcmconv", "--j2k", os.path.join(WORK, "small.dcm"), os.path.join(WORK, "small_j2k.dcm"))
    small_cs = bytes(next(generate_pixel_data_frame(
        pydicom.dcmread(os.path.join(WORK, "small_j2k.dcm")).PixelData, 1)))
    broken(header, "bad_codec/j2k_size_mismatch.dcm", J2K_LOSSLESS, [[small_cs]])
    # Three components under a one-sample header of the same size and bits.
    gray = pydicom.dcmread(out("rgb24_j2k.dcm"))
    gray.SamplesPerPixel, gray.PhotometricInterpretation = 1, "MONOCHROME2"
    del gray.PlanarConfiguration
    broken(gray, "bad_codec/j2k_components.dcm", J2K_LOSSLESS, [codestreams("rgb24_j2k.dcm")])
    # No frame at all; four frames announced but three present.
    broken(header, "bad_codec/j2k_no_fragments.dcm", J2K_LOSSLESS, [], bot=False)
    frames = pydicom.dcmread(out("multiframe_j2k.dcm"))
    broken(frames, "bad_codec/j2k_missing_frame.dcm", J2K_LOSSLESS,
           [[f] for f in codestreams("multiframe_j2k.dcm")[:3]], bot=False)
    ht = pydicom.dcmread(out("u16_htj2k.dcm"))
    hcs = codestreams("u16_htj2k.dcm")[0]
    broken(ht, "bad_codec/htj2k_cut.dcm", HTJ2K_LOSSLESS, [[hcs[:len(hcs) // 2]]])
    shutil.copy(os.path.join(TEST_FILES, "JPEG2000-embedded-sequence-delimiter.dcm"),
                out("bad_codec/pd_j2k_absurd_siz.dcm"))  # SIZ claims ~4e12 pixels
    deflated = open(out("signed16_deflated.dcm"), "rb").read()
    open(out("bad_codec/deflated_cut.dcm"), "wb").write(deflated[: len(deflated) // 2])
    # Still unsupported: MPEG2 video (junk inside, never looked at).
    ds = dataset(8, 8)
    save_encapsulated(ds, "unsupported_mpeg2.dcm", MPEG2, [[b"\0\0\1\xb3" + b"\0" * 60]])


def mixed_syntax_series(n=8):
    """series_xfer/: one CT series (window 40/400, 2.5 mm along z, instance
    numbers and names shuffled) whose slices are by turns uncompressed, JPEG
    2000 lossless, deflated and HTJ2K lossless. Slice k's first value is
    -1000 + 10 k; each file's values are in series_xfer_expected/ (a .f32 in
    the series folder would be an issue). Returns the display order."""
    series = generate_uid()
    rng = random.Random(11)
    instances, names = list(range(1, n + 1)), list(range(n))
    rng.shuffle(instances)
    rng.shuffle(names)
    for k in range(n):
        hu = ct_hu(32, k, 20 + k)
        hu[0, 0] = -1000 + 10 * k
        ds = dataset(32, 32, signed=1, series=series, InstanceNumber=instances[k],
                     ImagePositionPatient=[0, 0, 2.5 * k],
                     ImageOrientationPatient=[1, 0, 0, 0, 1, 0], PixelSpacing=[0.7, 0.7],
                     SliceThickness=2.5, RescaleSlope=1, RescaleIntercept=-1024,
                     WindowCenter=40, WindowWidth=400, SeriesDescription="series_xfer")
        name = f"series_xfer/x{names[k]:02d}.dcm"
        stored = (hu + 1024).astype("<i2")
        write_expected(name.replace("series_xfer/", "series_xfer_expected/"), hu)
        if k % 4 == 0:
            save(ds, name, stored)
            continue
        if k % 4 == 3:
            save_encapsulated(ds, name, HTJ2K_LOSSLESS, [[htj2k(stored.astype(np.int64), True)]])
        else:
            ds.PixelData = stored.tobytes()
            ds.save_as(os.path.join(WORK, "slice.dcm"), write_like_original=False)
            tool = ("gdcmconv", "--j2k") if k % 4 == 1 else ("dcmconv", "+td")
            run(*tool, os.path.join(WORK, "slice.dcm"), out(name))
    return [-1000 + 10 * k for k in range(n)]


os.makedirs(os.path.join(OUT, "mixed_bag"), exist_ok=True)
simple_files()
enhanced_multiframe()
compressed_copies()
j2k_copies()
lossy_marks()
j2k_fragmented()
htj2k_files()
deflated_copies()
pydicom_j2k()
folders()
ct_small_reference()
pydicom_references()
bad_files()
shutil.rmtree(WORK)
