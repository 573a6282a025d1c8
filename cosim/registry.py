"""The kernel registry: for every kernel, where it lives in each layer of the project.

One entry per kernel names its python_ref definition, its HLS sources and top functions, its C
testbench, its RTL units (top module, sources, cocotb testbench) and the host functions that make
its C-sim vector set and its `make sim` row. Everything that iterates over kernels reads this table:
``scripts/sim.py`` (the `make sim` summary), ``scripts/export_vectors.py`` and the vendor Tcl
(``scripts/vitis.py`` writes the kernel list ``hls/scripts/vitis_hls.tcl`` sources), ``make synth``
and the lint (``rtl_units``), and the pytest parametrisations (tests/test_registry.py,
tests/test_csim.py). Adding a kernel is one entry here plus its files, named after it:
python_ref/kernels/<name>.py, hls/src/<name>.cpp, hls/tb/<name>_tb.cpp, rtl/src/<unit>.sv,
cosim/test_<unit>.py.

Host functions are named as ``"module:function"`` strings and imported on use, so that reading the
registry needs neither torch nor cocotb.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .toolchain import HLS_DIR, RTL_DIR


@dataclass(frozen=True)
class RtlUnit:
    """One RTL top module of a kernel and its cocotb testbench."""

    top: str
    sources: tuple[str, ...]  # rtl/src file names, dependencies first (the top's file last)
    testbench: str  # cocotb module, cosim/test_<top>.py

    def paths(self) -> list[Path]:
        return [RTL_DIR / "src" / s for s in self.sources]


@dataclass(frozen=True)
class Kernel:
    name: str
    spec: str  # "python_ref.kernels.<name>:<function>": the numerical definition
    hls_sources: tuple[str, ...]  # hls/src/*.cpp compiled together (C-sim and the vendor project)
    hls_tops: tuple[str, ...]  # synthesizable top functions (one vendor project each)
    rtl: tuple[RtlUnit, ...]
    vectors: str  # "module:function": (cfg) -> cosim.csim.VectorSet, the C testbench's inputs + expected
    sim: str  # "module:function": (cfg, waves) -> cosim.sim_rows.KernelResult, the `make sim` row
    #                  (a kernel without RTL returns rtl_exact None: python_ref vs C-sim, RTL columns "-")

    @property
    def hls_tb(self) -> Path:
        return HLS_DIR / "tb" / f"{self.name}_tb.cpp"

    def hls_source_paths(self) -> list[Path]:
        return [HLS_DIR / "src" / s for s in self.hls_sources]

    def unit(self, top: str) -> RtlUnit:
        for u in self.rtl:
            if u.top == top:
                return u
        raise KeyError(f"kernel {self.name!r} has no RTL unit {top!r}; units: {', '.join(u.top for u in self.rtl)}")


def resolve(ref: str) -> Callable:
    """Import ``"package.module:attribute"``."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


_SKID_CTRL = ("axis_skid.sv", "axis_pipe_ctrl.sv")
_PIPE_MIRROR = _SKID_CTRL + ("axis_pipe_mirror.sv",)   # units with an axis_pipe_mirror (layernorm, linear_out)
# Groups of sources that several tops share (each after _PIPE_MIRROR; reciprocal.sv, used by LayerNorm and
# attention, is listed once, with LayerNorm or in front of attention)
_LAYERNORM = ("reciprocal.sv", "layernorm_stats.sv", "layernorm.sv")
_ENGINE = ("axis_fifo.sv", "gelu.sv", "mac_array.sv", "linear_loader.sv", "act_ram.sv", "operand_round.sv",
           "linear_act.sv", "linear_issue.sv", "linear_out.sv", "linear_core.sv")    # linear_core and its parts
_ATTENTION_CORE = ("attn_pkg.sv", "attn_ram.sv", "attn_phase.sv", "attn_qkv_store.sv", "attn_loader.sv", "attn_issue.sv",
                   "attn_score.sv", "exp_core.sv", "attn_exp.sv", "attn_norm_lane.sv", "attn_norm.sv", "attn_out.sv",
                   "attention_core.sv")                                              # needs reciprocal.sv
_BUFFER = ("act_buffer_seq.sv", "act_buffer.sv")                                     # after _ENGINE's act_ram, operand_round
_ROUTER = ("credit_join.sv", "reduce_tree.sv", "softmax_stats.sv", "softmax_prob.sv", "softmax.sv", "moe_topk.sv",
           "moe_router.sv")                                                          # needs exp_core.sv, reciprocal.sv

KERNELS: dict[str, Kernel] = {k.name: k for k in (
    Kernel("gelu", "python_ref.kernels.gelu:gelu_raw", ("gelu.cpp",), ("gelu_top",),
           (RtlUnit("gelu", _SKID_CTRL + ("gelu.sv",), "cosim.test_gelu"),),
           "cosim.vectors:gelu_csim", "cosim.sim_rows:gelu"),
    Kernel("exp", "python_ref.kernels.exp:exp_neg_raw", ("exp.cpp",), ("exp_top",),
           (RtlUnit("exp", _SKID_CTRL + ("exp_core.sv", "exp.sv"), "cosim.test_exp"),),
           "cosim.vectors:exp_csim", "cosim.sim_rows:exp"),
    Kernel("reciprocal", "python_ref.kernels.reciprocal:reciprocal_raw", ("reciprocal.cpp",), ("reciprocal_top",),
           (RtlUnit("reciprocal", ("reciprocal.sv",), "cosim.test_reciprocal"),),
           "cosim.vectors:reciprocal_csim", "cosim.sim_rows:reciprocal"),
    Kernel("softmax", "python_ref.kernels.softmax:softmax_two_pass_raw", ("softmax.cpp",), ("softmax_top",),
           (RtlUnit("softmax", ("axis_skid.sv", "axis_fifo.sv", "exp_core.sv", "reciprocal.sv", "credit_join.sv",
                                "reduce_tree.sv", "softmax_stats.sv", "softmax_prob.sv", "softmax.sv"),
                    "cosim.test_softmax"),
            RtlUnit("axis_fifo", ("axis_skid.sv", "axis_fifo.sv"), "cosim.test_axis_fifo")),
           "cosim.vectors:softmax_csim", "cosim.sim_rows:softmax"),
    Kernel("layernorm", "python_ref.kernels.layernorm:layernorm_raw", ("layernorm.cpp",), ("layernorm_top",),
           (RtlUnit("layernorm", _PIPE_MIRROR + _LAYERNORM,
                    "cosim.test_layernorm"),),
           "cosim.vectors:layernorm_csim", "cosim.sim_rows:layernorm"),
    Kernel("linear", "python_ref.kernels.linear:compute_linear", ("linear.cpp", "patch_embed.cpp"), ("linear_top",),
           (RtlUnit("linear", _PIPE_MIRROR + _ENGINE + ("linear.sv",),
                    "cosim.test_linear"),
            RtlUnit("mac_array", ("mac_array.sv",), "cosim.test_mac_array"),
            RtlUnit("weight_fifo", ("axis_skid.sv", "axis_fifo.sv", "weight_fifo.sv"), "cosim.test_weight_fifo"),
            # an activation buffer between calls (the residual x, fc1's hidden rows), the engine's host side
            RtlUnit("act_buffer", ("axis_skid.sv", "axis_fifo.sv", "act_ram.sv", "operand_round.sv", "act_buffer_seq.sv", "act_buffer.sv"),
                    "cosim.test_act_buffer"),
            # the engine's accumulate calls on the residual buffer (acc_ from it, y_ into it)
            RtlUnit("residual_linear", _PIPE_MIRROR + _ENGINE + ("linear.sv",) + _BUFFER + ("residual_linear.sv",),
                    "cosim.test_residual_linear"),
            # LayerNorm fed from the residual buffer into the engine (the LN-fed calls)
            RtlUnit("residual_layernorm", _PIPE_MIRROR + _LAYERNORM + _ENGINE + ("linear.sv", "layernorm_linear.sv") + _BUFFER
                    + ("ln_param_zip.sv", "residual_layernorm.sv"), "cosim.test_residual_layernorm"),
            # a dense MLP block: LayerNorm from x, fc1 into h, fc2 from h onto x
            RtlUnit("mlp_block", _PIPE_MIRROR + _LAYERNORM + _ENGINE + ("linear.sv",) + _BUFFER
                    + ("ln_param_zip.sv", "route_onehot.sv", "mlp_block.sv"),
                    "cosim.test_mlp_block"),
            # an attention block: LN1 from x, qkv into h, attention from h into h, proj from h onto x (one array)
            RtlUnit("attention_block", _PIPE_MIRROR + _LAYERNORM + _ENGINE + _ATTENTION_CORE + ("linear_attention.sv",) + _BUFFER
                    + ("ln_param_zip.sv", "axis_lane_split.sv", "axis_lane_join.sv", "route_onehot.sv", "attention_block.sv"),
                    "cosim.test_attention_block"),
            # a MoE block: LN2 from x into h and the gate, the logits into the router, the experts from h onto x
            RtlUnit("moe_block", _PIPE_MIRROR + _LAYERNORM + _ENGINE + ("linear.sv",) + _BUFFER + ("ln_param_zip.sv", "exp_core.sv")
                    + _ROUTER + ("axis_lane_split.sv", "route_onehot.sv", "moe_block.sv"),
                    "cosim.test_moe_block"),
            # the frame's buffers at the config's shapes (the residual x, the hidden rows, the gate logits)
            RtlUnit("act_buffers", ("axis_skid.sv", "axis_fifo.sv", "act_ram.sv", "operand_round.sv", "act_buffer_seq.sv", "act_buffer.sv",
                                    "act_buffers.sv"), "cosim.test_act_buffers"),
            # the engine behind its weight FIFO (the accelerator's weight path), cosim/test_linear.py's frame test
            RtlUnit("linear_prefetch", _PIPE_MIRROR + _ENGINE + ("linear.sv", "weight_fifo.sv", "linear_prefetch.sv"),
                    "cosim.test_linear_prefetch"),
            # LayerNorm streamed into the engine (LN1 -> qkv, LN2 -> fc1 / gate): the frame model's
            # layernorm_lead measured; numerics layernorm_raw then compute_linear
            RtlUnit("layernorm_linear", _PIPE_MIRROR + _LAYERNORM + _ENGINE + ("linear.sv", "layernorm_linear.sv"),
                    "cosim.test_layernorm_linear")),
           "cosim.linear_jobs:linear_csim", "cosim.sim_rows:linear"),
    Kernel("attention", "python_ref.kernels.attention:attention_raw", ("attention.cpp",), ("attention_top",),
           (RtlUnit("attention", ("attn_pkg.sv", "attn_ram.sv", "attn_phase.sv", "attn_qkv_store.sv", "attn_loader.sv",
                                  "attn_issue.sv", "mac_array.sv", "attn_score.sv", "exp_core.sv", "reciprocal.sv",
                                  "attn_exp.sv", "attn_norm_lane.sv", "attn_norm.sv", "attn_out.sv", "attention_core.sv",
                                  "attention.sv"),
                    "cosim.test_attention"),
            RtlUnit("attn_phase", ("attn_phase.sv",), "cosim.test_attn_phase"),
            # the linear engine and this unit on ONE MAC array (issue #13); the numerics are the two kernels'
            # (python_ref.kernels.linear, .attention), the bench reuses both units' benches. Listed last and
            # here, not under linear: cosim/mutate.py maps a source to the first kernel unit that uses it
            RtlUnit("linear_attention", _PIPE_MIRROR + _ENGINE + ("reciprocal.sv",) + _ATTENTION_CORE + ("linear_attention.sv",),
                    "cosim.test_linear_attention")),
           "cosim.attention_vectors:attention_csim", "cosim.sim_rows:attention"),
    # two tops: the router alone, and the whole layer (router, then the experts on one linear_top:
    # moe_layer.cpp, the path backbone_top's MoE layers call; docs/moe.md, "HLS MoE layer")
    Kernel("moe", "python_ref.kernels.moe:moe_raw", ("moe.cpp", "moe_layer.cpp", "linear.cpp", "patch_embed.cpp"),
           ("moe_top", "moe_layer_top"),
           (RtlUnit("moe_router", ("axis_skid.sv", "axis_fifo.sv", "exp_core.sv", "reciprocal.sv", "credit_join.sv",
                                   "reduce_tree.sv", "softmax_stats.sv", "softmax_prob.sv", "softmax.sv", "moe_topk.sv",
                                   "moe_router.sv"),
                    "cosim.test_moe_router"),
            # the expert calls of the router's descriptor stream executed on the linear engine (one
            # linear instance, its x / h / moe_acc buffers and the call sequencer; docs/moe.md)
            RtlUnit("moe_experts", _PIPE_MIRROR + _ENGINE + ("linear.sv", "moe_experts.sv"),
                    "cosim.test_moe_experts"),
            # the layer's top: router -> descriptors -> experts, the DDR weight / bias words through two
            # weight FIFOs that drop the inactive experts' words (docs/moe.md, "RTL MoE layer")
            RtlUnit("moe_layer", _PIPE_MIRROR + ("exp_core.sv", "reciprocal.sv") + _ROUTER + _ENGINE
                    + ("linear.sv", "moe_experts.sv", "weight_fifo.sv", "moe_layer.sv"),
                    "cosim.test_moe_layer"),
            # the same top with the gate's own linear call on the experts' engine: LN2(x) in
            # (moe_layer GATE_CALL = 1 with its ports; docs/moe.md, "RTL MoE layer")
            RtlUnit("moe_layer_gate", _PIPE_MIRROR + ("exp_core.sv", "reciprocal.sv") + _ROUTER + _ENGINE
                    + ("linear.sv", "moe_experts.sv", "weight_fifo.sv", "moe_layer.sv", "moe_layer_gate.sv"),
                    "cosim.test_moe_layer_gate")),
           "cosim.moe_vectors:moe_csim", "cosim.sim_rows:moe"),
    # The whole frame: every unit above composed by one top (docs/backbone.md): backbone_top in C++,
    # backbone.sv in RTL (its calls issued by the bench in python_ref.kernels.frame_ctrl's steps).
    Kernel("backbone", "python_ref.kernels.backbone:backbone_raw",
           ("backbone.cpp", "linear.cpp", "patch_embed.cpp", "attention.cpp", "layernorm.cpp", "moe.cpp", "moe_layer.cpp"),
           ("backbone_top",),
           # every unit of a frame on the three activation buffers: LayerNorm, the engine and attention on
           # one array, the router; driven in python_ref.kernels.frame_ctrl's steps
           (RtlUnit("backbone", _PIPE_MIRROR + _LAYERNORM + _ENGINE + _ATTENTION_CORE + ("linear_attention.sv",) + _BUFFER
                    + ("ln_param_zip.sv",) + _ROUTER + ("axis_lane_split.sv", "axis_lane_join.sv", "weight_fifo.sv",
                                                     "backbone.sv"),
                    "cosim.test_backbone"),),
           "cosim.backbone_vectors:backbone_csim", "cosim.sim_rows:backbone"),
)}


def kernel(name: str) -> Kernel:
    try:
        return KERNELS[name]
    except KeyError:
        raise KeyError(f"no kernel named {name!r}; kernels: {', '.join(KERNELS)}") from None


def rtl_units() -> dict[str, tuple[Kernel, RtlUnit]]:
    """Every RTL unit with its own testbench, by top module name."""
    return {u.top: (k, u) for k in KERNELS.values() for u in k.rtl}


def rtl_unit(top: str) -> tuple[Kernel, RtlUnit]:
    units = rtl_units()
    if top not in units:
        raise KeyError(f"no RTL unit named {top!r}; units: {', '.join(units)}")
    return units[top]
