"""The whole backbone as one unit (hls/src/backbone.cpp: backbone_top): its numerical definition is
the fixed-point network model, :class:`python_ref.model.fixed_model.FixedM3ViT`, itself composed of
the kernels' definitions. This module only states what the top returns: the frame's output after
``layers`` blocks (all of them by default; ``layers = 0`` is the patch embedding ``embed``), raw act
integers (tokens, dim), for one image and one task. See docs/backbone.md."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..config import Config


class BackboneError(ValueError):
    """Bad input to the backbone (the message names the problem)."""


def first_blocks(fw, cfg: Config, layers: int | None = None):
    """The FixedWeights of the frame's first ``layers`` blocks (all by default; 0 = the patch embedding
    only): the model runs the blocks it is given, so they are the prefix of the frame.
    BackboneError for a count outside 0..cfg.model.layers."""
    n = cfg.model.layers
    if layers is None:
        layers = n
    if isinstance(layers, bool) or not isinstance(layers, (int, np.integer)) or not 0 <= layers <= n:
        raise BackboneError(f"layers {layers!r}: config {cfg.name!r} has blocks 0..{n} (0 = the patch embedding)")
    return dataclasses.replace(fw, layers=fw.layers[:int(layers)])


def backbone_raw(pixels_raw, weights, task: int, cfg: Config, layers: int | None = None) -> np.ndarray:
    """FixedM3ViT's output after the first ``layers`` blocks. ``weights``: a WeightSet or the
    FixedWeights of :func:`python_ref.model.fixed_model.quantize_weights` for ``cfg``."""
    from ..model.fixed_model import FixedM3ViT, FixedWeights, quantize_weights

    fw = weights if isinstance(weights, FixedWeights) else quantize_weights(cfg, weights)
    return FixedM3ViT(cfg, first_blocks(fw, cfg, layers))(pixels_raw, task).out
