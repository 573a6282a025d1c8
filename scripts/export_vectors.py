#!/usr/bin/env python3
"""Write each kernel's C-sim vector folder from python_ref (the registry's ``vectors`` entry:
cosim.csim.VectorSet): <out>/<kernel>/meta.txt, the input files and expected.txt, exactly what
hls/tb/<kernel>_tb.cpp reads (hls/tb/tb_io.h) under `make vitis-csim` and the open C-sim."""
import argparse
import sys
from pathlib import Path

from cosim.registry import KERNELS, resolve
from scripts.cli import config_or_exit


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--kernels", nargs="*", default=list(KERNELS))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    cfg = config_or_exit(args.config)
    unknown = [k for k in args.kernels if k not in KERNELS]
    if unknown:
        print(f"error: no kernel named {', '.join(unknown)}; kernels: {', '.join(KERNELS)}", file=sys.stderr)
        return 2
    for k in args.kernels:
        vectors = resolve(KERNELS[k].vectors)(cfg)
        d = vectors.write(args.out / k)
        print(f"wrote {d} ({vectors.expected.size:,} expected values)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
