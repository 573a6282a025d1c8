"""A small mutation runner of the project's own (issue 15): it plants one deliberate bug at a time
in a copy of the repository and runs the fast tests that should see it.

A mutant is one textual edit of one source line: a comparison operator swapped (``>=`` -> ``>``,
``==`` -> ``!=``, ...), an integer constant moved by one, an arithmetic ``+`` turned into ``-``, or
one term dropped from a handshake-style ``&&`` condition. Each runs in its own copy of the tracked
files (so nothing in the working tree is touched and build caches never mix), with the test
command that ``test_command`` maps its file to; a failing (or timed-out) test run kills the
mutant, a passing one lets it survive. Mutants proven equivalent (no input can tell them apart)
are listed with the reason in EQUIVALENT and reported as such, never silently dropped.

A kill only counts if the command can see anything: each distinct command first runs on the
unmutated copy (the baseline) and must pass with at least one test run. A command that selects no
test (pytest exit 5), is misused (exit 4) or fails unmutated marks its mutants ``error``: reported,
excluded from the score, and the campaign fails. (The first RTL campaign counted 10 "kills" that were
``-k tiny`` selecting no test of a unit whose tests have no tiny case.)

The operators are line-based on purpose: no parser per language, the same runner for SystemVerilog,
C++ and Python, and every mutant is readable as a one-line diff in the report.
"""
from __future__ import annotations

import functools
import hashlib
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

# (name, pattern, replacement). Patterns avoid SystemVerilog's non-blocking assignment `<=` (only
# mutated where it is surely a comparison: inside parentheses after `if`/`?`), C++/SV shifts and
# stream operators (`<<`, `>>`), and comments (stripped before matching).
OPERATORS: list[tuple[str, str, str]] = [
    ("ge->gt", r"(?<![<>=!])>=(?!=)", ">"),
    ("gt->ge", r"(?<![<>=\-])>(?![>=])", ">="),
    ("lt->le", r"(?<![<])<(?![<=])", "<="),
    ("eq->ne", r"(?<![=!<>])==(?!=)", "!="),
    ("ne->eq", r"!=(?!=)", "=="),
    ("and-drop-rhs", r"\s*&&\s*[A-Za-z_][A-Za-z_0-9.\[\]]*(?![A-Za-z_0-9.\[(])", ""),
    ("plus->minus", r"(?<=\w|\))\s\+\s(?=\w|\()", " - "),
    ("const+1", r"(?<![\w'.])([1-9][0-9]{0,3})(?![\w'.])", None),  # None: n -> n + 1
]

COMMENT = {".sv": "//", ".h": "//", ".cpp": "//", ".py": "#"}
# String literals (messages, $error texts): double quotes everywhere, single quotes in Python only
# (SystemVerilog uses ' in sized literals and casts).
_DQ = r'"(?:\\.|[^"\\])*"'
STRING = {".sv": _DQ, ".h": _DQ, ".cpp": _DQ, ".py": _DQ + r"|'(?:\\.|[^'\\])*'"}


@dataclass(frozen=True)
class Mutant:
    path: str          # relative to the repository root
    line: int          # 1-based
    operator: str
    original: str      # the line before
    mutated: str       # the line after

    @property
    def key(self) -> str:
        """Stable id: file, operator and a hash of the edit (survives unrelated line shifts)."""
        h = hashlib.sha1(f"{self.original.strip()}\n{self.mutated.strip()}".encode()).hexdigest()[:8]
        return f"{self.path}:{self.operator}:{h}"


@dataclass
class Outcome:
    mutant: Mutant
    status: str        # killed | survived | equivalent | timeout (killed) | error (not counted)
    seconds: float
    command: str
    detail: str = ""


# Mutants no test can kill because no input can tell them apart from the original, with the reason.
# Keys are Mutant.key values; the report lists them as "equivalent".
EQUIVALENT: dict[str, str] = {
    # a = C1 - q1 with q1 = round(C2 * r / 2^24) <= C2 < C1 < 2^28 (r < 2^24): in [0, 2^28), so a 29-bit
    # register holds the same value (a width increase that never changes a bit)
    "hls/src/exp.h:const+1:72988c34": "ap_uint<28> -> ap_uint<29> for a = C1 - q1 in [0, 2^28): same value",
    # axis_fifo's AW = DEPTH > 1 ? $clog2(DEPTH) : 1 differs from these only for DEPTH <= 2, where it
    # gives the same AW (DEPTH = 2: $clog2(2) = 1) or where g_chk rejects the FIFO anyway (DEPTH < 2)
    "rtl/src/axis_fifo.sv:const+1:66bc1166": "AW for DEPTH = 2 is $clog2(2) = 1 on both branches",
    "rtl/src/axis_fifo.sv:const+1:c0d1b3ee": "the ': 1' branch is reached only by DEPTH < 2, which g_chk rejects",
    "rtl/src/axis_fifo.sv:gt->ge:52dd9349": "differs only for DEPTH = 1, which g_chk rejects",
    # s_axis_tready = !skid_valid, and every use of s_fire is under !skid_valid (or sets skid_valid,
    # already 1): s_fire = s_axis_tvalid gives the same next state in every state
    "rtl/src/axis_skid.sv:and-drop-rhs:ff7e6c88": "s_fire is only read where s_axis_tready (= !skid_valid) is 1",
    # diff = rem_sh - d in WI + 3 instead of WI + 2 bits: rem_sh - d > -2^(WI+1), so bit WI+1 (the
    # borrow, the only bit read above WI) and the low bits are the same
    "rtl/src/reciprocal.sv:const+1:e6519e95": "one more bit of rem_sh - d: the borrow bit WI+1 and bits below unchanged",
    # reciprocal: i counts K - 1 down to 0, so any CW with 2^CW > K - 1 holds it ($clog2(K - 1) + 1
    # does for every K >= 2; more bits are spare); a wider state enum, q_inc one bit wider than its
    # (WO+2)-bit sum
    "rtl/src/reciprocal.sv:plus->minus:d28f1007": "CW = $clog2(K - 1) + 1 still holds i's K - 1 .. 0",
    "rtl/src/reciprocal.sv:const+1:1aac7b1b": "a spare bit more in the step counter i",
    "rtl/src/reciprocal.sv:const+1:e2d1da75": "a spare bit more in the step counter i",
    "rtl/src/reciprocal.sv:const+1:5dd88eaf": "the four states in a 3-bit enum instead of 2 bits: the same machine",
    "rtl/src/reciprocal.sv:const+1:f487cff7": "q_inc one bit wider than its (WO+2)-bit sum: the same value",
    # exp_core: widths one bit larger than the values they hold (prod_r sums modulo 2^PW and only
    # bits TS .. TS+29 are read; pa3 holds a (UB+16)-bit product), and C1' = 26'(C1 - k 2^27) is the
    # same for every k (2^27 = 0 mod 2^26)
    "rtl/src/exp_core.sv:const+1:d75c7fcf": "prod_r one bit wider: the same low PW bits, only bits TS .. TS+29 read",
    "rtl/src/exp_core.sv:const+1:be202913": "pa3 one bit wider than its (UB+16)-bit product: the same value",
    "rtl/src/exp_core.sv:const+1:45fb19d0": "26'(C1 - 2^28) = 26'(C1 - 2^27): 2^27 is 0 modulo 2^26",
    "rtl/src/exp_core.sv:const+1:68449306": "26'(C1 - 2^28) = 26'(C1 - 2^27): 2^27 is 0 modulo 2^26",
    # exp_core: more widths one bit larger than their values need (a6 = C1' - q1 with q1 < 2^20 never
    # borrows; q2 < 2^21; ml9 / mh9 hold 38- / 33-bit products); the shift's n10[5] is 0 whenever the
    # shifted value is used (n >= 26 sets the zero flag); the zero flag at n = 26 as well: m / 2^31 <
    # 2^25 shifted by 26 is 0, and so is y
    "rtl/src/exp_core.sv:const+1:d9f5eb2d": "a6 = C1' - q1 >= 2^25 (q1 < 2^20): no borrow, one more bit holds the same value",
    "rtl/src/exp_core.sv:const+1:e84b5bd7": "q2 < 2^21: the 21-bit sum does not carry, one more bit holds the same value",
    "rtl/src/exp_core.sv:const+1:c6fe1a7c": "ml9 one bit wider than its 38-bit product: the same value",
    "rtl/src/exp_core.sv:const+1:21320b3c": "mh9 one bit wider than its 33-bit product: the same value",
    "rtl/src/exp_core.sv:const+1:569749ef": "n10[5] is 0 whenever the shift is used (n >= 26 zeroes y)",
    "rtl/src/exp_core.sv:ge->gt:149f7730": "at n = 26 the datapath's own result is 0 (m10 < 2^26 >> 26), as the zero flag's",
    # hls/src/reciprocal.h: types one bit wider than their values need (rem < 2x <= 2^(WI+1), q and r <
    # 2^(K+1), a 0/1 constant, top = 2^WO - 1 < 2^(K-1) as K > WO in both instances), r == top
    # returning top, and `q[0] = 2` (a bit reference takes val != 0)
    **{f"hls/src/reciprocal.h:{k}": why for k, why in (
        ("const+1:a18afa06", "rem one bit wider than rem < 2x needs"),
        ("const+1:4aa6bbf7", "q one bit wider than floor(2^K / x) needs"),
        ("const+1:c4f6e465", "the 0/1 dividend bit in a wider type"),
        ("plus->minus:bcb28240", "the 0/1 dividend bit in a narrower type that still holds it"),
        ("const+1:f0e2e2e0", "q[0] = 2 sets the bit as q[0] = 1 does (a bit reference takes val != 0)"),
        ("const+1:6a123de5", "r one bit wider than (q + 1) >> 1 needs"),
        ("const+1:db741687", "the rounding sum one bit wider: no carry is lost in either"),
        ("gt->ge:cdc05c20", "r == top returns top on both branches"),
        ("const+1:875e2c68", "top compared in a wider type: the same value"),
        ("plus->minus:8cd253b1", "top = 2^WO - 1 fits K - 1 bits (K > WO in both instances)"))},
    # The restoring division of 2^K and of 2^K - 1 (the first dividend bit 0, the others 1; or a
    # partial remainder equal to x left unsubtracted) give quotients that differ only when x divides
    # 2^K, and then by one from an even q (q = 2^K / x >= 2 while x < 2^WI <= 2^K), which the
    # rounding (q + 1) >> 1 absorbs: the same result for both instances (WI <= K: 32 / 56 and 30 / 60)
    "hls/src/reciprocal.h:eq->ne:7fa4ee75": "dividend 2^K - 1 instead of 2^K: the same rounded result while WI <= K",
    "hls/src/reciprocal.h:ge->gt:6bf2da02": "a remainder equal to x left: q - 1 only for x | 2^K, absorbed by the rounding while WI <= K",
    # hls/src/gelu.h: x = 0 gives relu = 0 and |x| = 0 either way; wider types than the values need
    **{f"hls/src/gelu.h:{k}": why for k, why in (
        ("lt->le:917e76bb", "relu(0) = 0 on both branches"),
        ("lt->le:6176818b", "-0 = 0"),
        ("const+1:b1c28fef", "|x| one bit wider than its W + 1 bits"),
        ("const+1:3f1f829b", "the range limit in a wider type: the same value"),
        ("const+1:ac0e70fc", "the table index one bit wider"),
        # parse_config rejects table_range >= act.max = 2^(I-1) - 2^-F, so the limit range_steps <<
        # T_BITS is below 2^(W-1) and the index k < range_steps below 2^(W-1-T_BITS)
        ("plus->minus:5a00b700", "the range limit fits W - 1 bits: table_range < act.max (parse_config)"),
        ("plus->minus:511f77c3", "the table index fits W - 1 - T_BITS bits: table_range < act.max (parse_config)"))},
    # hls/src/exp.h: types one bit wider than their values (-x of a W-bit x needs W + 1 bits; 2^UB in
    # W + 2 > UB + 1 bits; u log2e < 2^(UB+32); the rounded t < 46.2 * 2^24 < 2^30, n = t >> 24 <= 46);
    # x = 0 clamped to 0 is 0; n = n_zero = 26 computed on gives T p < 2^56 shifted by 32 + 26 with
    # rounding 2^57: 0, as the early return
    **{f"hls/src/exp.h:{k}": why for k, why in (
        ("const+1:1c6b2524", "-x in W + 2 bits: it needs W + 1"),
        ("const+1:e43622fe", "x widened to W + 2 bits before the negation: the same -x"),
        ("lt->le:3c3f9524", "neg = 0 clamped to 0"),
        ("const+1:ee0155dd", "2^UB in W + 3 bits: it fits W + 2"),
        ("const+1:a3ecc522", "u log2e in UB + 33 bits: it fits UB + 32"),
        ("const+1:8beb5c5d", "log2e_raw < 2^31 in 33 bits: it fits 32"),
        ("const+1:91a744de", "t < 2^30 in 31 bits"),
        ("const+1:eedf6eb2", "the rounding sum in UB + 34 bits: it fits UB + 33"),
        ("const+1:9e479d6b", "the rounding constant in UB + 34 bits: the same value"),
        ("const+1:c855e144", "n <= 46 in 7 bits: it fits 6"),
        ("ge->gt:4e972c3c", "n = 26 computed on: T p < 2^56 >> 58 with rounding 2^57 is 0, as the early return"),
        ("const+1:d91d1ee0", "r C2 < 2^43 in 45 bits: it fits 44"),
        ("const+1:3a01dadd", "C2 < 2^26 in 27 bits: it fits 26"),
        ("const+1:33b7c994", "q1 < C2 2^17 / 2^24 < 2^20 in 21 bits: it fits 20"),
        ("const+1:dc73b22b", "the rounding constant 2^23 in 45 bits: the same value"),
        ("const+1:f3addf3f", "C1 < 2^28 in 29 bits: the same value"),
        ("const+1:e209cf79", "r a < 2^45 in 47 bits: it fits 46"),
        ("const+1:f9d19200", "q2 < 2^21 in 23 bits: it fits 22"),
        ("const+1:864bd171", "the rounding constant 2^23 in 47 bits: the same value"),
        ("const+1:91d5f5db", "p <= 2^28 in 30 bits: it fits 29"),
        ("const+1:0be8721c", "2^28 in 30 bits before the shift: the same value"),
        ("const+1:17bd501f", "T p <= 2^56 in 59 bits: it fits 58"),
        ("const+1:f6f1caa8", "the rounded result in 60 bits: it fits 59"),
        ("const+1:39947101", "m in 60 bits: the same value"),
        ("const+1:eaca7462", "the rounding constant in 60 bits: the same value"),
        ("const+1:2028e1e3", "yr <= 2^24: its bit 25, written past y's 25 bits, is 0"))},
    # hls/src/layernorm.h: types wider than their values (the square root's v has 2N bits, its
    # remainder and trial stay below 2^(N+2), a 2-bit slice fits N - 2 >= 2 bits; s1 < 2^47 and
    # |k| < 2^7 in the stats struct; S1 < 2^(W+8), S2 < 2^(2W+8) as parameters; the variance in
    # VW + 1, + 2 or + 8 bits)
    **{f"hls/src/layernorm.h:{k}": why for k, why in (
        ("const+1:91914ed5", "the square root's argument as 3N bits: it has 2N"),
        ("const+1:b70831e9", "the remainder in N + 3 bits: it stays below 2^(N+2)"),
        ("plus->minus:84ecd52d", "a 2-bit slice of v in N - 2 = 28 bits: the same value"),
        ("const+1:ad79db1f", "a 2-bit slice of v in N + 3 bits: the same value"),
        ("const+1:ac6d48be", "the trial in N + 3 bits: it stays below 2^(N+2)"),
        ("const+1:77ef9884", "root in N + 3 bits before << 2: root << 2 < 2^(N+2) either way"),
        ("const+1:6221cf56", "the struct's S1 in 49 bits: it fits 48"),
        ("const+1:9effd83d", "the struct's k in 9 bits: it fits 8"),
        ("const+1:07d2a692", "S1 passed in W + 10 bits: it fits W + 9"),
        ("const+1:3f3c68f8", "S2 passed in 3W + 8 bits: it fits 2W + 8"),
        ("const+1:f847ac06", "S2 passed in 2W + 9 bits: it fits 2W + 8"),
        ("const+1:58a867dc", "the variance in 3W + 18 bits: it fits 2W + 18"),
        ("const+1:4469c07e", "the variance in 2W + 26 bits: it fits 2W + 18"),
        ("const+1:88f4f6f5", "the variance in 2W + 20 bits: it fits 2W + 18"),
        ("const+1:ecfb4497", "the variance in 2W + 19 bits: it fits 2W + 18"),
        # v = D S2 - S1^2 + EPS_V < 2^78 + 2^64 (EPS_V < 2^64: layernorm.check_config) and each term
        # (S2 < 2^72, S1 < 2^41, EPS_V) fit VW - 1 = 81 signed bits as well as VW + 1
        ("plus->minus:965ecfbe", "v < 2^78 + 2^64 fits VW - 1 = 81 signed bits (EPS_V < 2^64, check_config)"),
        ("plus->minus:4659b284", "S2 < 2^72 fits VW - 1 signed bits before the product widens"),
        ("plus->minus:d63a1e5b", "S1 < 2^41 fits VW - 1 signed bits before the product widens"),
        ("plus->minus:64058f5d", "EPS_V < 2^64 fits VW - 1 signed bits (check_config)"),
        ("const+1:43308a4e", "v in VW + 2 signed bits: it fits VW + 1"),
        ("const+1:43f3dcb6", "S2 in VW + 2 signed bits: the same value"),
        ("const+1:99c09cc7", "S1 in VW + 2 signed bits: the same value"),
        ("const+1:35f95e6b", "EPS_V in VW + 2 signed bits: the same value"),
        ("ge->gt:9738aa6f", "t = 0: t / 2 and -((-t + 1) / 2) are both 0"),
        ("const+1:da439ee6", "v widened by 3 v_bits instead of 2 before the shift: the same v_n"),
        ("ge->gt:5f071033", "k = 0: v >> 0 and v << 0 are both v"),
        # the output stage: D x - S1 < 2^(W+9), a and z within 32 bits, the products and sums within
        # 64 bits; one more bit in a type or a constant's type changes no value
        ("const+1:d3b9954b", "D x - S1 in W + 11 bits: it fits W + 10"),
        ("const+1:b3a8bc94", "x in W + 11 bits before the product: the same value"),
        ("const+1:ebe9c1b4", "c in 65 bits: it fits 64"),
        ("const+1:4b0658be", "a (a 32-bit cast) in 33 bits: the same value"),
        ("const+1:b15954b2", "the rounding constant in 65 bits: the same value"),
        ("const+1:c1730c59", "a r in 65 bits: it fits 64"),
        ("const+1:0788e137", "a in 65 bits before the product: the same value"),
        ("const+1:4d2cc063", "r in 65 bits before the product: the same value"),
        ("const+1:40891915", "z in 33 bits: |z| <= 16 with 24 fraction bits fits 32"),
        ("const+1:3cfd167f", "the rounding constant in 65 bits: the same value"),
        ("const+1:1be697b6", "z g + b in 65 bits: it fits 64"),
        ("const+1:7491dd66", "z in 65 bits before the product: the same value"),
        ("const+1:e0bd2de2", "b in 65 bits before the shift: the same value"),
        ("const+1:2973b0b2", "the rounded y in 65 bits: it fits 64"),
        ("const+1:76e6d8d9", "the rounding constant in 65 bits: the same value"),
        ("const+1:653c9bb3", "the saturation bounds in 65 bits: the same values"),
        ("const+1:fa4bf198", "-2^(W-1) formed in 65 bits: the same value"),
        ("const+1:1cdefbfe", "2^(W-1) - 1 formed in 65 bits: the same value"),
        ("lt->le:191ecf7b", "y = lo saturated to lo"),
        ("gt->ge:3395c141", "y = hi saturated to hi"),
        # at sh = 0 the rounding term is ap_int<64>(1) << -1, which ap_int shifts right: 0
        ("gt->ge:3f9488f1", "sh = 0 on the rounding branch: 1 << -1 is 0 (ap_int shifts right), c >> 0 = c"))},
    # a score equal to the running maximum: the new-maximum branch gives s e + 1 with e = exp(0) = 1
    # exactly (2^24 in ap_ufixed<25,1>), the other s + e: the same s, and m unchanged
    "python_ref/kernels/softmax.py:gt->ge:87c80d4d": "a tie with the maximum: s * 1 + 1 = s + 1 on both branches, m the same",
    # ki = 0 shifts by 0 on either branch
    "python_ref/kernels/layernorm.py:ge->gt:c9c3f282": "at ki = 0, vi >> 0 and vi << 0 are both vi",
    # r = top saturates to top: the same value
    "python_ref/kernels/reciprocal.py:gt->ge:fd87bbbd": "r == top gives top on both branches",
    "python_ref/kernels/reciprocal.py:const+1:932a32fc": "the placeholder divisor of x = 0, whose result is replaced by top",
    # exp_core: pb3 one bit wider than its (UB+14)-bit product; the lint waiver `unused_ok` listing a
    # bit that is also read (no logic: the waiver only silences UNUSED)
    "rtl/src/exp_core.sv:const+1:01392db5": "pb3 one bit wider than its (UB+14)-bit product: the same value",
    "rtl/src/exp_core.sv:const+1:3b86930c": "the lint waiver also lists a bit that is read: no logic changes",
    "rtl/src/exp_core.sv:const+1:a9cb69c2": "the lint waiver also lists a bit that is read: no logic changes",
    "rtl/src/exp_core.sv:const+1:3617060e": "the lint waiver also lists a bit that is read: no logic changes",
    # gelu: a spare product bit more; |x| from bit W-2 differs from bit W-1 only for |x| >= 2^(ACT_I-2),
    # far outside the table (in_table is false there, a is unused); |x| = LIM read as in the table hits
    # ROM word RANGE, which is 0 (t = 0 too), so y = relu as outside; ROM words at k >= RANGE are read
    # only outside the table, where y = relu whatever they hold, and words past 2^IDX_W never
    "rtl/src/gelu.sv:const+1:32dfb788": "one more spare bit in the signed product t * diff",
    "rtl/src/gelu.sv:const+1:cf95d2d6": "bits W-1 and W-2 of x differ only far outside the table, where a is unused",
    "rtl/src/gelu.sv:gt->ge:3255eca4": "|x| = LIM in the table reads ROM word RANGE = 0 with t = 0: y = relu, as outside",
    "rtl/src/gelu.sv:lt->le:1cc4bce6": "|x| = LIM in the table reads ROM word RANGE = 0 with t = 0: y = relu, as outside",
    "rtl/src/gelu.sv:lt->le:3b754cde": "ROM word RANGE is read only outside the table (k < RANGE inside), where y = relu",
    "rtl/src/gelu.sv:const+1:bb10212f": "a ROM twice as deep: the IDX_W-bit address never reaches the added words",
    # gelu: the ROM word's field widths (tests/test_cosim_gelu.py checks TN, DN and BR_W against the table):
    # the block-RAM split's bound (ROM_W = 36 splits alike), the loops' start values and caps, which no
    # table reaches (TN <= TW, DN <= TW + 1), and the signed bounds of the diffs, where the positive
    # diffs set DN on every table run here (shipped: 63,902 needs 17 bits, the lowest, -16,892, 16)
    "rtl/src/gelu.sv:lt->le:6296b018": "ROM_W = 36 puts the same 36 bits in block RAM either way",
    "rtl/src/gelu.sv:const+1:8e75b33e": "ROM_W < 37 and ROM_W < 36 differ only at ROM_W = 36, which gives BR_W = 36 either way",
    "rtl/src/gelu.sv:const+1:dbd2b66e": "TN starting at 2 differs only for a table whose entries are all below 2",
    "rtl/src/gelu.sv:lt->le:9d93a2e3": "the loop's cap: T[k] < 2^TW, so n stops at the table's width first",
    "rtl/src/gelu.sv:const+1:a67365d3": "DN starting at 3 differs only for a table whose diffs all lie in [-2, 1]",
    "rtl/src/gelu.sv:lt->le:abc43477": "the loop's cap: diffs of TW-bit unsigned values fit TW + 1 signed bits",
    "rtl/src/gelu.sv:const+1:06380660": "the loop's cap: diffs of TW-bit unsigned values fit TW + 1 signed bits",
    "rtl/src/gelu.sv:plus->minus:a30141db": "a cap of TW - 1 = 21 bits: the widest diff of any table run here needs 21 (the step-1 geometry)",
    "rtl/src/gelu.sv:lt->le:fe48ab6b": "no diff equals -2^(DN-1): the positive diffs set DN",
    "rtl/src/gelu.sv:const+1:fabc5755": "the negative bound doubled: the positive diffs set DN",
    "rtl/src/gelu.sv:const+1:838e1fc6": "the negative bound halved: -16,892 then needs 17 bits, as the positive diffs do",
    "rtl/src/gelu.sv:const+1:f1a66c30": "FXV_W's dummy width when FX_W = 0: FX_W is 1 on every table run here",
    # g_chk_geometry's TB + IDX_W > W - 1 cannot hold for a config parse_config accepts:
    # table_range < act.max gives RANGE < 2^(ACT_I - 1 + S), so IDX_W <= ACT_I - 1 + S and
    # TB + IDX_W <= W - 1 (test_gelu_table_geometries builds that edge); only a hand-edited
    # package reaches the clause the mutant disables
    "rtl/src/gelu.sv:plus->minus:aa119dce": "the clause it disables is unreachable from a parsed config (range < act.max)",
    # exp_core's guard of the spec's constants (fixed in python_ref/kernels/exp.py, not config
    # fields: the guard sees one set of values, C1 = 186065279, C2 = 64485312); these edits of its
    # bounds give the same verdict on that set (false: C1 - 2^27 < 2^26, C2 < 2^26)
    **{f"rtl/src/exp_core.sv:{k}": "a bound of the fixed spec constants' guard; the same verdict on the only constants"
       for k in ("const+1:0d633b5d", "const+1:2efd83e1", "const+1:3cab3620", "const+1:b0842709",
                 "const+1:ae6f1d20", "const+1:929b3361", "ge->gt:cb689035", "ge->gt:e3b975db")},
    # exp's two early-zero guards are shortcuts for values the datapath already rounds to 0: at
    # u >= 2^(f+5) (x <= -32) n = floor(u log2 e) >= 46 >= N_ZERO, so `live` is false anyway (u < 2^(f+6)
    # keeps u * LOG2E_RAW < 2^31 * 2^32 inside int64); at n = N_ZERO = 26, m / 2^(TABLE_FRAC+POLY_FRAC) =
    # 2^(j/8) p < 2 and the shift by 26 + 4 leaves < 0.5, which rounds to 0. Checked against the
    # original on 5.9M inputs around both boundaries for every frac_in in [0, 25]
    "python_ref/kernels/exp.py:lt->le:705fc66e": "u = 2^(f+5) has n >= 46 >= N_ZERO: zero through `live` as well",
    "python_ref/kernels/exp.py:const+1:94123ea3": "u in [2^(f+5), 2^(f+6)) has n >= 46 >= N_ZERO (no int64 overflow): zero anyway",
    "python_ref/kernels/exp.py:lt->le:d8082ee1": "at n = 26 the value 2^(j/8) p / 4 < 0.5 rounds to 0 anyway",
    # the shift of a lane that is not live only keeps round_shift defined: np.where(live, y, 0) drops it
    "python_ref/kernels/exp.py:const+1:43861b85": "the placeholder shift of lanes that are not live; their y is replaced by 0",
}


def _code_part(line: str, suffix: str) -> tuple[str, str]:
    """Split a line into code and trailing comment (a naive split: good enough to keep mutants
    out of comments; a string literal containing the marker only loses mutants, never adds)."""
    mark = COMMENT.get(suffix, "#")
    i = line.find(mark)
    return (line, "") if i < 0 else (line[:i], line[i:])


def _py_string_spans(text: str) -> dict[int, list[tuple[int, int]]]:
    """Line (1-based) -> column spans of Python string literals, from the tokenizer, so that the
    lines of a docstring over several lines are known wherever its quotes sit. (A line-based guess
    from where the quotes stand once fell out of step after a docstring that closed at the end of a
    text line: the code after it went unmutated and the next docstring's text was mutated.)"""
    spans: dict[int, list[tuple[int, int]]] = {}
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type != tokenize.STRING:
            continue
        (l0, c0), (l1, c1) = tok.start, tok.end
        for ln in range(l0, l1 + 1):
            spans.setdefault(ln, []).append((c0 if ln == l0 else 0, c1 if ln == l1 else 1 << 30))
    return spans


def _skip_line(code: str, suffix: str) -> bool:
    s = code.strip()
    if not s:
        return True
    if suffix == ".py" and (s.startswith(("import ", "from ", "def ", "class ", "@", "raise ", "assert "))
                            or "Error(" in s or s.startswith(('"', "'", 'f"'))):
        return True  # declarations and error messages: mutants there test the messages, not numerics
    if suffix in (".sv",) and (s.startswith(("$error", "$fatal", "`", "import ", "module ", "parameter "))
                               or "$error" in s):
        return True
    if suffix in (".h", ".cpp") and (s.startswith(("#", "static_assert", "std::cerr", "fprintf")) or "throw " in s):
        return True
    return False


def mutants_of_file(root: Path, rel: str) -> list[Mutant]:
    """Every mutant the operators produce on one file (each edit of one occurrence on one line)."""
    path = root / rel
    suffix = path.suffix
    text = path.read_text()
    out: list[Mutant] = []
    py_strings = _py_string_spans(text) if suffix == ".py" else {}
    for n, line in enumerate(text.splitlines(), start=1):
        code, comment = _code_part(line, suffix)
        if suffix == ".py":
            strings = py_strings.get(n, [])
            if any(a <= len(code) - len(code.lstrip()) and b >= len(code.rstrip()) for a, b in strings):
                continue  # the whole line is inside a string (a docstring's lines)
        else:
            strings = [m.span() for m in re.finditer(STRING.get(suffix, _DQ), code)]
        if _skip_line(code, suffix):
            continue
        for name, pattern, repl in OPERATORS:
            if name in ("lt->le", "gt->ge") and suffix != ".py" and not re.search(r"\b(if|while|for|assign)\b|\?", code):
                continue  # outside conditions `<`/`>` are template brackets (C++) or rare (SV)
            for m in re.finditer(pattern, code):
                if any(a <= m.start() < b for a, b in strings):
                    continue  # inside a string literal: a message, not the design
                new = str(int(m.group(1)) + 1) if repl is None else repl
                mutated = code[:m.start()] + new + code[m.end():] + comment
                if mutated != line:
                    out.append(Mutant(rel, n, name, line, mutated))
    return out


def apply(root: Path, m: Mutant) -> None:
    path = root / m.path
    lines = path.read_text().splitlines(keepends=True)
    cur = lines[m.line - 1]
    if cur.rstrip("\n") != m.original:
        raise RuntimeError(f"{m.path}:{m.line} changed since the mutant was made")
    lines[m.line - 1] = m.mutated + ("\n" if cur.endswith("\n") else "")
    path.write_text("".join(lines))


def tracked_files(root: Path) -> list[str]:
    res = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{root} is not a git checkout: {res.stderr.strip()}")
    return [f for f in res.stdout.splitlines() if f]


def copy_tree(root: Path, files: Iterable[str], dest: Path) -> None:
    for f in files:
        src = root / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)


def _run(work: Path, command: list[str], timeout: float, env: dict | None) -> tuple[int | None, str, float]:
    """(pytest exit code or None on timeout, last output line, seconds) of ``command`` in ``work``."""
    run_env = dict(os.environ if env is None else env)
    run_env["PYTHONPATH"] = str(work) + os.pathsep + run_env.get("PYTHONPATH", "")
    t0 = time.monotonic()
    try:
        res = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=timeout, env=run_env)
    except subprocess.TimeoutExpired:
        return None, "", time.monotonic() - t0
    tail = (res.stdout + res.stderr).strip().splitlines()[-1:] or [""]
    return res.returncode, tail[0], time.monotonic() - t0


# pytest exit codes that say the command, not the code under test, is wrong: no test collected (5),
# usage error (4). A mutant's run ending so proves nothing about the mutant.
COMMAND_ERRORS = {4: "usage error", 5: "no test collected"}


def baseline(root: Path, files: list[str], command: list[str], timeout: float, env: dict | None = None) -> str | None:
    """Run ``command`` on an unmutated copy: None when it passes with at least one test, else why not."""
    with tempfile.TemporaryDirectory(prefix="mutant_base_") as tmp:
        work = Path(tmp)
        copy_tree(root, files, work)
        code, tail, dt = _run(work, command, timeout, env)
    if code is None:
        return f"the unmutated run timed out after {dt:.0f} s"
    if code != 0:
        return f"the unmutated run fails (exit {code}{', ' + COMMAND_ERRORS[code] if code in COMMAND_ERRORS else ''}: {tail})"
    if not re.search(r"\b[1-9]\d* passed", tail):
        return f"the unmutated run passes no test ({tail})"
    return None


def run_mutant(root: Path, files: list[str], m: Mutant, command: list[str], timeout: float,
               env: dict | None = None) -> Outcome:
    if m.key in EQUIVALENT:
        return Outcome(m, "equivalent", 0.0, " ".join(command), EQUIVALENT[m.key])
    with tempfile.TemporaryDirectory(prefix="mutant_") as tmp:
        work = Path(tmp)
        copy_tree(root, files, work)
        apply(work, m)
        code, tail, dt = _run(work, command, timeout, env)
    if code is None:
        return Outcome(m, "timeout (killed)", dt, " ".join(command))
    if code == 0:
        return Outcome(m, "survived", dt, " ".join(command), tail)
    if code in COMMAND_ERRORS:
        return Outcome(m, "error", dt, " ".join(command), f"exit {code}, {COMMAND_ERRORS[code]}: {tail}")
    if code == 1:  # pytest: tests failed
        return Outcome(m, "killed", dt, " ".join(command), tail)
    # 2 (interrupted: a collection error) or 3 (internal error): with a passing baseline, the mutant
    # broke the build or the import, which a test run reports as an error: count as killed, say so
    return Outcome(m, "killed", dt, " ".join(command), f"exit {code}: {tail}")


def sample(mutants: list[Mutant], per_file: int | None, seed: int) -> list[Mutant]:
    """At most ``per_file`` mutants per file, drawn with a fixed seed (reproducible campaigns)."""
    if per_file is None:
        return mutants
    by_file: dict[str, list[Mutant]] = {}
    for m in mutants:
        by_file.setdefault(m.path, []).append(m)
    rng = random.Random(seed)
    out = []
    for f in sorted(by_file):
        ms = by_file[f]
        out += sorted(rng.sample(ms, min(per_file, len(ms))), key=lambda m: (m.line, m.operator))
    return out


def campaign(root: Path, targets: list[str], command_for: Callable[[str], list[str]], per_file: int | None = None,
             seed: int = 1, timeout: float = 1200.0, progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    files = tracked_files(root)
    missing = [t for t in targets if t not in files]
    if missing:
        raise ValueError(f"not tracked files of {root}: {missing}")
    mutants = sample([m for t in targets for m in mutants_of_file(root, t)], per_file, seed)
    outcomes = []
    base: dict[tuple[str, ...], str | None] = {}   # command -> why its baseline fails (None: passes)
    for m in mutants:
        command = command_for(m.path)
        if m.key not in EQUIVALENT and tuple(command) not in base:
            base[tuple(command)] = baseline(root, files, command, timeout)
        why = base.get(tuple(command))
        if m.key not in EQUIVALENT and why is not None:
            o = Outcome(m, "error", 0.0, " ".join(command), why)
        else:
            o = run_mutant(root, files, m, command, timeout)
        outcomes.append(o)
        if progress:
            progress(o)
    return outcomes


def score(outcomes: list[Outcome]) -> dict:
    killed = sum(o.status.startswith("killed") or o.status.startswith("timeout") for o in outcomes)
    survived = sum(o.status == "survived" for o in outcomes)
    equivalent = sum(o.status == "equivalent" for o in outcomes)
    errors = sum(o.status == "error" for o in outcomes)
    nonequiv = killed + survived
    return {"mutants": len(outcomes), "killed": killed, "survived": survived, "equivalent": equivalent,
            "errors": errors, "score": killed / nonequiv if nonequiv else 1.0}


def report(outcomes: list[Outcome]) -> str:
    s = score(outcomes)
    errs = f", {s['errors']} not run (error: the test command sees nothing, see detail)" if s["errors"] else ""
    lines = [f"{s['mutants']} mutants: {s['killed']} killed, {s['survived']} survived, {s['equivalent']} "
             f"equivalent{errs}; mutation score {100 * s['score']:.1f} % of the non-equivalent mutants run", "",
             "| status | file:line | operator | mutated line | test | s |", "|---|---|---|---|---|---:|"]
    order = {"error": 0, "survived": 1, "equivalent": 2}
    for o in sorted(outcomes, key=lambda o: (order.get(o.status, 2), o.mutant.path, o.mutant.line)):
        m = o.mutant
        code = m.mutated.strip().replace("|", "\\|")
        if len(code) > 90:
            code = code[:87] + "..."
        status = o.status + (f" ({o.detail})" if o.status in ("equivalent", "error") else "")
        status = status.replace("|", "\\|")
        lines.append(f"| {status} | `{m.path}:{m.line}` | {m.operator} | `{code}` | `{o.command}` | {o.seconds:.0f} |")
    return "\n".join(lines) + "\n"


# ---- the project's mapping from a source file to the fast tests that must see its bugs

@functools.lru_cache(maxsize=None)
def _has_tiny_cases(test: str) -> bool:
    """Whether pytest collects a fast case of ``test`` whose id names the tiny config."""
    from .toolchain import REPO_ROOT
    res = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          "-m", "not slow", test], cwd=REPO_ROOT, capture_output=True, text=True)
    return any("::" in line and "tiny" in line.split("::", 1)[1] for line in res.stdout.splitlines())


def project_command(rel: str) -> list[str]:
    """The pytest run a mutant of ``rel`` must fail: the module's lint and the unit's cocotb tests for RTL, the
    kernel's C-sim for HLS, the spec's own tests and the C-sim comparison for python_ref (the C++
    is an independent implementation: a wrong spec disagrees with it)."""
    from .registry import KERNELS
    from .toolchain import REPO_ROOT
    py = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not slow"]
    p = Path(rel)
    stem = p.stem
    if rel.startswith("rtl/src/"):
        # the file's own unit-level bench (e.g. attn_phase, mac_array) first, else the first kernel's
        units = [(u.top, u) for k in KERNELS.values() for u in k.rtl if u.top == stem]
        units += [(k.name, u) for k in KERNELS.values() for u in k.rtl]
        for name, u in units:
            test = f"tests/test_cosim_{name}.py"
            if p.name in u.sources and (REPO_ROOT / test).is_file():
                # the lint of the file's own module at its default parameters (an elaboration check
                # no unit's parameters reach), then the bench: the tiny config's cases where it has
                # them (fast builds), else every fast case
                lint = f"tests/test_rtl_lint.py::test_rtl_lint_clean[tiny-{stem}]"
                return py + [lint, test] + (["-k", "tiny"] if _has_tiny_cases(test) else [])
        raise ValueError(f"{rel}: no registered RTL unit with a tests/test_cosim_<kernel>.py uses it")
    if rel.startswith("hls/src/"):
        # the plain C-sim and the sanitized one (an out-of-bounds read that returns the right value)
        kernel = {"patch_embed": "linear", "exp_core": "exp", "moe_layer": "moe"}.get(stem, stem)
        return py + ["tests/test_csim.py", "tests/test_csim_sanitized.py", "-k", kernel]
    if rel.startswith("python_ref/kernels/"):
        # the spec's tests, the C-sim comparison, and the generated headers (a spec constant that
        # only feeds codegen must make the committed headers stale)
        # (test_<kernel>.py, or test_<kernel>_ref.py where the name is taken by another layer's tests)
        tests = [t for t in (f"tests/test_{stem}.py", f"tests/test_{stem}_ref.py") if (REPO_ROOT / t).is_file()]
        return py + tests + ["tests/test_csim.py", "tests/test_config.py", "-k", f"{stem} or generated_files"]
    raise ValueError(f"{rel}: no test mapping (rtl/src, hls/src or python_ref/kernels)")
