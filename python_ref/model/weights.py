"""Weights of the float M3ViT model: the tensor list a config implies, deterministic seeded weights,
and the loader for Edge-MoE's published float32 files.

Every tensor is named as Edge-MoE publishes it (``l3_qkv_weight``, ``l1_w_gate_T_task0`` ...), so a
:class:`WeightSet` is exactly a directory of Edge-MoE files held in memory. The two expert matrices
per MoE layer that Edge-MoE did not publish are named ``l{L}_htoh4_weight`` (E, Hx, D) and
``l{L}_h4toh_weight`` (E, D, Hx), following Edge-MoE's bias names (htoh4 = hidden to 4*hidden).
Matrices follow nn.Linear: ``y = x @ W.T + b``.

File format (``README.md`` of the weights folder): one raw little-endian float32 file per tensor,
``<name>.float32.bin``, C order, no header; ``pos_embed`` row 0 already holds cls_token + pos[0].
"""
from __future__ import annotations

import hashlib
import math
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import REPO_ROOT, Config

WEIGHTS_ENV = "EDGE_MOE_WEIGHTS"
FILE_SUFFIX = ".float32.bin"


class WeightsError(ValueError):
    """A weight directory or tensor is missing, malformed or disagrees with the config."""


class MissingExpertWeights(WeightsError):
    """Only the (unpublished) expert matrices are missing; ``stand_in_experts=True`` replaces them."""

    def __init__(self, message: str, missing: list[str]):
        super().__init__(message)
        self.missing = missing


def default_weights_dir() -> Path:
    """``$EDGE_MOE_WEIGHTS`` if set, else the ``shared/edge_moe_weights`` folder next to the repo."""
    env = os.environ.get(WEIGHTS_ENV)
    return Path(env) if env else REPO_ROOT.parent / "shared" / "edge_moe_weights"


def weights_available(directory: Path | None = None) -> bool:
    d = Path(directory) if directory is not None else default_weights_dir()
    return (d / f"pos_embed{FILE_SUFFIX}").is_file()


def expert_matrix_names(cfg: Config) -> list[str]:
    m = cfg.model
    return [f"l{L}_{kind}" for L in range(m.layers) if m.is_moe_layer(L) for kind in ("htoh4_weight", "h4toh_weight")]


def tensor_shapes(cfg: Config) -> "OrderedDict[str, tuple]":
    """Every tensor of the model for ``cfg``, in a fixed order, with its shape."""
    m = cfg.model
    D, P = m.dim, m.patch_size
    s: OrderedDict[str, tuple] = OrderedDict()
    s["patch_embed_weight"] = (D, m.channels, P, P)
    s["patch_embed_bias"] = (D,)
    s["pos_embed"] = (m.tokens, D)
    for L in range(m.layers):
        p = f"l{L}_"
        s[p + "norm1_weight"] = (D,)
        s[p + "norm1_bias"] = (D,)
        s[p + "qkv_weight"] = (3 * D, D)
        s[p + "qkv_bias"] = (3 * D,)
        s[p + "attn_proj_weight"] = (D, D)
        s[p + "attn_proj_bias"] = (D,)
        s[p + "norm2_weight"] = (D,)
        s[p + "norm2_bias"] = (D,)
        if m.is_moe_layer(L):
            E, H = m.experts, m.expert_hidden
            for t in range(m.tasks):
                s[p + f"w_gate_T_task{t}"] = (E, D)
            s[p + "htoh4_weight"] = (E, H, D)
            s[p + "htoh4_bias"] = (E, H)
            s[p + "h4toh_weight"] = (E, D, H)
            s[p + "h4toh_bias"] = (E, D)
        else:
            s[p + "fc1_weight"] = (m.mlp_hidden, D)
            s[p + "fc1_bias"] = (m.mlp_hidden,)
            s[p + "fc2_weight"] = (D, m.mlp_hidden)
            s[p + "fc2_bias"] = (D,)
    return s


def tensor_kind(name: str) -> str:
    """``l3_qkv_weight`` -> ``qkv_weight``; ``l1_w_gate_T_task0`` -> ``w_gate_T``."""
    if name[0] == "l" and "_" in name and name[1:name.index("_")].isdigit():
        name = name[name.index("_") + 1:]
    if name.startswith("w_gate_T_task"):
        return "w_gate_T"
    return name


# Seeded weights: truncated normal (at +-4 std) with the per-kind mean and std of Edge-MoE's trained
# M3ViT-Tiny weights (median over layers, measured by `scripts/activation_ranges.py --weight-stats`,
# checked by tests/test_model_weights.py). ViT's init (trunc_normal std 0.02, LayerNorm 1/0) would give
# unrealistically small activations: trained LayerNorm gains are ~1.4-2, biases up to ~0.8 std.
# The expert matrices were not published: they take the dense MLP's fc1/fc2 statistics (same
# fan-in and role). The same (mean, std) is used for every config: the formats are per-value, so
# scale realism matters more than keeping tiny's activation variance equal to edge_moe's.
SEED_STATS = {  # kind: (mean, std)
    "patch_embed_weight": (0.0, 0.0525),
    "patch_embed_bias": (-0.0046, 0.7282),
    "pos_embed": (0.0, 0.7214),
    "norm1_weight": (1.4027, 0.2595),
    "norm1_bias": (-0.0072, 0.4468),
    "qkv_weight": (0.0, 0.0519),
    "qkv_bias": (-0.0304, 0.8230),
    "attn_proj_weight": (0.0, 0.0504),
    "attn_proj_bias": (-0.0028, 0.2951),
    "norm2_weight": (2.0094, 0.4800),
    "norm2_bias": (0.0142, 0.5732),
    "fc1_weight": (-0.0021, 0.0502),
    "fc1_bias": (-0.8132, 0.4522),
    "fc2_weight": (0.0, 0.0472),
    "fc2_bias": (0.0042, 0.3484),
    "w_gate_T": (-0.0022, 0.0531),
    "htoh4_weight": (-0.0021, 0.0502),  # = fc1_weight (not published)
    "htoh4_bias": (-1.2681, 0.5243),
    "h4toh_weight": (0.0, 0.0472),  # = fc2_weight (not published)
    "h4toh_bias": (0.0014, 0.3312),
}
SEED_TRUNCATE = 4.0  # standard deviations


def _tensor_seed(seed: int, name: str) -> int:
    # One generator per tensor, keyed by (seed, name): a tensor's values do not depend on which other
    # tensors exist, so a stand-in expert matrix equals the fully seeded one of the same seed.
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "little")


def seeded_tensor(name: str, shape: tuple, seed: int) -> np.ndarray:
    """Truncated normal by inverse CDF: u uniform on (-c, c) with c = erf(k / sqrt 2), then
    mean + std * sqrt(2) * erfinv(u) lies in mean +- k std (k = SEED_TRUNCATE). float64 throughout,
    rounded to float32 at the end."""
    import torch

    mean, std = SEED_STATS[tensor_kind(name)]
    g = torch.Generator(device="cpu").manual_seed(_tensor_seed(seed, name))
    c = math.erf(SEED_TRUNCATE / math.sqrt(2.0))
    t = torch.empty(shape, dtype=torch.float64).uniform_(-c, c, generator=g)
    t.erfinv_().mul_(std * math.sqrt(2.0)).add_(mean)
    return t.numpy().astype(np.float32)


@dataclass
class WeightSet:
    """float32 tensors by Edge-MoE name, plus where they came from."""

    tensors: "OrderedDict[str, np.ndarray]"
    source: str  # "seeded" or the directory they were read from
    seed: int | None = None  # seed of the seeded tensors (all of them, or the stand-ins)
    stand_ins: list[str] = field(default_factory=list)  # names replaced by seeded stand-ins

    @property
    def tag(self) -> str:
        """Short name for file names: seed0, published, published_standin0."""
        if self.source == "seeded":
            return f"seed{self.seed}"
        return f"published_standin{self.seed}" if self.stand_ins else "published"

    def describe(self) -> str:
        if self.source == "seeded":
            return f"seeded (seed {self.seed}, truncated normal with Edge-MoE's per-kind statistics)"
        text = f"Edge-MoE published float32 files from {self.source}"
        if self.stand_ins:
            text += f"; {len(self.stand_ins)} missing expert matrices replaced by seeded stand-ins (seed {self.seed})"
        return text

    def digest(self) -> str:
        h = hashlib.sha256()
        for name, a in self.tensors.items():
            h.update(name.encode())
            h.update(str(a.shape).encode())
            h.update(np.ascontiguousarray(a, dtype="<f4").tobytes())
        return h.hexdigest()[:16]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.tensors[name]


def seeded_weights(cfg: Config, seed: int = 0) -> WeightSet:
    """Deterministic weights for ``cfg`` (same seed, same values, on every machine: CPU generator)."""
    tensors = OrderedDict((n, seeded_tensor(n, s, seed)) for n, s in tensor_shapes(cfg).items())
    return WeightSet(tensors, "seeded", seed)


def _describe_size(shape: tuple) -> str:
    n = int(np.prod(shape))
    return f"{shape} = {n} float32 = {4 * n} bytes"


def load_edge_moe_weights(cfg: Config, directory=None, stand_in_experts: bool = False,
                          seed: int = 0) -> WeightSet:
    """Read Edge-MoE's published float32 files for ``cfg``.

    Every tensor of :func:`tensor_shapes` must be present with exactly the config's size (the files
    have no header, so the byte count is the check). The unpublished expert matrices are the only
    files that may be absent, and only when ``stand_in_experts`` is set: they are then replaced by
    the seeded tensors of ``seed`` and listed in ``WeightSet.stand_ins``.
    """
    d = Path(directory) if directory is not None else default_weights_dir()
    if not d.is_dir():
        raise WeightsError(f"Edge-MoE weights directory {d} not found; set {WEIGHTS_ENV} or pass --weights")
    shapes = tensor_shapes(cfg)
    experts = set(expert_matrix_names(cfg))
    problems, missing, missing_experts = [], [], []
    tensors: OrderedDict[str, np.ndarray] = OrderedDict()
    for name, shape in shapes.items():
        path = d / (name + FILE_SUFFIX)
        if not path.is_file():
            (missing_experts if name in experts else missing).append(path.name)
            continue
        size = path.stat().st_size
        if size != 4 * int(np.prod(shape)):
            problems.append(f"{path}: {size} bytes, but config {cfg.name!r} expects {name} of shape "
                            f"{_describe_size(shape)}")
            continue
        a = np.fromfile(path, dtype="<f4").reshape(shape).astype(np.float32)
        if not np.isfinite(a).all():
            problems.append(f"{path}: {int((~np.isfinite(a)).sum())} non-finite values (NaN or inf)")
            continue
        tensors[name] = a
    if missing:
        problems.insert(0, f"{d}: missing file(s) {', '.join(missing)}")
    if problems:
        more = f" (and {len(problems) - 8} more)" if len(problems) > 8 else ""
        raise WeightsError("cannot load Edge-MoE weights:\n  " + "\n  ".join(problems[:8]) + more)
    stand_ins = []
    if missing_experts:
        if not stand_in_experts:
            raise MissingExpertWeights(
                f"{d}: the expert weight matrices are missing ({len(missing_experts)} files: "
                f"{', '.join(missing_experts)}); Edge-MoE did not publish them. Pass --stand-in-experts "
                f"(`make golden STAND_IN_EXPERTS=1`, stand_in_experts=True in Python) to replace them by seeded stand-ins (recorded in the metadata).",
                missing_experts)
        for fname in missing_experts:
            name = fname[:-len(FILE_SUFFIX)]
            tensors[name] = seeded_tensor(name, shapes[name], seed)
            stand_ins.append(name)
    ordered = OrderedDict((n, tensors[n]) for n in shapes)
    return WeightSet(ordered, str(d.resolve()), seed if stand_ins else None, stand_ins)


def save_weights(weights: WeightSet, directory) -> None:
    """Write a WeightSet in Edge-MoE's file format (used by tests and to export seeded weights)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    for name, a in weights.tensors.items():
        np.ascontiguousarray(a, dtype="<f4").tofile(d / (name + FILE_SUFFIX))


def weight_stats(directory=None) -> "OrderedDict[str, tuple]":
    """Per-kind (median over layers of mean, median of std) of a weight directory (for SEED_STATS)."""
    d = Path(directory) if directory is not None else default_weights_dir()
    per_kind: dict[str, list] = {}
    for path in sorted(d.glob("*" + FILE_SUFFIX)):
        name = path.name[:-len(FILE_SUFFIX)]
        if name == "image":
            continue
        a = np.fromfile(path, dtype="<f4").astype(np.float64)
        per_kind.setdefault(tensor_kind(name), []).append((a.mean(), a.std()))
    return OrderedDict((k, (float(np.median([v[0] for v in vs])), float(np.median([v[1] for v in vs]))))
                       for k, vs in per_kind.items())


def matches_edge_moe_files(cfg: Config, directory=None) -> bool:
    """True if the directory holds weights of this config's shape (probed on three tensors whose sizes
    fix image, patch, dim and tokens). Used for the automatic weight choice; a directory that passes
    the probe but is otherwise broken then fails loudly in :func:`load_edge_moe_weights`."""
    d = Path(directory) if directory is not None else default_weights_dir()
    shapes = tensor_shapes(cfg)
    for name in ("patch_embed_weight", "pos_embed", "l0_qkv_weight"):
        p = d / (name + FILE_SUFFIX)
        if not p.is_file() or p.stat().st_size != 4 * int(np.prod(shapes[name])):
            return False
    return True
