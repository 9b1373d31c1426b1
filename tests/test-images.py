"""PNG/JPEG loaders, bad input, PIL-exact resize and model input, `vigil-cli render`.

Fixtures are generated here with PIL/numpy. Usage: test-images.py VG_SCAN_DUMP VIGIL_CLI
"""
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
from PIL import Image

DUMP, CLI = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="vigil-images-")
results = []


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((True, name, ""))
        except Exception as e:  # report and go on: one TAP line per check
            results.append((False, name, repr(e)))
        return fn
    return wrap


def path(name):
    return os.path.join(TMP, name)


def load(kind, file, slice_=0):
    """Returns (info words, float array) or raises with the loader's error."""
    out = path("frame.raw")
    p = subprocess.run([DUMP, kind, file, out, str(slice_)], capture_output=True, text=True)
    if p.returncode != 0:
        raise LoadError(p.stderr.strip())
    words = p.stdout.split()
    w, h, c = int(words[0]), int(words[1]), int(words[2])
    a = np.fromfile(out, dtype=np.float32).reshape(h, w, c) if c > 1 else \
        np.fromfile(out, dtype=np.float32).reshape(h, w)
    return words, a


class LoadError(Exception):
    pass


def expect_error(kind, file, code, words):
    try:
        load(kind, file)
    except LoadError as e:
        msg = str(e)
        assert msg.startswith(f"error {code}:"), msg
        for w in words:
            assert w in msg, (w, msg)
        return
    raise AssertionError("loaded without error")


IO, FORMAT, TRUNCATED, UNSUPPORTED, INVALID = range(5)
rng = np.random.default_rng(1)


def save(img, name, **kw):
    img.save(path(name), **kw)
    return path(name)


@check("PNG 8-bit gray and RGB load exactly")
def _():
    g = rng.integers(0, 256, (37, 100), dtype=np.uint8)
    words, a = load("png", save(Image.fromarray(g), "g8.png"))
    assert words[3] == "bits=8" and np.array_equal(a, g)
    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    _, a = load("png", save(Image.fromarray(rgb), "rgb.png"))
    assert np.array_equal(a, rgb)


@check("PNG 16-bit gray keeps full values")
def _():
    g = rng.integers(0, 65536, (33, 17), dtype=np.uint16)
    words, a = load("png", save(Image.fromarray(g.astype(np.int32), "I").convert("I;16"), "g16.png"))
    assert words[3] == "bits=16", words
    assert np.array_equal(a, g.astype(np.float32)), (a[:2, :4], g[:2, :4])


@check("PNG alpha is composited on black (gray+alpha, RGBA, palette+tRNS)")
def _():
    la = rng.integers(0, 256, (9, 11, 2), dtype=np.uint8)
    _, a = load("png", save(Image.fromarray(la, "LA"), "la.png"))
    assert np.allclose(a, la[..., 0] * (la[..., 1] / 255.0), atol=1e-3)
    rgba = rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)
    _, a = load("png", save(Image.fromarray(rgba, "RGBA"), "rgba.png"))
    assert np.allclose(a, rgba[..., :3] * (rgba[..., 3:] / 255.0), atol=1e-3)
    pal = Image.fromarray(rng.integers(0, 4, (8, 8), dtype=np.uint8), "P")
    pal.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 200, 200])
    p = save(pal, "pal.png", transparency=1)
    _, a = load("png", p)
    want = np.array(pal.convert("RGB"), dtype=np.float32)
    want[np.array(pal) == 1] = 0
    assert np.array_equal(a, want)


@check("PNG 1-bit gray and interlaced images")
def _():
    b = Image.fromarray(rng.integers(0, 2, (13, 21), dtype=np.uint8) * 255).convert("1")
    _, a = load("png", save(b, "bw.png"))
    assert np.array_equal(a, np.array(b.convert("L"), dtype=np.float32))
    g = rng.integers(0, 256, (31, 29), dtype=np.uint8)
    _, a = load("png", save(Image.fromarray(g), "inter.png", interlace=1))
    # PIL may not write Adam7; either way the pixels must round-trip.
    assert np.array_equal(a, g)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(w, h, depth=8, color=0, rows=b"", interlace=0):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
            png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


@check("PNG Adam7 interlace written by hand decodes")
def _():
    # 1x1 interlaced gray: one pass with one pixel.
    open(path("adam7.png"), "wb").write(png_bytes(1, 1, rows=b"\x00\x7f", interlace=1))
    _, a = load("png", path("adam7.png"))
    assert a.shape == (1, 1) and a[0, 0] == 127


@check("PNG bad input: missing, not PNG, truncated, corrupt, zero and absurd sizes")
def _():
    expect_error("png", path("missing.png"), IO, ["missing.png"])
    open(path("text.png"), "wb").write(b"hello, not a png at all")
    expect_error("png", path("text.png"), FORMAT, ["not a PNG"])
    good = open(save(Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8)), "ok.png"), "rb").read()
    open(path("trunc.png"), "wb").write(good[: len(good) // 2])
    expect_error("png", path("trunc.png"), TRUNCATED, ["ends early"])
    bad = bytearray(good)
    i = bad.index(b"IDAT") + 20
    bad[i:i + 8] = b"\xff" * 8
    open(path("crc.png"), "wb").write(bytes(bad))
    expect_error("png", path("crc.png"), FORMAT, ["corrupt PNG"])
    open(path("zero.png"), "wb").write(png_bytes(0, 5))
    expect_error("png", path("zero.png"), INVALID, ["0 x 5"])
    open(path("huge.png"), "wb").write(png_bytes(100000, 100000, rows=b"\x00" * 10))
    expect_error("png", path("huge.png"), INVALID, ["100000 x 100000"])
    open(path("big.png"), "wb").write(png_bytes(60000, 60000, rows=b"\x00" * 10))
    expect_error("png", path("big.png"), INVALID, ["60000 x 60000"])


@check("JPEG gray and RGB decode like PIL (same libjpeg-turbo)")
def _():
    g = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    _, a = load("jpeg", save(Image.fromarray(g), "g.jpg", quality=90))
    assert a.ndim == 2 and np.array_equal(a, np.array(Image.open(path("g.jpg"))))
    rgb = rng.integers(0, 256, (33, 47, 3), dtype=np.uint8)
    _, a = load("jpeg", save(Image.fromarray(rgb), "c.jpg", quality=85))
    ref = np.array(Image.open(path("c.jpg")).convert("RGB")).astype(np.float32)
    assert a.shape == ref.shape and np.abs(a - ref).max() <= 1, np.abs(a - ref).max()
    _, a = load("jpeg", save(Image.fromarray(rgb), "p.jpg", progressive=True))
    ref = np.array(Image.open(path("p.jpg")).convert("RGB")).astype(np.float32)
    assert np.abs(a - ref).max() <= 1


@check("JPEG bad input: CMYK unsupported, truncated, corrupt, not JPEG, missing")
def _():
    cmyk = Image.fromarray(rng.integers(0, 256, (16, 16, 4), dtype=np.uint8), "CMYK")
    expect_error("jpeg", save(cmyk, "cmyk.jpg"), UNSUPPORTED, ["CMYK"])
    good = open(save(Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)), "ok.jpg"), "rb").read()
    open(path("trunc.jpg"), "wb").write(good[: len(good) // 2])
    expect_error("jpeg", path("trunc.jpg"), TRUNCATED, ["trunc.jpg"])
    open(path("hdr.jpg"), "wb").write(good[:40])
    expect_error("jpeg", path("hdr.jpg"), TRUNCATED, [])
    bad = bytearray(good)
    sos = bad.index(b"\xff\xda")
    bad[sos + 40:sos + 200] = bytes(rng.integers(0, 256, 160, dtype=np.uint8))
    open(path("bad.jpg"), "wb").write(bytes(bad))
    try:
        load("jpeg", path("bad.jpg"))
        raise AssertionError("corrupt JPEG loaded")
    except LoadError as e:
        assert "corrupt or unsupported JPEG" in str(e), e
    open(path("text.jpg"), "wb").write(b"GIF89a nope")
    expect_error("jpeg", path("text.jpg"), FORMAT, ["not a JPEG"])
    expect_error("jpeg", path("missing.jpg"), IO, ["missing.jpg"])


def raw_u8(a):
    h, w = a.shape[:2]
    c = 1 if a.ndim == 2 else a.shape[2]
    p = path("in.raw")
    with open(p, "wb") as f:
        f.write(struct.pack("<iii", w, h, c) + a.tobytes())
    return p, c


SIZES = [(512, 512), (100, 37), (17, 300), (240, 240), (1, 1), (1000, 800), (3, 2), (241, 239)]


@check("bicubic resize equals PIL Image.resize(BICUBIC) exactly, L and RGB, both ways")
def _():
    bad = []
    for (w, h) in SIZES:
        for mode in ("L", "RGB"):
            shape = (h, w) if mode == "L" else (h, w, 3)
            a = rng.integers(0, 256, shape, dtype=np.uint8)
            if w * h > 1000:  # smooth areas and hard edges, not only noise
                a[: h // 2] = (np.arange(w, dtype=np.uint32) * 255 // max(w - 1, 1)).astype(np.uint8)[
                    (slice(None),) + ((None,) if mode == "RGB" else ())]
            for (ow, oh) in [(240, 240), (w * 2 + 1, max(h // 3, 1)), (7, 5)]:
                src, c = raw_u8(a)
                out = path("out.raw")
                subprocess.run([DUMP, "resize", src, out, str(ow), str(oh)], check=True)
                got = np.fromfile(out, dtype=np.uint8).reshape((oh, ow) + (() if c == 1 else (3,)))
                want = np.array(Image.fromarray(a, mode).resize((ow, oh), Image.BICUBIC))
                diff = np.abs(got.astype(int) - want).max()
                if diff:
                    bad.append((w, h, mode, ow, oh, int(diff)))
    assert not bad, bad


@check("model input: float32 3x240x240 = PIL resize / 255, gray replicated")
def _():
    for (w, h), mode in [((512, 512), "L"), ((100, 37), "RGB"), ((17, 300), "L")]:
        shape = (h, w) if mode == "L" else (h, w, 3)
        a = rng.integers(0, 256, shape, dtype=np.uint8)
        src, _ = raw_u8(a)
        subprocess.run([DUMP, "model-input", src, path("m.raw")], check=True)
        got = np.fromfile(path("m.raw"), dtype=np.float32).reshape(3, 240, 240)
        ref = Image.fromarray(a, mode).convert("RGB").resize((240, 240), Image.BICUBIC)
        want = (np.asarray(ref, dtype=np.float32) / 255.0).transpose(2, 0, 1)
        assert np.abs(got - want).max() < 1e-6, np.abs(got - want).max()


def render(*args):
    return subprocess.run([CLI, "render", *args], capture_output=True, text=True)


@check("render: PNG/JPEG as shown, --window applied, slice must be 0, errors")
def _():
    g = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    src = save(Image.fromarray(g), "r.png")
    p = render(src, "--out", path("o.png"))
    assert p.returncode == 0, p.stderr
    assert np.array_equal(np.array(Image.open(path("o.png"))), g)
    p = render(src, "--window", "100,50", "--out", path("w.png"))
    assert p.returncode == 0, p.stderr
    w = np.array(Image.open(path("w.png"))).astype(int)
    lo, hi = 100 - 0.5 - 24.5, 100 - 0.5 + 24.5
    gi = g.astype(float)
    want = np.where(gi <= lo, 0, np.where(gi > hi, 255,
                    np.rint(((gi - 99.5) / 49 + 0.5) * 255)))
    assert np.array_equal(w, want)
    rgb = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    src = save(Image.fromarray(rgb), "r.jpg", quality=95)
    p = render(src, "--out", path("j.png"))
    assert p.returncode == 0 and np.array(Image.open(path("j.png"))).shape == (10, 12, 3)
    p = render(src, "--slice", "1", "--out", path("x.png"))
    assert p.returncode == 1 and "slice 1 is not in 0..0" in p.stderr, p.stderr
    p = render(path("nope.png"), "--out", path("x.png"))
    assert p.returncode == 1 and "no such file" in p.stderr, p.stderr
    p = render(src, "--window", "40", "--out", path("x.png"))
    assert p.returncode == 2
    p = render(src)
    assert p.returncode == 2
    open(path("junk.bin"), "wb").write(b"junk")
    p = render(path("junk.bin"), "--out", path("x.png"))
    assert p.returncode == 1 and "junk.bin: not a DICOM file" in p.stderr, p.stderr


print("TAP version 13")
print(f"1..{len(results)}")
for i, (ok, name, err) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if err:
        print("  # " + err.replace("\n", "\n  # "))
shutil.rmtree(TMP, ignore_errors=True)
sys.exit(0 if all(r[0] for r in results) else 1)
