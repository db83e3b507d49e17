"""Optuna pruners by name, for :func:`~sklstm.search.tune` and ``sklstm tune --pruner``."""

from __future__ import annotations

import warnings

from optuna.pruners import (
    BasePruner,
    HyperbandPruner,
    MedianPruner,
    NopPruner,
    SuccessiveHalvingPruner,
)

__all__ = ["PRUNERS", "make_pruner"]

#: Pruner names accepted by :func:`make_pruner` (and ``sklstm tune --pruner``).
PRUNERS = {
    "median": MedianPruner,
    "hyperband": HyperbandPruner,
    "halving": SuccessiveHalvingPruner,
    "none": NopPruner,
}

def make_pruner(pruner="median", multi_objective=None) -> BasePruner:
    """Optuna pruner from a name (``median``, ``hyperband``, ``halving``, ``none``) or instance.

    Optuna cannot prune multi-objective studies, so with ``multi_objective`` any pruner but
    ``none``/None warns and is replaced by ``NopPruner``.

    Parameters
    ----------
    pruner : {"median", "hyperband", "halving", "none"}, optuna.pruners.BasePruner \
or None, default="median"
        A name of :data:`PRUNERS` (its pruner is built with Optuna's defaults) or a
        pruner instance, used as is. None means ``"median"`` for one objective and
        ``"none"`` for two.
    multi_objective : str or None, default=None
        The fit cost optimized beside the score (see :func:`tune`); when set, the
        pruner is a ``NopPruner``. None for a single-objective study.

    Returns
    -------
    optuna.pruners.BasePruner
        The pruner to create the study with.

    Raises
    ------
    ValueError
        An unknown pruner name.
    TypeError
        A pruner that is neither a name nor a pruner instance (a pruner class, say).

    Examples
    --------
    >>> type(make_pruner("hyperband")).__name__
    'HyperbandPruner'
    >>> type(make_pruner(None, multi_objective="fit_time")).__name__
    'NopPruner'
    """
    if pruner is None:
        pruner = "none" if multi_objective else "median"
    if isinstance(pruner, str):
        if pruner not in PRUNERS:
            raise ValueError(f"unknown pruner {pruner!r}; choose one of {sorted(PRUNERS)}")
        pruner = PRUNERS[pruner]()
    if not isinstance(pruner, BasePruner):
        # (a ValueError that gave no fix; a pruner class, not called, is the usual slip)
        made = " (a class: call it, e.g. MedianPruner())" if isinstance(pruner, type) else ""
        raise TypeError(f"pruner must be one of {sorted(PRUNERS)} or an "
                        f"optuna.pruners.BasePruner instance, got {pruner!r}{made}")
    if multi_objective and not isinstance(pruner, NopPruner):
        warnings.warn(
            "Optuna does not support pruning multi-objective studies; pruning is disabled.",
            UserWarning,
            stacklevel=2,
        )
        pruner = NopPruner()
    return pruner
