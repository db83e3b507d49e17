"""Heartbeats, so that a trial whose worker died is failed instead of RUNNING forever.

A worker killed mid-trial (SIGKILL, a lost node) leaves its trial RUNNING: Optuna
cannot tell it from a slow one, and it would hold a place in the study's budget for
ever. With heartbeats every running trial records a timestamp every
``heartbeat_interval`` seconds (Optuna runs a thread for it), and the other workers fail
trials whose last heartbeat is older than ``grace_period`` before they start a new one
(``optuna.storages.fail_stale_trials``); optionally a failed one is run again
(``optuna.storages.RetryFailedTrialCallback``, without the failed run's own user
attributes: :mod:`~sklstm.search.trial_attrs`). Both storages here mark a trial they
find stale (:data:`~sklstm.search.trial_attrs.STALE`) before Optuna fails it: a worker
killed just after its objective recorded a ``fail_reason`` left a trial that read as
failed in its objective, which then held a place in the trial budget (and its retry
found none: it stayed WAITING).

Optuna implements this for RDB storages (SQLite, PostgreSQL, MySQL), with one gap that
:class:`HeartbeatRDBStorage` closes: a trial whose worker died after creating it but
before its first heartbeat has no heartbeat row, and Optuna never fails it. Journal files have
no heartbeat in Optuna, so :class:`HeartbeatJournalStorage` adds one through the same
protocol (Optuna's ``BaseHeartbeat``, a private class fenced in
:mod:`sklstm._compat.optuna`, with the other private pieces used here), keeping the
heartbeat in a system attribute of the trial. The journal stays a
plain Optuna journal. Heartbeats compare wall clocks: workers sharing a journal file
across machines need synchronised clocks (NTP), as for the grace period of an RDB.
"""

from __future__ import annotations

import datetime
import inspect
import time
import warnings

from optuna.exceptions import ExperimentalWarning, UpdateFinishedTrialError
from optuna.storages import JournalStorage, RDBStorage
from optuna.trial import TrialState

from .._compat.optuna import (
    StaleTrialsRDBStorage,
    StorageHeartbeat,
    frozen_trial_id,
    require_verified,
    running_trials_without_heartbeat,
)
from .._param_validation import integers
from .study_checks import check_run_args
from .trial_attrs import STALE, retry_callback

__all__ = ["HEARTBEAT_ATTR", "MAX_GRACE_PERIOD", "MAX_HEARTBEAT_INTERVAL",
           "HeartbeatJournalStorage", "HeartbeatRDBStorage", "checked_run_settings",
           "heartbeat_kwargs", "heartbeat_settings"]

#: System attribute holding a journal trial's last heartbeat (seconds since the epoch).
HEARTBEAT_ATTR = "sklstm:heartbeat"

#: The longest heartbeat interval, in seconds (a day). A longer one only lets a dead
#: worker's trial hold its place for longer, and a huge one overflowed (the heartbeat
#: thread's wait, the grace period's ``timedelta``): an ``OverflowError`` traceback in
#: the middle of the search.
MAX_HEARTBEAT_INTERVAL = 24 * 3600

#: The longest grace period, in seconds (a week; more than twice the longest interval).
MAX_GRACE_PERIOD = 7 * 24 * 3600

def heartbeat_settings(heartbeat_interval, grace_period=None, retry_failed=0, *,
                       labels=None):
    """The heartbeat settings, checked, as Python ints (numpy ints accepted).

    Checked before a storage is opened: Optuna refuses some of them only inside its
    storage (with its own message), a journal storage did not refuse them at all, and a
    grace period that is not longer than the interval fails the trials of live workers
    between two of their heartbeats.

    Parameters
    ----------
    heartbeat_interval : int or None
        Seconds between heartbeats, from 1 to :data:`MAX_HEARTBEAT_INTERVAL` (a day);
        None turns heartbeats off.
    grace_period : int or None, default=None
        Seconds without a heartbeat after which a trial is failed, more than
        ``heartbeat_interval`` and at most :data:`MAX_GRACE_PERIOD` (a week); None is
        twice the interval.
    retry_failed : int, default=0
        How many times a trial failed that way is run again (0: never).
    labels : dict or None, default=None
        ``argument -> (name, fix)`` to say in the messages instead of the argument's
        name and the Python fix, as for
        :func:`~sklstm.search.study_checks.check_run_args` (``sklstm tune`` names its
        ``--heartbeat`` and ``--retry-failed``, and checks them before it loads data).

    Returns
    -------
    dict or None
        ``heartbeat_interval``, ``grace_period`` (filled in) and ``retry_failed``; None
        when ``heartbeat_interval`` is None.

    Raises
    ------
    TypeError
        A value that is not an int (a float, a bool, a string).
    ValueError
        An int out of range (above all, longer than the bounds above), a grace period
        not longer than the interval, or a
        ``grace_period`` or ``retry_failed`` > 0 without heartbeats.

    Examples
    --------
    >>> import numpy as np
    >>> heartbeat_settings(np.int64(30))
    {'heartbeat_interval': 30, 'retry_failed': 0, 'grace_period': 60}
    >>> heartbeat_settings(30, grace_period=30)
    Traceback (most recent call last):
    ...
    ValueError: grace_period must be longer than heartbeat_interval=30 seconds, got 30: ...
    """
    plain = check_run_args(None, labels=labels, heartbeat_interval=heartbeat_interval,
                           retry_failed=retry_failed)
    interval = plain["heartbeat_interval"]
    if interval is None:
        if grace_period is not None:  # (it was dropped in silence, as retry_failed was)
            raise ValueError(
                f"grace_period={grace_period!r} does nothing without heartbeats "
                "(heartbeat_interval is off): it is how long a running trial may go "
                "without one; give heartbeat_interval a number of seconds (e.g. 60), or "
                "leave grace_period out")
        return None
    name = (labels or {}).get("heartbeat_interval", ("heartbeat_interval",))[0]
    _check_at_most(interval, MAX_HEARTBEAT_INTERVAL, name, "a day")
    if grace_period is None:
        return {**plain, "grace_period": 2 * interval}
    # an int >= 1, refused as heartbeat_interval would be, under its own name
    grace = check_run_args(None, heartbeat_interval=grace_period, labels={
        "heartbeat_interval": ("grace_period", "give None for twice the interval")},
    )["heartbeat_interval"]
    if not integers(interval + 1).is_satisfied_by(grace):
        raise ValueError(
            f"grace_period must be longer than heartbeat_interval={interval} seconds, got "
            f"{grace}: a live worker's trial would be failed between two of its "
            f"heartbeats (give None for twice the interval, {2 * interval})")
    _check_at_most(grace, MAX_GRACE_PERIOD, "grace_period", "a week")
    return {**plain, "grace_period": grace}


def checked_run_settings(sampler, n_trials, timeout, heartbeat_interval, retry_failed):
    """``n_trials, timeout, heartbeat_interval, retry_failed`` of a search, checked as
    Python numbers (:func:`~sklstm.search.tune` and ``tune_objective`` check them so).

    The heartbeat settings with all of the storage's limits: a heartbeat of two days
    was refused only by the storage, once the data had been checked and split.
    """
    plain = check_run_args(sampler, n_trials=n_trials, timeout=timeout)
    beat = heartbeat_settings(heartbeat_interval, retry_failed=retry_failed) or {}
    return (plain["n_trials"], plain["timeout"], beat.get("heartbeat_interval"),
            beat.get("retry_failed", 0))


def _check_at_most(seconds, limit, name, said):
    """Refuse a heartbeat setting longer than ``limit`` seconds (``said`` in words)."""
    if seconds > limit:
        raise ValueError(
            f"{name} must be at most {limit} seconds ({said}), got {seconds}: a longer one "
            "only leaves a dead worker's trial RUNNING for longer (heartbeats cost little, "
            "whatever a trial's length; e.g. 60)")


def _marked_stale(storage, trial_ids):
    """Mark the trials of ``trial_ids`` as failed for their dead worker.

    Optuna fails a stale trial without a word of why, and its worker may have recorded a
    ``fail_reason`` before it died: without the mark the trial read as failed in its
    objective and held a place in the trial budget (sklstm.search.trial_budget). The
    mark goes on while the trial still runs: Optuna refuses attributes of a finished one.

    Returns
    -------
    list of int
        The ids of those still running, to fail; one that finished meanwhile (its
        worker told it late, another worker failed it) is left out, as Optuna would.
    """
    marked = []
    for trial_id in trial_ids:
        try:
            storage.set_trial_system_attr(trial_id, STALE, storage.get_trial(trial_id).number)
        except UpdateFinishedTrialError:
            continue
        marked.append(trial_id)
    return marked


def heartbeat_kwargs(heartbeat_interval, grace_period=None, retry_failed=0):
    """Keyword arguments that turn heartbeats on for an ``optuna.storages.RDBStorage``.

    Parameters
    ----------
    heartbeat_interval, grace_period, retry_failed
        As for :func:`heartbeat_settings`, which checks them.

    Returns
    -------
    dict
        For ``RDBStorage(url, **kwargs)``; ``{}`` when ``heartbeat_interval`` is None.

    Examples
    --------
    >>> sorted(heartbeat_kwargs(60))
    ['grace_period', 'heartbeat_interval']
    >>> heartbeat_kwargs(None)
    {}
    """
    settings = heartbeat_settings(heartbeat_interval, grace_period, retry_failed)
    if settings is None:
        return {}
    kwargs = {"heartbeat_interval": settings["heartbeat_interval"],
              "grace_period": settings["grace_period"]}
    callback = retry_callback(settings["retry_failed"])
    if callback is not None:
        # Optuna 4.9 renamed failed_trial_callback; take whichever this Optuna has
        names = inspect.signature(RDBStorage.__init__).parameters
        name = ("heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in names
                else "failed_trial_callback")
        kwargs[name] = callback
    return kwargs


class HeartbeatJournalStorage(JournalStorage, StorageHeartbeat):
    """An Optuna ``JournalStorage`` whose running trials send heartbeats.

    Parameters
    ----------
    log_storage : optuna.storages.journal.BaseJournalBackend
        The journal backend (a file).
    heartbeat_interval, grace_period, retry_failed
        As for :class:`HeartbeatRDBStorage`.

    Raises
    ------
    sklstm._compat.UnverifiedVersionError
        On an Optuna that sklstm's use of its heartbeat protocol was not verified on.

    Examples
    --------
    >>> import os, tempfile
    >>> from optuna.storages.journal import JournalFileBackend
    >>> path = os.path.join(tempfile.mkdtemp(), "study.journal")
    >>> HeartbeatJournalStorage(JournalFileBackend(path), 10).get_heartbeat_interval()
    10
    """

    def __init__(self, log_storage, heartbeat_interval, grace_period=None, retry_failed=0):
        require_verified("Heartbeats on a journal file",
                         "Store the study in a database (sqlite:///study.db), whose "
                         "heartbeats Optuna implements, or turn heartbeats off")
        settings = heartbeat_settings(heartbeat_interval, grace_period, retry_failed)
        if settings is None:
            raise ValueError("HeartbeatJournalStorage needs a heartbeat_interval: use "
                             "optuna.storages.JournalStorage for a journal without heartbeats")
        super().__init__(log_storage)
        self._heartbeat_interval = settings["heartbeat_interval"]
        self.grace_period = settings["grace_period"]  # (public, as RDBStorage's)
        self._stale_callback = retry_callback(settings["retry_failed"])

    def record_heartbeat(self, trial_id):
        """Record that the trial's worker is alive; nothing once the trial is finished.

        Optuna's heartbeat thread calls it every ``heartbeat_interval`` seconds.

        Parameters
        ----------
        trial_id : int
            The trial's id in this storage.
        """
        # Another worker may have failed the trial as stale while it ran: nothing is left
        # to keep alive (the worker hears of it when it tells the result). The journal
        # wrote such a heartbeat, then raised: the heartbeat thread died with a
        # traceback (Optuna's RDB storage records one without complaint), and a thread
        # that went on would append a dead record every interval.
        if self.get_trial(trial_id).state.is_finished():
            return
        try:
            self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())
        except UpdateFinishedTrialError:  # failed in between
            pass

    def stale_trial_ids(self, study_id):
        """RUNNING trials without a heartbeat for longer than the grace period.

        Parameters
        ----------
        study_id : int
            The study's id in this storage.

        Returns
        -------
        list of int
            Their ids, each trial marked as failed for its dead worker; a trial that
            sent no heartbeat since its start counts from it.
        """
        now = time.time()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False,
                                         states=(TrialState.RUNNING,)):
            # no heartbeat yet: count from the trial's start. Nor one from before it: a
            # trial Optuna retried carries the failed one's last heartbeat (its system
            # attributes are copied), stale from the start until its worker's first beat
            start = trial.datetime_start.timestamp() if trial.datetime_start else now
            beat = max(trial.system_attrs.get(HEARTBEAT_ATTR, start), start)
            if now - beat > self.grace_period:
                stale.append(frozen_trial_id(self, study_id, trial))
        return _marked_stale(self, stale)

    def get_heartbeat_interval(self):
        """Seconds between heartbeats.

        Returns
        -------
        int
        """
        return self._heartbeat_interval

    def get_heartbeat_stale_trial_callback(self):
        """The callback run on a trial failed for its missing heartbeat.

        Returns
        -------
        sklstm.search.trial_attrs.RetryStaleTrialCallback or None
        """
        return self._stale_callback


class HeartbeatRDBStorage(StaleTrialsRDBStorage):
    """Optuna's ``RDBStorage`` that also fails trials that never sent a heartbeat.

    Optuna fails a RUNNING trial whose last heartbeat is too old, but skips one with no
    heartbeat at all: the trial of a worker killed between creating it and the first
    beat of its heartbeat thread (a window that a loaded machine makes seconds long)
    stays RUNNING for ever, and a full trial budget would wait for it. Here such a trial
    counts from its start, as in :class:`HeartbeatJournalStorage`.

    Parameters
    ----------
    url : str
        SQLAlchemy URL of the database (``sqlite:///study.db``,
        ``postgresql://user@host/db``).
    heartbeat_interval : int
        Seconds between heartbeats of a running trial.
    grace_period : int or None, default=None
        Seconds without a heartbeat after which the trial is failed; None is twice the
        interval.
    retry_failed : int, default=0
        How many times a trial failed that way is run again.
    engine_kwargs : dict or None, default=None
        Passed to ``sqlalchemy.create_engine``, as by ``optuna.storages.RDBStorage``.

    Examples
    --------
    >>> import os, tempfile
    >>> url = f"sqlite:///{os.path.join(tempfile.mkdtemp(), 'study.db')}"
    >>> HeartbeatRDBStorage(url, heartbeat_interval=10).get_heartbeat_interval()
    10
    """

    def __init__(self, url, heartbeat_interval, grace_period=None, retry_failed=0,
                 engine_kwargs=None):
        kwargs = heartbeat_kwargs(heartbeat_interval, grace_period, retry_failed)
        with warnings.catch_warnings():  # "experimental" since Optuna 2.9: nothing to act on
            warnings.simplefilter("ignore", ExperimentalWarning)
            super().__init__(url, engine_kwargs=engine_kwargs, **kwargs)

    def more_stale_trial_ids(self, study_id, stale):
        """RUNNING trials without any heartbeat, started longer than the grace period ago;
        these and *stale* are marked as failed for their dead worker.

        The mark is set here, the one place sklstm sees the trials Optuna is about to
        fail (:func:`_marked_stale`).

        Parameters
        ----------
        study_id : int
            The study's id in this storage.
        stale : list of int
            The trials Optuna found stale (their heartbeat is too old).

        Returns
        -------
        list of int
            The ids of the others to fail.
        """
        never_beat = [trial_id for trial_id in running_trials_without_heartbeat(self, study_id)
                      if trial_id not in stale]
        # Their start times are read back through the public get_trial (the column's time
        # zone changed across Optuna versions), and compared with this worker's clock, as
        # Optuna's own frozen trials are. (grace_period is always set: heartbeat_kwargs
        # fills in its default.)
        cutoff = datetime.datetime.now() - datetime.timedelta(seconds=self.grace_period)
        more = [trial_id for trial_id in never_beat
                if (self.get_trial(trial_id).datetime_start or cutoff) < cutoff]
        # (one that finished meanwhile stays in Optuna's list, which refuses to fail it)
        _marked_stale(self, stale)
        return _marked_stale(self, more)
