#!/usr/bin/env python3
"""Time the float model: forward pass (median of --runs after one warm-up run) with and without
capture, in float32 and float64, and the golden generation (model + capture + .npz write for one
image and task). torch uses --threads threads (default 2, the CI machine's cores).

  scripts/model_speed.py --config configs/edge_moe.yaml [--runs 10] [--threads 2]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time



def median_time(fn, runs: int) -> tuple[float, float, float, float]:
    """(median wall, min wall, max wall, median CPU time of the process) in seconds. CPU time (all
    threads) is reported too because shared machines inflate wall time unpredictably."""
    fn()  # warm-up (first-call allocations, oneDNN primitive creation)
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), min(times), max(times), statistics.median(cpu)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/edge_moe.yaml")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", default="auto")
    args = ap.parse_args()

    import torch

    from scripts.golden import choose_weights
    from python_ref.config import load_config
    from python_ref.model import M3ViT, load_image
    from python_ref.model.golden import generate

    torch.set_num_threads(args.threads)
    print(f"load average at the start: {' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    cfg = load_config(args.config)
    weights, _, note = choose_weights(cfg, args.weights, args.seed, stand_in_experts=True)
    image = load_image(cfg, "chelsea")
    print(f"config {cfg.name}; weights: {note}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"median of {args.runs} runs (min, max)")
    for dtype in (torch.float32, torch.float64):
        model = M3ViT.from_weights(cfg, weights, dtype)
        for capture in (False, True):
            med, lo, hi, cpu = median_time(lambda: model(image.pixels, 0, capture=capture), args.runs)
            print(f"  forward {str(dtype).split('.')[1]:7s} capture={capture!s:5s}: {med * 1e3:8.1f} ms "
                  f"(min {lo * 1e3:.1f}, max {hi * 1e3:.1f}; CPU {cpu * 1e3:.1f} ms)")
    with tempfile.TemporaryDirectory() as tmp:
        def golden_once():
            model = M3ViT.from_weights(cfg, weights, torch.float32)
            generate(model, weights, image, 0, tmp)

        med, lo, hi, cpu = median_time(golden_once, max(3, args.runs // 2))
        print(f"  golden file (build model + forward with capture + write .npz), one image and task: "
              f"{med:.2f} s (min {lo:.2f}, max {hi:.2f}; CPU {cpu:.2f} s)")
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
