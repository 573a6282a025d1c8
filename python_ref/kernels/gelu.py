"""GELU unit: the numerical specification that hls/src/gelu.cpp and rtl/src/gelu.sv implement.

Both methods compute GELU(x) = ReLU(x) - delta(|x|), with delta(u) = u * Phi(-u) (Phi the
standard normal CDF), which is even in x, tends to 0 fast and is all that separates GELU from
ReLU. delta is tabulated at step h = 2**-S for u = 0 .. R (R / h + 1 entries) and interpolated
linearly; for |x| >= R the unit returns ReLU(x) (delta(5.5) < 1.1e-7).

Evaluation, exactly as the C++ and the RTL do it (x in the activation format, F fraction bits):

1. ``relu = max(x, 0)``; ``a = |x|`` exact (one more bit, so the most negative x does not wrap);
2. if ``a >= R``: ``y = relu``;
3. ``k = floor(a * 2**S)`` (the bits of a above weight h) and ``t = a * 2**S - k``
   (the F - S bits below, an exact ``ap_ufixed<F-S, 0>``);
4. ``delta = T[k] + t * (T[k+1] - T[k])`` computed exactly, then assigned to the table format
   (its quantization and overflow modes; TRN/WRAP by default; it cannot overflow since
   0 <= delta < 1);
5. ``y = relu - delta`` assigned to the activation format (exact: delta has no more fraction
   bits than the activation format in the shipped configs; otherwise the activation format's
   quantization mode applies).

The methods differ only in the table T:

* ``edge_moe``: Edge-MoE's published table, T[k] = delta(k h) rounded to the nearest
  table-format value. Linear interpolation through the exact nodes leaves an error of up to
  h^2/8 * |delta''(0)| = 9.7e-5 (at h = 1/32), always of one sign inside a segment.
* ``minimax``: the same table size and width, same hardware, but each node is moved by a quarter
  of the peak chord errors of its two segments, which centres the error of every segment around
  zero and halves the maximum (measured in docs/RESULTS.md).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..config import Config, ConfigError, GeluConfig
from ..fixed import FixedFormat, Fx
from ..hwconfig import KernelHwConfig, Table, constant_list

METHOD_CODES = {"edge_moe": 0, "minimax": 1}  # gelu_config::method, GELU_METHOD


def delta_exact(u: float) -> float:
    """delta(u) = u * Phi(-u) = u * erfc(u / sqrt 2) / 2 (float64)."""
    return u * 0.5 * math.erfc(u / math.sqrt(2.0))


def gelu_exact(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU in float64, the reference for error measurements."""
    erf = np.vectorize(math.erf, otypes=[np.float64])
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _chord_peak_errors(h: float, entries: int, samples: int = 257) -> np.ndarray:
    """Signed largest error delta(u) - chord(u) inside each of the entries-1 segments."""
    peaks = np.empty(entries - 1)
    t = np.linspace(0.0, 1.0, samples)
    for k in range(entries - 1):
        u0, u1 = k * h, (k + 1) * h
        d0, d1 = delta_exact(u0), delta_exact(u1)
        err = np.array([delta_exact(u0 + ti * h) for ti in t]) - (d0 + t * (d1 - d0))
        peaks[k] = err[np.argmax(np.abs(err))]
    return peaks


@lru_cache(maxsize=None)
def _table_cached(method: str, step_log2: int, entries: int, fmt: FixedFormat) -> tuple:
    h = 2.0 ** -step_log2
    nodes = np.array([delta_exact(k * h) for k in range(entries)])
    if method == "minimax":
        e = _chord_peak_errors(h, entries)
        # Node k is shared by segments k-1 and k: lift it by the mean of their half-peaks so each
        # segment's error swings symmetrically around zero. Node 0 is shared with its mirror
        # segment (delta is even), the last node with the ReLU region, where the error is ~0.
        offset = np.empty(entries)
        offset[0] = e[0] / 2
        offset[1:-1] = (e[:-1] + e[1:]) / 4
        offset[-1] = e[-1] / 4
        nodes = nodes + offset
    nearest = fmt.with_modes(quant="RND", overflow="SAT")
    return tuple(int(v) for v in nearest.from_float(nodes))


def gelu_table(gcfg: GeluConfig) -> np.ndarray:
    """Raw integers of the delta table T (``gcfg.table_format``), ``gcfg.table_entries`` long."""
    return np.array(_table_cached(gcfg.method, gcfg.table_step_log2, gcfg.table_entries,
                                  gcfg.table_format), dtype=np.int64)


def gelu_raw(x_raw, cfg: Config) -> np.ndarray:
    """GELU of activation-format raw integers; returns activation-format raw integers."""
    act = cfg.fmt("act")
    g = cfg.hardware.gelu
    x = act.fx(act.check_raw(x_raw, "gelu input"))
    tfmt = g.table_format
    table = gelu_table(g)
    s = g.table_step_log2

    relu = x.relu()
    a_raw = np.abs(x.raw)  # exact |x| (int64 or Python ints: no wrap at the most negative x)
    range_raw = int(round(g.table_range * (1 << act.frac)))
    in_table = a_raw < range_raw
    a_raw = np.where(in_table, a_raw, 0)  # outside the table the result is relu; any index works

    t_bits = act.frac - s
    k = (a_raw >> t_bits).astype(np.int64)
    t = Fx(a_raw & ((1 << t_bits) - 1), t_bits, 0, signed=False)  # ap_ufixed<F-S, 0>
    lo = tfmt.fx(table[k])
    hi = tfmt.fx(table[k + 1])
    delta = (lo + t * (hi - lo)).cast(tfmt)
    y = (relu - delta).cast(act)
    return np.where(in_table, y.raw, relu.raw).astype(np.int64)


def gelu_float(x: np.ndarray, cfg: Config) -> np.ndarray:
    """Convenience: quantize float inputs to the activation format, apply the unit, return floats."""
    act = cfg.fmt("act")
    return act.to_float(gelu_raw(act.from_float(x), cfg))


def check_config(cfg: Config) -> None:
    """What the C++ and RTL GELU units are built for, beyond parse_config's table checks."""
    act, g = cfg.fmt("act"), cfg.hardware.gelu
    if g.table_format.quant != "TRN":
        raise ConfigError(f"hardware.gelu.table_format.quant: the GELU datapath truncates the interpolated delta "
                          f"(TRN), got {g.table_format.quant}")
    if g.table_format.frac > act.frac:
        raise ConfigError(f"hardware.gelu.table_format: {g.table_format.frac} fraction bits exceed formats.act's "
                          f"{act.frac}: relu - delta would need rounding")
    # t is the |x| bits below the table step: the C++ (static_assert) and the RTL (g_chk_geometry)
    # need at least one of them
    if act.frac <= g.table_step_log2:
        raise ConfigError(f"hardware.gelu.table_step_log2 = {g.table_step_log2}: the C++ and RTL interpolate with the "
                          f"bits of |x| below the table step and need at least one; formats.act has {act.frac} "
                          f"fraction bits (at most {act.frac - 1})")
    if not act.signed or act.width % 8:
        raise ConfigError(f"formats.act: GELU lanes need a signed activation format a whole number of bytes wide, "
                          f"got {act.c_type}")


def hw_config(cfg: Config) -> KernelHwConfig:
    g = cfg.hardware.gelu
    return KernelHwConfig(
        "gelu", "GELU", "GELU(x) = ReLU(x) - delta(|x|), delta tabulated and interpolated (python_ref/kernels/gelu.py)",
        constant_list(
            method=(METHOD_CODES[g.method], "0 edge_moe, 1 minimax"),
            lanes=(g.lanes, "values per stream beat"),
            step_log2=(g.table_step_log2, "table step 2^-step_log2"),
            entries=(g.table_entries, "table entries"),
            range_steps=(g.table_entries - 1, "table_range / step: |x| beyond gives ReLU"),
        ),
        types=(("data_t", cfg.fmt("act"), "activations"), ("table_t", g.table_format, "delta table entries")),
        tables=(Table("GELU_DELTA_TABLE", g.table_format.width, tuple(int(v) for v in gelu_table(g)),
                      f"delta(k / 2^{g.table_step_log2}), method {g.method}: raw table_t bits"),),
    )
