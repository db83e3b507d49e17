"""What torch's optimizers keep in memory: how many copies of the parameters their
state holds (:func:`state_copies`), for the memory a fit needs
(:mod:`sklstm.training.model_size`)."""

from __future__ import annotations

import inspect

import torch

__all__ = ["state_copies", "torch_class"]


#: What each of torch's optimizers keeps per parameter, in tensors of the parameters'
#: size, read off ``torch/optim/*.py`` (torch 2.13): class name -> ``copies(arguments)``.
#: Adafactor is missing: its state of a matrix is a sum per row and one per column.
_STATE_COPIES = {
    "Adam": lambda a: 2 + bool(a["amsgrad"]),  # exp_avg, exp_avg_sq, max_exp_avg_sq
    "AdamW": lambda a: 2 + bool(a["amsgrad"]),
    "SGD": lambda a: int(bool(a["momentum"])),  # momentum_buffer
    # square_avg, momentum_buffer, grad_avg
    "RMSprop": lambda a: 1 + bool(a["momentum"]) + bool(a["centered"]),
    # exp_avg and exp_avg_sq (Adamax: exp_inf), Adadelta's square_avg and acc_delta,
    # Rprop's prev and step_size; Adagrad's sum, ASGD's ax, Muon's momentum_buffer
    **dict.fromkeys(("NAdam", "RAdam", "Adamax", "Adadelta", "Rprop"), lambda a: 2),
    **dict.fromkeys(("Adagrad", "ASGD", "Muon"), lambda a: 1),
    # d and prev_flat_grad, and history_size past directions and steps (old_dirs,
    # old_stps), each a flat copy of all the parameters
    "LBFGS": lambda a: 2 + 2 * a["history_size"],
}


def state_copies(optimizer, optimizer_params):
    """Tensors of the parameters' size an optimizer keeps per parameter (its state).

    Parameters
    ----------
    optimizer : type
        The optimizer class.
    optimizer_params : Mapping
        Its keyword arguments (``momentum``, ``amsgrad``, ``centered``, ``history_size``...).

    Returns
    -------
    int
        That of :data:`_STATE_COPIES` for the optimizer of torch's that ``optimizer``
        is or derives from (Adam 2, LBFGS ``2 + 2 * history_size``...); 0 for others
        (a lower bound: their state is unknown here).

    Examples
    --------
    >>> import torch
    >>> state_copies(torch.optim.Adam, {}), state_copies(torch.optim.SGD, {"momentum": 0.9})
    (2, 1)
    >>> state_copies(torch.optim.NAdam, {}), state_copies(torch.optim.LBFGS, {"history_size": 10})
    (2, 22)
    """
    base = torch_class(optimizer)
    copies = _STATE_COPIES.get(getattr(base, "__name__", None))
    return 0 if copies is None else copies({**_defaults(base), **(optimizer_params or {})})


def torch_class(optimizer):
    """The optimizer of torch's that ``optimizer`` is or derives from (None: it is not
    one of torch's, and its arguments mean what its author says)."""
    # (Muon's module is torch.optim itself, the others' torch.optim.<name>)
    return next((cls for cls in optimizer.__mro__ if f"{cls.__module__}.".startswith(
        "torch.optim.") and cls is not torch.optim.Optimizer), None)


def _defaults(optimizer):
    """The defaults of the arguments of ``optimizer``, one of torch's optimizers."""
    return {name: p.default for name, p in inspect.signature(optimizer.__init__).parameters.items()}
