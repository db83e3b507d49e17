"""A study-wide trial budget that holds exactly, however many workers share the study.

Why this is written here: Optuna's ``MaxTrialsCallback`` counts the trials after one
finishes, and the next trial is created a moment later, so two workers that finish
together can both see room for one more and both start one (optuna/optuna#3518): a study
asked for ``n_trials`` ends with up to ``workers - 1`` extra trials. No Optuna storage
offers "create a trial only if there are fewer than n", so :class:`TrialBudget` holds a
lock that every worker of the storage can see from the count until the new trial exists
(:func:`~sklstm.search.budget_lock.budget_lock`: a lock file beside a journal or SQLite
file, PostgreSQL's advisory lock, a thread lock of an in-memory storage). Other storages
(MySQL, Redis) get the count without the lock, that is Optuna's behaviour: with several
workers a study may end with up to ``workers - 1`` trials more than asked. So does every
storage on an Optuna release that :mod:`sklstm._compat.optuna` was not verified on
(finding the storage, its file or its engine needs Optuna's private attributes).
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Sequence

from optuna import TrialPruned
from optuna.exceptions import ExperimentalWarning
from optuna.storages import fail_stale_trials
from optuna.trial import TrialState

from .._compat.optuna import heartbeat_interval, study_storage
from ..training.interrupts import ctrl_c_pending
from .budget_lock import budget_lock
from .study_checks import check_run_args
from .trial_attrs import (  # (WORKER, worker_name: also from here)
    FAIL_REASON,
    INTERRUPTED,
    WORKER,
    failed_as_stale,
    mark_interrupted,
    retried_numbers,
    worker_name,
)

__all__ = ["WORKER", "TrialBudget", "fail_dead_workers_trials", "used_trials",
           "uses_budget", "worker_name"]

#: Longest wait between two looks at a full budget with trials still running.
_POLL_SECONDS = 5

#: Trials that may use up the budget: enqueued (WAITING) trials are not run yet.
_CANDIDATES = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def uses_budget(trial):
    """Whether a trial holds a place in the study's budget.

    Running, complete and pruned trials do, and trials that failed in the objective
    (they carry a ``fail_reason``); a trial failed for its dead worker or interrupted by
    Ctrl-C does not, so the study still ends with the requested number of trials (a
    retry of it counts once it runs). A dead worker's trial is one the heartbeats marked
    stale (:func:`~sklstm.search.trial_attrs.failed_as_stale`; a worker killed after its
    objective recorded a ``fail_reason`` held a place, and its retry found none), or
    one without a reason (a storage that does not mark them).

    Parameters
    ----------
    trial : optuna.trial.FrozenTrial
        A trial of the study.

    Returns
    -------
    bool
        Whether it counts.
    """
    if trial.state != TrialState.FAIL:
        return trial.state in _CANDIDATES
    return (FAIL_REASON in trial.user_attrs and not trial.user_attrs.get(INTERRUPTED)
            and not failed_as_stale(trial))


def used_trials(trials):
    """The ``trials`` that hold a place: :func:`uses_budget`, but not one a retry reruns.

    Parameters
    ----------
    trials : list of optuna.trial.FrozenTrial
        The study's trials, WAITING ones included (a retry names the trial it reruns).

    Returns
    -------
    list of optuna.trial.FrozenTrial
    """
    retried = retried_numbers(trials)
    return [t for t in trials if uses_budget(t) and t.number not in retried]


def fail_dead_workers_trials(study):
    """Fail the running trials whose worker stopped sending heartbeats (none without
    heartbeats), and run them again where ``retry_failed`` asks
    (``optuna.storages.fail_stale_trials``).

    Parameters
    ----------
    study : optuna.Study
        The study whose trials are looked at.
    """
    with warnings.catch_warnings():  # "experimental" since Optuna 2.9
        warnings.simplefilter("ignore", ExperimentalWarning)
        fail_stale_trials(study)


def _unacceptable(value, n_objectives):
    """Why Optuna fails a trial whose objective returned ``value``, or None if it does not.

    Optuna fails such a trial (None, NaN, text, a wrong number of values) after the
    objective returned, without a ``fail_reason``.
    """
    values = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if len(values) != n_objectives:
        return f"the objective returned {value!r} for {n_objectives} objective(s)"
    for v in values:
        try:
            number = float(v)
        except (TypeError, ValueError):
            return f"the objective returned {v!r}, not a number"
        if math.isnan(number):
            return "the objective returned NaN (a score that is not a number)"
    return None


def _record_failure(trial, reason, interrupted=False):
    """Give a failing trial a ``fail_reason`` unless the objective gave one.

    Without it the failure would look like a dead worker's and not use up the budget:
    a study whose every trial failed so would create trials for ever. A trial that
    Ctrl-C ended is marked :data:`INTERRUPTED`, as sklstm's objective marks its own,
    so that it does not use up the budget either: a resumed search runs it again.
    """
    # A storage that fails here fails Optuna's own record of the trial too: the error
    # that ended the trial is the one to see, not this one.
    with contextlib.suppress(Exception):
        if FAIL_REASON in trial.user_attrs:
            return
        if interrupted:
            mark_interrupted(trial)
        else:
            trial.set_user_attr(FAIL_REASON, reason)


class TrialBudget:
    """At most ``n_trials`` trials in *study*, counted over every worker.

    :meth:`claim` takes the lock and checks for room; the lock stays held until
    :meth:`release`, once the new trial exists. :meth:`wrap` and the budget itself (an
    Optuna callback) do both inside ``study.optimize``: each finished trial claims the
    next place, and the wrapped objective releases it as the new trial starts. A trial
    left RUNNING by a killed worker uses up its place: without heartbeats, Optuna cannot
    tell it from a slow one, unless the storage has heartbeats
    (:mod:`sklstm.search.heartbeat`): then :meth:`claim` first fails the trials of dead
    workers, and when the budget is full but trials are still running, it waits for
    them, since one may yet fail for its dead worker and free its place.

    Parameters
    ----------
    study : optuna.Study
        The study whose trials are counted; its storage decides the lock.
    n_trials : int
        Most trials the study may hold (at least 1): those of every worker for which
        :func:`uses_budget` is true.
    timeout : float or None, default=None
        Seconds from now (more than 0) after which :meth:`claim` no longer waits for
        running trials (this worker's ``timeout``); None: it waits as long as they run.
    on_wait : callable or None, default=None
        Called as ``on_wait(running)``, ``running`` the list of running trials
        (``FrozenTrial``), once per :meth:`claim` that waits for them: the wait lasts
        up to a grace period after a SIGKILL, a trial's length otherwise, in silence.
    on_count : callable or None, default=None
        Called as ``on_count(trials)`` at every count, with the lock held, once the
        trials of dead workers are failed: what a lost trial needs before the next one
        is created (:func:`~sklstm.search.baseline_trial.requeue_lost_baseline`).

    Raises
    ------
    TypeError, ValueError
        An ``n_trials`` or ``timeout`` that :func:`~sklstm.search.tune` refuses too
        (numpy numbers are accepted), an ``on_wait`` or ``on_count`` that is no callable.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study()
    >>> budget = TrialBudget(study, 1)
    >>> budget.claim()
    True
    >>> trial = study.ask(); budget.release()
    >>> budget.claim()
    False
    """

    def __init__(self, study, n_trials, timeout=None, on_wait=None, on_count=None):
        # checked as tune checks them: n_trials="2" failed at the first claim, in the
        # count's comparison (a raw TypeError), a timeout of -1 or NaN was taken as given
        plain = check_run_args(None, n_trials=n_trials, timeout=timeout)
        n_trials, timeout = plain["n_trials"], plain["timeout"]
        for name, hook in (("on_wait", on_wait), ("on_count", on_count)):
            if hook is not None and not callable(hook):  # (else a raw error mid-search)
                raise TypeError(f"{name} must be a callable or None, got {hook!r}")
        self.study = study
        self.n_trials = n_trials
        self.on_wait = on_wait
        self.on_count = on_count
        # a worker's timeout bounds its wait too: it waited for the running trials of
        # other workers, hours on end, past its own timeout
        self._deadline = None if timeout is None else time.monotonic() + timeout
        storage = study_storage(study)
        self.lock = budget_lock(storage, study.study_name)
        self._heartbeat = heartbeat_interval(storage)
        self._held = False

    def n_used(self) -> int:
        """Trials that count against the budget.

        Returns
        -------
        int
            The study's trials for which :func:`uses_budget` is true, but retried ones.
        """
        return len(used_trials(self._trials()))

    def _trials(self):
        return self.study.get_trials(deepcopy=False)  # (WAITING retries name the retried)

    def claim(self) -> bool:
        """Take the lock and check whether one more trial fits.

        Returns
        -------
        bool
            True, with the lock still held until :meth:`release`, if one more
            trial fits; False, with the lock released, otherwise (after waiting for
            running trials, with heartbeats, at most until the ``timeout``).
        """
        heartbeat = self._heartbeat
        told = self.on_wait is None
        while True:
            self.lock.acquire()
            self._held = True
            try:
                trials, fits = self._count(heartbeat)
            except BaseException:
                # a lock file left behind blocks every worker of the storage until
                # Optuna breaks it as stale (~30 s), and Ctrl-C must not leave it either
                self.release()
                raise
            if fits:
                return True
            self.release()
            left = math.inf if self._deadline is None else self._deadline - time.monotonic()
            if (not heartbeat or left <= 0
                    or not any(t.state == TrialState.RUNNING for t in trials)):
                return False
            if not told:  # once, not at every look
                told = True
                self.on_wait([t for t in trials if t.state == TrialState.RUNNING])
            time.sleep(min(heartbeat, _POLL_SECONDS, left))

    def _count(self, heartbeat):
        """The study's trials, and whether one more fits (called with the lock held)."""
        if heartbeat:
            fail_dead_workers_trials(self.study)
        trials = self._trials()
        if self.on_count is not None:
            self.on_count(trials)
        return trials, len(used_trials(trials)) < self.n_trials

    def release(self) -> None:
        """Let the next worker count; does nothing if the lock is not held."""
        if self._held:
            self._held = False
            self.lock.release()

    def wrap(self, objective):
        """Wrap *objective* so that it releases the claim first, and so that every
        trial it fails has a ``fail_reason``.

        The trial exists once the objective runs, so the next worker may count. A trial
        that fails without a reason (an objective other than sklstm's that raises, or
        any that returns NaN or None, which Optuna fails) gets one: else
        :func:`uses_budget` would take it for a dead worker's, and the study would
        never fill up. One that Ctrl-C ended is marked interrupted instead, and keeps
        its place free.

        Parameters
        ----------
        objective : callable
            Optuna objective, called as ``objective(trial)``.

        Returns
        -------
        callable
            Objective that calls :meth:`release`, then returns
            ``objective(trial)``.
        """

        def run(trial):
            try:
                # (inside: a press as the lock is given back ends the trial as one in
                # the objective does, not as a dead worker's, without a fail_reason)
                self.release()
                value = objective(trial)
            except TrialPruned:
                raise
            except (Exception, KeyboardInterrupt) as exc:
                # an error may have replaced the KeyboardInterrupt of a press (Optuna's
                # journal lock, sklstm.training.interrupts)
                interrupted = isinstance(exc, KeyboardInterrupt) or ctrl_c_pending()
                _record_failure(trial, f"{type(exc).__name__}: {exc}", interrupted)
                raise
            reason = _unacceptable(value, len(trial.study.directions))
            if reason is not None:
                _record_failure(trial, reason)
            return value

        return run

    def __call__(self, study, trial):
        """Optuna callback: claim the next place, or stop this worker's loop."""
        if not self.claim():
            study.stop()
