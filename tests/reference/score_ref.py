#!/usr/bin/python3
"""Reference vectors for Vigil's MVFA scoring (model/vg_score.c, vg_membank.c, vg_augment.c).

Follows the operations of MVFA's released test_few.py / utils.py (CVPR 2024,
MediaBrain-SJTU/MVFA-AD) in float32 PyTorch on random inputs, and writes
inputs and outputs as float32 .npy files into OUTDIR:

  dims.npy               [layers, channels, grid, side, refs]
  text.npy               C x 2, columns normal / abnormal, L2-normalised
  query_seg.npy, query_det.npy        L x T x C   (T = 1 + grid^2, CLS first)
  ref_seg.npy, ref_det.npy            R x L x T x C
  zero_seg_layers.npy L x S x S, zero_seg.npy S x S
  zero_det_layers.npy L, zero_det.npy 1
  few_{seg,det}_layers.npy L x S x S, few_{seg,det}.npy S x S, few_{seg,det}_mean.npy 1
  drop0_few_{seg,det}.npy S x S     the bank without reference 0
  aug_in.npy 3 x H x W, aug_out.npy 11 x 3 x H x W   (MVFA's augment)

Usage: OPENBLAS_NUM_THREADS=2 /usr/bin/python3 score_ref.py OUTDIR --channels 32 --grid 5
           --side 24 --refs 2 --aug-h 40 --aug-w 48
"""
import argparse
import warnings
import os

import numpy as np
import torch
import torch.nn.functional as F


def cos_sim(a, b, eps=1e-8):
    """MVFA's utils.cos_sim."""
    a_n, b_n = a.norm(dim=1)[:, None], b.norm(dim=1)[:, None]
    a_norm = a / torch.clamp(a_n, min=eps)
    b_norm = b / torch.clamp(b_n, min=eps)
    return torch.mm(a_norm, b_norm.transpose(0, 1))


def zero_seg(tokens, text, side):
    """MVFA's zero-shot seg head: tokens is a list over layers of T x C."""
    maps = []
    for t in tokens:
        p = t[1:, :].clone()
        p /= p.norm(dim=-1, keepdim=True)
        m = (100.0 * p @ text).unsqueeze(0)
        B, L, C = m.shape
        H = int(np.sqrt(L))
        m = F.interpolate(m.permute(0, 2, 1).view(B, 2, H, H), size=side, mode='bilinear',
                          align_corners=True)
        maps.append(torch.softmax(m, dim=1)[:, 1, :, :].numpy())
    return np.concatenate(maps, 0), np.sum(maps, axis=0)[0]


def zero_det(tokens, text):
    """MVFA's zero-shot det head."""
    scores, total = [], 0
    for t in tokens:
        p = t[1:, :].clone()
        p /= p.norm(dim=-1, keepdim=True)
        m = torch.softmax((100.0 * p @ text).unsqueeze(0), dim=-1)[:, :, 1]
        scores.append(m.mean().item())
        total += m.mean()
    return np.array(scores, np.float32), np.array([total.item()], np.float32)


def few(tokens, mem, side):
    """MVFA's few-shot head: mem is a list over layers of (R*T) x C bank rows."""
    maps = []
    for idx, t in enumerate(tokens):
        cos = cos_sim(mem[idx], t[1:, :])
        h = int(np.sqrt(cos.shape[1]))
        m = torch.min((1 - cos), 0)[0].reshape(1, 1, h, h)
        m = F.interpolate(m, size=side, mode='bilinear', align_corners=True)
        maps.append(m[0].numpy())
    total = np.sum(maps, axis=0)
    return np.concatenate(maps, 0), total[0], np.array([total.mean()], np.float32)


def augment(img):
    """MVFA's utils.augment for normal images (no mask); kornia's flips are torch.flip."""
    x = img[None]
    out = [x]
    for angle in [-np.pi / 8, -np.pi / 16, np.pi / 16, np.pi / 8]:
        th = torch.tensor(angle)
        rot = torch.tensor([[torch.cos(th), -torch.sin(th), 0], [torch.sin(th), torch.cos(th), 0]])
        grid = F.affine_grid(rot[None].float(), x.size())
        out.append(F.grid_sample(x, grid, padding_mode="reflection"))
    for a, b in [(0.1, 0.1), (-0.1, 0.1), (-0.1, -0.1), (0.1, -0.1)]:
        tr = torch.tensor([[1, 0, a], [0, 1, b]])
        grid = F.affine_grid(tr[None].float(), x.size())
        out.append(F.grid_sample(x, grid, padding_mode="reflection"))
    out.append(x.flip(-1))
    out.append(x.flip(-2))
    return torch.cat(out, 0)


def make_inputs(gen, layers, C, T, R):
    """Tokens share per-layer structure so distances and probabilities spread out."""
    base = torch.randn(layers, T, C, generator=gen)
    def image():
        return base + 0.8 * torch.randn(layers, T, C, generator=gen)
    refs_seg = torch.stack([image() for _ in range(R)])
    refs_det = torch.stack([image() for _ in range(R)])
    q_seg, q_det = image(), image()
    # Some query patches equal a bank row exactly: distance 0 there.
    q_seg[:, 3] = refs_seg[0, :, 5]
    q_det[:, 2] = refs_det[R - 1, :, 0]
    text = base[0, :2].T.clone() + 0.5 * torch.randn(C, 2, generator=gen)
    text /= text.norm(dim=0, keepdim=True)
    return text, q_seg, q_det, refs_seg, refs_det


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('outdir')
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--channels', type=int, default=32)
    ap.add_argument('--grid', type=int, default=5)
    ap.add_argument('--side', type=int, default=24)
    ap.add_argument('--refs', type=int, default=2)
    ap.add_argument('--aug-h', type=int, default=40)
    ap.add_argument('--aug-w', type=int, default=48)
    ap.add_argument('--seed', type=int, default=2024)
    a = ap.parse_args()
    warnings.filterwarnings("ignore")  # as MVFA does; affine_grid warns about its default
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(a.seed)
    L, C, G, S, R = a.layers, a.channels, a.grid, a.side, a.refs
    T = 1 + G * G
    text, q_seg, q_det, refs_seg, refs_det = make_inputs(gen, L, C, T, R)

    os.makedirs(a.outdir, exist_ok=True)
    def save(name, arr):
        arr = arr.numpy() if torch.is_tensor(arr) else arr
        np.save(os.path.join(a.outdir, name + '.npy'), np.ascontiguousarray(arr, '<f4'))

    save('dims', np.array([L, C, G, S, R], np.float32))
    save('text', text)
    save('query_seg', q_seg)
    save('query_det', q_det)
    save('ref_seg', refs_seg)
    save('ref_det', refs_det)

    layers, total = zero_seg(list(q_seg), text, S)
    save('zero_seg_layers', layers)
    save('zero_seg', total)
    layer_scores, score = zero_det(list(q_det), text)
    save('zero_det_layers', layer_scores)
    save('zero_det', score)

    for head, q, refs in (('seg', q_seg, refs_seg), ('det', q_det, refs_det)):
        # MVFA's bank: per layer, all T rows of every reference, concatenated.
        mem = [torch.cat([refs[r, l] for r in range(R)], 0) for l in range(L)]
        layers, total, mean = few(list(q), mem, S)
        save(f'few_{head}_layers', layers)
        save(f'few_{head}', total)
        save(f'few_{head}_mean', mean)
        mem = [torch.cat([refs[r, l] for r in range(1, R)], 0) for l in range(L)]
        save(f'drop0_few_{head}', few(list(q), mem, S)[1])

    img = torch.rand(3, a.aug_h, a.aug_w, generator=gen)
    save('aug_in', img)
    save('aug_out', augment(img))


if __name__ == '__main__':
    main()
