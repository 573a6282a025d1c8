"""Real data for tests, error tables and accuracy reports: the float model run in float64 on
Edge-MoE's published weights and frame (or a packaged photograph), every intermediate tensor
captured by name (see :mod:`python_ref.model.float_model` for the names and shapes).

The published folder lacks the expert matrices, so they are seeded stand-ins
(``WeightSet.stand_ins``): every tensor up to and including the first MoE layer's gate decisions
(``layer1.topk_idx``) is real; from ``layer1.expert_fc1`` on, values depend on stand-ins.
:func:`depends_on_stand_ins` says which names are affected, so reports can flag them.

Everything here needs the published folder (``$EDGE_MOE_WEIGHTS`` or ``../shared/edge_moe_weights``);
:func:`missing_reason` gives the one-line reason to skip a test when it is absent, and no caller
should decide availability in another way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..config import Config, load_config
from .weights import default_weights_dir, matches_edge_moe_files, weights_available

PUBLISHED_CONFIG = "edge_moe"  # the shape of the published weights


def missing_reason(cfg: Config | None = None) -> str | None:
    """None if the published weights can be used (for ``cfg``, default edge_moe.yaml's shape), else
    why not, in one line (a pytest skip reason)."""
    d = default_weights_dir()
    if not weights_available(d):
        return (f"published Edge-MoE weights not found in {d} (set EDGE_MOE_WEIGHTS; see README "
                f"'Weights and images')")
    cfg = cfg if cfg is not None else load_config(PUBLISHED_CONFIG)
    if not matches_edge_moe_files(cfg, d):
        return f"the published weights in {d} do not have config {cfg.name!r}'s shapes"
    return None


def depends_on_stand_ins(name: str, cfg: Config) -> bool:
    """Whether a captured tensor depends on the stand-in expert matrices: everything after the first
    MoE layer's routing decision."""
    first = next((L for L in range(cfg.model.layers) if cfg.model.is_moe_layer(L)), None)
    if first is None or name in ("input", "patch_embed", "embed"):
        return False
    m = re.fullmatch(r"layer(\d+)\.(\w+)", name)
    if not m:
        raise KeyError(f"not a capture name: {name!r}")
    layer, kind = int(m.group(1)), m.group(2)
    if layer != first:
        return layer > first
    return kind in ("expert_fc1", "expert_gelu", "expert_fc2", "moe", "out")


@dataclass(frozen=True)
class RealRun:
    """One float64 forward pass on published weights."""

    cfg: Config
    image: str
    task: int
    pixels: np.ndarray  # (C, H, W) float64, exact pixel-format values
    pixels_raw: np.ndarray  # raw pixel-format integers
    tensors: dict  # capture name -> float64 numpy array
    stand_ins: tuple  # names of the stand-in weight tensors
    weights_source: str


@lru_cache(maxsize=2)
def published_weights(stand_in_seed: int = 0):
    """The published WeightSet (edge_moe.yaml shape) with seeded stand-in expert matrices. Raises
    FileNotFoundError with :func:`missing_reason` when the weights are absent."""
    from .weights import load_edge_moe_weights

    cfg = load_config(PUBLISHED_CONFIG)
    reason = missing_reason(cfg)
    if reason:
        raise FileNotFoundError(reason)
    return load_edge_moe_weights(cfg, stand_in_experts=True, seed=stand_in_seed)


@lru_cache(maxsize=8)
def published_run(image: str = "edge_moe", task: int = 0, stand_in_seed: int = 0) -> RealRun:
    """The float model (float64) on the published weights (seeded stand-in experts) and ``image``
    (the Edge-MoE frame by default, or a packaged photograph), every tensor captured. Raises
    FileNotFoundError with :func:`missing_reason` when the weights are absent."""
    import torch

    from .float_model import M3ViT
    from .images import load_image

    cfg = load_config(PUBLISHED_CONFIG)
    weights = published_weights(stand_in_seed)
    model = M3ViT.from_weights(cfg, weights, dtype=torch.float64)
    im = load_image(cfg, image)
    _, caps = model(torch.as_tensor(im.pixels), task, capture=True)
    tensors = {k: v.numpy() for k, v in caps.items()}
    return RealRun(cfg, image, task, im.pixels, im.raw, tensors, tuple(weights.stand_ins), weights.source)
