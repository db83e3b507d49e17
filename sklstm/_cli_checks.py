"""``sklstm tune``'s options, checked before anything is read or written.

Split from :mod:`sklstm.cli`, which holds the parser and runs the study.
"""

from __future__ import annotations

import difflib
import os

__all__ = ["check_args"]


#: tune's arguments as ``sklstm tune`` sets them: (the option, the fix), for the
#: messages of :func:`~sklstm.search.study_checks.check_run_args`.
_RUN_OPTIONS = {
    "n_trials": ("--n-trials", "the study's total number of trials, over all workers"),
    "timeout": ("--timeout", "leave it out for no time limit"),
    "heartbeat_interval": ("--heartbeat", "0 turns heartbeats off"),
    "retry_failed": ("--retry-failed", "0 runs no failed trial again"),
}


def check_args(args):
    """Check ``sklstm tune``'s options before anything is read or written; the ones
    :func:`~sklstm.search.tune` also takes are checked as it checks them.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of ``sklstm tune``.

    Raises
    ------
    ValueError
        An option out of its range, or one that the others make meaningless; the
        message names the option and the fix.
    """
    # (these need optuna: not for --help)
    from .search.heartbeat import heartbeat_settings
    from .search.study_checks import check_run_args

    check_run_args(None, labels=_RUN_OPTIONS, n_trials=args.n_trials, timeout=args.timeout)
    # all the storage's heartbeat limits (at most a day, too): it is opened after the
    # data are loaded, and refused a --heartbeat of two days only then, by the name
    # heartbeat_interval
    heartbeat_settings(args.heartbeat or None, retry_failed=args.retry_failed,
                       labels=_RUN_OPTIONS)
    if args.seed is not None and not 0 <= args.seed < 2**32:
        raise ValueError(f"--seed must be in [0, 2**32 - 1], got {args.seed}")
    if not args.study_name.strip():
        raise ValueError("--study-name must not be empty")
    if args.space is not None and not args.space.strip():
        # (--space "$SPACE" with SPACE unset searched the default space in silence)
        raise ValueError("--space is empty: give a JSON file or JSON text, or leave "
                         "--space out for the default space")
    if args.multi_objective is not None and args.pruner not in (None, "none"):
        # (Optuna prunes no multi-objective study: the pruner was dropped with a
        # UserWarning and its source line, after the data were read and the study made)
        raise ValueError(f"--pruner {args.pruner} cannot prune a --multi-objective study "
                         "(Optuna prunes single-objective studies only); leave --pruner "
                         "out, or leave out --multi-objective to prune")
    if args.max_rows < 1:
        raise ValueError(f"--max-rows must be at least 1, got {args.max_rows}")
    if args.target != "y" and args.data.lower().endswith(".npz") \
            and not os.path.isdir(args.data):
        # an .npz file's targets are its array y: another --target was ignored in silence
        raise ValueError(f"--target {args.target!r} names a CSV column or a sequence "
                         f"store's targets, but {args.data} is an .npz file, whose "
                         "targets are its array 'y'; leave --target out, or save the "
                         "targets as y: numpy.savez(path, X=X, y=...)")
    if args.encoding != "utf-8" and (os.path.isdir(args.data) or args.data.lower().endswith(
            ".npz")):  # (ignored in silence, whatever it named)
        raise ValueError(f"--encoding {args.encoding!r} is the text encoding of a CSV file, "
                         f"but {args.data} holds arrays, which have none; leave it out")
    _check_scoring(args.scoring, args.estimator)
    _check_storage_is_kept(args.storage)


def _check_storage_is_kept(storage):
    """Refuse ``--storage sqlite://`` (or ``sqlite:///:memory:``): a study in this
    process's memory is lost with its results when the command exits (which then still
    said to run it again to continue the study, and warned that the RDBStorage "given"
    had no heartbeats)."""
    if storage is None or not storage.lower().startswith("sqlite"):
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from .search.storage_files import sqlite_file

    try:
        url = make_url(storage)
    except (ArgumentError, ValueError):  # resolve_storage says what is wrong with it
        return
    if url.get_backend_name() == "sqlite" and sqlite_file(url) is None:
        raise ValueError(f"--storage {storage!r} keeps the study in memory: it is lost when "
                         "sklstm tune exits, and no other worker sees it; give a file, "
                         "e.g. --storage study.db")


def _check_scoring(name, estimator_kind):
    """``--scoring``: a scikit-learn scorer name, refused with the closest names of
    those that fit the estimator (the estimator's check would list all of them, a
    screenful on one line; ``accuracy`` suggested for ``acuracy`` was then refused for
    a regressor)."""
    from sklearn.metrics import get_scorer_names

    from .search.scoring_kind import scorer_names_for

    if name is None or name in get_scorer_names():
        return
    close = difflib.get_close_matches(name, scorer_names_for(estimator_kind), n=3)
    hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
    raise ValueError(f"--scoring {name!r} is not a scikit-learn scorer name; {hint}"
                     "sklearn.metrics.get_scorer_names() lists them")
