"""Writes small valid seed inputs for the fuzzers: make-seeds.py KIND DIR.
make-seeds.py j2k-regress tests/fuzz/regress/j2k rewrites the committed
JPEG 2000 regression inputs."""
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

kind, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)


def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def img(mode, size):
    shape = (size[1], size[0]) + ((len(mode),) if len(mode) > 1 else ())
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def encoded(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def j2k_header(w, h, comps=1, alloc=8, stored=None, signed=False):
    """The frame fuzz-j2k.c reads before the codestream (asking for the info)."""
    flags = (comps == 3) | (alloc == 16) << 1 | signed << 2 | 8
    return bytes([flags, (stored or alloc) - 1]) + struct.pack("<HH", w - 1, h - 1)


def j2k(im, **kw):
    return encoded(im, "JPEG2000", no_jp2=kw.pop("jp2", False) is False, **kw)


def ojph(samples, *args, depth=8, signed=False):
    """An HTJ2K codestream from ojph_compress (openjph-tools): a PIL image goes
    in as PGM/PPM, a (components, height, width) array as raw planar samples
    (which ojph_compress takes without a colour transform)."""
    with tempfile.TemporaryDirectory() as tmp:
        dst = os.path.join(tmp, "out.j2c")
        if isinstance(samples, Image.Image):
            src = os.path.join(tmp, "in.ppm" if samples.mode == "RGB" else "in.pgm")
            samples.save(src)
        else:
            src = os.path.join(tmp, "in.yuv")
            with open(src, "wb") as f:
                f.write(samples.astype("<u2" if depth > 8 else "u1").tobytes())
            comps, h, w = samples.shape
            args += ("-dims", f"{{{w},{h}}}", "-num_comps", str(comps),
                     "-signed", ",".join(["true" if signed else "false"] * comps),
                     "-bit_depth", ",".join([str(depth)] * comps),
                     "-downsamp", ",".join(["{1,1}"] * comps))
        subprocess.run(["ojph_compress", "-i", src, "-o", dst, *args],
                       check=True, stdout=subprocess.DEVNULL)
        with open(dst, "rb") as f:
            return f.read()


def g16(size, high, signed=False):
    a = rng.integers(-high // 2 if signed else 0, high // 2 if signed else high, size[::-1])
    return Image.frombytes("I;16", size, a.astype("<i2" if signed else "<u2").tobytes())


def j2k_seeds(regress):
    gray = img("L", (16, 16))
    if regress:
        # Regression inputs (tiny, committed): each must fail cleanly, or for
        # names without .bad. decode or fail cleanly.
        cs = j2k(gray)
        siz = cs[: 4 + struct.unpack(">H", cs[4:6])[0]]  # SOC + SIZ
        hdr = j2k_header(16, 16)
        put("truncated-header.bad.j2k", hdr + cs[:60])  # ends inside COD/QCD
        put("truncated-data.j2k", hdr + cs[: len(cs) // 2])  # ends inside packets
        put("junk-after-siz.bad.j2k", hdr + siz + rng.integers(0, 256, 64, np.uint8).tobytes())
        # SIZ claims 0xfffffff0 square with one tile; the header claims 16 x 16.
        huge = bytearray(siz)
        struct.pack_into(">IIIIIIII", huge, 8, 0xFFFFFFF0, 0xFFFFFFF0, 0, 0,
                         0xFFFFFFF0, 0xFFFFFFF0, 0, 0)
        put("absurd-siz.bad.j2k", hdr + huge + cs[len(siz):])
        # 255 x 257 one-pixel tiles (the most the standard allows), no tile data.
        tiles = bytearray(siz)
        struct.pack_into(">IIIIIIII", tiles, 8, 255, 257, 0, 0, 1, 1, 0, 0)
        put("many-tiles.bad.j2k", j2k_header(255, 257) + tiles + b"\xff\xd9")
        put("size-mismatch.bad.j2k", j2k_header(16, 17) + cs)
        put("comps-mismatch.bad.j2k", hdr + j2k(img("RGB", (16, 16)), mct=1))
        return
    put("g8.j2k", j2k_header(16, 16) + j2k(gray))
    put("g8-97.j2k", j2k_header(13, 9) + j2k(img("L", (13, 9)), irreversible=True))
    put("g8.jp2", j2k_header(12, 8) + j2k(img("L", (12, 8)), jp2=True))
    put("s8.j2k", j2k_header(16, 16, signed=True) + j2k(gray, signed=True))
    put("g16.j2k", j2k_header(20, 10, 1, 16) + j2k(g16((20, 10), 65536)))
    put("s16.j2k", j2k_header(10, 20, 1, 16, signed=True)
        + j2k(g16((10, 20), 4096, True), signed=True))
    rgb = img("RGB", (16, 16))
    put("rgb-rct.j2k", j2k_header(16, 16, 3) + j2k(rgb, mct=1))
    put("rgb-ict.j2k", j2k_header(16, 16, 3) + j2k(rgb, mct=1, irreversible=True))
    put("rgb-nomct.j2k", j2k_header(16, 16, 3) + j2k(rgb, mct=0))
    put("rgb.jp2", j2k_header(16, 16, 3) + j2k(rgb, jp2=True))
    put("rgb-tiles.j2k", j2k_header(24, 24, 3)
        + j2k(img("RGB", (24, 24)), tile_size=(8, 8), mct=1))
    put("offset-tiles.j2k", j2k_header(16, 12)
        + j2k(img("L", (16, 12)), offset=(2, 3), tile_offset=(1, 1), tile_size=(8, 8)))
    for order in ("LRCP", "RLCP", "RPCL", "PCRL", "CPRL"):
        put(f"prog-{order}.j2k", j2k_header(32, 32) + j2k(
            img("L", (32, 32)), progression=order, num_resolutions=3, codeblock_size=(8, 8),
            precinct_size=(16, 16), quality_layers=[40, 10, 1]))
    put("layers-db.j2k", j2k_header(16, 16)
        + j2k(gray, quality_mode="dB", quality_layers=[30, 40, 50], irreversible=True))
    if not shutil.which("ojph_compress"):
        print("make-seeds.py: no ojph_compress (openjph-tools): no HTJ2K seeds", file=sys.stderr)
        return
    rev = ("-reversible", "true")
    g = img("L", (12, 10))
    put("ht-g8.j2c", j2k_header(12, 10) + ojph(g, *rev))
    put("ht-g8-97.j2c", j2k_header(12, 10) + ojph(g, "-num_decomps", "2", "-qstep", "0.01"))
    put("ht-u12.j2c", j2k_header(24, 16, 1, 16, 12)
        + ojph(rng.integers(0, 4096, (1, 16, 24)), *rev, depth=12))
    put("ht-s12.j2c", j2k_header(24, 16, 1, 16, 12, True)
        + ojph(rng.integers(0, 2048, (1, 16, 24)), *rev, depth=12, signed=True))
    put("ht-u16.j2c", j2k_header(9, 7, 1, 16)
        + ojph(rng.integers(0, 65536, (1, 7, 9)), *rev, depth=16))
    put("ht-rgb.j2c", j2k_header(8, 8, 3) + ojph(img("RGB", (8, 8)), *rev))
    put("ht-rgb-nomct.j2c", j2k_header(8, 8, 3) + ojph(rng.integers(0, 256, (3, 8, 8)), *rev))
    put("ht-tiles.j2c", j2k_header(40, 24) + ojph(
        img("L", (40, 24)), *rev, "-tile_size", "{16,16}", "-block_size", "{16,16}",
        "-prog_order", "LRCP", "-num_decomps", "2", "-precincts", "{8,8},{16,16}"))

if kind == "png":
    for mode in ("L", "LA", "RGB", "RGBA"):
        put(mode + ".png", encoded(img(mode, (7, 5)), "PNG"))
    put("p.png", encoded(img("L", (6, 6)).convert("P"), "PNG", transparency=3))
    put("1.png", encoded(img("L", (9, 3)).convert("1"), "PNG"))
    g16 = Image.fromarray(rng.integers(0, 65536, (4, 4)).astype(np.int32), "I").convert("I;16")
    put("g16.png", encoded(g16, "PNG"))
elif kind == "jpeg":
    put("g.jpg", encoded(img("L", (16, 8)), "JPEG"))
    put("c.jpg", encoded(img("RGB", (17, 9)), "JPEG"))
    put("p.jpg", encoded(img("RGB", (9, 17)), "JPEG", progressive=True))
    put("cmyk.jpg", encoded(img("CMYK", (8, 8)), "JPEG"))
elif kind in ("j2k", "j2k-regress"):
    j2k_seeds(kind == "j2k-regress")
else:
    for version, dt, code, bits in ((1, np.int16, 4, 16), (2, np.float32, 16, 32), (1, np.uint8, 2, 8)):
        vol = rng.integers(0, 100, (4, 3, 5)).astype(dt)
        if version == 1:
            h = bytearray(352)
            struct.pack_into("<i", h, 0, 348)
            struct.pack_into("<8h", h, 40, 3, 4, 3, 5, 1, 1, 1, 1)
            struct.pack_into("<hh", h, 70, code, bits)
            struct.pack_into("<8f", h, 76, 1, 1, 2, 3, 0, 0, 0, 0)
            struct.pack_into("<fff", h, 108, 352, 1, 0)
            struct.pack_into("<hh", h, 252, 1, 1)
            struct.pack_into("<6f", h, 256, 0, 0, 1, 0, 0, 0)
            struct.pack_into("<12f", h, 280, 0, 0, -3, 0, 1, 0, 0, 0, 0, 2, 0, 0)
            h[344:348] = b"n+1\0"
        else:
            h = bytearray(544)
            struct.pack_into("<i", h, 0, 540)
            h[4:12] = b"n+2\0\r\n\x1a\n"
            struct.pack_into("<hh", h, 12, code, bits)
            struct.pack_into("<8q", h, 16, 3, 4, 3, 5, 1, 1, 1, 1)
            struct.pack_into("<8d", h, 104, 1, 1, 1, 1, 0, 0, 0, 0)
            struct.pack_into("<qdd", h, 168, 544, 2, 1)
        put(f"v{version}-{dt.__name__}.nii", bytes(h) + vol.tobytes(order="F"))
