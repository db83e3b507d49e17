"""The baseline trial of a study: the estimator's own configuration, enqueued once."""

from __future__ import annotations

import warnings

from optuna.trial import TrialState

from .._compat.optuna import study_storage
from .budget_lock import budget_lock
from .selection import BASELINE
from .trial_attrs import INTERRUPTED
from .trial_budget import fail_dead_workers_trials, uses_budget

__all__ = ["MAX_BASELINE_DEATHS", "enqueue_baseline", "requeue_lost_baseline"]

#: Baselines lost to their workers' deaths after which it is not run again: a
#: configuration that kills its worker (the host's memory) would kill every worker
MAX_BASELINE_DEATHS = 2


def enqueue_baseline(study, params):
    """Enqueue the baseline trial in a study that has no trial yet, once, and again
    where the baseline was lost.

    Under the trial budget's lock (:func:`~sklstm.search.budget_lock.budget_lock`):
    workers started together (the same command on every machine) all found the study
    empty and each enqueued a baseline, which then took a place of ``n_trials`` each.
    A baseline that its worker's death or Ctrl-C ended holds no place in the budget
    (:func:`~sklstm.search.trial_budget.uses_budget`), and nothing ran it again: the
    resumed study had none, and :func:`~sklstm.search.selected_trial` silently took the
    best trial, lucky or not. Such a baseline is enqueued again, once the trials of dead
    workers are failed (heartbeats); one that failed in its fit is not.

    Parameters
    ----------
    study : optuna.Study
        The study.
    params : dict
        The baseline's parameters (:func:`~sklstm.search.selection.baseline_params`).
    """
    lock = budget_lock(study_storage(study), study.study_name)
    lock.acquire()
    try:
        fail_dead_workers_trials(study)
        trials = study.get_trials(deepcopy=False)
        if not trials:
            study.enqueue_trial(params, user_attrs={BASELINE: True})
        else:
            requeue_lost_baseline(study, params, trials)
    finally:
        lock.release()


def requeue_lost_baseline(study, params, trials) -> bool:
    """Enqueue the baseline again where it was lost: its worker's death or Ctrl-C ended
    it, and no retry of it waits (one that failed in its fit is not lost).

    Called with the trial budget's lock held, once the trials of dead workers are
    failed: by :func:`enqueue_baseline` as a worker starts, and by its budget before
    each trial it creates (:class:`~sklstm.search.TrialBudget`'s ``on_count``). A
    baseline found stale while a worker ran (its worker killed after another had
    started, ``retry_failed=0``) was not run again: its place went to a sampled trial,
    and the study ended without a baseline.

    Parameters
    ----------
    study : optuna.Study
        The study.
    params : dict
        The baseline's parameters (:func:`~sklstm.search.selection.baseline_params`).
    trials : list of optuna.trial.FrozenTrial
        The study's trials, WAITING ones included.

    Returns
    -------
    bool
        Whether it was enqueued: not after :data:`MAX_BASELINE_DEATHS` of its workers
        died in it (a warning says so; Ctrl-C is no death).
    """
    baselines = [t for t in trials if t.user_attrs.get(BASELINE)]
    lost = bool(baselines) and not any(t.state == TrialState.WAITING or uses_budget(t)
                                       for t in baselines)
    deaths = sum(t.state == TrialState.FAIL and not t.user_attrs.get(INTERRUPTED)
                 for t in baselines)
    if lost and deaths >= MAX_BASELINE_DEATHS:
        warnings.warn(
            f"The baseline trial's worker died {deaths} times (trials "
            f"{[t.number for t in baselines]}): it is not run again. A configuration that "
            "takes more memory than the host has can kill its worker; check the "
            "estimator's own parameters.", RuntimeWarning, stacklevel=2)
        return False
    if lost:
        study.enqueue_trial(params, user_attrs={BASELINE: True})
    return lost
