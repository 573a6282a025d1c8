"""What one kernel's hardware needs from the configuration: named integer constants, typedefs and
tables, derived in python_ref (the spec) and written by :mod:`python_ref.codegen` into

* C++ (``hls/generated/<cfg>/model_config.h``): one config struct per kernel in hls4ml's
  ``CONFIG_T`` style (``struct exp_config { static const int t_frac = EXP_T_FRAC; ... };``, the
  kernels are templates on it), the flat ``constexpr`` constants the struct members are defined
  from, and the tables in ``<kernel>_tables.h``;
* SystemVerilog (``rtl/generated/<cfg>/model_pkg.sv``): the same flat constants as ``localparam``
  (``EXP_T_FRAC``) and the same tables.

So a constant exists once (here), under one name in both languages, and the agreement test
(tests/test_config.py) reads every one of them back from the compiled header and the elaborated
package. Kernels register their ``hw_config(cfg)`` in :data:`python_ref.codegen.KERNEL_CONFIGS`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .fixed import FixedFormat


@dataclass(frozen=True)
class Constant:
    member: str  # C++ struct member (lower case); the flat name is PREFIX_MEMBER upper case
    value: int
    doc: str


@dataclass(frozen=True)
class Table:
    name: str  # flat name in both languages, e.g. EXP_TABLE
    width: int  # unsigned raw bits of each entry
    values: tuple[int, ...]
    doc: str


@dataclass(frozen=True)
class KernelHwConfig:
    kernel: str  # struct <kernel>_config; flat names <PREFIX>_<MEMBER>
    prefix: str
    doc: str
    constants: tuple[Constant, ...]
    types: tuple[tuple[str, FixedFormat, str], ...] = field(default=())  # (member typedef, format, doc)
    tables: tuple[Table, ...] = field(default=())

    def flat(self) -> dict[str, int]:
        return {f"{self.prefix}_{c.member.upper()}": int(c.value) for c in self.constants}


def constant_list(**members: tuple[int, str]) -> tuple[Constant, ...]:
    """``constant_list(t_frac=(24, "doc"), ...)`` in declaration order."""
    return tuple(Constant(k, int(v), doc) for k, (v, doc) in members.items())
