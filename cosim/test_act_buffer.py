"""cocotb testbench of rtl/src/act_buffer.sv (an activation buffer between calls) against
python_ref.kernels.act_buffer (ActBuffer: the accesses applied one after another in command order).

Every read beat is compared with the model bit for bit, with TLAST on each read command's last beat
only; at the end the unit must be idle, err low, and every read beat delivered. Stimulus: the cmd_
words (random gaps), the write beats and the rd_ sink's TREADY are driven at the falling edge and the
handshakes sampled at the rising edge, a cycle at a time.

Legal write timing (python_ref.kernels.act_buffer, "Order of effects"): a write must not overtake a
read commanded before it. The bench offers a write's beats either only once every read commanded
before it has been received in full ("after"), or, for a write paired with the read right before it
(same rows, order and beats: the residual's acc_ read and the accumulate call's y_ write), beat i once
the read's beat i has been received ("paired"). The RTL's own write-after-read check ($error in
simulation) watches the rest.

Tests:
* ``test_random``: random accesses (identity rows or lists, both orders, n_beats <= NB, paired and
  after writes, reads that repeat rows), random gaps on cmd_ and wr_, random TREADY.
* ``test_frame``: the residual's accesses in a transformer block's order (block-major writes of the
  patch embedding, row-major LayerNorm reads, paired acc_ / y_ accumulates, a scattered MoE fc2 with a
  row list) and the hidden buffer's MoE layout (two parts of each row written and read on their own)
  with no stalls, and the cycle claims, exact: a read command's beats one a cycle, back to
  back across commands; the writes of consecutive commands one a cycle, no bubble between them;
  READ_LATENCY from a read command's handshake to its first beat on an idle unit (a command's beats
  follow the previous command's without a bubble when its word, and its list words, came at least 2
  cycles before that command's last beat: rtl/src/act_buffer.sv's dispatch); FENCE_LATENCY from
  the last write beat's handshake to the first beat of the read commanded after it.
* ``test_errors``: each malformed word sets err (the words before it run), cmd_ then stops.

Run parameter corrupt: one wrong expected beat (the comparison must report exactly one mismatch).
"""
from __future__ import annotations

import random

import numpy as np

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge

from cosim.frame_schedule import ACT_BUFFER_FENCE, ACT_BUFFER_READ_LATENCY
from cosim.tb import ResultWriter, RunParams, clock_and_reset
from python_ref.kernels.act_buffer import Access, ActBuffer, ActBufferError, BufferShape, command_words, decode_words

TEST_TIMEOUT_MS = 200
# The schedule (rtl/src/act_buffer.sv), kept where the frame model reads it (cosim.frame_schedule): a
# command word handshake in cycle t is held at the end of t, dispatched at the end of t + 1, launched at
# the end of t + 2; its first beat issues in t + 3, has its row at the end of t + 3, its address at
# t + 4, the memory's two registers at t + 5 and t + 6, the FIFO's write at t + 7 and its output slice
# at t + 9 (READ_LATENCY). The last write beat taken in cycle t lands at the end of t + 2 (S1, S2,
# write); wr_done counts it then, the read pending behind the fence launches at the end of t + 3,
# issues in t + 4, and its first beat follows 6 cycles after its issue as above (FENCE_LATENCY).
READ_LATENCY = ACT_BUFFER_READ_LATENCY
FENCE_LATENCY = ACT_BUFFER_FENCE


class Port:
    """The signals of one buffer: act_buffer's own names, or act_buffers' with the buffer's prefix."""

    def __init__(self, dut, prefix: str):
        self._dut, self._prefix = dut, prefix

    def __getattr__(self, name):
        return getattr(self._dut, self._prefix + name)


PORT_INPUTS = ("cmd_TDATA", "cmd_TVALID", "cmd_TLAST", "wr_TDATA", "wr_TVALID", "wr_TLAST", "rd_TREADY")


def buffers_of(dut, cfg) -> list[tuple[str, BufferShape]]:
    """(prefix, shape) of each buffer of the DUT: act_buffer's from its parameters; act_buffers' x_, h_
    and g_ at python_ref's shapes (BufferShape.frame), which its own parameters must equal."""
    def params_of(unit) -> BufferShape:
        return BufferShape(int(unit.L.value), int(unit.VALUES.value), int(unit.ROWS.value), bool(int(unit.NARROW.value)))
    if hasattr(dut, "x_cmd_TDATA"):
        bufs = list(BufferShape.frame(cfg).items())
        for prefix, want in bufs:
            got = params_of(getattr(dut, f"u_{prefix[0]}"))
            assert got == want, f"act_buffers' {prefix} buffer is {got}, python_ref's shape {want}"
        return bufs
    return [("", params_of(dut))]


async def start(dut, cfg):
    """Clock, every input idle, reset."""
    await clock_and_reset(dut, {p + n: 0 for p, _s in buffers_of(dut, cfg) for n in PORT_INPUTS})


class ActBufferTB:
    """One buffer of the DUT: its three streams (driven at the falling edge, sampled at the rising
    edge), its reset and the model. The clock is started once per test by :func:`start`."""

    def __init__(self, dut, params: RunParams, rng: random.Random, res: ResultWriter, prefix: str, shape: BufferShape):
        self.dut, self.params, self.rng, self.res = dut, params, rng, res
        self.port = Port(dut, prefix)
        self.cfg = params.cfg()
        self.shape = shape
        self.model = ActBuffer(self.shape, self.cfg)
        self.lane_mask = (1 << 32) - 1
        self.cycle = 0

    async def reset(self):
        """Hold reset for 3 edges (every buffer of the DUT); this port's inputs idle; the model empty."""
        for name in PORT_INPUTS:
            getattr(self.port, name).value = 0
        self.dut.rst_n.value = 0
        for _ in range(3):
            await RisingEdge(self.dut.clk)
        await FallingEdge(self.dut.clk)
        self.dut.rst_n.value = 1
        self.model = ActBuffer(self.shape, self.cfg)

    def pack(self, beat) -> int:
        return sum((int(v) & self.lane_mask) << (32 * i) for i, v in enumerate(beat))

    def unpack(self, word: int) -> list[int]:
        out = []
        for i in range(self.shape.lanes):
            v = (word >> (32 * i)) & self.lane_mask
            out.append(v - (1 << 32) if v >> 31 else v)
        return out

    def random_beats(self, n: int) -> np.ndarray:
        """Raw act values: full-range words, small values, the operand's rounding halves and saturation edges."""
        lanes = self.shape.lanes
        kind = self.rng.random()
        g = np.random.default_rng(self.rng.getrandbits(32))
        if kind < 0.4:
            return g.integers(-(1 << 31), 1 << 31, size=(n, lanes), dtype=np.int64)
        if kind < 0.7:
            return g.integers(-(1 << 12), 1 << 12, size=(n, lanes), dtype=np.int64)
        # near the operand's rounding half (act frac 22, operand frac 18: steps of 16) and its range
        base = g.integers(-(1 << 26), 1 << 26, size=(n, lanes), dtype=np.int64) * 16
        edge = g.choice(np.array([7, 8, 9, -8, (1 << 30) - 1, -(1 << 30), (1 << 31) - 1, -(1 << 31)], dtype=np.int64),
                        size=(n, lanes))
        return np.where(g.random((n, lanes)) < 0.5, base + 8, edge)

    async def run(self, steps: list, p_cmd_gap: float, p_wr_gap: float, p_rd_pause: float,
                  corrupt_at: int | None = None) -> dict:
        """Drive ``steps`` ((access, kind) with kind None for reads, "after" / "paired" for writes, the
        write's beats in the access) to the end; returns the cycle records. Compares every read beat."""
        dut, port, rng = self.dut, self.port, self.rng
        words, reads, writes = [], [], []          # reads: [(access, expected beats)], writes: [(beats, gate)]
        n_reads_before = 0
        for acc, kind, beats in steps:
            words += command_words(acc, self.shape)
            if acc.read:
                exp = self.model.read(acc)
                reads.append(exp)
                n_reads_before += len(exp)
            else:
                # the gate of beat i: the number of read beats that must have been received first
                if kind == "paired":
                    first = n_reads_before - len(reads[-1])
                    gates = [first + i + 1 for i in range(len(beats))]
                else:
                    gates = [n_reads_before] * len(beats)
                writes += list(zip(beats, gates))
                self.model.write(acc, beats)
        expected = [(b, i == len(r) - 1) for r in reads for i, b in enumerate(r)]
        rec = {"cmd_cycles": [], "wr_cycles": [], "rd_cycles": [], "mismatches": 0, "first_mismatch": None}
        wi = ri = ci = 0
        # a beat or word every 20 cycles at worst with these stall probabilities: past that, a deadlock
        max_cycles = self.cycle + 20 * (len(words) + len(writes) + len(expected)) + 1000
        while ri < len(expected) or wi < len(writes) or ci < len(words):
            if self.cycle > max_cycles:
                raise AssertionError(f"no progress: {ci}/{len(words)} command words, {wi}/{len(writes)} write beats, "
                                     f"{ri}/{len(expected)} read beats after {self.cycle} cycles")
            cmd_v = ci < len(words) and rng.random() >= p_cmd_gap
            wr_v = wi < len(writes) and writes[wi][1] <= ri and rng.random() >= p_wr_gap
            rd_r = rng.random() >= p_rd_pause
            port.cmd_TVALID.value = int(cmd_v)
            port.cmd_TDATA.value = words[ci] if cmd_v else rng.getrandbits(64)
            port.wr_TVALID.value = int(wr_v)
            port.wr_TDATA.value = self.pack(writes[wi][0]) if wr_v else rng.getrandbits(32 * self.shape.lanes)
            port.rd_TREADY.value = int(rd_r)
            await RisingEdge(dut.clk)
            if cmd_v and int(port.cmd_TREADY.value):
                rec["cmd_cycles"].append(self.cycle)
                ci += 1
            if wr_v and int(port.wr_TREADY.value):
                rec["wr_cycles"].append(self.cycle)
                wi += 1
            if rd_r and int(port.rd_TVALID.value):
                if ri >= len(expected):
                    raise AssertionError(f"cycle {self.cycle}: a read beat past the {len(expected)} commanded")
                want, last = expected[ri]
                want = list(int(v) for v in want)
                if ri == corrupt_at:
                    want[0] ^= 1
                got, got_last = self.unpack(int(port.rd_TDATA.value)), int(port.rd_TLAST.value)
                if got != want or got_last != int(last):
                    rec["mismatches"] += 1
                    if rec["first_mismatch"] is None:
                        bad = next((i for i in range(len(got)) if got[i] != want[i]), None)
                        rec["first_mismatch"] = (f"read beat {ri} (cycle {self.cycle}): TLAST {got_last}, want {int(last)}"
                                                 + (f"; lane {bad}: {got[bad]:#x}, want {want[bad]:#x}" if bad is not None else ""))
                rec["rd_cycles"].append(self.cycle)
                ri += 1
            self.cycle += 1
            await FallingEdge(dut.clk)
            if int(port.err.value):
                raise AssertionError(f"cycle {self.cycle}: err set by a valid command stream")
        port.cmd_TVALID.value = port.wr_TVALID.value = 0
        port.rd_TREADY.value = 1
        for _ in range(12):                          # nothing else may come out; the unit must go idle
            await RisingEdge(dut.clk)
            if int(port.rd_TVALID.value):
                raise AssertionError(f"cycle {self.cycle}: a read beat past the {len(expected)} commanded")
            self.cycle += 1
            await FallingEdge(dut.clk)
        assert int(port.idle.value), "the unit is not idle after the last read beat"
        self.res.add("beats_read", len(expected))
        self.res.add("values_read", len(expected) * self.shape.lanes)
        self.res.add("beats_written", len(writes))
        self.res.add("mismatches", rec["mismatches"])
        if rec["first_mismatch"] and not self.res.data.get("first_mismatch"):
            self.res.update(first_mismatch=rec["first_mismatch"])
        return rec


def random_access(rng: random.Random, shape: BufferShape, read: bool) -> Access:
    first = 0 if rng.random() < 0.6 else rng.randrange(shape.nb)
    nbt = shape.nb - first if rng.random() < 0.6 else rng.randint(1, shape.nb - first)
    n = rng.randint(1, shape.rows) if rng.random() < 0.7 else shape.rows
    listed = rng.random() < 0.5
    if listed:
        if read and rng.random() < 0.3:
            rows = tuple(rng.randrange(shape.rows) for _ in range(n))        # repeats allowed in a read
        else:
            rows = tuple(rng.sample(range(shape.rows), n))
    else:
        base = rng.randint(0, shape.rows - n)
        rows = tuple(range(base, base + n))
    odd = not read and shape.narrow and rng.random() < 0.5     # a narrow buffer's round-to-odd write
    return Access(read, rows, rng.random() < 0.5, listed, nbt, first, odd)


async def random_case(tb: ActBufferTB):
    """Random accesses with gaps on cmd_ and wr_ and random TREADY."""
    params, rng, res, shape = tb.params, tb.rng, tb.res, tb.shape
    await tb.reset()
    steps = []
    # fill the whole buffer first, so that reads of unwritten entries never depend on reset contents
    full = Access(False, tuple(range(shape.rows)), True)
    steps.append((full, "after", tb.random_beats(len(full.order(shape)))))
    beats = 0
    while beats < params.n_random:
        if rng.random() < 0.35:                      # an accumulate: read, then the paired write
            r = random_access(rng, shape, True)
            if len(set(r.rows)) != len(r.rows):
                r = Access(True, tuple(dict.fromkeys(r.rows)), r.block_major, True, r.n_beats, r.first)
            w = Access(False, r.rows, r.block_major, r.listed, r.n_beats, r.first, shape.narrow and rng.random() < 0.5)
            steps += [(r, None, None), (w, "paired", tb.random_beats(len(w.order(shape))))]
        elif rng.random() < 0.5:
            steps.append((random_access(rng, shape, True), None, None))
        else:
            w = random_access(rng, shape, False)
            steps.append((w, "after", tb.random_beats(len(w.order(shape)))))
        beats += len(steps[-1][0].order(shape))
    n_read = sum(len(a.order(shape)) for a, _k, _b in steps if a.read)
    corrupt_at = n_read // 2 if params.corrupt else None
    await tb.run(steps, 0.2, 0.2, 0.25, corrupt_at=corrupt_at)
    res.add("accesses", len(steps))
    res.add("odd_beats", sum(len(a.order(shape)) for a, _k, _b in steps if a.odd))


def runs(cycles: list[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive cycles as (first, last)."""
    out = []
    for c in cycles:
        if out and c == out[-1][1] + 1:
            out[-1] = (out[-1][0], c)
        else:
            out.append((c, c))
    return out


async def frame_case(tb: ActBufferTB):
    """The frame's accesses, no stalls, and the cycle claims."""
    rng, res, shape = tb.rng, tb.res, tb.shape
    await tb.reset()
    T = shape.rows
    allr = tuple(range(T))

    def beats(acc):
        return tb.random_beats(len(acc.order(shape)))

    # 1. two block-major writes back to back (rows 0, 1, then the rest: the embedding's y_ order in two
    # calls). A command is pending two cycles after its word, so one of at least 2 beats ahead of it
    # leaves no bubble (of 1 beat: one bubble).
    w_cls, w_patch = Access(False, allr[:2], True), Access(False, allr[2:], True)
    rec = await tb.run([(w_cls, "after", beats(w_cls)), (w_patch, "after", beats(w_patch))], 0, 0, 0)
    n_w = len(w_cls.order(shape)) + len(w_patch.order(shape))
    assert runs(rec["wr_cycles"]) == [(rec["wr_cycles"][0], rec["wr_cycles"][0] + n_w - 1)], \
        f"consecutive write commands: handshakes in runs {runs(rec['wr_cycles'])[:4]}..., not one run of {n_w}"
    res.update(write_run=n_w)

    # 2. on an idle unit: a read command's first beat READ_LATENCY cycles after its handshake; two reads
    # back to back (LayerNorm's rows, row-major) one beat a cycle throughout
    # (r2 without a list: a list's n words load behind its command word, which a 1-beat row cannot hide)
    r1, r2 = Access(True, allr), Access(True, allr, True)
    rec = await tb.run([(r1, None, None), (r2, None, None)], 0, 0, 0)
    lat = rec["rd_cycles"][0] - rec["cmd_cycles"][0]
    n_r = len(r1.order(shape)) + len(r2.order(shape))
    res.update(read_latency=lat, read_run=n_r)
    assert lat == READ_LATENCY, f"read latency {lat} cycles, the schedule says {READ_LATENCY}"
    assert runs(rec["rd_cycles"]) == [(rec["rd_cycles"][0], rec["rd_cycles"][0] + n_r - 1)], \
        f"two read commands: beats in runs {runs(rec['rd_cycles'])[:4]}..., not one run of {n_r}"

    # 3. accumulates (acc_ read, y_ write paired), then LayerNorm's read of the result behind the fence
    acc_r, acc_w = Access(True, allr, True), Access(False, allr, True)
    ln = Access(True, allr)
    rec = await tb.run([(acc_r, None, None), (acc_w, "paired", beats(acc_w)), (ln, None, None)], 0, 0, 0)
    n_acc = len(acc_r.order(shape))
    fence = rec["rd_cycles"][n_acc] - rec["wr_cycles"][-1]
    res.update(fence_latency=fence)
    assert fence == FENCE_LATENCY, f"fence: first read beat {fence} cycles after the last write, the schedule says {FENCE_LATENCY}"

    # 4. a MoE fc2: scatter-accumulate onto a list of rows (read and write listed), then the rows again
    sub = tuple(rng.sample(allr, max(1, T // 3)))
    m_r, m_w = Access(True, sub, True, True), Access(False, sub, True, True)
    await tb.run([(m_r, None, None), (m_w, "paired", beats(m_w)), (Access(True, allr), None, None)], 0, 0, 0)

    # 5. two buffers side by side in one memory (the hidden buffer of a MoE layer: LN2(x) in the first
    # beats of every row, an expert's hidden rows in the beats after): written block-major, each part
    # read row-major on its own (an expert's fc1 gathering LN2(x) rows, its fc2 reading the hidden rows)
    if shape.nb > 1:
        cut = max(1, shape.nb // 4)
        ln2 = Access(False, allr, True, False, cut, 0)
        hid = Access(False, sub, True, True, shape.nb - cut, cut)
        await tb.run([(ln2, "after", beats(ln2)), (hid, "after", beats(hid)),
                      (Access(True, tuple(reversed(sub)), False, True, cut, 0), None, None),
                      (Access(True, sub, False, True, shape.nb - cut, cut), None, None)], 0, 0, 0)


async def error_case(tb: ActBufferTB):
    """Each malformed word on a fresh unit: the valid read before it runs to its end, err rises, cmd_ stops."""
    dut, port, res, shape = tb.dut, tb.port, tb.res, tb.shape
    R, NB = shape.rows, shape.nb
    rd = 1 << 63
    bad_words = {
        "n = 0": [rd],
        "n > rows": [rd | (R + 1)],
        "beats past the row": [rd | min(NB - 1, 63) << 48 | 1 << 40 | 1] if NB < 64 else None,
        "n_beats > NB": [rd | min(NB, 63) << 40 | 1] if NB < 64 else None,
        "base + n > rows": [rd | R << 16 | 1],
        "a reserved bit": [rd | 1 << 30 | 1],
        "listed with a base": [rd | 1 << 61 | 1 << 16 | 1],
        "list row >= rows": [rd | 1 << 61 | 1, R],
        "list word high bits": [rd | 1 << 61 | 1, 1 << 40],
        "round to odd on a read": [rd | 1 << 60 | 1],
        "round to odd on a wide buffer": None if shape.narrow else [1 << 60 | 1],
    }
    checked = []
    for name, bad in bad_words.items():
        if bad is None:
            continue
        with_words = command_words(Access(True, (0,)), shape) + bad + command_words(Access(True, (0,)), shape)
        # the spec agrees that the stream is malformed
        try:
            decode_words(with_words, shape)
            raise AssertionError(f"{name}: python_ref accepts {bad}")
        except ActBufferError:
            pass
        await tb.reset()
        taken, delivered = 0, 0
        for cyc in range(60):
            port.cmd_TVALID.value = int(taken < len(with_words))
            port.cmd_TDATA.value = with_words[taken] if taken < len(with_words) else 0
            port.rd_TREADY.value = 1
            await RisingEdge(dut.clk)
            if taken < len(with_words) and int(port.cmd_TREADY.value):
                taken += 1
            delivered += int(port.rd_TVALID.value)
            await FallingEdge(dut.clk)
        assert int(port.err.value) == 1, f"{name}: err is low"
        # a bad list word is checked a cycle after it is taken: one more word (the next read's) goes in
        extra = 1 if name in ("list row >= rows", "list word high bits") else 0
        assert taken == 1 + len(bad) + extra, \
            f"{name}: {taken} words taken, want the read, the {len(bad)} bad ones and {extra} more"
        assert delivered == NB, f"{name}: the read before the bad word delivered {delivered} beats, want {NB}"
        checked.append(name)
    port.cmd_TVALID.value = 0
    res.update(errors_checked=checked)


async def each_buffer(dut, case, seed_offset: int):
    """Run ``case`` on every buffer of the DUT (act_buffer: one; act_buffers: x_, h_, g_ in turn)."""
    params = RunParams.from_env()
    cfg = params.cfg()
    res = ResultWriter(kernel=dut._name, config=cfg.name, mismatches=0, first_mismatch=None)
    bufs = buffers_of(dut, cfg)
    res.update(buffers={p or "-": [s.lanes, s.values, s.rows, s.narrow, s.nb] for p, s in bufs})
    await start(dut, cfg)
    for i, (prefix, shape) in enumerate(bufs):
        rng = random.Random(params.seed + seed_offset + 100 * i)
        await case(ActBufferTB(dut, params, rng, res, prefix, shape))
    assert res.data["mismatches"] == 0, res.data["first_mismatch"]


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random(dut):
    await each_buffer(dut, random_case, 0)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_frame(dut):
    await each_buffer(dut, frame_case, 1)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_errors(dut):
    await each_buffer(dut, error_case, 2)
