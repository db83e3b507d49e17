"""Command line interface: ``sklstm tune`` (also ``python -m sklstm tune``).

Run the same command on every machine of a cluster, pointing at one shared storage: each
process joins the study and the study stops at ``--n-trials`` trials in total::

    sklstm tune data.npz --storage postgresql://user@db-host/optuna \\
        --study-name lstm-v1 --n-trials 200 --pruner hyperband
"""

from __future__ import annotations

import argparse
import sys

from .search.metrics import FIT_STATS

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
Run or join an Optuna study tuning an sklstm LSTM estimator by cross-validation.

DATA is an .npz file with arrays X (n, T, F) or (n, T) and y, or a .csv file with a header,
one row per sample: the target in column --target, the other columns the time steps of a
univariate sequence. Every worker started with the same --storage and --study-name shares
the study; --n-trials is the total over all of them.
"""


def _folds(text):
    """``--cv``: a number of folds (at least 2) or ``auto``."""
    if text == "auto":
        return text
    try:
        folds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of folds or 'auto', got {text!r}") from None
    if folds < 2:
        raise argparse.ArgumentTypeError(f"--cv needs at least 2 folds, got {folds}")
    return folds


def _pruner_names():
    """The pruner names :func:`sklstm.search.make_pruner` knows (None without optuna:
    ``sklstm tune`` then says what to install when it runs)."""
    try:
        from .search.study import PRUNERS
    except ImportError:
        return None
    return sorted(PRUNERS)


def build_parser() -> argparse.ArgumentParser:
    """The ``sklstm`` argument parser (sub-command ``tune``).

    Examples
    --------
    >>> args = build_parser().parse_args(["tune", "data.npz", "--n-trials", "5"])
    >>> args.n_trials, args.pruner, args.cv
    (5, None, 'auto')
    """
    parser = argparse.ArgumentParser(prog="sklstm", description="sklstm command line tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    tune = commands.add_parser(
        "tune", help="run or join an Optuna hyperparameter search", description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tune.add_argument("data", help="dataset file (.npz with X and y, or .csv)")
    tune.add_argument("--target", default="y", help="CSV target column (default: y)")
    tune.add_argument(
        "--storage", default=None,
        help="Optuna storage: a journal file path (default: ./sklstm-study.journal), "
        "sqlite:///FILE, postgresql://USER@HOST/DB, ...; share it to search on several machines",
    )
    tune.add_argument("--study-name", default="sklstm", help="study name (default: sklstm)")
    tune.add_argument("--n-trials", type=int, default=20,
                      help="total trials in the study, over all workers (default: 20)")
    tune.add_argument("--timeout", type=float, default=None,
                      help="stop this worker after this many seconds")
    tune.add_argument("--estimator", choices=["classifier", "regressor"], default="classifier",
                      help="LSTMClassifier or LSTMRegressor (default: classifier)")
    tune.add_argument("--cv", type=_folds, default="auto",
                      help="number of CV folds, or 'auto' (default: 3 folds, repeated "
                      "twice below 500 samples)")
    tune.add_argument("--scoring", default=None,
                      help="scikit-learn scorer name (default: the estimator's score)")
    tune.add_argument("--space", default=None, metavar="JSON",
                      help="search space: a JSON file or inline JSON (default: sklstm's "
                      "default space); lists are choices, {low, high[, log]} ranges, "
                      "other values fixed")
    tune.add_argument("--pruner", choices=_pruner_names(),
                      default=None, help="default: median (none with --multi-objective)")
    tune.add_argument("--multi-objective", choices=FIT_STATS, default=None,
                      help="also minimize this fit cost; prints the Pareto front (no pruning)")
    tune.add_argument("--seed", type=int, default=None,
                      help="sampler seed; give each worker a different one")
    tune.add_argument("--heartbeat", type=int, default=60, metavar="SECONDS",
                      help="running trials report every SECONDS, so the trial of a worker "
                      "that died is failed after twice that and its place freed "
                      "(default: 60; 0: off)")
    tune.add_argument("--retry-failed", type=int, default=0, metavar="N",
                      help="run a trial failed for its dead worker again, up to N times")
    tune.add_argument("--no-progress", action="store_true", help="no progress bar")
    tune.add_argument("--max-rows", type=int, default=20, help="rows of the results table")
    return parser


def _tune(args) -> int:
    # Imported here so that ``sklstm --help`` stays fast and works without optuna.
    import optuna

    from sklstm import LSTMClassifier, LSTMRegressor

    from .datasets import load_dataset
    from .search.report import results_table, summary
    from .search.space import load_space
    from .search.storage import describe_storage
    from .search.study import tune

    if args.n_trials < 1:
        raise ValueError("--n-trials must be at least 1")
    X, y = load_dataset(args.data, target=args.target)
    space = load_space(args.space) if args.space else None
    estimator = LSTMClassifier() if args.estimator == "classifier" else LSTMRegressor()
    if not args.no_progress:
        # One line per trial from Optuna would fight with the progress bar.
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"study {args.study_name!r} on {describe_storage(args.storage)}, "
          f"{len(X)} samples, cv={args.cv}", file=sys.stderr)
    try:
        study = tune(
            estimator, X, y, n_trials=args.n_trials, timeout=args.timeout,
            study_name=args.study_name, storage=args.storage, cv=args.cv,
            scoring=args.scoring, space=space, pruner=args.pruner,
            multi_objective=args.multi_objective,
            sampler=optuna.samplers.TPESampler(seed=args.seed),
            heartbeat_interval=args.heartbeat or None, retry_failed=args.retry_failed,
            show_progress_bar=not args.no_progress,
        )
    except KeyboardInterrupt:
        print(f"sklstm tune: interrupted; the finished trials are kept in "
              f"{describe_storage(args.storage)}, and the interrupted one is marked FAIL. "
              "Run the same command again to continue the study.", file=sys.stderr)
        return 130
    print(summary(study))
    print()
    print(results_table(study, max_rows=args.max_rows))
    return 0


def main(argv=None) -> int:
    """Entry point of the ``sklstm`` console script.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 on invalid input (message on stderr).

    Examples
    --------
    >>> main(["tune", "missing.npz", "--no-progress"])
    2
    """
    args = build_parser().parse_args(argv)
    try:
        return _tune(args)
    except ValueError as exc:
        print(f"sklstm {args.command}: error: {exc}", file=sys.stderr)
        return 2
