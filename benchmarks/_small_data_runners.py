"""The sklstm rows of ``bench_small_data.py`` (the defaults, ``tune()``, the reference
search, the changed defaults) and ``RUNNERS``, every row's function by name."""

from __future__ import annotations

import functools
import time
import warnings

import numpy as np
import optuna
from _small_data_baselines import run_dtw_1nn, run_lstmfcn, run_naive, run_ridge_ar
from _small_data_rows import VARIANTS, sklearn_space
from _small_data_tasks import split_samples
from sklearn.base import clone
from sklearn.model_selection import ParameterSampler
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.preprocessing import SequenceScaler
from sklstm.search import selected_params, selected_trial, tune
from sklstm.windows import make_window_splitter


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
    X_fit, X_val, y_fit, y_val = split_samples(X_train, y_train, 0.75, seed,
                                               classification, ordered=task.forecast)
    candidates = list(ParameterSampler(sklearn_space(), n_iter=trials, random_state=seed))
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


RUNNERS = {"defaults": run_defaults, "tune": run_tune, "reference": run_reference,
           "lstmfcn": run_lstmfcn, "dtw_1nn": run_dtw_1nn, "ridge_ar": run_ridge_ar,
           "naive": run_naive, "relative": run_relative, "relative_ar": run_relative_ar,
           "relative_mean": run_relative_mean,
           **{name: functools.partial(run_defaults, **changed)
              for name, changed in VARIANTS.items()}}
