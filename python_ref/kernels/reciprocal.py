"""Reciprocal unit: the numerical specification of hls/src/reciprocal.h (and rtl/src/reciprocal.sv).

Unsigned fixed-point in (``frac_in`` fraction bits), unsigned fixed-point out (``width_out`` bits,
``frac_out`` fraction bits). The result is the exactly rounded quotient, ties up:

    r_raw = min(floor((floor(2^(frac_in + frac_out + 1) / x_raw) + 1) / 2), 2^width_out - 1)

i.e. round(2^(frac_in+frac_out) / x_raw) computed by an exact restoring division of the power of
two 2^K, K = frac_in + frac_out + 1, by x_raw (K + 1 quotient bits, one per step: bit-serial in
RTL, the same unrolled integer recurrence in C++), then one rounding bit. Inputs whose reciprocal
does not fit the output saturate to the largest output; x = 0 gives the largest output too (no
division by zero, no wrap). Error over the domain: at most half an output LSB (exact rounding).

Instances:

* softmax 1/s: s in SUM_FORMAT = ap_ufixed<32,8> (24 fraction bits, s in [1, 255] by
  construction), 1/s in ``SOFTMAX_RECIP_FORMAT`` = ap_ufixed<32,1> (31 fraction bits, 1/s in
  (1/256, 1]): error <= 2^-32 absolute, <= 2^-24 relative at s = 255;
* LayerNorm 1/sigma: a 30-bit normalised integer sigma' in [2^29, 2^30) to round(2^59 / sigma')
  in (2^29, 2^30] (31 bits), see python_ref/kernels/layernorm.py.
"""
from __future__ import annotations

import numpy as np

from ..config import Config
from ..fixed import FixedFormat, FixedPointError
from ..hwconfig import KernelHwConfig, constant_list

SOFTMAX_SUM_FORMAT = FixedFormat(32, 8, signed=False)  # the softmax running sum s
SOFTMAX_RECIP_FORMAT = FixedFormat(32, 1, signed=False)  # 1/s
MAX_K = 62  # 2^(K) must stay inside int64 (K = frac_in + frac_out + 1)


def reciprocal_raw(x_raw, frac_in: int, width_out: int, frac_out: int) -> np.ndarray:
    """round(2^(frac_in+frac_out) / x_raw) ties up, saturated to ``width_out`` unsigned bits."""
    k = frac_in + frac_out + 1
    if not 1 <= k <= MAX_K or not 1 <= width_out <= 62:
        raise FixedPointError(f"reciprocal: frac_in + frac_out + 1 = {k} must be in [1, {MAX_K}] and "
                              f"width_out = {width_out} in [1, 62]")
    x = np.asarray(x_raw)
    if x.dtype.kind not in "iu" and not (x.dtype == object and x.size and all(isinstance(v, int) for v in x.flat)):
        raise FixedPointError(f"reciprocal: raw inputs must be integers, got dtype {x.dtype}")
    x = x.astype(np.int64)
    if x.size and int(x.min()) < 0:
        raise FixedPointError("reciprocal: the input is unsigned, got a negative raw value")
    top = (1 << width_out) - 1
    safe = np.where(x == 0, 1, x)
    q = (np.int64(1) << k) // safe
    r = (q + 1) >> 1
    return np.where((x == 0) | (r > top), top, r).astype(np.int64)


def softmax_reciprocal_raw(s_raw) -> np.ndarray:
    """The softmax instance: ap_ufixed<32,8> -> ap_ufixed<32,1>."""
    return reciprocal_raw(s_raw, SOFTMAX_SUM_FORMAT.frac, SOFTMAX_RECIP_FORMAT.width, SOFTMAX_RECIP_FORMAT.frac)


def steps(frac_in: int, frac_out: int) -> int:
    """K = frac_in + frac_out + 1: the power of two divided (K + 1 quotient bits, one per step)."""
    return frac_in + frac_out + 1


def hw_config(cfg: Config) -> KernelHwConfig:
    return KernelHwConfig(
        "reciprocal", "RECIP", "reciprocal unit, softmax instance 1/s (python_ref/kernels/reciprocal.py)",
        constant_list(
            softmax_wi=(SOFTMAX_SUM_FORMAT.width, "input bits (ap_ufixed<32,8> sum)"),
            softmax_k=(steps(SOFTMAX_SUM_FORMAT.frac, SOFTMAX_RECIP_FORMAT.frac), "divide 2^K"),
            softmax_wo=(SOFTMAX_RECIP_FORMAT.width, "output bits (ap_ufixed<32,1>)"),
            max_k=(MAX_K, "largest K (2^K fits int64)"),
        ),
        types=(("sum_t", SOFTMAX_SUM_FORMAT, "softmax sum s in [1, 255]"),
               ("recip_t", SOFTMAX_RECIP_FORMAT, "1/s in (1/256, 1]")),
    )
