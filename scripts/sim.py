#!/usr/bin/env python3
"""`make sim`: the main job. For every kernel: the same vectors through python_ref (the spec), the
C simulation of hls/ (g++ + ap_fixed headers) and the RTL (cocotb + Verilator, python_ref as the
scoreboard, random stalls and backpressure); bit-exactness with vector counts, the error against
float64, and the RTL's latency and throughput in cycles. Ends with a summary table per kernel,
also written into docs/RESULTS.md with --update.
"""
import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cosim import csim  # noqa: E402
from cosim.toolchain import BUILD_DIR, ToolchainError  # noqa: E402
from python_ref.config import Config  # noqa: E402
from scripts.cli import config_or_exit  # noqa: E402
from scripts.results_doc import update_section  # noqa: E402


@dataclass
class KernelResult:
    kernel: str
    vectors_csim: int
    csim_exact: bool
    vectors_rtl: int
    rtl_exact: bool
    max_error: float
    error_note: str
    latency: int | None
    cycles_per_beat: float | None


def _gelu(cfg: Config, waves: bool) -> KernelResult:
    import torch

    from cosim.runner import run_gelu_cosim
    from python_ref.kernels.gelu import gelu_raw
    from cosim.vectors import gelu_directed, gelu_realistic, random_full

    act = cfg.fmt("act")
    x = np.concatenate([gelu_directed(cfg), random_full(cfg, 100_000, 101), gelu_realistic(cfg, 100_000, 102)])
    want = gelu_raw(x, cfg)
    got = csim.run_gelu(x, cfg.name, BUILD_DIR / "sim" / cfg.name / "gelu_csim")
    csim_exact = bool(np.array_equal(got, want))
    if not csim_exact:
        bad = np.flatnonzero(got != want)
        print(f"  gelu C-sim: {bad.size} mismatches, first x={x[bad[:3]]} got={got[bad[:3]]} want={want[bad[:3]]}")
    xf = act.to_float(x)
    err = np.abs(act.to_float(want) - torch.nn.functional.gelu(torch.from_numpy(xf)).numpy())
    rtl = run_gelu_cosim(cfg.name, waves=waves, stall="both", run_name="sim_both")
    return KernelResult("gelu", int(x.size), csim_exact, int(rtl["vectors"]), rtl["mismatches"] == 0,
                        float(err.max()), f"{cfg.hardware.gelu.method}, these vectors",
                        int(rtl["latency_cycles"]), float(rtl["cycles_per_beat"]))


# kernel name -> runner. One entry per kernel; each runner proves python_ref == C-sim == RTL.
def _linear(cfg: Config, waves: bool) -> KernelResult:
    """The unified compute unit on every layer shape of the config, chained as the model runs them
    (patch embedding onto pos, qkv, proj, fc1 + GELU -> fc2, gathered expert fc1 + GELU -> scaled
    scatter-accumulate expert fc2), all tokens: the same job sequence through python_ref, the C-sim
    and the RTL engine. Error: qkv and proj against float64 on the same quantized operands."""
    import pickle

    from cosim.test_linear import PIPELINE_CYCLES, run_linear
    from tests.test_cosim_linear import rtl_calls  # the host's view of the job sequence
    from tests.test_linear import model_sequence, run_csim

    work = BUILD_DIR / "sim" / cfg.name / "linear"
    work.mkdir(parents=True, exist_ok=True)
    jobs, names = model_sequence(cfg, np.random.default_rng(301))
    expected, csim_out = run_csim(jobs, cfg, work)
    csim_exact = all(np.array_equal(e, c) for e, c in zip(expected, csim_out))
    vin, vout = work / "calls.pkl", work / "rtl.pkl"
    vin.write_bytes(pickle.dumps(rtl_calls(jobs, expected, cfg)))
    r = run_linear(cfg.name, "sim_three_way", testcase="test_vectors_file", COSIM_VECTORS=vin,
                   COSIM_VECTORS_OUT=vout)
    rtl_out = pickle.loads(vout.read_bytes())
    rtl_exact = r["mismatches"] == 0
    for e, g, j in zip(expected, rtl_out, jobs):
        if j.patch is not None:  # the engine produces the patch rows; row 0 (CLS) is pos[0]
            g = np.vstack([j.patch[1][:1], g])
        rtl_exact &= bool(np.array_equal(e, g))
    act = cfg.fmt("act")
    err = 0.0
    for name, e, j in zip(names, expected, jobs):
        if name in ("qkv", "proj"):
            x = act.to_float(j.src)
            w, b = cfg.fmt(j.w_role).to_float(j.w), cfg.fmt(j.b_role).to_float(j.b)
            err = max(err, float(np.abs(act.to_float(e) - (x @ w.T + b)).max()))
    values = sum(int(e.size) for e in expected)
    big = max(r["runs"], key=lambda run: run["ideal"])
    return KernelResult("linear (all layer shapes)", values, csim_exact, values, rtl_exact, err,
                        "qkv/proj, same quantized operands", PIPELINE_CYCLES,
                        round(big["cycles"] / big["ideal"], 4))


def _nonlinear(name: str) -> Callable[[Config, bool], KernelResult]:
    def run(cfg: Config, waves: bool) -> KernelResult:
        from cosim import nonlinear_sim
        return KernelResult(**getattr(nonlinear_sim, f"sim_{name}")(cfg, waves))
    return run


KERNELS: dict[str, Callable[[Config, bool], KernelResult]] = {
    "gelu": _gelu,
    "exp": _nonlinear("exp"),
    "reciprocal": _nonlinear("reciprocal"),
    "softmax": _nonlinear("softmax"),
    "layernorm": _nonlinear("layernorm"),
    "linear": _linear,
}


def summary_table(cfg: Config, results: list[KernelResult]) -> str:
    lines = [f"Configuration `{cfg.name}` (`make sim CONFIG={Path(cfg.source).relative_to(ROOT) if Path(cfg.source).is_relative_to(ROOT) else cfg.source}`).",
             "",
             "| kernel | python_ref = C-sim | python_ref = RTL | max abs error vs float64 | RTL latency (cycles) | RTL cycles per beat |",
             "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r.kernel} | {'yes' if r.csim_exact else 'NO'} ({r.vectors_csim:,} vectors) "
            f"| {'yes' if r.rtl_exact else 'NO'} ({r.vectors_rtl:,} vectors) "
            f"| {r.max_error:.3e} ({r.error_note}) | {r.latency} | {r.cycles_per_beat:g} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--kernels", nargs="*", help=f"default: all ({', '.join(KERNELS)})")
    ap.add_argument("--waves", action="store_true", help="dump FST waves of the RTL runs (or WAVES=1)")
    ap.add_argument("--update", type=Path, help="also write the summary into this results document")
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    chosen = args.kernels or list(KERNELS)
    unknown = [k for k in chosen if k not in KERNELS]
    if unknown:
        print(f"error: unknown kernel(s) {', '.join(unknown)}; kernels: {', '.join(KERNELS)}", file=sys.stderr)
        return 2
    results = []
    for k in chosen:
        t0 = time.time()
        print(f"[{k}] python_ref vs C-sim vs RTL, config {cfg.name} ...", flush=True)
        try:
            results.append(KERNELS[k](cfg, args.waves))
        except (ToolchainError, RuntimeError) as exc:
            print(f"error: {k}: {exc}", file=sys.stderr)
            return 1
        print(f"[{k}] done in {time.time() - t0:.0f} s", flush=True)
    text = summary_table(cfg, results)
    print("\n" + text)
    if args.update:
        update_section(args.update, f"sim-{cfg.name}", text)
    ok = all(r.csim_exact and r.rtl_exact for r in results)
    if not ok:
        print("\nFAIL: an implementation differs from python_ref", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
