#!/usr/bin/python3
"""The MVFA image forward (CLIP image tower + adapters) in PyTorch, timed the
way `vigil-cli bench` times Vigil's, so the two can be compared side by side.

  OPENBLAS_NUM_THREADS=2 tools/bench-torch.py --preset vit-l-14 --threads 2 --iters 5 \
      [--dtype bf16] [--vigil build/cli/vigil-cli]

With --vigil, runs `vigil-cli bench` with the same settings afterwards (its
own process, so peak RSS is its own) and prints both and their ratio.
Float32, torch.no_grad(), the model from tests/reference/clip_ref.py; with
--dtype bf16 under torch.autocast("cpu", dtype=torch.bfloat16) (oneDNN's BF16
matmuls, AMX or AVX512_BF16 where the CPU has them), and Vigil's bench with
--dtype bf16.
"""
import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import types

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "reference"))
import clip_ref  # noqa: E402

PRESETS = {"tiny": dict(width=64, layers=2, patch=14, pos_grid=24, embed=32, adapters=2,
                        adapter_dim=32),
           "vit-l-14": dict(width=1024, layers=24, patch=14, pos_grid=24, embed=768, adapters=4,
                            adapter_dim=768)}


def flops(cfg, image_size):
    """Same count as vigil-cli bench: 2 x multiply-adds of the forward."""
    g = image_size // cfg["patch"]
    t, w, m = g * g + 1, cfg["width"], 4 * cfg["width"]
    block = 2 * t * (3 * w * w + w * w + 2 * w * m) + 2 * 2 * t * t * w
    patches = 2.0 * g * g * w * 3 * cfg["patch"] ** 2
    adapters = cfg["adapters"] * 2 * 2 * (2 * t * w * cfg["adapter_dim"])
    return patches + cfg["layers"] * block + adapters + 2 * w * cfg["embed"]


def bench_torch(args):
    torch.set_num_threads(args.threads)
    cfg = PRESETS[args.preset]
    torch.manual_seed(1)
    visual = clip_ref.Vision(cfg["width"], cfg["layers"], cfg["patch"], cfg["pos_grid"],
                             cfg["embed"], torch.nn.GELU).eval()
    adapters = clip_ref.Adapters(cfg["width"], cfg["adapter_dim"], cfg["adapters"]).eval()
    model = types.SimpleNamespace(visual=visual)
    n = cfg["adapters"]
    features = [cfg["layers"] // n * (i + 1) for i in range(n)]
    image = torch.rand(1, 3, args.image_size, args.image_size)
    times = []
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if args.dtype == "bf16"
                else contextlib.nullcontext())
    with torch.no_grad(), autocast:
        for i in range(args.warmup + args.iters):
            t0 = time.perf_counter()
            clip_ref.encode_image(model, adapters, features, image)
            if i >= args.warmup:
                times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    engine = "pytorch " + torch.__version__ + (" bf16" if args.dtype == "bf16" else "")
    return {"engine": engine, "threads": args.threads, "weights": args.dtype,
            "iters": args.iters, "median_ms": med * 1e3, "min_ms": min(times) * 1e3,
            "max_ms": max(times) * 1e3, "gflops": flops(cfg, args.image_size) / med * 1e-9,
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb():
    """VmHWM of this process (as vigil-cli bench reports it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def line(r):
    return (f"{r['engine']:<22} median {r['median_ms']:8.1f} ms  min {r['min_ms']:8.1f} ms  "
            f"max {r['max_ms']:8.1f} ms  {r['gflops']:6.1f} GFLOP/s  "
            f"peak RSS {r['peak_rss_mb']:6.0f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="vit-l-14", choices=sorted(PRESETS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--image-size", type=int, default=240)
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16"],
                    help="bf16: PyTorch under BF16 autocast, Vigil with --dtype bf16")
    ap.add_argument("--vigil", help="path to vigil-cli: also run its bench and compare")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = [bench_torch(args)]
    if args.vigil:
        cmd = [args.vigil, "bench", "--preset", args.preset, "--backend", "cpu", "--threads",
               str(args.threads), "--iters", str(args.iters), "--warmup", str(args.warmup),
               "--dtype", args.dtype, "--json"]
        results.append(json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                                 text=True).stdout))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        print(line(r))
    if args.vigil:
        print(f"vigil / pytorch median: {results[1]['median_ms'] / results[0]['median_ms']:.2f}")


if __name__ == "__main__":
    main()
