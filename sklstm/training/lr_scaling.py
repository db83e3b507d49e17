"""Learning-rate scaling with the effective batch size, and warmup."""

from __future__ import annotations

from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import LinearLR

from .._compat.python import warn_at_caller
from .._compat.sklearn import StrOptions
from .._param_validation import integers, plain_params, reals, validate_constraints
from ..exceptions import WarmupOutlastsFitWarning

__all__ = ["LR_SCALING_RULES", "check_warmup", "scaled_learning_rate",
           "warmup_scheduler"]

#: Exponent ``p`` of ``lr * (effective_batch / base_batch_size) ** p`` per rule.
LR_SCALING_RULES = {None: 0.0, "linear": 1.0, "sqrt": 0.5}

#: What the public helpers take, checked as the estimators check their parameters: an
#: unknown rule was a bare KeyError, a negative batch a complex rate, and numpy's
#: float32 0.01 a rate of 0.0399999991 for 0.04 (the estimators read it as 0.01).
_CONSTRAINTS = {
    "lr": [reals(0, closed="neither")],
    "effective_batch_size": [integers(1)],
    "base_batch_size": [integers(1)],
    "rule": [StrOptions({"linear", "sqrt"}), None],
    "warmup_epochs": [integers(0)],
}


def _checked(caller, **params):
    """``params`` as Python numbers (numpy scalars as the numbers they hold), checked
    against :data:`_CONSTRAINTS`."""
    params = plain_params(params)
    validate_constraints({name: _CONSTRAINTS[name] for name in params}, params, caller)
    return params


def scaled_learning_rate(lr, effective_batch_size, base_batch_size, rule):
    """Learning rate actually used for a given effective batch size.

    ``lr`` is tuned for ``base_batch_size``; ``"linear"`` scales it in
    proportion to the effective batch (Goyal et al., 2017, for SGD),
    ``"sqrt"`` with its square root (common for Adam-type optimizers), None
    keeps it. Without scaling, a search over ``batch_size`` also changes the
    step size per sample seen, so the two effects cannot be told apart.

    Parameters
    ----------
    lr : float
        Learning rate meant for ``base_batch_size`` samples per step.
    effective_batch_size : int
        ``batch_size * accumulation_steps``.
    base_batch_size : int
        Batch size for which ``lr`` is meant.
    rule : {None, "linear", "sqrt"}
        Scaling rule: exponent 1, 0.5 or 0 (no scaling) of
        ``effective_batch_size / base_batch_size``, see :data:`LR_SCALING_RULES`.

    Returns
    -------
    float
        ``lr * (effective_batch_size / base_batch_size) ** p`` for the rule's ``p``.

    Raises
    ------
    ValueError
        A rate that is not positive, a batch size that is no positive int, or a rule
        not among :data:`LR_SCALING_RULES` (numpy scalars are the numbers they hold).

    Examples
    --------
    >>> scaled_learning_rate(0.01, 256, 32, "linear")
    0.08
    >>> round(scaled_learning_rate(0.01, 128, 32, "sqrt"), 6)
    0.02
    """
    p = _checked("scaled_learning_rate", lr=lr, effective_batch_size=effective_batch_size,
                 base_batch_size=base_batch_size, rule=rule)
    ratio = p["effective_batch_size"] / p["base_batch_size"]
    return float(p["lr"] * ratio ** LR_SCALING_RULES[p["rule"]])


def warmup_scheduler(warmup_epochs):
    """Callback for skorch ramping the learning rate up over the first epochs.

    Epoch ``e < warmup_epochs`` uses ``lr_ * (e + 1) / (warmup_epochs + 1)``;
    from epoch ``warmup_epochs`` on the full ``lr_``. Uses torch's
    :class:`~torch.optim.lr_scheduler.LinearLR` through skorch's
    :class:`~skorch.callbacks.LRScheduler`.

    Parameters
    ----------
    warmup_epochs : int
        Epochs over which the learning rate ramps up to the net's full rate.

    Returns
    -------
    skorch.callbacks.LRScheduler
        The callback, stepping once per epoch; add it to the net's ``callbacks``.

    Raises
    ------
    ValueError
        ``warmup_epochs`` is no int of 0 or more (-1 was a ZeroDivisionError).
    """
    warmup_epochs = _checked("warmup_scheduler", warmup_epochs=warmup_epochs)["warmup_epochs"]
    return LRScheduler(
        policy=LinearLR,
        start_factor=1.0 / (warmup_epochs + 1),
        end_factor=1.0,
        total_iters=warmup_epochs,
        step_every="epoch",
    )


def check_warmup(name, warmup_epochs, max_epochs):
    """Warn where ``max_epochs`` ends the fit before the warm-up reaches the full rate.

    The warm-up (:func:`warmup_scheduler`) trains at the full rate ``lr_`` only from
    epoch ``warmup_epochs + 1`` on: a fit of no more epochs never does, and its
    ``ConvergenceWarning`` would advise raising an ``lr`` that it never used.

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    warmup_epochs : int
        Epochs of the warm-up.
    max_epochs : int
        Epochs of the fit at most.

    Warns
    -----
    WarmupOutlastsFitWarning
        ``warmup_epochs >= max_epochs`` (a ``UserWarning``).

    Examples
    --------
    >>> check_warmup("LSTMClassifier", 5, 200)  # at the full rate from epoch 6: silent
    """
    if warmup_epochs < max_epochs:
        return
    warn_at_caller(
        f"{name}: warmup_epochs={warmup_epochs} ramps the learning rate up to lr_ over "
        f"{warmup_epochs} epochs, but max_epochs={max_epochs} ends the fit first: it never "
        f"trains at lr_ (its last epoch at {max_epochs / (warmup_epochs + 1):.0%} of it). "
        "Lower warmup_epochs below max_epochs, or raise max_epochs.", WarmupOutlastsFitWarning)
