"""Vectorized, bit-accurate model of Vitis HLS ``ap_fixed<W,I,Q,O>`` / ``ap_ufixed<W,I,Q,O>``.

Values are numpy arrays of raw two's-complement integers (the ``.V`` of ap_fixed). The model
follows ap_fixed's rules exactly:

* ``+ - *`` and negation are exact: the result type grows as ap_fixed's ``RType`` says
  (a product has W1+W2 bits, a sum one more integer bit than the wider operand), so no
  intermediate ever rounds or wraps;
* quantization (``Q``) and overflow (``O``) happen only on assignment, i.e. :meth:`Fx.cast`;
  rounding is applied first, then overflow handling on the rounded value, as in
  ``ap_fixed_base::quantization_adjust`` followed by ``overflow_adjust``;
* division follows ``ap_fixed_base::operator/`` in C simulation: the dividend is shifted left by
  the divisor's fraction bits, divided as integers truncating toward zero in the header's
  internal width ``_W1``, and the quotient (with the dividend's fraction bits) wraps into the
  ``RType::div`` width. Both wraps matter only for the most negative dividend over a divisor of
  raw -1, whose exact quotient comes out negated, as in the header (e.g. ap_fixed<16,5>(-16) /
  ap_fixed<16,2>(-2**-14) is -2**18);
* conversion from float64 is the exact quantization of the double's exact binary value
  (``ap_fixed_base(double)``; the header reads a denormal as if it had the implicit leading 1,
  which only matters for types with more than ~1000 fraction bits, beyond ap_fixed's default
  1024-bit limit in practice, so it is not modelled). NaN and infinity raise instead of
  producing the header's undefined bit patterns;
* one-bit signed ``AP_SAT_SYM`` saturates like ``AP_SAT`` (the header's symmetric minimum
  of a 1-bit type is its minimum).

Arrays use int64 while every raw value provably fits in 62 bits, and Python integers (numpy object
arrays) beyond that, so any width is exact. ``tests/test_fixed_equivalence.py`` proves all of this
against the real ap_fixed headers compiled with g++.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUANT_MODES = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV")
OVERFLOW_MODES = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")
_INT64_SAFE_BITS = 62


def raw_bounds(width: int, signed: bool) -> tuple[int, int]:
    """The smallest and largest raw integer of a ``width``-bit two's-complement (signed) or unsigned word."""
    if signed:
        return -(1 << (width - 1)), (1 << (width - 1)) - 1
    return 0, (1 << width) - 1


class FixedPointError(ValueError):
    """Bad fixed-point format or operation (names the offending value)."""


@dataclass(frozen=True)
class FixedFormat:
    """An ``ap_fixed`` (signed) or ``ap_ufixed`` (unsigned) type with its Q and O modes."""

    width: int
    int_bits: int
    signed: bool = True
    quant: str = "TRN"
    overflow: str = "WRAP"

    def __post_init__(self):
        if not isinstance(self.width, int) or self.width < 1:
            raise FixedPointError(f"width must be an integer >= 1, got {self.width!r}")
        if not isinstance(self.int_bits, int):
            raise FixedPointError(f"int_bits must be an integer, got {self.int_bits!r}")
        if self.quant not in QUANT_MODES:
            raise FixedPointError(f"quantization mode {self.quant!r} unknown; allowed: {', '.join(QUANT_MODES)}")
        if self.overflow not in OVERFLOW_MODES:
            raise FixedPointError(f"overflow mode {self.overflow!r} unknown; allowed: {', '.join(OVERFLOW_MODES)}")

    # -- derived properties -------------------------------------------------------------------

    def codes(self) -> dict:
        """The fields as the generated C++ header and SystemVerilog package carry them (python_ref.codegen):
        W, I, SIGNED (0 / 1), QUANT and OVERFLOW (indices in QUANT_MODES / OVERFLOW_MODES)."""
        return {"W": self.width, "I": self.int_bits, "SIGNED": int(self.signed),
                "QUANT": QUANT_MODES.index(self.quant), "OVERFLOW": OVERFLOW_MODES.index(self.overflow)}

    @property
    def frac(self) -> int:
        """Number of fraction bits (may be negative, as in ap_fixed<8,10>)."""
        return self.width - self.int_bits

    @property
    def raw_min(self) -> int:
        return raw_bounds(self.width, self.signed)[0]

    @property
    def raw_max(self) -> int:
        return raw_bounds(self.width, self.signed)[1]

    @property
    def lsb(self) -> float:
        return 2.0 ** -self.frac

    @property
    def min(self) -> float:
        return self.raw_min * self.lsb

    @property
    def max(self) -> float:
        return self.raw_max * self.lsb

    @property
    def c_type(self) -> str:
        """The C++ spelling, e.g. ``ap_fixed<32,10,AP_TRN,AP_WRAP>``."""
        base = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{base}<{self.width},{self.int_bits},AP_{self.quant},AP_{self.overflow}>"

    def __str__(self) -> str:
        return self.c_type

    def with_modes(self, quant: str | None = None, overflow: str | None = None) -> "FixedFormat":
        return FixedFormat(self.width, self.int_bits, self.signed, quant or self.quant, overflow or self.overflow)

    # -- conversions -----------------------------------------------------------------------------
    def quantize(self, raw, frac_in: int) -> np.ndarray:
        """Assign the exact value ``raw * 2**-frac_in`` to this type: round (Q), then overflow (O)."""
        return _quantize(np.asarray(raw), int(frac_in), self)

    def from_float(self, x) -> np.ndarray:
        """``ap_fixed(double)``: exact quantization of each float64's binary value."""
        return _from_float(np.asarray(x, dtype=np.float64), self)

    def to_float(self, raw) -> np.ndarray:
        """Raw integers to float64 (exact while width <= 53)."""
        raw = np.asarray(raw)
        if raw.dtype == object:
            raw = np.array([float(v) for v in raw.ravel()], dtype=np.float64).reshape(raw.shape)
        return np.ldexp(raw.astype(np.float64), -self.frac)

    def fx(self, raw) -> "Fx":
        """Wrap raw integers of this type as an :class:`Fx` value."""
        return Fx(raw, self.width, self.int_bits, self.signed)

    def fx_from_float(self, x) -> "Fx":
        return self.fx(self.from_float(x))

    def check_raw(self, raw, what: str = "value") -> np.ndarray:
        """Validate that ``raw`` holds integers inside this type's raw range."""
        raw = np.asarray(raw)
        if raw.size and (raw.dtype.kind not in "iuO"):
            raise FixedPointError(f"{what}: raw values must be integers, got dtype {raw.dtype}")
        if raw.size and (int(raw.min()) < self.raw_min or int(raw.max()) > self.raw_max):
            raise FixedPointError(
                f"{what}: raw values outside {self.c_type} range [{self.raw_min}, {self.raw_max}]")
        return raw


def _needs_object(bits: int) -> bool:
    return bits > _INT64_SAFE_BITS


def _as_ints(raw: np.ndarray, bits: int) -> np.ndarray:
    """Return ``raw`` as an int64 array if ``bits`` (magnitude bound) fits, else as Python ints."""
    if _needs_object(bits):
        return raw.astype(object) if raw.dtype != object else raw
    if raw.dtype == object:
        return raw.astype(np.int64)
    return raw.astype(np.int64, copy=False)


def _bit_length_bound(raw: np.ndarray) -> int:
    if raw.size == 0:
        return 1
    if raw.dtype == object:
        return max(int(v).bit_length() for v in raw.ravel()) + 1
    lo, hi = int(raw.min()), int(raw.max())
    return max(abs(lo).bit_length(), abs(hi).bit_length()) + 1


def _round_shift(raw: np.ndarray, s: int, quant: str) -> np.ndarray:
    """Divide the integers ``raw`` by ``2**s`` (s > 0) with ap_fixed quantization mode ``quant``."""
    q = raw >> s  # arithmetic shift = floor division, for int64 and Python ints alike
    if quant == "TRN":
        return q
    rem = raw - (q << s)  # 0 <= rem < 2**s
    half = 1 << (s - 1)
    neg = raw < 0
    if quant == "TRN_ZERO":
        inc = neg & (rem != 0)
    elif quant == "RND":  # ties toward +inf
        inc = rem >= half
    elif quant == "RND_ZERO":  # ties toward zero
        inc = (rem > half) | ((rem == half) & neg)
    elif quant == "RND_MIN_INF":  # ties toward -inf
        inc = rem > half
    elif quant == "RND_INF":  # ties away from zero
        inc = (rem > half) | ((rem == half) & ~neg)
    elif quant == "RND_CONV":  # ties to even
        inc = (rem > half) | ((rem == half) & ((q & 1) == 1))
    else:  # pragma: no cover - FixedFormat validates modes
        raise FixedPointError(f"unknown quantization mode {quant!r}")
    return q + inc.astype(q.dtype) if q.dtype != object else q + inc.astype(int).astype(object)


def _overflow(v: np.ndarray, fmt: FixedFormat) -> np.ndarray:
    lo, hi, w = fmt.raw_min, fmt.raw_max, fmt.width
    if fmt.overflow == "WRAP":
        mask = (1 << w) - 1
        u = v & mask  # two's complement low bits (Python ints and int64 both floor-mod here)
        if fmt.signed:
            u = np.where(u > hi, u - (1 << w), u)
        return u
    if fmt.overflow == "SAT_ZERO":
        return np.where((v < lo) | (v > hi), 0, v)
    if fmt.overflow == "SAT_SYM" and fmt.signed and w > 1:
        # ap_fixed<1,I,Q,AP_SAT_SYM> has no symmetric range (max is 0): overflow_adjust sets
        # min | 1, i.e. min again, so one-bit SAT_SYM behaves as SAT.
        lo = -hi
    return np.where(v < lo, lo, np.where(v > hi, hi, v))


def _quantize(raw: np.ndarray, frac_in: int, fmt: FixedFormat) -> np.ndarray:
    shape = raw.shape
    raw = raw.reshape(-1)
    bits = _bit_length_bound(raw)
    s = frac_in - fmt.frac
    if s <= 0:
        v = _as_ints(raw, bits - s) << (-s)
    else:
        v = _round_shift(_as_ints(raw, bits + 1), s, fmt.quant)
    out = _overflow(v, fmt)
    return _as_ints(np.asarray(out), fmt.width + 1).reshape(shape)


def _from_float(x: np.ndarray, fmt: FixedFormat) -> np.ndarray:
    if not np.all(np.isfinite(x)):
        raise FixedPointError(f"cannot convert NaN or infinity to {fmt.c_type}")
    shape = x.shape
    x = x.reshape(-1)
    m, e = np.frexp(x)  # x = m * 2**e, 0.5 <= |m| < 1
    mant = np.ldexp(m, 53).astype(np.int64)  # exact: |mant| < 2**53
    frac_of = 53 - e.astype(np.int64)  # x == mant * 2**-frac_of exactly
    if fmt.width <= _INT64_SAFE_BITS - 1:
        return _from_float_int64(mant, frac_of, fmt).reshape(shape)
    # Wide types: bring every element to one common exponent without changing its quantized
    # result: a value far below the LSB keeps only its sign (nonzero, below half an LSB), a value
    # far above the range keeps an overflowing magnitude that is a multiple of 2**width (wraps to
    # 0, saturates by sign); then quantize exactly with Python integers.
    lo_frac = fmt.frac + 60
    tiny = frac_of > lo_frac
    huge = frac_of < fmt.frac - (fmt.width + 1)
    mant = np.where(tiny | huge, np.sign(mant), mant)
    frac_of = np.where(tiny, lo_frac, np.where(huge, fmt.frac - (fmt.width + 1), frac_of))
    common = int(frac_of.max()) if x.size else fmt.frac
    shift = common - frac_of  # >= 0
    big = mant.astype(object) << shift.astype(object)
    return _quantize(big, common, fmt).reshape(shape)


def _from_float_int64(mant: np.ndarray, frac_of: np.ndarray, fmt: FixedFormat) -> np.ndarray:
    """The same exact quantization of ``mant * 2**-frac_of`` in int64, for widths <= 61.

    Each element gets its own shift ``s`` to the target's LSB, replaced where needed by a value
    that quantizes identically and fits int64:
    * ``s > 54`` (right shift of a 53-bit mantissa: 0 < |value| < 1/4 LSB): only the sign
      matters, so ``(sign, s=2)``, a quarter LSB, rounds the same in every mode;
    * ``-s > 9`` (left shift; |value| >= 2**62 LSBs overflows every width <= 61): keep the residue
      modulo ``2**width`` and the sign, ``residue +- 2**(width+1)``, which wraps and saturates alike.
    """
    s = frac_of - fmt.frac
    right = s > 0
    tiny = s > 54
    rm = np.where(tiny, np.sign(mant), mant)
    rs = np.where(tiny, 2, np.where(right, s, 1))
    rounded = _round_shift(rm, rs, fmt.quant)
    ls = np.where(right, 0, -s)
    exact = mant << np.minimum(ls, 9)
    mask = np.uint64((1 << fmt.width) - 1)
    resid = (mant.view(np.uint64) << np.minimum(ls, 63).astype(np.uint64)) & mask
    resid = np.where(ls >= 64, np.uint64(0), resid).astype(np.int64)
    far = resid + np.sign(mant) * np.int64(1 << (fmt.width + 1))
    v = np.where(right, rounded, np.where(ls <= 9, exact, far))
    return _overflow(v, fmt).astype(np.int64)


class Fx:
    """An exact fixed-point array value with ap_fixed's intermediate type (width, int_bits, signed).

    Arithmetic never rounds; :meth:`cast` assigns to a :class:`FixedFormat` (rounding + overflow).
    """

    __slots__ = ("raw", "width", "int_bits", "signed")

    def __init__(self, raw, width: int, int_bits: int, signed: bool = True):
        self.raw = _as_ints(np.asarray(raw), width + 1)
        self.width = width
        self.int_bits = int_bits
        self.signed = signed

    @property
    def frac(self) -> int:
        return self.width - self.int_bits

    def to_float(self) -> np.ndarray:
        return FixedFormat(max(self.width, 1), self.int_bits, self.signed).to_float(self.raw)

    def cast(self, fmt: FixedFormat) -> "Fx":
        return fmt.fx(fmt.quantize(self.raw, self.frac))

    def _aligned(self, other: "Fx"):
        f = max(self.frac, other.frac)
        a = _as_ints(self.raw, self.width + f - self.frac + 1) << (f - self.frac)
        b = _as_ints(other.raw, other.width + f - other.frac + 1) << (f - other.frac)
        return a, b, f

    def _plus_type(self, other: "Fx"):
        # ap_fixed RType::plus / minus: one integer bit more than the wider operand, where an
        # unsigned operand gains a bit when mixed with a signed one.
        i = max(self.int_bits + (other.signed and not self.signed),
                other.int_bits + (self.signed and not other.signed)) + 1
        return i + max(self.frac, other.frac), i

    def __add__(self, other: "Fx") -> "Fx":
        a, b, f = self._aligned(other)
        w, i = self._plus_type(other)
        return Fx(_as_ints(a, w) + _as_ints(b, w), w, i, self.signed or other.signed)

    def __sub__(self, other: "Fx") -> "Fx":
        a, b, f = self._aligned(other)
        w, i = self._plus_type(other)
        return Fx(_as_ints(a, w) - _as_ints(b, w), w, i, True)

    def __neg__(self) -> "Fx":
        return Fx(-_as_ints(self.raw, self.width + 1), self.width + 1, self.int_bits + 1, True)

    def __mul__(self, other: "Fx") -> "Fx":
        w = self.width + other.width
        return Fx(_as_ints(self.raw, w) * _as_ints(other.raw, w), w, self.int_bits + other.int_bits,
                  self.signed or other.signed)

    def __truediv__(self, other: "Fx") -> "Fx":
        """ap_fixed_base::operator/ (C-simulation semantics, i.e. without __SYNTHESIS__)."""
        f2 = other.frac
        div_w = int(other.signed) + self.width + max(f2, 0)
        div_i = int(other.signed) + self.int_bits + f2
        div_s = self.signed or other.signed
        if np.any(other.raw == 0):
            raise FixedPointError("fixed-point division by zero")
        bits = self.width + max(f2, 0) + other.width + 2
        n = _as_ints(self.raw, bits) << max(f2, 0)
        d = _as_ints(other.raw, bits)
        q = np.abs(n) // np.abs(d)  # integer division truncating toward zero
        q = np.where((n < 0) != (d < 0), -q, q)
        # C-sim quirk (ap_fixed_base::operator/, !__SYNTHESIS__): the quotient is formed in _W1
        # bits (sdiv/udiv of ap_int_base<_W1>), then sign-extended or truncated to div_w. When
        # _W1 == W + max(F2, 0), the raw quotient -(min << max(F2, 0)) of a min dividend over a
        # raw -1 divisor does not fit _W1 bits and wraps to +(min << max(F2, 0)), although div_w
        # could hold it.
        w1 = max(self.width + max(f2, 0) + int(other.signed and not self.signed),
                 other.width + int(self.signed and not other.signed))
        q = _overflow(q, FixedFormat(w1, w1, div_s, "TRN", "WRAP"))
        rtype = FixedFormat(div_w, div_i, div_s, "TRN", "WRAP")
        return rtype.fx(_overflow(q, rtype))

    def relu(self) -> "Fx":
        return Fx(np.where(self.raw < 0, 0, self.raw), self.width, self.int_bits, self.signed)

    def __repr__(self) -> str:
        kind = "ap_fixed" if self.signed else "ap_ufixed"
        return f"Fx({kind}<{self.width},{self.int_bits}>, raw={self.raw!r})"
