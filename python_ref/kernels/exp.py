"""exp unit for arguments x <= 0: the numerical specification of hls/src/exp.h (and rtl/src/exp.sv).

The softmaxes only ever need exp(d) with d = s_i - m <= 0, so the unit is defined for x <= 0 and
saturates any x > 0 to exp(0) = 1 (never reached by the softmax; defined so that no input gives
garbage). The input is any signed fixed-point value with ``frac_in`` fraction bits (the softmax
feeds the exact difference of two activations, ap_fixed<33,11>: 22 fraction bits); the output is
``ap_ufixed<25,1>`` (24 fraction bits, so exp(0) = 1.0 is exact).

Algorithm: base-2 range reduction, a 128-entry table of 2^(-j/128) and a quadratic (Taylor)
correction for the remaining 17 bits, then a shift. With u = -x >= 0 and every rounding
"half up" (``round(v / 2^s) = (v + 2^(s-1)) >> s``, ap_fixed's AP_RND), in integers:

1. ``u = max(-x_raw, 0)``; if ``u >= 32 * 2^frac_in`` (x <= -32) the result is 0.
2. ``t = round(u * LOG2E / 2^(frac_in + 31 - 24))``: t = u * log2(e) with 24 fraction bits,
   ``LOG2E = round(log2(e) * 2^31) = 3098164009``.
3. ``n = t >> 24`` (integer part), ``j = (t >> 17) & 127`` (first 7 fraction bits),
   ``r = t & (2^17 - 1)`` (the last 17, r < 2^-7 as a value): 2^-t = 2^-n * 2^(-j/128) * 2^-r.
4. if ``n >= 26`` the result is 0 (2^-t < 2^-26 rounds to 0 at 24 fraction bits).
5. 2^-r = exp(-r ln2) ~ 1 - r*(C1 - r*C2) in Horner form with 28 fraction bits:
   ``q1 = round(C2 * r / 2^24)``, ``q2 = round((C1 - q1) * r / 2^24)``, ``p = 2^28 - q2``;
   ``C1 = round(ln2 * 2^28) = 186065279``, ``C2 = round(ln2^2/2 * 2^28) = 64485312``.
6. ``m = T[j] * p`` (exact, 56 fraction bits), ``T[j] = round(2^(-j/128) * 2^28)`` (29-bit
   entries, T[0] = 2^28).
7. ``y = round(m / 2^(32 + n))``: 24 fraction bits, shifted right by n.

Widths (largest magnitudes): u < 2^27, u*LOG2E < 2^59, t < 2^30, C2*r < 2^43, (C1-q1)*r < 2^45,
m <= 2^56: every intermediate fits int64 and an unsigned C++ integer of the stated width.

Error budget (max absolute error against float64, measured over every activation-format
x <= 0 by tests/test_exp.py): Taylor remainder (r ln2)^3/6 < 2^-25.2, the table and Horner
roundings < 2^-28, the rounding of t (2^-25 in the exponent, 2^-25.5 relative), the final
rounding 2^-25: documented bound < 2^-23, design target 2^-18.
"""
from __future__ import annotations

import math

import numpy as np

from ..config import Config, ConfigError
from ..fixed import FixedFormat, FixedPointError
from ..hwconfig import KernelHwConfig, Table, constant_list

OUT_FRAC = 24
OUT_FORMAT = FixedFormat(OUT_FRAC + 1, 1, signed=False)  # ap_ufixed<25,1>: [0, 1]
LOG2E_FRAC = 31
LOG2E_RAW = round(math.log2(math.e) * (1 << LOG2E_FRAC))  # 3098164009
T_FRAC = 24  # fraction bits of t = u * log2(e)
TABLE_BITS = 7  # 2^(-j/128), j = 0..127
TABLE_ENTRIES = 1 << TABLE_BITS
TABLE_FRAC = 28
R_BITS = T_FRAC - TABLE_BITS  # 17
POLY_FRAC = 28
C1_RAW = round(math.log(2.0) * (1 << POLY_FRAC))  # 186065279
C2_RAW = round(math.log(2.0) ** 2 / 2 * (1 << POLY_FRAC))  # 64485312
INPUT_LIMIT_LOG2 = 5  # x <= -32 -> 0
N_ZERO = 26  # 2^-t with t >= 26 rounds to 0
MAX_FRAC_IN = 25  # u * LOG2E must fit in 62 bits


def exp_table() -> np.ndarray:
    """T[j] = round(2^(-j/128) * 2^28), j = 0..127 (raw integers, T[0] = 2^28)."""
    j = np.arange(TABLE_ENTRIES, dtype=np.float64)
    return np.floor(np.exp2(-j / TABLE_ENTRIES) * (1 << TABLE_FRAC) + 0.5).astype(np.int64)


_TABLE = exp_table()


def round_shift(v, s):
    """round(v / 2^s), ties toward +inf (AP_RND), for int64 arrays and s >= 1 (scalar or array)."""
    v = np.asarray(v, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    return (v + (np.int64(1) << (s - 1))) >> s


def exp_neg_raw(x_raw, frac_in: int) -> np.ndarray:
    """exp(x) for signed raw integers x with ``frac_in`` fraction bits; raw ap_ufixed<25,1> out."""
    if not 0 <= frac_in <= MAX_FRAC_IN:
        raise FixedPointError(f"exp: input fraction bits must be in [0, {MAX_FRAC_IN}], got {frac_in}")
    x = np.asarray(x_raw)
    if x.dtype.kind not in "iu":
        raise FixedPointError(f"exp: raw inputs must be integers, got dtype {x.dtype}")
    x = x.astype(np.int64)
    u = np.maximum(-x, 0)
    small = u < (np.int64(1) << (frac_in + INPUT_LIMIT_LOG2))
    u = np.where(small, u, 0)
    t = round_shift(u * LOG2E_RAW, frac_in + LOG2E_FRAC - T_FRAC)
    n = t >> T_FRAC
    j = (t >> R_BITS) & (TABLE_ENTRIES - 1)
    r = t & ((1 << R_BITS) - 1)
    q1 = round_shift(C2_RAW * r, T_FRAC)
    q2 = round_shift((C1_RAW - q1) * r, T_FRAC)
    p = (np.int64(1) << POLY_FRAC) - q2
    m = _TABLE[j] * p
    live = small & (n < N_ZERO)
    shift = np.where(live, TABLE_FRAC + POLY_FRAC - OUT_FRAC + n, 1)
    y = round_shift(m, shift)
    return np.where(live, y, 0).astype(np.int64)


def exp_neg_float(x: np.ndarray, fmt: FixedFormat) -> np.ndarray:
    """Convenience: quantize floats to ``fmt``, apply the unit, return floats."""
    return OUT_FORMAT.to_float(exp_neg_raw(fmt.from_float(x), fmt.frac))


def input_format(cfg: Config) -> FixedFormat:
    """The softmax's argument: the exact difference of two activations (one more integer bit)."""
    act = cfg.fmt("act")
    return FixedFormat(act.width + 1, act.int_bits + 1)


def check_config(cfg: Config) -> None:
    """What the C++ and RTL exp units can be built for (raises ConfigError naming the field)."""
    act = cfg.fmt("act")
    if not 0 <= act.frac <= MAX_FRAC_IN:
        raise ConfigError(f"formats.act: the exp unit takes differences of activations with at most {MAX_FRAC_IN} "
                          f"fraction bits (u * log2(e) must fit 62 bits), {act.c_type} has {act.frac}")


def hw_config(cfg: Config) -> KernelHwConfig:
    return KernelHwConfig(
        "exp", "EXP", "exp unit for x <= 0 (python_ref/kernels/exp.py)",
        constant_list(
            out_frac=(OUT_FRAC, "fraction bits of the result ap_ufixed<25,1>"),
            log2e_frac=(LOG2E_FRAC, "fraction bits of LOG2E_RAW"),
            log2e_raw=(LOG2E_RAW, "round(log2(e) * 2^31)"),
            t_frac=(T_FRAC, "fraction bits of t = u * log2(e)"),
            table_bits=(TABLE_BITS, "2^(-j/128): j has 7 bits"),
            table_frac=(TABLE_FRAC, "fraction bits of the table entries"),
            r_bits=(R_BITS, "bits of the remainder r below the table index"),
            poly_frac=(POLY_FRAC, "fraction bits of the Horner polynomial"),
            c1_raw=(C1_RAW, "round(ln2 * 2^28)"),
            c2_raw=(C2_RAW, "round(ln2^2 / 2 * 2^28)"),
            input_limit_log2=(INPUT_LIMIT_LOG2, "x <= -2^5 gives 0"),
            n_zero=(N_ZERO, "2^-t with t >= 26 rounds to 0"),
            max_frac_in=(MAX_FRAC_IN, "most input fraction bits (u * log2(e) fits 62 bits)"),
        ),
        types=(("out_t", OUT_FORMAT, "exp(x) in [0, 1], 24 fraction bits"),
               ("in_t", input_format(cfg), "the exact difference of two activations")),
        tables=(Table("EXP_TABLE", TABLE_FRAC + 1, tuple(int(v) for v in exp_table()),
                      "T[j] = round(2^(-j/128) * 2^28)"),),
    )
