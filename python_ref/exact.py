"""Exact integer arithmetic for the specs whose dot products are exact (the unified MAC array:
python_ref.kernels.linear with ``numerics.linear_sum: exact``, python_ref.kernels.attention):
integer matrix products computed exactly with float64 BLAS (:func:`exact_matmul`), and the
assignment of products wider than int64 to a fixed-point format (:func:`assign_exact_product`)."""
from __future__ import annotations

import numpy as np

from .fixed import FixedFormat, FixedPointError

F64_EXACT_BITS = 53  # every integer of magnitude <= 2^53 is a float64
# OpenBLAS runs a GEMM on one thread when M*N*K <= 65536 * GEMM_MULTITHREAD_THRESHOLD (default 4).
# The specs' GEMMs are often just above that, and a small multithreaded GEMM on a busy machine spends
# its time waiting for threads (measured on a loaded 2-core host: 84 ms for one (3,129,64)@(3,64,129)
# product against 0.4 ms in row blocks under the threshold). Speed only: the bits do not change.
BLAS_SINGLE_THREAD_MNK = 65536 * 4


class ExactArithmeticError(FixedPointError):
    """Bad operands of an exact product (the message names the problem)."""



def _bits(x: np.ndarray) -> int:
    """Smallest K with |x| <= 2^K - 1 for every element (0 for an empty or all-zero array)."""
    if x.size == 0:
        return 0
    if x.dtype == object:
        return max(abs(int(v)).bit_length() for v in x.flat)
    lo, hi = int(x.min()), int(x.max())
    return max(abs(lo).bit_length(), abs(hi).bit_length())


def _digits(x: np.ndarray, p: int, n: int) -> list:
    """x = sum_i digit_i 2^(i p): n - 1 unsigned low digits in [0, 2^p), a signed top digit x >> (n-1)p.
    For |x| <= 2^K - 1 and K <= n p every digit has magnitude <= 2^p."""
    mask = (1 << p) - 1
    return [(x >> (i * p)) & mask for i in range(n - 1)] + [x >> ((n - 1) * p)]


def split_plan(a_bits: int, b_bits: int, inner: int) -> tuple[int, int]:
    """Piece widths (pa, pb) for :func:`exact_matmul`: pa + pb + ceil(log2 inner) <= 53, fewest
    float64 products ceil(a_bits / pa) * ceil(b_bits / pb) (ties: the larger pa)."""
    budget = F64_EXACT_BITS - max(inner - 1, 0).bit_length()
    if a_bits + b_bits <= budget:
        return max(a_bits, 1), max(b_bits, 1)
    if budget < 2:
        raise ExactArithmeticError(f"exact_matmul: inner dimension {inner} is too long for exact float64 sums")
    best = None
    for pa in range(1, min(a_bits, budget - 1) + 1):
        pb = min(budget - pa, b_bits)
        cost = (-(-a_bits // pa)) * (-(-b_bits // pb))
        if best is None or cost <= best[0]:
            best = (cost, pa, pb)
    return best[1], best[2]


def _blas_matmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """float64 ``x @ y`` in row blocks of at most BLAS_SINGLE_THREAD_MNK multiply-adds per GEMM."""
    m, k = x.shape[-2:]
    n = y.shape[-1]
    rows = max(1, BLAS_SINGLE_THREAD_MNK // max(1, k * n))
    if m <= rows:
        return np.matmul(x, y)
    return np.concatenate([np.matmul(x[..., i:i + rows, :], y) for i in range(0, m, rows)], axis=-2)


def exact_matmul(a, b) -> np.ndarray:
    """The exact integer matrix product ``a @ b`` (numpy matmul broadcasting), computed with float64
    BLAS.

    Proof of exactness. Let |a| <= 2^Ka - 1, |b| <= 2^Kb - 1 and n the inner dimension. Each operand
    is split into base-2^p digits (:func:`_digits`): a = sum_i a_i 2^(i pa), b = sum_j b_j 2^(j pb),
    every digit an integer with |a_i| <= 2^pa, |b_j| <= 2^pb (the low digits are unsigned and below
    2^p; the top digit x >> s of |x| < 2^K lies in [-2^(K-s), 2^(K-s) - 1] and K - s <= p). Every
    digit is therefore exactly a float64, and so is every product a_i[., c] b_j[c, .] (|.| <=
    2^(pa+pb)). The widths satisfy pa + pb + ceil(log2 n) <= 53 (:func:`split_plan`), so every
    partial sum of n such products, in any order and grouping BLAS may use, with or without FMA,
    is an integer of magnitude <= n 2^(pa+pb) <= 2^53: representable, hence computed without
    rounding. Each digit product matrix P_ij is thus exact and converts to int64 exactly.

    Recombination: a @ b = sum_ij P_ij 2^(i pa + j pb), in int64 (|P_ij| <= 2^53 converts exactly;
    shifts i pa + j pb <= Ka + Kb <= 62). The true result has |.| <= n (2^Ka - 1)(2^Kb - 1) <
    2^(Ka + Kb + ceil(log2 n)); when Ka + Kb + ceil(log2 n) <= 62 it fits int64. numpy's int64 array
    shifts and sums are two's-complement arithmetic modulo 2^64 (they wrap silently), so even if a
    single shifted term or partial sum left the int64 range, the final sum modulo 2^64 is the true
    result. Larger results are computed with Python integers (object arrays), exactly but slowly.
    tests/test_attention.py checks the helper against a pure-integer product, worst cases included.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    for name, x in (("a", a), ("b", b)):
        if x.size and x.dtype.kind not in "iuO":
            raise ExactArithmeticError(f"exact_matmul: {name} must hold integers, got dtype {x.dtype}")
        if x.ndim < 2:
            raise ExactArithmeticError(f"exact_matmul: {name} must be at least 2-D, got shape {x.shape}")
    if a.shape[-1] != b.shape[-2]:
        raise ExactArithmeticError(f"exact_matmul: inner dimensions differ: a {a.shape}, b {b.shape}")
    n = a.shape[-1]
    ka, kb = _bits(a), _bits(b)
    log_n = max(n - 1, 0).bit_length()
    if a.dtype == object or b.dtype == object or ka + kb + log_n > 62 or ka > 62 or kb > 62:
        return np.matmul(a.astype(object), b.astype(object))
    a = a.astype(np.int64)
    b = b.astype(np.int64)
    if ka == 0 or kb == 0 or n == 0:
        return np.matmul(a, b)  # all products are 0: integer matmul (exact) gives the zeros and the shape
    pa, pb = split_plan(ka, kb, n)
    na, nb = -(-ka // pa), -(-kb // pb)
    da = [x.astype(np.float64) for x in _digits(a, pa, na)]
    db = [x.astype(np.float64) for x in _digits(b, pb, nb)]
    out = None
    for i, ai in enumerate(da):
        for j, bj in enumerate(db):
            term = _blas_matmul(ai, bj).astype(np.int64) << (i * pa + j * pb)
            out = term if out is None else out + term
    return out


def assign_exact_product(a, b, frac_in: int, fmt: FixedFormat) -> np.ndarray:
    """``fmt``'s assignment of the exact products ``a * b`` (broadcast; raw integers with ``frac_in``
    fraction bits in total) for int64 operands whose products may exceed int64: raw ``fmt`` integers.

    With |a| <= 2^Ka - 1, |b| <= 2^Kb - 1 and s = frac_in - fmt.frac the rounding shift: if
    Ka + Kb <= 60 the product is formed in int64. Otherwise b = bh 2^c + bl with bh = b >> c and
    0 <= bl < 2^c, so a b = X 2^c + B with X = a bh + ((a bl) >> c) and 0 <= B = (a bl) mod 2^c <
    2^c. c = min(max(1, Ka + Kb - 58), 63 - Ka) keeps |a bl| < 2^63; |X| < 2^(Ka+Kb-c) + 2^Ka, so
    when c >= Ka + Kb - 61 and Ka <= 60, v' = 2X + [B != 0] has |v'| < 2^62 + 2^61 + 1: all fit int64.
    If also 1 <= c <= s - 1, v' with frac_in - c + 1 fraction bits assigns to the same raw value as
    the exact product in every quantization and overflow mode: measured in units of 2^-(frac_in-c)
    ("X-units"), the output LSB is 2^(s-c) >= 2 X-units and half of it an integer number of X-units;
    v = X + B/2^c and v'/2 = X + [B != 0]/2 have the same floor at any such LSB, the same sign
    (v < 0 iff X < 0, as 0 <= B < 2^c), a zero remainder together, and remainders that compare
    alike with half an LSB, since their parts below one X-unit are both 0 or both strictly inside
    (0, 1). Outside these conditions, or for object arrays, the product is formed with Python
    integers (exact, slow). tests/test_attention.py checks both paths against Python integers."""
    a = np.asarray(a)
    b = np.asarray(b)
    ka, kb = _bits(a), _bits(b)
    s = frac_in - fmt.frac
    if a.dtype != object and b.dtype != object:
        a = a.astype(np.int64)
        b = b.astype(np.int64)
        if ka + kb <= 60:
            return fmt.quantize(a * b, frac_in)
        c = min(max(1, ka + kb - 58), 63 - ka)
        if 1 <= c <= s - 1 and c >= ka + kb - 61 and ka <= 60:
            low = a * (b & ((1 << c) - 1))
            x = a * (b >> c) + (low >> c)
            sticky = (low & ((1 << c) - 1)) != 0
            return fmt.quantize(2 * x + sticky.astype(np.int64), frac_in - c + 1)
    prod = np.asarray(a, dtype=object) * np.asarray(b, dtype=object)
    return fmt.quantize(prod, frac_in)
