"""Trials that repeat a finished one: found, and ended as that one ended, without a fit.

Samplers propose the same point again and again once they home in on the best region of
a discrete space (a grid of batch sizes, say), and Optuna refits every time (its FAQ
suggests this very check). With a fixed ``random_state`` on the same folds the refit
reproduces the earlier result, so :class:`~sklstm.search.CVObjective` reuses it instead
(``reuse_duplicates``).
"""

from __future__ import annotations

import numbers

import optuna

from .pipeline import final_estimator, final_prefix
from .selection import BASELINE, FIXED_AS_REPR
from .study_pruner import DUPLICATE_OF

__all__ = ["finished_twin", "replay"]


def finished_twin(trial, estimator, params, fixed):
    """An earlier finished (complete or pruned) trial ``trial`` would merely repeat, or None.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial being run, its parameters sampled.
    estimator : estimator or Pipeline
        The estimator searched.
    params : dict
        The trial's parameters, under the names ``set_params`` takes.
    fixed : dict
        The space's fixed values, as the trial's ``fixed_params`` records them.

    Returns
    -------
    optuna.trial.FrozenTrial or None
        None too where the fits are not reproducible (no int ``random_state``).
    """
    if not _is_seeded(estimator, params):
        return None
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    for earlier in trial.study.get_trials(deepcopy=False, states=finished):
        if (earlier.params == trial.params
                and earlier.user_attrs.get("fixed_params") == fixed):
            return earlier
    return None


def _is_seeded(estimator, params):
    """Whether the final LSTM's fits are reproducible (an int ``random_state``)."""
    seed = params.get(final_prefix(estimator) + "random_state",
                      final_estimator(estimator).get_params()["random_state"])
    return isinstance(seed, numbers.Integral) and not isinstance(seed, bool)


def replay(trial, twin):
    """End ``trial`` as its finished twin ended, without fitting anything.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial being run.
    twin : optuna.trial.FrozenTrial
        From :func:`finished_twin`.

    Returns
    -------
    float or tuple of float
        The twin's value(s).

    Raises
    ------
    optuna.TrialPruned
        Where the twin was pruned.
    """
    trial.set_user_attr(DUPLICATE_OF, twin.number)
    # (a sampled repeat of the baseline was recorded as a baseline too)
    for name, value in twin.user_attrs.items():
        if name not in (DUPLICATE_OF, "worker", "fixed_params", FIXED_AS_REPR, BASELINE):
            trial.set_user_attr(name, value)
    if twin.state == optuna.trial.TrialState.PRUNED:
        # the same curve, so samplers rank it like the twin (the median pruner only
        # looks at complete trials, so the copies do not shift its median)
        for step, value in twin.intermediate_values.items():
            trial.report(value, step)
        raise optuna.TrialPruned(f"same parameters as pruned trial {twin.number}")
    return twin.values[0] if len(twin.values) == 1 else tuple(twin.values)
