"""Fixtures of the profiling tests: data, a profile of it, pyplot, and a fit that fails."""

import os

import numpy as np
import pytest

import sklstm.estimators._base as estimator_base
from sklstm import LSTMClassifier, profile_batch_sizes

from . import FAST


@pytest.fixture(scope="package")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 30, 3)).astype(np.float32)
    y = np.arange(40) % 2
    return X, y


# (once for the package: the table's and the plot's tests read it too)
@pytest.fixture(scope="package")
def profile(data):
    X, y = data
    return profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4, 8],
                               seq_lens=[None, 10], n_steps=2)


@pytest.fixture
def pyplot():
    os.environ.setdefault("MPLBACKEND", "Agg")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture
def no_fit(monkeypatch):
    """Fail any fit of an sklstm estimator: for what must be refused before one."""
    def fit(self, X, y):
        raise AssertionError("fitted before the inputs were checked")

    monkeypatch.setattr(estimator_base.BaseLSTM, "fit", fit)
