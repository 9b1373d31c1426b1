#!/usr/bin/python3
"""Test inputs for the .pth reader, made with torch and by hand.

  pth-cases.py make DIR       writes DIR/<case>.pth (+ DIR/<case>.safetensors holding
                              the tensors the reader must return, in order)
  pth-cases.py check OURS REF torch.loads both and exits 1 unless they hold the same
                              dict structure and bit-identical tensors
"""
import collections
import json
import os
import pickle
import struct
import sys
import zipfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
import torch  # noqa: E402

torch.manual_seed(0)


class Adapter(torch.nn.Module):
    """MVFA's residual adapter: two bias-free linears with LeakyReLU."""

    def __init__(self, c_in, bottleneck):
        super().__init__()
        self.fc1 = torch.nn.Sequential(torch.nn.Linear(c_in, bottleneck, bias=False),
                                       torch.nn.LeakyReLU(inplace=False))
        self.fc2 = torch.nn.Sequential(torch.nn.Linear(bottleneck, c_in, bias=False),
                                       torch.nn.LeakyReLU(inplace=False))


def adapters():
    return torch.nn.ModuleList([Adapter(16, 4) for _ in range(4)])


def flatten(obj, prefix=""):
    out = collections.OrderedDict()
    for k, v in obj.items():
        name = prefix + str(k)
        if isinstance(v, torch.Tensor):
            out[name] = v
        elif isinstance(v, dict):
            out.update(flatten(v, name + "."))
    return out


DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def raw(t):
    t = t.contiguous()
    return t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = raw(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def save_case(d, name, obj, **kw):
    torch.save(obj, os.path.join(d, name + ".pth"), **kw)
    write_safetensors(os.path.join(d, name + ".safetensors"), flatten(obj))


# Hand-written pickle opcodes (protocol 2), for files torch would never write.
def s(text):
    b = text.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def i(v):
    return b"J" + struct.pack("<i", v) if -2**31 <= v < 2**31 else b"\x8a\x08" + struct.pack("<q", v)


def glob(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def tensor(stype, key, numel, offset, shape, stride):
    return (glob("torch._utils", "_rebuild_tensor_v2") + b"((" + s("storage") + glob("torch", stype)
            + s(key) + s("cpu") + i(numel) + b"tQ" + i(offset)
            + b"(" + b"".join(i(x) for x in shape) + b"t"
            + b"(" + b"".join(i(x) for x in stride) + b"t"
            + b"\x89" + glob("collections", "OrderedDict") + b")R" + b"tR")


def archive(path, pkl, records=None, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compress) as z:
        z.writestr("archive/data.pkl", pkl)
        for name, data in (records or {}).items():
            z.writestr("archive/" + name, data)
        z.writestr("archive/version", b"3\n")


def evil_payloads(marker):
    return {
        "evil_system": b"\x80\x02" + glob("os", "system") + s("touch " + marker) + b"\x85R.",
        "evil_eval": b"\x80\x02" + glob("builtins", "eval")
        + s("open(%r, 'w').write('x')" % marker) + b"\x85R.",
    }


def make(d):
    seg, det = adapters(), adapters()
    mvfa = {"seg_adapters": seg.state_dict(), "det_adapters": det.state_dict()}
    save_case(d, "mvfa_f32", mvfa)
    save_case(d, "mvfa_f16", {"seg_adapters": seg.half().state_dict(),
                              "det_adapters": det.half().state_dict()})
    save_case(d, "flat_bf16", {k: v.bfloat16() for k, v in flatten(mvfa).items()})
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 7
    save_case(d, "shared", {"base": base, "rows": base[1:3], "flat": base.view(-1),
                            "row": base[2], "elem": base[3, 5], "scalar": torch.tensor(3.5),
                            "empty": torch.zeros(0, 3),
                            "meta": {"epoch": 3, "lr": 0.1, "name": "x", "none": None,
                                     "list": [1, 2], "inner": {"w": base[0]}, "by_int": {7: base[1]}}})
    # The same archive with ZIP64 local and directory records, as torch writes large files.
    with zipfile.ZipFile(os.path.join(d, "mvfa_f32.pth")) as src, \
            zipfile.ZipFile(os.path.join(d, "zip64.pth"), "w") as dst:
        for info in src.infolist():
            with dst.open(info.filename, "w", force_zip64=True) as f:
                f.write(src.read(info))
    write_safetensors(os.path.join(d, "zip64.safetensors"), flatten(mvfa))
    torch.save({"t": torch.arange(6.0).reshape(2, 3).t()}, os.path.join(d, "noncontig.pth"))
    torch.save({"d": torch.zeros(3, dtype=torch.float64)}, os.path.join(d, "double.pth"))
    torch.save(mvfa, os.path.join(d, "legacy.pth"), _use_new_zipfile_serialization=False)

    # Prove each payload is live: Python's own unpickler runs it.
    proof = os.path.join(d, "proof")
    for name, pkl in evil_payloads(proof).items():
        pickle.loads(pkl)
        assert os.path.exists(proof), name
        os.unlink(proof)
    for name, pkl in evil_payloads(os.path.join(d, "pwned")).items():
        archive(os.path.join(d, name + ".pth"), pkl)
    ok = tensor("FloatStorage", "0", 4, 0, [4], [1])
    archive(os.path.join(d, "evil_nested.pth"),
            b"\x80\x02}(" + s("ok") + ok + s("bad") + glob("subprocess", "check_call")
            + b"](" + s("touch") + s(os.path.join(d, "pwned")) + b"e\x85Ru.",
            {"data/0": bytes(16)})
    archive(os.path.join(d, "huge_numel.pth"),
            b"\x80\x02}(" + s("w") + tensor("FloatStorage", "0", 2**62, 0, [2**31, 2**31],
                                            [2**31, 1]) + b"u.", {"data/0": bytes(16)})
    archive(os.path.join(d, "huge_shape.pth"),
            b"\x80\x02}(" + s("w") + tensor("FloatStorage", "0", 4, 0, [2**20, 2**20],
                                            [2**20, 1]) + b"u.", {"data/0": bytes(16)})
    archive(os.path.join(d, "short_storage.pth"),
            b"\x80\x02}(" + s("w") + tensor("FloatStorage", "0", 2**30, 0, [2**30], [1]) + b"u.",
            {"data/0": bytes(16)})
    archive(os.path.join(d, "missing_data.pth"), b"\x80\x02}(" + s("w") + ok + b"u.")
    archive(os.path.join(d, "compressed.pth"), b"\x80\x02}(" + s("w") + ok + b"u.",
            {"data/0": bytes(16)}, zipfile.ZIP_DEFLATED)
    # Eight directory entries all pointing at one 4 KiB record (a zip-bomb shape).
    pkl = b"\x80\x02}(" + b"".join(s("w%d" % k) + tensor("FloatStorage", str(k), 1024, 0, [1024],
                                                          [1]) for k in range(8)) + b"u."
    path = os.path.join(d, "overlap.pth")
    archive(path, pkl, {"data/%d" % k: bytes(4096) for k in range(8)})
    with open(path, "r+b") as f, zipfile.ZipFile(path) as z:
        infos = {i.filename: i for i in z.infolist()}
        first = infos["archive/data/0"].header_offset
        data = bytearray(f.read())
        cd = data.index(b"PK\x01\x02")
        while cd >= 0:
            name_len = struct.unpack("<H", data[cd + 28:cd + 30])[0]
            name = data[cd + 46:cd + 46 + name_len].decode()
            if name.startswith("archive/data/"):
                data[cd + 42:cd + 46] = struct.pack("<I", first)
            cd = data.find(b"PK\x01\x02", cd + 4)
        f.seek(0)
        f.write(data)
    # A dict that contains itself, and a chain of dicts each holding the next twice
    # (2^30 paths): both must end with an error, not a hang.
    archive(os.path.join(d, "cycle.pth"), b"\x80\x02}q\x00(" + s("me") + b"h\x00u.")
    chain = b"}q\x00" + s("w") + ok + b"s"
    for n in range(1, 31):  # inline the first use of the previous dict, fetch the second
        chain = b"}q" + bytes([n]) + b"(" + s("a") + chain + s("b") + b"h" + bytes([n - 1]) + b"u"
    chain = b"\x80\x02" + chain
    archive(os.path.join(d, "fanout.pth"), chain + b".", {"data/0": bytes(16)})

def same(a, b, where):
    if type(a) is not type(b):
        sys.exit("%s: %s vs %s" % (where, type(a).__name__, type(b).__name__))
    if isinstance(a, dict):
        if list(a) != list(b):
            sys.exit("%s: keys %s vs %s" % (where, list(a), list(b)))
        for k in a:
            same(a[k], b[k], where + "." + k)
    elif isinstance(a, torch.Tensor):
        if a.dtype != b.dtype or a.shape != b.shape or raw(a) != raw(b):
            sys.exit("%s: tensors differ (%s %s vs %s %s)" % (where, a.dtype, tuple(a.shape),
                                                              b.dtype, tuple(b.shape)))
        if a.requires_grad or not a.is_contiguous():
            sys.exit("%s: requires_grad or not contiguous" % where)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "check":
        ours = torch.load(sys.argv[2])
        ref = torch.load(sys.argv[3])
        if len(sys.argv) > 4 and sys.argv[4] == "flat":
            ref = flatten(ref)
            ours = collections.OrderedDict(ours)
            ref = collections.OrderedDict(ref)
        same(ours, ref, "top")
        # Like torch.save, every record's data starts on a 64-byte boundary.
        with open(sys.argv[2], "rb") as f, zipfile.ZipFile(sys.argv[2]) as z:
            raw_file = f.read()
            for info in z.infolist():
                o = info.header_offset
                n, e = struct.unpack("<HH", raw_file[o + 26:o + 30])
                if (o + 30 + n + e) % 64:
                    sys.exit("%s: data not 64-byte aligned" % info.filename)
        print("identical")
