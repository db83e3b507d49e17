"""The optimizers an estimator's ``optimizer`` parameter names, and sklstm's defaults."""

from __future__ import annotations

import torch

from .._compat.torch import fused_optimizer_devices

__all__ = ["FUSED_OPTIMIZERS", "OPTIMIZERS", "optimizer_defaults", "resolve_optimizer",
           "state_copies"]

#: Names accepted by the estimators' ``optimizer`` parameter.
OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}

#: Optimizers with a fused kernel (one call updates every parameter).
FUSED_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW)


def resolve_optimizer(optimizer, estimator_name="the estimator"):
    """The optimizer class named by ``optimizer`` (a name of :data:`OPTIMIZERS` or a class).

    Parameters
    ----------
    optimizer : str or type
        A name (any case) or a ``torch.optim.Optimizer`` subclass.
    estimator_name : str, default="the estimator"
        Named in the error.

    Returns
    -------
    type
        A ``torch.optim.Optimizer`` subclass.

    Examples
    --------
    >>> resolve_optimizer("Adam").__name__
    'Adam'
    """
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()]
    raise ValueError(
        f"{estimator_name}: unknown optimizer {optimizer!r}; use one of "
        f"{sorted(OPTIMIZERS)} or a torch.optim.Optimizer subclass."
    )


def optimizer_defaults(optimizer, device, optimizer_params):
    """Keyword arguments sklstm adds to the user's ``optimizer_params``.

    Adam and AdamW get ``fused=True`` where torch has the fused kernel for the
    device (CUDA always; the CPU from torch 2.4). The default per-tensor update
    runs a dozen small ops per parameter: for the few, small tensors of an LSTM
    that costs ~0.4 ms per optimizer step on a CPU against ~0.1 ms fused
    (``benchmarks/bench_step_costs.py``, hidden 32), as much as a forward and
    backward pass over 10 timesteps. Nothing is added when the user chose
    ``fused`` or ``foreach``.

    Parameters
    ----------
    optimizer : type
        The optimizer class.
    device : torch.device
        Where the parameters live.
    optimizer_params : dict or None
        The user's keyword arguments.

    Returns
    -------
    dict
        Keyword arguments to add.

    Examples
    --------
    >>> import torch
    >>> optimizer_defaults(torch.optim.SGD, torch.device("cpu"), None)
    {}
    """
    params = optimizer_params or {}
    if (optimizer in FUSED_OPTIMIZERS and device.type in fused_optimizer_devices()
            and "fused" not in params and "foreach" not in params):
        return {"fused": True}
    return {}


def state_copies(optimizer, optimizer_params):
    """Tensors of the parameters' size an optimizer keeps per parameter (its state).

    Parameters
    ----------
    optimizer : type
        The optimizer class.
    optimizer_params : Mapping
        Its keyword arguments (``momentum``, ``amsgrad``, ``centered``...).

    Returns
    -------
    int
        Adam and AdamW 2 (3 with ``amsgrad``), SGD 1 with momentum, RMSprop 1 (plus
        1 with momentum and 1 when ``centered``), Adagrad 1; 0 for other classes (a
        lower bound: their state is unknown here).

    Examples
    --------
    >>> import torch
    >>> state_copies(torch.optim.Adam, {}), state_copies(torch.optim.SGD, {"momentum": 0.9})
    (2, 1)
    """
    p = optimizer_params
    if issubclass(optimizer, (torch.optim.Adam, torch.optim.AdamW)):
        return 2 + bool(p.get("amsgrad"))
    if issubclass(optimizer, torch.optim.SGD):
        return int(bool(p.get("momentum")))
    if issubclass(optimizer, torch.optim.RMSprop):
        return 1 + bool(p.get("momentum")) + bool(p.get("centered"))
    return int(issubclass(optimizer, torch.optim.Adagrad))
