"""The optimizers an estimator's ``optimizer`` parameter names, and sklstm's defaults."""

from __future__ import annotations

import difflib
import inspect
import math
from numbers import Real

import numpy as np
import torch

from .._compat.torch import fused_optimizer_devices
from .._param_validation import mistyped_number_hint, plain_value, reals
from .optimizer_state import state_copies, torch_class
from .optimizer_steps import STEP_RULES, step_problem

__all__ = ["FUSED_OPTIMIZERS", "OPTIMIZERS", "STEP_RULES", "check_optimizer_params",
           "optimizer_arguments", "optimizer_defaults", "resolve_optimizer", "state_copies"]

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
    # a name of another of torch's optimizers ("lbfgs"): the class itself is accepted
    torchs = {name.lower(): name for name, value in vars(torch.optim).items()
              if isinstance(value, type) and issubclass(value, torch.optim.Optimizer)
              and value is not torch.optim.Optimizer}
    key = optimizer.lower() if isinstance(optimizer, str) else None
    name = torchs.get(key)
    hint = "" if name is None else f" (for torch's {name}: optimizer=torch.optim.{name})"
    # a misspelling ("adma") was told the names, but not which one it meant (as the
    # estimators' keywords are: _keyword_hint); the closest of sklstm's names and of
    # torch's others, both where both are close ("adma": adam, or torch's Adamax)
    if key is not None and name is None:
        ours = difflib.get_close_matches(key, OPTIMIZERS, n=1)
        theirs = [torchs[n] for n in difflib.get_close_matches(
            key, [n for n in torchs if n not in OPTIMIZERS], n=1)]
        meant = [repr(n) for n in ours] + [f"torch's {n} (optimizer=torch.optim.{n})"
                                           for n in theirs]
        hint = f" (did you mean {', or '.join(meant)}?)" if meant else ""
    raise ValueError(
        f"{estimator_name}: unknown optimizer {optimizer!r}; use one of "
        f"{sorted(OPTIMIZERS)} or a torch.optim.Optimizer subclass{hint}."
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


def optimizer_arguments(optimizer):
    """The keyword arguments ``optimizer.__init__`` takes, with their defaults.

    Parameters
    ----------
    optimizer : type
        The optimizer class.

    Returns
    -------
    dict or None
        ``name -> default`` (``inspect.Parameter.empty`` where there is none); None when
        it takes any keyword (``**kwargs``) or has no signature to read.

    Examples
    --------
    >>> optimizer_arguments(torch.optim.SGD)["momentum"]
    0
    """
    try:
        accepted = inspect.signature(optimizer.__init__).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return None
    return {name: p.default for name, p in accepted.items() if name not in ("self", "params")}


#: Arguments of torch's optimizers whose default is None and whose other values are
#: True and False (``foreach``, ``fused``: ``bool | None``): the kind of their default
#: says nothing, and torch tests them for truth only (``fused="no"`` ran fused).
OPTIONAL_FLAGS = ("foreach", "fused")


def _kind_problem(key, value, default):
    """Why ``value`` cannot stand for the argument ``key`` where the optimizer's default
    is ``default`` (None: it can). The kind is read off the default because torch checks
    ranges, not kinds: ``amsgrad="yes"`` passes its constructor and fails in the fused
    step, mid-fit."""
    if default is None and key in OPTIONAL_FLAGS:
        if value is not None and not isinstance(value, (bool, np.bool_)):
            return "must be True, False or None"
    elif isinstance(default, bool):
        if not isinstance(value, (bool, np.bool_)):
            return "must be True or False"
    elif isinstance(default, Real):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
            return "must be a number"
    elif isinstance(default, tuple):
        # one value per entry: a nested list or a 2-D array passed here and failed in
        # torch's words ("The truth value of an array ... is ambiguous")
        flat = isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray)
                                                    and value.ndim == 1)
        items = tuple(value) if flat else ()
        # None stands where the default has it (Adafactor's eps=(None, 1e-3): derived)
        if len(items) != len(default) or not all(
                (isinstance(plain_value(v), Real) and not isinstance(plain_value(v), bool))
                or (v is None and d is None) for v, d in zip(items, default, strict=True)):
            return f"must be a tuple of {len(default)} numbers"
    return None


def _kind_hint(key, value, default, optimizer_name):
    """What to write for a number or flag that :func:`_kind_problem` refused for its type
    alone: the estimators' words (:func:`~sklstm._param_validation.mistyped_number_hint`)
    for ``np.array([0.01])`` or ``[0.01]`` (pass ``0.01``) and ``'True'``; ``""`` else."""
    if isinstance(default, tuple):
        return ""
    number = isinstance(default, Real) and not isinstance(default, bool)
    kind = [reals(None, closed="neither")] if number else ["boolean"]
    return mistyped_number_hint({key: kind}, {key: value}, optimizer_name)


def check_optimizer_params(optimizer, optimizer_params, lr, estimator_name="the estimator"):
    """Check ``optimizer_params`` before any training: names, kinds and ranges.

    The names must be arguments of ``optimizer`` (not ``params``, and not ``lr``, which
    would silently override the ``lr`` parameter that ``lr_scaling``, ``warmup_epochs``
    and ``lr_`` start from); each value must be of the kind of the argument's default
    (a bool for a flag, a number, a tuple of as many numbers); the optimizer must
    accept them, built on one tensor with ``lr`` (torch checks the ranges: ``eps >= 0``,
    ``0 <= betas < 1``...); and what torch checks only when the optimizer steps is
    checked here (:data:`STEP_RULES`: LBFGS's ``line_search_fn``, ``history_size``,
    ``max_iter`` and ``max_eval``, ``differentiable``, ``maximize``). ``SparseAdam``,
    which steps on sparse gradients only, is refused.

    Parameters
    ----------
    optimizer : type
        The optimizer class.
    optimizer_params : dict or None
        The estimator's ``optimizer_params``.
    lr : float
        The estimator's ``lr``.
    estimator_name : str, default="the estimator"
        Named in the errors.

    Returns
    -------
    dict
        The parameters as torch takes them: numpy scalars as Python numbers, 1-D
        arrays as tuples.

    Raises
    ------
    TypeError
        A name the optimizer does not take, or a value of the wrong kind.
    ValueError
        ``lr`` or ``params`` among the names, values the optimizer refuses (when built or
        when it steps), or ``SparseAdam``.

    Examples
    --------
    >>> import numpy as np
    >>> check_optimizer_params(torch.optim.Adam, {"betas": np.array([0.9, 0.99])}, 1e-3)
    {'betas': (0.9, 0.99)}
    >>> check_optimizer_params(torch.optim.Adam, {"eps": -1.0}, 1e-3, "LSTMClassifier")
    Traceback (most recent call last):
    ...
    ValueError: LSTMClassifier: optimizer_params={'eps': -1.0} is refused by Adam: ...
    """
    name, params = estimator_name, optimizer_params or {}
    if issubclass(optimizer, torch.optim.SparseAdam):
        # its step refuses dense gradients, the only ones an sklstm network has
        raise ValueError(f"{name}: SparseAdam updates sparse gradients only, and the network's "
                         "are dense (torch would refuse them at the first step); use "
                         "optimizer='adam'.")
    for key in params:
        if not isinstance(key, str):
            raise TypeError(f"{name}: optimizer_params keys must be str (argument names of "
                            f"{optimizer.__name__}); got {key!r}.")
    if "lr" in params:
        raise ValueError(
            f"{name}: optimizer_params['lr']={params['lr']!r} conflicts with the lr parameter; "
            f"set lr={params['lr']!r} instead and leave 'lr' out of optimizer_params (lr is "
            "what lr_scaling, warmup_epochs and lr_ use).")
    if "params" in params:
        raise ValueError(f"{name}: optimizer_params must not contain 'params': the estimator "
                         "passes the network's parameters to the optimizer itself.")
    accepted = optimizer_arguments(optimizer)
    if accepted is not None:
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            close = difflib.get_close_matches(unknown[0], list(accepted), n=1)
            raise TypeError(
                f"{name}: optimizer_params has {', '.join(map(repr, unknown))}, which "
                f"{optimizer.__name__} does not take; its arguments are {', '.join(accepted)}"
                + (f" (did you mean {close[0]!r} for {unknown[0]!r}?)." if close else "."))
        for key, value in params.items():
            problem = _kind_problem(key, plain_value(value), accepted[key])
            if problem:
                raise TypeError(
                    f"{name}: optimizer_params[{key!r}]={value!r} {problem} (the default of "
                    f"{optimizer.__name__}'s {key} is {accepted[key]!r})."
                    + _kind_hint(key, plain_value(value), accepted[key], optimizer.__name__))
    plain = {key: _plain(value) for key, value in params.items()}
    nan = next((key for key, value in plain.items() if _not_a_number(value)), None)
    if nan is not None:  # it would train, and diverge at the first step
        raise ValueError(f"{name}: optimizer_params[{nan!r}]={params[nan]!r} is, or holds, "
                         "NaN; give a finite value, or leave it out for "
                         f"{optimizer.__name__}'s default.")
    infinite = _infinite(optimizer, plain)
    if infinite is not None:
        raise ValueError(
            f"{name}: optimizer_params[{infinite!r}]={params[infinite]!r} is, or holds, an "
            f"infinity, with which {optimizer.__name__}'s steps leave the weights as they are "
            f"or make them NaN; give a finite value, or leave it out for its default.")
    # a fused kernel is checked on the CPU only where the CPU has one: elsewhere its
    # support depends on the device of the fit, which the plan decides and steps on
    # (optimizer_steps.check_optimizer_step)
    trial = {k: v for k, v in plain.items()
             if k != "fused" or "cpu" in fused_optimizer_devices()}
    try:
        optimizer([torch.zeros(1, requires_grad=True)], lr=lr, **trial)
    except (TypeError, ValueError, RuntimeError) as exc:
        error = TypeError if isinstance(exc, TypeError) else ValueError
        raise error(f"{name}: optimizer_params={params!r} is refused by "
                    f"{optimizer.__name__}: {exc}") from exc
    problem = step_problem(optimizer, plain)
    if problem:  # torch's constructor took it: it would fail, or do nothing, mid-fit
        key, rule, why = problem
        raise ValueError(f"{name}: optimizer_params[{key!r}]={params[key]!r} must be {rule} "
                         f"for {optimizer.__name__}: {why} (torch's constructor does not "
                         "check it).")
    return plain


def _plain(value):
    """``value`` as torch takes it: numpy scalars as Python numbers, a 1-D array of
    them (``betas=np.array([0.9, 0.99])``) or a tuple or list holding some
    (``(np.float32(0.9), 0.99)``, which Adam refused) as a tuple."""
    value = plain_value(value)
    if (isinstance(value, np.ndarray) and value.ndim == 1) or isinstance(value, (tuple, list)):
        return tuple(plain_value(v) for v in value)
    return value


#: The arguments of torch's optimizers that may be +inf, meaning "no bound": ``(class
#: name, argument) -> index`` of the entry of a tuple (0: the number itself). ASGD
#: averages from step t0 on (inf: never), Rprop's step sizes have an upper bound,
#: Adafactor clips updates at RMS d. Any other infinity (eps, momentum, betas,
#: weight_decay, alpha...), which torch's range checks let through, stops every update
#: (Adam's eps) or makes the weights NaN (SGD's momentum) in the first steps.
_UNBOUNDED = {("ASGD", "t0"): 0, ("Rprop", "step_sizes"): 1, ("Adafactor", "d"): 0}


def _infinite(optimizer, plain):
    """The first argument of ``plain`` holding an infinity that ``optimizer`` cannot mean,
    or None. Only the arguments of torch's optimizers (a subclass's inherited ones too)
    are checked: what an infinity means to another optimizer, its author knows."""
    base = torch_class(optimizer)
    known = optimizer_arguments(base) if base is not None else {}
    for key, value in plain.items():
        free = _UNBOUNDED.get((base.__name__, key)) if key in known else None
        values = value if isinstance(value, tuple) else (value,)
        if key in known and any(isinstance(v, float) and math.isinf(v) and (v < 0 or i != free)
                                for i, v in enumerate(values)):
            return key
    return None


def _not_a_number(value):
    """Whether ``value`` is, or holds, a float NaN (which torch's range checks, written
    as ``not 0.0 <= x``, let through for some arguments: SGD's momentum)."""
    values = value if isinstance(value, tuple) else (value,)
    return any(isinstance(v, float) and math.isnan(v) for v in values)
