"""python_ref/fixed.py is bit-exact to the real ap_fixed headers (g++ C simulation).

The harness tests/harness/ap_fixed_harness.cpp evaluates, with the hls4ml ap_types headers, the
exact (RType) result of ``-a, a+b, a-b, a*b, a/b`` and of ``R r = a`` / ``R r = double``, and
assigns each to target types ``R`` in all 7 quantization x 4 overflow modes. The type combinations
are compile-time templates, so this file writes them into
build/ap_fixed_harness/<shard>/include/apfx_cases.h and compiles one shared library per shard (cached by cosim.toolchain.compile_cpp); both pytest-xdist
workers build the shards cooperatively. Every comparison is exact equality of raw integers, on:

* operand pairs: exhaustive where the two raw ranges hold <= 2**19 pairs, otherwise every pair of
  operand corners (min, min+1, -1 LSB, 0, +1 LSB, max-1, max, +-1, +-0.5) plus N_RANDOM random pairs
  (uniform, trailing-zero-heavy so that ties happen, and small magnitudes);
* assignments from each operand type and each operation's exact result type: every corner of the
  target (min, max, 0, +-1 LSB, min+1, max-1, exact .5-LSB ties positive/negative/even/odd,
  overflow by one LSB and by one integer step, ties at the overflow edge) plus random values;
* doubles: the same target corners and ties (and +-1 ulp around them), 0, -0.0, 1e-300, denormals,
  1e30, the largest double, wrap-around multiples, plus N_RANDOM random doubles.

Run ``python tests/test_fixed_equivalence.py`` to print how many vectors each mode gets.
"""
from __future__ import annotations

import ctypes
import functools
import os
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from cosim.toolchain import BUILD_DIR, compile_cpp, file_lock
from python_ref.config import all_configs, load_config
from python_ref.fixed import OVERFLOW_MODES, QUANT_MODES, FixedFormat, FixedPointError, Fx

pytestmark = pytest.mark.csim

HARNESS = Path(__file__).resolve().parent / "harness" / "ap_fixed_harness.cpp"
LIB_DIR = BUILD_DIR / "ap_fixed_harness"
MODES = [(q, o) for q in QUANT_MODES for o in OVERFLOW_MODES]  # the harness's order (quant-major)
N_RANDOM = 100_000
EXHAUSTIVE_MAX = 1 << 19
SEED = 20261122


def F(width: int, int_bits: int, signed: bool = True) -> FixedFormat:
    return FixedFormat(width, int_bits, signed)


def geometry(fmt: FixedFormat) -> FixedFormat:
    """The arithmetic type of an operand: its Q/O modes play no part in ap_fixed's RType."""
    return F(fmt.width, fmt.int_bits, fmt.signed)


def short(fmt) -> str:
    kind = "ap_fixed" if fmt.signed else "ap_ufixed"
    return f"{kind}<{fmt.width},{fmt.int_bits}>"


def config_formats() -> dict[str, FixedFormat]:
    """Every fixed-point format of every configs/*.yaml (roles, and the GELU table format)."""
    out = {}
    for path in all_configs():
        cfg = load_config(path)
        for role, fmt in cfg.formats.items():
            out.setdefault(short(fmt), geometry(fmt))
        t = cfg.hardware.gelu.table_format
        out.setdefault(short(t), geometry(t))
    return out


CFG = config_formats()
ACT, WEIGHT, BIAS = F(32, 10), F(16, 2), F(16, 5)
ATTN_BIAS, PATCH_W, PIXEL, TABLE = F(16, 7), F(16, 0), F(8, 0, False), F(22, 0, False)
OPERAND = F(27, 9)  # the MAC array's activation operand (score has act's geometry)
# The configs' formats must all be in this test's operand list (a new format needs a new case here).
OPERAND_FORMATS = [ACT, WEIGHT, BIAS, ATTN_BIAS, PATCH_W, PIXEL, TABLE, OPERAND,
                   F(7, 3), F(12, -2), F(18, 20), F(5, 5, False), F(3, 1)]


@dataclass(frozen=True)
class Pair:
    """A binary-operation shard: a OP b for OP in + - * /, -a, and assignments to the targets."""

    name: str
    a: FixedFormat
    b: FixedFormat
    targets: tuple
    sweep_only: bool = False  # odd geometries no shipped format has: make test-full only

    @property
    def exhaustive(self) -> bool:
        size = lambda f: f.raw_max - f.raw_min + 1
        return size(self.a) * size(self.b) <= EXHAUSTIVE_MAX


PAIRS = [
    Pair("bias_weight", BIAS, WEIGHT, (F(8, 3), F(8, 3, False))),  # narrow targets: rounding + overflow
    Pair("act_weight", ACT, WEIGHT, (ACT,)),  # the linear layers' product, back into act
    Pair("act_bias", ACT, BIAS, (BIAS,)),
    Pair("attnbias_patchw", ATTN_BIAS, PATCH_W, (F(12, 4, False),)),
    Pair("odd_negint", F(7, 3), F(12, -2), (F(6, 2),), True),  # negative int bits; exhaustive
    Pair("odd_wideint", F(18, 20), F(5, 5, False), (F(6, 9),), True),  # I > W: LSB 4, target LSB 8
    Pair("signed_unsigned", BIAS, PIXEL, (F(6, 1, False),)),
    Pair("unsigned_unsigned", PIXEL, TABLE, (F(5, -1),)),
    Pair("tiny", F(3, 1), F(3, 1), (F(1, 1), F(2, 1, False)), True),  # width-1 target; exhaustive
    Pair("unsigned_signed", F(5, 5, False), F(7, 3), (F(4, 2),), True),  # exhaustive
    Pair("act_act", ACT, ACT, (F(24, 12),)),  # 64-bit product
    Pair("act_operand", ACT, OPERAND, (OPERAND,)),  # act -> the 27-bit operand (RND, SAT_SYM among the modes)
]
OPS = ("add", "sub", "mul", "div", "neg")
CPP_OP = {"cast": "apfx::Cast", "neg": "apfx::Neg", "add": "apfx::Add", "sub": "apfx::Sub",
          "mul": "apfx::Mul", "div": "apfx::Div"}
# ap_fixed(double) targets: every operand format, narrow and odd targets, and very wide types.
DOUBLE_TARGETS = list(dict.fromkeys(
    OPERAND_FORMATS + [F(8, 3), F(8, 3, False), F(6, 9), F(1, 1), F(64, 1), F(40, -20)]))
DOUBLE_SHARDS = {f"from_double_{i}": DOUBLE_TARGETS[i::3] for i in range(3)}


# ---------------------------------------------------------------------------------------------
# Python-side semantics of one case
# ---------------------------------------------------------------------------------------------
def exact(op: str, a: FixedFormat, b: FixedFormat, ra, rb) -> Fx:
    """The operation in python_ref.fixed (exact RType result)."""
    fa, fb = a.fx(ra), b.fx(rb)
    if op == "cast":
        return fa
    if op == "neg":
        return -fa
    return {"add": fa.__add__, "sub": fa.__sub__, "mul": fa.__mul__, "div": fa.__truediv__}[op](fb)


def result_type(op: str, a: FixedFormat, b: FixedFormat) -> FixedFormat:
    """The RType python_ref gives op(a, b) (checked against the harness in test_operation)."""
    r = exact(op, a, b, np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64))
    return F(r.width, r.int_bits, r.signed)


# ---------------------------------------------------------------------------------------------
# Generated harness: one shared library per shard
# ---------------------------------------------------------------------------------------------
def cpp_type(f: FixedFormat) -> str:
    return f"apfx::fx_t<{f.width}, {f.int_bits}, {'true' if f.signed else 'false'}>"


def cpp_target(f: FixedFormat) -> str:
    return f"apfx::Target<{f.width}, {f.int_bits}, {'true' if f.signed else 'false'}>"


@dataclass(frozen=True)
class OpCase:
    """Exported function ``name``: op(a, b) -> full raw, then assignment to ``targets`` x 28 modes."""

    name: str
    op: str
    a: FixedFormat
    b: FixedFormat
    targets: tuple


def shard_cases(pair: Pair) -> list[OpCase]:
    cases = [OpCase(f"{pair.name}_{op}", op, pair.a, pair.b, pair.targets) for op in OPS]
    cases += [OpCase(f"{pair.name}_cast_a", "cast", pair.a, pair.a, pair.targets),
              OpCase(f"{pair.name}_cast_b", "cast", pair.b, pair.b, pair.targets)]
    # Assignments straight from each operation's result type, fed with the targets' corners.
    for op in OPS:
        r = result_type(op, pair.a, pair.b)
        cases.append(OpCase(f"{pair.name}_cast_{op}", "cast", r, r, pair.targets))
    return cases


def shard_source(shard: str) -> str:
    lines = [f"// Generated by tests/test_fixed_equivalence.py for shard {shard}; do not edit."]
    if shard in DOUBLE_SHARDS:
        for i, t in enumerate(DOUBLE_SHARDS[shard]):
            lines.append(f'extern "C" void {shard}_{i}(const double* d, long n, int64_t* out) {{\n'
                         f"  apfx::run_from_double<{cpp_target(t)}>(d, n, out);\n}}")
        return "\n".join(lines) + "\n"
    for c in shard_cases(PAIR_BY_NAME[shard]):
        args = f"{cpp_type(c.a)}, {cpp_type(c.b)}, {CPP_OP[c.op]}"
        targets = ", ".join(cpp_target(t) for t in c.targets)
        lines.append(
            f'extern "C" void {c.name}(const int64_t* a, const int64_t* b, long n, int64_t* full,'
            f" int64_t* out) {{\n  apfx::run_op<{args}, {targets}>(a, b, n, full, out);\n}}\n"
            f'extern "C" void {c.name}_info(int32_t* info) {{ apfx::op_info<{args}>(info); }}')
    return "\n".join(lines) + "\n"


PAIR_BY_NAME = {p.name: p for p in PAIRS}
SHARDS = [p.name for p in PAIRS] + list(DOUBLE_SHARDS)
# built together up front (the make test selection); the sweep-only shards are built when first used
COMMON_SHARDS = [s for s in SHARDS if s not in PAIR_BY_NAME or not PAIR_BY_NAME[s].sweep_only]


def _build_shard(shard: str) -> Path:
    d = LIB_DIR / shard
    inc = d / "include"  # holds only apfx_cases.h: compile_cpp hashes every *.h* file in it
    inc.mkdir(parents=True, exist_ok=True)
    with file_lock(d / "build.lock"):  # the other xdist worker may be building the same shard
        header = inc / "apfx_cases.h"
        text = shard_source(shard)
        if not header.exists() or header.read_text() != text:
            tmp = d / f"apfx_cases.tmp{os.getpid()}"
            tmp.write_text(text)
            os.replace(tmp, header)
        # The cold build dominates this file's runtime: -Og builds 1.4x faster than -O1 (3x than
        # -O2) and runs 20x faster than -O0 (measured on this harness).
        return compile_cpp([HARNESS], d / "libapfx.so", includes=[inc], shared=True, opt="-Og")


@functools.cache
def common_libraries() -> dict[str, ctypes.CDLL]:
    """Build (or reuse) every shard of COMMON_SHARDS. The xdist workers walk the list from opposite
    ends, so the cold build is shared between them; a shard under construction is waited for (lock)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    order = COMMON_SHARDS if int(worker.lstrip("gw") or 0) % 2 == 0 else COMMON_SHARDS[::-1]
    paths = {s: _build_shard(s) for s in order}
    return {s: ctypes.CDLL(str(paths[s])) for s in COMMON_SHARDS}


@functools.cache
def library(shard: str) -> ctypes.CDLL:
    return common_libraries()[shard] if shard in COMMON_SHARDS else ctypes.CDLL(str(_build_shard(shard)))


I64 = np.ctypeslib.ndpointer(np.int64, flags="C_CONTIGUOUS")
F64 = np.ctypeslib.ndpointer(np.float64, flags="C_CONTIGUOUS")


def run_op_case(shard: str, c: OpCase, ra: np.ndarray, rb: np.ndarray):
    """C++: (full raws, [target][mode][i] raws, full type info (width, int_bits, signed))."""
    lib = library(shard)
    fn = getattr(lib, c.name)
    fn.argtypes = [I64, I64, ctypes.c_long, I64, I64]
    fn.restype = None
    info_fn = getattr(lib, c.name + "_info")
    info_fn.argtypes = [np.ctypeslib.ndpointer(np.int32, flags="C_CONTIGUOUS")]
    n = len(ra)
    full = np.empty(n, dtype=np.int64)
    out = np.empty((len(c.targets), len(MODES), n), dtype=np.int64)
    fn(np.ascontiguousarray(ra, np.int64), np.ascontiguousarray(rb, np.int64), n, full, out)
    info = np.zeros(3, dtype=np.int32)
    info_fn(info)
    return full, out, (int(info[0]), int(info[1]), bool(info[2]))


def run_from_double(shard: str, index: int, d: np.ndarray) -> np.ndarray:
    fn = getattr(library(shard), f"{shard}_{index}")
    fn.argtypes = [F64, ctypes.c_long, I64]
    fn.restype = None
    d = np.ascontiguousarray(d, np.float64)
    out = np.empty((len(MODES), len(d)), dtype=np.int64)
    fn(d, len(d), out)
    return out


# ---------------------------------------------------------------------------------------------
# Vectors
# ---------------------------------------------------------------------------------------------
def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32("/".join(map(str, key)).encode())])


def corner_raws(f: FixedFormat) -> np.ndarray:
    """min, min+1, min+2, -2, -1, 0, 1, 2, max-1, max, and +-1.0, +-0.5 when representable."""
    v = [f.raw_min, f.raw_min + 1, f.raw_min + 2, -2, -1, 0, 1, 2, f.raw_max - 1, f.raw_max]
    for e in (0, -1):  # +-1.0 and +-0.5
        if f.frac + e >= 0:
            v += [1 << (f.frac + e), -(1 << (f.frac + e))]
    v = np.array(v, dtype=np.int64)
    return np.unique(v[(v >= f.raw_min) & (v <= f.raw_max)])


def random_raws(rng: np.random.Generator, f: FixedFormat, n: int) -> np.ndarray:
    """1/2 uniform, 1/4 with many trailing zeros (products and sums then hit exact ties),
    1/4 small magnitudes (in range of narrow targets)."""
    lo, hi = f.raw_min, f.raw_max
    u = rng.integers(lo, hi, n, endpoint=True, dtype=np.int64)
    k = rng.integers(0, f.width, n, dtype=np.int64)
    sparse = (u >> k) << k
    j = rng.integers(0, f.width, n, dtype=np.int64)
    small = np.clip(rng.integers(-(1 << j), 1 << j, endpoint=True, dtype=np.int64), lo, hi)
    pick = rng.integers(0, 4, n)
    return np.where(pick < 2, u, np.where(pick == 2, sparse, small))


def operand_pairs(pair: Pair, op: str, n_random: int = N_RANDOM) -> tuple[np.ndarray, np.ndarray]:
    a, b = pair.a, pair.b
    if pair.exhaustive:
        ra, rb = np.meshgrid(np.arange(a.raw_min, a.raw_max + 1, dtype=np.int64),
                             np.arange(b.raw_min, b.raw_max + 1, dtype=np.int64), indexing="ij")
        ra, rb = ra.ravel(), rb.ravel()
    else:
        ca, cb = corner_raws(a), corner_raws(b)
        rng = rng_for(pair.name, op, n_random)
        ra = np.concatenate([np.repeat(ca, len(cb)), random_raws(rng, a, n_random)])
        rb = np.concatenate([np.tile(cb, len(ca)), random_raws(rng, b, n_random)])
    if op == "div":
        keep = rb != 0
        ra, rb = ra[keep], rb[keep]
    return ra, rb


def target_corner_values(t: FixedFormat) -> list[Fraction]:
    """Exact values (as Fractions) around every corner of target ``t``."""
    lsb = Fraction(2) ** -t.frac
    k = {t.raw_min, t.raw_min + 1, t.raw_min + 2, t.raw_max - 2, t.raw_max - 1, t.raw_max, -3, -2,
         -1, 0, 1, 2, 3}
    step = 1 << max(t.frac, 0)  # one integer, in LSBs
    k |= {t.raw_max + 1, t.raw_max + 2, t.raw_min - 1, t.raw_min - 2,  # overflow by one LSB
          t.raw_max + step, t.raw_min - step,  # overflow by one integer
          t.raw_max + (1 << t.width), t.raw_min - (1 << t.width),  # wraps back onto max / min
          -t.raw_min, -t.raw_min + 1, 2 * t.raw_max + 1, -(1 << t.width)}
    vals = set()
    for x in k:
        vals |= {x * lsb, (x + Fraction(1, 2)) * lsb, (x - Fraction(1, 2)) * lsb,
                 (x + Fraction(1, 4)) * lsb, (x - Fraction(1, 4)) * lsb}
    return sorted(vals)


def cast_inputs(src: FixedFormat, targets, rng) -> np.ndarray:
    """Raws of ``src`` at every target corner (+-1 source LSB), source corners, and random values."""
    vals = set()
    one = Fraction(2) ** -src.frac
    for t in targets:
        for v in target_corner_values(t):
            vals |= {v, v + one, v - one}
    raws = {int(v / one) for v in vals if (v / one).denominator == 1}
    raws = np.array(sorted(r for r in raws if src.raw_min <= r <= src.raw_max), dtype=np.int64)
    near = []
    for t in targets:  # random values inside +-2x the target's range, on the source grid
        lo, hi = t.raw_min * 2 - 4, t.raw_max * 2 + 4
        s = src.frac - t.frac
        if s >= 0 and (hi << s) < (1 << 62):
            x = rng.integers(lo << s, hi << s, N_RANDOM // 4, endpoint=True, dtype=np.int64)
            near.append(np.clip(x, src.raw_min, src.raw_max))
    rand = random_raws(rng, src, N_RANDOM // 2)
    return np.concatenate([raws, corner_raws(src), rand, *near])


def double_inputs(t: FixedFormat, rng, n_random: int = N_RANDOM) -> np.ndarray:
    """Doubles at every corner of ``t`` and +-1 ulp around them, specials, and random doubles."""
    corners = np.array([float(v) for v in target_corner_values(t)], dtype=np.float64)
    specials = np.array([0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 2.2250738585072014e-308,
                         -2.2250738585072014e-308, 1e-30, -1e-30, 1e30, -1e30, 1e300, -1e300,
                         np.finfo(np.float64).max, -np.finfo(np.float64).max, 2.0 ** 1023,
                         -(2.0 ** 1023), 1.0, -1.0, 0.5, -0.5], dtype=np.float64)
    ints = np.ldexp(1.0, np.arange(-80, 81) + t.int_bits)  # powers of two around the range
    ulp = np.concatenate([np.nextafter(corners, np.inf), np.nextafter(corners, -np.inf)])
    n = n_random // 4
    span = max(abs(t.min), abs(t.max), t.lsb)
    uniform = rng.uniform(-2 * span, 2 * span, n)
    logu = rng.choice([-1.0, 1.0], n) * np.ldexp(rng.uniform(0.5, 1.0, n),
                                                 rng.integers(-t.frac - 70, t.int_bits + 70, n))
    ties = np.ldexp(rng.integers(-(1 << min(t.width + 1, 52)), 1 << min(t.width + 1, 52), n)
                    + 0.5, -t.frac)  # k + 0.5 LSB (exact while the product fits the mantissa)
    bits = np.ldexp(rng.integers(-(1 << 52), 1 << 52, n).astype(np.float64),
                    rng.integers(-t.frac - 60, t.int_bits - 40, n))  # full 53-bit mantissas
    return np.concatenate([corners, ulp, specials, ints, -ints, uniform, logu, ties, bits])


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------
def describe(raw, fmt_frac: int) -> str:
    return f"{int(raw)} ({float(Fraction(int(raw)) * Fraction(2) ** -fmt_frac):.10g})"


def mismatch_report(title: str, expected, got, columns: dict, limit: int = 5) -> str | None:
    """None when equal, else a readable listing of the first ``limit`` mismatches."""
    expected = np.asarray(expected).astype(np.int64)
    got = np.asarray(got).astype(np.int64)
    bad = np.flatnonzero(expected != got)
    if bad.size == 0:
        return None
    lines = [f"{title}: {bad.size} of {expected.size} differ"]
    for i in bad[:limit]:
        ctx = ", ".join(f"{k}={fn(i)}" for k, fn in columns.items())
        lines.append(f"    {ctx}: python_ref {expected[i]}, ap_fixed {got[i]}")
    return "\n".join(lines)


def check_assignments(title: str, value: Fx, out: np.ndarray, targets, columns) -> list[str]:
    """Compare ap_fixed's assignments of ``value`` to every target x mode with Fx.cast."""
    errors = []
    for ti, t in enumerate(targets):
        for k, (q, o) in enumerate(MODES):
            r = t.with_modes(q, o)
            exp = value.cast(r).raw
            cols = dict(columns)
            cols["exp"] = lambda i, e=exp, f=r.frac: describe(e[i], f)
            msg = mismatch_report(f"{title} -> {r.c_type}", exp, out[ti, k], cols)
            if msg:
                errors.append(msg)
    return errors


def fail_if(errors: list[str], limit: int = 8):
    if errors:
        pytest.fail(f"{len(errors)} mismatching case(s):\n" + "\n".join(errors[:limit]), pytrace=False)


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------
def test_config_formats_are_covered():
    """Every format of configs/*.yaml is an operand here (and so a from-double target)."""
    missing = set(CFG.values()) - set(OPERAND_FORMATS)
    assert not missing, f"add cases for {sorted(map(short, missing))}"


def _pair_param(p: Pair, *rest):
    return pytest.param(p, *rest, marks=[pytest.mark.slow] if p.sweep_only else [],
                        id=rest[0].name if rest else p.name)


@pytest.mark.parametrize("pair", [_pair_param(p) for p in PAIRS])
@pytest.mark.parametrize("op", OPS)
def test_operation(pair: Pair, op: str):
    """op(a, b) in its exact RType (type and raw), then assigned to every target x Q x O."""
    check_operation(pair, op, *operand_pairs(pair, op))


def check_operation(pair: Pair, op: str, ra: np.ndarray, rb: np.ndarray):
    case = next(c for c in shard_cases(pair) if c.op == op)
    full, out, info = run_op_case(pair.name, case, ra, rb)
    value = exact(op, pair.a, pair.b, ra, rb)
    assert (value.width, value.int_bits, value.signed) == info, (
        f"{op}({short(pair.a)}, {short(pair.b)}): RType is ap_fixed<{info[0]},{info[1]}> "
        f"signed={info[2]}, python_ref says <{value.width},{value.int_bits}> signed={value.signed}")
    sym = {"add": "+", "sub": "-", "mul": "*", "div": "/", "neg": "-"}[op]
    title = (f"-{short(pair.a)}" if op == "neg" else f"{short(pair.a)} {sym} {short(pair.b)}")
    cols = {"a": lambda i: describe(ra[i], pair.a.frac), "b": lambda i: describe(rb[i], pair.b.frac)}
    errors = []
    msg = mismatch_report(f"{title} (exact result)", value.raw, full, cols)
    if msg:
        errors.append(msg)
    cols["full"] = lambda i: describe(full[i], value.frac)
    errors += check_assignments(title, value, out, pair.targets, cols)
    fail_if(errors)


CAST_CASES = [(p, c) for p in PAIRS for c in shard_cases(p) if c.op == "cast"]


@pytest.mark.parametrize("pair,case", [_pair_param(p, c) for p, c in CAST_CASES])
def test_assignment(pair: Pair, case: OpCase):
    """R r = a, for a at every corner of R (ties, overflow by one, ...) and random a."""
    src = case.a
    ra = cast_inputs(src, case.targets, rng_for(case.name))
    full, out, info = run_op_case(pair.name, case, ra, ra)
    assert info == (src.width, src.int_bits, src.signed)
    cols = {"a": lambda i: describe(ra[i], src.frac)}
    errors = []
    msg = mismatch_report(f"{short(src)} raw round trip through the harness", ra, full, cols)
    if msg:
        errors.append(msg)
    errors += check_assignments(short(src), src.fx(ra), out, case.targets, cols)
    fail_if(errors)


DOUBLE_CASES = [(s, i, t) for s, ts in DOUBLE_SHARDS.items() for i, t in enumerate(ts)]


@pytest.mark.parametrize("shard,index,target", DOUBLE_CASES,
                         ids=[short(t) for _, _, t in DOUBLE_CASES])
def test_from_double(shard: str, index: int, target: FixedFormat):
    """R r = double: corners, ties, +-1 ulp, tiny/denormal/huge/-0.0 and random doubles."""
    check_from_double(shard, index, target, double_inputs(target, rng_for("double", short(target))))


def check_from_double(shard: str, index: int, target: FixedFormat, d: np.ndarray):
    out = run_from_double(shard, index, d)
    errors = []
    for k, (q, o) in enumerate(MODES):
        r = target.with_modes(q, o)
        exp = r.from_float(d)
        msg = mismatch_report(f"{r.c_type}(double)", exp, out[k], {"d": lambda i: repr(d[i])})
        if msg:
            errors.append(msg)
    fail_if(errors)


N_SWEEP = 1_000_000


@pytest.mark.slow
@pytest.mark.parametrize("pair", [p for p in PAIRS if not p.exhaustive], ids=lambda p: p.name)
@pytest.mark.parametrize("op", OPS)
def test_operation_sweep(pair: Pair, op: str):
    """N_SWEEP more random operand pairs per operation and mode (other seed)."""
    check_operation(pair, op, *operand_pairs(pair, op, N_SWEEP))


@pytest.mark.slow
@pytest.mark.parametrize("shard,index,target", DOUBLE_CASES,
                         ids=[short(t) for _, _, t in DOUBLE_CASES])
def test_from_double_sweep(shard: str, index: int, target: FixedFormat):
    check_from_double(shard, index, target,
                      double_inputs(target, rng_for("double-sweep", short(target)), N_SWEEP))


def test_harness_can_fail():
    """The comparison is not vacuous: TRN and RND of an exact .5-LSB tie differ in the real
    ap_fixed, and the report flags them."""
    shard, index, _ = next(c for c in DOUBLE_CASES if c[2] == F(8, 3))
    tie = np.array([0.5 * 2.0 ** -5, 2.5 * 2.0 ** -5, -1.5 * 2.0 ** -5])
    out = run_from_double(shard, index, tie)
    trn, rnd = out[MODES.index(("TRN", "WRAP"))], out[MODES.index(("RND", "WRAP"))]
    assert list(trn) == [0, 2, -2] and list(rnd) == [1, 3, -1]
    msg = mismatch_report("deliberate", trn, rnd, {"d": lambda j: repr(tie[j])})
    assert msg is not None and "3 of 3 differ" in msg


@pytest.mark.parametrize("pair,case", CAST_CASES, ids=[c.name for _, c in CAST_CASES])
def test_assignment_inputs_hit_the_corners(pair: Pair, case: OpCase):
    """The assignment inputs really contain the target's .5-LSB ties (both signs, even and odd
    quotients) and its overflow by one LSB, wherever the source type can represent them."""
    ra = cast_inputs(case.a, case.targets, rng_for(case.name)).astype(object)
    for t in case.targets:
        s = case.a.frac - t.frac
        if s > 0:
            ties = [r for r in set(ra) if r % (1 << s) == 1 << (s - 1)]
            kinds = {(r > 0, (r >> s) % 2) for r in ties}
            # (positive?, parity of the truncated quotient) of the ties +0.5, +1.5, -0.5, -1.5 LSB
            smallest = {(True, 0): 1, (True, 1): 3, (False, 1): -1, (False, 0): -3}
            want = {k for k, m in smallest.items()
                    if case.a.raw_min <= m << (s - 1) <= case.a.raw_max}
            assert want and kinds >= want, (short(case.a), short(t), want - kinds)
        for edge in ((t.raw_max + 1) << max(s, 0), (t.raw_min - 1) << max(s, 0)):
            if s >= 0 and case.a.raw_min <= edge <= case.a.raw_max:
                assert edge in set(ra), (short(case.a), short(t), edge)


def test_exhaustive_pairs_are_exhaustive():
    """The small pairs really enumerate every operand combination."""
    for p in PAIRS:
        if p.exhaustive:
            ra, rb = operand_pairs(p, "mul")
            assert len(set(zip(ra.tolist(), rb.tolist()))) == (p.a.raw_max - p.a.raw_min + 1) * (
                p.b.raw_max - p.b.raw_min + 1)


# -- error paths of python_ref.fixed ------------------------------------------------------------
@pytest.mark.parametrize("kwargs,needle", [
    (dict(width=0, int_bits=1), "0"),
    (dict(width=-3, int_bits=1), "-3"),
    (dict(width=8.0, int_bits=1), "8.0"),
    (dict(width=8, int_bits="3"), "'3'"),
    (dict(width=8, int_bits=3, quant="RND_EVEN"), "RND_EVEN"),
    (dict(width=8, int_bits=3, overflow="SATURATE"), "SATURATE"),
])
def test_bad_format_names_the_value(kwargs, needle):
    with pytest.raises(FixedPointError, match=needle.replace(".", r"\.")):
        FixedFormat(**kwargs)


@pytest.mark.parametrize("x", [np.nan, np.inf, -np.inf])
def test_nan_inf_conversion_raises(x):
    with pytest.raises(FixedPointError, match="NaN or infinity"):
        F(16, 5).from_float(np.array([0.0, x]))


def test_division_by_zero_raises():
    a, b = F(16, 5), F(16, 2)
    with pytest.raises(FixedPointError, match="division by zero"):
        a.fx(np.array([3, 4])) / b.fx(np.array([1, 0]))


def test_check_raw_rejects_out_of_range():
    with pytest.raises(FixedPointError, match=r"ap_ufixed<8,0,AP_TRN,AP_WRAP> range \[0, 255\]"):
        F(8, 0, False).check_raw(np.array([0, 256]), "pixel")


def vector_counts() -> dict:
    """Vectors compared per (operation, Q, O) mode; every mode sees the same inputs. Each input
    counts once per target type it is assigned to."""
    counts = {}

    def add(key, n, random=0):
        c = counts.setdefault(key, [0, 0])
        c[0] += n
        c[1] += random

    for p in PAIRS:
        for op in OPS:
            ra, _ = operand_pairs(p, op)
            add(op, len(ra) * len(p.targets), 0 if p.exhaustive else N_RANDOM * len(p.targets))
        for c in shard_cases(p):
            if c.op == "cast":
                n = len(cast_inputs(c.a, c.targets, rng_for(c.name)))
                add("assign", n * len(c.targets), N_RANDOM // 2 * len(c.targets) + sum(
                    N_RANDOM // 4 * len(c.targets) for t in c.targets if c.a.frac >= t.frac))
    for t in DOUBLE_TARGETS:
        add("from_double", len(double_inputs(t, rng_for("double", short(t)))), N_RANDOM)
    return counts


if __name__ == "__main__":
    print(f"{'operation':12s} {'vectors/mode':>13s} {'random/mode':>12s}  (x {len(MODES)} Q x O modes)")
    for op, (n, r) in vector_counts().items():
        print(f"{op:12s} {n:>13,d} {r:>12,d}")
