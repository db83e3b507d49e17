"""Shared, deliberately tiny fixtures for the search tests (2 CPU cores, < 3 min total).

Registered for all test modules by ``pytest_plugins`` in conftest.py.
"""

import os
import subprocess
import sys
import uuid

import numpy as np
import optuna
import pytest
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequenceScaler
from sklstm.search import resolve_storage

#: A 2-class problem an LSTM with 4 units learns within a couple of epochs.
N_SAMPLES, N_TIMESTEPS, N_FEATURES = 60, 8, 2

#: Estimator settings small enough for ~0.1 s fits.
TINY = dict(hidden_size=4, max_epochs=2, batch_size=8, lr=0.03, random_state=0, n_threads=1)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

POSTGRES_URL = os.environ.get("SKLSTM_TEST_POSTGRES_URL")
#: Marks of the tests that need the PostgreSQL server .ci/run starts.
needs_postgres = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="SKLSTM_TEST_POSTGRES_URL is not set"),
]


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


def _start(argv):
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    )


def cli(*args):
    """``python -m sklstm ARGS`` as a started subprocess (text pipes, repo on PYTHONPATH)."""
    return _start(["-m", "sklstm", *map(str, args)])


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


def load_study(storage_url, study_name):
    """The study as Optuna reads it back from the storage."""
    return optuna.load_study(study_name=study_name, storage=resolve_storage(storage_url))


def python(code, *args):
    """``python -c CODE ARGS`` as a started subprocess (text pipes, repo on PYTHONPATH)."""
    return _start(["-c", code, *map(str, args)])
