"""Shared test vectors: python_ref tests, C-sim tests, the cocotb testbenches and `make sim` draw
from the same sets."""
import numpy as np

from python_ref.config import Config


def gelu_directed(cfg: Config) -> np.ndarray:
    """Corners: 0, +-1 LSB, min, max, every table node and +-1 LSB around it, +-range and around it."""
    act = cfg.fmt("act")
    g = cfg.hardware.gelu
    t_bits = act.frac - g.table_step_log2
    nodes = np.arange(g.table_entries, dtype=np.int64) << t_bits
    around = np.concatenate([nodes - 1, nodes, nodes + 1, nodes + (1 << (t_bits - 1))])
    around = around[(around >= 0) & (around <= act.raw_max)]
    x = np.concatenate([[0, 1, -1, 2, -2, act.raw_min, act.raw_min + 1, act.raw_max, act.raw_max - 1],
                        around, -around])
    return np.unique(x.clip(act.raw_min, act.raw_max)).astype(np.int64)


def random_full(cfg: Config, n: int, seed: int) -> np.ndarray:
    act = cfg.fmt("act")
    return np.random.default_rng(seed).integers(act.raw_min, act.raw_max + 1, n, dtype=np.int64)


def gelu_realistic(cfg: Config, n: int, seed: int) -> np.ndarray:
    """Pre-activation values as a trained MLP produces them: normal, sigma between 0.5 and 3."""
    rng = np.random.default_rng(seed)
    sigma = rng.uniform(0.5, 3.0, n)
    return cfg.fmt("act").from_float(rng.normal(0.0, 1.0, n) * sigma).astype(np.int64)
