"""A storage that fails to record a trial, said as such instead of Optuna's assertion.

When the write of a finished trial fails (a full disk, a file or database that became
read-only, a lost database server), Optuna 4 and 5 reach an ``assert False, "Should not
reach."`` while handling the error (``optuna.study._optimize._run_trial``): the user saw
an ``AssertionError`` traceback that named neither the storage nor the cause, and could
not tell whether the study survived. It does: every trial finished before is in the
storage, and only the trial being written is not recorded as finished.
:func:`storage_write_failures` turns that, and any storage error that escapes the
search loop, into one ``OSError`` that says so, the storage's own error chained. Optuna
reaches the same assertion when another worker failed the trial as stale (its heartbeat
late) while it ran: said as such, in a ``RuntimeError``.
"""

from __future__ import annotations

import contextlib
import os
import traceback

import optuna
from optuna.exceptions import StorageInternalError
from optuna.trial import TrialState
from sqlalchemy.exc import SQLAlchemyError

from .._compat.optuna import (
    finished_elsewhere,
    heartbeat_interval,
    journal_file_path,
    unwrap_storage,
)
from .storage import one_line_reason

__all__ = ["describe_storage_instance", "storage_write_failures"]

#: Optuna's storage package: a failure raised in it is the storage's.
_STORAGES = os.path.dirname(optuna.storages.__file__) + os.sep


def describe_storage_instance(storage) -> str:
    """What a storage object is stored in, for messages: its journal file, its database
    URL (password hidden), or its class.

    Parameters
    ----------
    storage : optuna.storages.BaseStorage or None

    Returns
    -------
    str

    Examples
    --------
    >>> describe_storage_instance(optuna.storages.InMemoryStorage())
    'InMemoryStorage'
    >>> describe_storage_instance(optuna.storages.RDBStorage("sqlite://"))
    'database sqlite://'
    """
    path = journal_file_path(storage)
    if path is not None:
        return f"journal file {path}"
    engine = getattr(unwrap_storage(storage), "engine", None)
    if engine is not None:
        return f"database {engine.url.render_as_string(hide_password=True)}"
    return type(storage).__name__


def _from_storage(exc) -> bool:
    """Whether ``exc`` was raised inside Optuna's storages (their frames on its trace)."""
    return any(frame.filename.startswith(_STORAGES)
               for frame in traceback.extract_tb(exc.__traceback__))


#: What a storage that cannot write raises: the file's error, the database's (SQLAlchemy's,
#: or Optuna's StorageInternalError around it). Not Optuna's refusals of a write it
#: checks (``UpdateFinishedTrialError``, an incompatible distribution): the storage
#: works, and "make it writable" would mislead.
_WRITE_ERRORS = (OSError, StorageInternalError, SQLAlchemyError)


def _behind_assertion(exc):
    """The error behind Optuna's ``AssertionError("Should not reach.")``, raised while it
    handled the failed record of a trial, or ``exc`` itself."""
    if isinstance(exc, AssertionError) and exc.__context__ is not None:
        return exc.__context__
    return exc


def _storage_failure(exc):
    """The storage's error behind ``exc``, or None when ``exc`` is another error."""
    exc = _behind_assertion(exc)
    return exc if isinstance(exc, _WRITE_ERRORS) and _from_storage(exc) else None


def _ended_elsewhere(study, cause):
    """The error for a trial that another worker failed as stale while this one ran it."""
    return RuntimeError(
        f"a trial of study {study.study_name!r} was ended by another worker while this one "
        f"ran it ({cause}): its heartbeat was older than the grace period there (this "
        "machine too loaded to send it in time, or clocks that differ between machines: "
        "heartbeats compare them). Its result is dropped; the study's finished trials are "
        "kept. Run this worker again; for a loaded machine, a longer grace period "
        "(resolve_storage(..., grace_period=...)), for clocks, NTP.")


def _root(exc):
    """The database's own error behind Optuna's ``StorageInternalError``, whose message
    guesses at "invalid data in the commit" whatever the error (a read-only database),
    and behind SQLAlchemy's, whose message adds the statement and its parameters."""
    while isinstance(exc, StorageInternalError) and exc.__cause__ is not None:
        exc = exc.__cause__
    orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError: the driver's error
    return orig if isinstance(orig, Exception) else exc


def _kept(study):
    """How many finished trials the storage holds, in words (reading may fail too)."""
    try:
        n = len(study.get_trials(deepcopy=False, states=(
            TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)))
    except Exception:  # the storage cannot be read either: say nothing of a number
        return "the trials finished before it are kept"
    return (f"the {n} finished trial{'s' if n != 1 else ''} it holds "
            f"{'is' if n == 1 else 'are'} kept")


@contextlib.contextmanager
def storage_write_failures(study, storage, lost=None):
    """Raise a storage failure while the ``with`` body runs the study's trials (or writes
    to it otherwise) as an ``OSError`` that names the storage, the cause, and what is kept.

    Parameters
    ----------
    study : optuna.Study
        The study running.
    storage : optuna.storages.BaseStorage or None
        Its storage (None: unknown, named by its study).
    lost : str or None, default=None
        What a failed write in the body loses, in words ("the baseline trial was not
        enqueued"); None: a trial being recorded, which is not marked finished.

    Raises
    ------
    OSError
        For an error raised in Optuna's storages (directly, or behind Optuna's
        ``AssertionError``), chained from it; any other error unchanged.
    RuntimeError
        For a trial that another worker ended (failed as stale) while it ran, behind
        Optuna's ``AssertionError`` too.
    """
    try:
        yield
    except Exception as exc:
        elsewhere = _behind_assertion(exc)
        if elsewhere is not exc and finished_elsewhere(elsewhere):
            # (Optuna's same assertion, a storage that works)
            raise _ended_elsewhere(study, elsewhere) from elsewhere
        cause = _storage_failure(exc)
        if cause is None:
            raise
        where = (describe_storage_instance(storage) if storage is not None
                 else f"the storage of study {study.study_name!r}")
        root = _root(cause)
        beat = heartbeat_interval(storage)
        pending = ("a worker fails it after the grace period, as a dead worker's"
                   if beat else "it stays RUNNING (no heartbeats fail it)")
        lost = lost or f"a trial it was recording is not marked finished: {pending}"
        raise OSError(
            f"the study {study.study_name!r} could not be written to {where} "
            f"({type(root).__name__}: {one_line_reason(root)}); {_kept(study)}, "
            f"but {lost}. Make the "
            "storage writable again (free disk space, file permissions, the database "
            "server), and run the same search again to continue the study."
        ) from cause
