"""The accelerator configuration: one YAML file (configs/*.yaml) is the single source of the model
shape, the fixed-point formats and the hardware parallelism.

``load_config(path)`` validates every field and returns an immutable :class:`Config`. A missing,
unknown or inconsistent field stops with a :class:`ConfigError` naming the field, the value and
what is allowed. The C++ header and SystemVerilog package are generated from the same object
(``python_ref.codegen``), so python_ref, hls/ and rtl/ cannot drift apart.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from types import MappingProxyType

import yaml

from .fixed import OVERFLOW_MODES, QUANT_MODES, FixedFormat

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"

GELU_METHODS = ("edge_moe", "minimax")
# The unified compute unit's numerical rule (python_ref/kernels/linear.py):
#   exact        operands converted to formats.operand, exact dot products, one rounding per output
#                (the DSP48E2 27 x 18 array: one DSP per MAC);
#   per_product  Edge-MoE's rule: the activation operand as it is, every product floored to act
#                before the sum (a 32 x 18 product needs two DSP48E2).
LINEAR_SUMS = ("exact", "per_product")

# Every format the design uses, with what it holds (documentation for the generated headers too).
FORMAT_ROLES = {
    "act": "activations between kernels (and the accumulators of every linear layer)",
    "weight": "linear-layer weights (QKV, projection, MLP fc1/fc2, experts)",
    "gate_weight": "MoE gate weights (one matrix per task)",
    "attn_bias": "attention biases (QKV and projection)",
    "bias": "other biases (MLP, experts, patch embedding)",
    "norm_param": "LayerNorm gamma and beta",
    "patch_weight": "patch-embedding convolution weights",
    "pixel": "input pixels",
    "operand": "activation operand of the MAC array (the 27-bit A port of a DSP48E2), converted from act once",
    "score": "attention scores q.k / sqrt(head_dim), rounded once from the exact dot product",
}


class ConfigError(ValueError):
    """A configuration file is missing, malformed or inconsistent. The message names the field."""


@dataclass(frozen=True)
class ModelShape:
    channels: int
    height: int
    width: int
    patch_size: int
    dim: int
    heads: int
    layers: int
    mlp_hidden: int
    experts: int
    top_k: int
    expert_hidden: int
    tasks: int
    layernorm_eps: float

    @property
    def patches_h(self) -> int:
        return self.height // self.patch_size

    @property
    def patches_w(self) -> int:
        return self.width // self.patch_size

    @property
    def num_patches(self) -> int:
        return self.patches_h * self.patches_w

    @property
    def tokens(self) -> int:
        """Patches plus the CLS token."""
        return self.num_patches + 1

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    @property
    def patch_in(self) -> int:
        """Inputs of one patch-embedding output (channels x patch x patch)."""
        return self.channels * self.patch_size * self.patch_size

    def is_moe_layer(self, layer: int) -> bool:
        """M3ViT: dense MLP on even layers, mixture of experts on odd layers."""
        return layer % 2 == 1


@dataclass(frozen=True)
class GeluConfig:
    method: str
    table_step_log2: int  # table step = 2**-table_step_log2
    table_range: float  # |x| >= table_range -> GELU(x) = ReLU(x)
    table_format: FixedFormat
    lanes: int  # values per stream beat in hls/ and rtl/

    @property
    def table_entries(self) -> int:
        return int(round(self.table_range * (1 << self.table_step_log2))) + 1


@dataclass(frozen=True)
class Hardware:
    part: str
    clock_mhz: float
    axi_width: int
    linear_in: int
    linear_out: int
    attention_parallel: int
    gelu: GeluConfig
    layernorm_lanes: int = 1  # hardware.layernorm.lanes: features per beat of the LayerNorm unit
    weight_fifo_depth: int = 0  # hardware.weight_fifo.depth: w_ words of the weight prefetch FIFO (0: none)
    weight_word_bits: int = 0   # hardware.weight_word.bits: the linear engine's w_ word (0: axi_width)
    weight_word_rows: int = 1   # hardware.weight_word.rows: weight rows per w_ word segment set (1 or 2)

    @property
    def w_bits(self) -> int:
        """The linear engine's w_ word (DDR -> weight FIFO -> engine), bits."""
        return self.weight_word_bits or self.axi_width


@dataclass(frozen=True)
class ExpertWeights:
    """``numerics.expert_weights`` (python_ref-only, the format study): the expert matrices (and with
    ``dense_mlp`` the dense MLP's fc1/fc2 too) stored as ``format`` values with one ``scale`` per
    output channel; the engine computes ``y = act(b + scale_o * sum_i operand(x_i) w_oi)`` (exact sum,
    one exact product by the scale, one rounding). See python_ref/kernels/linear.py."""

    format: FixedFormat  # the stored weight values (e.g. ap_fixed<8,8,AP_RND,AP_SAT_SYM>: integers -127..127)
    scale: FixedFormat  # the per-output-channel scale (unsigned)
    dense_mlp: bool = False  # also the dense MLP's fc1/fc2 (a proxy on trained weights)


@dataclass(frozen=True)
class Numerics:
    linear_sum: str  # LINEAR_SUMS
    # The attention array's operands (python_ref.kernels.attention; checked there): K and V on the B
    # port, q on the A port. None: formats.operand (K and V split hi / lo over two array passes).
    attention_kv: FixedFormat | None = None
    attention_q: FixedFormat | None = None
    # Format-study option (python_ref only: a buildable config must leave it out).
    expert_weights: ExpertWeights | None = None  # 8-bit expert weights with per-channel scales (None: weight)

    def study_options(self) -> list[str]:
        """The python_ref-only options that are set (empty for a configuration the hardware implements)."""
        return [name for name in ("expert_weights",) if getattr(self, name) is not None]


@dataclass(frozen=True)
class Config:
    name: str
    source: str  # path of the YAML file it came from
    model: ModelShape
    formats: MappingProxyType  # role -> FixedFormat
    hardware: Hardware
    numerics: Numerics
    raw: MappingProxyType = field(repr=False, compare=False, hash=False)  # read-only deep copy of the YAML

    def fmt(self, role: str) -> FixedFormat:
        try:
            return self.formats[role]
        except KeyError:
            raise ConfigError(f"no format named {role!r}; formats: {', '.join(self.formats)}") from None

    def as_dict(self) -> dict:
        """A mutable deep copy of the YAML document (to derive a modified config with parse_config)."""
        return _plain(self.raw)

    @property
    def digest(self) -> str:
        """Hash of the validated configuration (stamped into generated files and golden vectors)."""
        return hashlib.sha256(json.dumps(_plain(self.raw), sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Validation helpers: each takes the dotted field path so that errors name the field.

def _require_mapping(value, path: str) -> dict:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: expected a mapping of fields, got {type(value).__name__} {value!r}")
    return dict(value)


def _check_keys(mapping: dict, path: str, required: tuple, optional: tuple = ()) -> None:
    unknown = [k for k in mapping if k not in required and k not in optional]
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) {', '.join(map(str, unknown))}; "
                          f"allowed: {', '.join(required + optional)}")
    missing = [k for k in required if k not in mapping]
    if missing:
        raise ConfigError(f"{path}: missing field(s) {', '.join(missing)}")


def _layernorm_lanes(h: dict, dim: int) -> int:
    """hardware.layernorm.lanes (default 1): features per beat; a power of two dividing model.dim
    into at least two beats (a row is a whole number of beats; the RTL counts beats within a row)."""
    if "layernorm" not in h:
        return 1
    ln = _require_mapping(h["layernorm"], "hardware.layernorm")
    _check_keys(ln, "hardware.layernorm", ("lanes",))
    lanes = _int(ln, "lanes", "hardware.layernorm")
    if lanes & (lanes - 1) or dim % lanes or dim // lanes < 2:
        raise ConfigError(f"hardware.layernorm.lanes = {lanes}: must be a power of two dividing model.dim = {dim} "
                          f"into at least 2 beats")
    return lanes


def _weight_fifo_depth(h: dict) -> int:
    """hardware.weight_fifo.depth (default: no FIFO): words of the weight prefetch FIFO in front of the
    linear engine's w_ port (rtl/src/weight_fifo.sv), >= 2 (any depth: a block RAM FIFO is best sized
    in whole rows of block RAM, e.g. 15 x 1024 words, not only in powers of two)."""
    if "weight_fifo" not in h:
        return 0
    wf = _require_mapping(h["weight_fifo"], "hardware.weight_fifo")
    _check_keys(wf, "hardware.weight_fifo", ("depth",))
    depth = _int(wf, "depth", "hardware.weight_fifo")
    if depth < 2:
        raise ConfigError(f"hardware.weight_fifo.depth = {depth}: must be >= 2 (words of the w_ stream)")
    return depth


def _weight_word(h: dict) -> tuple[int, int]:
    """hardware.weight_word {bits, rows} (default: one AXI word, one row): the linear engine's w_ word.
    rows = 1: pack_matrix_axi (row-major); rows = 2: a word is one LI-weight segment of two rows
    (pack_matrix_pairs). How it must fit the tile and the weight format: linear.check_config."""
    if "weight_word" not in h:
        return 0, 1
    ww = _require_mapping(h["weight_word"], "hardware.weight_word")
    _check_keys(ww, "hardware.weight_word", ("bits", "rows"))
    bits = _int(ww, "bits", "hardware.weight_word")
    rows = _int(ww, "rows", "hardware.weight_word")
    if rows not in (1, 2):
        raise ConfigError(f"hardware.weight_word.rows = {rows}: must be 1 (row-major words) or 2 (row pairs)")
    return bits, rows


def _int(mapping: dict, key: str, path: str, minimum: int | None = 1) -> int:
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{path}.{key}: expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{path}.{key}: must be >= {minimum}, got {value}")
    return value


def _number(mapping: dict, key: str, path: str, positive: bool = True) -> float:
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{path}.{key}: expected a number, got {value!r}")
    if positive and not value > 0:
        raise ConfigError(f"{path}.{key}: must be > 0, got {value}")
    return float(value)


def _str(mapping: dict, key: str, path: str, allowed: tuple | None = None) -> str:
    value = mapping[key]
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}.{key}: expected a non-empty string, got {value!r}")
    if allowed is not None and value not in allowed:
        raise ConfigError(f"{path}.{key}: {value!r} is not allowed; allowed: {', '.join(allowed)}")
    return value


def _format(value, path: str) -> FixedFormat:
    m = _require_mapping(value, path)
    _check_keys(m, path, ("width", "int"), ("signed", "quant", "overflow"))
    width = _int(m, "width", path, 1)
    int_bits = _int(m, "int", path, None)
    signed = m.get("signed", True)
    if not isinstance(signed, bool):
        raise ConfigError(f"{path}.signed: expected true or false, got {signed!r}")
    quant = m.get("quant", "TRN")
    if quant not in QUANT_MODES:
        raise ConfigError(f"{path}.quant: {quant!r} is not a quantization mode; allowed: {', '.join(QUANT_MODES)}")
    overflow = m.get("overflow", "WRAP")
    if overflow not in OVERFLOW_MODES:
        raise ConfigError(f"{path}.overflow: {overflow!r} is not an overflow mode; allowed: {', '.join(OVERFLOW_MODES)}")
    if width > 64:
        raise ConfigError(f"{path}.width: at most 64 bits are supported by the generated RTL, got {width}")
    return FixedFormat(width, int_bits, signed, quant, overflow)


def _divides(a: int, a_name: str, b: int, b_name: str) -> None:
    if b % a:
        raise ConfigError(f"{b_name} = {b} is not divisible by {a_name} = {a}")


def parse_config(data, source: str = "<memory>", buildable: bool = True) -> Config:
    """Validate a parsed YAML document and build a :class:`Config`. With ``buildable`` (the default)
    the configuration must also be one the C++ and the RTL can be built for (each kernel's
    ``check_config``); ``buildable=False`` admits python_ref-only variants (the format study)."""
    top = _require_mapping(data, source)
    _check_keys(top, source, ("name", "model", "formats", "hardware", "numerics"))
    name = _str(top, "name", "name")
    if not name.replace("_", "").isalnum():
        raise ConfigError(f"name: {name!r} must be letters, digits and underscores (it names generated files)")

    m = _require_mapping(top["model"], "model")
    _check_keys(m, "model", ("image", "patch_size", "dim", "heads", "layers", "mlp_hidden", "moe", "layernorm_eps"))
    img = _require_mapping(m["image"], "model.image")
    _check_keys(img, "model.image", ("channels", "height", "width"))
    moe = _require_mapping(m["moe"], "model.moe")
    _check_keys(moe, "model.moe", ("experts", "top_k", "expert_hidden", "tasks"))
    shape = ModelShape(
        channels=_int(img, "channels", "model.image"),
        height=_int(img, "height", "model.image"),
        width=_int(img, "width", "model.image"),
        patch_size=_int(m, "patch_size", "model"),
        dim=_int(m, "dim", "model"),
        heads=_int(m, "heads", "model"),
        layers=_int(m, "layers", "model"),
        mlp_hidden=_int(m, "mlp_hidden", "model"),
        experts=_int(moe, "experts", "model.moe"),
        top_k=_int(moe, "top_k", "model.moe"),
        expert_hidden=_int(moe, "expert_hidden", "model.moe"),
        tasks=_int(moe, "tasks", "model.moe"),
        layernorm_eps=_number(m, "layernorm_eps", "model"),
    )
    _divides(shape.heads, "model.heads", shape.dim, "model.dim")
    _divides(shape.patch_size, "model.patch_size", shape.height, "model.image.height")
    _divides(shape.patch_size, "model.patch_size", shape.width, "model.image.width")
    if shape.top_k > shape.experts:
        raise ConfigError(f"model.moe.top_k = {shape.top_k} exceeds model.moe.experts = {shape.experts}")

    f = _require_mapping(top["formats"], "formats")
    _check_keys(f, "formats", tuple(FORMAT_ROLES))
    formats = {role: _format(f[role], f"formats.{role}") for role in FORMAT_ROLES}
    if formats["pixel"].signed:
        raise ConfigError("formats.pixel.signed: pixels are unsigned (ap_ufixed); set signed: false")
    op = formats["operand"]
    if not op.signed or op.width > 27:
        raise ConfigError(f"formats.operand: the MAC array's activation operand is the signed 27-bit A port of "
                          f"a DSP48E2: use a signed format of at most 27 bits, got {op.c_type}")

    h = _require_mapping(top["hardware"], "hardware")
    _check_keys(h, "hardware", ("part", "clock_mhz", "axi_width", "linear_tile", "attention_parallel", "gelu"),
                ("layernorm", "weight_fifo", "weight_word"))
    tile = _require_mapping(h["linear_tile"], "hardware.linear_tile")
    _check_keys(tile, "hardware.linear_tile", ("in", "out"))
    g = _require_mapping(h["gelu"], "hardware.gelu")
    _check_keys(g, "hardware.gelu", ("method", "table_step_log2", "table_range", "table_format", "lanes"))
    gelu = GeluConfig(
        method=_str(g, "method", "hardware.gelu", GELU_METHODS),
        table_step_log2=_int(g, "table_step_log2", "hardware.gelu", 0),
        table_range=_number(g, "table_range", "hardware.gelu"),
        table_format=_format(g["table_format"], "hardware.gelu.table_format"),
        lanes=_int(g, "lanes", "hardware.gelu"),
    )
    steps = gelu.table_range * (1 << gelu.table_step_log2)
    if steps != int(steps):
        raise ConfigError(f"hardware.gelu.table_range = {gelu.table_range} is not a multiple of the table step "
                          f"2**-{gelu.table_step_log2}")
    if gelu.table_format.signed or gelu.table_format.int_bits > 0:
        raise ConfigError("hardware.gelu.table_format: the delta table holds values in [0, 0.17]: use an unsigned "
                          "format with int <= 0 (Edge-MoE: ap_ufixed<22,0>)")
    act = formats["act"]
    if act.frac < gelu.table_step_log2:
        raise ConfigError(f"hardware.gelu.table_step_log2 = {gelu.table_step_log2} needs formats.act to have at least "
                          f"that many fraction bits; formats.act has {act.frac}")
    if gelu.table_range >= act.max:
        raise ConfigError(f"hardware.gelu.table_range = {gelu.table_range} must be below the largest activation "
                          f"{act.max}")
    w_bits, w_rows = _weight_word(h)
    hw = Hardware(
        part=_str(h, "part", "hardware"),
        clock_mhz=_number(h, "clock_mhz", "hardware"),
        axi_width=_int(h, "axi_width", "hardware", 8),
        linear_in=_int(tile, "in", "hardware.linear_tile"),
        linear_out=_int(tile, "out", "hardware.linear_tile"),
        attention_parallel=_int(h, "attention_parallel", "hardware"),
        gelu=gelu,
        layernorm_lanes=_layernorm_lanes(h, shape.dim),
        weight_fifo_depth=_weight_fifo_depth(h),
        weight_word_bits=w_bits, weight_word_rows=w_rows,
    )
    if hw.axi_width & (hw.axi_width - 1):
        raise ConfigError(f"hardware.axi_width: must be a power of two, got {hw.axi_width}")
    n = _require_mapping(top["numerics"], "numerics")
    _check_keys(n, "numerics", ("linear_sum",), ("attention_kv", "attention_q", "expert_weights"))
    numerics = Numerics(linear_sum=_str(n, "linear_sum", "numerics", LINEAR_SUMS),
                        attention_kv=_attention_operand(n, formats, "attention_kv", "K and V"),
                        attention_q=_attention_operand(n, formats, "attention_q", "q"),
                        expert_weights=_expert_weights(n))
    if numerics.expert_weights is not None and numerics.linear_sum != "exact":
        raise ConfigError("numerics.expert_weights: per-channel scaled weights are defined for numerics.linear_sum: "
                          f"exact only, got {numerics.linear_sum!r}")
    cfg = Config(name=name, source=source, model=shape, formats=MappingProxyType(formats), hardware=hw,
                 numerics=numerics, raw=_frozen_copy(top))
    # What the C++ and the RTL can be built for: each kernel's spec module knows its own limits.
    if buildable and numerics.study_options():
        raise ConfigError(f"numerics.{numerics.study_options()[0]}: a python_ref-only option of the format study (the C++ "
                          f"and the RTL do not implement it); load such a config with buildable=False")
    if buildable:
        from .kernels import buildable as hardware  # noqa: PLC0415 (the kernels import this module)
        hardware.check(cfg)
    return cfg


def _attention_operand(n: dict, formats: dict, field: str, what: str) -> FixedFormat | None:
    """numerics.attention_kv / attention_q: an attention operand's format (None: formats.operand)."""
    if field not in n:
        return None
    f = _format(n[field], "numerics." + field)
    if not f.signed or f.width > formats["operand"].width:
        are = "are a signed MAC operand" if what == "K and V" else "is a signed MAC operand"
        raise ConfigError(f"numerics.{field}: {what} {are} no wider than formats.operand "
                          f"({formats['operand'].width} bits), got {f.c_type}")
    return f


def _expert_weights(n: dict) -> ExpertWeights | None:
    if "expert_weights" not in n:
        return None
    path = "numerics.expert_weights"
    m = _require_mapping(n["expert_weights"], path)
    _check_keys(m, path, ("format", "scale"), ("dense_mlp",))
    fmt = _format(m["format"], path + ".format")
    scale = _format(m["scale"], path + ".scale")
    if not fmt.signed or fmt.max <= 0:
        raise ConfigError(f"{path}.format: the stored weights are signed values, got {fmt.c_type}")
    if scale.signed:
        raise ConfigError(f"{path}.scale: a scale is unsigned (signed: false), got {scale.c_type}")
    dense = m.get("dense_mlp", False)
    if not isinstance(dense, bool):
        raise ConfigError(f"{path}.dense_mlp: expected true or false, got {dense!r}")
    return ExpertWeights(fmt, scale, dense)


def _frozen_copy(value):
    """A deep, read-only copy of the parsed YAML: the Config does not share the caller's dict, so
    mutating that dict afterwards cannot change the config (or its digest)."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen_copy(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_frozen_copy(v) for v in value)
    return value


def _plain(value):
    """The frozen copy back as JSON-serialisable dicts and lists (for the digest)."""
    if isinstance(value, MappingProxyType):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def load_config(path, buildable: bool = True) -> Config:
    """Read and validate a configuration file. A bare name (``tiny``) means ``configs/tiny.yaml``.
    ``buildable``: see :func:`parse_config`."""
    p = Path(path)
    if not p.suffix and not p.exists():
        p = CONFIG_DIR / f"{path}.yaml"
    if not p.is_file():
        available = ", ".join(sorted(q.name for q in CONFIG_DIR.glob("*.yaml")))
        raise ConfigError(f"config file {str(path)!r} not found (configs available: {available})")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    return parse_config(data, str(p), buildable)


def all_configs() -> list[Path]:
    return sorted(CONFIG_DIR.glob("*.yaml"))
