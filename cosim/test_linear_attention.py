"""cocotb testbench of rtl/src/linear_attention.sv: the linear engine and the attention unit on ONE MAC
array. Run through cosim.runner.run_unit (tests/test_cosim_linear_attention.py).

The two units' own benches drive it unchanged: cosim.test_linear.LinearTB (run_layer: the host of
one engine call, python_ref.kernels.linear.compute_linear as the scoreboard, the exact cycle model
cosim.linear_schedule) sees the lin_* ports and cosim.test_attention.AttentionTB (layer: one layer,
python_ref.kernels.attention.attention_raw, cosim.attention_schedule.predict) the attn_* ports, each
through a :class:`UnitView` that gives the shared top the unit's own port names. The test switches
the array's owner between calls (sel_req) and interleaves the two units' calls on one instance, so
each call finds the other unit's stale entries in the stationary store; every output bit is
compared, and on unstalled runs every call's cycles (ap_start edge -> ap_done edge) must equal the
stand-alone unit's model: sharing costs zero cycles.

An array monitor (:class:`ArrayMonitor`) checks the sharing itself every cycle, from the cores'
driver ports and the select, independently of the top's gating logic:
  * only the owner drives the array (a step or a store write of the other core is an error);
  * each core sees exactly its own results: out_valid at the core's port exactly LATENCY + 1
    samples after each of its steps with in_last, and never otherwise (the non-owner sees no beat);
  * the owner changes only while the array is idle: both cores idle (their own ap_idle) and no step
    or write in the last LATENCY + 1 samples.

Run parameters (cosim.tb.RunParams): stall (the pattern of test_interleaved_stalls), corrupt (one
flipped expected bit in each unit's first check: the scoreboards must fail).
"""
from __future__ import annotations

from collections import deque

import numpy as np

import cocotb
import cosim.tb
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge
from cosim.attention_schedule import predict, stream_qkv
from cosim.attention_vectors import random_sets
from cosim.test_attention import AttentionTB
from cosim.test_linear import LinearTB, run_layer
from cosim.vectors import rand_raw
from python_ref.kernels.attention import attention_raw
from python_ref.kernels.linear import layer_shapes

TEST_TIMEOUT_MS = 5   # simulated: 500k cycles, ~10x the longest test (a hang fails fast)
LIN, ATTN = 0, 1


class UnitView:
    """One unit's view of the shared top: attribute ``name`` is the top's ``<prefix>name`` when that
    exists, else ``alias[name]``, else the top's own ``name`` (ap_clk, ap_rst_n, parameters, _log).
    dir() lists the prefixed names without the prefix, so cocotb-bus finds e.g. x_TDATA."""

    def __init__(self, dut, prefix: str, alias: dict | None = None):
        self._dut, self._prefix, self._alias = dut, prefix, alias or {}

    def __getattr__(self, name):
        if name in self._alias:
            return self._alias[name]
        try:
            return getattr(self._dut, self._prefix + name)
        except AttributeError:
            return getattr(self._dut, name)

    def __dir__(self):
        p = self._prefix
        return [n[len(p):] for n in dir(self._dut) if n.startswith(p)] + list(self._alias)


class _Namespaced:
    """The attention TB's summary fields in the linear TB's writer, prefixed (one JSON file, one writer:
    two writers would overwrite each other's fields, and both name fields `layers`)."""

    def __init__(self, writer, prefix):
        self.w, self.p = writer, prefix

    def update(self, **fields):
        self.w.update(**{self.p + k: v for k, v in fields.items()})

    def add(self, key, n):
        self.w.add(self.p + key, n)

    def append(self, key, item):
        self.w.append(self.p + key, item)


class ArrayMonitor:
    """The sharing rules, checked every cycle from the cores' driver ports (see the module docstring)."""

    def __init__(self, dut, li: int, results):
        self.dut, self.lat, self.summary = dut, li + 3, results
        self.errors = 0
        self.first_error = ""
        self.switches = 0
        self.results = [0, 0]
        self.drive_samples = [0, 0]
        cocotb.start_soon(self._run())

    def error(self, msg):
        """Record the first error and fail the test at once (an exception in a cocotb task fails the
        test): a sharing error usually hangs a unit next, and a hang would only fail at the timeout."""
        self.errors += 1
        self.first_error = msg
        self.dut._log.error(msg)
        self.summary.add("array_errors", 1)
        self.summary.update(array_first_error=msg)
        raise AssertionError(f"array monitor: {msg}")

    async def _run(self):
        d = self.dut
        cores = (d.u_lin, d.u_attn)
        due = [deque(), deque()]   # sample indices at which each core's results must arrive
        n, last_drive, sel_prev = 0, -10**6, None
        while True:
            await RisingEdge(d.ap_clk)
            n += 1
            if not d.ap_rst_n.value:
                due = [deque(), deque()]
                sel_prev = None
                continue
            sel = int(d.sel.value)
            if sel_prev is not None and sel != sel_prev:
                self.switches += 1
                if not (int(cores[0].ap_idle.value) and int(cores[1].ap_idle.value)):
                    self.error(f"sample {n}: the owner changed to {sel} while a core was busy")
                if n - last_drive <= self.lat + 1:
                    self.error(f"sample {n}: the owner changed {n - last_drive} samples after the last step or "
                               f"write (at least {self.lat + 2} needed: its result is still in the array)")
            sel_prev = sel
            for u, c in enumerate(cores):
                drives = int(c.in_valid.value) or int(c.ld_valid.value)
                if drives:
                    self.drive_samples[u] += 1
                    if u != sel:
                        self.error(f"sample {n}: {('linear', 'attention')[u]} drives the array it does not own")
                    else:
                        last_drive = n
                if u == sel and int(c.in_valid.value) and int(c.in_last.value):
                    due[u].append(n + self.lat + 1)
                got = int(c.out_valid.value)
                want = bool(due[u]) and due[u][0] == n
                if want:
                    due[u].popleft()
                if got:
                    self.results[u] += 1
                if got != want:
                    self.error(f"sample {n}: {('linear', 'attention')[u]} core out_valid {got}, expected {int(want)} "
                               f"(a result beat lost or routed to the wrong unit)")


class SharedTB:
    """Both units' TBs on the one top, the array monitor, and the owner switch."""

    def __init__(self, dut):
        self.dut = dut
        dut.sel_req.value = LIN
        self.lin = LinearTB(UnitView(dut, "lin_"))
        self.att = AttentionTB(UnitView(dut, "attn_", {"u_array": dut.u_attn, "L": dut.LI}), self.lin.params,
                               start_clock=False)   # the linear TB's clock drives the shared ap_clk
        self.results = self.lin.results
        self.att.results = _Namespaced(self.results, "attn_")
        # summary fields of every test of the run (the writer re-reads them: keep what earlier tests wrote)
        for k, v in dict(kernel="linear_attention", attn_layers=[], attn_mismatches=0, attn_out_values=0, calls=[],
                         switch_waits=[], array_errors=0, array_first_error="", switches=0, lin_results=0,
                         attn_results=0).items():
            if k == "kernel" or k not in self.results.data:
                self.results.update(**{k: v})
        self.params, self.cfg = self.lin.params, self.lin.cfg
        self.mon = ArrayMonitor(dut, self.lin.li, self.results)

    async def start(self, stall: str):
        self.lin.set_stall_pattern(stall, self.params.seed + 5)
        self.att.set_stall_pattern(stall, self.params.seed)
        await self.att.reset()   # the shared reset (StreamTB.reset also clears its beat records)

    async def own(self, unit: int) -> int:
        """Ask for the array (sel_req) and wait until `sel` says it changed hands; returns the cycles."""
        d = self.dut
        await FallingEdge(d.ap_clk)
        d.sel_req.value = unit
        n = 0
        while int(d.sel.value) != unit:
            await RisingEdge(d.ap_clk)
            n += 1
            if n > 1000:
                raise AssertionError(f"the array did not change hands to {unit} within 1000 cycles")
        self.results.append("switch_waits", n)
        return n

    def record(self, unit: str, label: str, cycles: int, predicted: int, bad: int):
        self.results.append("calls", {"unit": unit, "label": label, "cycles": cycles, "predicted": predicted,
                                      "mismatches": bad})

    def finish(self, what: str):
        self.results.add("switches", self.mon.switches)
        self.results.add("lin_results", self.mon.results[0])
        self.results.add("attn_results", self.mon.results[1])
        if self.mon.errors:
            raise AssertionError(f"{what}: {self.mon.errors} array sharing errors; first: {self.mon.first_error}")


async def linear_call(s: SharedTB, label: str, kind: str, rng, check_cycles: bool) -> int:
    """One linear call of a named kind on the owned array, through cosim.test_linear.run_layer."""
    lin, cfg, act, m = s.lin, s.cfg, s.lin.act, s.cfg.model
    shapes = {x[0]: x for x in layer_shapes(cfg)}
    if kind in ("qkv", "fc1"):
        _, o, i, wr, br = shapes[kind]
        x = rand_raw(act, (m.tokens, i), rng, 1.0)
        kw = dict(gelu=kind == "fc1")
    elif kind == "odd":      # not a multiple of the tile: stale rows / columns past in_dim / out_dim
        o, i, wr, br = 2 * lin.lo + 1, 3 * lin.li - 1, "weight", "bias"
        x = rand_raw(act, (5, i), rng)
        kw = dict(gelu=True)
    elif kind in ("expert_fc1", "expert_fc2"):   # the MoE gather (+ GELU) and scaled scatter-accumulate
        _, o, i, wr, br = shapes[kind]
        t = min(lin.expert_rows, m.tokens)
        sel = np.random.default_rng(s.params.seed + 3).choice(m.tokens, size=t, replace=False)
        x = rand_raw(act, (m.tokens, i), rng, 1.0)
        if kind == "expert_fc1":
            kw = dict(gelu=True, gather=sel)
        else:
            x = x[:t]
            kw = dict(out0=rand_raw(act, (m.tokens, o), rng, 1.0), scatter=sel,
                      scores=act.from_float(rng.uniform(0, 1, t)).astype(np.int64))
    else:
        raise ValueError(kind)
    w = rand_raw(cfg.fmt(wr), (o, i), rng, 1.0 / np.sqrt(i))
    b = rand_raw(cfg.fmt(br), o, rng, 0.1)
    rec = await run_layer(lin, label, x, w, b, wr, br, rng, **kw)
    s.record("linear", label, rec["cycles"], rec["predicted"], rec["mismatches"])
    if check_cycles and rec["cycles"] != rec["predicted"]:
        raise AssertionError(f"{label}: {rec['cycles']} cycles on the shared array, the stand-alone engine's "
                             f"model says {rec['predicted']}")
    return rec["mismatches"]


async def attention_call(s: SharedTB, label: str, T: int, realistic: bool, check_cycles: bool) -> int:
    att = s.att
    sets = random_sets(s.cfg, T=T, count=1, seed=s.params.seed + T)
    bad = await att.layer(sets["realistic 0" if realistic else "full range 0"], label)
    rec = att.results.w.data["attn_layers"][-1]
    want = predict(att.geom, T).cycles
    s.record("attention", label, rec["cycles"], want, bad)
    if check_cycles and rec["cycles"] != want:
        raise AssertionError(f"{label}: {rec['cycles']} cycles on the shared array, the stand-alone unit's "
                             f"model says {want}")
    return bad


async def interleaved(s: SharedTB, check_cycles: bool, tag: str):
    """linear -> attention -> linear -> attention ... on one instance, the owner switched between."""
    rng = np.random.default_rng(s.params.seed + 21)
    L, tmax = s.lin.li, s.cfg.model.tokens
    plan = [("lin", "qkv"), ("attn", (tmax, True)), ("lin", "odd"), ("attn", (L + 1, False)),
            ("lin", "expert_fc1"), ("lin", "expert_fc2"), ("attn", (1, False)), ("lin", "fc1"),
            ("attn", (tmax, False))]
    bad = 0
    for n, (unit, what) in enumerate(plan):
        if unit == "lin":
            await s.own(LIN)
            bad += await linear_call(s, f"{tag}{n}_lin_{what}", what, rng, check_cycles)
        else:
            await s.own(ATTN)
            T, real = what
            bad += await attention_call(s, f"{tag}{n}_attn_T{T}", T, real, check_cycles)
    return bad


async def _start(dut, stall):
    s = SharedTB(dut)
    await s.start(stall)
    return s


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_interleaved(dut):
    """Unstalled: linear (qkv shape) -> attention (T = tokens) -> linear (odd shape, GELU) -> attention
    (T = L + 1, full range) -> MoE expert pair (gather + GELU, scaled scatter-accumulate) -> attention
    (T = 1) -> linear (fc1, GELU) -> attention (T = tokens, full range): bit-exact, and every call's
    cycles equal to the stand-alone unit's model."""
    s = await _start(dut, "none")
    bad = await interleaved(s, True, "i")
    s.finish("interleaved")
    assert bad == 0, f"interleaved: {bad} mismatches; first: {s.lin.first_mismatch or s.att.first_mismatch}"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_interleaved_stalls(dut):
    """The same interleaving under the run's stall pattern (source gaps, sink backpressure on every
    stream of both units): bit-exact."""
    s = await _start(dut, s_stall := cosim.tb.RunParams.from_env().stall)
    bad = await interleaved(s, s_stall == "none", "s")
    s.finish(f"interleaved / {s_stall}")
    assert bad == 0, f"interleaved / {s_stall}: {bad} mismatches; first: {s.lin.first_mismatch or s.att.first_mismatch}"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_held_start(dut):
    """A start for the non-owner while the owner runs is held and disturbs nothing:
    (1) a linear call runs; attention's ap_start is raised (and held) and the array asked for
    (sel_req = attention) mid-call: attention's core stays idle, the owner stays linear until the
    call is done, the linear call is bit-exact with the stand-alone cycle count; then the array
    changes hands, the held start is taken, and the attention layer is bit-exact with the stand-alone
    cycle count from the edge that took it.
    (2) attention runs; linear's ap_start is held high for the whole layer (the array not asked for):
    the linear core never starts (no ap_ready) and the layer is exact; the start is withdrawn."""
    s = await _start(dut, "none")
    d, lin, att = dut, s.lin, s.att
    rng = np.random.default_rng(s.params.seed + 31)
    T = s.cfg.model.tokens
    qkv = random_sets(s.cfg, T=T, count=1, seed=s.params.seed + 32)["realistic 0"]
    held = {"lin_busy_cycles": 0, "attn_core_started": 0, "sel_changed": 0, "boundary_idle": 0}

    async def held_attention():
        """As AttentionTB.layer from the edge that takes the held start (polled at falling edges: the
        TB's monitor has run for the rising edge before)."""
        while att.start_edge is None:
            await FallingEdge(d.ap_clk)
        d.attn_ap_start.value = 0
        start, n_done = att.edge, len(att.done_edges)
        nbad = await att.check_frames([stream_qkv(qkv, s.cfg.model.heads)], [attention_raw(qkv, s.cfg).reshape(-1)],
                                     "held_attn")
        while len(att.done_edges) == n_done:
            await RisingEdge(d.ap_clk)
        return nbad, att.done_edges[n_done] - start

    async def watch():
        """While the linear core is busy: attention's core idle, the owner linear, attn_ap_idle low."""
        while att.start_edge is None:
            await RisingEdge(d.ap_clk)
            if not int(d.u_lin.ap_idle.value):
                held["lin_busy_cycles"] += int(d.attn_ap_start.value)
                held["attn_core_started"] += int(not d.u_attn.ap_idle.value)
                held["sel_changed"] += int(d.sel.value)
                held["boundary_idle"] += int(d.attn_ap_idle.value)
                if held["attn_core_started"] or held["sel_changed"] or held["boundary_idle"]:
                    s.results.update(held=held)
                    raise AssertionError(f"held start: attention's start taken or the array switched while "
                                         f"linear ran: {held}")   # fails the test now (a cocotb task)

    call = cocotb.start_soon(linear_call(s, "held_lin", "qkv", rng, True))
    while int(d.u_lin.ap_idle.value):
        await RisingEdge(d.ap_clk)
    await ClockCycles(d.ap_clk, 20)
    await FallingEdge(d.ap_clk)
    att.start_edge = None
    d.attn_tokens.value = T
    d.attn_ap_start.value = 1
    d.sel_req.value = ATTN
    w = cocotb.start_soon(watch())
    ha = cocotb.start_soon(held_attention())
    bad = await call
    nbad, cycles = await ha
    await w
    bad += nbad
    want = predict(att.geom, T).cycles
    s.record("attention", "held_attn", cycles, want, nbad)
    s.results.update(held=held)
    if held["lin_busy_cycles"] < 50 or held["attn_core_started"] or held["sel_changed"] or held["boundary_idle"]:
        raise AssertionError(f"held start: while linear ran with attention's start held, {held}")
    if cycles != want:
        raise AssertionError(f"held start: the attention layer took {cycles} cycles from the edge that took it, "
                             f"the model says {want}")

    # (2) linear's start held while attention runs (the array not asked for): never taken
    rdy = len(lin.ready_cycles)
    await FallingEdge(d.ap_clk)
    d.lin_in_dim.value, d.lin_out_dim.value, d.lin_rows.value = 5, 5, 1
    d.lin_ap_start.value = 1
    layer = cocotb.start_soon(attention_call(s, "held_lin_start_attn", s.lin.li + 1, True, True))
    lin_started = 0
    while not layer.done():
        await RisingEdge(d.ap_clk)
        lin_started += int(not d.u_lin.ap_idle.value) + int(d.lin_ap_ready.value)
    bad += await layer
    await FallingEdge(d.ap_clk)
    d.lin_ap_start.value = 0
    if lin_started or len(lin.ready_cycles) != rdy:
        raise AssertionError(f"held start: linear's start was taken while attention owned the array "
                             f"({lin_started} busy / ready cycles)")
    await s.own(LIN)
    bad += await linear_call(s, "after_held", "odd", rng, True)
    s.finish("held start")
    assert bad == 0, f"held start: {bad} mismatches; first: {lin.first_mismatch or att.first_mismatch}"
