"""The user attributes sklstm gives a trial as it runs, and the retry of a dead worker's
trial that leaves them behind.

A trial failed for its dead worker (its heartbeat stale) is run again by Optuna's
``RetryHeartbeatStaleTrialCallback``, as a new trial with the failed one's user
attributes. Those that say what the trial is (the baseline's mark, a user's own) belong
to the new trial; those that say how its run went do not: a ``fail_reason`` recorded
just before the worker died stayed on the retried trial, which then read as failed
(and kept that reason, not its own, if it failed otherwise), and ``worker`` named the
dead worker. :class:`RetryStaleTrialCallback` leaves out :data:`RUN_ATTRS`, and the
:data:`STALE` mark of the failed trial (a system attribute, which Optuna copies too).
"""

from __future__ import annotations

import copy
import os
import socket
import warnings

import optuna.storages
from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState

__all__ = ["FAIL_REASON", "INTERRUPTED", "RUN_ATTRS", "STALE", "WORKER",
           "RetryStaleTrialCallback", "failed_as_stale", "mark_interrupted", "retried_numbers",
           "retry_callback", "worker_name"]

#: User attribute of a trial that Ctrl-C interrupted (it does not use up the budget).
INTERRUPTED = "sklstm_interrupted"
#: User attribute with the reason of a trial that failed in the objective.
FAIL_REASON = "fail_reason"
#: User attribute naming the worker that runs a trial (:func:`worker_name`).
WORKER = "worker"
#: The user attributes of a trial's run, not of the trial: a retry does not copy them.
RUN_ATTRS = frozenset({FAIL_REASON, INTERRUPTED, WORKER})
#: System attribute that marks a trial taken for its dead worker's (its heartbeat stale)
#: just before it is failed (:mod:`sklstm.search.heartbeat`); its value is the trial's
#: number, so that a copy of it on a retry (Optuna's own callback copies it) marks nothing.
STALE = "sklstm:stale"


def mark_interrupted(trial):
    """Say why ``trial`` fails: Ctrl-C (or ``SIGTERM``) interrupted it. Optuna fails it
    and stops the study; it does not use up the study's budget
    (:class:`~sklstm.search.TrialBudget`), so a resumed search runs it again.

    Parameters
    ----------
    trial : optuna.Trial
        The running trial.
    """
    trial.set_user_attr(INTERRUPTED, True)
    trial.set_user_attr(FAIL_REASON, "interrupted (Ctrl-C)")


def failed_as_stale(trial):
    """Whether a trial was failed for its dead worker (marked :data:`STALE`).

    Whatever the worker recorded before it died (a ``fail_reason`` of an objective that
    was failing, when a SIGKILL came before the trial was told FAIL): the worker's death
    ended the trial, not its objective.

    Parameters
    ----------
    trial : optuna.trial.FrozenTrial

    Returns
    -------
    bool
    """
    return (trial.state == TrialState.FAIL
            and trial.system_attrs.get(STALE) == trial.number)


def worker_name():
    """This process as a trial's ``worker`` attribute names it: ``"host:pid"``."""
    return f"{socket.gethostname()}:{os.getpid()}"


#: Optuna's callback that runs a trial failed for its stale heartbeat again. Optuna 4.9
#: renamed it RetryHeartbeatStaleTrialCallback and deprecated the old name, which 6.0
#: removes: the new name where it exists (both are public).
_RETRY_CALLBACK = (getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
                   or optuna.storages.RetryFailedTrialCallback)


class RetryStaleTrialCallback(_RETRY_CALLBACK):
    """Optuna's retry of a trial failed for its stale heartbeat, without the attributes
    of the failed trial's run (:data:`RUN_ATTRS`).

    Parameters
    ----------
    max_retry : int or None
        As for Optuna's callback: how many times a trial is run again.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study()
    >>> dead = optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs={
    ...     "fail_reason": "MemoryError: ", "worker": "node1:12", "baseline": True})
    >>> dead.number = 0
    >>> retry_callback(1)(study, dead)
    >>> study.get_trials(states=[optuna.trial.TrialState.WAITING])[0].user_attrs
    {'baseline': True}
    """

    def __call__(self, study, trial):
        trial = copy.copy(trial)  # (Optuna's frozen copy: the stored trial is kept)
        trial.user_attrs = {k: v for k, v in trial.user_attrs.items() if k not in RUN_ATTRS}
        trial.system_attrs = {k: v for k, v in trial.system_attrs.items() if k != STALE}
        super().__call__(study, trial)


def retried_numbers(trials):
    """The numbers of the trials that a retry runs again, as the retries say (Optuna's
    ``retry_history``, which every retry of a stale trial carries).

    Only a trial failed for its dead worker is retried: this finds those that no
    :data:`STALE` mark says so of (a storage instance of Optuna's own, a study made
    before sklstm marked them), so that such a trial is counted once, by its retry.

    Parameters
    ----------
    trials : iterable of optuna.trial.FrozenTrial
        The study's trials, WAITING ones included (a retry is WAITING until it runs).

    Returns
    -------
    set of int
    """
    with warnings.catch_warnings():  # "experimental" since Optuna 3.0: nothing to act on
        warnings.simplefilter("ignore", ExperimentalWarning)
        return {number for trial in trials for number in _RETRY_CALLBACK.retry_history(trial)}


def retry_callback(retry_failed):
    """The callback that runs a trial failed for its dead worker again up to
    ``retry_failed`` times, or None for 0.

    Parameters
    ----------
    retry_failed : int

    Returns
    -------
    RetryStaleTrialCallback or None
    """
    if not retry_failed:
        return None
    with warnings.catch_warnings():  # "experimental" since Optuna 2.8: nothing to act on
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RetryStaleTrialCallback(max_retry=retry_failed)
