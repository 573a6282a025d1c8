#!/usr/bin/env python3
"""Write versioned golden vectors (.npz) from the float PyTorch model (`make golden`).

For the config, every requested image and task: the model input, every captured per-layer tensor and
the output go to <out>/<config>/<image>_task<T>_<weights>.npz with metadata (python_ref/model/golden.py).

Weights (--weights): `auto` (default) uses Edge-MoE's published files when the folder
($EDGE_MOE_WEIGHTS, else ../shared/edge_moe_weights) holds tensors of this config's shape, else
seeded weights; `seeded` forces seeded weights; a directory path forces that directory. The published
folder lacks the expert matrices: --stand-in-experts replaces them by seeded stand-ins (seed --seed),
recorded in the metadata; without it the run stops naming the missing files.
Images (--image, comma-separated): default the skimage photo `chelsea`, plus Edge-MoE's frame
`edge_moe` when published weights are used.
"""
import argparse
import sys
import time
from pathlib import Path

from python_ref.config import ConfigError, load_config
from python_ref.model.images import DEFAULT_IMAGE, EDGE_MOE_FRAME, ImageError, image_names, load_image
from python_ref.model.weights import (WeightsError, default_weights_dir, load_edge_moe_weights,
                                      matches_edge_moe_files, seeded_weights, weights_available)


def choose_weights(cfg, spec: str, seed: int, stand_in_experts: bool):
    """Returns (WeightSet, weights directory or None, note)."""
    if spec == "seeded":
        return seeded_weights(cfg, seed), None, "seeded weights (--weights seeded)"
    if spec == "auto":
        d = default_weights_dir()
        if not weights_available(d):
            return seeded_weights(cfg, seed), None, f"seeded weights (no Edge-MoE weights at {d})"
        if not matches_edge_moe_files(cfg, d):
            return (seeded_weights(cfg, seed), None,
                    f"seeded weights (the Edge-MoE weights at {d} do not have config {cfg.name!r}'s shape)")
    else:
        d = Path(spec)
    w = load_edge_moe_weights(cfg, d, stand_in_experts=stand_in_experts, seed=seed)
    return w, d, w.describe()


def add_weight_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--seed", type=int, default=0, help="seed of seeded weights / stand-in experts (default 0)")
    ap.add_argument("--weights", default="auto",
                    help="auto (default), seeded, or a directory of Edge-MoE float32 files")
    ap.add_argument("--stand-in-experts", action="store_true",
                    help="replace the missing (unpublished) expert matrices by seeded stand-ins")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/edge_moe.yaml", help="config file or name")
    add_weight_args(ap)
    ap.add_argument("--task", type=int, default=None, help="task index (default: every task)")
    ap.add_argument("--image", default=None, help=f"image name(s), comma-separated: {', '.join(image_names())}")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--out", default="golden", help="output root (default golden/)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: float32 results depend on the thread count, so golden "
                         "files are bit-reproducible only for a fixed count; recorded in the metadata)")
    args = ap.parse_args()

    import torch

    from python_ref.model.float_model import M3ViT, ModelInputError
    from python_ref.model.golden import GoldenError, generate

    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    try:
        cfg = load_config(args.config)
        weights, wdir, note = choose_weights(cfg, args.weights, args.seed, args.stand_in_experts)
        print(f"config {cfg.name} (digest {cfg.digest}); weights: {note}")
        if args.image:
            names = [n.strip() for n in args.image.split(",") if n.strip()]
        else:
            names = [DEFAULT_IMAGE] + ([EDGE_MOE_FRAME] if wdir is not None else [])
        images = [load_image(cfg, n, wdir) for n in names]
        tasks = range(cfg.model.tasks) if args.task is None else [args.task]
        if args.task is not None and not 0 <= args.task < cfg.model.tasks:
            raise ModelInputError(f"--task {args.task}: config {cfg.name!r} has tasks 0..{cfg.model.tasks - 1}")
        model = M3ViT.from_weights(cfg, weights, getattr(torch, args.dtype))
        digest = weights.digest()
        for image in images:
            for task in tasks:
                t0 = time.perf_counter()
                path = generate(model, weights, image, task, args.out, digest)
                print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.2f} s)")
    except (ConfigError, WeightsError, ImageError, ModelInputError, GoldenError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"golden generation: {time.perf_counter() - t_start:.2f} s in total (after imports)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
