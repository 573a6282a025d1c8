"""Generate the HLS C++ header and the SystemVerilog package from a validated :class:`Config`.

Outputs, per configuration NAME (committed, so that users with only vendor tools find them;
``make check-generated`` and tests/test_config.py fail when they are stale):

* ``hls/generated/NAME/model_config.h``: constants, ap_fixed typedefs, one config struct per kernel;
* ``hls/generated/NAME/<kernel>_tables.h``: each kernel's tables (raw bits: GELU delta, exp);
* ``rtl/generated/NAME/model_pkg.sv``: ``package model_pkg`` with the same constants and tables;
* ``hls/generated/NAME/settings.tcl``: part and clock for the vendor scripts.

The constants listed by :func:`constants` are the contract checked by the agreement test: each
appears with the same name and value in the C++ header (``constexpr int NAME``, or ``long long``
beyond 32 bits) and the SystemVerilog package (``localparam int NAME``, or ``longint``).
"""
from __future__ import annotations

from pathlib import Path

from .config import FORMAT_ROLES, REPO_ROOT, Config
from .fixed import OVERFLOW_MODES, QUANT_MODES
from .hwconfig import KernelHwConfig
from .kernels import attention, exp, gelu, layernorm, linear, moe, reciprocal, softmax

# One config struct per kernel (hls4ml's CONFIG_T): the kernels' own hw_config, in this order.
KERNEL_CONFIGS = (gelu.hw_config, exp.hw_config, reciprocal.hw_config, softmax.hw_config, layernorm.hw_config,
                  linear.hw_config, attention.hw_config, moe.hw_config)


def kernel_configs(cfg: Config) -> list[KernelHwConfig]:
    return [f(cfg) for f in KERNEL_CONFIGS]


def constants(cfg: Config) -> dict[str, int]:
    """Every integer constant shared by python_ref, the C++ header and the SystemVerilog package:
    the model shape, the hardware parallelism, every format's fields and every kernel's
    constants (``<PREFIX>_<MEMBER>``)."""
    m, hw = cfg.model, cfg.hardware
    c = {
        "IMAGE_CHANNELS": m.channels, "IMAGE_HEIGHT": m.height, "IMAGE_WIDTH": m.width,
        "PATCH_SIZE": m.patch_size, "NUM_PATCHES": m.num_patches, "NUM_TOKENS": m.tokens,
        "FEATURE_DIM": m.dim, "NUM_HEADS": m.heads, "HEAD_DIM": m.head_dim, "NUM_LAYERS": m.layers,
        "MLP_HIDDEN_DIM": m.mlp_hidden, "NUM_EXPERTS": m.experts, "TOP_K": m.top_k,
        "EXPERT_HIDDEN_DIM": m.expert_hidden, "NUM_TASKS": m.tasks, "PATCH_IN_DIM": m.patch_in,
        "AXI_WIDTH": hw.axi_width, "LINEAR_IN": hw.linear_in, "LINEAR_OUT": hw.linear_out,
        "ATTN_PARALLEL": hw.attention_parallel,
    }
    for role, f in list(cfg.formats.items()) + [("gelu_table", hw.gelu.table_format)]:
        c.update({f"{role.upper()}_{field}": v for field, v in f.codes().items()})
    for k in kernel_configs(cfg):
        clash = set(k.flat()) & set(c)
        assert not clash, f"kernel {k.kernel}: constants {sorted(clash)} defined twice"
        c.update(k.flat())
    return c


def _fits_int(v: int) -> bool:
    """Constants that fit a 32-bit int are `int` in C++ and SystemVerilog, the others 64-bit."""
    return -(1 << 31) <= v < (1 << 31)


def _header(cfg: Config, comment: str) -> str:
    return (f"{comment} Generated from {Path(cfg.source).name} (config digest {cfg.digest}) by scripts/generate.py.\n"
            f"{comment} Do not edit: change the YAML and run `make generate`.\n")


def _cpp_struct(k: KernelHwConfig) -> list[str]:
    lines = [f"// ---- {k.doc}", f"struct {k.kernel}_config {{"]
    for name, f, doc in k.types:
        lines.append(f"    typedef {f.c_type} {name};  // {doc}")
    for c in k.constants:
        ctype = "int" if _fits_int(c.value) else "long long"
        lines.append(f"    static const {ctype} {c.member} = {k.prefix}_{c.member.upper()};  // {c.doc}")
    return lines + ["};", ""]


def cpp_config_header(cfg: Config) -> str:
    c = constants(cfg)
    lines = [_header(cfg, "//"), "#pragma once", "", "#include <ap_fixed.h>", "#include <ap_int.h>", "",
             f"// Configuration: {cfg.name}", "", "// ---- shared constants (same names and values in model_pkg.sv)"]
    lines += [f"constexpr int {k} = {v};" if _fits_int(v) else f"constexpr long long {k} = {v}LL;" for k, v in c.items()]
    lines += ["", "// ---- fixed-point formats"]
    for role, f in cfg.formats.items():
        lines.append(f"typedef {f.c_type} {role}_t;  // {FORMAT_ROLES[role]}")
    lines.append("")
    for k in kernel_configs(cfg):
        lines += _cpp_struct(k)
    return "\n".join(lines)


def cpp_tables_header(cfg: Config, k: KernelHwConfig) -> str:
    parts = [_header(cfg, "//") + "#pragma once\n\n#include <ap_int.h>\n"]
    for t in k.tables:
        body = ",\n".join("    " + ", ".join(str(v) for v in t.values[i:i + 8]) for i in range(0, len(t.values), 8))
        parts.append(f"// {t.doc}\nstatic const ap_uint<{t.width}> {t.name}[{len(t.values)}] = {{\n{body}\n}};\n")
    return "\n".join(parts)


def sv_package(cfg: Config) -> str:
    c = constants(cfg)
    lines = [_header(cfg, "//"), f"// Configuration: {cfg.name}",
             "// Quantization codes: " + ", ".join(f"{i} {q}" for i, q in enumerate(QUANT_MODES)),
             "// Overflow codes: " + ", ".join(f"{i} {o}" for i, o in enumerate(OVERFLOW_MODES)),
             "package model_pkg;"]
    lines += [f"  localparam int {k} = {v};" if _fits_int(v) else f"  localparam longint {k} = 64'sd{v};"
              for k, v in c.items()]
    for k in kernel_configs(cfg):
        for t in k.tables:
            w = t.width
            entries = ",\n".join("    " + ", ".join(f"{w}'d{v}" for v in t.values[i:i + 8])
                                  for i in range(0, len(t.values), 8))
            lines += [f"  // {t.doc}", f"  localparam logic [{w - 1}:0] {t.name} [{len(t.values)}] = '{{\n{entries}\n  }};"]
    lines += ["endpackage", ""]
    return "\n".join(lines)


def tcl_settings(cfg: Config) -> str:
    """Settings for the vendor scripts (hls/scripts/vitis_hls.tcl)."""
    hw = cfg.hardware
    return (_header(cfg, "#") + f"set CONFIG_NAME {cfg.name}\n" f"set PART {hw.part}\n"
            f"set CLOCK_PERIOD_NS {1000.0 / hw.clock_mhz:.4f}\n")


def outputs(cfg: Config, root: Path = REPO_ROOT) -> dict[Path, str]:
    """Every generated file for ``cfg`` (path -> text)."""
    hls = root / "hls" / "generated" / cfg.name
    out = {hls / "model_config.h": cpp_config_header(cfg)}
    for k in kernel_configs(cfg):
        if k.tables:
            out[hls / f"{k.kernel}_tables.h"] = cpp_tables_header(cfg, k)
    out[root / "rtl" / "generated" / cfg.name / "model_pkg.sv"] = sv_package(cfg)
    out[hls / "settings.tcl"] = tcl_settings(cfg)
    return out
