"""Shared test settings and data."""

import signal

import numpy as np
import pytest
import torch

from .settings import TINY

# One torch thread per test process: tiny LSTMs run faster single-threaded, and
# pytest-xdist workers would otherwise oversubscribe the cores.
torch.set_num_threads(1)


@pytest.fixture
def tiny():
    """Small, fast estimator settings for tests that only need a working model."""
    return dict(TINY)


@pytest.fixture
def seq_data():
    """A learnable 3D classification/regression problem: (X, y_class, y_reg)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 12, 3)).astype(np.float32)
    y_reg = X[:, -3:, 0].sum(axis=1)
    y_class = np.where(y_reg > 0, "up", "down")
    return X, y_class, y_reg


@pytest.fixture
def default_ctrl_c():
    """Python's own SIGINT handler for the test (a test worker may have another)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
