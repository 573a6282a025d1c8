"""`make sim` rows: for each kernel of the registry, the same vectors through python_ref (the spec),
the C simulation of hls/ (the kernel's registered vector set through its C testbench) and the RTL
(its cocotb testbench under random stalls and backpressure, python_ref as the scoreboard); the error
against float64 and the RTL's latency and throughput. Each row is the registry's ``sim`` entry:
``(cfg, waves) -> KernelResult`` (or a list of them: a kernel with RTL units that compose, e.g. the
MoE router and the whole MoE layer)."""
from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np

from python_ref.config import Config
from python_ref.model.real_data import missing_reason

from .csim import run_kernel
from .runner import run_unit
from .toolchain import BUILD_DIR


@dataclass
class KernelResult:
    kernel: str
    vectors_csim: int | None  # None: no C-sim of this row's unit (its C-sim is another row's)
    csim_exact: bool | None
    vectors_rtl: int | None  # None: the kernel has no RTL top (the backbone: its units have rows of their own)
    rtl_exact: bool | None
    max_error: float | None   # None: the row checks bit-exactness only (error_note says where the error is)
    error_note: str
    latency: int | None
    cycles_per_beat: float | None
    real_rows: int | None = None  # rows of published-weight data the RTL checked (None: not applicable)
    real_note: str = ""


def _real(cfg: Config, top: str, waves: bool, ok: bool) -> tuple[int | None, str]:
    """Run the unit's test_real case when the published weights fit the config: (rows checked, note)."""
    reason = missing_reason(cfg)
    if reason or not ok:
        return 0, reason or f"config {cfg.name} does not have the published shapes"
    r = run_unit(top, cfg.name, stall="none", n_random=1, run_name="sim_real", testcase="test_real", waves=waves)
    return int(r["real_rows"]) if r["mismatches"] == 0 else -1, ""


# The cases of a streaming unit's cocotb testbench that its row runs under random stalls.
STALLED_CASES = ["test_adversarial", "test_random", "test_latency_throughput"]


def _stalled_and_real(cfg: Config, top: str, waves: bool, n_random: int, real_ok: bool):
    """A streaming unit's STALLED_CASES under random stalls and backpressure, then its published-weight
    case (_real): (the stalled run's results, whether both were exact, real rows, note)."""
    rtl = run_unit(top, cfg.name, stall="both", n_random=n_random, run_name=f"sim_both_{n_random}", waves=waves,
                   testcase=STALLED_CASES)
    real, note = _real(cfg, top, waves, real_ok)
    return rtl, rtl["mismatches"] == 0 and real >= 0, real, note


def gelu(cfg: Config, waves: bool) -> KernelResult:
    import torch
    vec, c = run_kernel("gelu", cfg)
    act = cfg.fmt("act")
    x = vec.inputs["in.txt"]
    ref = torch.nn.functional.gelu(torch.from_numpy(act.to_float(x))).numpy()
    err = np.abs(act.to_float(vec.expected) - ref)
    rtl = run_unit("gelu", cfg.name, stall="both", n_random=100_000, run_name="sim_both", waves=waves)
    return KernelResult("gelu", vec.expected.size, c.exact, int(rtl["vectors"]), rtl["mismatches"] == 0,
                        float(err.max()), f"{cfg.hardware.gelu.method}, these vectors", int(rtl["latency_cycles"]),
                        float(rtl["cycles_per_beat"]))


def exp(cfg: Config, waves: bool) -> KernelResult:
    from python_ref.kernels.exp import OUT_FORMAT
    vec, c = run_kernel("exp", cfg)
    f = cfg.fmt("act").frac
    x = vec.inputs["in.txt"]
    err = np.abs(OUT_FORMAT.to_float(vec.expected) - np.exp(np.ldexp(x.astype(np.float64), -f))).max()
    rtl = run_unit("exp", cfg.name, stall="both", n_random=20_000, run_name="sim_both_20000", waves=waves)
    return KernelResult("exp", vec.expected.size, c.exact, int(rtl["beats"]), rtl["mismatches"] == 0, float(err),
                        "x in (-40, 0]", int(rtl["latency_cycles"]), float(rtl["cycles_per_beat"]))


def reciprocal(cfg: Config, waves: bool) -> KernelResult:
    from python_ref.kernels.reciprocal import SOFTMAX_RECIP_FORMAT, SOFTMAX_SUM_FORMAT
    vec, c = run_kernel("reciprocal", cfg)
    x, want = vec.inputs["in.txt"], vec.expected
    ok = x >= (1 << SOFTMAX_SUM_FORMAT.frac)
    err = np.abs(want[ok] / 2.0 ** SOFTMAX_RECIP_FORMAT.frac - 2.0 ** SOFTMAX_SUM_FORMAT.frac / x[ok]).max()
    rtl = run_unit("reciprocal", cfg.name, stall="both", n_random=2000, run_name="sim_both_2000", waves=waves)
    return KernelResult("reciprocal (1/s)", vec.expected.size, c.exact, int(rtl["beats"]), rtl["mismatches"] == 0,
                        float(err), "s in [1, 256)", int(rtl["latency_cycles"]), float(rtl["cycles_per_beat"]))


def softmax(cfg: Config, waves: bool) -> KernelResult:
    import torch

    from python_ref.kernels.softmax import PROB_FORMAT
    vec, c = run_kernel("softmax", cfg)
    act = cfg.fmt("act")
    lengths = vec.inputs["lengths.txt"]
    x_all, exp_all = vec.inputs["x.txt"], vec.expected
    err, xi, ei = 0.0, 0, 0
    for n in lengths.tolist():  # per row: m, s, r, then its n probabilities
        x = x_all[xi:xi + n]
        p = exp_all[ei + 3:ei + 3 + n]
        ref = torch.softmax(torch.tensor(act.to_float(x), dtype=torch.float64), dim=-1).numpy()
        err = max(err, float(np.abs(PROB_FORMAT.to_float(p) - ref).max()))
        xi, ei = xi + n, ei + 3 + n
    rtl, rtl_exact, real, note = _stalled_and_real(cfg, "softmax", waves, 40, cfg.model.tokens == 129)
    return KernelResult("softmax (two-pass)", vec.expected.size, c.exact, int(rtl["beats"]), rtl_exact, float(err),
                        "p, rows of 1..255 scores", int(rtl["latency_cycles"]), float(rtl["cycles_per_beat"]), real, note)


def layernorm(cfg: Config, waves: bool) -> KernelResult:
    import torch
    vec, c = run_kernel("layernorm", cfg)
    act, pf = cfg.fmt("act"), cfg.fmt("norm_param")
    d = cfg.model.dim
    x = vec.inputs["x.txt"].reshape(-1, d)
    g, b = vec.inputs["gamma.txt"], vec.inputs["beta.txt"]
    ref = torch.nn.functional.layer_norm(torch.tensor(act.to_float(x)), (d,), torch.tensor(pf.to_float(g)),
                                         torch.tensor(pf.to_float(b)), eps=cfg.model.layernorm_eps).numpy()
    err = np.abs(act.to_float(vec.expected.reshape(-1, d)) - ref).max()
    rtl, rtl_exact, real, note = _stalled_and_real(cfg, "layernorm", waves, 20, cfg.model.dim == 192)
    # values checked: LANES per output beat (rtl["beats"] counts input beats)
    return KernelResult("layernorm", vec.expected.size, c.exact, int(rtl["out_values"]), rtl_exact, float(err),
                        "y, random + adversarial rows", int(rtl["latency_cycles"]), float(rtl["cycles_per_beat"]),
                        real, note)


def linear(cfg: Config, waves: bool) -> KernelResult:
    """The unified compute unit on every layer shape of the config, chained as the model runs them
    (patch embedding onto pos, qkv, proj, fc1 + GELU -> fc2, gathered expert fc1 + GELU -> scaled
    scatter-accumulate expert fc2), all tokens: the same job sequence through python_ref, the C-sim
    and the RTL engine. Error: qkv and proj against float64 on the same quantized operands."""
    from .linear_jobs import model_sequence, rtl_calls, run_csim
    work = BUILD_DIR / "sim" / cfg.name / "linear"
    work.mkdir(parents=True, exist_ok=True)
    jobs, names = model_sequence(cfg, np.random.default_rng(301))
    expected, csim_out = run_csim(jobs, cfg, work)
    csim_exact = all(np.array_equal(e, c) for e, c in zip(expected, csim_out))
    vin, vout = work / "calls.pkl", work / "rtl.pkl"
    vin.write_bytes(pickle.dumps(rtl_calls(jobs, expected, cfg)))
    r = run_unit("linear", cfg.name, stall="none", run_name="sim_three_way", testcase="test_vectors_file",
                 waves=waves, vectors=str(vin), vectors_out=str(vout))
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
                        "qkv/proj, same quantized operands", big["pipeline"], round(big["cycles"] / big["ideal"], 4))


def attention_float64(qkv_raw: np.ndarray, cfg: Config) -> np.ndarray:
    """Float64 attention of the act-quantized qkv (softmax(q k^T / sqrt(d)) v per head): the reference
    of the `make sim` error column."""
    act, m = cfg.fmt("act"), cfg.model
    x = act.to_float(qkv_raw)
    T, D, H, d = x.shape[0], m.dim, m.heads, m.head_dim
    q, k, v = (x[:, i * D:(i + 1) * D].reshape(T, H, d).transpose(1, 0, 2) for i in range(3))
    s = q @ k.transpose(0, 2, 1) / np.sqrt(d)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return (p @ v).transpose(1, 0, 2).reshape(T, D)


def attention(cfg: Config, waves: bool) -> KernelResult:
    """One layer's attention unit: the registered C-sim vector set (hls/src/attention.cpp through
    attention_tb), the RTL under random stalls (adversarial sets,
    random layers, other token counts) and unstalled (the layer's cycles), the published layers 0/1
    when present. Error: python_ref (= C-sim = RTL) against float64 on the same act-quantized qkv,
    realistic layers."""
    from python_ref.kernels.attention import attention_raw

    from .attention_schedule import Geometry, predict
    from .attention_vectors import random_sets
    vec, c = run_kernel("attention", cfg)
    n_csim, csim_exact = int(vec.expected.size), c.exact
    sets = {k: v for k, v in random_sets(cfg, count=4, seed=5).items() if k.startswith("realistic")}
    act = cfg.fmt("act")
    err = max(float(np.abs(act.to_float(attention_raw(x, cfg)) - attention_float64(x, cfg)).max())
              for x in sets.values())
    rtl = run_unit("attention", cfg.name, stall="both", n_random=2, run_name="sim_both", waves=waves,
                   testcase=["test_adversarial", "test_random", "test_tokens"])
    timed = run_unit("attention", cfg.name, stall="none", n_random=1, run_name="sim_none", waves=waves,
                     testcase="test_random")
    layer = timed["layers"][-1]
    T = layer["T"]
    exact = rtl["mismatches"] == 0 and timed["mismatches"] == 0 and \
        layer["cycles"] == predict(Geometry.from_config(cfg), T).cycles
    real, note = _real(cfg, "attention", waves, cfg.model.tokens == 129 and cfg.model.dim == 192)
    beats = T * cfg.model.dim // cfg.hardware.linear_out
    return KernelResult("attention (one layer, all heads)", n_csim, csim_exact,
                        int(rtl["out_values"] + timed["out_values"]), exact and real >= 0, err,
                        "attn_out, realistic layers", int(layer["cycles"]), round(layer["cycles"] / beats, 2),
                        real, note)


def moe(cfg: Config, waves: bool) -> list[KernelResult]:
    """The MoE router on the C-sim's vector set (cosim.moe_vectors.router_cases: every adversarial
    routing case through each task's gate, then random LN2-like rows and gates, some coarse so that
    many logits tie). C-sim: hls/src/moe.cpp (gate linear, softmax, top-k, queues, active list)
    against python_ref on every routing value, then moe_layer_top's moe_acc on the layer cases
    (cosim.moe_vectors.layer_cases: the next row's C-sim column; this row counts the router part). RTL: the same cases' gate logits (python_ref's
    gate_logits, equal to the C-sim's by the first column) through rtl/src/moe_router.sv under random
    stalls, its 64-bit descriptor stream compared word for word with python_ref's
    descriptor_words(route(logits), expert_schedule(...), task) (which carries T, the task, the
    active experts, every queue's tokens and scores); then unstalled for the cycles (a lone token's
    last logit beat -> first word, and input cycles per beat over a run of T_max tokens). Real rows:
    the published frame's layer-1 gate logits of the fixed-point network, every task (edge_moe,
    weights present). Error: the gate's p against a float64 softmax of the same logits."""
    import torch

    from python_ref.kernels.moe import gate_logits, route
    from python_ref.kernels.softmax import PROB_FORMAT

    from .moe_vectors import router_cases
    cases = router_cases(cfg)
    vec, c = run_kernel("moe", cfg)
    act = cfg.fmt("act")
    runs, err = [], 0.0
    for name, x, w, task in cases:
        logits = gate_logits(x, w, task, cfg)
        runs.append((name, logits, task))
        ref = torch.softmax(torch.tensor(act.to_float(logits), dtype=torch.float64), dim=-1).numpy()
        err = max(err, float(np.abs(PROB_FORMAT.to_float(route(logits, cfg).p) - ref).max()))
    work = BUILD_DIR / "sim" / cfg.name / "moe"
    work.mkdir(parents=True, exist_ok=True)
    vin = work / "runs.pkl"
    vin.write_bytes(pickle.dumps(runs))
    rtl = run_unit("moe_router", cfg.name, stall="both", run_name="sim_three_way", waves=waves,
                   testcase=["test_vectors_file", "test_cycles"], vectors=str(vin))
    exact = rtl["mismatches"] == 0 and rtl["runs"] == len(runs) + 2  # + test_cycles' two runs
    real, note = _real(cfg, "moe_router", waves, cfg.model.tokens == 129 and cfg.model.experts == 16)
    n_router = int(vec.notes["router_values"])
    router = KernelResult("moe (router: softmax, top-k, queues, descriptors)", n_router, c.exact,
                          int(rtl["words"]), exact and real >= 0, err, "gate p, these logits",
                          int(rtl["latency_cycles"]), round(float(rtl["cycles_per_beat"]), 3), real, note)
    return [router, moe_layer(cfg, waves, (int(vec.expected.size) - n_router, c.exact))]


# the layer row's routing cases: on a config with many experts (edge_moe: a layer pushes every expert's
# images, about 150k DDR words) the cases that leave experts unused, task 0; else every case of every task
LAYER_CASES = ("all tokens to one expert", "all tokens to the same k experts")


def moe_layer(cfg: Config, waves: bool, csim: tuple[int, bool] | None = None) -> KernelResult:
    """The whole MoE layer's RTL (rtl/src/moe_layer.sv: router -> descriptors -> experts on the linear
    engine, every expert's weights from DDR through the weight FIFOs; the config's w_ word,
    hardware.weight_word, make perf's) under random stalls: routing cases (every case of
    every task; with more than 4 experts the two that leave experts unused, task 0), two random layers
    and three layers queued at once, moe_acc bit for bit against python_ref's run_schedule of the
    routing. With the published weights on edge_moe, test_real: the published frame's first MoE layer
    (the fixed-point network's LN2 rows and gate logits, every task; stand-in expert matrices), the
    weights from DDR at make perf's bandwidth through the prefetch DMA's rule, every engine call's
    cycles equal to the Sequence + WeightFifo model (the real rows column; latency: last logit ->
    first expert call, the routing exposed beyond the gate's logits, the larger of the tasks').
    C-sim column (``csim``: values, exact): moe_layer_top's moe_acc on the layer cases of the kernel's
    C-sim vector set (the moe row runs it; cosim.moe_vectors.layer_cases, their own weights). No error
    column: the layer is checked bit for bit; its float error is the backbone row's."""
    params = {}
    many = cfg.model.experts > 4
    kw = {"cases": list(LAYER_CASES), "tasks": 1} if many else {}
    rtl = run_unit("moe_layer", cfg.name, stall="both", n_random=2, run_name="sim_both", waves=waves,
                   testcase=["test_routings", "test_random", "test_consecutive"], parameters=params, **kw)
    want_runs = (len(LAYER_CASES) if many else 2 * cfg.model.tasks) + 2 + 3
    exact = rtl["mismatches"] == 0 and rtl["runs"] >= want_runs
    real, note, latency = 0, missing_reason(cfg), None
    if cfg.model.tokens == 129 and cfg.model.experts == 16 and not note:
        r = run_unit("moe_layer", cfg.name, stall="none", n_random=1, run_name="sim_real", testcase="test_real",
                     waves=waves, parameters=params)
        ok = r["mismatches"] == 0 and all((c["ready"], c["done"]) == (c["model_ready"], c["model_done"])
                                          for lay in r["real_layers"] for c in lay["calls"])
        real = int(r["real_rows"]) if ok else -1
        latency = max(lay["last_logit_to_first_ready"] for lay in r["real_layers"])
    elif not note:
        note = f"config {cfg.name} does not have the published shapes"
    n_csim, csim_exact = csim if csim is not None else (None, None)
    return KernelResult("moe layer (moe_layer_top; RTL router + experts + weight FIFOs)", n_csim, csim_exact,
                        int(rtl["out_values"]),
                        exact and real >= 0, None, "bit-exact; the frame's error is the backbone row's",
                        latency, None, real, note)


def backbone(cfg: Config, waves: bool) -> KernelResult:
    """The whole frame. C-sim: backbone_top (hls/src/backbone.cpp) on the registered vector set
    (cosim.backbone_vectors.backbone_csim: seeded weights, the packaged photographs; on a small config
    both tasks, two frames in one call and the output after every block count), bit for bit against the
    fixed-point network (FixedM3ViT, python_ref.kernels.backbone). RTL: rtl/src/backbone.sv on the same
    whole frames (the same images and tasks), driven in python_ref.kernels.frame_ctrl's steps
    (cosim/test_backbone.py), its output bit for bit against FixedM3ViT; real rows: Edge-MoE's published
    frame on the published weights (seeded stand-in experts) through the RTL, when the weights are present
    (edge_moe). Error: the full frames' output against the float64 network (M3ViT) on the same weights and
    pixels. Latency: the slowest RTL frame's cycles, from the weight DMA's start to the last engine call's
    ap_done, the weights at cosim.frame_schedule.DEFAULT_DDR_GBS through the top's weight FIFO and the steps
    issued as early as the RTL allows (`make perf-rtl` sets them beside the composed figure)."""
    import torch

    from python_ref.model import M3ViT, load_image, seeded_weights

    from .backbone_vectors import DEFAULT_IMAGES
    vec, c = run_kernel("backbone", cfg)
    m, act = cfg.model, cfg.fmt("act")
    images = [load_image(cfg, name) for name in DEFAULT_IMAGES]  # backbone_csim's frames, in turn
    float_net = M3ViT.from_weights(cfg, seeded_weights(cfg, 0), dtype=torch.float64)
    per, k, err, frames = m.tokens * m.dim, 0, 0.0, 0
    rtl_values, rtl_exact, frame_cycles = 0, True, []
    for task, layers, n in vec.notes["cases"]:
        for _ in range(n):
            if layers == m.layers:
                i = k % len(images)
                want = float_net(torch.from_numpy(images[i].pixels), task).numpy()
                got = act.to_float(vec.expected[k * per:(k + 1) * per].reshape(m.tokens, m.dim))
                err, frames = max(err, float(np.abs(got - want).max())), frames + 1
                r = run_unit("backbone", cfg.name, run_name=f"sim_frame{k}", waves=waves, image=DEFAULT_IMAGES[i],
                             task=int(task))
                rtl_values += int(r["values_checked"])
                rtl_exact &= r["mismatches"] == 0
                frame_cycles.append(int(r["frame_cycles"]))
            k += 1
    real, note = 0, missing_reason(cfg) or ("" if m.tokens == 129 and m.experts == 16
                                            else f"config {cfg.name} does not have the published shapes")
    if not note:
        r = run_unit("backbone", cfg.name, run_name="sim_real", waves=waves, image="edge_moe", weights="published")
        real = m.tokens if r["mismatches"] == 0 else -1
        frame_cycles.append(int(r["frame_cycles"]))
        note = "Edge-MoE's frame, published weights, seeded stand-in experts"
    plural = (lambda n: f"{n} frame{'' if n == 1 else 's'}")
    return KernelResult(f"backbone (whole frames: C-sim {plural(k)}, RTL {plural(frames)})", int(vec.expected.size),
                        c.exact, rtl_values, rtl_exact and real >= 0, err,
                        f"network output, {plural(frames)}, seeded weights", max(frame_cycles, default=None), None,
                        real, note)
