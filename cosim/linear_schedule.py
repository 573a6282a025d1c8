"""Cycle model of rtl/src/linear.sv (the unified compute unit's RTL engine) without stalls on x_,
b_, acc_, s_ and y_, with the weight stream either unthrottled (one word per cycle) or throttled
like DDR (:class:`Throttle`, the token bucket cosim/test_linear.py drives w_ with). The cocotb
testbench (cosim/test_linear.py) and scripts/linear_cycles.py measure the engine; the measurement
must equal :func:`predicted_cycles` exactly on every such call (tests/test_cosim_linear.py asserts
it).

The model is a cycle-by-cycle replay of the engine's schedule, register by register where it
matters (cycle 0 is the cycle after the ap_start edge):

* loader (rtl/src/linear_loader.sv): per block one setup cycle (waits while its bank is still full),
  then one step per cycle: a SEG-weight segment (when the w_ register slice holds a word; the word
  is popped on its last segment) beside one of LO bias steps; one cycle to see both done, one
  handover cycle that marks the bank full (visible the cycle after); a bank is refilled only once
  the issue consumed its block and released it;
* w_ register slice (rtl/src/axis_skid.sv) fed by the bucket: a word is offered in a cycle when the
  bucket (refilled at the start of the cycle) holds a word's worth, and taken when the slice is
  ready;
* issue (rtl/src/linear_issue.sv): a step per cycle when the block's bank is full and, on block 0,
  its activation entry is in the buffer (entry e is written in cycle X_WRITE + e); the block's last
  step empties the bank (not full from the next cycle) and releases it to the loader LI cycles
  later (the array's last rows still read it);
* output: the call's last step reaches ap_done a fixed OUT_CYCLES later (+ GELU_CYCLES with GELU):
  two issue registers, the array (LI + 3), the FIFO and its slice, six output stages, the y_
  slice, ap_done. The output FIFO holds a credit for every beat in flight, so with an unstalled
  sink it never throttles the issue.
"""
from __future__ import annotations

from dataclasses import dataclass

from python_ref.config import Config

X_WRITE = 3        # entry e of block 0 is readable from cycle X_WRITE + 1 + e after go (x_ slice full: take, 2 stages, write)
W_FIRST = 0        # first cycle the unthrottled weight source offers a word
OUT_CYCLES = 17    # last step fired -> ap_done, beyond LI (issue 2, array LI + 3, FIFO 2, stages 6, slice, done)
GELU_CYCLES = 8    # the GELU unit's latency (rtl/src/gelu.sv)


@dataclass(frozen=True)
class Throttle:
    """The weight stream's token bucket: ``rate`` weights per cycle on average, a word is ``word``
    weights, at most ``burst`` words' worth stored (words back to back at full rate after a pause).
    Empty at the start of each call (cycle 0)."""

    rate: int
    word: int
    burst: int = 8

    def __post_init__(self):
        if self.rate < 1 or self.word < 1 or self.burst < 1:
            raise ValueError(f"throttle: rate {self.rate}, word {self.word}, burst {self.burst} must be >= 1")

    @property
    def cap(self) -> int:
        return max(self.burst, 1) * self.word

    def refill(self, credit: int) -> int:
        return min(self.cap, credit + self.rate)


@dataclass(frozen=True)
class Prediction:
    cycles: int           # ap_start edge -> ap_done edge
    block0_load: int      # cycle in which block 0's bank is full (issue may start)
    pipeline: int         # last step -> ap_done
    load_bound: bool      # a later block waited for its weights


def word_rows(cfg: Config, w_bits: int | None, w_rows: int | None, li: int | None = None,
              lo: int | None = None) -> tuple[int, int]:
    """The w_ word (bits, rows per word): the config's (hardware.weight_word) when neither is given;
    ``w_bits`` equal to the config's word on the config's tile (``li``, ``lo``) keeps its rows; any other
    word or tile is row-major (rows 1), as the RTL's W_ROWS must then be set."""
    hw = cfg.hardware
    bits = w_bits or hw.w_bits
    if w_rows is None:
        same = bits == hw.w_bits and (li or hw.linear_in, lo or hw.linear_out) == (hw.linear_in, hw.linear_out)
        w_rows = hw.weight_word_rows if same else 1
    if w_rows not in (1, 2):
        raise ValueError(f"w_rows {w_rows!r}: must be 1 (row-major words) or 2 (row pairs)")
    return bits, w_rows


def check_unit_rows(cfg: Config, unit: str, w_bits: int, w_rows: int, li: int | None = None,
                    lo: int | None = None) -> None:
    """A bench's unit (its W_BITS / W_ROWS on an LI x LO tile) must pack its w_ words as the schedule
    models assume (:func:`word_rows`); a ValueError names the unit and both values otherwise."""
    want = word_rows(cfg, w_bits, None, li, lo)[1]
    if want != w_rows:
        raise ValueError(f"{unit}: W_ROWS {w_rows} on a {w_bits}-bit word, the schedule models expect {want} "
                         f"(hardware.weight_word)")


def predicted_cycles(cfg: Config, n_out: int, n_in: int, rows: int, gelu: bool, lo: int | None = None,
                     li: int | None = None, w_bits: int | None = None, throttle: Throttle | None = None,
                     w_rows: int | None = None) -> Prediction:
    """One call into the idle engine, ap_start cycle to ap_done cycle: the first call of a
    :class:`Sequence` (one schedule model for isolated and overlapped calls)."""
    lo = lo or cfg.hardware.linear_out
    li = li or cfg.hardware.linear_in
    if min(n_out, n_in, rows, lo, li) < 1:
        raise ValueError(f"predicted_cycles: out {n_out}, in {n_in}, rows {rows}, LO {lo}, LI {li} must be >= 1")
    seq = Sequence(cfg, lo, li, w_bits, throttle, w_rows=w_rows)
    r = seq.add(SeqCall(n_out, n_in, rows, gelu))
    pipeline = OUT_CYCLES + li + (GELU_CYCLES if gelu else 0)
    # Sequence counts from the first call's ap_ready cycle (0), this from its ap_start cycle (-1)
    return Prediction(r.done + 1, r.block0_full, pipeline, seq.load_bound[-1])


# ------------------------------------------------------------------------------------------------
# Overlapped calls (rtl/src/linear.sv's call descriptor queue)

@dataclass(frozen=True)
class SeqCall:
    """One call of a sequence: its shape, and when the host offers it. ``start``: the earliest cycle
    the host raises ap_start with this call's arguments (None: as soon as the previous call's ap_ready
    was seen, plus ``delay`` cycles); ``x_from``: the earliest cycle the host offers the call's x_
    beats, ``x_delay``: at the earliest that many cycles after the call's ap_ready (both unset: from
    its ap_ready on, as cosim/test_linear.py does)."""

    n_out: int
    n_in: int
    rows: int
    gelu: bool = False
    delay: int = 0
    start: int | None = None
    x_from: int | None = None
    x_delay: int = 0


@dataclass(frozen=True)
class SeqResult:
    accept: int           # cycle whose closing edge takes the arguments (ap_start high)
    ready: int            # accept + 1: ap_ready high; the loader's go
    launch: int           # cycle act / issue / out take the call (their go)
    last_step: int        # cycle of the call's last step
    done: int             # cycle with ap_done high (an isolated call: done - accept = predicted_cycles().cycles)
    loader_fin: int       # cycle of the loader's last handover (the next call can be taken after it)
    block0_full: int      # first cycle the call's block 0 is visible as loaded

    @property
    def cycles(self) -> int:
        """ap_start cycle to ap_done cycle, as cosim/test_linear.py counts an isolated call."""
        return self.done - self.accept


class Sequence:
    """Cycle model of a sequence of calls through rtl/src/linear.sv with its two-entry call queue,
    without stalls on x_ (once offered), b_, acc_, s_, y_; the weight stream unthrottled, a
    :class:`Throttle` bucket that starts empty at each call's ap_ready cycle, or (``fifo``) the output
    of the weight prefetch FIFO (cosim.weight_fifo_schedule.WeightFifo, rtl/src/weight_fifo.sv): one
    stream for the whole sequence, so the w_ register slice takes up to two words of the next call
    before that call starts; the model carries the slice's state from one call's last loader
    hand-over to the next call and asks the FIFO model, cycle by cycle, whether the next word is offered.

    Cycle numbers are absolute: cycle 0 is the first call's ap_ready (= its go) cycle, so an isolated
    first call has ``done + 1 == predicted_cycles(...).cycles``. The control (linear.sv) in cycle terms:

    * call i is taken at the end of cycle A = max(host's ap_start cycle, previous loader_fin + 1,
      previous launch) (lbusy and pend are registers); ready = A + 1 is the loader's go cycle;
    * launch (go of act / issue / out) = max(A + 1, previous done): at once when the compute side is
      idle, else in the cycle ap_done of the previous call is high (its done edge launches); ap_done
      is high LI + 16 (+ 8 with GELU) cycles after the last step (OUT_CYCLES counts to the cycle after);
    * the loader loads block 0 into the bank the previous call does not use last, waits for each bank
      to be released (LI cycles after the block's last step) and, while the call waits (pend) and the
      issue still runs the previous call (its active flag, one cycle past the last step), holds its
      handover;
    * the issue runs as in :func:`predicted_cycles` from the launch: active from launch + 1, block 0's
      entry e written in cycle launch + X_WRITE + e (or x_at + 1 + X_WRITE + e when the host queues
      the x_ beats at x_at, after the launch), done = last step + the output pipeline.
    """

    def __init__(self, cfg: Config, lo: int | None = None, li: int | None = None, w_bits: int | None = None,
                 throttle: Throttle | None = None, fifo=None, w_rows: int | None = None):
        if fifo is not None and throttle is not None:
            raise ValueError("Sequence: the weight stream is either a per-call Throttle or a prefetch WeightFifo, not both")
        self.cfg, self.throttle, self.fifo = cfg, throttle, fifo
        self.lo = lo or cfg.hardware.linear_out
        self.li = li or cfg.hardware.linear_in
        bits, self.w_rows = word_rows(cfg, w_bits, w_rows, self.li, self.lo)
        self.e = bits // cfg.fmt("weight").width
        if min(self.lo, self.li, self.e) < 1:
            raise ValueError(f"Sequence: LO {self.lo}, LI {self.li}, weights per word {self.e} must be >= 1")
        if self.w_rows == 2 and (self.e != 2 * self.li or self.lo % 2):
            raise ValueError(f"Sequence: a two-row w_ word needs 2 LI = {2 * self.li} weights per word and an even "
                             f"LO, got {self.e} and LO {self.lo}")
        self.results: list[SeqResult] = []
        self.load_bound: list[bool] = []          # per call: a later block waited for its weights
        self.free_from = [-(10 ** 9), -(10 ** 9)]   # first cycle each bank is neither full nor held
        self.lbank = 0                            # bank of the next block (loader and issue agree)
        self._last_pipeline = 0
        # with a prefetch FIFO the w_ slice keeps taking words across calls: its state after the last
        # call's loader finished (m slot, skid slot), and the first cycle not yet simulated for it
        self._slice = (False, False)
        self._slice_from: int | None = None

    def accept_of(self, call: SeqCall) -> int:
        """The cycle whose closing edge would take ``call`` next: it depends on the host's offer and
        the calls before, not on the call's shape or its x_ (a host that starts x_ from the call's
        ap_ready asks this before adding it)."""
        prev = self.results[-1] if self.results else None
        if prev is None:
            return max(-1 if call.start is None else call.start + call.delay - 1, -1)
        host = prev.ready + call.delay
        if call.start is not None:
            host = max(host, call.start)
        return max(host, prev.loader_fin + 1, prev.launch)

    def add(self, call: SeqCall) -> SeqResult:
        n_out, n_in, rows = call.n_out, call.n_in, call.rows
        lo, li, e, th = self.lo, self.li, self.e, self.throttle
        if min(n_out, n_in, rows) < 1:
            raise ValueError(f"Sequence.add: out {n_out}, in {n_in}, rows {rows} must be >= 1")
        prev = self.results[-1] if self.results else None
        a = self.accept_of(call)
        ready = a + 1
        launch = ready if prev is None else max(ready, prev.done)
        pend = launch > ready
        hold_until = prev.last_step + 2 if (prev is not None and pend) else ready  # first cycle without hold
        # the host queues x_ at the start of cycle x_at; its first beat is offered the cycle after
        # (cocotbext-axi's source), so with the slice still empty at launch the first take is one later
        x_at = max(ready + call.x_delay, call.x_from if call.x_from is not None else ready)
        x0 = max(launch, x_at + 1) + X_WRITE
        # The call's schedule depends only on these inputs relative to its ready cycle (a time before
        # ready acts as ready): memoized, exact.
        lb = self.lbank
        key = (n_out, n_in, rows, call.gelu, lo, li, e, self.w_rows, th, launch - ready, max(hold_until, ready) - ready, x0 - ready,
               max(self.free_from[lb], ready) - ready, max(self.free_from[1 - lb], ready) - ready)
        hit = None if self.fifo is not None else _SEQ_MEMO.get(key)
        if hit is None:
            *times, load_bound = self._simulate(call, ready, launch, hold_until, x0)
            hit = (tuple(v - ready for v in times), load_bound)
            if self.fifo is None:     # with a FIFO the schedule depends on the whole stream's history
                _SEQ_MEMO[key] = hit
        t_last, fin, block0_full, ff_b, ff_a = (v + ready for v in hit[0])
        self.load_bound.append(hit[1])
        n_ob = -(-n_out // lo)
        self.free_from = [0, 0]
        self.free_from[lb], self.free_from[1 - lb] = ff_b, ff_a
        self.lbank = lb ^ (n_ob & 1)
        pipeline = OUT_CYCLES + li + (GELU_CYCLES if call.gelu else 0)
        res = SeqResult(a, ready, launch, t_last, t_last + pipeline - 1, fin, block0_full)
        self.results.append(res)
        return res

    def _simulate(self, call: SeqCall, ready: int, launch: int, hold_until: int, x0: int) -> tuple:
        """The call's cycle-by-cycle replay: (last step, loader fin, block 0 full, first free cycle of
        the call's block-0 bank, of the other bank, whether a later block waited for its weights)."""
        n_out, n_in, rows = call.n_out, call.n_in, call.rows
        lo, li, e, th = self.lo, self.li, self.e, self.throttle

        n_ib, n_ob = -(-n_in // li), -(-n_out // lo)
        if self.w_rows == 2:   # a step (and a word) is one LI-segment of two rows
            qw = 1
            steps_per_block = [-(-min(lo, n_out - b * lo) // 2) * n_ib for b in range(n_ob)]
        else:
            seg = min(e, li)
            qw = e // seg
            words = -(-n_in // e)
            steps_per_block = [min(lo, n_out - b * lo) * words * qw for b in range(n_ob)]
        n_x = rows * n_ib
        steps_in_block = n_x

        fifo = self.fifo
        credit, offered_left = 0, sum(steps_per_block) // qw
        m_valid = skid_valid = False
        c = ready
        if fifo is not None:   # the slice as the previous call's loader left it, simulated from then on
            m_valid, skid_valid = self._slice
            if self._slice_from is None:
                self._slice_from = fifo.start
            c = min(ready, self._slice_from)
        l_state, l_block = "IDLE", 0
        l_bank = self.lbank
        w_left = b_left = 0
        lq = 0
        wdone = bdone = False
        free_from = list(self.free_from)
        full = [False, False]
        held = [False, False]
        c_bank, c_block, c_step, x_issued = self.lbank, 0, 0, 0
        active = False
        release_at: dict[int, int] = {}
        block0_full = t_last = fin = None
        load_bound = False
        rate = fifo.rate if fifo is not None else th.rate if th else e
        word = fifo.word if fifo is not None else e
        limit = ready + 50 * (n_x * n_ob + offered_left * (word // rate + 2) + 1000) \
            + max(0, launch - ready) + max(0, x0 - launch) + (10 ** 8 if fifo is not None else 0)
        while t_last is None:
            # no word can enter the w_ slice any more: this call's words all taken (per-call stream) or,
            # with the FIFO, this call's loader done (the slice then belongs to the next call's model)
            src_done = offered_left == 0 if fifo is None else fin is not None
            if c > limit:
                raise RuntimeError("Sequence: the modelled schedule does not finish (model bug)")
            if c == launch + 1:
                active = True
            # ---- skip cycles in which nothing but the bucket moves (loader waiting, issue not yet active)
            if not active and c < launch + 1 and (skid_valid and m_valid or src_done):  # noqa: SIM114
                blocked = ((l_state == "BSETUP" and (full[l_bank] or held[l_bank] or c < free_from[l_bank]))
                           or (l_state == "HANDOVER" and c < hold_until) or (l_state == "IDLE" and c != ready))
                if blocked and not release_at:
                    nxt = launch + 1
                    if l_state == "IDLE" and c < ready:
                        nxt = min(nxt, ready)
                    if l_state == "BSETUP" and not (full[l_bank] or held[l_bank]):
                        nxt = min(nxt, free_from[l_bank])
                    if l_state == "HANDOVER":
                        nxt = min(nxt, hold_until)
                    k = nxt - c
                    if k > 1:
                        if th:
                            credit = min(th.cap, credit + k * th.rate)
                        c = nxt
                        continue
            # ---- skip steady steps: the issue fires every cycle inside a block while the loader waits and
            # the weight source can only refill its bucket (stop before the block's last step and any
            # release, bank-free or hold time: those change the state)
            elif active and full[c_bank] and (skid_valid and m_valid or src_done) and \
                    (c_block > 0 or max(0, min(n_x, c - x0)) > x_issued):
                stop = c + steps_in_block - c_step - 1
                if release_at:
                    stop = min(stop, min(release_at))
                if l_state == "BSETUP" and not (full[l_bank] or held[l_bank]):
                    stop = min(stop, max(c, free_from[l_bank]))
                if l_state == "HANDOVER":
                    stop = min(stop, max(c, hold_until))
                if l_state == "LOAD" or (l_state == "IDLE" and c == ready):
                    stop = c
                k = stop - c
                if k > 1:
                    c_step += k
                    if c_block == 0:
                        x_issued += k
                    if th:
                        credit = min(th.cap, credit + k * th.rate)
                    c = stop
                    continue
            w_v = m_valid
            if fifo is not None:
                offer = not src_done and fifo.valid(c)
            elif th:
                credit = th.refill(credit)
                offer = offered_left > 0 and credit >= th.word
            else:
                offer = offered_left > 0 and c >= ready + W_FIRST
            s_ready = not skid_valid
            # ---- loader
            w_step = l_state == "LOAD" and not wdone and w_v
            q_last = lq == qw - 1
            m_ready = l_state == "LOAD" and not wdone and q_last
            nxt_state = l_state
            nxt_wdone, nxt_bdone, nxt_lq = wdone, bdone, lq
            set_full = None
            if l_state == "IDLE":
                if c == ready:
                    nxt_state = "BSETUP"
            elif l_state == "BSETUP":
                if not full[l_bank] and not held[l_bank] and c >= free_from[l_bank]:
                    nxt_state = "LOAD"
                    w_left, b_left = steps_per_block[l_block], lo
                    nxt_wdone = nxt_bdone = False
                    nxt_lq = 0
            elif l_state == "LOAD":
                if bdone and wdone:
                    nxt_state = "HANDOVER"
                if w_step:
                    w_left -= 1
                    nxt_lq = 0 if q_last else lq + 1
                    if w_left == 0:
                        nxt_wdone = True
                if not bdone:
                    b_left -= 1
                    if b_left == 0:
                        nxt_bdone = True
            elif l_state == "HANDOVER":
                if c >= hold_until:
                    set_full = l_bank
                    l_block += 1
                    if l_block < n_ob:
                        nxt_state = "BSETUP"
                    else:
                        nxt_state = "IDLE"
                        fin = c
            # ---- issue
            x_written = max(0, min(n_x, c - x0))
            x_ok = c_block > 0 or x_written > x_issued
            fire = active and full[c_bank] and x_ok
            if active and c_block > 0 and c_step == 0 and not full[c_bank]:
                load_bound = True
            consumed = None
            if fire:
                if c_block == 0:
                    x_issued += 1
                c_step += 1
                if c_step == steps_in_block:
                    release_at[c + li] = c_bank
                    consumed = c_bank
                    c_step = 0
                    c_bank ^= 1
                    c_block += 1
                    if c_block == n_ob:
                        t_last = c
            # ---- edge at the end of cycle c
            in_hs = offer and s_ready
            out_free = (not m_valid) or m_ready
            if out_free:
                if skid_valid:
                    m_valid, skid_valid = True, False
                else:
                    m_valid = in_hs
            elif in_hs:
                skid_valid = True
            if in_hs:
                offered_left -= 1
                if fifo is not None:
                    fifo.pop(c)
                elif th:
                    credit -= th.word
            rel = release_at.pop(c, None)
            if rel is not None:
                held[rel] = False
                free_from[rel] = c + 1
            if consumed is not None:
                full[consumed], held[consumed] = False, True
            if set_full is not None:
                full[set_full] = True
                l_bank ^= 1
                if block0_full is None:
                    block0_full = c + 1
            l_state, wdone, bdone, lq = nxt_state, nxt_wdone, nxt_bdone, nxt_lq
            if fifo is not None and fin == c:
                self._slice, self._slice_from = (m_valid, skid_valid), c + 1
            c += 1
        for cyc, bank in release_at.items():   # releases after the last step (the last LI cycles)
            free_from[bank] = cyc + 1
        return t_last, fin, block0_full, free_from[self.lbank], free_from[1 - self.lbank], load_bound


_SEQ_MEMO: dict = {}


def predicted_sequence(cfg: Config, calls, lo: int | None = None, li: int | None = None, w_bits: int | None = None,
                       throttle: Throttle | None = None, w_rows: int | None = None) -> list[SeqResult]:
    """:class:`Sequence` over ``calls`` (SeqCall or (out, in, rows, gelu) tuples)."""
    s = Sequence(cfg, lo, li, w_bits, throttle, w_rows=w_rows)
    for call in calls:
        s.add(call if isinstance(call, SeqCall) else SeqCall(*call))
    return s.results
