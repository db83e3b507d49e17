"""Validation of estimator hyperparameters, run at the start of ``fit``.

Parameters are stored untouched by ``__init__`` and ``set_params`` (sklearn's
contract), so every check happens here, before any data is touched or any
training starts.
"""

from __future__ import annotations

import numbers

import torch

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}

#: Optimizers with a fused kernel (one call updates every parameter).
FUSED_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW)


def _fused_devices():
    """Device types on which this torch build has fused optimizer kernels."""
    try:  # private helper, the list torch's own optimizers check against
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:  # pragma: no cover - older or newer torch
        return ("cuda",)
    return tuple(_get_fused_kernels_supported_devices())


def optimizer_defaults(optimizer, device, optimizer_params):
    """Keyword arguments sklstm adds to the user's ``optimizer_params``.

    Adam and AdamW get ``fused=True`` where torch has the fused kernel for the
    device (CUDA always; the CPU from torch 2.4). The default per-tensor update
    runs a dozen small ops per parameter: for the few, small tensors of an LSTM
    that costs ~0.4 ms per optimizer step on a CPU against ~0.1 ms fused
    (``benchmarks/bench_step_costs.py``, hidden 32), as much as a forward and
    backward pass over 10 timesteps.
    Nothing is added when the user chose ``fused`` or ``foreach``.

    Examples
    --------
    >>> import torch
    >>> optimizer_defaults(torch.optim.SGD, torch.device("cpu"), None)
    {}
    """
    params = optimizer_params or {}
    if (optimizer in FUSED_OPTIMIZERS and device.type in _fused_devices()
            and "fused" not in params and "foreach" not in params):
        return {"fused": True}
    return {}


def _int(est, name, low, optional=False):
    value = getattr(est, name)
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{type(est).__name__}: {name} must be an integer"
            + (" or None" if optional else "")
            + f"; got {value!r} of type {type(value).__name__}."
        )
    if value < low:
        raise ValueError(f"{type(est).__name__}: {name} must be >= {low}; got {value}.")


def _float(est, name, low, high=None, low_open=False, optional=False):
    value = getattr(est, name)
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{type(est).__name__}: {name} must be a number; got {value!r} "
            f"of type {type(value).__name__}."
        )
    bad_low = value <= low if low_open else value < low
    if bad_low or (high is not None and value >= high):
        bounds = f"{'>' if low_open else '>='} {low}" + (f" and < {high}" if high else "")
        raise ValueError(f"{type(est).__name__}: {name} must be {bounds}; got {value}.")


def _choice(est, name, options):
    value = getattr(est, name)
    if not any(value is o or (isinstance(value, type(o)) and value == o) for o in options):
        raise ValueError(
            f"{type(est).__name__}: {name} must be one of {list(options)}; got {value!r}."
        )


def resolve_optimizer(est):
    """The optimizer class named by ``est.optimizer`` (a name or a class)."""
    opt = est.optimizer
    if isinstance(opt, type) and issubclass(opt, torch.optim.Optimizer):
        return opt
    if isinstance(opt, str) and opt.lower() in OPTIMIZERS:
        return OPTIMIZERS[opt.lower()]
    raise ValueError(
        f"{type(est).__name__}: unknown optimizer {opt!r}; use one of "
        f"{sorted(OPTIMIZERS)} or a torch.optim.Optimizer subclass."
    )


def validate_params(est):
    """Raise a clear TypeError/ValueError for the first invalid hyperparameter."""
    for name in ("hidden_size", "num_layers", "batch_size", "accumulation_steps",
                 "max_epochs", "base_batch_size", "patience"):
        _int(est, name, 1)
    _int(est, "warmup_epochs", 0)
    _int(est, "verbose", 0)
    for name in ("seq_len", "embedding_dim", "n_threads"):
        _int(est, name, 1, optional=True)
    _int(est, "vocab_size", 2, optional=True)
    _int(est, "padding_idx", 0, optional=True)
    _float(est, "dropout", 0.0, 1.0)
    _float(est, "lr", 0.0, low_open=True)
    _float(est, "weight_decay", 0.0)
    _float(est, "gradient_clip", 0.0, low_open=True, optional=True)
    _float(est, "validation_fraction", 0.0, 1.0, low_open=True)
    for name in ("bidirectional", "early_stopping"):
        _choice(est, name, (True, False))
    _choice(est, "bucketing", ("auto", True, False))
    _choice(est, "keep_steps", ("last", "first"))
    _choice(est, "lr_scaling", (None, "linear", "sqrt"))
    if est.optimizer_params is not None and not isinstance(est.optimizer_params, dict):
        raise TypeError(
            f"{type(est).__name__}: optimizer_params must be a dict such as "
            f"{{'momentum': 0.9}} or None; got {type(est.optimizer_params).__name__}."
        )
    if est.callbacks is not None and not isinstance(est.callbacks, (list, tuple)):
        raise TypeError(
            f"{type(est).__name__}: callbacks must be a list of skorch callbacks or "
            f"(name, callback) tuples; got {type(est.callbacks).__name__}."
        )
    if est.vocab_size is not None and est.embedding_dim is None:
        raise ValueError(
            f"{type(est).__name__}: vocab_size is only used for token input; set "
            "embedding_dim as well (or leave vocab_size=None for numeric sequences)."
        )
    return resolve_optimizer(est)
