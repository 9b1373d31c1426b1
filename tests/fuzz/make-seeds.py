"""Writes small valid seed inputs for the fuzzers: make-seeds.py KIND DIR."""
import io
import os
import struct
import sys

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
