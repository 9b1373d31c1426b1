"""NIfTI loader: orientation (radiological display), scaling, NIfTI-1/2, gzip,
byte order, lying headers, and the real ch2 template.

Volumes are written here with struct/numpy. Usage: test-nifti.py VG_SCAN_DUMP VIGIL_CLI
"""
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

DUMP, CLI = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="vigil-nifti-")
CH2 = "/usr/share/mricron/templates/ch2.nii.gz"
IO, FORMAT, TRUNCATED, UNSUPPORTED, INVALID = range(5)
results = []
rng = np.random.default_rng(3)
DT = {np.uint8: (2, 8), np.int16: (4, 16), np.int32: (8, 32), np.float32: (16, 32),
      np.float64: (64, 64), np.uint16: (512, 16), np.int8: (256, 8)}


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((True, name, ""))
        except Exception as e:
            results.append((False, name, repr(e)))
        return fn
    return wrap


def path(name):
    return os.path.join(TMP, name)


class LoadError(Exception):
    pass


def load(file, slice_=0):
    out = path("frame.raw")
    p = subprocess.run([DUMP, "nifti", file, out, str(slice_)], capture_output=True, text=True)
    if p.returncode != 0:
        raise LoadError(p.stderr.strip())
    words = p.stdout.split()
    w, h = int(words[0]), int(words[1])
    info = dict(x.split("=") for x in words[3:])
    return info, np.fromfile(out, dtype=np.float32).reshape(h, w)


def expect_error(file, code, words, slice_=0):
    try:
        load(file, slice_)
    except LoadError as e:
        msg = str(e)
        assert msg.startswith(f"error {code}:"), msg
        for w in words:
            assert w in msg, (w, msg)
        return
    raise AssertionError("loaded without error")


def header(vol, pixdim, version=1, sform=None, quatern=None, slope=0.0, inter=0.0,
           endian="<", dims=None, dtype_code=None, vox_offset=None, cal=(0.0, 0.0)):
    """A NIfTI header for `vol` (shape nx, ny, nz); returns (bytes, data offset)."""
    code, bitpix = DT[vol.dtype.type] if dtype_code is None else dtype_code
    dim = [3] + list(vol.shape) + [1] * 4 if dims is None else dims
    pd = [1.0] + list(pixdim) + [0.0] * 4
    s = sform if sform is not None else np.zeros((3, 4))
    q = quatern or (0, 0, 0, 0, 0, 0)
    e = endian
    if version == 1:
        off = 352 if vox_offset is None else vox_offset
        h = bytearray(348)
        struct.pack_into(e + "i", h, 0, 348)
        struct.pack_into(e + "8h", h, 40, *dim)
        struct.pack_into(e + "hh", h, 70, code, bitpix)
        struct.pack_into(e + "8f", h, 76, *pd)
        struct.pack_into(e + "fff", h, 108, off, slope, inter)
        struct.pack_into(e + "ff", h, 124, cal[1], cal[0])
        struct.pack_into(e + "hh", h, 252, 1 if quatern else 0, 1 if sform is not None else 0)
        struct.pack_into(e + "6f", h, 256, *q)
        struct.pack_into(e + "12f", h, 280, *s.reshape(-1))
        h[344:348] = b"n+1\0"
        return bytes(h) + b"\0" * (off - 348), off
    off = 544 if vox_offset is None else vox_offset
    h = bytearray(540)
    struct.pack_into(e + "i", h, 0, 540)
    h[4:12] = b"n+2\0\r\n\x1a\n"
    struct.pack_into(e + "hh", h, 12, code, bitpix)
    struct.pack_into(e + "8q", h, 16, *dim)
    struct.pack_into(e + "8d", h, 104, *pd)
    struct.pack_into(e + "qdddd", h, 168, off, slope, inter, cal[1], cal[0])
    struct.pack_into(e + "ii", h, 344, 1 if quatern else 0, 1 if sform is not None else 0)
    struct.pack_into(e + "6d", h, 352, *q)
    struct.pack_into(e + "12d", h, 400, *s.reshape(-1))
    return bytes(h) + b"\0" * (off - 540), off


def write(name, vol, pixdim, gz=False, endian="<", **kw):
    hdr, _ = header(vol, pixdim, endian=endian, **kw)
    data = hdr + vol.astype(vol.dtype.newbyteorder(endian)).tobytes(order="F")
    p = path(name)
    with (gzip.open(p, "wb") if gz else open(p, "wb")) as f:
        f.write(data)
    return p


def from_display(disp, axes):
    """The voxel array whose radiological display is disp[s][row][col].

    axes[a] = (world axis 0=x 1=y 2=z, sign) for voxel axis a; +x is the
    patient's right, +y anterior, +z superior (NIfTI RAS+). Display columns run
    to the patient's left, rows anterior to posterior, slices inferior up."""
    ns, nr, nc = disp.shape
    size = {0: nc, 1: nr, 2: ns}
    shape = tuple(size[w] for w, _ in axes)
    idx = np.indices(shape)
    sl = row = col = None
    for a, (w, sign) in enumerate(axes):
        n = size[w]
        i = idx[a]
        if w == 0:
            col = n - 1 - i if sign > 0 else i
        elif w == 1:
            row = n - 1 - i if sign > 0 else i
        else:
            sl = i if sign > 0 else n - 1 - i
    return disp[sl, row, col]


def sform_for(axes, pixdim):
    m = np.zeros((3, 4))
    for a, (w, sign) in enumerate(axes):
        m[w, a] = sign * pixdim[a]
    m[:, 3] = [-10, 20, 5]
    return m


@check("RAS volume: patient left on screen right, anterior up, slice 0 inferior")
def _():
    vol = np.zeros((20, 30, 10), np.int16)  # i: right, j: anterior, k: superior
    vol[2, 25, 7] = 1000  # patient left (low x), anterior (high y), slice 7
    p = write("ras.nii", vol, (1, 1, 1), sform=sform_for([(0, 1), (1, 1), (2, 1)], (1, 1, 1)))
    info, a = load(p, 7)
    assert info["slices"] == "10" and a.shape == (30, 20)
    r, c = np.argwhere(a == 1000)[0]
    assert c == 20 - 1 - 2 and r == 30 - 1 - 25, (r, c)  # right half, top
    assert c > 10 and r < 15
    _, a = load(p, 6)
    assert a.max() == 0


CASES = [  # name, voxel axes -> world, pixdim, dtype, version, gz, endian
    ("ras-int16-slope", [(0, 1), (1, 1), (2, 1)], (0.7, 0.8, 2.5), np.int16, 1, False, "<"),
    ("permuted-float-n2-gz", [(2, -1), (0, 1), (1, -1)], (3.0, 0.5, 0.8), np.float32, 2, True, "<"),
    ("lps-uint16-bigendian", [(0, -1), (1, -1), (2, 1)], (1.0, 1.5, 2.0), np.uint16, 1, False, ">"),
    ("sagittal-stack-uint8-gz", [(1, 1), (2, 1), (0, -1)], (1.2, 1.1, 1.0), np.uint8, 1, True, "<"),
    ("coronal-stack-float64-n2", [(0, 1), (2, -1), (1, 1)], (0.9, 1.3, 1.7), np.float64, 2, False, ">"),
]


@check("non-identity orientations, NIfTI-1/2, gzip, byte order, scl_slope/inter")
def _():
    for name, axes, pixdim, dt, version, gz, endian in CASES:
        ns, nr, nc = 6, 9, 11
        disp = rng.integers(0, 200, (ns, nr, nc)).astype(dt)
        vol = from_display(disp, axes)
        slope, inter = (2.0, -10.0) if "slope" in name else (0.0, 0.0)
        p = write(name + (".nii.gz" if gz else ".nii"), vol, pixdim, gz=gz, endian=endian,
                  version=version, sform=sform_for(axes, pixdim), slope=slope, inter=inter)
        want_scale = (slope, inter) if slope else (1.0, 0.0)
        size = {0: nc, 1: nr, 2: ns}
        spacing = {w: pixdim[a] for a, (w, _) in enumerate(axes)}
        for s in (0, 2, ns - 1):
            info, a = load(p, s)
            assert info["slices"] == str(ns), (name, info)
            assert a.shape == (size[1], size[0]), (name, a.shape)
            want = disp[s].astype(np.float64) * want_scale[0] + want_scale[1]
            assert np.array_equal(a, want.astype(np.float32)), (name, s)
            got = [float(x) for x in info["spacing"].split(",")]
            assert np.allclose(got, [spacing[1], spacing[0], spacing[2]], rtol=1e-6), (name, got)


def orientation(file):
    """Image Orientation (Patient) of the displayed slices, as vigil-cli info says."""
    p = subprocess.run([CLI, "info", "--json", file], capture_output=True, text=True, check=True)
    return json.loads(p.stdout)["studies"][0]["series"][0]["orientation"]


@check("orientation: displayed rows and columns in LPS, from the sform, oblique too")
def _():
    for name, axes, pixdim, dt, version, gz, endian in CASES:  # written by the check above
        got = orientation(path(name + (".nii.gz" if gz else ".nii")))
        assert np.allclose(got, [1, 0, 0, 0, 1, 0], atol=1e-6), (name, got)
    c, s = np.cos(np.radians(20)), np.sin(np.radians(20))
    m = np.zeros((3, 4))
    m[:, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) * [0.9, 0.9, 2.0]
    p = write("oblique.nii", np.zeros((8, 8, 3), np.int16), (0.9, 0.9, 2.0), sform=m)
    got = orientation(p)  # screen x runs left (LPS +x), y posterior, both turned 20 degrees
    assert np.allclose(got, [c, s, 0, -s, c, 0], atol=1e-5), got


@check("qform only (quaternion 180 degrees about z: LPS voxel axes)")
def _():
    axes = [(0, -1), (1, -1), (2, 1)]
    disp = rng.integers(0, 100, (4, 5, 6)).astype(np.int16)
    p = write("qform.nii", from_display(disp, axes), (1, 1, 1), quatern=(0, 0, 1, 0, 0, 0))
    for s in range(4):
        _, a = load(p, s)
        assert np.array_equal(a, disp[s].astype(np.float32)), s


@check("4-D data shows the first volume; 2-D data has one slice")
def _():
    axes = [(0, 1), (1, 1), (2, 1)]
    disp = rng.integers(0, 100, (3, 4, 5)).astype(np.int16)
    vol = from_display(disp, axes)
    both = np.stack([vol, vol + 1000], axis=3)
    hdr, _ = header(vol, (1, 1, 1), sform=sform_for(axes, (1, 1, 1)), dims=[4, 5, 4, 3, 2, 1, 1, 1])
    open(path("4d.nii"), "wb").write(hdr + both.tobytes(order="F"))
    for s in range(3):
        info, a = load(path("4d.nii"), s)
        assert info["slices"] == "3" and np.array_equal(a, disp[s].astype(np.float32)), s
    hdr, _ = header(vol[:, :, 0], (1, 1, 1), sform=sform_for(axes, (1, 1, 1)),
                    dims=[2, 5, 4, 1, 1, 1, 1, 1])
    open(path("2d.nii"), "wb").write(hdr + vol[:, :, 0].tobytes(order="F"))
    info, a = load(path("2d.nii"))
    assert info["slices"] == "1" and np.array_equal(a, disp[0].astype(np.float32))


@check("NIfTI-1 header/image pair (.hdr + .img)")
def _():
    vol = np.arange(5 * 4 * 3, dtype=np.int16).reshape(5, 4, 3)  # value = 12 i + 3 j + k
    hdr, _ = header(vol, (1, 1, 1), vox_offset=0)
    hdr = bytearray(hdr[:348])
    hdr[344:348] = b"ni1\0"
    open(path("pair.hdr"), "wb").write(hdr)
    open(path("pair.img"), "wb").write(vol.tobytes(order="F"))
    info, a = load(path("pair.hdr"), 1)
    # no qform/sform: the grid is taken as RAS, so both in-plane axes flip
    want = (12 * (4 - np.arange(5))[None, :] + 3 * (3 - np.arange(4))[:, None] + 1)
    assert info["slices"] == "3" and np.array_equal(a, want.astype(np.float32)), a


@check("header window from cal_min/cal_max")
def _():
    p = write("cal.nii", np.zeros((4, 4, 2), np.int16), (1, 1, 1), cal=(-100.0, 300.0))
    info, _ = load(p)
    assert info["window"] == "100.5,401", info


@check("lying headers: dims beyond the file, absurd dims, bad pixdim, offsets -> clear errors")
def _():
    vol = np.ones((8, 8, 4), np.int16)
    p = write("big.nii", vol, (1, 1, 1), dims=[3, 1024, 1024, 1024, 1, 1, 1, 1])
    expect_error(p, TRUNCATED, ["header claims", "file holds"])
    p = write("bigz.nii.gz", vol, (1, 1, 1), gz=True, dims=[3, 512, 512, 300, 1, 1, 1, 1])
    expect_error(p, TRUNCATED, ["ends early"], slice_=0)
    p = write("huge2.nii", vol, (1, 1, 1), version=2, dims=[3, 1 << 40, 8, 4, 1, 1, 1, 1])
    expect_error(p, INVALID, ["not 1..65536"])
    p = write("neg.nii", vol, (1, 1, 1), dims=[3, -8, 8, 4, 1, 1, 1, 1])
    expect_error(p, INVALID, ["dim[1] = -8"])
    p = write("vol.nii", vol, (1, 1, 1), version=2, dims=[3, 65536, 65536, 65536, 1, 1, 1, 1])
    expect_error(p, INVALID, ["too large"])
    for pd, word in [((0, 1, 1), "pixdim[1]"), ((1, -2, 1), "pixdim[2]"), ((1, 1, float("nan")), "pixdim[3]")]:
        p = write("pd.nii", vol, pd)
        expect_error(p, INVALID, [word, "positive"])
    p = write("off.nii", vol, (1, 1, 1), vox_offset=352 + 100000)
    os.truncate(p, 352 + vol.nbytes)  # the header points past the end
    expect_error(p, TRUNCATED, ["after offset 100352"])
    p = write("voxoff.nii", vol, (1, 1, 1), version=2)
    with open(p, "r+b") as f:  # vox_offset 2^50
        f.seek(168)
        f.write(struct.pack("<q", 1 << 50))
    try:
        load(p)
        raise AssertionError("absurd vox_offset loaded")
    except LoadError as e:  # the library or the loader refuses it, with a message
        assert str(e).startswith(("error 1:", "error 4:")) and "voxoff.nii" in str(e), e
    p = write("cplx.nii", vol, (1, 1, 1), dtype_code=(32, 64))
    expect_error(p, UNSUPPORTED, ["not supported"])
    p = write("slice.nii", vol, (1, 1, 1))
    expect_error(p, INVALID, ["slice 4 is not in 0..3"], slice_=4)


@check("not NIfTI, short, missing files -> clear errors")
def _():
    open(path("junk.nii"), "wb").write(bytes(rng.integers(0, 256, 600, dtype=np.uint8)))
    expect_error(path("junk.nii"), FORMAT, ["not a NIfTI"])
    open(path("short.nii"), "wb").write(b"\x5c\x01\0\0" + b"\0" * 100)
    expect_error(path("short.nii"), TRUNCATED, ["shorter than a NIfTI header"])
    expect_error(path("missing.nii"), IO, ["missing.nii", "cannot open"])
    hdr, _ = header(np.zeros((4, 4, 4), np.uint8), (1, 1, 1))
    with gzip.open(path("hdronly.nii.gz"), "wb") as f:
        f.write(hdr)
    expect_error(path("hdronly.nii.gz"), TRUNCATED, ["ends early"])


def ch2_reference():
    raw = gzip.open(CH2).read()
    dim = struct.unpack_from("<8h", raw, 40)
    dtype, = struct.unpack_from("<h", raw, 70)
    pixdim = struct.unpack_from("<8f", raw, 76)
    off, slope, inter = struct.unpack_from("<3f", raw, 108)
    sform_code, = struct.unpack_from("<h", raw, 254)
    srow = np.array(struct.unpack_from("<12f", raw, 280)).reshape(3, 4)
    assert dtype == 2, dtype
    vol = np.frombuffer(raw, np.uint8, int(np.prod(dim[1:4])), int(off)).reshape(dim[1:4], order="F")
    return dim, pixdim, sform_code, srow, vol, (slope, inter)


@check("real sample ch2.nii.gz: slice count, spacing and voxels match its header")
def _():
    dim, pixdim, sform_code, srow, vol, (slope, inter) = ch2_reference()
    # ch2 is an MNI-space RAS grid: i right, j anterior, k superior.
    assert sform_code > 0 and srow[0, 0] > 0 and srow[1, 1] > 0 and srow[2, 2] > 0, srow
    for s in (0, dim[3] // 2, dim[3] - 1):
        info, a = load(CH2, s)
        assert info["slices"] == str(dim[3]), info
        assert a.shape == (dim[2], dim[1]), a.shape
        got = [float(x) for x in info["spacing"].split(",")]
        assert np.allclose(got, [pixdim[2], pixdim[1], pixdim[3]]), got
        scale = (slope, inter) if slope else (1.0, 0.0)
        want = vol[::-1, ::-1, s].T.astype(np.float64) * scale[0] + scale[1]
        assert np.array_equal(a, want.astype(np.float32)), s
    assert load(CH2, dim[3] // 2)[1].max() > 0


@check("render: NIfTI slice windowed to PNG, bad slice and window rejected")
def _():
    out = path("ch2.png")
    p = subprocess.run([CLI, "render", CH2, "--slice", "90", "--window", "128,256", "--out", out],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    dim, _, _, _, vol, _ = ch2_reference()
    got = np.array(Image.open(out))
    assert np.array_equal(got, vol[::-1, ::-1, 90].T), "render differs from the voxels"
    p = subprocess.run([CLI, "render", CH2, "--slice", "90", "--out", out], capture_output=True, text=True)
    assert p.returncode == 0 and np.array(Image.open(out)).max() == 255, p.stderr
    p = subprocess.run([CLI, "render", CH2, "--slice", str(dim[3]), "--out", out],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "slice" in p.stderr, p.stderr


print("TAP version 13")
print(f"1..{len(results)}")
for i, (ok, name, err) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if err:
        print("  # " + err.replace("\n", "\n  # "))
shutil.rmtree(TMP, ignore_errors=True)
sys.exit(0 if all(r[0] for r in results) else 1)
