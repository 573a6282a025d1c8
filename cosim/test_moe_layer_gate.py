"""cocotb testbench of rtl/src/moe_layer_gate.sv (the MoE layer's top with the gate's own linear call:
LN2(x) in, the gate call on moe_experts' engine, its logits through the lane adapter into moe_router,
the descriptor stream's expert calls on the same engine, moe_acc out). cosim.test_moe_layer.LayerTB
drives it (it sees the top has no logits_ port): per layer task_id, n_tokens, layer_id with the
layer's first x_ beat, LN2(x) on x_ and, on ddr_ / ddrb_, the task's gate image and zero bias image
(not speculative) in front of EVERY expert's fc1 and fc2 images (speculative, tagged with the expert
and the layer). moe_acc is compared bit for bit with
python_ref's run_schedule(x, weights, decode_descriptors(descriptor_words(route(gate_logits(x, w_gate,
task)), ...))); the router's x_ beats with gate_logits; every DDR word must be consumed, err low,
and each layer must write exactly one routing mask (its layer number, python_ref's active experts).
Run through cosim.runner.run_unit (tests/test_cosim_moe_layer.py).
Run parameters: as cosim/test_moe_layer.py (stall, n_random, corrupt, tasks, cases)."""
from __future__ import annotations

import numpy as np

import cocotb
from cocotb.triggers import ClockCycles

from cosim.moe_vectors import expert_call_cycles, routing_cases, seeded_moe_weights
from cosim.test_moe_experts import random_layer, random_weights
from cosim.test_moe_layer import TEST_TIMEOUT_MS, LayerTB, _layer_no, routing_case_runs, run_random, run_real
from cosim.vectors import rand_raw
from cosim.weight_fifo_schedule import ROUTE_TO_HEAD, Segment, WeightFifo
from python_ref.kernels.moe import MoEWeights

SPEC = ("python_ref.kernels.moe.run_schedule(x, weights, decode_descriptors(descriptor_words(route("
        "gate_logits(x, w_gate, task)), ...)))")


def with_gate(w: MoEWeights, gate: np.ndarray) -> MoEWeights:
    return MoEWeights(gate, w.w1, w.b1, w.w2, w.b2)


def random_gate(tb, rng, full: bool) -> np.ndarray:
    """Every task's gate (tasks, E, D) raw gate_weight: full range (the sums wrap) or realistic."""
    m = tb.cfg.model
    return rand_raw(tb.gfmt, (m.tasks, m.experts, m.dim), rng, None if full else 2 / np.sqrt(m.dim))


def gate_layer(tb, rng, i: int):
    """Layer i of a random run: random_layer's draw (x, expert weights, T, task) with a random gate
    (full range on odd i, like the experts)."""
    x, w, lg, task = random_layer(tb, rng, i)
    return x, with_gate(w, random_gate(tb, rng, bool(i % 2))), len(lg), task


def case_layer(tb, rng, case, task: int):
    """A routing case through its steered gate: task 0 with the case's x and the seeded experts, other
    tasks with the case's x and full-range experts."""
    w = seeded_moe_weights(tb.cfg) if task == 0 else random_weights(tb.cfg, rng, True)
    return case.x_raw, with_gate(w, case.weights.w_gate), tb.T, task


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_routings(dut):
    """Every routing case of cosim.moe_vectors through the task's steered gate, one layer each (run
    parameters tasks: how many tasks; cases: only these case names)."""
    tb = await LayerTB.create(dut)
    rng = tb.rng(3)
    total = 0
    for i, task, name, case in routing_case_runs(tb):
        x, w, t, tk = case_layer(tb, rng, case, task)
        total += await tb.run([(x, w, t, tk, _layer_no(tb, i))], f"case {name} (task {task})/{tb.params.stall}")
    tb.expect_exact(total, "routings", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    """n_random layers one at a time: T in {1, T_max, random}, random gate and experts (realistic or
    full range), random task."""
    await run_random(await LayerTB.create(dut), gate_layer, SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_consecutive(dut):
    """Four layers queued at once on x_ and both DDR streams, each with its own layer number and task:
    all tokens to the same k experts (trailing experts unused: their words dropped behind the next
    layer's gate words), all tokens to one expert (task 1's gate), a random layer of one token, a
    random layer of T_max. The next layer's x_ beats wait in front of the unit while a layer runs;
    its gate words wait behind the layer's expert words in the FIFOs (no route hold)."""
    tb = await LayerTB.create(dut)
    rng = tb.rng(11)
    layers = []
    for k, (name, task) in enumerate((("all tokens to the same k experts", 0), ("all tokens to one expert", 1))):
        x, w, t, tk = case_layer(tb, rng, routing_cases(tb.cfg, task)[name], task)
        layers.append((x, w, t, tk, 2 + k))
    for k, i in enumerate((0, 1)):
        x, w, t, task = gate_layer(tb, rng, i)
        layers.append((x, w, t, task, 5 + k))
    tb.expect_exact(await tb.run(layers, f"consecutive/{tb.params.stall}"), "consecutive", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_bad_tokens(dut):
    """n_tokens = 0 and n_tokens > NUM_TOKENS with the first x_ beat: err rises, no output, the x_
    stream is no longer taken; after a reset a good layer is exact."""
    tb = await LayerTB.create(dut, stall="none")
    rng = tb.rng(13)
    for t in (0, tb.T + 1):
        await tb.reset()
        tb.source.clear()
        o0 = len(tb.out_beats)
        dut.n_tokens.value, dut.task_id.value, dut.layer_id.value = t, 0, 1
        await tb.source.send(rand_raw(tb.act, (4 * tb.nd * tb.L,), rng).tolist())
        await ClockCycles(tb.clk, 100)
        if not int(dut.err.value) or len(tb.out_beats) != o0 or int(dut.x_TREADY.value):
            raise AssertionError(f"n_tokens = {t}: err {dut.err.value}, {len(tb.out_beats) - o0} output beats, "
                                 f"x_TREADY {dut.x_TREADY.value} (err high and x_ no longer taken expected)")
        tb.results.add("bad_layers", 1)
    await tb.reset()
    tb.source.clear()
    if int(dut.err.value):
        raise AssertionError("err not cleared by reset")
    x, w, t, task = gate_layer(tb, rng, 1)
    tb.expect_exact(await tb.run([(x, w, t, task, 1)], "after bad T"), "after bad T", SPEC)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_cycles(dut):
    """No stalls, DDR always valid, one layer at a time of T_max tokens (all tokens to one expert,
    every expert active, a random gate): every engine call's ap_ready / ap_done (the gate call first)
    next to cosim.linear_schedule.Sequence with the weights through cosim.weight_fifo_schedule.WeightFifo
    (the gate image, then every expert's words; the mask visible the cycle after the measured route
    pulse), the first expert call started and offered x_ when measured (the routing's latency); and
    the layer's cycles: first x_ beat -> last moe_acc beat, the gate call, the routing exposed beyond
    it (the gate call's ap_done -> the first expert call's ap_ready; and from the last logit beat)."""
    tb = await LayerTB.create(dut, stall="none")
    rng = tb.rng(7)
    cases = routing_cases(tb.cfg, 0)
    w = random_weights(tb.cfg, rng, False)
    layers = [("all tokens to one expert", cases["all tokens to one expert"].x_raw,
               cases["all tokens to one expert"].weights.w_gate),
              ("every expert active", cases["every expert active"].x_raw, cases["every expert active"].weights.w_gate),
              ("random gate", rand_raw(tb.act, (tb.T, tb.D), rng, 1.0), random_gate(tb, rng, False))]
    e = tb.w_bits // tb.wfmt.width
    recs = []
    for i, (name, x, gate) in enumerate(layers):
        r0, d0, x0, o0, l0, p0, s0, i0 = (len(tb.readies), len(tb.dones), len(tb.x_offers), len(tb.out_beats),
                                          len(tb.lg_beats), len(tb.ddr.pushes), len(tb.starts), len(tb.in_beats))
        ro = len(tb.routes)
        lay = _layer_no(tb, i)
        tb.expect_exact(await tb.run([(x, with_gate(w, gate), tb.T, 0, lay)], f"cycles {name}"), "cycles", SPEC)
        sched = tb.last_schedules[0]
        ready, done, starts = tb.readies[r0:], tb.dones[d0:], tb.starts[s0:]
        base = ready[0]
        (pulse, _, active, _), = tb.routes[ro:]
        fifo = WeightFifo([Segment(tb.image_words["gate"], None, "gate")] +
                          [Segment(tb.image_words[f], (lay, k)) for k in range(tb.E) for f in ("fc1", "fc2")],
                          tb.wf_depth, rate=e, word=e, start=tb.ddr.pushes[p0] - base, skip=False)
        fifo.route(lay, {k for k, b in enumerate(reversed(active)) if b == "1"}, pulse - base + ROUTE_TO_HEAD)
        x1 = next(c for c in tb.x_offers[x0:] if c >= starts[1])
        calls = expert_call_cycles(tb.cfg, sched, ready, done, tb.x_offers[x0] - base, fifo=fifo,
                                   label=f"cycles {name}", resume=(starts[1] - base, x1 - base), gate_rows=tb.T,
                                   w_bits=tb.w_bits)
        first_x = tb.in_beats[i0][0]
        rec = {"layer": name, "calls": calls,
               "layer_cycles": tb.out_beats[-1][0] - first_x + 1,
               "first_x_to_gate_ready": base - first_x,
               "gate_call": done[0] - base + 1,
               "gate_done_to_first_expert_ready": ready[1] - done[0],
               "last_logit_to_first_expert_ready": ready[1] - tb.lg_beats[-1],
               "gate_done_to_route_pulse": pulse - done[0],
               "expert_phase": done[-1] - ready[1] + 1,
               "last_done_to_last_y": tb.out_beats[-1][0] - done[-1], "y_beats": len(tb.out_beats) - o0,
               "logit_beats": len(tb.lg_beats) - l0, "dropped_words": fifo.dropped}
        recs.append(rec)
        tb.log.info(f"cycles {name}: { {k: v for k, v in rec.items() if k != 'calls'} }")
    tb.results.update(cycle_layers=recs)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_real(dut):
    """The published frame's first MoE layer, the gate computed here (cosim.test_moe_layer.run_real):
    both tasks back to back behind the skipping DMA (no route hold, no reset between them)."""
    await run_real(await LayerTB.create(dut, stall="none", dma=True))
