"""Do sklstm's defaults learn on small data, and does ``tune()`` beat them?

Six generated tasks stand for the hard cases of small real data sets (40-300 training
sequences, 24-500 timesteps, the signal at the end, in the middle or spread over the
sequence, univariate and multichannel, classification and regression), each with a
held-out test split of its own. Every task is scored, on its test split, by:

* ``defaults``: ``Pipeline([SequenceScaler(), LSTMClassifier(random_state=s)])``
  (or ``LSTMRegressor``), nothing else set: what a new user gets;
* ``tune``: :func:`sklstm.search.tune` at its defaults (20 trials, ``cv="auto"``, the
  default space, the estimator's own configuration as trial 0), then the best
  parameters refitted on the whole training split;
* ``reference``: the best of a large random search (``--reference-trials``
  configurations from a wide space, each fitted on 75 % of the training split and
  scored on the other 25 %), refitted on the whole training split;
* ``LSTM-FCN``: sktime's ``LSTMFCNClassifierTorch`` at its defaults, on the
  classification tasks, when sktime is installed (a benchmark-only extra, never a
  dependency of sklstm): what a user might pick instead;
* the defaults with one of them changed, which is how the defaults were chosen:
  ``last`` (``pooling="last"``), ``max``, ``mean``, ``attention`` (the other
  readouts), ``full_resolution`` (``downsample=1``).

Scores are accuracy (classification) and R^2 (regression) on the test split, as the
mean over ``--seeds`` (each seed draws new data, a new split and new model seeds).
Wall times are whole seconds of fitting (and searching) on this machine, one torch
thread. Run from the repository root::

    python benchmarks/bench_small_data.py                      # everything, ~2-3 h
    python benchmarks/bench_small_data.py --rows defaults      # the defaults only
    python benchmarks/bench_small_data.py --tasks motion --seeds 0 --out -

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

import numpy as np
import optuna
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution
from sklearn.base import clone
from sklearn.model_selection import ParameterSampler, train_test_split
from sklearn.pipeline import Pipeline

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.datasets import (
    make_drift_regression,
    make_motion_recordings,
    make_sequence_regression,
    make_shape_in_series,
)
from sklstm.preprocessing import SequencePadder, SequenceScaler
from sklstm.search import selected_trial, tune

ROWS = ("defaults", "tune", "reference", "lstmfcn")
#: Rows of the defaults with one parameter changed (not run unless asked for).
VARIANTS = {"last": {"pooling": "last"}, "max": {"pooling": "max"},
            "mean": {"pooling": "mean"}, "attention": {"pooling": "attention"},
            "full_resolution": {"downsample": 1}}
MARKER = "<!-- hand-written below; bench_small_data.py keeps it -->"

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


def _split(X, y, n_train, seed, classification):
    index = np.arange(len(y))
    train, test = train_test_split(index, train_size=n_train, random_state=seed,
                                   stratify=y if classification else None)
    take = (lambda Z, i: [Z[j] for j in i]) if isinstance(X, list) else (lambda Z, i: Z[i])
    return take(X, train), take(X, test), y[train], y[test]


def make_tasks(seed):
    """name -> (description, classification?, X_train, X_test, y_train, y_test)."""
    specs = {
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
    }
    tasks = {}
    for name, (description, classification, make, n_train) in specs.items():
        X, y = make()
        tasks[name] = (description, classification,
                       *_split(X, y, n_train, seed, classification))
    return tasks


def _large_scale(seed):
    X, y = make_sequence_regression(600, 24, 3, random_state=seed)
    return X, 1000 * y + 5000


def _pipeline(classification, seed, **params):
    estimator = (LSTMClassifier if classification else LSTMRegressor)(
        random_state=seed, n_threads=1, **params)
    return Pipeline([("scale", SequenceScaler()), ("lstm", estimator)])


def run_defaults(task, seed, trials, **changed):
    _, classification, X_train, X_test, y_train, y_test = task
    start = time.perf_counter()
    model = _pipeline(classification, seed, **changed).fit(X_train, y_train)
    lstm = model.named_steps["lstm"]
    return {"score": model.score(X_test, y_test), "time": time.perf_counter() - start,
            "epochs": lstm.n_epochs_, "converged": bool(lstm.converged_)}


def run_tune(task, seed, trials):
    _, classification, X_train, X_test, y_train, y_test = task
    pipeline = _pipeline(classification, seed)
    start = time.perf_counter()
    study = tune(pipeline, X_train, y_train, n_trials=trials,
                 storage=optuna.storages.InMemoryStorage(), study_name=f"bench-{seed}",
                 sampler=optuna.samplers.TPESampler(seed=seed))
    best = selected_trial(study)
    params = {**best.params, **best.user_attrs.get("fixed_params", {})}
    model = clone(pipeline).set_params(**_prefixed(params)).fit(X_train, y_train)
    return {"score": model.score(X_test, y_test), "time": time.perf_counter() - start,
            "best": best.params, "baseline_kept": best.number == 0,
            "optuna_best": study.best_trial.number}


def _prefixed(params):
    return {(k if "__" in k else f"lstm__{k}"): v for k, v in params.items()}


def run_reference(task, seed, trials):
    _, classification, X_train, X_test, y_train, y_test = task
    start = time.perf_counter()
    X_fit, X_val, y_fit, y_val = _split(X_train, y_train, 0.75, seed, classification)
    candidates = list(ParameterSampler(_sklearn_space(), n_iter=trials, random_state=seed))
    scored = []
    for params in candidates:
        model = _pipeline(classification, seed).set_params(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scored.append((model.fit(X_fit, y_fit).score(X_val, y_val), params))
    best_params = max(scored, key=lambda item: item[0])[1]
    model = _pipeline(classification, seed).set_params(**best_params).fit(X_train, y_train)
    return {"score": model.score(X_test, y_test), "time": time.perf_counter() - start,
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
    _, classification, X_train, X_test, y_train, y_test = task
    if not classification:
        return None
    try:
        from sktime.classification.deep_learning.lstmfcn import LSTMFCNClassifierTorch
    except ImportError:
        return None
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


RUNNERS = {"defaults": run_defaults, "tune": run_tune, "reference": run_reference,
           "lstmfcn": run_lstmfcn,
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
        lines.append(f"| {name} | {tasks[name][0]} | " + " | ".join(cells) + " |")
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
            parts.append(f"tune {100 * (t - d):+.1f} points vs the defaults "
                         f"({'met' if t >= d else 'NOT met'}: at least 0)")
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
        "the training data. Scores on the held-out test split: accuracy, or R^2 for the "
        "regression tasks. Times: seconds of fitting and searching per seed.\n\n"
        + table(results, tasks, rows)
        + "\nTargets (means over the seeds):\n\n" + verdicts(results, tasks)
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default=",".join(ROWS),
                        help=f"from {', '.join([*ROWS, *VARIANTS])}")
    parser.add_argument("--tasks", default=None, help="comma-separated task names")
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
                    print(f"seed {seed} {name:18s} {row:9s} score {result['score']:.3f} "
                          f"{result['time']:7.1f}s  {result.get('best', '')}",
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
