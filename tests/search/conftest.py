"""Shared, deliberately tiny fixtures for the search tests (2 CPU cores, < 3 min total)."""

import uuid

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequenceScaler

from ..settings import TINY
from .helpers import POSTGRES_URL, needs_postgres

#: A 2-class problem an LSTM with 4 units learns within a couple of epochs.
N_SAMPLES, N_TIMESTEPS, N_FEATURES = 60, 8, 2


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
