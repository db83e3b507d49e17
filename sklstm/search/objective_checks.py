"""What :class:`~sklstm.search.CVObjective` checks of its estimator and space, before
any trial: each mistake here failed every trial of a search, after its fits."""

from __future__ import annotations

import optuna
import torch

from ..resources.device import is_cuda, resolve_device
from ..resources.memory import PeakMemory
from .pipeline import final_estimator, final_prefix

__all__ = ["check_cost_measured", "check_no_checkpoint", "most_epochs"]


def _values_of(param, resolved_space, estimator):
    """Every value ``param`` of the final LSTM takes in the search: the space's choices
    (or fixed value) where it is searched, else the estimator's own."""
    values = [final_estimator(estimator).get_params().get(param.removeprefix(
        final_prefix(estimator)))]
    for searched, dist, value in resolved_space.values():
        if searched == param:
            values = list(getattr(dist, "choices", [value]))
    return values


def check_no_checkpoint(resolved_space, estimator):
    """Refuse a ``checkpoint`` directory on the LSTM searched (its own or the space's).

    Every fold of every trial is a fit of its own, and they all wrote to that one
    directory: each trial failed at its second fold ("holds the state of another
    fit"), and a fit of the same parameters on the same fold loaded the finished
    state of an earlier one instead of training.

    Parameters
    ----------
    resolved_space : dict
        From :func:`~sklstm.search.resolve_space`.
    estimator : estimator or Pipeline
        The estimator searched.

    Raises
    ------
    ValueError
        Naming the parameter and the fix.
    """
    param = final_prefix(estimator) + "checkpoint"
    given = [value for value in _values_of(param, resolved_space, estimator)
             if value is not None]
    if given:
        raise ValueError(
            f"{param}={given[0]!r}: a search fits every fold of every trial, and all "
            "those fits would share that checkpoint directory (each refused the state "
            "of the others, or loaded it in place of training). Search with "
            f"{param}=None, and give the directory to the refit of the selected "
            "parameters.")


def _unmeasured_device(device):
    """Whether a fit on ``device`` has no ``peak_memory_`` (None) on this machine.

    CUDA is measured by torch's allocator statistics; any other device by the process's
    resident set, which needs Linux's ``/proc`` (writable): probed with the very
    measurement a fit makes (:class:`~sklstm.resources.memory.PeakMemory`) around
    nothing. A device that cannot be resolved is left to the fit, which says why.
    """
    try:
        resolved = resolve_device(device)
    except (TypeError, ValueError):
        return False
    if is_cuda(resolved):
        return False
    with PeakMemory(torch.device("cpu")) as memory:
        pass
    return memory.peak is None


def check_cost_measured(multi_objective, resolved_space, estimator):
    """Refuse ``multi_objective="peak_memory"`` where the fits' peak memory is not measured.

    ``peak_memory_`` is None off Linux (or with ``/proc`` read-only) for a fit that is
    not on CUDA: every trial fitted all its folds, then failed ("not measured on this
    platform").

    Parameters
    ----------
    multi_objective : str or None
        The fit cost minimized beside the score.
    resolved_space : dict
        From :func:`~sklstm.search.resolve_space` (a searched ``device`` is looked at
        in all its choices).
    estimator : estimator or Pipeline
        The estimator searched.

    Raises
    ------
    ValueError
        Naming the device and the costs that are measured everywhere.
    """
    if multi_objective != "peak_memory":
        return
    param = final_prefix(estimator) + "device"
    for device in _values_of(param, resolved_space, estimator):
        if _unmeasured_device(device):
            raise ValueError(
                f"multi_objective='peak_memory' needs the peak memory of every fit, but "
                f"that of a fit on {param}={device!r} cannot be measured here (it is read "
                "from Linux's /proc, missing or read-only on this machine): every trial "
                "would fit all its folds and then fail. Minimize 'fit_time' or "
                "'n_updates' instead, or fit on CUDA.")


def most_epochs(resolved_space, estimator):
    """The most epochs a trial of the space fits: the pruning steps of one fold.

    Each trial's own ``max_epochs`` as the steps of a fold put a searched one out of
    line: fold 1 of a 2-epoch trial reported at the steps of epochs 2 and 3 of fold 0
    of a 4-epoch one, and pruners compared those scores.

    Parameters
    ----------
    resolved_space : dict
        From :func:`~sklstm.search.resolve_space`.
    estimator : estimator or Pipeline
        The estimator searched.

    Returns
    -------
    int
        The space's largest ``max_epochs``, else the estimator's.
    """
    param = final_prefix(estimator) + "max_epochs"
    for name, dist, value in resolved_space.values():
        if name != param:
            continue
        if dist is None:
            return value
        # check_space_values let only ints through: int choices, or an int range
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            return max(dist.choices)
        return dist.high
    return final_estimator(estimator).get_params()["max_epochs"]
