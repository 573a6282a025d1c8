"""cocotb testbench of rtl/src/attention.sv (one layer's multi-head attention on the MAC array) with
python_ref.kernels.attention.attention_raw as the scoreboard. Run through cosim.runner.run_unit
(tests/test_cosim_attention.py, `make sim`).

Each layer: ap_start with `tokens` = T, the layer's qkv (T x 3D act values) as one x_ frame in the
unit's phase order (cosim.attention_schedule.stream_qkv: Q0 K0 Q1 K1 V0 ...), the
expected attn_out (T x D) as one y_ frame, compared bit for bit by the shared stream scoreboard
(cosim.tb.StreamTB.check_frames: TLAST, beat counts, held stalled beats). The control monitor
records, per layer, the cycles from the edge that samples ap_start to the edge that samples ap_done,
and per array phase (QK h / AV h: cosim.attention_schedule.phase_order) the cycles of its first and
last array step; on unstalled runs the layer cycles must equal the model
(cosim.attention_schedule.predict).

Run parameters (cosim.tb.RunParams): stall, n_random (random layers: realistic and full range
alternately), corrupt (one flipped expected value: the scoreboard must fail); extra: tokens (list of
T for test_tokens), reset_after (cycles into the layer at which test_reset_mid_layer resets).
"""
from __future__ import annotations

import numpy as np

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge

from cosim.attention_schedule import Geometry, phase_order, predict, stream_qkv
from cosim.attention_vectors import adversarial_sets, random_sets
from cosim.tb import RunParams, StreamTB, real_rows_skip
from python_ref.kernels.attention import attention_raw

TEST_TIMEOUT_MS = 60_000
SPEC = "python_ref.kernels.attention.attention_raw"


class AttentionTB(StreamTB):
    def __init__(self, dut, params, start_clock: bool = True):
        super().__init__(dut, params, "attention", params.cfg().fmt("act").width, layers=[], start_clock=start_clock)
        self.geom = Geometry.from_dut(dut, self.cfg)
        dut.ap_start.value = 0
        dut.tokens.value = self.cfg.model.tokens
        self.edge = 0
        self.start_edge = None
        self.done_edges: list[int] = []
        self.steps: list[tuple[int, int]] = []  # (edge, phase tag) of every array step of the current layer
        self.hw = max(1, (self.cfg.model.heads - 1).bit_length())
        cocotb.start_soon(self._ctrl_monitor())

    async def _ctrl_monitor(self):
        d = self.dut
        arr = d.u_array
        edge = RisingEdge(self.clk)
        hmask = (1 << self.hw) - 1
        while True:
            await edge
            self.edge += 1
            if not self.rst_n.value:
                continue
            if d.ap_start.value and d.ap_idle.value:
                self.start_edge = self.edge
                self.steps = []
            if d.ap_done.value:
                self.done_edges.append(self.edge)
            if arr.in_valid.value:
                u = int(arr.in_user.value)
                self.steps.append((self.edge, (u & 1, (u >> 14) & hmask)))

    async def layer(self, qkv: np.ndarray, label: str) -> int:
        """One layer through the unit; returns the mismatch count and records the layer's cycles."""
        qkv = np.asarray(qkv, dtype=np.int64)
        T = qkv.shape[0]
        want = attention_raw(qkv, self.cfg)
        while not self.dut.ap_idle.value:
            await RisingEdge(self.clk)
        await FallingEdge(self.clk)
        self.dut.tokens.value = T
        self.dut.ap_start.value = 1
        await RisingEdge(self.clk)
        await FallingEdge(self.clk)
        self.dut.ap_start.value = 0
        n_done = len(self.done_edges)
        start = self.edge  # the edge that sampled ap_start (the monitor ran at the same edge)
        bad = await self.check_frames([stream_qkv(qkv, self.cfg.model.heads)], [want.reshape(-1)], label,
                                       describe=self._describe(T))
        while len(self.done_edges) == n_done:
            await RisingEdge(self.clk)
        cycles = self.done_edges[n_done] - start
        rec = {"label": label, "T": T, "cycles": cycles, "stall": self.params.stall, "mismatches": bad,
               "phases": self._phases()}
        if self.params.stall == "none":
            rec["predicted"] = predict(self.geom, T).cycles
        self.results.append("layers", rec)
        self.log.info(f"{label}: T = {T}, {cycles} cycles, {bad} mismatches")
        return bad

    def _describe(self, T):
        D = self.cfg.model.dim

        def describe(frame, j):
            return f"attn_out[{j // D}][{j % D}] (T = {T})"
        return describe

    def _phases(self) -> list[dict]:
        """First / last step edge and step count of every array phase of the layer just run."""
        out = {}
        for e, tag in self.steps:
            p = out.setdefault(tag, {"phase": ("AV" if tag[0] else "QK") + str(tag[1]), "first": e, "last": e,
                                     "steps": 0})
            p["last"] = e
            p["steps"] += 1
        return sorted(out.values(), key=lambda p: p["first"])


async def create(dut, stall=None) -> AttentionTB:
    tb = AttentionTB(dut, RunParams.from_env())
    tb.set_stall_pattern(tb.params.stall if stall is None else stall, tb.params.seed)
    await tb.reset()
    return tb


async def run_sets(tb: AttentionTB, sets: dict, what: str) -> int:
    bad = 0
    for name, qkv in sets.items():
        bad += await tb.layer(qkv, f"{what}/{name}/{tb.params.stall}")
    return bad


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_adversarial(dut):
    """cosim.attention_vectors.adversarial_sets: all scores equal, one dominant key, scores saturated
    and across saturation, q = k, operand saturation points and rounding ties, v at extremes, T = 1."""
    tb = await create(dut)
    tb.expect_exact(await run_sets(tb, adversarial_sets(tb.cfg), "adversarial"), "adversarial", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """n_random layers: realistic (per-head scales like the real qkv) and full range, alternately."""
    tb = await create(dut)
    n = tb.params.n_random
    sets = random_sets(tb.cfg, count=(n + 1) // 2, seed=tb.params.seed)
    names = [k for pair in zip([k for k in sets if k.startswith("realistic")], [k for k in sets if k.startswith("full")])
             for k in pair][:n]
    tb.expect_exact(await run_sets(tb, {k: sets[k] for k in names}, "random"), "random", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_tokens(dut):
    """Layers of other token counts (run parameter tokens, default 1, L - 1, L, L + 1, TMAX): partial
    key blocks, one key block, T = 1."""
    tb = await create(dut)
    L, tmax = tb.geom.L, tb.cfg.model.tokens
    ts = tb.params.extra.get("tokens") or sorted({1, max(1, L - 1), L, min(tmax, L + 1), tmax})
    bad = 0
    for i, T in enumerate(ts):
        sets = random_sets(tb.cfg, T=T, count=1, seed=tb.params.seed + 100 + i)
        bad += await run_sets(tb, sets, f"T={T}")
    tb.expect_exact(bad, "tokens", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_reset_mid_layer(dut):
    """ap_rst_n in the middle of a layer (inputs half sent, array busy), then a whole layer: exact."""
    tb = await create(dut)
    qkv = random_sets(tb.cfg, count=1, seed=tb.params.seed + 7)["realistic 0"]
    await FallingEdge(tb.clk)
    dut.tokens.value = qkv.shape[0]
    dut.ap_start.value = 1
    await RisingEdge(tb.clk)
    await FallingEdge(tb.clk)
    dut.ap_start.value = 0
    tb.source.send_nowait(tb.values_to_frame(stream_qkv(qkv, tb.cfg.model.heads)))
    await tb.idle(tb.params.int("reset_after", 3 * tb.geom.in_beats(qkv.shape[0]) // 2))
    tb.source.clear()
    await tb.reset()  # the bus models drop their frames on reset too
    tb.sink.clear()
    tb.set_stall_pattern(tb.params.stall, tb.params.seed)
    assert dut.ap_idle.value, "the unit is not idle after reset"
    tb.expect_exact(await tb.layer(qkv, f"after reset/{tb.params.stall}"), "after reset", SPEC)


@cocotb.skipif(real_rows_skip(lambda c: c.model.tokens == 129 and c.model.dim == 192, "129 tokens of dim 192")
               is not None, reason="published weights absent or config without 129 tokens of dim 192")
@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_real(dut):
    """The published layer-0 and layer-1 qkv (float model on the published weights and frame)."""
    from cosim.attention_vectors import real_sets
    tb = await create(dut)
    sets = real_sets(tb.cfg)
    bad = await run_sets(tb, sets, "real")
    tb.results.add("real_rows", sum(x.shape[0] for x in sets.values()))
    tb.expect_exact(bad, "real", SPEC)


__all__ = ["AttentionTB", "phase_order"]
