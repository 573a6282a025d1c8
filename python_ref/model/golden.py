"""Versioned golden vectors: the float model's input, every captured intermediate tensor and the
output for one (config, weights, image, task), in one ``.npz`` file with metadata.

Layout of a file (format version :data:`FORMAT_VERSION`):

* ``meta``: a 0-d unicode array holding JSON: format_version, config (name), config_digest
  (``Config.digest``), seed, task, image, image_source, weights_source, weights_digest
  (:meth:`WeightSet.digest`), stand_in_experts (list of tensor names replaced by seeded stand-ins),
  dtype, torch_version, torch_threads (float32 results are bit-reproducible only for the same torch
  build, CPU kernels and thread count), numpy_version, created (UTC, ISO 8601), tensors (name -> shape);
* ``input`` (C, H, W) pixels, ``output`` (T, D) the last block's output;
* ``t/<name>`` for every captured tensor (names and shapes: ``float_model.capture_shapes``).

Values are stored in the model's dtype (float32 by default); ``topk_idx`` as int64.
:func:`read_golden` refuses a file whose version, config digest, shapes or requested fields
(seed, task, image, weights) do not match, naming the file and the field.

Default path: ``<out>/<config>/<image>_task<T>_<weights tag>.npz`` (tag ``seed0``, ``published`` or
``published_standin0``).
"""
from __future__ import annotations

import json
import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..config import Config
from .float_model import capture_shapes

FORMAT_VERSION = 1
META_FIELDS = ("format_version", "config", "config_digest", "seed", "task", "image", "image_source",
               "weights_source", "weights_digest", "stand_in_experts", "dtype", "torch_version",
               "torch_threads", "numpy_version", "created", "tensors")


class GoldenError(ValueError):
    """A golden file is missing, unreadable or does not match what the reader expects."""


@dataclass
class Golden:
    path: Path
    meta: dict
    input: np.ndarray
    output: np.ndarray
    tensors: "OrderedDict[str, np.ndarray]"

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.tensors[name]
        except KeyError:
            raise GoldenError(f"{self.path}: no tensor named {name!r}") from None


def golden_path(out_dir, cfg: Config, image: str, task: int, weights_tag: str) -> Path:
    return Path(out_dir) / cfg.name / f"{image}_task{task}_{weights_tag}.npz"


def write_golden(path, cfg: Config, *, inputs: np.ndarray, output, tensors: dict, seed, task: int,
                 image: str, image_source: str, weights, weights_digest: str | None = None) -> Path:
    """Write one golden file atomically (temp file + rename). ``weights`` is the WeightSet used;
    ``weights_digest`` its digest if already computed (it hashes every tensor)."""
    import torch

    path = Path(path)
    shapes = capture_shapes(cfg)
    arrays = {}
    for name, shape in shapes.items():
        if name not in tensors:
            raise GoldenError(f"{path}: captured tensor {name!r} missing")
        a = tensors[name].cpu().numpy() if hasattr(tensors[name], "cpu") else np.asarray(tensors[name])
        if a.shape != shape:
            raise GoldenError(f"{path}: tensor {name!r} has shape {a.shape}, expected {shape}")
        arrays["t/" + name] = a
    out = output.cpu().numpy() if hasattr(output, "cpu") else np.asarray(output)
    meta = {
        "format_version": FORMAT_VERSION,
        "config": cfg.name,
        "config_digest": cfg.digest,
        "seed": seed,
        "task": int(task),
        "image": image,
        "image_source": image_source,
        "weights_source": weights.describe(),
        "weights_digest": weights_digest or weights.digest(),
        "stand_in_experts": list(weights.stand_ins),
        "dtype": str(out.dtype),
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),  # float32 reductions depend on it
        "numpy_version": np.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tensors": {n: list(s) for n, s in shapes.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp.npz")
    os.close(fd)
    try:
        # Uncompressed: float activations barely compress and compression dominated the write time.
        np.savez(tmp, meta=np.array(json.dumps(meta)), input=np.asarray(inputs), output=out, **arrays)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _mismatch(path, field, found, expected) -> GoldenError:
    return GoldenError(f"{path}: {field} is {found!r} but {expected!r} was expected; "
                       f"regenerate it with `make golden` (scripts/golden.py)")


def read_golden(path, cfg: Config | None = None, **expect) -> Golden:
    """Read and validate a golden file.

    ``cfg``: the file must have been made for this config (digest) and have its shapes.
    ``expect``: other metadata fields that must match, e.g. ``task=0, seed=0, image="chelsea",
    weights_digest=w.digest()``.
    """
    path = Path(path)
    if not path.is_file():
        raise GoldenError(f"golden file {path} not found; create it with `make golden` (scripts/golden.py)")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except Exception as exc:  # zipfile / format errors: report the file, not numpy's internals
        raise GoldenError(f"{path}: not a readable golden .npz file ({type(exc).__name__}: {exc})") from None
    if "meta" not in data:
        raise GoldenError(f"{path}: no metadata ('meta' entry); not a golden file of this project")
    try:
        meta = json.loads(str(data.pop("meta")))
    except json.JSONDecodeError as exc:
        raise GoldenError(f"{path}: metadata is not valid JSON ({exc})") from None
    missing = [f for f in META_FIELDS if f not in meta]
    if missing:
        raise GoldenError(f"{path}: metadata lacks field(s) {', '.join(missing)}")
    if meta["format_version"] != FORMAT_VERSION:
        raise _mismatch(path, "format_version", meta["format_version"], FORMAT_VERSION)
    if cfg is not None:
        if meta["config_digest"] != cfg.digest:
            raise GoldenError(f"{path}: config_digest is {meta['config_digest']!r} (config {meta['config']!r}) but "
                              f"config {cfg.name!r} ({cfg.source}) has digest {cfg.digest!r}; the file was made "
                              f"for another configuration: regenerate it with `make golden`")
    for field, value in expect.items():
        if field not in meta:
            raise GoldenError(f"{path}: no metadata field {field!r}; fields: {', '.join(meta)}")
        if meta[field] != value:
            raise _mismatch(path, field, meta[field], value)
    shapes = OrderedDict((n, tuple(s)) for n, s in meta["tensors"].items())
    if cfg is not None:
        expected = capture_shapes(cfg)
        if list(shapes) != list(expected):
            raise GoldenError(f"{path}: tensor list differs from the model's for config {cfg.name!r} "
                              f"(missing {sorted(set(expected) - set(shapes))}, extra {sorted(set(shapes) - set(expected))})")
        if shapes != expected:
            bad = next(n for n in expected if shapes[n] != expected[n])
            raise _mismatch(path, f"shape of {bad}", shapes[bad], expected[bad])
    tensors = OrderedDict()
    for name, shape in shapes.items():
        key = "t/" + name
        if key not in data:
            raise GoldenError(f"{path}: tensor {name!r} listed in the metadata is missing")
        if data[key].shape != shape:
            raise _mismatch(path, f"stored shape of {name}", data[key].shape, shape)
        tensors[name] = data[key]
    for key in ("input", "output"):
        if key not in data:
            raise GoldenError(f"{path}: entry {key!r} missing")
    if data["input"].shape != shapes["input"]:
        raise _mismatch(path, "shape of input", data["input"].shape, shapes["input"])
    last = [n for n in shapes if n.endswith(".out")][-1]
    if data["output"].shape != shapes[last]:
        raise _mismatch(path, "shape of output", data["output"].shape, shapes[last])
    return Golden(path, meta, data["input"], data["output"], tensors)


def generate(model, weights, image, task: int, out_dir, weights_digest: str | None = None) -> Path:
    """Run ``model`` (an M3ViT built from ``weights``) with capture on ``image`` (an InputImage) for
    ``task`` and write the golden file; returns its path."""
    cfg = model.cfg
    output, tensors = model(image.pixels, task, capture=True)
    path = golden_path(out_dir, cfg, image.name, task, weights.tag)
    return write_golden(path, cfg, inputs=tensors["input"].numpy(), output=output, tensors=tensors,
                        seed=weights.seed, task=task, image=image.name, image_source=image.source,
                        weights=weights, weights_digest=weights_digest)
