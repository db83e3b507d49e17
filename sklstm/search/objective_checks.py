"""What :class:`~sklstm.search.CVObjective` checks of its estimator and space, before
any trial: each mistake here failed every trial of a search, after its fits."""

from __future__ import annotations

import numpy as np
import optuna
import torch
from sklearn.base import is_classifier
from sklearn.utils.multiclass import type_of_target

from ..resources.device import is_cuda, resolve_device
from ..resources.memory import PeakMemory
from .pipeline import final_estimator, final_prefix

__all__ = ["check_cost_measured", "check_no_checkpoint", "check_training_classes", "cv_splits",
           "most_epochs"]


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


def _fold_limit(cv, y, groups):
    """The most folds ``cv`` (a splitter that refused to split) can make of the data,
    and of what: its groups, the members of the largest class (stratified), or the
    samples."""
    name = type(cv).__name__
    if "Group" in name and groups is not None:
        return len(np.unique(np.asarray(groups))), "groups"
    if "Stratified" in name:
        return int(np.unique(np.asarray(y), return_counts=True)[1].max()), \
            "samples of the largest class"
    return len(y), "samples"


def cv_splits(cv, given, X, y, groups):
    """The ``(train, test)`` folds of the splitter ``cv`` (made of the ``cv`` argument
    ``given``), its refusal to split the data with the fix.

    scikit-learn says only that ``n_splits`` is too large ("n_splits=7 cannot be
    greater than the number of members in each class"), not how many folds would do.

    Parameters
    ----------
    cv : cross-validation generator
        From :func:`~sklstm.search.selection.resolve_cv`.
    given : object
        The ``cv`` argument it was made of, as the message names it.
    X, y, groups : array-like
        The search's data.

    Returns
    -------
    list of (train, test) index arrays

    Raises
    ------
    ValueError
        Naming ``given``, scikit-learn's reason, and the most folds the data allow.
    """
    try:
        splits = list(cv.split(X, y, groups))
    except ValueError as exc:
        if not hasattr(cv, "get_n_splits"):
            raise
        fix = _split_fix(cv, y, groups)
        raise ValueError(f"cv={given!r} cannot split these {len(y)} samples ({exc}); "
                         f"{fix}") from exc
    _check_folds(splits, given)
    return splits


def _check_folds(splits, given):
    """Refuse no folds, or a fold with an empty part.

    scikit-learn takes any iterable of splits: one already used up (the generator of an
    earlier ``KFold(3).split(X)``, given to a second search) gave no folds, and every
    trial failed with "the objective returned NaN"; an empty part failed every trial at
    that fold ("Found array with 0 sample(s)").
    """
    if not splits:
        raise ValueError(
            f"cv (a {type(given).__name__}) gave no (train, test) splits (a generator of "
            "splits used up by an earlier search gives none): pass a list of the splits, "
            "or the splitter itself, e.g. cv=KFold(3)")
    for fold, (train, test) in enumerate(splits):
        for part, indices in (("training", train), ("test", test)):
            indices = np.asarray(indices)  # (a boolean mask is a part too)
            if not (np.count_nonzero(indices) if indices.dtype == bool else indices.size):
                raise ValueError(
                    f"fold {fold} of the cv has an empty {part} part: every trial "
                    "would fail at that fold; give each fold training and test samples")


def _split_fix(cv, y, groups):
    """What makes the splitter ``cv``, which refused to split the data, split it.

    Fewer folds only where too many were the reason: a group splitter without
    ``groups``, or a stratified one of continuous targets, was told to take fewer
    folds ("cv=40 at most", "more data are needed"), which no number of folds mends.
    """
    name = type(cv).__name__
    if "Group" in name and groups is None:
        return (f"{name} keeps each group in one fold: pass groups= (one label per "
                "sample), or a splitter without groups such as KFold(3, shuffle=True)")
    try:
        kind = type_of_target(y)
    except ValueError:  # (targets it cannot tell: the fit says what is wrong with them)
        kind = None
    if "Stratified" in name and kind not in (None, "binary", "multiclass"):
        return (f"{name} stratifies class labels, and the targets are {kind!r}: pass "
                "a splitter without classes, such as KFold(3, shuffle=True)")
    limit, of = _fold_limit(cv, y, groups)
    if limit >= 2:
        return f"pass fewer folds (cv={limit} at most: there are {limit} {of})"
    return f"more data are needed (there is {limit} of the {of})"


def check_training_classes(estimator, y, splits):
    """Refuse folds whose training part holds a single class, for a classifier.

    Its fit refuses one class, so every trial failed at that fold, after the folds
    before it were fitted. With stratified folds this is a class of two with a single
    sample (scikit-learn only warns that "the least populated class in y has only 1
    members"): the fold that tests it trains on the other class alone.

    Parameters
    ----------
    estimator : estimator or Pipeline
        The estimator searched (nothing is checked for a regressor).
    y : array-like
        The targets.
    splits : list of (train, test) index arrays
        The folds.

    Raises
    ------
    ValueError
        Naming the fold, the classes its training part lacks, and the fix.
    """
    y = np.asarray(y)
    if not is_classifier(estimator) or y.ndim != 1:
        return
    classes, counts = np.unique(y, return_counts=True)
    for fold, (train, _) in enumerate(splits):
        present = np.unique(y[train])
        if len(present) >= 2:
            continue
        missing = [(c, n) for c, n in zip(classes.tolist(), counts.tolist(), strict=True)
                   if c not in present.tolist()]
        lacking = ", ".join(f"{c!r} ({n} sample{'s' * (n > 1)})" for c, n in missing)
        single = [c for c, n in missing if n == 1]
        fix = (f"add samples of class {single[0]!r} (2 at least) or drop its sample"
               if single else "use stratified folds, e.g. "
               "cv=StratifiedKFold(3, shuffle=True), or more samples of those classes")
        raise ValueError(
            f"fold {fold} of the cv trains on class {present.tolist()[0]!r} alone (all of "
            f"class {lacking} is in its test part), and a classifier needs 2 classes to "
            f"fit: every trial would fail at that fold; {fix}")
