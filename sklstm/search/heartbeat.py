"""Heartbeats, so that a trial whose worker died is failed instead of RUNNING forever.

A worker killed mid-trial (SIGKILL, a lost node) leaves its trial RUNNING: Optuna
cannot tell it from a slow one, and it would hold a place in the study's budget for
ever. With heartbeats every running trial records a timestamp every
``heartbeat_interval`` seconds (Optuna runs a thread for it), and the other workers fail
trials whose last heartbeat is older than ``grace_period`` before they start a new one
(``optuna.storages.fail_stale_trials``); optionally a failed one is run again
(``optuna.storages.RetryFailedTrialCallback``).

Optuna implements this for RDB storages (SQLite, PostgreSQL, MySQL), with one gap that
:class:`HeartbeatRDBStorage` closes: a trial whose worker died after creating it but
before its first heartbeat has no heartbeat row, and Optuna never fails it. Journal files have
no heartbeat in Optuna, so :class:`HeartbeatJournalStorage` adds one through the same
protocol (Optuna's ``BaseHeartbeat``, a private class: its methods are the ones Optuna
calls), keeping the heartbeat in a system attribute of the trial. The journal stays a
plain Optuna journal. Heartbeats compare wall clocks: workers sharing a journal file
across machines need synchronised clocks (NTP), as for the grace period of an RDB.
"""

from __future__ import annotations

import datetime
import inspect
import time

from optuna.storages import JournalStorage, RDBStorage, RetryFailedTrialCallback
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import TrialState

__all__ = ["HEARTBEAT_ATTR", "HeartbeatJournalStorage", "HeartbeatRDBStorage",
           "heartbeat_kwargs"]

#: System attribute holding a journal trial's last heartbeat (seconds since the epoch).
HEARTBEAT_ATTR = "sklstm:heartbeat"


def _stale_callback(retry_failed):
    return RetryFailedTrialCallback(max_retry=retry_failed) if retry_failed else None


def heartbeat_kwargs(heartbeat_interval, grace_period=None, retry_failed=0):
    """Keyword arguments that turn heartbeats on for an ``optuna.storages.RDBStorage``.

    Parameters
    ----------
    heartbeat_interval : int or None
        Seconds between heartbeats; None turns heartbeats off (returns ``{}``).
    grace_period : int or None, default=None
        Seconds without a heartbeat after which a trial is failed; None is twice the
        interval.
    retry_failed : int, default=0
        How many times a trial failed that way is run again (0: never).

    Returns
    -------
    dict
        For ``RDBStorage(url, **kwargs)``.

    Examples
    --------
    >>> sorted(heartbeat_kwargs(60))
    ['grace_period', 'heartbeat_interval']
    >>> heartbeat_kwargs(None)
    {}
    """
    if heartbeat_interval is None:
        return {}
    kwargs = {"heartbeat_interval": heartbeat_interval,
              "grace_period": grace_period or 2 * heartbeat_interval}
    callback = _stale_callback(retry_failed)
    if callback is not None:
        # Optuna 4.9 renamed failed_trial_callback; take whichever this Optuna has
        names = inspect.signature(RDBStorage.__init__).parameters
        name = ("heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in names
                else "failed_trial_callback")
        kwargs[name] = callback
    return kwargs


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """An Optuna ``JournalStorage`` whose running trials send heartbeats.

    Parameters
    ----------
    log_storage : optuna.storages.journal.BaseJournalBackend
        The journal backend (a file).
    heartbeat_interval, grace_period, retry_failed
        As for :class:`HeartbeatRDBStorage`.

    Examples
    --------
    >>> import os, tempfile
    >>> from optuna.storages.journal import JournalFileBackend
    >>> path = os.path.join(tempfile.mkdtemp(), "study.journal")
    >>> HeartbeatJournalStorage(JournalFileBackend(path), 10).get_heartbeat_interval()
    10
    """

    def __init__(self, log_storage, heartbeat_interval, grace_period=None, retry_failed=0):
        super().__init__(log_storage)
        self._heartbeat_interval = heartbeat_interval
        self._grace_period = grace_period or 2 * heartbeat_interval
        self._stale_callback = _stale_callback(retry_failed)

    def record_heartbeat(self, trial_id):
        """Record that the trial's worker is alive (Optuna's heartbeat thread calls it)."""
        self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())

    def _get_stale_trial_ids(self, study_id):
        now = time.time()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False,
                                         states=(TrialState.RUNNING,)):
            beat = trial.system_attrs.get(HEARTBEAT_ATTR)
            if beat is None:  # no heartbeat yet: count from the trial's start
                beat = trial.datetime_start.timestamp() if trial.datetime_start else now
            if now - beat > self._grace_period:
                stale.append(trial._trial_id)
        return stale

    def get_heartbeat_interval(self):
        """Seconds between heartbeats."""
        return self._heartbeat_interval

    def get_heartbeat_stale_trial_callback(self):
        """The callback run on a trial failed for its missing heartbeat (Optuna >= 4.9)."""
        return self._stale_callback

    def get_failed_trial_callback(self):
        """The same callback, under the name Optuna < 4.9 asks for."""
        return self._stale_callback


class HeartbeatRDBStorage(RDBStorage):
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
        super().__init__(url, engine_kwargs=engine_kwargs,
                         **heartbeat_kwargs(heartbeat_interval, grace_period, retry_failed))

    def _get_stale_trial_ids(self, study_id):
        stale = super()._get_stale_trial_ids(study_id)
        # Optuna has no public query for trials without a heartbeat row: its ORM models
        # are the only way to ask. Their start times are read back through the public
        # get_trial (the column's time zone changed across Optuna versions), and compared
        # with this worker's clock, as Optuna's own frozen trials are.
        with _create_scoped_session(self.scoped_session) as session:
            never_beat = [trial_id for (trial_id,) in (
                session.query(models.TrialModel.trial_id)
                .filter(models.TrialModel.study_id == study_id,
                        models.TrialModel.state == TrialState.RUNNING,
                        ~models.TrialModel.heartbeats.any())
                .all()) if trial_id not in stale]
        # (grace_period is always set: heartbeat_kwargs fills in its default)
        cutoff = datetime.datetime.now() - datetime.timedelta(seconds=self.grace_period)
        return stale + [trial_id for trial_id in never_beat
                        if (self.get_trial(trial_id).datetime_start or cutoff) < cutoff]
