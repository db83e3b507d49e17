"""Learning-rate scaling with the effective batch size, and warmup."""

from __future__ import annotations

from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import LinearLR

__all__ = ["LR_SCALING_RULES", "scaled_learning_rate", "warmup_scheduler"]

#: Exponent ``p`` of ``lr * (effective_batch / base_batch_size) ** p`` per rule.
LR_SCALING_RULES = {None: 0.0, "linear": 1.0, "sqrt": 0.5}


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
    effective_batch_size : int
        ``batch_size * accumulation_steps``.
    base_batch_size : int
    rule : {None, "linear", "sqrt"}

    Returns
    -------
    float

    Examples
    --------
    >>> scaled_learning_rate(0.01, 256, 32, "linear")
    0.08
    >>> round(scaled_learning_rate(0.01, 128, 32, "sqrt"), 6)
    0.02
    """
    return lr * (effective_batch_size / base_batch_size) ** LR_SCALING_RULES[rule]


def warmup_scheduler(warmup_epochs):
    """skorch callback ramping the learning rate up over the first epochs.

    Epoch ``e < warmup_epochs`` uses ``lr_ * (e + 1) / (warmup_epochs + 1)``;
    from epoch ``warmup_epochs`` on the full ``lr_``. Uses torch's
    :class:`~torch.optim.lr_scheduler.LinearLR` through skorch's
    :class:`~skorch.callbacks.LRScheduler`.
    """
    return LRScheduler(
        policy=LinearLR,
        start_factor=1.0 / (warmup_epochs + 1),
        end_factor=1.0,
        total_iters=warmup_epochs,
        step_every="epoch",
    )
