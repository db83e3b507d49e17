"""Do sklstm's defaults learn on small data, and does ``tune()`` beat them?

Nine generated tasks stand for the hard cases of small real data sets (40-400 training
sequences, 24-500 timesteps, the signal at the end, in the middle, anywhere or spread
over the sequence, univariate and multichannel, classification, regression and
forecasting), each with a held-out test split of its own:

* ``shape_middle``, ``event_end``, ``motion``, ``motion_ragged``,
  ``drift_small_scale``, ``lags_large_scale``: a shape in the middle or at the end of
  a long series, a few dozen (ragged) multichannel recordings, a target on a small or
  a large scale;
* ``subtle_plateau``: long smooth series whose two classes differ by a small bump,
  narrow or wide at the same area (:func:`sklstm.datasets.make_subtle_shape`): on
  real data like this a fit first sits at the chance-level loss (ln 2);
* ``shape_random_position``: a class shape at any position in a long series
  (``make_shape_in_series(position="anywhere")``);
* ``trend_forecast``: one series with a linear trend, a season and noise
  (:func:`sklstm.datasets.make_trending_series`), cut into 48-step windows whose
  target is the next value, split by time: the first 400 windows train, the last 112
  test, and their levels lie above everything seen in training.

Splits are stratified and shuffled, except the forecast's, which is by time (as are
its validation splits: ``tune`` gets ``cv=make_window_splitter(3)``, the reference
validates on the last 25 % of the training windows). Every task is scored, on its
test split, by:

* ``defaults``: ``Pipeline([SequenceScaler(), LSTMClassifier(random_state=s)])``
  (or ``LSTMRegressor``), nothing else set: what a new user gets;
* ``tune``: :func:`sklstm.search.tune` at its defaults (20 trials, ``cv="auto"``, the
  default space, the estimator's own configuration as trial 0), then the best
  parameters refitted on the whole training split;
* ``reference``: the best of a large random search (``--reference-trials``
  configurations from a wide space, each fitted on 75 % of the training split and
  scored on the other 25 %), refitted on the whole training split;
* ``lstmfcn``: sktime's ``LSTMFCNClassifierTorch`` at its defaults, on the
  classification tasks, when sktime is installed: what a user might pick instead;
* ``dtw_1nn``: the nearest neighbour under dynamic time warping (tslearn's
  ``KNeighborsTimeSeriesClassifier(n_neighbors=1, metric="dtw")``, no warping window),
  on the classification tasks, after the defaults' ``SequenceScaler``; ragged series
  are NaN-padded by tslearn's ``to_time_series_dataset`` and its DTW compares them
  at their own lengths: the classic time-series baseline;
* ``ridge_ar``: ``RidgeCV`` (alphas 1e-3 to 1e3) on the flattened, standardized
  window values (every lag of every channel), on the regression and forecast tasks;
* ``naive``: the last value of each window as the forecast, on the forecast task;
* the defaults with one of them changed, which is how the defaults were chosen:
  ``last`` (``pooling="last"``), ``max``, ``mean``, ``attention`` (the other
  readouts), ``full_resolution`` (``downsample=1``), ``conv`` (the LSTM-FCN branch,
  ``conv_channels=64``);
* ``constant_lr``: the defaults before ``lr_schedule="adaptive"`` (a constant rate, a
  stop at the first plateau), and the candidates measured against it (issue 17), each
  that with one thing changed: ``patience_20``, ``patience_30`` (``n_iter_no_change``),
  ``lr_3e-3``, ``batch_8``, ``hidden_128``, and a plateau schedule as scikit-learn
  MLP's docstring words ``learning_rate="adaptive"`` (the rate divided by 5 after 2
  flat epochs, a skorch ``LRScheduler``): ``adaptive``, ``adaptive_20`` (with
  ``n_iter_no_change=20``), ``adaptive_gated`` (not at the chance level) and
  ``adaptive_gentle`` (halved after 4 flat epochs);
* ``relative``: ``LSTMRegressor(relative="last")`` without the scaler (the anchor must
  be in the target's units), on the forecast task (the others' targets are no column
  of X: relative to one, the drift task scored R^2 -25707).
* ``relative_ar``: ``relative`` with ``ar_window`` over the whole window (LSTNet's
  linear highway), on the forecast task; ``ar_8``, ``ar_24``, ``ar_48``: the defaults
  with ``ar_window`` 8, 24 or 48 (a window longer than a task's sequences is refused);
  ``ar_auto``: the defaults with ``ar_window="auto"`` (the whole sequence where
  there are four training sequences per weight of the map, else none);
* ``relative_mean``: the defaults with ``LSTMClassifier(relative="mean")`` (every
  recording centred on its own mean per channel), on the classification tasks;
  ``dropout_0.3``, ``dropout_0.5``: the defaults with that dropout before the head;
* ``conv_128``, ``conv_128_full``: the LSTM-FCN branch at the paper's sizes
  (``conv_channels=128``: 128, 256, 128 channels), at the defaults' resolution and
  at every step (``downsample=1``), measured on subtle_plateau;
* ``lstm_only``: the classifier's defaults before its convolutional branch
  (``conv_channels=None, lr=1e-2``, sequences as they are), and ``conv_lr_1e-2``: the
  branch at that rate;
* ``no_split``: the defaults with ``split_level=False``, ``split``: with
  ``split_level=True``;
* ``no_weight_decay``: the classifier without its L2 penalty, ``weight_decay_1e-2``
  and ``weight_decay_1e-4``: penalties of 1e-2 and 1e-4 (the default, since session 14;
  the rows were measured when it was 1e-3), ``adamw_1e-2``: AdamW's decoupled penalty
  at its own default, 1e-2;
* ``model_seed_0`` ... ``model_seed_5``: the defaults with ``random_state`` 0 to 5 on
  every seed's data (the other rows fit with ``random_state=seed``): how much one fit
  differs from the next; ``no_weight_decay_model_seed_0`` ... ``_5`` and
  ``weight_decay_1e-4_model_seed_0`` ... ``_5`` the same without the L2 penalty and
  at 1e-4.

A row that does not apply to a task shows ``-``. The packages of ``lstmfcn`` and
``dtw_1nn`` are the ``benchmarks`` extra (``pip install 'sklstm[benchmarks]'``, never a
dependency of sklstm); without them those rows are skipped, with the reason printed
and written under the table.

Scores are accuracy (classification) and R^2 (regression, forecast) on the test split,
as the mean over ``--seeds`` (each seed draws new data, a new split and new model
seeds). Wall times are whole seconds of fitting (and searching, and predicting for
``dtw_1nn``) on this machine, one thread. Run from the repository root::

    python benchmarks/bench_small_data.py                      # everything, several h
    python benchmarks/bench_small_data.py --rows defaults      # the defaults only
    python benchmarks/bench_small_data.py --tasks motion --seeds 0 --out -
    python benchmarks/bench_small_data.py --tasks trend_forecast --seeds 0 --out - \\
        --rows defaults,ridge_ar,naive           # one task against its references

Targets: the defaults within 3 points (accuracy, or R^2 x 100) of the reference on
every task; ``tune`` never below the defaults.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shlex
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import optuna
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution
from sklearn.base import clone
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import ParameterSampler, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import ReduceLROnPlateau

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.datasets import (
    make_drift_regression,
    make_motion_recordings,
    make_sequence_regression,
    make_shape_in_series,
    make_subtle_shape,
    make_trending_series,
)
from sklstm.preprocessing import SequencePadder, SequenceScaler
from sklstm.search import selected_params, selected_trial, tune
from sklstm.training.convergence import STOPPER
from sklstm.windows import make_window_splitter, make_windows

#: scikit-learn MLP's learning_rate="adaptive": the rate divided by 5 once the training
#: loss has not fallen by tol (1e-4) for 2 epochs (torch counts the third as the miss).
_PLATEAU = {"policy": ReduceLROnPlateau, "monitor": "train_loss", "factor": 0.2,
            "patience": 2, "threshold": 1e-4, "threshold_mode": "abs"}
PLATEAU_LR = LRScheduler(**_PLATEAU)


class GatedPlateauLR(LRScheduler):
    """PLATEAU_LR that keeps the rate while the training loss is at the chance level:
    a lower rate there only makes the starting plateau harder to leave."""

    def on_epoch_end(self, net, **kwargs):
        stopper = dict(net.callbacks_).get(STOPPER)
        if stopper is None or stopper.left_chance(net):
            super().on_epoch_end(net, **kwargs)


GATED_PLATEAU_LR = GatedPlateauLR(**_PLATEAU)
#: The classifier's defaults before its convolutional branch (issue 17, 2026-12-05),
#: which read the sequences as they are, without an L2 penalty.
_LSTM_ONLY = {"conv_channels": None, "lr": 1e-2, "split_level": False, "weight_decay": 0.0}
#: lr_schedule="constant": the defaults before issue 17 chose "adaptive".
_BEFORE = {"lr_schedule": "constant", **_LSTM_ONLY}
ROWS = ("defaults", "tune", "reference", "lstmfcn", "dtw_1nn", "ridge_ar", "naive")
#: Rows of the defaults with one parameter changed (not run unless asked for).
VARIANTS = {"last": {"pooling": "last"}, "max": {"pooling": "max"},
            "mean": {"pooling": "mean"}, "attention": {"pooling": "attention"},
            "full_resolution": {"downsample": 1},
            # LSTM-FCN's convolutional branch, (64, 128, 64) channels
            "conv": {"conv_channels": 64},
            # regularization of the readout (the gesture tasks: training accuracy 1.000,
            # test 0.95-0.99 against 1-NN DTW's 1.000)
            "dropout_0.3": {"dropout": 0.3}, "dropout_0.5": {"dropout": 0.5},
            # LSTNet's linear highway (the forecasts against ridge AR)
            "ar_8": {"ar_window": 8}, "ar_24": {"ar_window": 24}, "ar_48": {"ar_window": 48},
            # the window sized from the data (the whole sequence where there are four
            # training sequences per weight, else none)
            "ar_auto": {"ar_window": "auto"},
            # subtle_plateau (issue 17): LSTM-FCN's branch at the paper's sizes at full
            # resolution, and the conv branch at the defaults' resolution
            "conv_128": {"conv_channels": 128},
            # the classifier's defaults before conv_channels="auto" and lr=1e-3, and the
            # branch at the LSTM's rate (what the "conv" row measured before)
            "lstm_only": _LSTM_ONLY,
            "conv_lr_1e-2": {"conv_channels": 64, "lr": 1e-2, "split_level": False},
            # the classifier's defaults before split_level="auto" (sequences as they
            # are), and the split forced where "auto" would not split
            "no_split": {"split_level": False}, "split": {"split_level": True},
            # the classifier's defaults before weight_decay=1e-3 (no penalty), a
            # stronger one, and AdamW's decoupled penalty at AdamW's own default
            "no_weight_decay": {"weight_decay": 0.0},
            "weight_decay_1e-2": {"weight_decay": 1e-2},
            "adamw_1e-2": {"optimizer": "adamw", "weight_decay": 1e-2},
            # a tenth of it, the default since session 14: Adam's coupled penalty at 1e-3
            # pulled fits of classes that differ by when a bump comes to memorised noise
            "weight_decay_1e-4": {"weight_decay": 1e-4},
            **{f"weight_decay_1e-4_model_seed_{k}": {"weight_decay": 1e-4, "random_state": k}
               for k in range(6)},
            # one data set, other model seeds (random_state k: the fit-to-fit spread)
            **{f"model_seed_{k}": {"random_state": k} for k in range(6)},
            **{f"no_weight_decay_model_seed_{k}": {"weight_decay": 0.0, "random_state": k}
               for k in range(6)},
            "conv_128_full": {"conv_channels": 128, "downsample": 1},
            # the defaults before issue 17 (a constant rate, a stop at the first
            # plateau), and the candidates measured against them, each changing those
            "constant_lr": _BEFORE,
            "patience_20": {**_BEFORE, "n_iter_no_change": 20},
            "patience_30": {**_BEFORE, "n_iter_no_change": 30},
            "lr_3e-3": {**_BEFORE, "lr": 3e-3}, "batch_8": {**_BEFORE, "batch_size": 8},
            "hidden_128": {**_BEFORE, "hidden_size": 128},
            # MLP's adaptive rate as its docstring words it (a fall after 2 flat epochs)
            "adaptive": {**_BEFORE, "callbacks": [("lr_on_plateau", PLATEAU_LR)]},
            "adaptive_20": {**_BEFORE, "callbacks": [("lr_on_plateau", PLATEAU_LR)],
                            "n_iter_no_change": 20},
            "adaptive_gated": {**_BEFORE, "callbacks": [("lr_on_plateau", GATED_PLATEAU_LR)]},
            "adaptive_gentle": {**_BEFORE, "callbacks": [("lr_on_plateau", GatedPlateauLR(
                **{**_PLATEAU, "factor": 0.5, "patience": 4}))]}}
MARKER = "<!-- hand-written below; bench_small_data.py keeps it -->"
#: Tasks split by time (windows of one series), not shuffled.
FORECASTS = ("trend_forecast",)
#: row -> why it was skipped (a package missing), printed once and written in the report.
SKIPPED: dict[str, str] = {}
EXTRA = "pip install 'sklstm[benchmarks]'"

#: The reference's random search: wider than tune()'s default space.
REFERENCE_SPACE = {
    "lstm__pooling": ["last", "mean", "max", "attention", "concat"],
    "lstm__lr": FloatDistribution(1e-3, 5e-2, log=True),
    "lstm__hidden_size": [16, 32, 64, 128],
    "lstm__num_layers": [1, 2],
    "lstm__bidirectional": [False, True],
    "lstm__dropout": [0.0, 0.1, 0.3],
    "lstm__batch_size": [8, 16, 32, 64],
    "lstm__downsample": ["auto", 1, 2, 4, 8],
    "lstm__gradient_clip": [None, 1.0],
    "lstm__n_iter_no_change": [10, 20],
}


class Task(NamedTuple):
    description: str
    classification: bool
    X_train: Any
    X_test: Any
    y_train: np.ndarray
    y_test: np.ndarray
    forecast: bool = False  # windows of one series in time order, split by time


def _split(X, y, n_train, seed, classification, ordered=False):
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


def _task_specs(seed):
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
    for name, (description, classification, make, n_train) in _task_specs(seed).items():
        X, y = make()
        ordered = name in FORECASTS
        tasks[name] = Task(description, classification,
                           *_split(X, y, n_train, seed, classification, ordered),
                           forecast=ordered)
    return tasks


def _large_scale(seed):
    X, y = make_sequence_regression(600, 24, 3, random_state=seed)
    return X, 1000 * y + 5000


def _trend_windows(seed):
    """512 windows of 48 steps (and the next value) of a 560-step trending series."""
    return make_windows(make_trending_series(560, random_state=seed), lookback=48)


def _pipeline(classification, seed, **params):
    estimator = (LSTMClassifier if classification else LSTMRegressor)(
        **{"random_state": seed, "n_threads": 1, **params})
    return Pipeline([("scale", SequenceScaler()), ("lstm", estimator)])


def run_defaults(task, seed, trials, **changed):
    start = time.perf_counter()
    model = _pipeline(task.classification, seed, **changed).fit(task.X_train, task.y_train)
    took = time.perf_counter() - start
    lstm = model.named_steps["lstm"]
    return {"score": model.score(task.X_test, task.y_test), "time": took,
            "epochs": lstm.n_epochs_, "converged": bool(lstm.converged_),
            "split_level": bool(lstm.split_level_),
            # under-training or over-fitting: the score on the training split
            "train_score": round(model.score(task.X_train, task.y_train), 3)}


def run_tune(task, seed, trials):
    X_train, y_train = task.X_train, task.y_train
    pipeline = _pipeline(task.classification, seed)
    # windows of one series: validate on later windows than the ones trained on
    cv = make_window_splitter(3) if task.forecast else "auto"
    start = time.perf_counter()
    study = tune(pipeline, X_train, y_train, n_trials=trials, cv=cv,
                 storage=optuna.storages.InMemoryStorage(), study_name=f"bench-{seed}",
                 sampler=optuna.samplers.TPESampler(seed=seed))
    best = selected_trial(study)
    model = clone(pipeline).set_params(**selected_params(study, pipeline)).fit(X_train, y_train)
    baseline_folds = study.trials[0].user_attrs.get("fold_scores") or []
    return {"score": model.score(task.X_test, task.y_test), "time": time.perf_counter() - start,
            "best": best.params, "baseline_kept": best.number == 0,
            "optuna_best": study.best_trial.number,
            # the search's own noise: the standard error of the defaults' (trial 0's)
            # cross-validated score, and the selected trial's cross-validated score
            "cv_noise": _standard_error(baseline_folds),
            "defaults_cv": float(np.mean(baseline_folds)) if baseline_folds else None,
            "selected_cv": best.value}


def _standard_error(scores):
    """Standard error of the mean of ``scores`` (None for fewer than two)."""
    return float(np.std(scores, ddof=1) / np.sqrt(len(scores))) if len(scores) > 1 else None


def run_reference(task, seed, trials):
    classification, X_train, y_train = task.classification, task.X_train, task.y_train
    start = time.perf_counter()
    X_fit, X_val, y_fit, y_val = _split(X_train, y_train, 0.75, seed, classification,
                                        ordered=task.forecast)
    candidates = list(ParameterSampler(_sklearn_space(), n_iter=trials, random_state=seed))
    scored = []
    for params in candidates:
        model = _pipeline(classification, seed).set_params(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scored.append((model.fit(X_fit, y_fit).score(X_val, y_val), params))
    best_params = max(scored, key=lambda item: item[0])[1]
    model = _pipeline(classification, seed).set_params(**best_params).fit(X_train, y_train)
    return {"score": model.score(task.X_test, task.y_test), "time": time.perf_counter() - start,
            "best": {k.removeprefix("lstm__"): v for k, v in best_params.items()}}


def _sklearn_space():
    """REFERENCE_SPACE for ParameterSampler: lists as they are, the lr as log-uniform."""
    from scipy.stats import loguniform

    space = {}
    for name, spec in REFERENCE_SPACE.items():
        if isinstance(spec, FloatDistribution):
            space[name] = loguniform(spec.low, spec.high)
        elif isinstance(spec, CategoricalDistribution):
            space[name] = list(spec.choices)
        else:
            space[name] = spec
    return space


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


def run_relative(task, seed, trials, **changed):
    """The defaults forecasting relative to each window's last value (forecasts only:
    the target must be a column of X, and in its units, so no SequenceScaler either)."""
    if not task.forecast:
        return None
    start = time.perf_counter()
    model = LSTMRegressor(relative="last", random_state=seed, n_threads=1, **changed)
    model.fit(task.X_train, task.y_train)
    return {"score": model.score(task.X_test, task.y_test), "time": time.perf_counter() - start,
            "epochs": model.n_epochs_, "converged": bool(model.converged_)}


def run_relative_mean(task, seed, trials):
    """The defaults with ``LSTMClassifier(relative="mean")``: every recording centred on
    its own mean per channel (classification only)."""
    return run_defaults(task, seed, trials, relative="mean") if task.classification else None


def run_relative_ar(task, seed, trials):
    """``relative`` with LSTNet's linear highway over the whole window (forecasts only)."""
    return run_relative(task, seed, trials, ar_window=np.shape(task.X_train)[1])


def run_naive(task, seed, trials):
    if not task.forecast:
        return None
    start = time.perf_counter()
    last = np.asarray(task.X_test)[:, -1, 0]  # the target column: make_windows' column 0
    return {"score": r2_score(task.y_test, last), "time": time.perf_counter() - start}


RUNNERS = {"defaults": run_defaults, "tune": run_tune, "reference": run_reference,
           "lstmfcn": run_lstmfcn, "dtw_1nn": run_dtw_1nn, "ridge_ar": run_ridge_ar,
           "naive": run_naive, "relative": run_relative, "relative_ar": run_relative_ar,
           "relative_mean": run_relative_mean,
           **{name: functools.partial(run_defaults, **changed)
              for name, changed in VARIANTS.items()}}


# -- reporting ---------------------------------------------------------------------
def _mean(values):
    return statistics.fmean(values) if values else float("nan")


def table(results, tasks, rows):
    head = ("| task | what it is | " + " | ".join(
        f"{row} score | {row} s" for row in rows) + " |\n|---|---|"
        + "--:|--:|" * len(rows) + "\n")
    lines = []
    for name in tasks:
        cells = []
        for row in rows:
            runs = [r for r in results if r["task"] == name and r["row"] == row
                    and r["result"] is not None]
            if not runs:
                cells += ["-", "-"]
                continue
            scores = [r["result"]["score"] for r in runs]
            spread = f" ± {statistics.stdev(scores):.3f}" if len(scores) > 1 else ""
            cells += [f"{_mean(scores):.3f}{spread}",
                      f"{_mean([r['result']['time'] for r in runs]):.0f}"]
        lines.append(f"| {name} | {tasks[name].description} | " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def verdicts(results, tasks):
    out = []

    def mean_of(name, row):
        runs = [r["result"]["score"] for r in results
                if r["task"] == name and r["row"] == row and r["result"] is not None]
        return _mean(runs) if runs else None

    for name in tasks:
        d, t, ref = (mean_of(name, row) for row in ("defaults", "tune", "reference"))
        parts = [name]
        if d is not None and ref is not None:
            gap = 100 * (ref - d)
            parts.append(f"reference {gap:+.1f} points vs the defaults "
                         f"({'met' if gap <= 3 else 'NOT met'}: at most +3)")
        if d is not None and t is not None:
            noise = _mean([r["result"]["cv_noise"] for r in results if r["task"] == name
                           and r["row"] == "tune" and r["result"] is not None
                           and r["result"].get("cv_noise") is not None])
            parts.append(f"tune {100 * (t - d):+.1f} points vs the defaults "
                         f"({'met' if t >= d - noise else 'NOT met'}: at least minus the CV "
                         f"noise, the standard error of the defaults' CV score, "
                         f"{100 * noise:.1f} points)")
        out.append("- " + "; ".join(parts))
    return "\n".join(out) + "\n"


def report(results, tasks, rows, command, started, elapsed, seeds, trials, tune_trials):
    return (
        "# Small data: defaults, tune() and a reference search\n\n"
        f"Command (run from the repository root, {started}, took {elapsed / 60:.0f} min):\n\n"
        f"```\n{command}\n```\n\n"
        f"Machine: {os.cpu_count()} logical cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, sklstm {sklstm.__version__}, one torch thread.\n\n"
        f"Seeds {seeds} (mean ± standard deviation over them); tune: {tune_trials} trials; "
        f"reference: {trials} random configurations, selected on a validation split of "
        "the training data (for trend_forecast: the last 25 % of its windows; tune: "
        "make_window_splitter(3)). Scores on the held-out test split (trend_forecast: its "
        "last windows, by time): accuracy, or R^2 for the regression and forecast tasks. "
        "Times: seconds of fitting and searching per seed. Other rows: lstmfcn (sktime's "
        "LSTM-FCN), dtw_1nn (1-NN under DTW, tslearn), ridge_ar (RidgeCV on the flattened, "
        "standardized windows), naive (each window's last value); `-` where a row does "
        "not apply.\n\n"
        + table(results, tasks, rows)
        + "".join(f"\n{row} skipped: {reason}.\n" for row, reason in SKIPPED.items()
                  if row in rows)
        + "\nTargets (means over the seeds):\n\n" + verdicts(results, tasks)
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(ROWS),
                        help=f"comma-separated, from {', '.join([*ROWS, *VARIANTS, 'relative'])}")
    parser.add_argument("--tasks", default=None,
                        help=f"comma-separated, from {', '.join(_task_specs(0))} (default: all)")
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds")
    parser.add_argument("--tune-trials", type=int, default=20)
    parser.add_argument("--reference-trials", type=int, default=40)
    parser.add_argument("--out", default="benchmarks/results/small_data.md",
                        help="markdown report ('-' for none); text after a line "
                             f"{MARKER!r} in an existing file is kept")
    args = parser.parse_args(argv)
    rows = args.rows.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(
        sys.argv[1:] if argv is None else argv)])
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=UserWarning)
    started, t0 = time.strftime("%Y-%m-%d %H:%M"), time.perf_counter()
    results, names = [], None
    for seed in seeds:
        tasks = make_tasks(seed)
        names = args.tasks.split(",") if args.tasks else list(tasks)
        for name in names:
            for row in rows:
                trials = args.tune_trials if row == "tune" else args.reference_trials
                result = RUNNERS[row](tasks[name], seed, trials)
                results.append({"task": name, "row": row, "seed": seed, "result": result})
                if result is not None:
                    details = result.get("best") or {
                        key: result[key] for key in ("epochs", "converged", "train_score")
                        if key in result}
                    print(f"seed {seed} {name:18s} {row:9s} score {result['score']:.3f} "
                          f"{result['time']:7.1f}s  {details or ''}",
                          file=sys.stderr, flush=True)
    described = {name: make_tasks(seeds[0])[name] for name in names}
    text = report(results, described, rows, command, started, time.perf_counter() - t0,
                  seeds, args.reference_trials, args.tune_trials)
    print(text)
    if args.out != "-":
        out = Path(args.out)
        old = out.read_text() if out.exists() else ""
        kept = "\n" + MARKER + old.partition(MARKER)[2] if MARKER in old else ""
        out.write_text(text + kept)
        out.with_suffix(".json").write_text(json.dumps(
            {"command": command, "started": started, "results": results}, indent=1,
            default=str))


if __name__ == "__main__":
    main()
