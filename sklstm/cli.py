"""Command line interface: ``sklstm tune`` (also ``python -m sklstm tune``).

Run the same command on every machine of a cluster, pointing at one shared storage: each
process joins the study and the study stops at ``--n-trials`` trials in total::

    sklstm tune data.npz --storage postgresql://user@db-host/optuna \\
        --study-name lstm-v1 --n-trials 200 --pruner hyperband
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import warnings
from datetime import datetime

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
Run or join an Optuna study tuning an sklstm LSTM estimator by cross-validation.

DATA is an .npz file with arrays X (n, T, F) or (n, T) and y; a .csv file with a header,
one row per sample: the target in column --target, the other columns the time steps of a
univariate sequence; or a SequenceStore directory (data larger than memory, read by
batches), its targets in <store>/y.npy or the .npy file --target names; --store DIR
converts a .csv file into such a directory as it reads it. Every worker
started with the same --storage and --study-name shares the study; --n-trials is the
total over all of them.
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
        from .search.pruners import PRUNERS
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
    # here, not at the top of the module: ``main`` catches a Ctrl-C while it imports
    from .search.metrics import FIT_STATS

    parser = argparse.ArgumentParser(prog="sklstm", description="sklstm command line tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    tune = commands.add_parser(
        "tune", help="run or join an Optuna hyperparameter search", description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tune.add_argument("data", help="dataset file (.npz with X and y, or .csv) or a "
                      "SequenceStore directory")
    tune.add_argument("--target", default="y", help="CSV target column, or a store's "
                      "targets: a .npy path or a name in the store (default: y)")
    tune.add_argument("--encoding", default="utf-8",
                      help="CSV text encoding, e.g. latin-1 (default: utf-8)")
    tune.add_argument("--store", default=None, metavar="DIR",
                      help="convert the .csv DATA into a new SequenceStore at DIR a few "
                      "thousand rows at a time (host memory holds a chunk, not the data) "
                      "and tune on it; later runs pass DIR as DATA")
    tune.add_argument(
        "--storage", default=None,
        help="Optuna storage: a journal file path (default: ./sklstm-study.journal), an "
        "SQLite file (FILE.db or sqlite:///FILE), postgresql://USER@HOST/DB, ...; share it "
        "to search on several machines",
    )
    tune.add_argument("--study-name", default="sklstm", help="study name (default: sklstm)")
    tune.add_argument("--n-trials", type=int, default=20,
                      help="total trials in the study, over all workers (default: 20)")
    tune.add_argument("--timeout", type=float, default=None,
                      help="start no new trial after this many seconds (the "
                      "running trial finishes: Optuna checks between trials)")
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
                      default=None, help="default: median; none with --multi-objective, "
                      "which no pruner prunes")
    tune.add_argument("--multi-objective", choices=FIT_STATS, default=None,
                      help="also minimize this fit cost; prints the Pareto front (no pruning)")
    tune.add_argument("--seed", type=int, default=None,
                      help="sampler seed (a run that continues the study samples new "
                      "points); give each worker a different one")
    tune.add_argument("--heartbeat", type=int, default=60, metavar="SECONDS",
                      help="running trials report every SECONDS, so the trial of a worker "
                      "that died is failed after twice that and its place freed "
                      "(default: 60; 0: off)")
    tune.add_argument("--retry-failed", type=int, default=0, metavar="N",
                      help="run a trial failed for its dead worker again, up to N times")
    tune.add_argument("--no-progress", action="store_true", help="no progress bar")
    tune.add_argument("--max-rows", type=int, default=20,
                      help="rows of the results table (default: 20)")
    return parser


def _estimator_hint(args, y):
    """The ``--estimator`` that fits the targets refused, where the message names a class:
    fractions for the default classifier, text (class names) for a regressor."""
    from sklearn.utils.multiclass import type_of_target

    if args.estimator == "regressor":
        return "" if y.dtype.kind not in "SU" else (
            f" The targets of {args.data} are text, class labels: leave --estimator "
            "regressor out (sklstm tune fits a classifier by default).")
    try:
        kind = type_of_target(y)
    except (ValueError, TypeError):
        return ""
    return "" if kind not in ("continuous", "continuous-multioutput") else (
        f"; the targets of {args.data} are continuous numbers, and sklstm tune "
        "fits a classifier unless told otherwise: pass --estimator regressor")


def _tune(args) -> int:
    # Imported here so that ``sklstm --help`` stays fast and works without optuna.
    try:
        import optuna
    except ImportError as exc:  # an optional dependency: say how to install it
        raise ValueError(f"sklstm tune needs optuna: pip install 'sklstm[optuna]' ({exc})") \
            from None

    from . import _cli_run as run
    from ._cli_checks import check_args
    from ._cli_data import load_data
    from .estimators import LSTMClassifier, LSTMRegressor
    from .search.objective import checked_objective
    from .search.report import results_table, summary
    from .search.sampler import seeded_sampler
    from .search.space_file import load_space
    from .search.storage import describe_storage, resolve_storage
    from .search.study import tune_objective

    check_args(args)
    X, y = load_data(args.data, args.target, args.encoding, store=args.store)
    space = load_space(args.space) if args.space is not None else None
    estimator = LSTMClassifier() if args.estimator == "classifier" else LSTMRegressor()
    # everything is checked before the storage is opened: a bad call writes no study
    try:
        objective = checked_objective(estimator, X, y, cv=args.cv, scoring=args.scoring,
                                      space=space, multi_objective=args.multi_objective)
    except ValueError as exc:
        raise ValueError(f"{exc}{_estimator_hint(args, y)}") from exc
    heartbeat = {"heartbeat_interval": args.heartbeat or None, "retry_failed": args.retry_failed}
    storage = resolve_storage(args.storage, **heartbeat)
    if not args.no_progress:
        # One line per trial from Optuna would fight with the progress bar.
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"study {args.study_name!r} on {describe_storage(args.storage)}, "
          f"{len(X)} samples, cv={args.cv}", file=sys.stderr)
    started = datetime.now()
    try:
        with run.without_trial_tracebacks():
            study = tune_objective(
                objective, n_trials=args.n_trials, timeout=args.timeout,
                study_name=args.study_name, storage=storage, pruner=args.pruner,
                sampler=seeded_sampler(args.seed, storage, args.study_name),
                show_progress_bar=not args.no_progress,
                # a worker whose budget is full (joining a full study, or after its own
                # trials) says which running trials it waits for: else a silent "3/4"
                on_wait=run.waiting_reporter(2 * args.heartbeat),
                # the storage's settings: tune's default heartbeat_interval=60 warned
                # that a --heartbeat 0 journal had no heartbeats
                **heartbeat,
            )
    except KeyboardInterrupt:
        print(f"sklstm tune: interrupted; the finished trials are kept in "
              f"{describe_storage(args.storage)}"
              f"{run.interrupted_note(storage, args.study_name, started)}. "
              "Run the same command again to continue the study.", file=sys.stderr)
        return 130
    try:
        print(summary(study, objective.estimator))
        print()
        print(results_table(study, max_rows=args.max_rows))
        n_trials = len(study.get_trials(deepcopy=False))
        if n_trials > args.max_rows:  # (the rows left out were dropped in silence)
            print(f"({args.max_rows} of {n_trials} trials shown; --max-rows {n_trials} "
                  "shows all)")
        sys.stdout.flush()  # here, not at exit: a pipe holds the report in its buffer
    except BrokenPipeError:
        # stdout's reader is gone (``sklstm tune ... | head``), not the search: the
        # status is the study's. stdout goes to devnull, so that Python's flush at exit
        # prints no traceback
        _to_devnull(sys.stdout)
    note = run.timeout_note(study, args.n_trials, args.timeout)
    if note:
        print(note, file=sys.stderr)
    status, message = run.outcome(study, started)
    if message:
        print(f"sklstm tune: error: {message}", file=sys.stderr)
    return status


def main(argv=None) -> int:
    """Entry point of the ``sklstm`` console script.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success; 1 when no trial of the study completed, or every
        trial this run started failed, or a file could not be read or written (an
        ``OSError``, one line on stderr); 2 on invalid input (options, data, search
        space, storage) or without optuna, with one line on stderr and no study
        written; 130 when interrupted (Ctrl-C); 143 when terminated (``SIGTERM``:
        ``kill``, ``timeout``, a batch scheduler), which ends the run as Ctrl-C does.

    Examples
    --------
    >>> main(["tune", "missing.npz", "--no-progress"])
    2
    """
    for name in ("stdout", "stderr"):  # closed (``>&-``), None: skorch's epoch log
        if getattr(sys, name) is None:  # flushed it, which failed every trial
            setattr(sys, name, open(os.devnull, "w"))  # (for the process's life)
    stderr, sys.stderr = sys.stderr, _KeptStderr(sys.stderr)
    formatwarning, warnings.formatwarning = warnings.formatwarning, _warning_line
    try:
        with _TermAsInterrupt() as term:
            status = _main(argv)
        return 128 + signal.SIGTERM if term.received and status == 130 else status
    finally:
        sys.stderr = stderr
        warnings.formatwarning = formatwarning


def _main(argv):
    try:  # the parser's choices import sklstm.search: seconds, on a cold start
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:  # (a traceback of the imports, before)
        print("sklstm: interrupted", file=sys.stderr)
        return 130
    try:
        return _tune(args)
    except (ValueError, TypeError) as exc:
        return _error(args, exc, 2)
    except OSError as exc:  # a file that cannot be read or written: no traceback either
        return _error(args, exc, 1)
    except KeyboardInterrupt:  # before or after the study (the study has its own message)
        print(f"sklstm {args.command}: interrupted", file=sys.stderr)
        return 130


def _warning_line(message, category, filename, lineno, line=None):
    """``warnings.formatwarning`` while :func:`main` runs: ``sklstm: warning: ...``.
    Python's format added the file and the source line where the warning was raised,
    which for sklstm's own warnings about a trial (``ConvergenceWarning``) were Optuna's
    (``.../optuna/study/_optimize.py:210`` and ``value_or_values = func(trial)``)."""
    return f"sklstm: warning: {category.__name__}: {message}\n"


class _TermAsInterrupt:
    """Context manager: ``SIGTERM`` ends the run as Ctrl-C does (:attr:`received` says
    it came). Python's default action killed the process where it stood: the running
    trial stayed RUNNING (for good with ``--heartbeat 0``, else until another worker
    failed it as a dead one's), and a lock file could be left behind. Only the main
    thread's default action is replaced (not a handler of the embedding program's), and
    the previous one comes back on exit."""

    def __init__(self):
        self.received = False
        self._previous = None

    def __enter__(self):
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL):
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
        return False

    def _handle(self, signum, frame):
        self.received = True
        # SIGINT's handler, as a press: a fit's CtrlCGuard then notes it as one (and
        # holds it while a fit's last epoch is saved), where a bare KeyboardInterrupt
        # could be lost or cut that short
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
            return
        # SIGINT ignored (``cmd &`` in a script; Ctrl-C stays so): a press of the guards
        # in force, looked up, not imported (none exists before its module, and an
        # import here could meet torch half imported by the parser: ImportError)
        interrupts = sys.modules.get("sklstm.training.interrupts")
        press = getattr(interrupts, "press", None)
        if press is None:
            raise KeyboardInterrupt
        press(frame)


def _to_devnull(stream):
    """Point ``stream``'s file descriptor at os.devnull: its reader is gone."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


class _KeptStderr:
    """``sys.stderr`` in :func:`main`: once its reader is gone (``... 2>&1 | head``), to
    os.devnull, as stdout: the progress bar's BrokenPipeError ended the study, exit 1."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def write(self, text):
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            _to_devnull(self.stream)
            return len(text)

    def flush(self):
        try:
            self.stream.flush()
        except BrokenPipeError:
            _to_devnull(self.stream)


def _error(args, exc, status):
    """The one line on stderr for ``exc``, and ``status``."""
    message = " ".join(str(exc).split())  # one line, whatever the message holds
    print(f"sklstm {args.command}: error: {message}", file=sys.stderr)
    return status


def run():
    """The ``sklstm`` console script and ``python -m sklstm``: :func:`main`, and exit
    with its status.

    After an interrupted run (130, 143) the process ends without waiting for threads
    that are no daemons, which nothing would stop (Optuna's heartbeat thread of a trial
    a second press hit as it began: a ``kill`` of ``sklstm tune`` never exited), and a
    further Ctrl-C ends it at once with that status (it raised in Python's exit
    handlers: a traceback after the report). The storage's writes are done by then.
    """
    status = main()
    main_thread = threading.main_thread()
    if status in (130, 128 + signal.SIGTERM):
        def end(*_):
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(status)

        if (threading.current_thread() is main_thread
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            signal.signal(signal.SIGINT, end)  # (an ignored Ctrl-C stays so)
        if any(not t.daemon and t is not main_thread for t in threading.enumerate()):
            end()
    raise SystemExit(status)


if __name__ == "__main__":  # ``python -m sklstm.cli ...`` ran nothing and exited 0
    run()
