"""The baseline trial of a study: the estimator's own configuration, enqueued once."""

from __future__ import annotations

from optuna.trial import TrialState

from .._compat.optuna import study_storage
from .budget_lock import budget_lock
from .selection import BASELINE
from .trial_budget import fail_dead_workers_trials, uses_budget

__all__ = ["enqueue_baseline"]


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
        baselines = [t for t in trials if t.user_attrs.get(BASELINE)]
        lost = baselines and not any(t.state == TrialState.WAITING or uses_budget(t)
                                     for t in baselines)
        if not trials or lost:
            study.enqueue_trial(params, user_attrs={BASELINE: True})
    finally:
        lock.release()
