"""The tasks of ``bench_small_data.py``: generated data sets standing for small real
ones, each drawn for a seed and split into training and held-out test parts."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from sklearn.model_selection import train_test_split

from sklstm.datasets import (
    make_drift_regression,
    make_motion_recordings,
    make_sequence_regression,
    make_shape_in_series,
    make_subtle_shape,
    make_trending_series,
)
from sklstm.windows import make_windows

#: Tasks split by time (windows of one series), not shuffled.
FORECASTS = ("trend_forecast",)


class Task(NamedTuple):
    description: str
    classification: bool
    X_train: Any
    X_test: Any
    y_train: np.ndarray
    y_test: np.ndarray
    forecast: bool = False  # windows of one series in time order, split by time


def split_samples(X, y, n_train, seed, classification, ordered=False):
    """Train and test parts: stratified and shuffled, or the first ``n_train`` in order.

    ``n_train``: a number of samples, or a share of them (a float below 1).
    """
    index = np.arange(len(y))
    if ordered:
        cut = n_train if isinstance(n_train, int) else round(n_train * len(y))
        train, test = index[:cut], index[cut:]
    else:
        train, test = train_test_split(index, train_size=n_train, random_state=seed,
                                       stratify=y if classification else None)
    take = (lambda Z, i: [Z[j] for j in i]) if isinstance(X, list) else (lambda Z, i: Z[i])
    return take(X, train), take(X, test), y[train], y[test]


def task_specs(seed):
    """name -> (description, classification?, make () -> (X, y), n_train); nothing drawn."""
    return {
        "shape_middle": ("univariate, 300 steps, 3 shapes in the middle, 150 train", True,
                         lambda: make_shape_in_series(400, 300, 3, position="middle",
                                                      random_state=seed), 150),
        "event_end": ("univariate, 500 steps, 2 shapes at the end, 100 train", True,
                      lambda: make_shape_in_series(300, 500, 2, position="end",
                                                   random_state=seed + 1), 100),
        "motion": ("6 channels, 120 steps, 4 gestures, 48 train", True,
                   lambda: make_motion_recordings(200, 120, 6, 4, random_state=seed + 2), 48),
        "motion_ragged": ("3 channels, 100-250 steps (ragged), 3 gestures, 120 train", True,
                          lambda: make_motion_recordings(320, 250, 3, 3, variable_length=True,
                                                         random_state=seed + 3), 120),
        "drift_small_scale": ("2 channels, 200 steps, y ~ 1e-3 spread over the series, "
                              "200 train", False,
                              lambda: make_drift_regression(500, 200, 2,
                                                            random_state=seed + 4), 200),
        "lags_large_scale": ("3 channels, 24 steps, y ~ 5000 +- 1000 from the last steps, "
                             "300 train", False, lambda: _large_scale(seed + 5), 300),
        "subtle_plateau": ("univariate, 300 steps, a small narrow or wide bump (same area) "
                           "on a smooth background, 100 train", True,
                           lambda: make_subtle_shape(300, 300, random_state=seed + 6), 100),
        "shape_random_position": ("univariate, 400 steps, 3 shapes at any position, "
                                  "120 train", True,
                                  lambda: make_shape_in_series(360, 400, 3, position="anywhere",
                                                               random_state=seed + 7), 120),
        "trend_forecast": ("one series, trend + season + noise, 48-step windows, next value, "
                           "first 400 train, last 112 test (by time)", False,
                           lambda: _trend_windows(seed + 8), 400),
    }


def make_tasks(seed):
    """name -> Task: the data of every task drawn and split for this seed."""
    tasks = {}
    for name, (description, classification, make, n_train) in task_specs(seed).items():
        X, y = make()
        ordered = name in FORECASTS
        tasks[name] = Task(description, classification,
                           *split_samples(X, y, n_train, seed, classification, ordered),
                           forecast=ordered)
    return tasks


def _large_scale(seed):
    X, y = make_sequence_regression(600, 24, 3, random_state=seed)
    return X, 1000 * y + 5000


def _trend_windows(seed):
    """512 windows of 48 steps (and the next value) of a 560-step trending series."""
    return make_windows(make_trending_series(560, random_state=seed), lookback=48)
