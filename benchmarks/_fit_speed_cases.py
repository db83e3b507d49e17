"""What ``bench_fit_speed.py`` trains: the model sizes, their data, and the optimizer
settings that all three implementations (hand loop, sklstm, skorch) share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sklstm.training.optimizers import optimizer_defaults

IMPLS = ("hand", "sklstm", "skorch")
LR = 1e-3
ADAM_KWARGS = optimizer_defaults(torch.optim.Adam, torch.device("cpu"), None)
N_CLASSES = 2


@dataclass(frozen=True)
class Size:
    name: str
    n_samples: int
    n_timesteps: int
    n_features: int
    hidden_size: int


SIZES = {
    "small": Size("small", 20_000, 10, 4, 16),
    "medium": Size("medium", 4_000, 100, 8, 128),
}


def make_data(size, seed=0):
    """Float32 sequences and int64 binary labels, identical for all three."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(size.n_samples, size.n_timesteps, size.n_features))
    X = X.astype(np.float32)
    y = (X[:, -3:, 0].sum(axis=1) > 0).astype(np.int64)
    return X, y
