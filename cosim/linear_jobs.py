"""The unified compute unit's host side: a job is one engine call as the host issues it (weights,
bias, input rows or the previous job's output, gather / scatter / scores, the patch embedding);
jobs.txt is the file format hls/tb/linear_tb.cpp reads; the model's call sequence
(:func:`model_sequence`), odd shapes that stress the tiling (:func:`odd_shape_jobs`), the same
calls as the RTL testbench's keyword arguments (:func:`rtl_calls`), and the C-sim vector set of
the kernel registry (:func:`linear_csim`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from python_ref.kernels.linear import (compute_linear, im2col, layer_shapes, pack_matrix_axi, pack_vector_axi,
                                       patch_embed)

from .csim import VectorSet, build_tb, run_tb
from .vectors import rand_raw

W_KIND = {"weight": 0, "patch_weight": 1}
B_KIND = {"bias": 0, "attn_bias": 1}
MODE = {"store": 0, "accumulate": 1, "scaled": 2}


def rand_layer(cfg, n_out, n_in, rows, rng, full_range=False, w_role="weight", b_role="bias"):
    """x (rows, in) act, W (out, in), b (out,): full-range raw integers or realistic values."""
    act, wf, bf = cfg.fmt("act"), cfg.fmt(w_role), cfg.fmt(b_role)
    if full_range:
        return (rand_raw(act, (rows, n_in), rng), rand_raw(wf, (n_out, n_in), rng), rand_raw(bf, n_out, rng))
    return (rand_raw(act, (rows, n_in), rng, 1.0), rand_raw(wf, (n_out, n_in), rng, 1.0 / np.sqrt(n_in)),
            rand_raw(bf, n_out, rng, 0.1))


@dataclass
class Job:
    """One layer run by linear_tb (mirrors its job record)."""
    w: np.ndarray
    b: np.ndarray
    w_role: str = "weight"
    b_role: str = "bias"
    src: np.ndarray | None = None  # None: the previous job's output
    gelu: bool = False
    gather: np.ndarray | None = None
    scatter: np.ndarray | None = None
    scores: np.ndarray | None = None
    dst: np.ndarray | None = None  # accumulate destination (None: store)
    patch: tuple | None = None  # (image, pos) for the patch embedding
    expected: np.ndarray = field(default=None, repr=False)


def expected_outputs(jobs, cfg):
    prev = None
    for j in jobs:
        if j.patch is not None:
            j.expected = patch_embed(j.patch[0], j.w, j.b, j.patch[1], cfg)
        else:
            src = prev if j.src is None else j.src
            j.expected = compute_linear(src, j.w, j.b, cfg, w_fmt=cfg.fmt(j.w_role), b_fmt=cfg.fmt(j.b_role),
                                        gelu=j.gelu, gather=j.gather, out=j.dst, scatter=j.scatter,
                                        scores=j.scores)
        prev = j.expected
    return [j.expected for j in jobs]


def _ints(vals) -> str:
    vals = np.asarray(vals).reshape(-1)
    return f"{vals.size}\n" + " ".join(str(int(v)) for v in vals) + "\n"


def jobs_text(jobs, cfg) -> str:
    """jobs.txt, the job-file format hls/tb/linear_tb.cpp reads (documented at its top)."""
    axi = cfg.hardware.axi_width
    lines = [f"linear_jobs {len(jobs)}\n"]
    prev_rows = None
    for j in jobs:
        n_out, n_in = j.w.reshape(j.w.shape[0], -1).shape
        if j.patch is not None:
            rows, mode = cfg.model.num_patches, "accumulate"
        else:
            rows = len(j.gather) if j.gather is not None else (j.src.shape[0] if j.src is not None else None)
            mode = "store" if j.dst is None else ("scaled" if j.scores is not None else "accumulate")
        if rows is None:  # chained: rows of the previous output
            rows = prev_rows
        lines.append(f"job {int(j.patch is not None)} {W_KIND[j.w_role]} {B_KIND[j.b_role]} {n_out} {n_in} {rows} "
                     f"{int(j.gelu)} {MODE[mode]} {int(j.gather is not None)} {int(j.scatter is not None)} "
                     f"{int(j.src is None and j.patch is None)}\n")
        if j.patch is not None:
            lines += ["image " + _ints(j.patch[0]), "pos " + _ints(j.patch[1])]
        else:
            if j.src is not None:
                lines.append("src " + _ints(j.src))
            if j.gather is not None:
                lines.append("gather " + _ints(j.gather))
            if j.scatter is not None:
                lines.append("scatter " + _ints(j.scatter))
            if j.scores is not None:
                lines.append("scores " + _ints(j.scores))
            lines.append("dst " + _ints(j.dst if j.dst is not None else np.zeros((rows, n_out), dtype=np.int64)))
        ww = pack_matrix_axi(j.w.reshape(n_out, n_in), cfg.fmt(j.w_role), axi)
        bw = pack_vector_axi(j.b, cfg.fmt(j.b_role), axi)
        lines.append(f"wwords {len(ww)}\n" + " ".join(f"{x:x}" for x in ww) + "\n")
        lines.append(f"bwords {len(bw)}\n" + " ".join(f"{x:x}" for x in bw) + "\n")
        # rows of this job's output, the next chained job's input
        prev_rows = cfg.model.tokens if j.patch is not None else (rows if j.dst is None else j.dst.shape[0])
    return "".join(lines)


def job_vectors(jobs, cfg) -> VectorSet:
    """The job sequence as linear_tb's vector folder: jobs.txt, the expected outputs (every job's
    output values, job after job) from python_ref."""
    expected = expected_outputs(jobs, cfg)
    return VectorSet("linear", {"jobs": len(jobs)}, {"jobs.txt": jobs_text(jobs, cfg)},
                     np.concatenate([e.reshape(-1) for e in expected]),
                     notes={"shapes": [e.shape for e in expected]})


def run_csim(jobs, cfg, workdir: Path, exe: Path | None = None):
    """Expected outputs (python_ref) and the C-sim outputs of a job sequence (per job arrays)."""
    vectors = job_vectors(jobs, cfg)
    res = run_tb(exe or build_tb("linear", cfg.name), vectors, workdir)
    got, pos = [], 0
    for shape in vectors.notes["shapes"]:
        n = int(np.prod(shape))
        got.append(res.out[pos:pos + n].reshape(shape))
        pos += n
    return [j.expected for j in jobs], got


def model_sequence(cfg, rng, full_range=False, rows=None):
    """Patch embedding, then every layer shape of the config as the model runs them (chained where
    the shapes chain: fc1 (GELU) -> fc2, expert fc1 (gathered, GELU) -> fc2 (scaled scatter))."""
    m = cfg.model
    act = cfg.fmt("act")
    rows = rows or m.tokens
    img = rand_raw(cfg.fmt("pixel"), (m.channels, m.height, m.width), rng)
    w4 = rand_raw(cfg.fmt("patch_weight"), (m.dim, m.channels, m.patch_size, m.patch_size), rng,
                  None if full_range else 0.05)
    pos = rand_raw(act, (m.tokens, m.dim), rng, 0.5)
    jobs = [Job(w=w4, b=rand_raw(cfg.fmt("bias"), m.dim, rng, 0.1), w_role="patch_weight",
                patch=(img, pos))]
    names = ["patch_embed"]
    shapes = {s[0]: s for s in layer_shapes(cfg)}

    def layer(nm, **kw):
        _, o, i, wr, br = shapes[nm]
        x, w, b = rand_layer(cfg, o, i, rows, rng, full_range, wr, br)
        names.append(nm)
        kw.setdefault("src", x)
        return Job(w=w, b=b, w_role=wr, b_role=br, **kw)

    jobs.append(layer("qkv"))
    jobs.append(layer("proj"))
    jobs.append(layer("fc1", gelu=True))
    jobs.append(layer("fc2", src=None))
    sel = np.sort(rng.choice(rows, size=max(2, rows // 3), replace=False))
    rng.shuffle(sel)
    x_src = rand_raw(act, (rows, m.dim), rng, 1.0)
    jobs.append(layer("expert_fc1", src=x_src, gather=sel, gelu=True))
    out0 = rand_raw(act, (rows, m.dim), rng, 1.0)
    scores = act.from_float(rng.uniform(0, 1, len(sel))).astype(np.int64)
    jobs.append(layer("expert_fc2", src=None, dst=out0, scatter=sel, scores=scores))
    return jobs, names


def odd_shape_jobs(cfg, rng, shapes):
    """Full-range jobs of the given (out, in, rows) shapes, corner values, cycling through the three
    output modes and GELU; gathered rows repeat, scatter targets are distinct (the engine's
    contract, python_ref.kernels.linear.compute_linear) inside a destination of rows + 3."""
    act = cfg.fmt("act")
    jobs, names = [], []
    for k, (o, i, r) in enumerate(shapes):
        x, w, b = rand_layer(cfg, o, i, r, rng, full_range=True, b_role=("bias", "attn_bias")[k % 2])
        x[0, 0], w[0, 0] = act.raw_min, cfg.fmt("weight").raw_min
        x[-1, -1], w[-1, -1] = act.raw_max, cfg.fmt("weight").raw_max
        mode = k % 3
        j = Job(w=w, b=b, b_role=("bias", "attn_bias")[k % 2], src=x, gelu=bool(k % 2))
        if mode >= 1:
            g = rng.integers(0, r, size=min(r + 2, cfg.model.tokens))  # gathered, with repeats
            j.gather, j.scatter = g, rng.permutation(r + 3)[:len(g)]  # distinct targets
            j.dst = rand_raw(act, (r + 3, o), rng)
            if mode == 2:
                j.scores = act.from_float(rng.uniform(0, 1, len(g))).astype(np.int64)
                j.scores[0] = act.from_float(1.0)
        jobs.append(j)
        names.append(f"{o}x{i} rows {r} mode {mode}")
    return jobs, names


def rtl_calls(jobs, expected, cfg):
    """A C-sim job sequence as the RTL testbench's engine calls (the host's view): chained inputs
    made explicit, the patch embedding as im2col pixel rows accumulated onto pos[1:]."""
    calls, prev = [], None
    for n, j in enumerate(jobs):
        kw = dict(label=f"job{n}", w=j.w.reshape(j.w.shape[0], -1), b=j.b, w_role=j.w_role, b_role=j.b_role)
        if j.patch is not None:
            img, pos = j.patch
            kw.update(x_src=im2col(img, cfg.model.patch_size), x_fmt=cfg.fmt("pixel"), out0=pos[1:])
        else:
            kw.update(x_src=prev if j.src is None else j.src, gelu=j.gelu, gather=j.gather, out0=j.dst,
                      scatter=j.scatter, scores=j.scores)
        calls.append(kw)
        prev = expected[n]
    return calls


def linear_csim(cfg) -> VectorSet:
    """The registry's C-sim vector set: the model's call sequence (every layer shape, chained where the
    shapes chain, gathered expert fc1 + GELU, scaled scatter expert fc2, the patch embedding), all
    tokens, realistic values, then odd shapes with full-range values and every output mode."""
    rng = np.random.default_rng(301)
    jobs, _ = model_sequence(cfg, rng)
    t = cfg.model.tokens  # a call processes at most one frame's tokens
    shapes = [(1, 1, 1), (5, 3, 2), (13, 37, 7), (37, 13, 17), (3, 19, 1)]
    odd, _ = odd_shape_jobs(cfg, rng, [(o, i, min(r, t)) for o, i, r in shapes])
    return job_vectors(jobs + odd, cfg)
