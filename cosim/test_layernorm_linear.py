"""cocotb testbench of rtl/src/layernorm_linear.sv: LayerNorm streamed straight into the linear engine.

The engine's testbench (cosim/test_linear.py) drives it: its LinearTB sees the top (xn_TVALID) and
offers each call's x_ as LayerNorm input rows (per feature the activation and the layer's
{beta, gamma}, LayerNormTB's beat layout); the scoreboard is python_ref's composition,
compute_linear(layernorm_raw(x, gamma, beta), W, b), bit for bit.

test_ln_calls: the calls LayerNorm feeds in the frame (qkv, fc1 with GELU, the gate) and odd ones
(one output, one row, every output mode, gathered rows), back to back under the run's stall pattern
(input gaps on LayerNorm's input and the weights, output backpressure).

test_ln_frame_schedule (no stalls): the frame model's claim that LayerNorm streams into the engine
(cosim.frame_schedule.layernorm_streams): each call's LayerNorm input starts when the call before it
ends, as in the frame, and every ap_ready / ap_done equals cosim.linear_schedule.Sequence with the
call's x_ offered from LayerNorm's first input beat plus cosim.frame_schedule.layernorm_lead; the
LayerNorm -> engine handshake (xn_) carries each call's rows without a gap.
"""
from __future__ import annotations

import numpy as np

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from cosim import frame_schedule as fs
from cosim.linear_schedule import Sequence, SeqCall
from cosim.test_linear import LinearTB, check, prepare_call, run_sequence, start
from cosim.tb import RunParams
from cosim.vectors import layernorm_params, norm_param_lanes, rand_raw
from python_ref.kernels.layernorm import layernorm_raw

TEST_TIMEOUT_MS = 2000


def ln_frames(tb: LinearTB, x_rows: np.ndarray, g: np.ndarray, b: np.ndarray) -> list:
    """LayerNorm's input beats of ``x_rows``: per feature the act value in the low 32 bits of its 64,
    {beta, gamma} in the high 32 (gamma in the low half), one AXI frame per row."""
    gb = norm_param_lanes(g, b)
    return [tb.lanes(np.stack([row, gb], axis=1).reshape(-1), 32) for row in x_rows]


def ln_call(tb: LinearTB, label: str, n_out: int, rows: int, rng, *, seed: int, gelu=False, b_role="bias",
            mode="store", gather=False) -> dict:
    """One call through LayerNorm: random act rows (realistic scale), the layer's gamma / beta, the
    weights; the engine's x is LayerNorm's output (python_ref), its x_ beats the input rows in the
    order the engine takes them (gathered: a random selection, some repeated)."""
    cfg, act, d = tb.cfg, tb.act, tb.cfg.model.dim
    src_rows = rows + 3 if gather else rows
    x_in = rand_raw(act, (src_rows, d), rng, 2.0)
    g, b = layernorm_params(cfg, seed)
    xn = layernorm_raw(x_in, g, b, cfg)
    kw = {}
    sel = np.arange(rows)
    if gather:
        sel = rng.integers(0, src_rows, size=rows)
        kw["gather"] = sel
    if mode != "store":
        kw["out0"] = rand_raw(act, (src_rows, n_out), rng, 1.0)
        kw["scatter"] = rng.permutation(src_rows)[:rows]
        if mode == "scaled":
            kw["scores"] = act.from_float(rng.uniform(0, 1, rows)).astype(np.int64)
    w = rand_raw(cfg.fmt("weight"), (n_out, d), rng, 1.0 / np.sqrt(d))
    c = prepare_call(tb, label, xn, w, rand_raw(cfg.fmt(b_role), n_out, rng, 0.1), "weight", b_role, rng, gelu=gelu,
                     **kw)
    c["x_frames"] = ln_frames(tb, x_in[sel], g, b)
    return c


def frame_calls(tb: LinearTB, rng) -> list:
    """The calls LayerNorm feeds in a frame (LN1 -> qkv, LN2 -> fc1 with GELU, LN2 -> the gate) at the
    config's token count (more rows than LayerNorm's row slots), then odd ones: one output, one row,
    LO + 1 outputs accumulated onto gathered rows, a scaled scatter-accumulate, qkv again."""
    m, lo = tb.cfg.model, tb.lo
    t = min(m.tokens, tb.max_rows)
    return [ln_call(tb, "qkv", 3 * m.dim, t, rng, seed=1, b_role="attn_bias"),
            ln_call(tb, "fc1", m.mlp_hidden, t, rng, seed=2, gelu=True),
            ln_call(tb, "gate", m.experts, t, rng, seed=3),
            ln_call(tb, "out1", 1, 5, rng, seed=4),
            ln_call(tb, "row1", 2 * lo - 1, 1, rng, seed=5, gelu=True),
            ln_call(tb, "acc_gather", lo + 1, 4, rng, seed=6, mode="accumulate", gather=True),
            ln_call(tb, "scaled", 2 * lo, 3, rng, seed=7, mode="scaled", gather=True),
            ln_call(tb, "qkv_again", 3 * m.dim, t, rng, seed=8, b_role="attn_bias")]


class XnMonitor:
    """The cycles (LinearTB's count, as its ap_ready / ap_done) of LayerNorm's input handshakes (x_) and
    of the LayerNorm -> engine handshakes (xn_)."""

    def __init__(self, tb: LinearTB):
        self.tb, self.cycles, self.in_cycles = tb, [], []
        cocotb.start_soon(self._run())

    async def _run(self):
        d = self.tb.dut
        while True:
            await RisingEdge(d.ap_clk)
            xn = int(d.xn_TVALID.value) and int(d.xn_TREADY.value)
            x = int(d.x_TVALID.value) and int(d.x_TREADY.value)
            await ReadOnly()        # LinearTB's monitor has counted this edge
            if xn:
                self.cycles.append(self.tb.cycle)
            if x:
                self.in_cycles.append(self.tb.cycle)

    def per_call(self, calls: list, r0: int) -> list:
        """Per call (its rows x D / LI beats in either stream): (first LayerNorm input beat, first
        xn_ beat, the cycles without an xn_ beat between its first and last), cycles from ``r0``."""
        p, out, k = self.tb.cfg.model.dim // self.tb.li, [], 0
        for c in calls:
            n = c["rows"] * p
            cyc, cin = self.cycles[k:k + n], self.in_cycles[k:k + n]
            if len(cyc) != n or len(cin) != n:
                raise AssertionError(f"{c['label']}: {len(cin)} LayerNorm input and {len(cyc)} LayerNorm -> engine "
                                     f"beats, expected {n}")
            out.append((cin[0] - r0, cyc[0] - r0, cyc[-1] - cyc[0] + 1 - n))
            k += n
        return out


def record_ln(tb: LinearTB, mon: XnMonitor, calls: list, recs: list):
    """Each call's LayerNorm input start, first LayerNorm -> engine beat and xn_ gaps into its record
    (Sequence cycles: from the first call's ap_ready)."""
    for r, (s, first, gap) in zip(recs, mon.per_call(calls, tb.ready_cycles[0])):
        r.update(ln_in_first=s, xn_first=first, xn_gap_cycles=gap, ln_first_out=first - s)
        tb.dut._log.info(f"{r['layer']}: LayerNorm input from {s}, first xn_ beat {first} (+{first - s}), "
                         f"{gap} gap cycles; ready {r['ready']}, done {r['done']}")


def check_ln_top(tb: LinearTB):
    d = tb.cfg.model.dim
    if not tb.ln:
        raise ValueError("cosim/test_layernorm_linear.py drives rtl/src/layernorm_linear.sv (no xn_TVALID on this top)")
    if tb.li != tb.cfg.hardware.layernorm_lanes or d % tb.li:
        raise ValueError(f"layernorm_linear: LI {tb.li} must equal hardware.layernorm.lanes "
                         f"{tb.cfg.hardware.layernorm_lanes} and divide D = {d}")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_ln_calls(dut):
    """The LayerNorm-fed calls back to back, some ap_start late, each call's LayerNorm input offered
    from its ap_ready (while the call before computes: LayerNorm fills its row slots and waits for
    the engine), under the run's stall pattern: bit-exact against compute_linear(layernorm_raw(...)).
    The cycles are the frame order's (test_ln_frame_schedule), not asserted here."""
    e, tb = await start(dut, stall := RunParams.from_env().stall)
    check_ln_top(tb)
    rng = np.random.default_rng(e.params.seed + 21)
    calls = frame_calls(tb, rng)
    mon = XnMonitor(tb)
    delays = [0, 0, 9, 0, 250, 0, 3, 0][:len(calls)]
    recs = await run_sequence(tb, calls, delays, f"ln_{stall}", x_delays=[0] * len(calls))
    check(e, sum(r["mismatches"] for r in recs), f"LayerNorm-fed calls / {stall}")
    record_ln(tb, mon, calls, recs)
    for r in recs:   # run_sequence's model offers x_ from ap_ready; here LayerNorm holds it back: no model
        r["predicted_ready"] = r["predicted_done"] = None
    assert all(a["done"] < b["done"] for a, b in zip(recs, recs[1:]))
    e.results.update(ln_calls=len(recs))


def ln_model(tb: LinearTB, calls: list, delays: list) -> tuple[list, list]:
    """cosim.linear_schedule.Sequence for calls whose x_ comes through LayerNorm, in the frame's order:
    call n's first LayerNorm input beat is taken in the Sequence cycle the call before it has ap_done
    high (frame cycle done + 1: where cosim.frame_schedule.linear_sequence starts the next call), or
    the cycle after its own ap_ready if that is later; its x_ is offered from frame cycle
    s + layernorm_lead, s that beat's frame cycle (Sequence cycle + 1), the frame model's rule. The
    host queues a stream one cycle before its first beat (cocotbext-axi). Returns the SeqResult list
    and each call's LayerNorm input delay after its ap_ready (run_sequence's x_delays)."""
    seq = Sequence(tb.cfg, tb.lo, tb.li, tb.w_bits, tb.throttle, w_rows=tb.w_rows)
    lead = fs.layernorm_lead(tb.cfg)
    x_delays = []
    for n, c in enumerate(calls):
        sc = SeqCall(c["n_out"], c["n_in"], c["rows"], c["gelu"], delay=delays[n] if n else 0)
        ready = seq.accept_of(sc) + 1
        first_in = max(ready + 1, seq.results[-1].done if n else 0)   # Sequence cycle of LayerNorm's first input beat
        x_delays.append(first_in - 1 - ready)
        seq.add(SeqCall(sc.n_out, sc.n_in, sc.rows, sc.gelu, delay=sc.delay, x_from=first_in + 1 + lead))
    return seq.results, x_delays


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_ln_frame_schedule(dut):
    """The frame's order: each call's LayerNorm input starts when the call before it ends (ap_done),
    the calls presented as soon as the engine takes them. Bit-exact; every ap_ready / ap_done equal to
    the model; LayerNorm's output reaches the engine without a gap inside a call; each call's
    cycles as the frame counts them (LayerNorm's lead, then the call) recorded."""
    e, tb = await start(dut, "none")
    check_ln_top(tb)
    rng = np.random.default_rng(e.params.seed + 22)
    calls = frame_calls(tb, rng)
    mon = XnMonitor(tb)
    delays = [0] * len(calls)
    model, x_delays = ln_model(tb, calls, delays)
    recs = await run_sequence(tb, calls, delays, "ln_frame", x_delays=x_delays, model=model)
    check(e, sum(r["mismatches"] for r in recs), "LayerNorm-fed frame order")
    record_ln(tb, mon, calls, recs)
    off = [(r["layer"], r["ready"], r["predicted_ready"], r["done"], r["predicted_done"]) for r in recs
           if (r["ready"], r["done"]) != (r["predicted_ready"], r["predicted_done"])]
    assert not off, f"LayerNorm-fed frame order: measured cycles differ from the model: {off}"
    gaps = [r["xn_gap_cycles"] for r in recs]
    assert not any(gaps), f"LayerNorm's output reached the engine with gaps (cycles per call): {gaps}"
    e.results.update(ln_frame_calls=len(recs), ln_gaps=gaps)
