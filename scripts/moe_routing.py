#!/usr/bin/env python3
"""Fixed-point MoE routing (python_ref/kernels/moe.py) against the float model, on real weights.

For the first MoE layer (layer 1) of each (weights, image, task) run: the float64 model's LN2 output
(``layer1.ln2``) quantized to act is the input of the fixed-point gate (linear engine, two-pass
softmax, top-k by logit); the routing is compared with the float model's ``layer1.topk_idx``:

* max logit error: eps = max |logit_fixed - logit_float| over every token and expert of the run;
* near-ties: tokens whose float logit gap between the k-th and (k+1)-th expert is <= 2 eps (the set
  of chosen experts may then differ), and, separately, tokens whose gap between two of their first k
  experts is <= 2 eps (only the slot order may differ). In probability terms the first is
  p_k - p_(k+1) <= p_(k+1) (e^(2 eps) - 1). Outside the near-ties the fixed-point choice provably
  equals the float one (each logit is off by at most eps), so "disagreements outside" must be 0;
* agreement per token (same set of k experts) and per slot;
* the probability error (max abs, vs the float probability of the same expert) of the chosen
  experts, for p (PROB_FORMAT) and for the score (act), and over all experts;
* the per-expert queue lengths (the routing histogram the expert schedule sees);
* the MoE output (moe_acc) against the float model's ``layer1.moe``, over the tokens routed alike
  (published runs: the expert matrices are seeded stand-ins, so this row is indicative only).

Runs: Edge-MoE's published weights (edge_moe.yaml; stand-in expert matrices) on the Edge-MoE frame
and the packaged photographs, both tasks, when the weights are present (else the reason is printed);
and seeded weights for ``--config`` (default tiny.yaml) on the photographs, both tasks.

Usage: python scripts/moe_routing.py [--config tiny] [--seed 0] [--no-published] [--update docs/moe.md]
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np

from python_ref.config import Config
from python_ref.kernels.moe import MoEWeights, Routing, gate_logits, moe_raw, route
from python_ref.kernels.softmax import PROB_FORMAT
from scripts.cli import config_or_exit, images_or_exit, publish

SECTION = "moe_routing"
LAYER = 1
PHOTOS = ("chelsea", "astronaut", "coffee", "rocket")


@dataclass
class Agreement:
    """Fixed-point routing vs the float model for one run (see the module docstring)."""

    tokens: int
    k: int
    logit_err: float
    logit_err_engine: float  # fixed logits vs float64 on the same quantized operands (nan if not given)
    near_set: np.ndarray  # (T,) bool: gap k-th vs (k+1)-th <= 2 eps
    near_order: np.ndarray  # (T,) bool: not near_set, but a gap among the first k <= 2 eps
    set_agree: np.ndarray  # (T,) bool
    slot_agree: np.ndarray  # (T, k) bool
    min_gap_logit: float  # smallest float logit gap at the k-th place
    min_gap_prob: float  # smallest float p_k - p_(k+1)
    p_err_chosen: float
    score_err_chosen: float
    p_err_all: float
    p_err_softmax: float  # p vs float64 softmax of the fixed-point logits: the softmax unit alone
    queue_lengths: np.ndarray

    @property
    def outside_disagreements(self) -> int:
        """Tokens whose set or slot order differs although no near-tie allows it (must be 0)."""
        set_bad = ~self.set_agree & ~self.near_set
        order_bad = ~np.all(self.slot_agree, axis=1) & ~(self.near_set | self.near_order)
        return int((set_bad | order_bad).sum())


def compare(routing: Routing, tensors: dict, cfg: Config, layer: int = LAYER,
            exact_logits: np.ndarray | None = None) -> Agreement:
    """``exact_logits``: float64 logits of the quantized operands (x and W as the engine sees them)."""
    act = cfg.fmt("act")
    k, E = cfg.model.top_k, cfg.model.experts
    lf = np.asarray(tensors[f"layer{layer}.gate_logits"], dtype=np.float64)
    pf = np.asarray(tensors[f"layer{layer}.gate_probs"], dtype=np.float64)
    idx_f = np.asarray(tensors[f"layer{layer}.topk_idx"], dtype=np.int64)
    idx_x = routing.topk_idx
    eps = float(np.abs(act.to_float(routing.logits) - lf).max())
    s = -np.sort(-lf, axis=1)
    gaps = s[:, :-1] - s[:, 1:]  # gap j: j-th vs (j+1)-th largest float logit
    near_set = gaps[:, k - 1] <= 2 * eps if k < E else np.zeros(len(lf), bool)
    near_order = (np.any(gaps[:, :k - 1] <= 2 * eps, axis=1) if k > 1 else np.zeros(len(lf), bool)) & ~near_set
    ps = -np.sort(-pf, axis=1)
    p_fx = PROB_FORMAT.to_float(routing.p)
    chosen_f = np.take_along_axis(pf, idx_x, axis=1)
    return Agreement(
        tokens=len(lf), k=k, logit_err=eps,
        logit_err_engine=(float("nan") if exact_logits is None
                          else float(np.abs(act.to_float(routing.logits) - exact_logits).max())),
        near_set=near_set, near_order=near_order,
        set_agree=np.all(np.sort(idx_x, axis=1) == np.sort(idx_f, axis=1), axis=1),
        slot_agree=idx_x == idx_f,
        min_gap_logit=float(gaps[:, k - 1].min()) if k < E else float("inf"),
        min_gap_prob=float((ps[:, k - 1] - ps[:, k]).min()) if k < E else float("inf"),
        p_err_chosen=float(np.abs(np.take_along_axis(p_fx, idx_x, axis=1) - chosen_f).max()),
        score_err_chosen=float(np.abs(act.to_float(routing.topk_score) - chosen_f).max()),
        p_err_all=float(np.abs(p_fx - pf).max()),
        p_err_softmax=float(np.abs(p_fx - _softmax64(act.to_float(routing.logits))).max()),
        queue_lengths=routing.queue_lengths,
    )


def _softmax64(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class Run:
    label: str  # weights
    image: str
    task: int
    agreement: Agreement
    moe_err: float  # max |moe_acc - float moe| over the tokens routed alike
    moe_max: float  # max |float moe|
    stand_in: bool


def fixed_routing(cfg: Config, x_float: np.ndarray, weights: MoEWeights, task: int) -> Routing:
    x = cfg.fmt("act").from_float(x_float).astype(np.int64)
    return route(gate_logits(x, weights.w_gate, task, cfg), cfg)


def measure_run(cfg: Config, tensors: dict, weights: MoEWeights, task: int, label: str, image: str,
                stand_in: bool, with_moe: bool = True) -> Run:
    act = cfg.fmt("act")
    x = act.from_float(tensors[f"layer{LAYER}.ln2"]).astype(np.int64)
    if with_moe:
        res = moe_raw(x, weights, task, cfg)
        routing = res.routing
    else:
        routing = route(gate_logits(x, weights.w_gate, task, cfg), cfg)
    exact = act.to_float(x) @ cfg.fmt("gate_weight").to_float(weights.w_gate[task]).T
    ag = compare(routing, tensors, cfg, exact_logits=exact)
    moe_f = np.asarray(tensors[f"layer{LAYER}.moe"], dtype=np.float64)
    moe_err = float("nan")
    if with_moe:
        same = ag.set_agree
        moe_err = float(np.abs(act.to_float(res.moe_acc) - moe_f)[same].max()) if same.any() else float("nan")
    return Run(label, image, task, ag, moe_err, float(np.abs(moe_f).max()), stand_in)


def published_runs(images, with_moe: bool = True) -> tuple[list, str | None]:
    from cosim.moe_vectors import published_moe_weights
    from python_ref.model.real_data import missing_reason, published_run

    reason = missing_reason()
    if reason:
        return [], reason
    runs = []
    weights, stand_ins = published_moe_weights(0)  # the stand-ins of published_run (seed 0)
    for image in images:
        for task in (0, 1):
            r = published_run(image, task)
            assert set(stand_ins) <= set(r.stand_ins)
            runs.append(measure_run(r.cfg, r.tensors, weights, task, "published", image, bool(stand_ins), with_moe))
    return runs, None


def seeded_runs(cfg: Config, seed: int, images, with_moe: bool = True) -> list:
    import torch

    from python_ref.model import M3ViT, load_image, seeded_weights

    torch.set_num_threads(1)
    ws = seeded_weights(cfg, seed)
    model = M3ViT.from_weights(cfg, ws, dtype=torch.float64)
    weights = MoEWeights.from_float(ws.tensors, LAYER, cfg)
    runs = []
    for image in images:
        im = load_image(cfg, image)
        for task in range(cfg.model.tasks):
            _, caps = model(torch.as_tensor(im.pixels), task, capture=True)
            tensors = {n: v.numpy() for n, v in caps.items()}
            runs.append(measure_run(cfg, tensors, weights, task, f"seeded {seed}", image, False, with_moe))
    return runs


def _e(v: float) -> str:
    return "inf" if v == float("inf") else ("-" if v != v else f"{v:.2e}")


def tables(cfg_name: str, runs: list) -> str:
    if not runs:
        return ""
    k = runs[0].agreement.k
    slots = " | ".join(f"slot {j}" for j in range(k))
    lines = [f"| weights | image | task | max logit error eps (engine only) | near-ties: k-th place / order only | "
             f"same {k} experts | {slots} | disagreements outside near-ties | min float gap at k-th: logit / p | "
             f"p error, chosen / all experts (softmax alone) | score (act) error, chosen |",
             "|" + "---|" * (10 + k)]
    for r in runs:
        a = r.agreement
        slot_cells = " | ".join(f"{int(a.slot_agree[:, j].sum())}/{a.tokens}" for j in range(k))
        ns, no = int(a.near_set.sum()), int(a.near_order.sum())
        ns_txt = f"{ns}" + (f" ({int(a.set_agree[a.near_set].sum())} agree)" if ns else "")
        no_txt = f"{no}" + (f" ({int(np.all(a.slot_agree[a.near_order], axis=1).sum())} agree)" if no else "")
        lines.append(f"| {r.label} | {r.image} | {r.task} | {_e(a.logit_err)} ({_e(a.logit_err_engine)}) | {ns_txt} / {no_txt} | "
                     f"{int(a.set_agree.sum())}/{a.tokens} | {slot_cells} | {a.outside_disagreements} | "
                     f"{_e(a.min_gap_logit)} / {_e(a.min_gap_prob)} | {_e(a.p_err_chosen)} / {_e(a.p_err_all)} ({_e(a.p_err_softmax)}) | "
                     f"{_e(a.score_err_chosen)} |")
    E = len(runs[0].agreement.queue_lengths)
    lines += ["", f"Queue lengths per expert ({cfg_name}, layer {LAYER}; tokens x k = "
              f"{runs[0].agreement.tokens * k} per run):", "",
              "| weights | image | task | active | " + " | ".join(f"e{e}" for e in range(E)) + " | longest |",
              "|" + "---|" * (E + 5)]
    for r in runs:
        q = r.agreement.queue_lengths
        lines.append(f"| {r.label} | {r.image} | {r.task} | {int((q > 0).sum())} | "
                     + " | ".join(str(int(v)) for v in q) + f" | {int(q.max())} |")
    lines += ["", f"MoE output (moe_acc) vs the float model's `layer{LAYER}.moe`, tokens routed alike:", "",
              "| weights | image | task | max abs error | max abs float value | expert matrices |", "|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r.label} | {r.image} | {r.task} | {_e(r.moe_err)} | {r.moe_max:.3g} | "
                     f"{'seeded stand-ins (indicative only)' if r.stand_in else 'as loaded'} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/tiny.yaml", help="config of the seeded-weight runs")
    ap.add_argument("--seed", type=int, default=0, help="seed of the seeded weights")
    ap.add_argument("--no-published", action="store_true", help="skip the published-weight runs")
    ap.add_argument("--images", default=",".join(("edge_moe",) + PHOTOS),
                    help="images of the published runs (the seeded runs use the photographs)")
    ap.add_argument("--update", default=None, help=f"markdown file with <!-- BEGIN {SECTION} --> markers")
    args = ap.parse_args(argv)
    cfg = config_or_exit(args.config)
    images = images_or_exit(args.images)

    parts = []
    if not args.no_published:
        runs, reason = published_runs(images)
        if reason:
            parts.append(f"**Published weights**: skipped: {reason}.")
        else:
            parts.append("**Published weights** (edge_moe.yaml; Edge-MoE's trained gates, which are exact at "
                         "layer 1; expert matrices are seeded stand-ins, seed 0), float64 model, layer 1:\n\n"
                         + tables("edge_moe", runs))
    photos = [i for i in images if i in PHOTOS] or list(PHOTOS)
    runs = seeded_runs(cfg, args.seed, photos)
    parts.append(f"**Seeded weights** ({cfg.name}, seed {args.seed}), float64 model, layer 1:\n\n" + tables(cfg.name, runs))
    cmd = "`.venv/bin/python scripts/moe_routing.py" + (f" --config {args.config}" if args.config != "configs/tiny.yaml"
                                                        else "") + " --update docs/moe.md`"
    text = "\n\n".join(parts) + f"\n\nReproduce: {cmd} (published runs need `EDGE_MOE_WEIGHTS` or ../shared/edge_moe_weights)."
    publish(text, args.update, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
