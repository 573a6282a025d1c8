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

X_WRITE = 2        # cycle of the first activation buffer write (entry e: X_WRITE + e): x_ slice, take, 2 stages
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


def predicted_cycles(cfg: Config, n_out: int, n_in: int, rows: int, gelu: bool, lo: int | None = None,
                     li: int | None = None, w_bits: int | None = None, throttle: Throttle | None = None) -> Prediction:
    lo = lo or cfg.hardware.linear_out
    li = li or cfg.hardware.linear_in
    if min(n_out, n_in, rows, lo, li) < 1:
        raise ValueError(f"predicted_cycles: out {n_out}, in {n_in}, rows {rows}, LO {lo}, LI {li} must be >= 1")
    e = (w_bits or cfg.hardware.axi_width) // cfg.fmt("weight").width
    seg = min(e, li)
    qw = e // seg
    words = -(-n_in // e)
    n_ib, n_ob = -(-n_in // li), -(-n_out // lo)
    words_total = n_out * words
    steps_per_block = [min(lo, n_out - b * lo) * words * qw for b in range(n_ob)]

    # weight source + w_ register slice
    credit, offered_left = 0, words_total
    m_valid = skid_valid = False
    # loader
    l_state, l_bank, l_block = "IDLE", 0, 0
    w_left = b_left = 0
    lq = 0
    wdone = bdone = False
    full = [False, False]    # loaded, not yet issued (the issue side waits for it)
    held = [False, False]    # issued, not yet released (the loader waits for it)
    # issue
    active, c_bank, c_block = True, 0, 0
    steps_in_block = rows * n_ib
    c_step = 0
    x_issued = 0
    release_at: dict[int, int] = {}   # cycle -> bank released at the end of it
    block0_full = None
    load_bound = False
    c = 0
    t_last = None
    limit = 50 * (rows * n_ib * n_ob + words_total * (e // (throttle.rate if throttle else e) + 2) + 1000)
    while t_last is None:
        if c > limit:
            raise RuntimeError("predicted_cycles: the modelled schedule does not finish (model bug)")
        # ---- values visible in cycle c
        if block0_full is None and full[0]:
            block0_full = c
        w_v = m_valid
        # source offer (the bucket refills at the start of the cycle)
        if throttle:
            credit = throttle.refill(credit)
            offer = offered_left > 0 and credit >= throttle.word
        else:
            offer = offered_left > 0 and c >= W_FIRST
        s_ready = not skid_valid
        # ---- loader
        w_step = l_state == "LOAD" and not wdone and w_v
        q_last = lq == qw - 1
        m_ready = l_state == "LOAD" and not wdone and q_last
        nxt_state = l_state
        nxt_wdone, nxt_bdone, nxt_lq = wdone, bdone, lq
        set_full = None
        if l_state == "IDLE":
            if c == 0:
                nxt_state = "BSETUP"
        elif l_state == "BSETUP":
            if not full[l_bank] and not held[l_bank]:
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
            set_full = l_bank
            l_block += 1
            nxt_state = "BSETUP" if l_block < n_ob else "IDLE"
        # ---- issue
        x_written = max(0, min(rows * n_ib, c - X_WRITE))      # entries written before cycle c
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
                    active = False
                    t_last = c
        # ---- edge at the end of cycle c
        # w_ slice
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
            if throttle:
                credit -= throttle.word
        # banks
        rel = release_at.pop(c, None)
        if rel is not None:
            held[rel] = False
        if consumed is not None:
            full[consumed], held[consumed] = False, True
        if set_full is not None:
            full[set_full] = True
            l_bank ^= 1
        l_state, wdone, bdone, lq = nxt_state, nxt_wdone, nxt_bdone, nxt_lq
        c += 1
    pipeline = OUT_CYCLES + li + (GELU_CYCLES if gelu else 0)
    return Prediction(t_last + pipeline, block0_full, pipeline, load_bound)
