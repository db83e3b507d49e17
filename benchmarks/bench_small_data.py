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
import sys
import time
import warnings

import optuna
import torch
from _results_file import command_line, write_results
from _small_data_report import report
from _small_data_rows import ROWS
from _small_data_runners import RUNNERS
from _small_data_tasks import make_tasks, task_specs

MARKER = "<!-- hand-written below; bench_small_data.py keeps it -->"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(ROWS),
                        help=f"comma-separated, from {', '.join(RUNNERS)}")
    parser.add_argument("--tasks", default=None,
                        help=f"comma-separated, from {', '.join(task_specs(0))} (default: all)")
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds")
    parser.add_argument("--tune-trials", type=int, default=20)
    parser.add_argument("--reference-trials", type=int, default=40)
    parser.add_argument("--out", default="benchmarks/results/small_data.md",
                        help="markdown report ('-' for none); text after a line "
                             f"{MARKER!r} in an existing file is kept")
    args = parser.parse_args(argv)
    rows = args.rows.split(",")
    # checked before any fit: a misspelt name is otherwise a KeyError when its turn
    # comes, after the rows and tasks before it have run (hours, for tune or the references)
    tasks_asked = args.tasks.split(",") if args.tasks else []
    for option, names, known in (("--rows", rows, RUNNERS),
                                 ("--tasks", tasks_asked, task_specs(0))):
        unknown = [name for name in names if name not in known]
        if unknown:
            parser.error(f"{option}: unknown {', '.join(map(repr, unknown))}; choose from "
                         f"{', '.join(known)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    command = command_line(argv)
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
        write_results(args.out, text, MARKER,
                      {"command": command, "started": started, "results": results},
                      json_default=str)


if __name__ == "__main__":
    main()
