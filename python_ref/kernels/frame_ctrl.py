"""The frame's controller on the activation buffers: the specification of what the accelerator issues
for one frame (every buffer command and every unit call, in order) and a model that executes it on
python_ref's kernels and the three buffers of rtl/src/act_buffers.sv (:class:`~python_ref.kernels.
act_buffer.ActBuffer`), beat for beat in the streams' orders. Its output is the frame's x, which must
equal python_ref/model/fixed_model.py's (tests/test_frame_ctrl.py): so the buffers' layout, the
narrow (operand) storage, the round-to-odd writes, the gathers and scatters and the order of the
commands lose nothing against the network's definition.

The frame, per :func:`run_frame` (T tokens, D features; ``x_`` = the residual x, ``h_`` = the hidden
rows, ``g_`` = the gate logits; L_I, L_O the engine's lanes; ND = D / L_I beats)::

    host        x_ <- pos (all rows)
    patch       engine (pixels from the host, patch weights) acc_ <- x_ rows 1.. block-major,
                y_ -> x_ rows 1.. block-major                                  (accumulate onto pos)
    per layer
      LN1+qkv   x_ rows row-major -> LayerNorm -> engine; y_ -> h_ block-major: Q (beats 0 .. ND-1,
                rounded half up, or to odd when q's format has fewer fraction bits than the operand),
                K | V (beats ND .. 3 ND - 1, rounded to odd)              (rtl/src/attention_block.sv)
      attention h_ row-major reads, one per segment in the phases' order (Q0 K0 Q1 K1 V0 ...);
                its output -> h_ beats 3 ND .. 4 ND - 1 row-major
      proj      h_ beats 3 ND .. row-major -> engine; acc_ <- x_ block-major; y_ -> x_ block-major
      LN2 +     dense: engine (fc1 + GELU) y_ -> h_ block-major; fc2: h_ row-major -> engine,
                acc_ <- x_, y_ -> x_                                          (rtl/src/mlp_block.sv)
                MoE: the gate (LN2(x) into the engine and into h_ beats 0 .. ND-1 row-major), y_ ->
                g_ block-major (a beat of E lanes a token); g_ row-major -> moe_router; its descriptor
                words (python_ref.kernels.moe.descriptor_words) decoded into the expert calls: fc1
                h_ listed rows beats 0 .. ND-1 -> engine (GELU), y_ -> h_ rows 0 .. n-1 beats ND ..
                block-major; fc2 h_ rows 0 .. n-1 -> engine, acc_ <- x_ listed block-major, the
                scores on s_, y_ -> x_ listed block-major (the scaled scatter-accumulate onto x,
                equal to x + moe_acc under act's WRAP)                        (rtl/src/moe_block.sv)
    host        x_ -> out (all rows)

The program is also grouped into steps (:class:`Step`): one route of the buffers' ports (:data:`ROUTES`,
the stream moves of rtl/src/backbone.sv) with the commands and the calls issued on it, each call with its
arguments (a linear call's rows, weights and mode; LayerNorm's parameters; the router's expected
descriptor words): what a host or a sequencer issues to the RTL backbone (cosim/test_backbone.py).

Every linear call's x_ and y_ pass the engine's lanes (x_ L_I, y_ L_O: the buffers they meet have
those lanes, which :class:`FrameCtrl` checks); the model moves the values exactly as the beats do.
Bad input raises :class:`FrameCtrlError` naming the problem.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from python_ref.config import Config
from python_ref.kernels.act_buffer import Access, ActBuffer, BufferShape, odd_store_is_exact
from python_ref.kernels.attention import attention, input_segments, kv_format, q_format
from python_ref.kernels.layernorm import layernorm_raw
from python_ref.kernels.linear import compute_linear, im2col, weight_formats
from python_ref.kernels.moe import decode_descriptors, descriptor_words, expert_schedule, route


class FrameCtrlError(ValueError):
    """A config or an input the frame's controller cannot run (names the field or the shape)."""


@dataclass(frozen=True)
class Route:
    """A route of the buffers' ports: the (buffer, "rd" | "wr") ports it connects, the units called on it
    (in order), and its stream moves."""
    ports: frozenset
    units: tuple
    moves: str


def _route(ports: str, units: tuple, moves: str) -> Route:
    return Route(frozenset(tuple(p.split()) for p in ports.split(",")), units, moves)


# rtl/src/backbone.sv's `route`, in this order (its index is the port's value)
ROUTES = {
    "host": _route("x_ wr, x_ rd", (), "x_ wr <- the host (pos); x_ rd -> the host (the frame's output)"),
    "patch": _route("x_ rd, x_ wr", ("linear",),
                    "the host's pixel rows -> engine x_; x_ rd -> acc_; y_ -> x_ wr (the patch embedding onto pos)"),
    "ln": _route("x_ rd, h_ wr", ("layernorm", "linear"),
                 "x_ rd -> LayerNorm -> engine x_; y_ -> h_ wr (LN1 + qkv, LN2 + a dense fc1)"),
    "gate": _route("x_ rd, h_ wr, g_ wr, g_ rd", ("layernorm", "linear", "moe_router"),
                   "x_ rd -> LayerNorm -> engine x_ and h_ wr; y_ -> g_ wr; g_ rd -> moe_router"),
    "hidden": _route("h_ rd, h_ wr", ("linear",), "h_ rd -> engine x_; y_ -> h_ wr (an expert's fc1)"),
    "acc": _route("h_ rd, x_ rd, x_ wr", ("linear",),
                  "h_ rd -> engine x_; x_ rd -> acc_ (s_ from the host); y_ -> x_ wr (proj, fc2, an expert's fc2)"),
    "attention": _route("h_ rd, h_ wr", ("attention",), "h_ rd -> attention x_; attention y_ -> h_ wr"),
}


@dataclass(frozen=True)
class Role:
    """Where a call sits in the frame, for an issuer that must tell the calls apart (the weight stream's
    order, an expert's wait for its descriptor words, the router's layer): ``layer`` (None: the patch
    embedding), ``part`` ("qkv", "gate", "router", "fc1", "fc2", ...) and ``expert`` (an expert's
    fc1 / fc2, else None). The call's name is for people; code reads this."""
    layer: int | None
    part: str
    expert: int | None = None


@dataclass
class Call:
    """A unit's call and what it needs from the issuer: "linear" (x_rows, w, b, w_role, b_role, x_fmt,
    gelu, acc_rows, scores, w_scale, s_fmt: the python_ref.kernels.linear.compute_linear call), "layernorm"
    (g, b), "attention" (tokens), "moe_router" (task, tokens, words: its descriptor words); ``role``:
    its place in the frame (run_frame gives every call one)."""
    unit: str
    name: str
    args: dict = field(default_factory=dict)
    role: Role | None = None


@dataclass
class Step:
    """One route and, in issue order, the commands ((port, Access)) and the calls on it; ``host_beats``:
    the beats the host writes on a host route (None otherwise)."""
    route: str
    label: str
    commands: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    host_beats: np.ndarray | None = None


@dataclass
class Issued:
    """What the controller issued, in order: ("cmd", port, Access) and ("call", unit, name) entries,
    and the same grouped into steps (:class:`Step`)."""
    entries: list = field(default_factory=list)
    steps: list = field(default_factory=list)

    def commands(self, port: str | None = None) -> list[Access]:
        return [a for k, p, a in self.entries if k == "cmd" and (port is None or p == port)]

    def calls(self) -> list[tuple[str, str]]:
        return [(u, n) for k, u, n in self.entries if k == "call"]


class FrameCtrl:
    """The three buffers at the config's shapes and the stream moves between them and the units."""

    def __init__(self, cfg: Config):
        m, hw = cfg.model, cfg.hardware
        self.cfg, self.act = cfg, cfg.fmt("act")
        self.shapes = BufferShape.frame(cfg)
        self.buf = {p: ActBuffer(s, cfg) for p, s in self.shapes.items()}
        self.li, self.lo = hw.linear_in, hw.linear_out
        x, h, g = self.shapes["x_"], self.shapes["h_"], self.shapes["g_"]
        problems = []
        if x.lanes != self.lo or h.lanes != self.li or self.li != self.lo:
            problems.append(f"the engine's tile {self.li} x {self.lo} must be square and meet x_ ({x.lanes} lanes) "
                            f"and h_ ({h.lanes} lanes)")
        if m.dim % self.li or m.head_dim % self.li:
            problems.append(f"hardware.linear_tile ({self.li}) must divide model.dim ({m.dim}) and the head dim ({m.head_dim})")
        if h.values < 4 * m.dim:
            problems.append(f"the hidden rows ({h.values} values) cannot hold qkv and attention's output (4 D = {4 * m.dim})")
        if m.experts > self.lo or g.lanes != m.experts:
            problems.append(f"the gate's {m.experts} logits must fit one y_ beat of {self.lo} lanes")
        op = cfg.fmt("operand")
        q, kv = q_format(cfg), kv_format(cfg)
        why_kv = odd_store_is_exact(op, kv)
        why_q = None if (q.frac == op.frac and q.int_bits <= op.int_bits) else odd_store_is_exact(op, q)
        if why_kv or why_q:
            problems.append(f"qkv cannot wait in the narrow hidden rows exactly: {why_kv or why_q}")
        if cfg.fmt("act").overflow != "WRAP" and any(m.is_moe_layer(L) for L in range(m.layers)):
            problems.append("formats.act must wrap: the experts accumulate onto x (equal to x + moe_acc only under WRAP)")
        if cfg.fmt("gate_weight") != cfg.fmt("weight"):
            problems.append("formats.gate_weight must equal formats.weight (the engine's weight_t)")
        if problems:
            raise FrameCtrlError(f"config {cfg.name!r}: " + "; ".join(problems))
        self.q_odd = q.frac != op.frac
        self.nd = m.dim // self.li
        self.issued = Issued()

    # ---- the steps and the buffers' ports, in stream order
    def step(self, route: str, label: str) -> None:
        """Open a step on ``route``: the commands and calls until the next step are issued on it."""
        if route not in ROUTES:
            raise FrameCtrlError(f"step {label!r}: route {route!r} is not one of {tuple(ROUTES)}")
        self.issued.steps.append(Step(route, label))

    def _step(self, port: str | None = None, rw: str | None = None) -> Step:
        """The open step; a command on (port, rw) must be one its route connects."""
        if not self.issued.steps:
            raise FrameCtrlError("a command or call before the first step")
        st = self.issued.steps[-1]
        if port is not None and (port, rw) not in ROUTES[st.route].ports:
            raise FrameCtrlError(f"step {st.label!r}: route {st.route!r} does not connect {port} {rw}")
        return st

    def write(self, port: str, acc: Access, beats: np.ndarray) -> None:
        st = self._step(port, "wr")
        self.issued.entries.append(("cmd", port, acc))
        st.commands.append((port, acc))
        if st.route == "host":
            st.host_beats = np.asarray(beats)
        self.buf[port].write(acc, beats)

    def read(self, port: str, acc: Access) -> np.ndarray:
        st = self._step(port, "rd")
        self.issued.entries.append(("cmd", port, acc))
        st.commands.append((port, acc))
        return self.buf[port].read(acc)

    def call(self, unit: str, name: str, role: Role | None = None, **args) -> None:
        st = self._step()
        if unit not in ROUTES[st.route].units:
            raise FrameCtrlError(f"step {st.label!r}: route {st.route!r} calls {ROUTES[st.route].units}, not {unit}")
        self.issued.entries.append(("call", unit, name))
        st.calls.append(Call(unit, name, args, role))

    # ---- stream <-> rows
    @staticmethod
    def row_major(beats: np.ndarray, n_rows: int) -> np.ndarray:
        """Row-major beats of n_rows rows -> (n_rows, beats a row x lanes)."""
        return np.asarray(beats).reshape(n_rows, -1)

    @staticmethod
    def block_major(beats: np.ndarray, n_rows: int) -> np.ndarray:
        """Block-major beats ((b, k) ascending) of n_rows rows -> (n_rows, beats x lanes)."""
        b = np.asarray(beats)
        return b.reshape(-1, n_rows, b.shape[-1]).transpose(1, 0, 2).reshape(n_rows, -1)

    @staticmethod
    def _beats(rows: np.ndarray, lanes: int) -> np.ndarray:
        """(n, values) -> (n, beats, lanes), the last beat zero-padded (the engine's y_, a row's beats)."""
        r = np.asarray(rows, dtype=np.int64)
        nb = -(-r.shape[1] // lanes)
        p = np.zeros((r.shape[0], nb * lanes), dtype=np.int64)
        p[:, :r.shape[1]] = r
        return p.reshape(r.shape[0], nb, lanes)

    @classmethod
    def to_block_major(cls, rows: np.ndarray, lanes: int) -> np.ndarray:
        """(n, values) -> block-major beats of ``lanes`` ((b, k) ascending)."""
        return cls._beats(rows, lanes).transpose(1, 0, 2).reshape(-1, lanes)

    @classmethod
    def to_row_major(cls, rows: np.ndarray, lanes: int) -> np.ndarray:
        """(n, values) -> row-major beats of ``lanes``."""
        return cls._beats(rows, lanes).reshape(-1, lanes)

    # ---- the units on the buffers
    def linear(self, name: str, x_rows, w, b, w_role: str, b_role: str, *, x_fmt=None, gelu=False,
               acc_rows=None, scores=None, w_scale=None, role: Role | None = None) -> np.ndarray:
        """One engine call: x_ rows in, y_ rows out (the accumulate modes take acc_ rows; ``w_scale``:
        per-channel scaled weights)."""
        w_fmt, s_fmt = weight_formats(self.cfg, w_role, w_scale is not None)
        self.call("linear", name, role, x_rows=np.asarray(x_rows), w=w, b=b, w_role=w_role, b_role=b_role, x_fmt=x_fmt,
                  gelu=gelu, acc_rows=acc_rows, scores=scores, w_scale=w_scale, s_fmt=s_fmt)
        return compute_linear(x_rows, w, b, self.cfg, w_fmt=w_fmt, b_fmt=self.cfg.fmt(b_role), x_fmt=x_fmt,
                              gelu=gelu, out=acc_rows, scores=scores, w_scale=w_scale, s_fmt=s_fmt)

    def layernorm_rows(self, name: str, g, b, role: Role | None = None) -> np.ndarray:
        """x_'s rows read row-major through LayerNorm (its output streams into the next call's x_)."""
        T, D = self.shapes["x_"].rows, self.cfg.model.dim
        rows = self.row_major(self.read("x_", Access(True, tuple(range(T)))), T)[:, :D]
        self.call("layernorm", name, role, g=g, b=b)
        return layernorm_raw(rows, g, b, self.cfg)

    def accumulate_onto_x(self, name: str, x_rows, w, b, w_role, b_role, targets=None, listed=False,
                          scores=None, x_fmt=None, w_scale=None, role: Role | None = None) -> None:
        """An accumulate call onto x_'s rows ``targets`` (all when None): acc_ read block-major, y_
        written back block-major (the read commanded before the write)."""
        T, D = self.shapes["x_"].rows, self.cfg.model.dim
        rows = tuple(range(T)) if targets is None else tuple(int(t) for t in targets)
        acc = self.block_major(self.read("x_", Access(True, rows, True, listed)), len(rows))[:, :D]
        y = self.linear(name, x_rows, w, b, w_role, b_role, acc_rows=acc, scores=scores, x_fmt=x_fmt,
                        w_scale=w_scale, role=role)
        self.write("x_", Access(False, rows, True, listed), self.to_block_major(y, self.lo))


def run_frame(cfg: Config, fw, pixels, task: int = 0) -> tuple[np.ndarray, Issued]:
    """One frame through the controller: (x after the last layer (T, D) act, what was issued).
    ``fw``: python_ref.model.fixed_model.FixedWeights; ``pixels``: (C, H, W) raw pixel integers."""
    m = cfg.model
    ctl = FrameCtrl(cfg)
    T, D, nd, L_I, L_O = m.tokens, m.dim, ctl.nd, ctl.li, ctl.lo
    allr = tuple(range(T))
    px = np.asarray(pixels)
    if px.shape != (m.channels, m.height, m.width):
        raise FrameCtrlError(f"pixels: expected shape (C, H, W) = {(m.channels, m.height, m.width)}, got {px.shape}")
    if not 0 <= int(task) < m.tasks:
        raise FrameCtrlError(f"task {task}: the config has {m.tasks} tasks")

    # the patch embedding onto pos (rows 1.., the CLS row keeps pos[0])
    ctl.step("host", "pos")
    ctl.write("x_", Access(False, allr), ctl.to_row_major(fw.pos, L_O))
    ctl.step("patch", "patch embedding")
    ctl.accumulate_onto_x("patch embedding", im2col(px, m.patch_size), fw.patch_w.reshape(D, -1), fw.patch_b,
                          "patch_weight", "bias", targets=range(1, T), x_fmt=cfg.fmt("pixel"),
                          role=Role(None, "patch embedding"))

    for L, lw in enumerate(fw.layers):
        p = f"layer {L} "
        # LN1 -> qkv into the hidden rows: Q half up (or to odd), K | V to odd
        ctl.step("ln", p + "LN1 + qkv")
        ln1 = ctl.layernorm_rows(p + "LN1", lw.ln1_g, lw.ln1_b, role=Role(L, "LN1"))
        qkv = ctl.linear(p + "qkv", ln1, lw.qkv_w, lw.qkv_b, "weight", "attn_bias", role=Role(L, "qkv"))
        y = ctl.to_block_major(qkv, L_O).reshape(3 * nd, T, L_O)
        ctl.write("h_", Access(False, allr, True, n_beats=nd, odd=ctl.q_odd), y[:nd].reshape(-1, L_O))
        ctl.write("h_", Access(False, allr, True, first=nd, n_beats=2 * nd, odd=True), y[nd:].reshape(-1, L_O))
        # attention from the hidden rows, its output after qkv
        ctl.step("attention", p + "attention")
        dh = m.head_dim
        stored = np.zeros((T, 3 * D), dtype=np.int64)
        for sel, h in input_segments(m.heads):
            c0 = ("QKV".index(sel) * m.heads + h) * dh
            seg = ctl.read("h_", Access(True, allr, first=c0 // L_I, n_beats=dh // L_I))
            stored[:, c0:c0 + dh] = ctl.row_major(seg, T)
        ctl.call("attention", p + "attention", Role(L, "attention"), tokens=T)
        a_out = attention(stored, cfg).out
        ctl.write("h_", Access(False, allr, first=3 * nd, n_beats=nd), ctl.to_row_major(a_out, L_I))
        # proj onto x
        ctl.step("acc", p + "proj")
        a_rows = ctl.row_major(ctl.read("h_", Access(True, allr, first=3 * nd, n_beats=nd)), T)
        ctl.accumulate_onto_x(p + "proj", a_rows, lw.proj_w, lw.proj_b, "weight", "attn_bias", role=Role(L, "proj"))
        # LN2 -> the MLP or the experts
        ctl.step("ln" if lw.moe is None else "gate", p + ("LN2 + fc1" if lw.moe is None else "LN2 + gate + router"))
        ln2 = ctl.layernorm_rows(p + "LN2", lw.ln2_g, lw.ln2_b, role=Role(L, "LN2"))
        if lw.moe is None:
            f = ctl.linear(p + "fc1 + GELU", ln2, lw.fc1_w, lw.fc1_b, "weight", "bias", gelu=True, w_scale=lw.fc1_s,
                           role=Role(L, "fc1"))
            nh = -(-f.shape[1] // L_I)
            ctl.write("h_", Access(False, allr, True, n_beats=nh), ctl.to_block_major(f, L_O))
            ctl.step("acc", p + "fc2")
            f_rows = ctl.row_major(ctl.read("h_", Access(True, allr, n_beats=nh)), T)[:, :f.shape[1]]
            ctl.accumulate_onto_x(p + "fc2", f_rows, lw.fc2_w, lw.fc2_b, "weight", "bias", w_scale=lw.fc2_s,
                                  role=Role(L, "fc2"))
        else:
            _moe_layer(ctl, L, ln2, lw.moe, int(task))

    ctl.step("host", "out")
    out = ctl.row_major(ctl.read("x_", Access(True, allr)), T)[:, :D]
    return out, ctl.issued


def _moe_layer(ctl: FrameCtrl, L: int, ln2, mw, task: int) -> None:
    """Layer L's gate (LN2(x) kept in the hidden rows), the router on the logits, the experts as its
    descriptor words say."""
    cfg, m = ctl.cfg, ctl.cfg.model
    p = f"layer {L} "
    T, E, nd, L_I, L_O = m.tokens, m.experts, ctl.nd, ctl.li, ctl.lo
    allr = tuple(range(T))
    ctl.write("h_", Access(False, allr, n_beats=nd), ctl.to_row_major(ln2, L_I))
    logits = ctl.linear(p + "gate", ln2, mw.w_gate[task], np.zeros(E, dtype=np.int64), "gate_weight", "bias",
                        role=Role(L, "gate"))
    ctl.write("g_", Access(False, allr, True), ctl.to_block_major(logits, L_O)[:, :E])
    g_rows = ctl.row_major(ctl.read("g_", Access(True, allr)), T)
    routing = route(g_rows, cfg)
    words = descriptor_words(routing, expert_schedule(routing, cfg), task, cfg)
    ctl.call("moe_router", p + "router", Role(L, "router"), task=task, tokens=T, words=[int(w) for w in words])
    _task, _rows, sched = decode_descriptors(words, cfg)
    xw = cfg.numerics.expert_weights
    eh = m.expert_hidden
    nh = -(-eh // L_I)
    for c in sched.calls:
        e, n = c.expert, len(c.gather)
        ctl.step("hidden" if c.layer == "fc1" else "acc", p + f"expert {e} {c.layer}")
        if c.layer == "fc1":
            toks = tuple(int(t) for t in c.gather)
            x_rows = ctl.row_major(ctl.read("h_", Access(True, toks, listed=True, n_beats=nd)), n)[:, :m.dim]
            f = ctl.linear(p + f"expert {e} fc1", x_rows, mw.w1[e], mw.b1[e], "weight", "bias", gelu=True,
                           w_scale=None if xw is None else mw.w1_scale[e], role=Role(L, "fc1", e))
            ctl.write("h_", Access(False, tuple(range(n)), True, first=nd, n_beats=nh), ctl.to_block_major(f, L_O))
        else:
            h_rows = ctl.row_major(ctl.read("h_", Access(True, tuple(range(n)), first=nd, n_beats=nh)), n)[:, :eh]
            ctl.accumulate_onto_x(p + f"expert {e} fc2", h_rows, mw.w2[e], mw.b2[e], "weight", "bias",
                                  targets=c.scatter, listed=True, scores=c.scores,
                                  w_scale=None if xw is None else mw.w2_scale[e], role=Role(L, "fc2", e))


__all__ = ["ROUTES", "Call", "Role", "Route", "FrameCtrl", "FrameCtrlError", "Issued", "Step", "run_frame"]
