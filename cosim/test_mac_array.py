"""cocotb testbench of rtl/src/mac_array.sv (the unified MAC array: LI x LO cells, one DSP48E2 each)
with python_ref as the scoreboard. Run through cosim.runner (tests/test_cosim_mac_array.py).

The testbench plays the array's drivers:

* the linear engine: per output block, the LI x LO weight tiles (linear_w_t, the 18-bit B port)
  written column segment by column segment into the stationary store (ping-pong banks = address
  bits, the next block loading while the current one computes), the activations converted to the
  operand format (27-bit A port), the bias aligned to the product grid on the C port of the first
  in-block; the exact accumulator rounded to act and compared with
  python_ref.kernels.linear.compute_linear (``numerics.linear_sum: exact``);
* the attention unit: q rows against a stationary K split into hi (17-bit signed, steps with
  in_shift: acc += chain << 10) and lo (10-bit unsigned) parts, the exact accumulator compared with
  python_ref.exact.exact_matmul (S = q . k), including the range proof's worst case; and the same
  with K whole on the B port (the shipped 18-bit K, 26-bit q: one step per product, no shift);
* random bubbles between steps and between loads, and a check that a step's result appears exactly
  LATENCY = LI + 3 edges after it on unstalled runs.

Run parameters (cosim.tb.RunParams): rows (activation rows per layer, default 2), corrupt (one
flipped expected value: the scoreboard must fail).
"""
from __future__ import annotations

import numpy as np

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from cosim.tb import ResultWriter, RunParams, start_clock_in_reset
from cosim.vectors import rand_raw
from python_ref.exact import exact_matmul
from python_ref.kernels.attention import SPLIT_LO_BITS
from python_ref.kernels.linear import compute_linear, layer_shapes, weight_port_format

TEST_TIMEOUT_MS = 200


class ArrayTB:
    """Clock, reset, the run's parameters and summary, and a cycle-by-cycle driver / monitor."""

    def __init__(self, dut):
        self.dut = dut
        self.params = RunParams.from_env()
        self.cfg = self.params.cfg()
        self.act = self.cfg.fmt("act")
        self.op = self.cfg.fmt("operand")
        self.li, self.lo = int(dut.LI.value), int(dut.LO.value)
        self.aw, self.bw, self.pw = int(dut.AW.value), int(dut.BW.value), int(dut.PW.value)
        self.acc_w, self.shift, self.depth = int(dut.ACC_W.value), int(dut.SHIFT.value), int(dut.DEPTH.value)
        self.latency = self.li + 3  # edges from the sampling edge to out_valid
        wp = weight_port_format(self.cfg)
        self.wf = wp.frac
        self.rows = self.params.int("rows", 2)
        self.corrupt = self.params.corrupt
        self.first_mismatch = None
        self.results = ResultWriter(kernel="mac_array", config=self.cfg.name, li=self.li, lo=self.lo, runs=[],
                                    out_values=0, steps=0, mismatches=0, latency_cycles=self.latency,
                                    seed=self.params.seed)
        self.cycle = 0
        self.outputs: list[tuple[int, np.ndarray]] = []  # (cycle, LO accumulators) of every out_valid

    @classmethod
    async def create(cls, dut) -> "ArrayTB":
        tb = cls(dut)
        start_clock_in_reset(dut.clk, dut.rst_n)
        for name in ("ld_valid", "ld_addr", "ld_row", "ld_col", "ld_data", "in_valid", "in_first", "in_last",
                     "in_shift", "in_addr", "in_a", "in_c", "in_user"):
            getattr(dut, name).value = 0
        dut.rst_n.value = 0
        for _ in range(4):
            await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
        dut.rst_n.value = 1
        await FallingEdge(dut.clk)
        return tb

    def pack(self, values, width: int) -> int:
        word = 0
        for j, v in enumerate(np.asarray(values).reshape(-1).tolist()):
            word |= (int(v) & ((1 << width) - 1)) << (j * width)
        return word

    def unpack_acc(self, word: int) -> np.ndarray:
        w = self.acc_w
        vals = [(word >> (o * w)) & ((1 << w) - 1) for o in range(self.lo)]
        return np.array([v - (1 << w) if v >> (w - 1) else v for v in vals], dtype=object)

    async def run(self, schedule) -> list[int]:
        """Drive ``schedule``: one (load, step) pair per cycle, each None or a dict of port values
        (load: addr, rows, col, data = {(i, o): value}; step: first, last, shift, addr, a, c).
        Returns the cycle of every step; the outputs go to self.outputs."""
        d = self.dut
        step_cycles = []
        for load, step in schedule:
            if load is None:
                d.ld_valid.value = 0
            else:
                data = 0
                for (i, o), v in load["data"].items():
                    data |= (int(v) & ((1 << self.bw) - 1)) << ((i * self.lo + o) * self.bw)
                d.ld_valid.value = 1
                d.ld_addr.value = load["addr"]
                d.ld_row.value = load["rows"]
                d.ld_col.value = load["cols"]
                d.ld_data.value = data
            if step is None:
                d.in_valid.value = 0
            else:
                d.in_valid.value = 1
                d.in_first.value = int(step["first"])
                d.in_last.value = int(step["last"])
                d.in_shift.value = int(step.get("shift", 0))
                d.in_addr.value = step["addr"]
                d.in_a.value = self.pack(step["a"], self.aw)
                d.in_c.value = self.pack(step.get("c", np.zeros(self.lo, dtype=np.int64)), self.pw)
            await self.clock()
            if step is not None:
                step_cycles.append(self.cycle)  # the edge that sampled the step
        d.ld_valid.value = 0
        d.in_valid.value = 0
        for _ in range(2 * self.latency + 4):  # drain; nothing more may come out
            await self.clock()
        return step_cycles

    async def clock(self):
        """Inputs driven before are sampled at the rising edge; out_valid / out_acc are read after
        it (ReadOnly); the next inputs are driven at the falling edge."""
        await RisingEdge(self.dut.clk)
        self.cycle += 1
        await ReadOnly()
        if int(self.dut.out_valid.value):
            self.outputs.append((self.cycle, self.unpack_acc(int(self.dut.out_acc.value))))
        await FallingEdge(self.dut.clk)

    def compare(self, label, got, want) -> int:
        if self.corrupt:
            want = want.copy()
            want.flat[want.size // 2] = want.flat[want.size // 2] ^ 1
            self.corrupt = False
        bad = np.argwhere(np.asarray(got != want))
        for r, c in bad[:10]:
            msg = f"{label}: MISMATCH row {r} column {c}: expected {int(want[r, c])} got {int(got[r, c])}"
            self.dut._log.error(msg)
            self.first_mismatch = self.first_mismatch or msg
        self.results.add("out_values", want.size)
        self.results.add("mismatches", len(bad))
        return len(bad)


def merge(*lanes):
    """Cycle-by-cycle pairs from a load list and a step list (the shorter padded with None)."""
    n = max(len(x) for x in lanes)
    return [tuple(x[k] if k < len(x) else None for x in lanes) for k in range(n)]


def gaps(items, rng, prob):
    """Insert random idle cycles (None) before items."""
    out = []
    for it in items:
        while prob and rng.random() < prob:
            out.append(None)
        out.append(it)
    return out


def block_schedule(tb: ArrayTB, loads_per_block, steps_per_block, rng, gap_prob=0.0):
    """Ping-pong: block b's loads run beside block b-1's steps; block b's steps start once block b-1's
    steps and block b's loads are done; a bank is rewritten only LI cycles after its last step (the
    late rows of the systolic skew still read it)."""
    sched = [(None, None)] * 0
    pending_loads = gaps(loads_per_block[0], rng, gap_prob)
    sched += [(ld, None) for ld in pending_loads]
    for b, steps in enumerate(steps_per_block):
        nxt = []
        if b + 1 < len(loads_per_block):
            nxt = [None] * (tb.li + 1) + gaps(loads_per_block[b + 1], rng, gap_prob)
        sched += merge(nxt, gaps(steps, rng, gap_prob))
    return sched


def linear_operands(tb: ArrayTB, x_raw, x_fmt, w_raw, w_fmt, b_raw, b_fmt):
    """The engine's operands: x assigned to formats.operand (RND, SAT_SYM), W in linear_w_t (exact
    shift), the bias on the product grid (exact shift)."""
    op = tb.op
    xo = op.quantize(np.asarray(x_raw, dtype=np.int64), x_fmt.frac).astype(np.int64)
    wq = np.asarray(w_raw, dtype=np.int64) << (tb.wf - w_fmt.frac)
    frac = op.frac + tb.wf
    bq = np.asarray(b_raw, dtype=np.int64) << (frac - b_fmt.frac)
    return xo, wq, bq, frac


async def run_linear_layer(tb: ArrayTB, label, x_raw, x_fmt, w_raw, w_fmt, b_raw, b_fmt, rng, gap_prob=0.0):
    li, lo = tb.li, tb.lo
    n_out, n_in = w_raw.shape
    rows = x_raw.shape[0]
    n_ib, n_ob = -(-n_in // li), -(-n_out // lo)
    if 2 * n_ib > tb.depth:
        raise ValueError(f"{label}: {n_ib} in-blocks need DEPTH >= {2 * n_ib} (two banks), the array has {tb.depth}")
    want = compute_linear(x_raw, w_raw, b_raw, tb.cfg, w_fmt=w_fmt, b_fmt=b_fmt, x_fmt=x_fmt)
    xo, wq, bq, frac = linear_operands(tb, x_raw, x_fmt, w_raw, w_fmt, b_raw, b_fmt)
    xp = np.zeros((rows, n_ib * li), dtype=np.int64)
    xp[:, :n_in] = xo
    wp = np.zeros((n_ob * lo, n_ib * li), dtype=np.int64)
    wp[:n_out, :n_in] = wq
    bp = np.zeros(n_ob * lo, dtype=np.int64)
    bp[:n_out] = bq
    loads, steps = [], []
    for ob in range(n_ob):
        bank = (ob % 2) * n_ib
        loads.append([dict(addr=bank + ib, rows=(1 << li) - 1, cols=1 << c,
                           data={(i, c): wp[ob * lo + c, ib * li + i] for i in range(li)})
                      for c in range(lo) for ib in range(n_ib)])
        steps.append([dict(first=ib == 0, last=ib == n_ib - 1, addr=bank + ib, a=xp[k, ib * li:(ib + 1) * li],
                           c=bp[ob * lo:(ob + 1) * lo] if ib == 0 else np.zeros(lo, dtype=np.int64))
                      for k in range(rows) for ib in range(n_ib)])
    out0 = len(tb.outputs)
    step_cycles = await tb.run(block_schedule(tb, loads, steps, rng, gap_prob))
    outs = tb.outputs[out0:]
    if len(outs) != rows * n_ob:
        raise AssertionError(f"{label}: {len(outs)} results, expected {rows * n_ob}")
    last_steps = [c for c, s in zip(step_cycles, [s for blk in steps for s in blk]) if s["last"]]
    lat = {oc - sc for (oc, _), sc in zip(outs, last_steps)}
    y = np.zeros((rows, n_ob * lo), dtype=object)
    for n, (_, acc) in enumerate(outs):
        ob, k = divmod(n, rows)
        y[k, ob * lo:(ob + 1) * lo] = acc
    got = tb.act.quantize(y[:, :n_out], frac).astype(np.int64)
    bad = tb.compare(label, got, want)
    tb.results.add("steps", len(step_cycles))
    tb.results.append("runs", {"label": label, "out": n_out, "in": n_in, "rows": rows, "steps": len(step_cycles),
                               "latency": sorted(lat), "gaps": gap_prob > 0, "mismatches": bad})
    if lat != {tb.latency}:
        raise AssertionError(f"{label}: step -> result latency {sorted(lat)}, documented {tb.latency}")
    return bad


def check(tb: ArrayTB, bad: int, what: str):
    assert bad == 0, f"{what}: {bad} mismatches against python_ref; first: {tb.first_mismatch}"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS * 20, timeout_unit="ms")
async def test_linear_layers(dut):
    """Every layer shape of the config and the patch embedding's linear part (realistic values, no
    gaps): exact against compute_linear, latency LI + 4 on every result."""
    tb = await ArrayTB.create(dut)
    rng = np.random.default_rng(tb.params.seed)
    cfg, m = tb.cfg, tb.cfg.model
    bad = 0
    for name, o, i, wr, br in layer_shapes(cfg):
        x = rand_raw(tb.act, (tb.rows, i), rng, 1.0)
        w = rand_raw(cfg.fmt(wr), (o, i), rng, 1.0 / np.sqrt(i))
        b = rand_raw(cfg.fmt(br), o, rng, 0.1)
        bad += await run_linear_layer(tb, name, x, tb.act, w, cfg.fmt(wr), b, cfg.fmt(br), rng)
    pix = rand_raw(cfg.fmt("pixel"), (tb.rows, m.patch_in), rng)
    w = rand_raw(cfg.fmt("patch_weight"), (m.dim, m.patch_in), rng, 0.05)
    b = rand_raw(cfg.fmt("bias"), m.dim, rng, 0.1)
    bad += await run_linear_layer(tb, "patch", pix, cfg.fmt("pixel"), w, cfg.fmt("patch_weight"), b, cfg.fmt("bias"),
                                  rng)
    check(tb, bad, "linear layers")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_linear_full_range_gaps(dut):
    """Full-range activations (operand saturation), weights and biases on odd shapes, extreme
    corners, random idle cycles between steps and between loads."""
    tb = await ArrayTB.create(dut)
    rng = np.random.default_rng(tb.params.seed + 1)
    cfg, act = tb.cfg, tb.act
    bad = 0
    for o, i, r in [(1, 1, 1), (2 * tb.lo + 1, 3 * tb.li - 1, 3), (tb.lo - 1 or 1, 2 * tb.li + 1, 2)]:
        x = rand_raw(act, (r, i), rng)
        w = rand_raw(cfg.fmt("weight"), (o, i), rng)
        b = rand_raw(cfg.fmt("attn_bias"), o, rng)
        x[0, :] = act.raw_max
        w[0, :] = cfg.fmt("weight").raw_min  # the largest magnitude on the B port: the cascade's worst case
        x[-1, -1], w[-1, -1] = act.raw_min, cfg.fmt("weight").raw_max
        bad += await run_linear_layer(tb, f"full_{o}x{i}", x, act, w, cfg.fmt("weight"), b, cfg.fmt("attn_bias"), rng,
                                      gap_prob=0.3)
    check(tb, bad, "full range")


async def run_qk_blocks(tb, rng, loads, steps, want, label: str, what: str) -> None:
    """Run QK^T key blocks (``loads`` / ``steps`` per block, each block's steps row-major over the
    queries) with random bubbles, gather the results (queries x keys) and compare them with ``want``."""
    queries, keys = want.shape
    lo = tb.lo
    n_kb = len(loads)
    out0 = len(tb.outputs)
    await tb.run(block_schedule(tb, loads, steps, rng, 0.2))
    outs = tb.outputs[out0:]
    assert len(outs) == queries * n_kb, f"{len(outs)} results"
    got = np.zeros((queries, n_kb * lo), dtype=object)
    for n, (_, acc) in enumerate(outs):
        kb, r = divmod(n, queries)
        got[r, kb * lo:(kb + 1) * lo] = acc
    bad = tb.compare(label, got[:, :keys].astype(np.int64), want)
    tb.results.add("steps", len(steps) * len(steps[0]))
    check(tb, bad, what)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_attention_hi_lo_split(dut):
    """QK^T as the attention unit runs it: K stationary, split k = hi * 2^10 + lo (hi 17-bit signed
    on steps with in_shift, lo 10-bit unsigned), q rows on the A port; the exact accumulator equals
    S = q . k (exact_matmul), full-range operands and the range proof's worst case (|q| = 2^26 - 1,
    hi = -2^16 on every product)."""
    tb = await ArrayTB.create(dut)
    rng = np.random.default_rng(tb.params.seed + 2)
    li, lo = tb.li, tb.lo
    q_max = (1 << 26) - 1
    d = 2 * li + (li > 1)  # dims: not a multiple of LI
    n_ib = -(-d // li)
    keys = 2 * lo - 1
    n_kb = -(-keys // lo)
    q = rng.integers(-q_max, q_max + 1, (3, d))
    k = rng.integers(-q_max, q_max + 1, (keys, d))
    q[0, :], k[0, :] = q_max, -(1 << 26)   # hi = -2^16 everywhere in key 0 (k = -2^26 keeps |k| <= 2^26)
    q[1, :] = -q_max
    want = exact_matmul(q, k.T)
    if 4 * n_ib > tb.depth:
        raise ValueError(f"attention test needs DEPTH >= {4 * n_ib}")
    kp = np.zeros((n_kb * lo, n_ib * li), dtype=np.int64)
    kp[:keys, :d] = k
    qp = np.zeros((q.shape[0], n_ib * li), dtype=np.int64)
    qp[:, :d] = q
    hi, lo_part = kp >> SPLIT_LO_BITS, kp & ((1 << SPLIT_LO_BITS) - 1)
    loads, steps = [], []
    for kb in range(n_kb):
        bank = (kb % 2) * 2 * n_ib
        blk = []
        for part, arr in ((0, hi), (1, lo_part)):
            for ib in range(n_ib):
                # one stationary row (one dim) across every column (key) per write: the AV-style load
                blk += [dict(addr=bank + 2 * ib + part, rows=1 << i, cols=(1 << lo) - 1,
                             data={(i, c): arr[kb * lo + c, ib * li + i] for c in range(lo)}) for i in range(li)]
        loads.append(blk)
        steps.append([dict(first=ib == 0 and part == 0, last=ib == n_ib - 1 and part == 1, shift=part == 0,
                           addr=bank + 2 * ib + part, a=qp[r, ib * li:(ib + 1) * li])
                      for r in range(q.shape[0]) for ib in range(n_ib) for part in (0, 1)])
    await run_qk_blocks(tb, rng, loads, steps, want, "qk_hi_lo", "attention hi/lo")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_attention_whole_k(dut):
    """QK^T in one pass per product (the shipped formats: K whole on the 18-bit B port, q in 26 bits,
    no shifted steps): the exact accumulator equals S = q . k, full-range operands and the range
    proof's worst case (|q| = 2^25 - 1 against k = -(2^17 - 1) on every product)."""
    tb = await ArrayTB.create(dut)
    rng = np.random.default_rng(tb.params.seed + 3)
    li, lo = tb.li, tb.lo
    q_max, k_max = (1 << 25) - 1, (1 << 17) - 1
    d = 2 * li + (li > 1)  # dims: not a multiple of LI
    n_ib = -(-d // li)
    keys = 2 * lo - 1
    n_kb = -(-keys // lo)
    q = rng.integers(-q_max, q_max + 1, (3, d))
    k = rng.integers(-k_max, k_max + 1, (keys, d))
    q[0, :], k[0, :] = q_max, -k_max
    q[1, :] = -q_max
    want = exact_matmul(q, k.T)
    if 2 * n_ib > tb.depth:
        raise ValueError(f"attention test needs DEPTH >= {2 * n_ib}")
    kp = np.zeros((n_kb * lo, n_ib * li), dtype=np.int64)
    kp[:keys, :d] = k
    qp = np.zeros((q.shape[0], n_ib * li), dtype=np.int64)
    qp[:, :d] = q
    loads, steps = [], []
    for kb in range(n_kb):
        bank = (kb % 2) * n_ib
        loads.append([dict(addr=bank + ib, rows=1 << i, cols=(1 << lo) - 1,
                           data={(i, c): kp[kb * lo + c, ib * li + i] for c in range(lo)})
                      for ib in range(n_ib) for i in range(li)])
        steps.append([dict(first=ib == 0, last=ib == n_ib - 1, shift=False, addr=bank + ib,
                           a=qp[r, ib * li:(ib + 1) * li]) for r in range(q.shape[0]) for ib in range(n_ib)])
    await run_qk_blocks(tb, rng, loads, steps, want, "qk_whole", "attention whole K")
