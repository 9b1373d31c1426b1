"""End-to-end check of `vigil-cli features` and `detect` against PyTorch.

Loads the random model vigil-cli wrote (safetensors, OpenCLIP names), runs
MVFA's forward, prompt ensemble and scoring (clip_ref.py, score_ref.py) on the
model inputs vigil wrote, and compares every array within 1e-4 relative.
Usage: e2e_ref.py CLI MODEL_DIR FEATURES_DIR REF_DIR MAPS_DIR DETECT_JSON CLASS [VULKAN_DIR]
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import clip_ref  # noqa: E402
import score_ref  # noqa: E402

TOL = 1e-4
results = []


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info["dtype"]
        b, e = info["data_offsets"]
        out[name] = torch.from_numpy(
            np.frombuffer(raw[8 + n + b:8 + n + e], np.float32).reshape(info["shape"]).copy())
    return out


def build(model_dir):
    sd = read_safetensors(os.path.join(model_dir, "clip.safetensors"))
    ad = read_safetensors(os.path.join(model_dir, "adapters.safetensors"))
    width = sd["visual.conv1.weight"].shape[0]
    n_adapters = len([k for k in ad if k.startswith("seg_adapters.") and k.endswith("fc1.0.weight")])
    cfg = {
        "width": width,
        "layers": len({k.split(".")[3] for k in sd if k.startswith("visual.transformer.resblocks.")}),
        "patch": sd["visual.conv1.weight"].shape[-1],
        "pos_grid": int(round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)),
        "embed": sd["visual.proj"].shape[1],
        "text_width": sd["token_embedding.weight"].shape[1],
        "text_layers": len({k.split(".")[2] for k in sd if k.startswith("transformer.resblocks.")}),
        "vocab": sd["token_embedding.weight"].shape[0],
        "context": sd["positional_embedding"].shape[0],
    }
    model = clip_ref.CLIP(cfg, torch.nn.GELU)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not missing, missing
    adapters = clip_ref.Adapters(width, ad["seg_adapters.0.fc1.0.weight"].shape[0], n_adapters)
    adapters.load_state_dict(ad)
    layers = cfg["layers"]
    features = [layers * (i + 1) // n_adapters for i in range(n_adapters)]
    return model.eval(), adapters.eval(), features


def check(name, got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        results.append((False, name, f"shape {got.shape} != {want.shape}"))
        return
    err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-12)
    results.append((err < TOL, name, f"relative error {err:.2e}"))


def npy(*parts):
    return np.load(os.path.join(*parts))


def text_features(cli, model, class_name):
    out = subprocess.run([cli, "tokenize", "--json", "--mvfa-prompts", class_name],
                         capture_output=True, text=True, check=True)
    ids = torch.tensor([t["ids"] for t in json.loads(out.stdout)["texts"]])
    assert ids.shape[0] == 420, ids.shape
    cols = []
    for part in (ids[:245], ids[245:]):
        e = clip_ref.encode_text(model, part)
        e = e / e.norm(dim=-1, keepdim=True)
        m = e.mean(dim=0)
        cols.append(m / m.norm())
    return torch.stack(cols, dim=1)


def main():
    cli, model_dir, fdir, rdir, mdir, detect_json, class_name = sys.argv[1:8]
    vk_dir = sys.argv[8] if len(sys.argv) > 8 else None
    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "2")))
    model, adapters, feats = build(model_dir)
    with torch.no_grad():
        image = torch.from_numpy(npy(fdir, "input.npy"))[None]
        pooled, seg, det = clip_ref.encode_image(model, adapters, feats, image)
        check("features: pooled", npy(fdir, "pooled.npy"), pooled)
        for i in range(len(seg)):
            check(f"features: seg_tokens_{i}", npy(fdir, f"seg_tokens_{i}.npy"), seg[i])
            check(f"features: det_tokens_{i}", npy(fdir, f"det_tokens_{i}.npy"), det[i])
            if vk_dir:
                check(f"vulkan features: seg_tokens_{i}", npy(vk_dir, f"seg_tokens_{i}.npy"), seg[i])
        text = text_features(cli, model, class_name)
        check("features: text_features", npy(fdir, "text_features.npy"), text)
        side = image.shape[-1]
        layers, total = score_ref.zero_seg(seg, text, side)
        for i in range(len(seg)):
            check(f"detect: zero_seg_map_{i}", npy(mdir, f"zero_seg_map_{i}.npy"), layers[i])
        check("detect: zero_seg_map", npy(mdir, "zero_seg_map.npy"), total)
        _, zero_score = score_ref.zero_det(det, text)
        result = json.load(open(detect_json))["results"][0]
        check("detect: zero_det_score", [result["zero_det_score"]], zero_score)
        ref = torch.from_numpy(npy(rdir, "input.npy"))[None]
        _, rseg, rdet = clip_ref.encode_image(model, adapters, feats, ref)
        few_layers, few_total, _ = score_ref.few(seg, [s.contiguous() for s in rseg], side)
        for i in range(len(seg)):
            check(f"detect: few_seg_map_{i}", npy(mdir, f"few_seg_map_{i}.npy"), few_layers[i])
        check("detect: few_seg_map", npy(mdir, "few_seg_map.npy"), few_total)
        _, det_total, det_mean = score_ref.few(det, [d.contiguous() for d in rdet], side)
        check("detect: few_det_map", npy(mdir, "few_det_map.npy"), det_total)
        check("detect: few_det_score", [result["few_det_score"]], det_mean)
    print("TAP version 13")
    print(f"1..{len(results)}")
    for i, (ok, name, why) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name} # {why}")
    sys.exit(0 if all(ok for ok, _, _ in results) else 1)


if __name__ == "__main__":
    main()
