#!/usr/bin/python3
"""PyTorch reference for Vigil's CLIP + MVFA engine (model/vg_clip*.c).

Builds random CLIP models the way OpenCLIP lays them out (VisionTransformer,
TextTransformer, nn.MultiheadAttention blocks, exact GELU), wires MVFA's
adapters as MediaBrain-SJTU/MVFA-AD CLIP/adapter.py does, resizes the position
grid as its CLIP/model.py resize_pos_embed does (antialiased bicubic), and
writes weights, inputs and outputs as safetensors for tests/test-clip.c.

  clip_ref.py small OUTDIR   the committed vectors (tests/reference/vectors)
  clip_ref.py full OUTDIR    a random full-size ViT-L/14-336 at 240 px (slow)

Run with /usr/bin/python3 (torch 1.13) and OPENBLAS_NUM_THREADS set.
"""
import json
import math
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def write_safetensors(path, tensors, metadata=None):
    """Minimal safetensors writer: F32 / F16 numpy arrays, row major."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dtype = {np.dtype("float32"): "F32", np.dtype("float16"): "F16",
                 np.dtype("uint16"): "BF16"}[arr.dtype]
        data = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def to_bf16(arr):
    """float32 -> bfloat16 bits (uint16), rounding to nearest even."""
    bits = np.ascontiguousarray(arr, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def round_to(t, storage):
    """The float32 values a tensor has once stored as `storage`."""
    if storage == "F16":
        return t.half().float()
    if storage == "BF16":
        bits = to_bf16(t.numpy()).astype(np.uint32) << 16
        return torch.from_numpy(bits.view(np.float32).copy())
    return t


def cast(d, storage):
    if storage == "F16":
        return {k: v.astype(np.float16) for k, v in d.items()}
    if storage == "BF16":
        return {k: to_bf16(v) for k, v in d.items()}
    return d


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    """OpenCLIP's ResidualAttentionBlock: pre-norm attention and MLP."""

    def __init__(self, width, heads, act):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=1e-5)
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width, eps=1e-5)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, 4 * width)),
            ("gelu", act()),
            ("c_proj", nn.Linear(4 * width, width))]))

    def forward(self, x, mask=None):  # x: LND
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, act):
        super().__init__()
        self.resblocks = nn.ModuleList([Block(width, heads, act) for _ in range(layers)])


class Vision(nn.Module):
    def __init__(self, width, layers, patch, pos_grid, embed, act):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(width) * width ** -0.5)
        self.positional_embedding = nn.Parameter(torch.randn(pos_grid ** 2 + 1, width) * width ** -0.5)
        self.ln_pre = nn.LayerNorm(width, eps=1e-5)
        self.transformer = Transformer(width, layers, width // 64, act)
        self.ln_post = nn.LayerNorm(width, eps=1e-5)
        self.proj = nn.Parameter(torch.randn(width, embed) * width ** -0.5)


class ClipAdapter(nn.Module):
    """MVFA's ClipAdapter: returns (fc1 output, fc2 output)."""

    def __init__(self, c_in, bottleneck):
        super().__init__()
        self.fc1 = nn.Sequential(nn.Linear(c_in, bottleneck, bias=False), nn.LeakyReLU())
        self.fc2 = nn.Sequential(nn.Linear(bottleneck, c_in, bias=False), nn.LeakyReLU())

    def forward(self, x):
        mid = self.fc1(x)
        return mid, self.fc2(mid)


class Adapters(nn.Module):
    def __init__(self, width, dim, n):
        super().__init__()
        self.seg_adapters = nn.ModuleList([ClipAdapter(width, dim) for _ in range(n)])
        self.det_adapters = nn.ModuleList([ClipAdapter(width, dim) for _ in range(n)])


class CLIP(nn.Module):
    def __init__(self, cfg, act):
        super().__init__()
        self.visual = Vision(cfg["width"], cfg["layers"], cfg["patch"], cfg["pos_grid"],
                             cfg["embed"], act)
        tw = cfg["text_width"]
        self.token_embedding = nn.Embedding(cfg["vocab"], tw)
        self.positional_embedding = nn.Parameter(torch.randn(cfg["context"], tw) * 0.01)
        self.transformer = Transformer(tw, cfg["text_layers"], tw // 64, act)
        self.ln_final = nn.LayerNorm(tw, eps=1e-5)
        self.text_projection = nn.Parameter(torch.randn(tw, cfg["embed"]) * tw ** -0.5)


def randomize(module, gen):
    """Gives every parameter a non-trivial random value (LayerNorms included)."""
    for name, p in module.named_parameters():
        if name.endswith("weight") and "ln_" in name:
            p.data = 1.0 + 0.1 * torch.randn(p.shape, generator=gen)
        elif name.endswith("bias"):
            p.data = 0.05 * torch.randn(p.shape, generator=gen)
        elif p.ndim >= 2 and name.endswith("weight"):
            fan_in = p[0].numel()
            p.data = torch.randn(p.shape, generator=gen) / math.sqrt(fan_in)
        else:
            p.data = torch.randn(p.shape, generator=gen) * p.shape[-1] ** -0.5


def resize_pos_embed(pos, grid):
    """MVFA's resize_pos_embed: CLS kept, grid by antialiased bicubic."""
    old = int(math.sqrt(pos.shape[0] - 1))
    if old == grid:
        return pos
    img = pos[1:].reshape(1, old, old, -1).permute(0, 3, 1, 2)
    img = F.interpolate(img, size=(grid, grid), mode="bicubic", antialias=True,
                        align_corners=False)
    return torch.cat([pos[:1], img.permute(0, 2, 3, 1).reshape(grid * grid, -1)], dim=0)


def encode_image(model, adapters, features, image):
    """MVFA's CLIP_Inplanted.forward (batch of one, input already in [0, 1])."""
    v = model.visual
    grid = image.shape[-1] // v.conv1.kernel_size[0]
    x = v.conv1(image)
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
    x = torch.cat([v.class_embedding + torch.zeros(x.shape[0], 1, x.shape[-1]), x], dim=1)
    x = x + resize_pos_embed(v.positional_embedding, grid)
    x = v.ln_pre(x).permute(1, 0, 2)  # NLD -> LND
    seg, det = [], []
    for i, block in enumerate(v.transformer.resblocks):
        x = block(x)
        if (i + 1) in features:
            k = features.index(i + 1)
            seg_mid, seg_out = adapters.seg_adapters[k](x)
            det_mid, det_out = adapters.det_adapters[k](x)
            x = 0.8 * x + 0.1 * seg_out + 0.1 * det_out
            seg.append(seg_mid.permute(1, 0, 2))
            det.append(det_mid.permute(1, 0, 2))
    x = x.permute(1, 0, 2)
    pooled = v.ln_post(x[:, 0]) @ v.proj
    return pooled[0], [s[0] for s in seg], [d[0] for d in det]


def encode_text(model, ids):
    """OpenCLIP's encode_text with the causal mask."""
    n = ids.shape[1]
    mask = torch.full((n, n), float("-inf")).triu_(1)
    x = model.token_embedding(ids) + model.positional_embedding
    x = x.permute(1, 0, 2)
    for block in model.transformer.resblocks:
        x = block(x, mask)
    x = model.ln_final(x.permute(1, 0, 2))
    return x[torch.arange(x.shape[0]), ids.argmax(dim=-1)] @ model.text_projection


def hf_names(sd):
    """Renames an OpenCLIP state dict to Hugging Face transformers' CLIPModel keys."""
    out = {}
    towers = [("visual.transformer.resblocks.", "vision_model.encoder.layers."),
              ("transformer.resblocks.", "text_model.encoder.layers.")]
    inner = {"ln_1.": "layer_norm1.", "ln_2.": "layer_norm2.", "attn.out_proj.": "self_attn.out_proj.",
             "mlp.c_fc.": "mlp.fc1.", "mlp.c_proj.": "mlp.fc2."}
    top = {"visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
           "visual.class_embedding": "vision_model.embeddings.class_embedding",
           "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
           "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
           "positional_embedding": "text_model.embeddings.position_embedding.weight"}
    for k, v in sd.items():
        if k in top:
            out[top[k]] = v
        elif k == "visual.proj":
            out["visual_projection.weight"] = v.T.copy()
        elif k == "text_projection":
            out["text_projection.weight"] = v.T.copy()
        elif k.startswith("visual.ln_pre."):
            out["vision_model.pre_layrnorm." + k.split(".")[-1]] = v
        elif k.startswith("visual.ln_post."):
            out["vision_model.post_layernorm." + k.split(".")[-1]] = v
        elif k.startswith("ln_final."):
            out["text_model.final_layer_norm." + k.split(".")[-1]] = v
        else:
            for old, new in towers:
                if k.startswith(old):
                    idx, rest = k[len(old):].split(".", 1)
                    prefix = f"{new}{idx}."
                    if rest.startswith("attn.in_proj_"):
                        kind = rest.split("_")[-1]
                        for j, q in enumerate("qkv"):
                            part = v[j * (v.shape[0] // 3):(j + 1) * (v.shape[0] // 3)]
                            out[f"{prefix}self_attn.{q}_proj.{kind}"] = part.copy()
                    else:
                        for a, b in inner.items():
                            if rest.startswith(a):
                                rest = b + rest[len(a):]
                        out[prefix + rest] = v
                    break
            else:
                raise KeyError(k)
    return out


def text_ids(vocab, context, gen):
    """A few rows: start, random tokens, end (the largest id), zero padding."""
    rows = []
    for length in (2, 5, 11, context):
        body = torch.randint(1, vocab - 2, (length - 2,), generator=gen).tolist()
        row = [vocab - 2] + body + [vocab - 1]
        rows.append(row + [0] * (context - len(row)))
    return torch.tensor(rows, dtype=torch.long)


def make_case(outdir, name, cfg, seed, storage="F32", round_to_f16=False, also_hf=False,
              also_quick=False, native_size=False):
    """Writes NAME.clip / NAME.adapters (in `storage`) and NAME.expected. With
    also_hf, NAME-hf.clip holds the same values under Hugging Face names as F16
    (so the values are F16-rounded throughout). With native_size, NAME-native
    runs at the checkpoint's own grid (no position resize)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model, adapters = CLIP(cfg, nn.GELU).eval(), Adapters(cfg["width"], cfg["adapter_dim"],
                                                          cfg["adapters"]).eval()
    randomize(model, gen)
    randomize(adapters, gen)
    # The reference runs on exactly the values stored.
    for p in list(model.parameters()) + list(adapters.parameters()):
        p.data = round_to(p.data, "F16" if round_to_f16 else storage)
    sd = {k: v.numpy() for k, v in model.state_dict().items()}
    asd = {k: v.numpy() for k, v in adapters.state_dict().items()}
    write_safetensors(f"{outdir}/{name}.clip.safetensors", cast(sd, storage),
                      {"vigil.random": "true"})
    write_safetensors(f"{outdir}/{name}.adapters.safetensors", cast(asd, storage))
    if also_hf:
        write_safetensors(f"{outdir}/{name}-hf.clip.safetensors", cast(hf_names(sd), "F16"))

    n, layers = cfg["adapters"], cfg["layers"]
    features = [layers // n * (i + 1) for i in range(n)]
    image = torch.rand(1, 3, cfg["image_size"], cfg["image_size"], generator=gen).half().float()
    ids = text_ids(cfg["vocab"], cfg["context"], gen)
    acts = [("gelu", nn.GELU)] + ([("quick_gelu", QuickGELU)] if also_quick else [])
    for act_name, act in acts:
        for mod in model.modules():
            if isinstance(mod, Block):
                mod.mlp.gelu = act()
        with torch.no_grad():
            pooled, seg, det = encode_image(model, adapters, features, image)
            text = encode_text(model, ids)
        out = {"input": image[0].numpy().astype(np.float16), "pooled": pooled.numpy(),
               "text.ids": ids.float().numpy(), "text.features": text.numpy()}
        for i in range(n):
            out[f"seg.{i}"], out[f"det.{i}"] = seg[i].numpy(), det[i].numpy()
        meta = {"image_size": cfg["image_size"], "act": act_name, "clip": f"{name}.clip.safetensors",
                "adapters": f"{name}.adapters.safetensors", "adapter_layers": features}
        suffix = "" if act_name == "gelu" else "-" + act_name
        write_safetensors(f"{outdir}/{name}{suffix}.expected.safetensors", out, meta)
        if also_hf and act_name == "gelu":
            meta["clip"] = f"{name}-hf.clip.safetensors"
            write_safetensors(f"{outdir}/{name}-hf.expected.safetensors", out, meta)
    if native_size:
        size = cfg["pos_grid"] * cfg["patch"]
        image = torch.rand(1, 3, size, size, generator=gen).half().float()
        with torch.no_grad():
            pooled, seg, det = encode_image(model, adapters, features, image)
        out = {"input": image[0].numpy().astype(np.float16), "pooled": pooled.numpy(),
               "text.ids": ids.float().numpy(), "text.features": text.numpy()}
        for i in range(n):
            out[f"seg.{i}"], out[f"det.{i}"] = seg[i].numpy(), det[i].numpy()
        meta = {"image_size": size, "act": "quick_gelu" if also_quick else "gelu",
                "clip": f"{name}.clip.safetensors", "adapters": f"{name}.adapters.safetensors",
                "adapter_layers": features}
        write_safetensors(f"{outdir}/{name}-native.expected.safetensors", out, meta)


def make_resize(outdir):
    """Standalone antialiased-bicubic cases, HWC layout like the position grid."""
    gen = torch.Generator().manual_seed(7)
    out = {}
    for i, (a, b) in enumerate([(24, 17), (6, 4), (5, 9), (16, 16)]):
        x = torch.randn(1, 3, a, a, generator=gen)
        y = F.interpolate(x, size=(b, b), mode="bicubic", antialias=True, align_corners=False)
        out[f"in.{i}"] = x[0].permute(1, 2, 0).numpy().copy()
        out[f"out.{i}"] = y[0].permute(1, 2, 0).numpy().copy()
    write_safetensors(f"{outdir}/resize.safetensors", out)


SMALL = {
    # width 64, 2 blocks, 2 adapters; 56 px input, position grid 6 -> 4.
    "tiny": dict(width=64, layers=2, patch=14, pos_grid=6, image_size=56, embed=32, adapters=2,
                 adapter_dim=32, text_width=64, text_layers=2, vocab=300, context=77),
    # width 128, 4 blocks, 4 adapters; MVFA's 240 px with a 24 -> 17 grid; BF16 storage.
    "small": dict(width=128, layers=4, patch=14, pos_grid=24, image_size=240, embed=64,
                  adapters=4, adapter_dim=64, text_width=64, text_layers=2, vocab=500, context=77),
}

FULL = dict(width=1024, layers=24, patch=14, pos_grid=24, image_size=240, embed=768, adapters=4,
            adapter_dim=768, text_width=768, text_layers=12, vocab=49408, context=77)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("small", "full"):
        sys.exit(__doc__)
    torch.set_num_threads(2)
    outdir = sys.argv[2]
    if sys.argv[1] == "small":
        make_case(outdir, "tiny", SMALL["tiny"], 1, round_to_f16=True, also_hf=True,
                  also_quick=True, native_size=True)
        make_case(outdir, "small", SMALL["small"], 2, storage="BF16")
        make_resize(outdir)
    else:
        make_case(outdir, "vit-l-14", FULL, 3, storage="F16")


if __name__ == "__main__":
    main()
