"""Cycle model of the weight prefetch path: DDR (a token bucket) -> rtl/src/weight_fifo.sv -> the
linear engine's w_ port. The FIFO is filled from DDR whenever it has room, in the frame's weight
order, independently of the engine, so the DDR streams weights while the engine computes and while
LayerNorm, attention and the gate run; the engine then finds the next calls' weights on chip.

The DDR side fetches the frame's weight stream as a list of :class:`Segment` (one per linear call,
in call order). The experts of a MoE layer are fetched speculatively in index order while the
layer's routing is unknown; a segment whose first word would be fetched once the routing is known
is skipped if its expert is inactive, and an inactive expert's words already fetched are dropped at
the FIFO's head (one word per cycle, never offered to the engine) once the routing is known.

Everything is counted in the linear engine's cycles (cosim.linear_schedule.Sequence: cycle 0 is the
first call's ap_ready). Word k of the fetched stream (dropped words included):

* F_k, its push cycle (handshake on the FIFO's s_ side), is the first cycle t with
  t >= F_{k-1} + 1, the bucket holding a word's worth (refilled by ``rate`` at the start of every
  cycle, at most ``burst`` words' worth, emptied by a word at each push) and room in the FIFO:
  s_tready = level < DEPTH, level = words pushed minus words popped before t, so t >= P_{k-DEPTH} + 1;
* H_k, the first cycle it is at the head (m_axis_tvalid high, or dropped), is
  max(F_k + 3, P_{k-1} + 1) (the memory's registered read and the output slice: axis_fifo's
  latency, then the head register that holds the word with its registered filter flags; one word
  per cycle), and for an expert word also >= the first cycle the routing mask is visible (``route``
  time);
* P_k, its pop cycle: the engine's w_ handshake for a kept word (the engine model decides), H_k for a
  dropped word.

:meth:`WeightFifo.valid` / :meth:`WeightFifo.pop` are what the engine model (and the cocotb driver
that stands in for this path in cosim/test_linear.py) call for the engine's words in order.
The bench cosim/test_weight_fifo.py checks the RTL against these times cycle for cycle.
"""
from __future__ import annotations

from dataclasses import dataclass

PUSH_TO_HEAD = 3     # push edge -> m_axis_tvalid: memory read register, output slice (axis_fifo), head register
ROUTE_TO_HEAD = 2    # route_we in cycle t -> the routing decides the head from t + 2 (the mask registers, then
                     # the head's registered flags): a route's visible_from is its route_we cycle + ROUTE_TO_HEAD


class WeightFifoError(ValueError):
    """A bad argument or an impossible use of the prefetch model (names the problem)."""


@dataclass(frozen=True)
class Segment:
    """A run of consecutive words of the frame's weight stream: one linear call's w_ image.
    ``expert``: (MoE layer, expert index) for an expert's call (fetched speculatively, dropped when
    the expert turns out inactive), None for a call that always runs."""

    words: int
    expert: tuple[int, int] | None = None
    name: str = ""


class WeightFifo:
    """DDR token bucket + weight FIFO of ``depth`` words, persistent across the engine's calls.

    ``rate`` weights per cycle, ``word`` weights per word (both in the same unit as
    cosim.linear_schedule.Throttle: a fractional rate is rate = p, word = e q), at most ``burst``
    words' worth in the bucket; the DDR starts with an empty bucket and an empty FIFO at cycle
    ``start`` (its first push is at ``start`` at the earliest).
    """

    def __init__(self, segments, depth: int, rate: int, word: int, burst: int = 8, start: int = 0, skip: bool = True):
        if not isinstance(depth, int) or depth < 2:
            raise WeightFifoError(f"weight FIFO depth {depth!r}: must be an integer >= 2")
        if min(rate, word, burst) < 1:
            raise WeightFifoError(f"weight FIFO: DDR rate {rate}, word {word}, burst {burst} must be >= 1")
        self.segments = [s if isinstance(s, Segment) else Segment(*s) for s in segments]
        for n, s in enumerate(self.segments):
            if s.words < 1:
                raise WeightFifoError(f"weight stream segment {n} ({s.name or 'unnamed'}): {s.words} words, must be >= 1")
        self.depth, self.rate, self.word, self.cap = depth, rate, word, burst * word
        self.start = start
        # skip: the DMA skips an inactive expert's segment whose first word comes after the routing is
        # visible; False: it pushes every expert's words and the head drops them all (rtl/src/moe_layer.sv's
        # DDR side as cosim/test_moe_layer.py drives it)
        self.skip = skip
        # routing: layer -> (first cycle the mask is visible, active experts)
        self.routes: dict[int, tuple[int, frozenset]] = {}
        self._spec_fetch: dict[int, int] = {}     # layer -> last first-word push decided without its routing
        self._route_wait: dict[int, int] = {}     # layer -> last cycle a word waited for its routing
        # the fetched stream, one entry per word (parallel lists)
        self.F: list[int] = []        # push cycle
        self.P: list[int] = []        # pop cycle (engine handshake or drop), known words only
        self.seg_of: list[int] = []   # segment index of each fetched word
        self._credit = 0              # bucket after the last push
        self._last_push = start - 1
        self._fetch_seg, self._fetch_off = 0, 0   # DDR's position in the segment list
        self._skipped: set[int] = set()           # segments never fetched (inactive, routing known)
        self._head = 0                # next fetched word to pop
        self._head_time: int | None = None   # H of word _head, once known
        self.dropped = 0
        self.engine_words = 0         # words handed to the engine

    # ---- routing
    def route(self, layer: int, active, visible_from: int) -> None:
        """The MoE layer's routing mask (the experts with tokens) is visible from cycle
        ``visible_from`` on: fetches from then skip inactive experts, the head drops their words."""
        if layer in self.routes:
            raise WeightFifoError(f"weight FIFO: the routing of layer {layer} was given twice")
        waited = self._route_wait.get(layer)
        if waited is not None and waited >= visible_from:
            raise WeightFifoError(f"weight FIFO: layer {layer}'s routing given for cycle {visible_from}, but the model "
                                  f"had already kept its first expert word from the engine in cycle {waited} for want "
                                  "of it (give the routing before simulating that far)")
        last = self._spec_fetch.get(layer)
        if last is not None and last >= visible_from:
            raise WeightFifoError(f"weight FIFO: layer {layer}'s routing given for cycle {visible_from}, after the "
                                  f"model had already fetched its experts speculatively up to cycle {last} "
                                  "(give the routing before asking for later words)")
        self.routes[layer] = (visible_from, frozenset(active))

    # ---- DDR side
    def _fetch_next(self) -> bool:
        """Push the next word of the stream (F of one more word). False when the stream is done."""
        while self._fetch_seg < len(self.segments):
            seg = self.segments[self._fetch_seg]
            k = len(self.F)
            lo = self._last_push + 1
            if k >= self.depth:
                if k - self.depth >= len(self.P):
                    raise WeightFifoError("weight FIFO model: a push needs a pop the engine has not made "
                                          "(words asked out of order)")
                lo = max(lo, self.P[k - self.depth] + 1)
            # the bucket is monotone between pushes: credit(t) = min(cap, credit + (t - last) rate)
            need = self.word - self._credit
            t = max(lo, self._last_push + (-(-need // self.rate) if need > 0 else 1))
            if self._fetch_off == 0 and seg.expert is not None:
                layer, e = seg.expert
                r = self.routes.get(layer)
                if self.skip and r is not None and t >= r[0] and e not in r[1]:
                    self._skipped.add(self._fetch_seg)    # never fetched
                    self._fetch_seg += 1
                    continue
                if r is None or t < r[0]:
                    # decided without the routing; later words of the segment follow this decision,
                    # whatever the routing, so only first words constrain when it may be given
                    self._spec_fetch[layer] = max(self._spec_fetch.get(layer, t), t)
            credit = min(self.cap, self._credit + (t - self._last_push) * self.rate)
            self._credit = credit - self.word
            self._last_push = t
            self.F.append(t)
            self.seg_of.append(self._fetch_seg)
            self._fetch_off += 1
            if self._fetch_off == seg.words:
                self._fetch_seg, self._fetch_off = self._fetch_seg + 1, 0
            return True
        return False

    # ---- head
    def _keep(self, k: int):
        """(kept, earliest head cycle from the routing) of fetched word k; None while its layer's
        routing is not given."""
        seg = self.segments[self.seg_of[k]]
        if seg.expert is None:
            return True, -(10 ** 12)
        layer, e = seg.expert
        r = self.routes.get(layer)
        if r is None:
            return None
        return e in r[1], r[0]

    def _advance_head(self, cycle: int | None = None):
        """H of the next word for the engine, dropping inactive experts' words before it; None when
        the stream is exhausted, or (with ``cycle``) when the head waits for a routing not given yet:
        the word is then not offered in ``cycle``, and the routing must become visible after it."""
        while True:
            k = self._head
            while k >= len(self.F):
                if not self._fetch_next():
                    return None
            if self._head_time is None:
                h = self.F[k] + PUSH_TO_HEAD
                if k:
                    h = max(h, self.P[k - 1] + 1)
                keep = self._keep(k)
                if keep is None:
                    layer = self.segments[self.seg_of[k]].expert[0]
                    if cycle is None:
                        raise WeightFifoError(f"weight FIFO: an expert word of layer {layer} reached the head before "
                                              "the layer's routing was given")
                    if cycle >= h:   # not offered because the routing is unknown: it must come later
                        self._route_wait[layer] = max(self._route_wait.get(layer, cycle), cycle)
                    return None
                kept, visible = keep
                self._head_time = max(h, visible)
                if not kept:
                    self.P.append(self._head_time)
                    self.dropped += 1
                    self._head, self._head_time = k + 1, None
                    continue
            return self._head_time

    def valid(self, cycle: int) -> bool:
        """The engine's next word is offered (m_axis_tvalid) in ``cycle`` (False once the stream is
        exhausted)."""
        h = self._advance_head(cycle)
        return h is not None and cycle >= h

    def head_time(self) -> int:
        """First cycle the engine's next word is offered."""
        h = self._advance_head()
        if h is None:
            raise WeightFifoError(f"weight FIFO: the engine asked for word {self.engine_words} beyond the stream "
                                  f"({len(self.F)} words fetched, {self.dropped} dropped)")
        return h

    def pop(self, cycle: int) -> None:
        """The engine took its next word at the edge closing ``cycle``."""
        h = self.head_time()
        if cycle < h:
            raise WeightFifoError(f"weight FIFO: word taken in cycle {cycle}, offered only from {h}")
        self.P.append(cycle)
        self._head, self._head_time = self._head + 1, None
        self.engine_words += 1

    def push_time(self, k: int) -> int | None:
        """F_k, fetching up to word k if the pops given so far decide it; None while word k needs a
        pop not given yet (with the pops of the cycles before c given, F_k > c then: the FIFO is full
        in c) and when the stream has no word k."""
        while len(self.F) <= k:
            n = len(self.F)
            if n >= self.depth and n - self.depth >= len(self.P):
                return None
            if not self._fetch_next():
                return None
        return self.F[k]

    def skipped_segments(self) -> list[int]:
        return sorted(self._skipped)

    def fetched_words(self) -> int:
        return len(self.F)


class DdrDma:
    """The DMA in front of rtl/src/weight_fifo.sv as a cycle-by-cycle driver rule (the benches' DDR:
    cosim/test_weight_fifo.py's ``dma`` mode and cosim/test_linear.py's DdrWords both step this one
    class; :class:`WeightFifo` is its closed form, and the benches check the RTL's pushes against it).

    Per cycle: :meth:`refill` (the bucket gains ``rate``, at most ``cap``), then :meth:`offer` with
    the cycle and the FIFO's s_axis_tready, then :meth:`push` if the offered word was taken. A word is
    offered while the bucket holds ``word``. The first word of an expert's segment is skipped (never
    fetched) if its layer's routing is visible in that cycle and the expert inactive; while the
    routing is not visible it is offered only with s_axis_tready high, so the DMA never commits to
    a word the routing may turn into a skip (TVALID may wait for TREADY, so this is legal AXI-Stream).
    Every other word is offered as soon as the bucket holds it and waits for TREADY.

    ``routes``: {layer: (first cycle the routing is visible, active experts)}; ``credit``: the bucket
    at the start (before the first refill)."""

    def __init__(self, segments, routes, *, rate: int, word: int, cap: int, credit: int = 0):
        if min(rate, word) < 1 or cap < word:
            raise WeightFifoError(f"DMA: rate {rate}, word {word}, cap {cap}: need rate, word >= 1 and cap >= word")
        self.segments, self.routes = list(segments), routes
        self.rate, self.word, self.cap, self.credit = rate, word, cap, credit
        self.seg = self.off = 0
        self.skipped: list[int] = []

    def refill(self) -> None:
        self.credit = min(self.cap, self.credit + self.rate)

    def offer(self, cycle: int, tready: bool) -> tuple[int, int] | None:
        """(segment, offset) of the word offered in ``cycle``, or None (TVALID low)."""
        if self.credit < self.word:
            return None
        while self.seg < len(self.segments):
            s = self.segments[self.seg]
            if self.off == 0 and s.expert is not None:
                rt = self.routes.get(s.expert[0])
                visible = rt is not None and rt[0] <= cycle
                if visible and s.expert[1] not in rt[1]:
                    self.skipped.append(self.seg)
                    self.seg += 1
                    continue
                if not visible and not tready:
                    return None
            return self.seg, self.off
        return None

    def push(self) -> None:
        """The offered word was taken at the edge closing the cycle."""
        self.credit -= self.word
        self.off += 1
        if self.off == self.segments[self.seg].words:
            self.seg, self.off = self.seg + 1, 0

    @property
    def done(self) -> bool:
        return self.seg == len(self.segments)
