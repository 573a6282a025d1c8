"""`make sim` rows of the nonlinear units: for each unit, the same vectors through python_ref, the C
simulation of hls/ and the RTL (cocotb + Verilator, stalls and backpressure on), plus the max
error against float64 and the RTL latency / throughput.

Each ``sim_<unit>(cfg, waves)`` returns a dict with exactly the fields of scripts/sim.py's
``KernelResult`` (kernel, vectors_csim, csim_exact, vectors_rtl, rtl_exact, max_error, error_note,
latency, cycles_per_beat). Register them in scripts/sim.py with
``KERNELS["exp"] = lambda cfg, waves: KernelResult(**sim_exp(cfg, waves))`` and likewise for the rest.
"""
from __future__ import annotations

import numpy as np
import torch

from python_ref.config import Config
from python_ref.kernels.exp import OUT_FORMAT as EXP_FORMAT
from python_ref.kernels.exp import exp_neg_raw
from python_ref.kernels.layernorm import layernorm_raw
from python_ref.kernels.reciprocal import SOFTMAX_RECIP_FORMAT, SOFTMAX_SUM_FORMAT, softmax_reciprocal_raw
from python_ref.kernels.softmax import PROB_FORMAT, softmax_raw

from .csim import build_tb, run_tb
from .nonlinear_vectors import (exp_directed, exp_random, layernorm_adversarial, layernorm_params,
                                layernorm_random, random_orders, recip_directed, softmax_adversarial,
                                softmax_attention_like)
from .runner import run_cosim
from .toolchain import BUILD_DIR, RTL_DIR

SRC = RTL_DIR / "src"


def _rtl(kernel: str, top: str, sources: list, cfg: Config, rows_or_n: int, waves: bool, stall: str = "both") -> dict:
    return run_cosim(kernel, cfg.name, top, [SRC / s for s in sources], f"cosim.test_{top}", waves=waves,
                     run_name=f"sim_{stall}_{rows_or_n}",
                     extra_env={"COSIM_STALL": stall, "COSIM_RANDOM_VECTORS": rows_or_n})


def _result(kernel, n_csim, csim_ok, rtl: dict, err, note, latency=None, cpb=None) -> dict:
    return dict(kernel=kernel, vectors_csim=int(n_csim), csim_exact=bool(csim_ok), vectors_rtl=int(rtl["beats"]),
                rtl_exact=rtl["mismatches"] == 0, max_error=float(err), error_note=note,
                latency=rtl["latency_cycles"] if latency is None else latency,
                cycles_per_beat=rtl["cycles_per_beat"] if cpb is None else cpb)


def sim_exp(cfg: Config, waves: bool = False) -> dict:
    f = cfg.fmt("act").frac
    x = np.concatenate([exp_directed(f), exp_random(f, 200_000, 201)])
    got = run_tb(build_tb("exp", cfg.name), BUILD_DIR / "sim" / cfg.name / "exp_csim", {"in.txt": x},
                 ["in.txt", "out.txt"])
    want = exp_neg_raw(x, f)
    err = np.abs(EXP_FORMAT.to_float(want) - np.exp(np.ldexp(x.astype(np.float64), -f))).max()
    rtl = _rtl("exp", "exp", ["axis_skid.sv", "axis_pipe_ctrl.sv", "exp_core.sv", "exp.sv"], cfg, 20_000, waves)
    return _result("exp", x.size, np.array_equal(got, want), rtl, err, "x in (-40, 0]")


def sim_reciprocal(cfg: Config, waves: bool = False) -> dict:
    fi = SOFTMAX_SUM_FORMAT.frac
    rng = np.random.default_rng(202)
    x = np.concatenate([recip_directed(fi, SOFTMAX_SUM_FORMAT.width), rng.integers(1 << fi, 1 << 32, 200_000)])
    got = run_tb(build_tb("reciprocal", cfg.name), BUILD_DIR / "sim" / cfg.name / "reciprocal_csim",
                 {"in.txt": x}, ["in.txt", "out.txt"])
    want = softmax_reciprocal_raw(x)
    ok = x >= (1 << fi)
    err = np.abs(want[ok] / 2.0 ** SOFTMAX_RECIP_FORMAT.frac - 2.0 ** fi / x[ok]).max()
    rtl = _rtl("reciprocal", "reciprocal", ["reciprocal.sv"], cfg, 2000, waves)
    return _result("reciprocal (1/s)", x.size, np.array_equal(got, want), rtl, err, "s in [1, 256)")


def sim_softmax(cfg: Config, waves: bool = False) -> dict:
    act = cfg.fmt("act")
    n = cfg.model.tokens
    x = np.concatenate(list(softmax_adversarial(cfg, n).values()) + [softmax_attention_like(cfg, 100_000 // n + 1, n, 203)])
    order = random_orders(len(x), n, 204)
    out = run_tb(build_tb("softmax", cfg.name), BUILD_DIR / "sim" / cfg.name / "softmax_csim",
                 {"x.txt": x, "order.txt": order}, [str(len(x)), str(n), "x.txt", "order.txt", "out.txt"])
    out = out.reshape(len(x), n + 3)
    res = softmax_raw(x, cfg, order)
    ok = (np.array_equal(out[:, 0], res.m) and np.array_equal(out[:, 1], res.s) and np.array_equal(out[:, 2], res.r)
          and np.array_equal(out[:, 3:], res.p))
    ref = torch.softmax(torch.tensor(act.to_float(x), dtype=torch.float64), dim=-1).numpy()
    err = np.abs(PROB_FORMAT.to_float(res.p) - ref).max()
    stats = _rtl("softmax_stats", "softmax_stats", ["exp_core.sv", "reciprocal.sv", "softmax_stats.sv"], cfg, 40, waves)
    prob = _rtl("softmax_prob", "softmax_prob", ["axis_skid.sv", "axis_pipe_ctrl.sv", "exp_core.sv", "softmax_prob.sv"], cfg, 40, waves)
    rtl = {"beats": min(stats["beats"], prob["beats"]), "mismatches": stats["mismatches"] + prob["mismatches"]}
    return _result("softmax (stats + prob)", x.size, ok, rtl, err, f"p, rows of {n}, random orders",
                   latency=stats["latency_cycles"] + prob["latency_cycles"],
                   cpb=max(stats["cycles_per_beat"], prob["cycles_per_beat"]))


def sim_layernorm(cfg: Config, waves: bool = False) -> dict:
    act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
    d = cfg.model.dim
    x = np.concatenate(list(layernorm_adversarial(cfg).values()) + [layernorm_random(cfg, 100_000 // d + 1, 205)])
    g, b = layernorm_params(cfg, 206)
    got = run_tb(build_tb("layernorm", cfg.name), BUILD_DIR / "sim" / cfg.name / "layernorm_csim",
                 {"x.txt": x, "g.txt": g, "b.txt": b}, [str(len(x)), "x.txt", "g.txt", "b.txt", "out.txt"])
    want = layernorm_raw(x, g, b, cfg)
    ref = torch.nn.functional.layer_norm(torch.tensor(act.to_float(x)), (d,), torch.tensor(pf.to_float(g)),
                                         torch.tensor(pf.to_float(b)), eps=cfg.model.layernorm_eps).numpy()
    err = np.abs(act.to_float(want) - ref).max()
    rtl = _rtl("layernorm", "layernorm", ["reciprocal.sv", "layernorm.sv"], cfg, 20, waves)
    return _result("layernorm", x.size, np.array_equal(got.reshape(x.shape), want), rtl, err,
                   "y, random + adversarial rows")
