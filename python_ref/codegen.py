"""Generate the HLS C++ header and the SystemVerilog package from a validated :class:`Config`.

Outputs, per configuration NAME (committed, so that users with only vendor tools find them;
``make check-generated`` and tests/test_config.py fail when they are stale):

* ``hls/generated/NAME/model_config.h``: constants, ap_fixed typedefs, one config struct per kernel;
* ``hls/generated/NAME/gelu_table.h``: the GELU delta table (raw bits);
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
from .kernels.gelu import gelu_table
from .kernels.layernorm import eps_v as layernorm_eps_v

GELU_METHOD_CODES = {"edge_moe": 0, "minimax": 1}


def constants(cfg: Config) -> dict[str, int]:
    """Every integer constant shared by python_ref, the C++ header and the SystemVerilog package."""
    m, hw, g = cfg.model, cfg.hardware, cfg.hardware.gelu
    c = {
        "IMAGE_CHANNELS": m.channels, "IMAGE_HEIGHT": m.height, "IMAGE_WIDTH": m.width,
        "PATCH_SIZE": m.patch_size, "NUM_PATCHES": m.num_patches, "NUM_TOKENS": m.tokens,
        "FEATURE_DIM": m.dim, "NUM_HEADS": m.heads, "HEAD_DIM": m.head_dim, "NUM_LAYERS": m.layers,
        "MLP_HIDDEN_DIM": m.mlp_hidden, "NUM_EXPERTS": m.experts, "TOP_K": m.top_k,
        "EXPERT_HIDDEN_DIM": m.expert_hidden, "NUM_TASKS": m.tasks,
        "AXI_WIDTH": hw.axi_width, "LINEAR_IN": hw.linear_in, "LINEAR_OUT": hw.linear_out,
        "ATTN_PARALLEL": hw.attention_parallel,
        "GELU_METHOD": GELU_METHOD_CODES[g.method], "GELU_LANES": g.lanes,
        "GELU_STEP_LOG2": g.table_step_log2, "GELU_ENTRIES": g.table_entries,
        "GELU_RANGE_STEPS": g.table_entries - 1,
        # round(eps * D^2 * 2^(2F)): eps in the LayerNorm unit's integer variance (python_ref/kernels/layernorm.py)
        "LAYERNORM_EPS_V": layernorm_eps_v(cfg),
    }
    for role, f in list(cfg.formats.items()) + [("gelu_table", g.table_format)]:
        p = role.upper()
        c[f"{p}_W"] = f.width
        c[f"{p}_I"] = f.int_bits
        c[f"{p}_SIGNED"] = int(f.signed)
        c[f"{p}_QUANT"] = QUANT_MODES.index(f.quant)
        c[f"{p}_OVERFLOW"] = OVERFLOW_MODES.index(f.overflow)
    return c


def _fits_int(v: int) -> bool:
    """Constants that fit a 32-bit int are `int` in C++ and SystemVerilog, the others 64-bit."""
    return -(1 << 31) <= v < (1 << 31)


def _header(cfg: Config, comment: str) -> str:
    return (f"{comment} Generated from {Path(cfg.source).name} (config digest {cfg.digest}) by scripts/generate.py.\n"
            f"{comment} Do not edit: change the YAML and run `make generate`.\n")


def cpp_config_header(cfg: Config) -> str:
    c = constants(cfg)
    g = cfg.hardware.gelu
    lines = [_header(cfg, "//"), "#pragma once", "", "#include <ap_fixed.h>", "#include <ap_int.h>", "",
             f"// Configuration: {cfg.name}", "", "// ---- shared constants (same names and values in model_pkg.sv)"]
    lines += [f"constexpr int {k} = {v};" if _fits_int(v) else f"constexpr long long {k} = {v}LL;" for k, v in c.items()]
    lines += ["", "// ---- fixed-point formats"]
    for role, f in cfg.formats.items():
        lines.append(f"typedef {f.c_type} {role}_t;  // {FORMAT_ROLES[role]}")
    lines += [
        "",
        "// ---- GELU unit (hls/src/gelu.h): GELU(x) = ReLU(x) - delta(|x|), delta tabulated and interpolated",
        "struct gelu_config {",
        "    typedef act_t data_t;",
        f"    typedef {g.table_format.c_type} table_t;",
        f"    static const unsigned lanes = {g.lanes};",
        f"    static const unsigned step_log2 = {g.table_step_log2};",
        f"    static const unsigned entries = {g.table_entries};",
        f"    static const unsigned range_steps = {g.table_entries - 1};  // table_range / step",
        f"    static const int method = {GELU_METHOD_CODES[g.method]};  // 0 edge_moe, 1 minimax",
        "};",
        "",
        "// ---- LayerNorm unit (hls/src/layernorm.h): eps scaled to the unit's integer variance",
        "struct layernorm_config {",
        "    typedef act_t data_t;",
        "    typedef norm_param_t param_t;",
        "    static const unsigned dim = FEATURE_DIM;",
        f"    static const unsigned long long eps_v = LAYERNORM_EPS_V;  "
        f"// round(eps * D^2 * 2^(2F)), eps = {cfg.model.layernorm_eps!r}",
        "};",
        "",
    ]
    return "\n".join(lines)


def cpp_gelu_table(cfg: Config) -> str:
    g = cfg.hardware.gelu
    t = gelu_table(g)
    body = ",\n".join("    " + ", ".join(f"{int(v)}" for v in t[i:i + 8]) for i in range(0, len(t), 8))
    return (_header(cfg, "//") + "#pragma once\n\n#include <ap_int.h>\n\n"
            f"// delta(k / 2^{g.table_step_log2}) table, method {g.method}: raw bits of "
            f"{g.table_format.c_type}, see python_ref/kernels/gelu.py\n"
            f"static const ap_uint<{g.table_format.width}> GELU_DELTA_TABLE_RAW[{len(t)}] = {{\n{body}\n}};\n")


def sv_package(cfg: Config) -> str:
    c = constants(cfg)
    g = cfg.hardware.gelu
    t = gelu_table(g)
    tw = g.table_format.width
    lines = [_header(cfg, "//"), f"// Configuration: {cfg.name}",
             "// Quantization codes: " + ", ".join(f"{i} {q}" for i, q in enumerate(QUANT_MODES)),
             "// Overflow codes: " + ", ".join(f"{i} {o}" for i, o in enumerate(OVERFLOW_MODES)),
             "package model_pkg;"]
    lines += [f"  localparam int {k} = {v};" if _fits_int(v) else f"  localparam longint {k} = 64'sd{v};"
              for k, v in c.items()]
    entries = ",\n".join("    " + ", ".join(f"{tw}'d{int(v)}" for v in t[i:i + 8]) for i in range(0, len(t), 8))
    lines += [f"  // GELU delta table, method {g.method} (raw bits of {g.table_format.c_type})",
              f"  localparam logic [{tw - 1}:0] GELU_DELTA_TABLE [{len(t)}] = '{{\n{entries}\n  }};",
              "endpackage", ""]
    return "\n".join(lines)


def tcl_settings(cfg: Config) -> str:
    """Settings for the vendor scripts (hls/scripts/vitis_hls.tcl)."""
    hw = cfg.hardware
    return (_header(cfg, "#") + f"set CONFIG_NAME {cfg.name}\n" f"set PART {hw.part}\n"
            f"set CLOCK_PERIOD_NS {1000.0 / hw.clock_mhz:.4f}\n")


def outputs(cfg: Config, root: Path = REPO_ROOT) -> dict[Path, str]:
    """Every generated file for ``cfg`` (path -> text)."""
    return {
        root / "hls" / "generated" / cfg.name / "model_config.h": cpp_config_header(cfg),
        root / "hls" / "generated" / cfg.name / "gelu_table.h": cpp_gelu_table(cfg),
        root / "rtl" / "generated" / cfg.name / "model_pkg.sv": sv_package(cfg),
        root / "hls" / "generated" / cfg.name / "settings.tcl": tcl_settings(cfg),
    }
