"""Targets so large that the loss the network computes in float32 overflows, refused
before training: :func:`check_targets_in_range` and :func:`check_batch_losses_in_range`.

Such a fit would lose ``inf`` from its first batch on, which the divergence guard
(:mod:`sklstm.training.divergence`) would report once it had run.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_batch_losses_in_range", "check_targets_in_range"]


def check_targets_in_range(name, y_train):
    """Raise a clear ValueError where the targets the loss sees are so large that their
    squared errors overflow float32, in which the network computes its loss.

    Every training loss would then be infinite from the first batch on, which the
    guard would report as divergence and blame on the learning rate or on ``X``.

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    y_train : ndarray
        The targets as the loss takes them (class indices are never too large).

    Examples
    --------
    >>> check_targets_in_range("LSTMRegressor", np.array([1.0, 2.0]))
    """
    if y_train.dtype.kind != "f" or not y_train.size:
        return
    largest = float(np.abs(y_train).max())
    if largest > math.sqrt(float(np.finfo(np.float32).max)):
        raise ValueError(
            f"{name}: y has values up to {largest:.3g}, whose squared errors overflow "
            "float32 (beyond 3.4e38), in which the network computes its loss: every "
            "training loss would be infinite. Rescale y (scale_target=True, the default, "
            "standardizes it).")


def check_batch_losses_in_range(name, y_train, batch_size, n_train):
    """Raise a clear ValueError where every full micro-batch's loss overflows float32.

    :func:`check_targets_in_range` bounds one squared error; torch's mean squared error
    sums a micro-batch's squared errors in float32 too, so targets of 1e19 (squares of
    1e38) fit it and the first batch's loss was inf, refused only once it had run
    (:class:`~sklstm.training.divergence.DivergenceGuard`). Neither torch nor skorch
    checks this beforehand. The rule refuses only what cannot train: where even the
    ``b`` smallest per-sample squared norms, ``b`` the micro-batch, sum beyond float32's
    range (with a margin for the untrained outputs and float32's rounding), every full
    micro-batch the fit draws overflows before any update; the split of
    ``early_stopping`` only removes samples, so the bound holds for every split.

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    y_train : ndarray
        The targets as the loss takes them (class indices are never too large).
    batch_size : int
        The micro-batch, samples per forward pass.
    n_train : int or None
        Samples trained on (after ``early_stopping``'s split); None: all of ``y_train``.

    Examples
    --------
    >>> check_batch_losses_in_range("LSTMRegressor", np.array([1e18, 2e18]), 16, 2)
    """
    if y_train.dtype.kind != "f" or not y_train.size:
        return
    limit = float(np.finfo(np.float32).max)
    per_sample = y_train.size // len(y_train)
    b = min(int(batch_size), len(y_train) if n_train is None else int(n_train))
    # the default path (standardized targets) ends here, after one read of the targets
    largest = max(float(y_train.max()), -float(y_train.min()))
    if b * per_sample * largest**2 <= limit:
        return
    norms = np.square(y_train.reshape(len(y_train), -1), dtype=np.float64).sum(axis=1)
    smallest = np.partition(norms, b - 1)[:b].sum() if b < len(norms) else norms.sum()
    if smallest <= 1.01 * limit:
        return
    fix = "Rescale y (scale_target=True, the default, standardizes it)"
    fits = int(limit // float(norms.max()))  # fits float32 whatever samples it draws
    if fits:
        fix += f", or lower batch_size to {fits} or fewer"
    raise ValueError(
        f"{name}: y is so large that the loss of every micro-batch of {b} samples "
        f"overflows float32 (their squared errors sum to at least {smallest:.3g}, beyond "
        f"3.4e38) before any update, so the fit could not train. {fix}.")
