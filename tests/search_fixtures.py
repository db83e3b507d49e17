"""Shared, deliberately tiny fixtures for the search tests (2 CPU cores, < 3 min total).

Registered for all test modules by ``pytest_plugins`` in conftest.py.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequenceScaler

#: A 2-class problem an LSTM with 4 units learns within a couple of epochs.
N_SAMPLES, N_TIMESTEPS, N_FEATURES = 60, 8, 2

#: Estimator settings small enough for ~0.1 s fits.
TINY = dict(hidden_size=4, max_epochs=2, batch_size=8, lr=0.03, random_state=0, n_threads=1)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def data():
    """(X, y): float32 sequences (60, 8, 2) and binary labels."""
    return make_sequence_classification(
        N_SAMPLES, N_TIMESTEPS, N_FEATURES, n_classes=2, noise=0.2, random_state=0
    )


@pytest.fixture
def pipeline():
    """SequenceScaler + tiny LSTMClassifier named ``lstm``."""
    return Pipeline([("scale", SequenceScaler()), ("lstm", LSTMClassifier(**TINY))])


@pytest.fixture
def npz_path(tmp_path, data):
    """The ``data`` fixture saved as an ``.npz`` file for the CLI."""
    path = tmp_path / "data.npz"
    np.savez(path, X=data[0], y=data[1])
    return path


def cli(*args):
    """``python -m sklstm ARGS`` as a started subprocess (text pipes, repo on PYTHONPATH)."""
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "sklstm", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
