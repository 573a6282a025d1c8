#!/usr/bin/env python3
"""Write C-sim vector files from python_ref for the vendor flow (make vitis-csim):
<out>/<kernel>/in.txt and <out>/<kernel>/expected.txt, the files hls/tb/<kernel>_tb.cpp reads."""
import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cosim.csim import write_ints  # noqa: E402
from cosim.vectors import gelu_directed, gelu_realistic, random_full  # noqa: E402
from scripts.cli import config_or_exit  # noqa: E402


def gelu_vectors(cfg):
    from python_ref.kernels.gelu import gelu_raw
    x = np.concatenate([gelu_directed(cfg), random_full(cfg, 100_000, 201), gelu_realistic(cfg, 100_000, 202)])
    return {"in.txt": x, "expected.txt": gelu_raw(x, cfg)}


EXPORTERS = {"gelu": gelu_vectors}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--kernels", nargs="*", default=list(EXPORTERS))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    for k in args.kernels:
        if k not in EXPORTERS:
            print(f"error: no vector exporter for kernel {k!r}; kernels: {', '.join(EXPORTERS)}", file=sys.stderr)
            return 2
        d = args.out / k
        d.mkdir(parents=True, exist_ok=True)
        for name, arr in EXPORTERS[k](cfg).items():
            write_ints(d / name, arr)
        print(f"wrote {d}/in.txt, expected.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
