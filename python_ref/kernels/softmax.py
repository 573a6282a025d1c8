"""Softmax: the numerical specification of hls/src/softmax.h and rtl/src/softmax.sv.

Two definitions live here:

* **Two-pass** (:func:`softmax_two_pass_raw`): the accelerator's softmax, implemented bit for bit by
  hls/src/softmax.h (``softmax_top``) and rtl/src/softmax.sv (the MoE gate's softmax; the attention
  unit has the same definition inside). ``m = max_i x_i`` (exact), ``e_i = exp(x_i - m)`` (one exp
  per score), ``s = sum_i e_i`` summed exactly, ``r = reciprocal(s)``, ``p_i = round(e_i * r)``.
  Nothing depends on the order in which the scores arrive.
* **Online** (:func:`softmax_raw`): Edge-MoE's single-pass formulation, kept in python_ref only as
  the reference its error tables compare against (no C++ or RTL implements it any more). Per row a
  running maximum m and sum s, updated once per score in ARRIVAL order. Because every product is
  rounded, the result depends on that order, so the order is an input of this model
  (``order[row, k]`` = index of the k-th score to arrive).

Formats (algorithm choices, documented in docs/nonlinear.md):

* scores x: the activation format (ap_fixed<32,10>, F = 22 fraction bits); m: the same format;
* differences d = x - m or m - x: exact (ap_fixed<33,11>), never rounded;
* e = exp(d <= 0): python_ref.kernels.exp, ap_ufixed<25,1> (24 fraction bits);
* s: SUM_FORMAT = ap_ufixed<32,8> (24 fraction bits). 1 <= s <= (scores seen) <= 255, so it never
  overflows for rows up to MAX_ROW = 255 scores (129 tokens, 16 experts);
* r = 1/s: python_ref.kernels.reciprocal, ap_ufixed<32,1> (31 fraction bits, round to nearest);
* p: PROB_FORMAT = ap_ufixed<25,1> (24 fraction bits; p = 1.0 exactly for a single dominant score).

Rows longer than MAX_ROW = 255 scores are outside the domain: every function here raises. The
hardware cannot be asked for one: its row-length argument is ROW_BITS = 8 bits wide (C++
``ap_uint<8> n``, RTL port ``n[7:0]``), and a length of 0 starts no row (nothing is read, nothing
written).

Online statistics, per row, for the scores x_0, x_1, ... in arrival order (roundings half up):

1. first score: ``m = x_0``, ``s = 1``;
2. each later score x:
   * if ``x > m`` (strictly): ``e = exp(m - x)``, ``s = round(s * e / 2^24) + 1`` (s*e has 48
     fraction bits, rounded to 24; the + 1 is exact), ``m = x``;
   * else: ``e = exp(x - m)``, ``s = s + e`` (exact: same fraction bits);
3. end of row: ``r = reciprocal(s)``.

Probability stage (both forms): ``p_i = round(exp(x_i - m) * r / 2^31)`` (e*r has 55 fraction
bits, rounded to 24). Since e <= 1 and r <= 1, p <= 1 and never overflows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config, ConfigError
from ..fixed import FixedFormat, FixedPointError
from ..hwconfig import KernelHwConfig, constant_list
from .exp import OUT_FORMAT as EXP_FORMAT
from .exp import exp_neg_raw, round_shift
from .reciprocal import SOFTMAX_RECIP_FORMAT as RECIP_FORMAT
from .reciprocal import SOFTMAX_SUM_FORMAT as SUM_FORMAT
from .reciprocal import softmax_reciprocal_raw, steps

PROB_FORMAT = FixedFormat(25, 1, signed=False)
MAX_ROW = (1 << SUM_FORMAT.int_bits) - 1  # s <= row length must fit the sum's integer bits
ROW_BITS = MAX_ROW.bit_length()  # the hardware's row-length argument: it cannot ask for more than MAX_ROW
# rtl/src/reciprocal.sv is bit-serial: one division per K + 3 cycles (K + 1 steps, load, hand over)
RECIP_INTERVAL = steps(SUM_FORMAT.frac, RECIP_FORMAT.frac) + 3
ROWS_IN_FLIGHT = 32  # rtl/src/softmax.sv: rows admitted and not yet finished (depth of its row FIFOs)
_ONE_SUM = 1 << SUM_FORMAT.frac


@dataclass(frozen=True)
class SoftmaxResult:
    """Raw integers: per-row statistics m (act), s (SUM_FORMAT), r (RECIP_FORMAT) and the
    probabilities p (PROB_FORMAT) in the scores' ORIGINAL positions."""

    m: np.ndarray
    s: np.ndarray
    r: np.ndarray
    p: np.ndarray


def check_order(order, rows: int, n: int) -> np.ndarray:
    """Validate an arrival order: an int array (rows, n) whose every row is a permutation of 0..n-1."""
    order = np.asarray(order)
    if order.shape != (rows, n):
        raise FixedPointError(f"softmax order: expected shape ({rows}, {n}), got {order.shape}")
    if order.dtype.kind not in "iu":
        raise FixedPointError(f"softmax order: expected integers, got dtype {order.dtype}")
    if not np.array_equal(np.sort(order, axis=1), np.broadcast_to(np.arange(n), (rows, n))):
        bad = int(np.nonzero(~np.all(np.sort(order, axis=1) == np.arange(n), axis=1))[0][0])
        raise FixedPointError(f"softmax order: row {bad} is not a permutation of 0..{n - 1}")
    return order.astype(np.int64)


def rotated_order(rows: int, n: int, shifts) -> np.ndarray:
    """Arrival order of rows fed rotated: row i starts at score shifts[i] and wraps around."""
    shifts = np.broadcast_to(np.asarray(shifts, dtype=np.int64), (rows,))
    return (np.arange(n)[None, :] + shifts[:, None]) % n


def softmax_stats_raw(x_raw, order, cfg: Config):
    """Statistics stage: returns raw (m, s, r), one per row. ``x_raw``: (rows, n) activation raws."""
    act = cfg.fmt("act")
    x = act.check_raw(np.asarray(x_raw), "softmax scores")
    if x.ndim != 2 or x.shape[1] < 1:
        raise FixedPointError(f"softmax scores: expected a (rows, n >= 1) array, got shape {x.shape}")
    rows, n = x.shape
    if n > MAX_ROW:
        raise FixedPointError(f"softmax: rows of {n} scores exceed the sum format's limit of {MAX_ROW}")
    x = x.astype(np.int64)
    order = np.broadcast_to(np.arange(n), (rows, n)) if order is None else check_order(order, rows, n)
    seq = np.take_along_axis(x, order, axis=1)
    m = seq[:, 0].copy()
    s = np.full(rows, _ONE_SUM, dtype=np.int64)
    for k in range(1, n):
        xk = seq[:, k]
        new_max = xk > m
        # one exp per score: of (m - x) on a new maximum, of (x - m) otherwise; both <= 0.
        e = exp_neg_raw(np.where(new_max, m - xk, xk - m), act.frac)
        s = np.where(new_max, round_shift(s * e, EXP_FORMAT.frac) + _ONE_SUM, s + e)
        m = np.where(new_max, xk, m)
    r = softmax_reciprocal_raw(s)
    return m, s, r


def softmax_prob_raw(x_raw, m, r, cfg: Config) -> np.ndarray:
    """Probability stage: p = round(exp(x - m) * r), raw PROB_FORMAT, same shape as x_raw."""
    act = cfg.fmt("act")
    x = act.check_raw(np.asarray(x_raw), "softmax scores").astype(np.int64)
    m = act.check_raw(np.asarray(m), "softmax row maximum m").astype(np.int64)
    r = RECIP_FORMAT.check_raw(np.asarray(r), "softmax reciprocal r").astype(np.int64)
    if x.ndim != 2 or m.shape != (x.shape[0],) or r.shape != (x.shape[0],):
        raise FixedPointError(f"softmax_prob: scores (rows, n) with one m and one r per row, got shapes {x.shape}, "
                              f"{m.shape}, {r.shape}")
    e = exp_neg_raw(x - m[:, None], act.frac)
    return round_shift(e * r[:, None], EXP_FORMAT.frac + RECIP_FORMAT.frac - PROB_FORMAT.frac)


def softmax_two_pass_stats_raw(x_raw, cfg: Config, fmt: FixedFormat | None = None):
    """Two-pass statistics (the accelerator's softmax: the MoE gate and the attention unit): per row
    ``m = max_i x_i`` (exact, any order), ``e_i = exp(x_i - m)`` (the exp unit, EXP_FORMAT),
    ``s = sum_i e_i`` summed exactly in SUM_FORMAT (integers: any order and grouping give the same
    bits; s <= n <= MAX_ROW never overflows), ``r = reciprocal(s)``. Returns raw (m, s, r, e), e of
    the same shape as x. Unlike the online recurrence, nothing here depends on the arrival order.

    ``fmt``: the format of the scores x (and of m), default the activation format; the attention
    passes its score format. The exp unit reads the exact difference x - m with ``fmt.frac``
    fraction bits."""
    xf = cfg.fmt("act") if fmt is None else fmt
    x = xf.check_raw(np.asarray(x_raw), "softmax scores")
    if x.ndim != 2 or x.shape[1] < 1:
        raise FixedPointError(f"softmax scores: expected a (rows, n >= 1) array, got shape {x.shape}")
    if x.shape[1] > MAX_ROW:
        raise FixedPointError(f"softmax: rows of {x.shape[1]} scores exceed the sum format's limit of {MAX_ROW}")
    x = x.astype(np.int64)
    m = x.max(axis=1)
    e = exp_neg_raw(x - m[:, None], xf.frac)
    s = e.sum(axis=1)
    return m, s, softmax_reciprocal_raw(s), e


def softmax_two_pass_raw(x_raw, cfg: Config) -> SoftmaxResult:
    """Two-pass softmax of each row: :func:`softmax_two_pass_stats_raw`, then the probability stage
    ``p_i = round(e_i * r / 2^31)`` (the same stage as the online form's)."""
    m, s, r, e = softmax_two_pass_stats_raw(x_raw, cfg)
    p = round_shift(e * r[:, None], EXP_FORMAT.frac + RECIP_FORMAT.frac - PROB_FORMAT.frac)
    return SoftmaxResult(m=m, s=s, r=r, p=p)


def softmax_raw(x_raw, cfg: Config, order=None) -> SoftmaxResult:
    """Online softmax of each row of ``x_raw`` (rows, n), scores arriving in ``order`` (default
    0..n-1). Every value is a raw integer; see the module docstring for the formats."""
    m, s, r = softmax_stats_raw(x_raw, order, cfg)
    return SoftmaxResult(m=m, s=s, r=r, p=softmax_prob_raw(x_raw, m, r, cfg))


def softmax_float(x: np.ndarray, cfg: Config, order=None) -> np.ndarray:
    """Convenience: quantize float scores to the activation format, return float probabilities."""
    act = cfg.fmt("act")
    return PROB_FORMAT.to_float(softmax_raw(act.from_float(np.atleast_2d(x)), cfg, order).p)


def gate_row_cycles(cfg: Config) -> int:
    """Cycles per gate row of the linear engine (one row every ceil(D / LI) * ceil(E / LO) steps): the
    rate at which the MoE gate's logits arrive."""
    m, hw = cfg.model, cfg.hardware
    return -(-m.dim // hw.linear_in) * -(-m.experts // hw.linear_out)


def lanes(cfg: Config) -> int:
    """rtl/src/softmax.sv's lanes (scores per beat, exp units): the smallest power of two whose
    ceil(E / lanes) beats per gate row keep pace with the gate call's rows."""
    E, g = cfg.model.experts, gate_row_cycles(cfg)
    n = 1
    while -(-E // n) > g:
        n *= 2
    return n


def row_period(cfg: Config) -> int:
    """Cycles per token of the MoE router (rtl/src/moe.sv): the gate call's row period, at least the
    ceil(E / lanes) softmax beats and the k queue writes of a token."""
    return max(gate_row_cycles(cfg), -(-cfg.model.experts // lanes(cfg)), cfg.model.top_k)


def reciprocals(cfg: Config) -> int:
    """Bit-serial reciprocal units of rtl/src/softmax.sv: enough for one gate row per row_period."""
    return -(-RECIP_INTERVAL // row_period(cfg))


def check_config(cfg: Config) -> None:
    """Rows the softmax sum format can hold: attention rows (tokens) and gate rows (experts)."""
    m = cfg.model
    if m.tokens > MAX_ROW:
        raise ConfigError(f"model.image / model.patch_size: {m.tokens} tokens exceed the softmax's {MAX_ROW}-score "
                          f"rows (its sum format {SUM_FORMAT.c_type} holds at most {MAX_ROW})")
    if m.experts > MAX_ROW:
        raise ConfigError(f"model.moe.experts = {m.experts} exceeds the softmax's {MAX_ROW}-logit rows")


def hw_config(cfg: Config) -> KernelHwConfig:
    return KernelHwConfig(
        "softmax", "SOFTMAX", "two-pass softmax (python_ref/kernels/softmax.py)",
        constant_list(max_row=(MAX_ROW, "longest row: the sum format holds s <= 255"),
                      row_bits=(ROW_BITS, "row-length argument bits: cannot exceed max_row"),
                      lanes=(lanes(cfg), "RTL lanes (scores per beat, exp units): keep pace with the gate call"),
                      reciprocals=(reciprocals(cfg), "RTL bit-serial reciprocal units"),
                      recip_interval=(RECIP_INTERVAL, "cycles per division of one bit-serial reciprocal"),
                      rows_in_flight=(ROWS_IN_FLIGHT, "RTL rows in flight (row FIFO depth)")),
        types=(("score_t", cfg.fmt("act"), "scores / logits"),
               ("sum_t", SUM_FORMAT, "row sum s (exact sum of exp values)"),
               ("recip_t", RECIP_FORMAT, "1/s"),
               ("exp_t", EXP_FORMAT, "exp(x - m)"),
               ("prob_t", PROB_FORMAT, "probabilities p = round(e * r)")),
    )
