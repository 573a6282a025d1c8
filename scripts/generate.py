#!/usr/bin/env python3
"""Generate (or, with --check, verify) hls/generated/NAME/*.h and rtl/generated/NAME/model_pkg.sv
from configs/NAME.yaml (python_ref/codegen.py), and with --all the FuseSoC cores rtl/cores/*.core
(cosim/fusesoc.py)."""
import argparse
import sys
from pathlib import Path

from cosim.fusesoc import outputs as fusesoc_outputs
from python_ref.codegen import outputs
from python_ref.config import ConfigError, all_configs, load_config


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("configs", nargs="*", help="config files or names (default with --all: every configs/*.yaml)")
    ap.add_argument("--all", action="store_true", help="every configs/*.yaml")
    ap.add_argument("--check", action="store_true", help="do not write; fail if a generated file is stale")
    args = ap.parse_args()
    paths = all_configs() if args.all or not args.configs else args.configs
    stale = []
    try:
        cfgs = [load_config(p) for p in paths]
        files = {path: text for cfg in cfgs for path, text in outputs(cfg).items()}
        if args.all or not args.configs:
            files.update(fusesoc_outputs(cfgs))
        for path, text in files.items():
            current = path.read_text() if path.exists() else None
            if current == text:
                continue
            if args.check:
                stale.append(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if stale:
        for p in stale:
            print(f"stale: {p} (run `make generate`)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
