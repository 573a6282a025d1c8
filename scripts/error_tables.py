#!/usr/bin/env python3
"""Error of each GELU method of python_ref (bit-exact to the C++ and the RTL) against float64 exact
(erf) GELU, evaluated on EVERY activation value in [-8, 8) (2^27 inputs for ap_fixed<32,10>).
Outside that interval both methods return ReLU(x) exactly and |GELU(x) - ReLU(x)| < 8*Phi(-8) < 1e-14.
"""
import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
from python_ref.config import GELU_METHODS
from scripts.cli import config_or_exit
from python_ref.kernels.gelu import gelu_raw
from scripts.results_doc import update_section


def with_gelu_method(cfg, method):
    g = dataclasses.replace(cfg.hardware.gelu, method=method)
    return dataclasses.replace(cfg, hardware=dataclasses.replace(cfg.hardware, gelu=g))


def gelu_errors(cfg, lo=-8.0, hi=8.0, chunk=1 << 22, stride=1):
    import torch
    act = cfg.fmt("act")
    start, stop = int(lo * 2 ** act.frac), int(hi * 2 ** act.frac)
    worst, worst_x, total, n = -1.0, 0.0, 0.0, 0
    total_tab, n_tab = 0.0, 0
    rng = cfg.hardware.gelu.table_range
    for a in range(start, stop, chunk * stride):
        x = np.arange(a, min(a + chunk * stride, stop), stride, dtype=np.int64)
        xf = act.to_float(x)
        err = np.abs(act.to_float(gelu_raw(x, cfg)) - torch.nn.functional.gelu(torch.from_numpy(xf)).numpy())
        i = int(np.argmax(err))
        if err[i] > worst:
            worst, worst_x = float(err[i]), float(xf[i])
        total += float(err.sum())
        n += err.size
        inside = np.abs(xf) < rng
        total_tab += float(err[inside].sum())
        n_tab += int(inside.sum())
    return {"max": worst, "argmax": worst_x, "mean": total / n, "mean_table": total_tab / max(n_tab, 1), "n": n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default="configs/edge_moe.yaml", help="formats and table shape (methods are swept)")
    ap.add_argument("--stride", type=int, default=1, help="evaluate every n-th input (1 = exhaustive)")
    ap.add_argument("--update", type=Path, help="write the table into this results document")
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    g = cfg.hardware.gelu
    rows = []
    for method in GELU_METHODS:
        t0 = time.time()
        r = gelu_errors(with_gelu_method(cfg, method), stride=args.stride)
        print(f"{method}: max {r['max']:.3e} at x={r['argmax']:.6f}, mean {r['mean']:.3e} "
              f"({r['n']} inputs, {time.time() - t0:.0f} s)", flush=True)
        rows.append((method, r))
    act = cfg.fmt("act")
    lines = [f"Every `{act.c_type}` input in [-8, 8) ({rows[0][1]['n']:,} values"
             f"{'' if args.stride == 1 else f', every {args.stride}th'}), against float64 erf GELU. "
             f"Table: {g.table_entries} entries x {g.table_format.width} bits = "
             f"{g.table_entries * g.table_format.width} bits ({g.table_format.c_type}), step 2^-{g.table_step_log2}, "
             f"ReLU for |x| >= {g.table_range}. Both methods use the same hardware; only the table contents differ. "
             f"Reproduce: `make errors`.", "",
             "| method | max abs error | at x | mean abs error, \\|x\\| < " + f"{g.table_range} | mean abs error, [-8, 8) |",
             "|---|---|---|---|---|"]
    for method, r in rows:
        lines.append(f"| {method} | {r['max']:.3e} | {r['argmax']:.6f} | {r['mean_table']:.3e} | {r['mean']:.3e} |")
    ratio = rows[0][1]["max"] / rows[1][1]["max"]
    lines += ["", f"minimax lowers the maximum error {ratio:.2f}x at zero hardware cost."]
    text = "\n".join(lines)
    print(text)
    if args.update:
        update_section(args.update, "gelu-errors", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
