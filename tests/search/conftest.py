"""Shared, deliberately tiny fixtures for the search tests (2 CPU cores, < 3 min total)."""

import uuid

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.preprocessing import SequenceScaler

from ..settings import TINY
from .helpers import POSTGRES_URL, needs_postgres

#: A 2-class problem an LSTM with 4 units learns within two epochs (2-fold CV accuracy
#: 0.97-1.0 at lr=0.03, 0.5 at lr=1e-6): the level of channel 0 tells the classes apart.
N_SAMPLES, N_TIMESTEPS, N_FEATURES = 60, 8, 2


@pytest.fixture(scope="session")
def data():
    """(X, y): float32 sequences (60, 8, 2) and balanced binary labels."""
    rng = np.random.default_rng(0)
    y = rng.permutation(np.arange(N_SAMPLES) % 2)
    X = rng.normal(size=(N_SAMPLES, N_TIMESTEPS, N_FEATURES)).astype(np.float32)
    X[:, :, 0] += 0.8 * (2 * y - 1)[:, None]
    return X, y


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


@pytest.fixture(params=["journal", "sqlite", pytest.param("postgres", marks=needs_postgres)])
def storage_url(request, tmp_path):
    """A fresh storage URL of each kind (postgres: the test server, shared across tests)."""
    return {"journal": lambda: str(tmp_path / "study.journal"),
            "sqlite": lambda: f"sqlite:///{tmp_path / 'study.db'}",
            "postgres": lambda: POSTGRES_URL}[request.param]()


@pytest.fixture
def study_name():
    """A unique study name: a PostgreSQL database outlives the test run."""
    return f"test-{uuid.uuid4().hex[:8]}"
