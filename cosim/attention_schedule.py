"""Cycle model of the attention unit (rtl/src/attention.sv): the cycles of one layer from the edge
that samples ap_start to the edge that samples ap_done, without stalls (the source offers a beat in
every cycle, the sink always takes one), from T, the heads, the head dim, the tile L = LI = LO and
the units' latencies. It is the RTL's schedule written as a recurrence over edges (every constant
below names the RTL pipeline it counts); tests/test_cosim_attention.py checks that it equals the
measurement on every unstalled run, and tests/test_attention_schedule.py checks its structure on
every configured shape.

Edges are numbered from the ap_start edge (0). "X at edge e" means: the register holding X is
loaded at edge e (so X is visible in the cycle that ends at edge e + 1).

* Input (attn_qkv_store): x_TREADY rises at edge 2 (ap_start -> st1 -> start -> TREADY); beat i is
  taken at edge 3 + i; the stream is Q, K, V in phase order (:func:`input_segments`), T DB beats a
  segment; the last of NB = 3 T D / L beats at E_in = 2 + NB. Phase p's input (its head's Q and K, or
  V) ends with its last segment's last beat, at E_p = 2 + (segments up to p's last) T DB; its ph_in
  pulse sets the loader's flag at E_p + 2.
* Tile loader (attn_loader), job b (the tile of array block b, bank b mod 2, phase p): run set at edge
  cs_b = max(last_issue_(b-1) + 1, E_p + 3, D_last(b-2) + BUSY + 2) (its phase's input in, the previous
  job issued, the bank consumed and no longer read: full clears at D_last + 1, busy L cycles
  later); words issued every 2 cycles from cs_b + 1; the bank is full at F_b = last word + 7 (K / V
  split hi / lo: two writes per word) or + 6 (single pass, NP = 1: one write).
* Step issuer (attn_issue): block b's first step at edge max(D_last(b-1) + 1, F_b + 1); QK rows
  follow back to back (NP DB steps each; an AV row has NP KB steps; at least 2: with NP = 1 and one
  block, DB = 1 or KB = 1, the issuer adds a zero step); an AV row r of head h starts at edge >= rows_ready edge of
  (h, r) + 1 and >= the previous AV row's start + NCPB (the normaliser's NCPB = L / NL cycles per
  beat; attn_issue's hold counts across output blocks and AV phases, which matters when a row has
  fewer than NCPB steps: 2 KB < NCPB, e.g. edge_moe with T <= 64). A step decided at edge D has its array result (out_valid) in the cycle ending at
  edge D + ISSUE_TO_RESULT (4 issuer stages + mac_array's LI + 3 + 1).
* Score stage (attn_score): a row's maximum is final (last key block) at edge V + 3 + LG.
* Exp pass (attn_exp): row g = h T + r starts at X_g = max(X_(g-1) + chunks, V_g + 4 + LG,
  collect_(g-RU) + 1); chunks = (KB - 1) L / EL + ceil(rem / EL); the row sum leaves at
  last chunk + 6 + EXP_LAT + log2 EL, the reciprocal accepts it one edge later, its result is
  collected RECIP_LAT + 1 edges after that, rows_ready counts one edge later.
* Normaliser (attn_norm) + streamer (attn_out): a final-pass row (head H-1, last output block) is
  in the output buffer at V + 6 + NCPB; its WPR words are read from the next edge on (one per
  edge), each handshaken 3 edges after its read; ap_done 2 edges after the last handshake.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from python_ref.config import Config
# the unit's phase order and input order are part of its interface: python_ref.kernels.attention's
from python_ref.kernels.attention import input_segments, phase_order, single_pass

ISSUER_STAGES = 4      # attn_issue: decision -> d0 -> d1 -> d2 -> in_* (sampled by the array at D + 4)


def stream_qkv(qkv, heads: int):
    """The layer's qkv (T x 3 D, rows Q | K | V) as the attention unit's x_ stream: the
    :func:`input_segments` in order, each the head's d columns of Q, K or V, token after token."""
    import numpy as np
    qkv = np.asarray(qkv)
    three_d = qkv.shape[-1]
    if three_d % (3 * heads):
        raise ValueError(f"qkv rows of {three_d} values are not 3 x heads ({heads}) x head_dim")
    d = three_d // (3 * heads)
    starts = [("QKV".index(m) * heads + h) * d for m, h in input_segments(heads)]   # the segments' first columns
    return np.concatenate([qkv[..., :, c:c + d].reshape(*qkv.shape[:-2], -1) for c in starts], axis=-1)


@dataclass(frozen=True)
class Geometry:
    """The unit as built: config shape and the top's parameters."""

    L: int           # array LI = LO
    heads: int
    head_dim: int
    tmax: int
    EL: int = 2      # exp lanes
    RU: int = 2      # reciprocal units
    NL: int = 2      # normalisation lanes
    exp_lat: int = 12          # exp_core_pkg::EXP_CORE_LATENCY (rtl/src/exp_core.sv)
    recip_k: int = 56          # reciprocal K (RECIP_SOFTMAX_K)
    NP: int = 2                # array passes per K / V value (attn_pkg::KV_PASSES): 2 hi / lo, 1 whole

    @classmethod
    def from_config(cls, cfg: Config, **kw) -> "Geometry":
        """The attention top's default parameters for the config (rtl/src/attention.sv)."""
        L = cfg.hardware.linear_in
        one = single_pass(cfg)
        # attn_pkg::default_el / default_ru / default_nl (their comment says why one pass doubles them)
        big = L >= 16
        d = dict(L=L, heads=cfg.model.heads, head_dim=cfg.model.head_dim, tmax=cfg.model.tokens,
                 EL=(L // 2 if one else L // 4) if big else 2, RU=(8 if one else 4) if big else (4 if one else 2),
                 NL=(L // 4 if one else L // 8) if big else 2, NP=1 if one else 2)
        d.update(kw)
        return cls(**d)

    @classmethod
    def from_dut(cls, dut, cfg: Config) -> "Geometry":
        return cls.from_config(cfg, L=int(dut.L.value), EL=int(dut.EL.value), RU=int(dut.RU.value),
                               NL=int(dut.NL.value), exp_lat=int(dut.EXP_LAT.value))

    @property
    def DB(self) -> int:
        return self.head_dim // self.L

    @property
    def WPR(self) -> int:
        return self.heads * self.head_dim // self.L

    @property
    def LG(self) -> int:
        return self.L.bit_length() - 1

    @property
    def NCPB(self) -> int:
        return self.L // self.NL

    @property
    def recip_lat(self) -> int:
        """reciprocal.sv: accepted at edge N, y_TVALID visible after edge N + K + 1."""
        return self.recip_k + 1

    @property
    def issue_to_result(self) -> int:
        """Decision edge D -> out_valid in the cycle ending at D + ISSUE_TO_RESULT (mac_array: the
        step sampled at D + 4, out_valid high in the cycle after its edge LI + 4)."""
        return ISSUER_STAGES + self.L + 4

    def kb(self, T: int) -> int:
        return -(-T // self.L)

    def in_beats(self, T: int) -> int:
        return 3 * T * self.WPR

    def chunks(self, T: int) -> int:
        rem = T - (self.kb(T) - 1) * self.L
        return (self.kb(T) - 1) * (self.L // self.EL) + -(-rem // self.EL)


@dataclass
class Prediction:
    cycles: int                                   # ap_start edge -> ap_done edge
    phases: list[dict] = field(default_factory=list)  # per array phase: first / last step edge (array side)
    steps: int = 0                                # array steps of the layer
    exp_rows: list[tuple[int, int]] = field(default_factory=list)  # (first chunk edge, rows_ready edge)
    input_done: int = 0                           # edge of the last input beat
    q_words: int = 0                              # Q store words read (L values each)
    kv_words: int = 0                             # K / V store words read by the tile loader

    @property
    def array_cycles(self) -> int:
        """From the first array step to the last (both included)."""
        return self.phases[-1]["last"] - self.phases[0]["first"] + 1

    @property
    def utilization(self) -> float:
        return self.steps / self.array_cycles


def predict(g: Geometry, T: int) -> Prediction:
    """The unstalled cycle count of one layer of T tokens (see the module docstring)."""
    if not 1 <= T <= g.tmax:
        raise ValueError(f"T = {T} outside 1 .. {g.tmax}")
    L, DB, KB, WPR = g.L, g.DB, g.kb(T), g.WPR
    BUSY = L
    nb = g.in_beats(T)
    e_in = 2 + nb
    # earliest edge at which the loader's run can be set for a job of phase (ph, h): its last segment's
    # (K or V of the head: input_segments) last beat + 3
    loaded_cs = {("QK" if m == "K" else "AV", h): 2 + (i + 1) * T * DB + 3
                 for i, (m, h) in enumerate(input_segments(g.heads)) if m != "Q"}
    i2r = g.issue_to_result
    lg_e = g.EL.bit_length() - 1
    chunks = g.chunks(T)

    # the block sequence: (phase, head, block index, rows, steps per row, loader words)
    blocks = []
    for ph, h in phase_order(g.heads):
        if ph == "QK":
            for kb in range(KB):
                nk = min(L, T - kb * L)
                blocks.append((ph, h, kb, max(g.NP * DB, 2), nk * DB))
        else:
            for ob in range(DB):
                blocks.append((ph, h, ob, 2 * KB if g.NP == 2 else max(KB, 2), T))

    d_last: list[int] = []       # last step decision edge of every block
    last_issue_prev = None       # the loader's last word issue edge of the previous job
    exp_x_prev = None            # first chunk edge of the previous exp row
    collects: list[int] = []     # collect edge of every exp row (global order)
    rows_ready: dict[int, int] = {}  # global row -> edge at which rows_ready counts it
    qk_final_v: dict[int, list[int]] = {}  # head -> V (out_valid edge) of each row of its last key block
    phases: dict[tuple[str, int], dict] = {}
    final_v: list[int] = []
    steps = q_words = kv_words = 0
    prev_end = None
    av_row_start = None          # decision edge of the last AV row's first step (any block, any head)
    for b, (ph, h, blk, nsub, words) in enumerate(blocks):
        # ---- loader
        cs = loaded_cs[(ph, h)]
        if last_issue_prev is not None:
            cs = max(cs, last_issue_prev + 1)
        if b >= 2:
            cs = max(cs, d_last[b - 2] + BUSY + 2)
        last_issue = cs + 1 + 2 * (words - 1)
        last_issue_prev = last_issue
        full = last_issue + (7 if g.NP == 2 else 6)
        kv_words += words
        # ---- issuer
        t = full + 1 if prev_end is None else max(prev_end + 1, full + 1)
        for r in range(T):
            if ph == "AV":
                gr = h * T + r
                t = max(t, rows_ready[gr] + 1)
                if av_row_start is not None:   # attn_issue's hold: NCPB cycles between AV row starts,
                    t = max(t, av_row_start + g.NCPB)  # across output blocks and AV phases too
                av_row_start = t
            first = t
            t = t + nsub - 1           # the row's last step
            v = t + i2r
            if ph == "QK":
                q_words += nsub
                if blk == KB - 1:
                    qk_final_v.setdefault(h, []).append(v)
            elif h == g.heads - 1 and blk == DB - 1:
                final_v.append(v)
            p = phases.setdefault((ph, h), {"phase": f"{ph}{h}", "first": first + ISSUER_STAGES, "steps": 0})
            p["last"] = t + ISSUER_STAGES
            p["steps"] += nsub
            steps += nsub
            t += 1
        prev_end = t - 1
        d_last.append(prev_end)
        # ---- exp pass of head h once its QK phase is simulated
        if ph == "QK" and blk == KB - 1:
            for r, v in enumerate(qk_final_v[h]):
                gr = h * T + r
                x = v + 4 + g.LG
                if exp_x_prev is not None:
                    x = max(x, exp_x_prev + chunks)
                if gr >= g.RU:
                    x = max(x, collects[gr - g.RU] + 1)
                exp_x_prev = x
                c_last = x + chunks - 1
                q = c_last + 6 + g.exp_lat + lg_e       # sig_v in the cycle ending q
                accept = q + 1
                collect = accept + g.recip_lat + 1
                collects.append(collect)
                rows_ready[gr] = collect + 1

    # ---- normaliser + streamer
    xs = None
    for v in final_v:
        avail = v + 7 + g.NCPB
        xs = avail if xs is None else max(avail, xs + WPR)
    last_hs = xs + WPR - 1 + 3
    done = last_hs + 2
    return Prediction(cycles=done, phases=sorted(phases.values(), key=lambda p: p["first"]), steps=steps,
                      exp_rows=[(0, e) for e in rows_ready.values()], input_done=e_in, q_words=q_words,
                      kv_words=kv_words)


__all__ = ["Geometry", "Prediction", "input_segments", "phase_order", "predict", "stream_qkv"]
