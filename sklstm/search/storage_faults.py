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
late) while it ran: said as such, in a ``RuntimeError`` (:class:`TrialEndedElsewhere`),
and :func:`optimize_through_faults` goes on after the first such trial.
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
import warnings

import optuna
from optuna.exceptions import StorageInternalError
from optuna.trial import TrialState
from sqlalchemy.exc import SQLAlchemyError

from .._compat.optuna import (
    finished_elsewhere,
    heartbeat_interval,
    journal_file_path,
    study_storage,
    unwrap_storage,
)
from .storage import one_line_reason, root_error

__all__ = ["TrialEndedElsewhere", "describe_storage_instance", "optimize_through_faults",
           "storage_write_failures", "study_creation_failures"]

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


class TrialEndedElsewhere(RuntimeError):
    """A trial that another worker failed as stale (its heartbeat late) while this one
    ran it: its result is dropped, the storage works.

    Parameters
    ----------
    study : optuna.Study
        The study of the trial.
    cause : Exception
        Optuna's refusal of the trial's result.

    Attributes
    ----------
    said : str
        What happened, without what to do (:func:`~sklstm.search.run_study` goes on
        after one such trial, and says so instead).
    """

    #: What makes it stop happening.
    FIX = ("for a loaded machine, a longer grace period (resolve_storage(..., "
           "grace_period=...)), for clocks, NTP")

    def __init__(self, study, cause):
        self.said = (
            f"a trial of study {study.study_name!r} was ended by another worker while this "
            f"one ran it ({cause}): its heartbeat was older than the grace period there "
            "(this machine too loaded to send it in time, or clocks that differ between "
            "machines: heartbeats compare them). Its result is dropped; the study's "
            "finished trials are kept.")
        super().__init__(f"{self.said} Run this worker again; {self.FIX}.")


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
    TrialEndedElsewhere
        A RuntimeError, for a trial that another worker ended (failed as stale) while
        it ran, behind Optuna's ``AssertionError`` too.
    """
    try:
        yield
    except Exception as exc:
        elsewhere = _behind_assertion(exc)
        if elsewhere is not exc and finished_elsewhere(elsewhere):
            # (Optuna's same assertion, a storage that works)
            raise TrialEndedElsewhere(study, elsewhere) from elsewhere
        cause = _storage_failure(exc)
        if cause is None:
            raise
        where = (describe_storage_instance(storage) if storage is not None
                 else f"the storage of study {study.study_name!r}")
        beat = heartbeat_interval(storage)
        pending = ("a worker fails it after the grace period, as a dead worker's"
                   if beat else "it stays RUNNING (no heartbeats fail it)")
        lost = lost or f"a trial it was recording is not marked finished: {pending}"
        raise OSError(
            f"the study {study.study_name!r} could not be written to {where} "
            f"({_said(cause)}); {_kept(study)}, but {lost}. {_FIX} to continue the study."
        ) from cause


#: What to do about a storage that cannot be written.
_FIX = ("Make the storage writable again (free disk space, file permissions, the "
        "database server), and run the same search again")


def _said(cause):
    """The storage's error, in words: its driver's error, on one line."""
    root = root_error(cause)
    return f"{type(root).__name__}: {one_line_reason(root)}"


@contextlib.contextmanager
def study_creation_failures(study_name, storage):
    """Raise a storage failure while the ``with`` body creates or joins a study (and
    records its attributes) as an ``OSError`` that names the storage and the cause.

    The storage opened (:func:`~sklstm.search.resolve_storage` checked it) but its
    first write failed: a full disk raised a bare ``OSError: [Errno 27] File too
    large`` from Optuna's journal, naming neither the storage nor the fix.

    Parameters
    ----------
    study_name : str
        The study being created or joined.
    storage : optuna.storages.BaseStorage
        Its storage.

    Yields
    ------
    None

    Raises
    ------
    OSError
        For an error raised in Optuna's storages, chained from it; any other error
        unchanged. No trial was run.
    """
    try:
        yield
    except Exception as exc:
        cause = _storage_failure(exc)
        if cause is None:
            raise
        raise OSError(
            f"the study {study_name!r} could not be created or joined in "
            f"{describe_storage_instance(storage)} ({_said(cause)}); no trial was run. "
            f"{_FIX}.") from cause


def optimize_through_faults(study, objective, timeout, catch, callbacks, budget, ctrl_c):
    """``study.optimize`` with storage failures said as such, going on after a trial
    that another worker ended.

    Such a trial (failed as stale while this worker ran it) ended the worker: Optuna's
    assertion escapes its loop. The worker is alive and the study works, so it goes on
    with a warning (the trial holds no place in the budget, which is claimed again); a
    second such trial in the same call stops it, since a cause that lasts (clocks that
    differ) would end every trial it runs, wasting all their fits.

    Parameters
    ----------
    study : optuna.Study
        The study to run trials in.
    objective : callable
        Optuna objective, ``objective(trial)``.
    timeout : float or None
        Seconds, for the whole call.
    catch : tuple of exception types
        As for ``study.optimize``.
    callbacks : list of callables
        As for ``study.optimize``.
    budget : TrialBudget or None
        The study's trial budget (:class:`~sklstm.search.TrialBudget`), claimed again
        before the search goes on.
    ctrl_c : sklstm.training.interrupts.CtrlCGuard
        Entered around each ``study.optimize``, and holding as it begins: the
        objective and ``callbacks`` resume and hold it (run_study's ``_held_outside``).

    Raises
    ------
    OSError, TrialEndedElsewhere
        As :func:`storage_write_failures` raises them; the second only at the second
        trial ended so.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    for second in (False, True):
        try:
            # a storage that fails to record a trial: an OSError naming it, not Optuna's
            # bare AssertionError
            with ctrl_c, storage_write_failures(study, study_storage(study)):
                left = None if deadline is None else deadline - time.monotonic()
                # the first trial's creation is held too; a press held after the last
                # trial's record is raised after the loop (run_study's _held_outside)
                ctrl_c.hold()
                study.optimize(objective, timeout=left, catch=catch, callbacks=callbacks)
                ctrl_c.resume()
            return
        except TrialEndedElsewhere as exc:
            if second:
                raise
            warnings.warn(f"{exc.said} This worker goes on with the next trial; another "
                          f"trial ended so stops it ({exc.FIX}).", UserWarning, stacklevel=4)
        if (deadline is not None and deadline <= time.monotonic()) or (
                budget is not None and not budget.claim()):
            return
