"""Unified compute unit (the linear engine): the numerical specification that hls/src/linear.cpp
and rtl/src/linear.sv implement. One engine serves QKV, the attention projection, MLP
fc1/fc2, every MoE expert, the MoE gate and the patch embedding.

Definition (x rows in ``x_fmt``, W[out][in] in ``w_fmt`` (PyTorch nn.Linear layout), b in
``b_fmt``; ``act`` is the activation format). The configuration's ``numerics.linear_sum`` selects
one of two rules (python_ref.config.LINEAR_SUMS):

1a. ``exact`` (the DSP48E2 array: one 27 x 18 multiplier per MAC). For every processed row k (row
   ``gather[k]`` of x, or row k when ``gather`` is None) and every output o::

       xo[i] = operand(x[k][i])                          # assignment to formats.operand (RND, SAT_SYM)
       y     = act(b[o] + sum_i xo[i] * W[o][i])          # the exact sum, ONE assignment to act

   ``operand(.)`` is the assignment of the input value to the MAC array's activation operand
   (``formats.operand``, ap_fixed<27,9,AP_RND,AP_SAT_SYM>: 18 fraction bits; pixels convert
   exactly), every product and the sum over all ``in_dim`` inputs are exact integers (F_op + F_w
   fraction bits), the bias joins the sum exactly, and ``act(.)`` assigns the exact value to the
   activation format with act's quantization and overflow modes (shipped: TRN = floor at 2^-22,
   WRAP). The order and grouping of the sum cannot matter: the result is the same for any tile size
   and schedule. The hardware sums in 48-bit DSP cascades and a wider fabric accumulator; under
   act's WRAP the result only depends on the sum modulo 2^(act width + F_op + F_w - F_act), which
   every stage keeps (python_ref.kernels.attention's docstring has the port ranges).

1b. ``per_product`` (Edge-MoE's rule, the study baseline)::

       acc = act(b[o])                                   # exact for the shipped formats
       for i in 0 .. in_dim-1:                           # ascending i: the tile schedule's order
           acc = act(acc + act(x[k][i] * W[o][i]))

   ``x * W`` is exact (ap_fixed product type), ``act(.)`` is assignment to the activation format
   with its quantization and overflow modes. So **each product is quantized to the accumulator
   format before it is added** (TRN: floor to 2**-22), exactly as Edge-MoE's engine does it
   (``addend[o] = in[i] * w[o][i]`` into an fm_t vector, then ``out_block += addend``). This keeps
   the adders at the act width; the floors of the products do not add up to the floor of their
   sum, so the two rules give different low bits (the per-product floors bias the result by up to
   -in_dim/2 LSB on average). The C++ spelling ``acc = acc + x * w`` (rounding the exact running
   sum every step) is the same function under TRN, RND and RND_MIN_INF, because acc is on the act
   grid: floor(acc + p) = acc + floor(p); under the sign- or parity-dependent modes (TRN_ZERO,
   RND_ZERO, RND_INF, RND_CONV) it is not, and this spec's per-product form is the definition.

   Order: both operands of every addition are ``act`` values with the same fraction bits, so the
   addition itself is exact before the assignment; with ``overflow: WRAP`` (the shipped configs)
   the assignment is reduction modulo 2**width, and a sum of residues does not depend on the order
   or grouping. :func:`compute_linear` therefore sums the quantized products in int64 and wraps
   once. With a saturating ``act`` format the order matters, and the sequential loop above
   (ascending i) is evaluated literally.

1c. Per-channel scaled weights (``numerics.expert_weights``, a python_ref-only option of the format
   study; the ``exact`` rule only): W is held in the narrow ``numerics.expert_weights.format`` (e.g.
   8-bit integers) with one unsigned scale per output channel in ``.scale``::

       y = act(b[o] + scale[o] * sum_i operand(x[k][i]) * W[o][i])  # exact sum, exact product, ONE rounding

   The hardware sums the narrow products exactly (one DSP48E2 per MAC, as for 16-bit weights) and
   multiplies each output's exact sum once by its scale in the output stage. The host converts a
   float matrix with :func:`quantize_per_channel`. :func:`compute_linear` takes the scales as
   ``w_scale`` (raw ``s_fmt`` integers, one per output).

2. ``gelu=True``: y = GELU(acc) by the GELU unit (:func:`python_ref.kernels.gelu.gelu_raw`);
   otherwise y = acc.

3. Output. Without ``out``: the result rows y[k] in processing order (len(gather) rows).
   With ``out`` (scatter-accumulate, the MoE combine and the patch embedding's position add):
   for k in processing order, t = ``scatter[k]`` (or k when ``scatter`` is None)::

       out[t] = act(out[t] + act(score[k] * y[k]))        # with scores
       out[t] = act(out[t] + y[k])                        # without scores

   The score (a gate probability, in [0, 1]) is in the activation format ``act`` (signed,
   22 fraction bits): the gate's softmax produces act values, Edge-MoE keeps its scores in fm_t,
   so no new format or conversion is needed, and 1.0 is representable (top-1 / unscaled cases).
   **Contract: the targets of one call are distinct** (a token appears at most once per MoE expert;
   the patch embedding and the residual adds are one-to-one). The hardware relies on it: the RTL
   streams every destination row once per output block before any result comes back, and the HLS
   read-modify-write declares no dependence between targets. A call that repeats a target raises
   LinearError here and is rejected by the C testbench; the host splits such work into calls.

Patch embedding (:func:`patch_embed`) is the same engine: the 3 x P x P patches are the rows
(``im2col``: patch p = py * (W/P) + px, column c*P*P + ky*P + kx, matching the PyTorch conv
weight reshaped to (dim, C*P*P)), pixels are the input format, patch-embedding weights the weight
format, the conv bias the bias; the output accumulates onto the position embedding
(``out = pos[1:]``, unscaled), and row 0 (CLS) is ``pos[0]`` (the published pos_embed row 0 already
holds cls_token + pos_embed[0]). The position embedding is held in the activation format.

Memory layout of the weights (see hls/src/linear.h and docs/linear.md): :func:`pack_matrix_axi`.
"""
from __future__ import annotations

import numpy as np

from ..config import Config, ConfigError
from ..exact import exact_matmul
from ..fixed import FixedFormat, FixedPointError, Fx
from ..hwconfig import KernelHwConfig, constant_list
from .gelu import gelu_raw

_OUT_CHUNK_ELEMS = 1 << 21  # products materialized at once (memory bound of the vectorized path)


class LinearError(ValueError):
    """Bad arguments to the linear engine (names the argument)."""


def _as_2d(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2:
        raise LinearError(f"{name}: expected a 2-D array, got shape {a.shape}")
    return a


def _index_list(idx, name: str, bound: int) -> np.ndarray:
    idx = np.asarray(idx)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise LinearError(f"{name}: expected a 1-D list of integer row indices, got {idx!r}")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= bound):
        raise LinearError(f"{name}: index out of range [0, {bound}): {idx.tolist()}")
    return idx


def quantized_products(x_raw: np.ndarray, w_raw: np.ndarray, x_fmt: FixedFormat, w_fmt: FixedFormat,
                       act: FixedFormat) -> np.ndarray:
    """act(x[k][i] * W[o][i]) for every k, o, i: raw act integers of shape (rows, out, in)."""
    rows, n_in = x_raw.shape
    n_out = w_raw.shape[0]
    xf = x_fmt.fx(x_raw)
    wf = w_fmt.fx(w_raw)
    out = np.empty((rows, n_out, n_in), dtype=np.int64 if act.width <= 62 else object)
    step = max(1, _OUT_CHUNK_ELEMS // max(1, rows * n_in))
    for o0 in range(0, n_out, step):
        o1 = min(n_out, o0 + step)
        px = Fx(xf.raw[:, None, :], xf.width, xf.int_bits, xf.signed)
        pw = Fx(wf.raw[None, o0:o1, :], wf.width, wf.int_bits, wf.signed)
        out[:, o0:o1, :] = (px * pw).cast(act).raw
    return out


def accumulate(bias_act: np.ndarray, q: np.ndarray, act: FixedFormat, sequential: bool = False) -> np.ndarray:
    """acc = act(b); for i ascending: acc = act(acc + q[..., i]). ``q``: (rows, out, in) act raws.

    Under WRAP the int64 sum wrapped once is the same (order-independent); ``sequential=True``
    forces the literal loop (used by the tests to show it)."""
    rows, n_out, n_in = q.shape
    acc = np.broadcast_to(np.asarray(bias_act)[None, :], (rows, n_out))
    if act.overflow == "WRAP" and not sequential:
        wide = act.width + max(1, n_in).bit_length() + 1 > 62
        s = (q.astype(object) if wide else q).sum(axis=-1)
        return act.quantize((acc.astype(object) if wide else acc) + s, act.frac)
    acc = acc.copy()
    for i in range(n_in):
        acc = act.quantize(acc + q[:, :, i], act.frac)
    return acc


def per_product_sum(x_raw: np.ndarray, w_raw: np.ndarray, bias_act: np.ndarray, x_fmt: FixedFormat,
                    w_fmt: FixedFormat, act: FixedFormat) -> np.ndarray:
    """The ``per_product`` rule's result: ``accumulate(bias_act, quantized_products(x, W), act)``, raw act
    (rows, out). Speed only, the same bits: for the shipped act (TRN, WRAP) and a product shift
    s = F_x + F_w - F_act in 1..30 it is computed without materialising the quantized products.

    Proof. Under TRN and WRAP, act(p) = wrap(floor(p / 2^s)) and the WRAP accumulation is
    wrap(b + sum_i act(p_i)) = wrap(b + sum_i floor(p_i / 2^s)) (wrap is reduction modulo 2^width; a
    sum of residues is the residue of the sum). floor(p / 2^s) = (p - (p mod 2^s)) / 2^s, so
    sum_i floor(p_i / 2^s) = (sum_i p_i - sum_i (p_i mod 2^s)) / 2^s exactly. sum_i p_i is the exact
    integer product x W^T (:func:`exact_matmul`), and p mod 2^s = ((x mod 2^s)(W mod 2^s)) mod 2^s,
    a product of two s-bit residues (int32 for s <= 15: < 2^30; int64 otherwise). Every other case
    evaluates the definition literally."""
    rows, n_in = x_raw.shape
    n_out = w_raw.shape[0]
    sh = x_fmt.frac + w_fmt.frac - act.frac
    if act.quant != "TRN" or act.overflow != "WRAP" or not 1 <= sh <= 30 or n_in >= 1 << 16 or act.width > 62:
        return accumulate(bias_act, quantized_products(x_raw, w_raw, x_fmt, w_fmt, act), act)
    x = np.asarray(x_raw).astype(np.int64)
    w = np.asarray(w_raw).astype(np.int64)
    mask = (1 << sh) - 1
    small = np.int32 if sh <= 15 else np.int64
    xl, wl = (x & mask).astype(small), (w & mask).astype(small)
    res = np.empty((rows, n_out), dtype=np.int64)
    step = max(1, _OUT_CHUNK_ELEMS // max(1, rows * n_in))
    for o0 in range(0, n_out, step):
        prod = xl[:, None, :] * wl[None, o0:o0 + step, :]
        np.bitwise_and(prod, mask, out=prod)
        res[:, o0:o0 + step] = prod.sum(axis=-1, dtype=np.int64)
    total = exact_matmul(x, w.T)
    floors = (total - res.astype(total.dtype)) >> sh
    bias = np.asarray(bias_act)
    if floors.dtype == object:
        bias = bias.astype(object)
    return np.asarray(act.quantize(bias[None, :] + floors, act.frac)).astype(np.int64)


def exact_sum(x_raw: np.ndarray, w_raw: np.ndarray, b_raw: np.ndarray, x_fmt: FixedFormat, w_fmt: FixedFormat,
              b_fmt: FixedFormat, cfg: Config, w_scale: np.ndarray | None = None,
              s_fmt: FixedFormat | None = None) -> np.ndarray:
    """The ``exact`` rule's y = act(b + sum_i operand(x_i) W_i): raw act integers (rows, out).
    With ``w_scale`` (raw ``s_fmt``, one per output): y = act(b + scale_o * sum_i operand(x_i) W_i)."""
    act, op = cfg.fmt("act"), cfg.fmt("operand")
    xo = op.quantize(np.asarray(x_raw, dtype=np.int64), x_fmt.frac)
    frac = op.frac + w_fmt.frac
    total = exact_matmul(xo, np.asarray(w_raw, dtype=np.int64).T)
    if w_scale is not None:
        sc = np.asarray(w_scale, dtype=np.int64)
        if total.dtype != object and _bits(total) + _bits(sc) > 62:
            total = total.astype(object)
        total = total * (sc.astype(object) if total.dtype == object else sc)[None, :]
        frac += s_fmt.frac
    if b_fmt.frac > frac:
        raise LinearError(f"bias {b_fmt.c_type} has more fraction bits than the operand x weight product ({frac})")
    b = np.asarray(b_raw).astype(np.int64)
    shift = frac - b_fmt.frac
    bias = b.astype(object) << shift if total.dtype == object or _bits(b) + shift > 61 else b << shift
    if bias.dtype == object or (total.dtype != object and max(_bits(total), _bits(bias)) + 1 > 62):
        total, bias = total.astype(object), bias.astype(object)
    total = total + bias[None, :]
    return np.asarray(act.quantize(total, frac)).astype(np.int64)


def quantize_per_channel(w, w_fmt: FixedFormat, s_fmt: FixedFormat) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel scaled weights (the host's conversion, float64): for each row o of the float
    matrix W (out, in), ``scale_o = s_fmt(max_i |W_oi| / w_fmt.max)`` (``ap_fixed(double)`` with the
    scale format's modes), then ``w_oi = w_fmt(W_oi / scale_o)`` (the weight format's modes; a row
    whose scale is 0 stores zeros). Returns (w raw (out, in), scale raw (out,))."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2:
        raise LinearError(f"per-channel weights: expected a 2-D (out, in) matrix, got shape {w.shape}")
    scale = s_fmt.from_float(np.abs(w).max(axis=1) / w_fmt.max)
    sf = s_fmt.to_float(scale)
    safe = np.where(sf > 0, sf, 1.0)
    q = w_fmt.from_float(np.where(sf[:, None] > 0, w / safe[:, None], 0.0))
    return np.asarray(q).astype(np.int64), np.asarray(scale).astype(np.int64)


def _bits(x: np.ndarray) -> int:
    """Bits of the largest magnitude (0 for an empty array)."""
    if x.size == 0:
        return 0
    return max(abs(int(x.min())).bit_length(), abs(int(x.max())).bit_length())


def weight_formats(cfg: Config, w_role: str, scaled: bool) -> tuple[FixedFormat, FixedFormat | None]:
    """(w_fmt, s_fmt) of a linear call's weights: the role's format and no scales, or for per-channel
    scaled weights (rule 1c) the format study's ``numerics.expert_weights`` format and its scales'."""
    if not scaled:
        return cfg.fmt(w_role), None
    xw = cfg.numerics.expert_weights
    if xw is None:
        raise LinearError(f"per-channel weight scales given, but config {cfg.name!r} sets no numerics.expert_weights")
    return xw.format, xw.scale


def compute_linear(x_raw, w_raw, b_raw, cfg: Config, *, w_fmt: FixedFormat, b_fmt: FixedFormat,
                   x_fmt: FixedFormat | None = None, gelu: bool = False, gather=None, out=None,
                   scatter=None, scores=None, w_scale=None, s_fmt: FixedFormat | None = None) -> np.ndarray:
    """The linear engine (see the module docstring for the exact definition).

    x_raw: (rows_src, in) raw integers in ``x_fmt`` (default: the activation format);
    w_raw: (out, in) raw ``w_fmt``; b_raw: (out,) raw ``b_fmt``;
    gather: rows of x to process, in this order (default all rows in order);
    out: (rows_dst, out) raw act: if given, y is accumulated into a copy of it and that is returned;
    scatter: destination row of each processed row (default k); only with ``out``;
    scores: one act raw value per processed row (the gate probability); only with ``out``;
    w_scale: per-output-channel scales (raw ``s_fmt``, shape (out,)) of per-channel scaled weights
    (rule 1c, the ``exact`` rule only; the format study's ``numerics.expert_weights``).
    Returns raw act integers.
    """
    act = cfg.fmt("act")
    x_fmt = act if x_fmt is None else x_fmt
    x_raw = _as_2d(x_raw, "x")
    w_raw = _as_2d(w_raw, "W")
    b_raw = np.asarray(b_raw)
    n_out, n_in = w_raw.shape
    if x_raw.shape[1] != n_in:
        raise LinearError(f"x has {x_raw.shape[1]} columns but W[out][in] has in = {n_in}")
    if b_raw.shape != (n_out,):
        raise LinearError(f"bias: expected shape ({n_out},), got {b_raw.shape}")
    try:
        x_raw = x_fmt.check_raw(x_raw, "x")
        w_raw = w_fmt.check_raw(w_raw, "W")
        b_raw = b_fmt.check_raw(b_raw, "bias")
    except FixedPointError as exc:
        raise LinearError(str(exc)) from None
    rows = np.arange(x_raw.shape[0]) if gather is None else _index_list(gather, "gather", x_raw.shape[0])
    if out is None and (scatter is not None or scores is not None):
        raise LinearError("scatter and scores need out (the destination to accumulate into)")
    if w_scale is not None:
        if cfg.numerics.linear_sum != "exact" or s_fmt is None:
            raise LinearError("w_scale (per-channel scaled weights) needs numerics.linear_sum: exact and s_fmt")
        try:
            w_scale = s_fmt.check_raw(np.asarray(w_scale), "w_scale")
        except FixedPointError as exc:
            raise LinearError(str(exc)) from None
        if w_scale.shape != (n_out,):
            raise LinearError(f"w_scale: expected shape ({n_out},), got {w_scale.shape}")

    x_sel = x_raw[rows]
    if cfg.numerics.linear_sum == "exact":
        y = exact_sum(x_sel, w_raw, b_raw, x_fmt, w_fmt, b_fmt, cfg, w_scale, s_fmt)
    else:
        bias_act = b_fmt.fx(b_raw).cast(act).raw
        y = per_product_sum(x_sel, w_raw, bias_act, x_fmt, w_fmt, act)
    if gelu:
        y = gelu_raw(y, cfg)
    y = np.asarray(y).astype(np.int64)
    if out is None:
        return y

    dst = _as_2d(out, "out")
    if dst.shape[1] != n_out:
        raise LinearError(f"out has {dst.shape[1]} columns, the layer has out = {n_out}")
    dst = act.check_raw(dst, "out").astype(np.int64).copy()
    targets = np.arange(len(rows)) if scatter is None else _index_list(scatter, "scatter", dst.shape[0])
    if len(targets) != len(rows):
        raise LinearError(f"scatter has {len(targets)} entries for {len(rows)} processed rows")
    if scatter is None and len(rows) > dst.shape[0]:
        raise LinearError(f"out has {dst.shape[0]} rows for {len(rows)} processed rows (give scatter)")
    if scores is not None:
        scores = act.check_raw(np.asarray(scores), "scores")
        if scores.shape != (len(rows),):
            raise LinearError(f"scores: expected shape ({len(rows)},), got {scores.shape}")
        y = (act.fx(scores[:, None]) * act.fx(y)).cast(act).raw
    if out is not None and np.unique(targets).size != targets.size:
        dup = sorted({int(t) for t in targets if (targets == t).sum() > 1})
        raise LinearError(f"scatter: targets repeat within one call ({dup[:8]}); the engine needs distinct "
                          f"targets per call (split the call)")
    for k, t in enumerate(targets):
        dst[t] = act.quantize(dst[t] + y[k], act.frac)
    return dst


# ---------------------------------------------------------------------------------------------
# Patch embedding on the same engine

def im2col(image_raw, patch: int) -> np.ndarray:
    """(C, H, W) -> (num_patches, C*P*P): row py*(W/P)+px, column c*P*P + ky*P + kx."""
    img = np.asarray(image_raw)
    if img.ndim != 3:
        raise LinearError(f"image: expected (channels, height, width), got shape {img.shape}")
    c, h, w = img.shape
    if h % patch or w % patch:
        raise LinearError(f"image {h}x{w} is not a whole number of {patch}x{patch} patches")
    t = img.reshape(c, h // patch, patch, w // patch, patch).transpose(1, 3, 0, 2, 4)
    return t.reshape((h // patch) * (w // patch), c * patch * patch)


def patch_embed(image_raw, w_raw, b_raw, pos_raw, cfg: Config) -> np.ndarray:
    """Tokens (1 + num_patches, dim) raw act: row 0 = pos[0] (CLS), row 1+p = act(pos[1+p] + y[p]),
    y = compute_linear(im2col(image), W (dim, C*P*P), b) with pixel inputs and patch weights."""
    m = cfg.model
    act = cfg.fmt("act")
    img = np.asarray(image_raw)
    if img.shape != (m.channels, m.height, m.width):
        raise LinearError(f"image: expected shape {(m.channels, m.height, m.width)}, got {img.shape}")
    w = np.asarray(w_raw).reshape(np.asarray(w_raw).shape[0], -1)
    if w.shape != (m.dim, m.patch_in):
        raise LinearError(f"patch weights: expected (dim, C*P*P) = {(m.dim, m.patch_in)}, got {w.shape}")
    pos = act.check_raw(_as_2d(pos_raw, "pos"), "pos")
    if pos.shape != (m.tokens, m.dim):
        raise LinearError(f"pos: expected shape {(m.tokens, m.dim)}, got {pos.shape}")
    x = im2col(img, m.patch_size)
    body = compute_linear(x, w, b_raw, cfg, x_fmt=cfg.fmt("pixel"), w_fmt=cfg.fmt("patch_weight"),
                          b_fmt=cfg.fmt("bias"), out=pos[1:])
    return np.vstack([pos[:1].astype(np.int64), body])


# ---------------------------------------------------------------------------------------------
# External memory layout (what the HLS loaders read; see hls/src/linear.h)

def elements_per_word(fmt: FixedFormat, axi_width: int) -> int:
    if axi_width % fmt.width:
        raise LinearError(f"{fmt.c_type} ({fmt.width} bits) does not pack evenly into {axi_width}-bit words")
    return axi_width // fmt.width


def _pack_word(vals, width: int) -> int:
    word = 0
    for j, v in enumerate(vals):
        word |= (int(v) & ((1 << width) - 1)) << (j * width)
    return word


def pack_matrix_axi(w_raw, fmt: FixedFormat, axi_width: int) -> list[int]:
    """W[out][in] row-major, each row padded with zeros to whole words: row o occupies words
    o*R .. o*R+R-1 (R = ceil(in / E), E = axi_width / width); element i of the row is lane i % E of
    word o*R + i // E, bits [lane*width, lane*width + width) (two's complement). For every shipped
    layer shape in % E == 0, so this is plain dense row-major."""
    w = fmt.check_raw(_as_2d(w_raw, "W"), "W")
    e = elements_per_word(fmt, axi_width)
    n_out, n_in = w.shape
    r = -(-n_in // e)
    return [_pack_word(w[o, c * e:(c + 1) * e], fmt.width) for o in range(n_out) for c in range(r)]


def pack_matrix_pairs(w_raw, fmt: FixedFormat, w_bits: int, li: int) -> list[int]:
    """The two-row w_ image (``hardware.weight_word.rows`` = 2, rtl/src/linear_loader.sv's W_ROWS = 2):
    a word holds one LI-weight segment of two consecutive rows, so the engine loads two tile columns
    per cycle. Rows are taken in pairs (2q, 2q + 1), q = 0 .. ceil(out / 2) - 1; pair q occupies words
    q*S .. q*S + S - 1 (S = ceil(in / LI)); word q*S + s holds W[2q][s*LI + i] in lane i and
    W[2q + 1][s*LI + i] in lane LI + i (i < LI), zero past in or past out (an odd out pads the last
    pair with a zero row). ``w_bits`` must be exactly 2 LI weights."""
    w = fmt.check_raw(_as_2d(w_raw, "W"), "W")
    if li < 1 or w_bits != 2 * li * fmt.width:
        raise LinearError(f"pack_matrix_pairs: a two-row word of LI = {li} {fmt.c_type} weights is "
                          f"{2 * max(li, 0) * fmt.width} bits, got w_bits = {w_bits}")
    n_out, n_in = w.shape
    s = -(-n_in // li)
    padded = np.zeros((2 * -(-n_out // 2), s * li), dtype=np.int64)
    padded[:n_out, :n_in] = w
    return [_pack_word(np.concatenate((padded[2 * q, c * li:(c + 1) * li], padded[2 * q + 1, c * li:(c + 1) * li])),
                       fmt.width) for q in range(padded.shape[0] // 2) for c in range(s)]


def pack_matrix_w(w_raw, fmt: FixedFormat, w_bits: int, w_rows: int, li: int) -> list[int]:
    """The linear engine's w_ image for a word of ``w_bits`` holding ``w_rows`` rows' segments:
    :func:`pack_matrix_axi` (one row, row-major) or :func:`pack_matrix_pairs` (two rows)."""
    if w_rows == 1:
        return pack_matrix_axi(w_raw, fmt, w_bits)
    if w_rows == 2:
        return pack_matrix_pairs(w_raw, fmt, w_bits, li)
    raise LinearError(f"pack_matrix_w: w_rows must be 1 or 2, got {w_rows!r}")


def w_image_words(n_out: int, n_in: int, e: int, w_rows: int, li: int) -> int:
    """Words of a w_ image (:func:`pack_matrix_w`) of an n_out x n_in matrix, ``e`` weights per word."""
    if w_rows == 2:
        return -(-n_out // 2) * -(-n_in // li)
    return n_out * -(-n_in // e)


def pack_vector_axi(v_raw, fmt: FixedFormat, axi_width: int) -> list[int]:
    """A vector (biases) packed densely, element j in lane j % E of word j // E, last word zero-padded."""
    v = fmt.check_raw(np.asarray(v_raw).reshape(-1), "vector")
    e = elements_per_word(fmt, axi_width)
    return [_pack_word(v[c * e:(c + 1) * e], fmt.width) for c in range(-(-len(v) // e))]


def unpack_words(words, fmt: FixedFormat, axi_width: int, count: int, stride_words: int | None = None,
                 rows: int = 1) -> np.ndarray:
    """Inverse of the packers (for tests): ``rows`` rows of ``count`` elements."""
    e = elements_per_word(fmt, axi_width)
    stride = stride_words if stride_words is not None else -(-count // e)
    out = np.zeros((rows, count), dtype=np.int64)
    mask = (1 << fmt.width) - 1
    for r in range(rows):
        for i in range(count):
            v = (words[r * stride + i // e] >> ((i % e) * fmt.width)) & mask
            if fmt.signed and v >> (fmt.width - 1):
                v -= 1 << fmt.width
            out[r, i] = v
    return out


def ideal_cycles(rows: int, n_out: int, n_in: int, cfg: Config) -> int:
    """Compute-loop iterations of the engine at II=1: rows * ceil(out/LO) * ceil(in/LI)."""
    lo, li = cfg.hardware.linear_out, cfg.hardware.linear_in
    return rows * (-(-n_out // lo)) * (-(-n_in // li))


# ---------------------------------------------------------------------------------------------
# The engine's geometry (model knowledge shared by the C++, the RTL and the host code)

def layer_shapes(cfg: Config) -> list[tuple[str, int, int, str, str]]:
    """(name, out, in, weight role, bias role) of every linear layer the engine runs for ``cfg``,
    besides the patch embedding (:func:`patch_embed`) and the MoE gate."""
    m = cfg.model
    return [("qkv", 3 * m.dim, m.dim, "weight", "attn_bias"), ("proj", m.dim, m.dim, "weight", "attn_bias"),
            ("fc1", m.mlp_hidden, m.dim, "weight", "bias"), ("fc2", m.dim, m.mlp_hidden, "weight", "bias"),
            ("expert_fc1", m.expert_hidden, m.dim, "weight", "bias"),
            ("expert_fc2", m.dim, m.expert_hidden, "weight", "bias")]


def weight_port_format(cfg: Config) -> FixedFormat:
    """The MAC array's weight operand: one signed format holding ``weight`` and ``patch_weight``
    exactly (edge_moe: ap_fixed<18,2>), so one array serves the linear layers and the patch
    embedding."""
    w, p = cfg.fmt("weight"), cfg.fmt("patch_weight")
    frac = max(w.frac, p.frac)
    ib = max(w.int_bits + (not w.signed), p.int_bits + (not p.signed))
    return FixedFormat(ib + frac, ib)


def max_in(cfg: Config) -> int:
    m = cfg.model
    return max(m.dim, m.mlp_hidden, m.expert_hidden, m.patch_in)


def max_out(cfg: Config) -> int:
    m = cfg.model
    return max(3 * m.dim, m.mlp_hidden, m.expert_hidden, m.experts)


def acc_format(cfg: Config) -> FixedFormat:
    """The ``exact`` rule's accumulator: the exact sum of ``max_in`` products operand x weight operand
    plus the bias, with F_op + F_w fraction bits (hls/src/linear.h: linear_config::acc_t).

    Bound: |operand| <= 2^(op.width - 1), |w| <= 2^(wp.width - 1), so every product is below
    2^P, P = op.width + wp.width - 2; the bias (act raw, exact) shifted to F_op + F_w fraction bits is
    below 2^B, B = act.width - 1 + F_op + F_w - F_act. The sum of max_in products and the bias is below
    (max_in + 1) 2^max(P, B) <= 2^(max(P, B) + bit_length(max_in)), plus one sign bit."""
    op, wp, act = cfg.fmt("operand"), weight_port_format(cfg), cfg.fmt("act")
    frac = op.frac + wp.frac
    p_bits = op.width + wp.width - 2
    b_bits = act.width - 1 + frac - act.frac
    width = max(p_bits, b_bits) + max_in(cfg).bit_length() + 1
    return FixedFormat(width, width - frac)


def check_config(cfg: Config) -> None:
    """What the C++ and RTL engines are built for (raises ConfigError naming the field)."""
    hw = cfg.hardware
    w, pw, b, ab, act, pix = (cfg.fmt(r) for r in ("weight", "patch_weight", "bias", "attn_bias", "act", "pixel"))
    if w.width != pw.width or hw.axi_width % w.width:
        raise ConfigError(f"formats.weight / formats.patch_weight: both must be equally wide and pack evenly into "
                          f"hardware.axi_width = {hw.axi_width} bits (one weight memory layout), got {w.width} and "
                          f"{pw.width} bits")
    if b.width != ab.width or hw.axi_width % b.width:
        raise ConfigError(f"formats.bias / formats.attn_bias: both must be equally wide and pack evenly into "
                          f"hardware.axi_width = {hw.axi_width} bits, got {b.width} and {ab.width} bits")
    e = hw.axi_width // w.width
    if e % hw.linear_in and hw.linear_in % e:
        raise ConfigError(f"hardware.linear_tile.in = {hw.linear_in}: a tile row must be a whole number of AXI words "
                          f"or a word ({e} weights) a whole number of tile rows")
    if hw.w_bits % w.width:
        raise ConfigError(f"hardware.weight_word.bits = {hw.w_bits}: must be a multiple of formats.weight's {w.width} bits")
    ew = hw.w_bits // w.width
    if hw.weight_word_rows == 2 and (ew != 2 * hw.linear_in or hw.linear_out % 2):
        raise ConfigError(f"hardware.weight_word: rows = 2 needs bits = 2 x linear_tile.in ({hw.linear_in}) x "
                          f"{w.width} = {2 * hw.linear_in * w.width} and an even linear_tile.out, got {hw.w_bits} bits "
                          f"and out = {hw.linear_out}")
    if hw.weight_word_rows == 1 and ew % hw.linear_in and hw.linear_in % ew:
        raise ConfigError(f"hardware.weight_word.bits = {hw.w_bits}: a tile row must be a whole number of w_ words or "
                          f"a word ({ew} weights) a whole number of tile rows")
    if act.frac < pix.frac or act.int_bits < pix.int_bits + (not pix.signed):
        raise ConfigError(f"formats.pixel: {pix.c_type} must convert to formats.act ({act.c_type}) exactly")
    for role, f in (("bias", b), ("attn_bias", ab)):
        if act.frac < f.frac or act.int_bits < f.int_bits:
            raise ConfigError(f"formats.{role}: {f.c_type} must convert to formats.act ({act.c_type}) exactly")
    # The HLS top (hls/src/linear.h): activations move as whole AXI words of act values; an input
    # block (LI values) and an output block (LO values) are whole words; the patch embedding reads
    # one run of patch_size pixels from one word.
    if hw.axi_width % act.width:
        raise ConfigError(f"formats.act: {act.width} bits do not pack evenly into hardware.axi_width = {hw.axi_width}")
    a = hw.axi_width // act.width
    if hw.linear_in % a or hw.linear_out % a:
        raise ConfigError(f"hardware.linear_tile = {{in: {hw.linear_in}, out: {hw.linear_out}}}: both must be "
                          f"multiples of the {a} activations per {hw.axi_width}-bit word")
    p, ps = hw.axi_width // pix.width, cfg.model.patch_size
    if hw.axi_width % pix.width or p % ps or hw.linear_in % ps:
        raise ConfigError(f"model.patch_size = {ps}: a patch row must lie inside one AXI word of pixels "
                          f"({hw.axi_width} / {pix.width} bits) and divide hardware.linear_tile.in = {hw.linear_in}")
    if acc_format(cfg).width > 64:
        raise ConfigError(f"formats.operand / formats.weight: the exact accumulator needs {acc_format(cfg).width} "
                          f"bits (at most 64)")


def hw_config(cfg: Config) -> KernelHwConfig:
    hw = cfg.hardware
    m = cfg.model
    wp = weight_port_format(cfg)
    a_pw, p_pw = hw.axi_width // cfg.fmt("act").width, hw.axi_width // cfg.fmt("pixel").width
    e = hw.axi_width // cfg.fmt("weight").width
    shapes = [(o, i) for _, o, i, _, _ in layer_shapes(cfg)] + [(m.dim, m.patch_in)]
    w_words = max(o * -(-i // e) for o, i in shapes)
    return KernelHwConfig(
        "linear", "LINEAR", "the unified compute unit (python_ref/kernels/linear.py)",
        constant_list(
            w_w=(wp.width, "weight operand bits (weight and patch_weight exactly)"),
            w_i=(wp.int_bits, "weight operand integer bits"),
            max_in=(max_in(cfg), "largest in_dim of any layer the engine runs"),
            max_out=(max_out(cfg), "largest out_dim"),
            max_rows=(cfg.model.tokens, "largest row count (tokens)"),
            w_per_word=(hw.axi_width // cfg.fmt("weight").width, "weights per AXI word"),
            b_per_word=(hw.axi_width // cfg.fmt("bias").width, "biases per AXI word"),
            a_per_word=(a_pw, "activations per AXI word"),
            p_per_word=(p_pw, "pixels per AXI word"),
            w_words=(w_words, "weight memory depth: the largest layer image (pack_matrix_axi), AXI words"),
            b_words=(-(-max_out(cfg) // (hw.axi_width // cfg.fmt("bias").width)), "bias memory depth, AXI words"),
            x_words=(m.tokens * -(-max_in(cfg) // a_pw), "activation input depth: tokens x widest row, AXI words"),
            y_words=(m.tokens * -(-max_out(cfg) // a_pw), "destination depth: tokens x widest row, AXI words"),
            image_words=(-(-m.channels * m.height * m.width // p_pw), "image depth, AXI words"),
            pos_words=(m.tokens * -(-m.dim // a_pw), "position embedding depth, AXI words"),
            w_bits=(hw.w_bits, "the engine's w_ word, bits (hardware.weight_word.bits; default axi_width)"),
            w_rows=(hw.weight_word_rows, "weight rows per w_ word: 1 row-major (pack_matrix_axi), 2 row pairs "
                    "(pack_matrix_pairs; hardware.weight_word.rows)"),
            weight_fifo_depth=(hw.weight_fifo_depth, "weight prefetch FIFO in front of w_, words (hardware.weight_fifo.depth; "
                               "0: none)"),
        ),
        types=(("w_t", wp, "weight operand of the MAC array"),
               ("acc_t", acc_format(cfg), "exact sum of one output (numerics.linear_sum: exact)")),
    )
