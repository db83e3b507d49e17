"""The rows of ``bench_small_data.py`` that are not sklstm: what a user might pick
instead (LSTM-FCN, 1-NN under DTW, ridge on the lags, the last value)."""

from __future__ import annotations

import sys
import time

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklstm.preprocessing import SequencePadder, SequenceScaler

#: row -> why it was skipped (a package missing), printed once and written in the report.
SKIPPED: dict[str, str] = {}
EXTRA = "pip install 'sklstm[benchmarks]'"


def run_lstmfcn(task, seed, trials):
    _, classification, X_train, X_test, y_train, y_test, _ = task
    if not classification:
        return None
    try:
        from sktime.classification.deep_learning.lstmfcn import LSTMFCNClassifierTorch
    except ImportError:
        return _skipped("lstmfcn", f"sktime is not installed ({EXTRA})")
    scaler = SequenceScaler().fit(X_train)
    padder = SequencePadder().fit(scaler.transform(X_train))  # LSTM-FCN needs equal lengths

    def channels_first(X):
        padded = padder.transform(scaler.transform(X))
        padded = padded[:, :, None] if padded.ndim == 2 else padded
        return np.ascontiguousarray(padded.transpose(0, 2, 1), dtype=np.float32)

    start = time.perf_counter()
    clf = LSTMFCNClassifierTorch(random_state=seed)
    clf.fit(channels_first(X_train), y_train)
    score = float(np.mean(clf.predict(channels_first(X_test)) == y_test))
    return {"score": score, "time": time.perf_counter() - start}


def _skipped(row, reason):
    """None (no result), saying once why ``row`` was not run."""
    if row not in SKIPPED:
        SKIPPED[row] = reason
        print(f"{row} skipped: {reason}", file=sys.stderr, flush=True)
    return None


def run_dtw_1nn(task, seed, trials):
    if not task.classification:
        return None
    try:
        from tslearn.neighbors import KNeighborsTimeSeriesClassifier
        from tslearn.utils import to_time_series_dataset
    except ImportError:
        return _skipped("dtw_1nn", f"tslearn is not installed ({EXTRA})")
    scaler = SequenceScaler().fit(task.X_train)

    def series(X):  # (n, T, channels); ragged series NaN-padded, read at their own length
        return to_time_series_dataset(scaler.transform(X))

    start = time.perf_counter()
    clf = KNeighborsTimeSeriesClassifier(n_neighbors=1, metric="dtw", n_jobs=1)
    clf.fit(series(task.X_train), task.y_train)
    score = float(np.mean(clf.predict(series(task.X_test)) == task.y_test))
    return {"score": score, "time": time.perf_counter() - start}


def _flat(X):
    """Every lag of every channel as one feature row per window."""
    return np.asarray(X).reshape(len(X), -1)


def run_ridge_ar(task, seed, trials):
    if task.classification:
        return None
    if isinstance(task.X_train, list):
        return _skipped("ridge_ar", "ragged windows have no fixed set of lags to flatten")
    start = time.perf_counter()
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    model.fit(_flat(task.X_train), task.y_train)
    return {"score": model.score(_flat(task.X_test), task.y_test),
            "time": time.perf_counter() - start, "best": {"alpha": model[-1].alpha_}}


def run_naive(task, seed, trials):
    if not task.forecast:
        return None
    start = time.perf_counter()
    last = np.asarray(task.X_test)[:, -1, 0]  # the target column: make_windows' column 0
    return {"score": r2_score(task.y_test, last), "time": time.perf_counter() - start}
