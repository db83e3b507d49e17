"""The estimators' parameter rules, in one place.

* :data:`PARAMETER_CONSTRAINTS`: what each parameter may be on its own, checked by
  scikit-learn's ``_fit_context`` (on the Python numbers numpy scalars hold);
* :func:`check_params`: the rules no single-parameter constraint can say (entries of
  ``callbacks`` and ``optimizer_params``, parameters that exclude or need each other,
  the deprecated ``patience``), returning the parameters as plain values;
* the parameters of named callbacks and the optimizer's arguments as the estimators'
  own are :mod:`sklstm.estimators._nested_params`'.

Rules about the data (sample counts, the validation split) are in
:mod:`sklstm.estimators._data_checks`; what the parameters become for one fit is the
:class:`~sklstm.training.plan.FitPlan`.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from skorch.callbacks import Callback

from .._compat.python import warn_at_caller
from .._compat.sklearn import Hidden, StrOptions
from .._param_validation import integers, options, plain_params, plain_value, reals
from ..network import POOLINGS
from ..training.optimizers import check_optimizer_params, optimizer_arguments, resolve_optimizer
from ..training.precision import PRECISIONS
from ..training.setup import RESERVED_CALLBACK_NAMES
from ..training.switched_off import unused_params

__all__ = ["PARAMETER_CONSTRAINTS", "check_params"]

#: What ``validation_fraction`` is, said where it is refused: it is read only by
#: ``early_stopping=True`` (``sklstm.training.setup``), where 0 would hold out no sample
#: to validate on (as scikit-learn's ``SGDClassifier`` refuses it); without early
#: stopping nothing is held out whatever its value, so 0 would mean nothing there either.
_HELD_OUT_SHARE = ("the share of the training data early_stopping=True holds out (with "
                   "early_stopping=False nothing is held out, whatever its value: leave it "
                   "at its default, 0.1)")


#: What Lightning (``precision=16``, ``"bf16-mixed"``), torch (``torch.float16``) and
#: numpy write for the estimators' precisions, said where such a value is refused:
#: scikit-learn's message named the three strings but not which one was meant.
_PRECISION_ELSEWHERE = {
    **dict.fromkeys(
        (16, "16", "16-true", "fp16", "half", "float16", torch.float16, np.float16),
        "is float16 elsewhere; sklstm's is precision='16-mixed' (float16 autocast with a "
        "gradient scaler, CUDA only; weights stay float32), or 'bf16' where the device "
        "has bfloat16."),
    **dict.fromkeys(
        ("bf16-mixed", "bf16-true", "bfloat16", torch.bfloat16),
        "is bfloat16 elsewhere; sklstm's is precision='bf16' (bfloat16 autocast; weights "
        "stay float32)."),
    **dict.fromkeys(
        ("32-true", "fp32", "float32", "single", torch.float32, np.float32),
        "is float32 elsewhere; sklstm's is precision='32', the default."),
    **dict.fromkeys(
        (64, "64", "64-true", "fp64", "float64", "double", torch.float64, np.float64),
        "is float64, which sklstm does not train in; pass precision='32' (float32, its "
        "most precise)."),
}

#: ``_parameter_constraints`` of both estimators (``LSTMRegressor`` adds ``scale_target``,
#: ``relative`` and ``relative_target``).
PARAMETER_CONSTRAINTS = {
    "hidden_size": [integers(1)],
    "num_layers": [integers(1)],
    "bidirectional": ["boolean"],
    "dropout": [reals(0, 1, closed="left")],
    "pooling": [StrOptions({"last", *POOLINGS})],
    "batch_size": [integers(1), StrOptions({"auto"})],
    "accumulation_steps": [integers(1)],
    "seq_len": [integers(1), None],
    "keep_steps": [StrOptions({"last", "first"})],
    "downsample": [integers(1), StrOptions({"auto"})],
    "bucketing": ["boolean", StrOptions({"auto"})],
    "max_epochs": [integers(1)],
    "tol": [reals(0), None],
    "n_iter_no_change": [integers(1)],
    "lr": [reals(0, closed="neither")],
    "lr_schedule": [StrOptions({"adaptive", "constant"})],
    "optimizer": [str, type],  # the name or class is resolved in check_params
    "optimizer_params": [dict, None],
    "weight_decay": [reals(0)],
    "gradient_clip": [reals(0, closed="neither"), None],
    "lr_scaling": [StrOptions({"linear", "sqrt"}), None],
    "base_batch_size": [integers(1)],
    "warmup_epochs": [integers(0)],
    "early_stopping": ["boolean"],
    "validation_fraction": [reals(0, 1, closed="neither", meaning=_HELD_OUT_SHARE)],
    "patience": [integers(1), Hidden(StrOptions({"deprecated"}))],
    "embedding_dim": [integers(1), None],
    "vocab_size": [integers(2), None],
    "padding_idx": [integers(0), None],
    "device": [str, torch.device],
    "n_threads": [integers(1), None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "callbacks": [list, tuple, None],
    "checkpoint": [str, os.PathLike, None],
    "max_memory": [integers(1), str, None],  # parse_memory checks the string
    "on_oom": [StrOptions({"shrink", "raise"})],
    "precision": [options(PRECISIONS, _PRECISION_ELSEWHERE)],
    "conv_channels": [integers(1), StrOptions({"auto"}), "array-like", None],  # check_params
    "conv_kernel_sizes": ["array-like"],
    "ar_window": [integers(1), StrOptions({"auto"}), None],
    "split_level": ["boolean", StrOptions({"auto"})],
}


def check_params(params, name, defaults=None):
    """The parameters as plain values, after the rules between parameters.

    Parameters
    ----------
    params : dict
        ``estimator.get_params(deep=False)``, each already valid on its own.
    name : str
        The estimator's class name, for the messages.
    defaults : dict or None, default=None
        The estimator class's parameter defaults: a ``weight_decay`` left at its
        default gives way where it cannot apply (None: every value counts as set).

    Returns
    -------
    dict
        A new dict: numpy scalars as Python numbers, ``optimizer`` resolved to its
        class, ``n_iter_no_change`` taken from a deprecated ``patience``,
        ``weight_decay`` 0 where it gives way.

    Raises
    ------
    TypeError
        An entry of ``callbacks`` is not a skorch Callback instance or a
        ``(str, Callback)`` tuple; an ``optimizer_params`` key is not an argument of
        the optimizer, or its value is not of the argument's kind
        (:func:`~sklstm.training.optimizers.check_optimizer_params`).
    ValueError
        Parameters that exclude or need each other (the message names both and the
        fix); ``optimizer_params`` values the optimizer refuses.

    Examples
    --------
    >>> from sklstm import LSTMClassifier
    >>> params = check_params(LSTMClassifier(optimizer="sgd").get_params(), "LSTMClassifier")
    >>> params["optimizer"].__name__
    'SGD'
    """
    p = plain_params(params)
    p["optimizer"] = resolve_optimizer(p["optimizer"], name)
    if p["vocab_size"] is not None and p["embedding_dim"] is None:
        raise ValueError(
            f"{name}: vocab_size is only used for token input; set embedding_dim as "
            "well (or leave vocab_size=None for numeric sequences).")
    if p["embedding_dim"] is not None and p["downsample"] not in ("auto", 1):
        raise ValueError(
            f"{name}: downsample={p['downsample']} averages timesteps, which token ids "
            "cannot be; shorten token sequences with seq_len instead.")
    if p["embedding_dim"] is not None and p.get("relative") is not None:
        raise ValueError(
            f"{name}: relative={p['relative']!r} subtracts each window's level, which token "
            f"ids (embedding_dim={p['embedding_dim']}) do not have; leave relative=None "
            "for token input.")
    if p["embedding_dim"] is not None and p["ar_window"] not in (None, "auto"):
        raise ValueError(
            f"{name}: ar_window={p['ar_window']} maps the last input values linearly to the "
            f"output, which token ids (embedding_dim={p['embedding_dim']}) are not; leave "
            "ar_window=None for token input.")
    # (plain_params made a numpy bool a bool; "auto" resolves off where these apply)
    if p["split_level"] is True and p["embedding_dim"] is not None:
        raise ValueError(
            f"{name}: split_level=True splits each sequence into its mean and its shape, "
            f"which token ids (embedding_dim={p['embedding_dim']}) do not have; use "
            "split_level='auto' (off for tokens) or False.")
    if p["split_level"] is True and p.get("relative") == "mean":
        raise ValueError(
            f"{name}: split_level=True gives the head each sequence's mean, which "
            "relative='mean' has already subtracted (the head would read zeros); use "
            "one of them: relative='mean' to drop the level, split_level=True to keep it "
            "beside the shape.")
    if p["patience"] != "deprecated":
        warn_at_caller(
            f"{name}: patience was renamed n_iter_no_change in sklstm 0.2 and will be "
            f"removed in 0.3; using n_iter_no_change={p['patience']}.", FutureWarning)
        p["n_iter_no_change"] = p["patience"]
    _check_callbacks(p["callbacks"], name)
    p["optimizer_params"] = check_optimizer_params(p["optimizer"], p["optimizer_params"],
                                                   p["lr"], name)
    if (p["embedding_dim"] is not None and p["vocab_size"] is not None
            and p["padding_idx"] is not None and p["padding_idx"] >= p["vocab_size"]):
        raise ValueError(
            f"{name}: padding_idx={p['padding_idx']} is not an id of the vocabulary of "
            f"vocab_size={p['vocab_size']} ids (0..{p['vocab_size'] - 1}); raise vocab_size "
            "or use a padding id inside it.")
    if p["batch_size"] == "auto" and p["checkpoint"] is not None:
        raise ValueError(
            f"{name}: batch_size='auto' may choose another micro-batch when a fit is "
            "resumed, so it cannot be combined with checkpoint; set the batch_size "
            "a first fit chose (its batch_size_).")
    p["conv_channels"], p["conv_kernel_sizes"] = _conv_sizes(
        p["conv_channels"], p["conv_kernel_sizes"], name)
    _warn_unused(p, defaults or {}, name)
    p["weight_decay"] = _weight_decay(p, (defaults or {}).get("weight_decay", 0.0), name)
    return p


#: What to do about a parameter that another one's value switches off
#: (:data:`~sklstm.training.switched_off.SWITCHED_OFF` says when: the checkpoint's
#: resume check reads the same table).
_UNUSED_HINTS = {
    "base_batch_size": "has no effect with lr_scaling=None, which uses lr as it is; set "
                       "lr_scaling='linear' or 'sqrt' to scale lr from that batch size.",
    "padding_idx": "has no effect without embedding_dim: it marks padding in token ids, "
                   "and numeric sequences are padded by their lengths; set embedding_dim "
                   "for token input.",
    "conv_kernel_sizes": "has no effect without a convolutional branch (conv_channels=None, "
                         "or 'auto' on token ids); set conv_channels to channels to add "
                         "one.",
    "keep_steps": "has no effect with seq_len=None, which keeps every timestep; set "
                  "seq_len to keep that many steps of each sequence.",
    "n_iter_no_change": "has no effect with tol=None and early_stopping=False, which train "
                        "for max_epochs with no rule to stop; set tol to stop after that "
                        "many epochs without improvement.",
    "lr_schedule": "has no effect with tol=None and early_stopping=False: it says what the "
                   "stopping rule does at a plateau, and there is no rule; set tol to have "
                   "one.",
    "validation_fraction": "has no effect with early_stopping=False, which holds out no "
                           "data; set early_stopping=True to validate on that share of the "
                           "training data.",
    # (LSTMRegressor's only: the classifier has no relative_target)
    "relative_target": "has no effect with relative=None, which subtracts no anchor from "
                       "y; set relative='last' or 'mean' to predict relative to that column.",
}


def _warn_unused(p, defaults, name):
    """Warn of a parameter set away from its default where another one switches it off
    (as scikit-learn warns of ``l1_ratio`` without the elastic net). A warning, not an
    error: a grid over ``lr_scaling`` or ``conv_channels`` holds the value that switches
    it off beside those that use it."""
    for param in sorted(unused_params(p), key=list(_UNUSED_HINTS).index):
        if p[param] != defaults.get(param, p[param]):
            warn_at_caller(f"{name}: {param}={p[param]!r} {_UNUSED_HINTS[param]}",
                           UserWarning)


def _weight_decay(p, default, name):
    """The L2 penalty to pass to the optimizer (0: pass none).

    A penalty left at the estimator's default gives way where it cannot apply: to
    ``optimizer_params['weight_decay']``, and for an optimizer that takes no
    ``weight_decay`` (LBFGS). One the user set is refused there instead of dropped.
    """
    weight_decay, extra = p["weight_decay"], p["optimizer_params"] or {}
    if not weight_decay:
        return weight_decay
    if "weight_decay" in extra:
        if weight_decay == default:
            return 0.0
        raise ValueError(
            f"{name}: weight_decay={weight_decay} and optimizer_params"
            f"['weight_decay']={extra['weight_decay']} both set the L2 "
            "penalty; give it in one place only.")
    if not _takes(p["optimizer"], "weight_decay"):
        if weight_decay == default:
            return 0.0
        raise ValueError(
            f"{name}: weight_decay={weight_decay} is an argument {p['optimizer'].__name__} "
            "does not take; set weight_decay=0 or use an optimizer with an L2 penalty.")
    return weight_decay


def _takes(optimizer, argument):
    """Whether ``optimizer(...)`` accepts the keyword ``argument``."""
    accepted = optimizer_arguments(optimizer)
    return accepted is None or argument in accepted


def _conv_sizes(channels, kernel_sizes, name):
    """``(channels, kernel_sizes)`` as tuples of ints (channels None: no branch; an int
    ``k``: LSTM-FCN's shape ``(k, 2k, k)``; ``"auto"`` as it is)."""
    kernels = _positive_ints(kernel_sizes, "conv_kernel_sizes", name)
    if channels is None or isinstance(channels, str):  # "auto": resolved with the data
        return channels, kernels
    if isinstance(channels, int):  # (an int, not a bool: the constraint said so)
        channels = (channels, 2 * channels, channels)
    channels = _positive_ints(channels, "conv_channels", name)
    if len(channels) != len(kernels):
        raise ValueError(
            f"{name}: conv_channels={channels} and conv_kernel_sizes={kernels} must have "
            "one entry per convolution block; give both the same length (LSTM-FCN: "
            "conv_channels=(128, 256, 128), conv_kernel_sizes=(8, 5, 3)).")
    return channels, kernels


def _positive_ints(values, param, name):
    array = np.asarray(values, dtype=object)
    # (one level: nested, [[8, 5, 3]], raveled would pass for blocks nobody wrote)
    ints = tuple(plain_value(v) for v in array) if array.ndim == 1 else ()
    if not ints or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                           for v in ints):
        shown = ints if array.ndim == 1 else values
        raise ValueError(f"{name}: {param} must be a non-empty sequence of positive ints, "
                         f"one per convolution block; got {shown!r}.")
    return ints


def _callback_error(name, i, item, problem):
    return TypeError(
        f"{name}: callbacks[{i}] is {item!r}: {problem}. Each entry of callbacks must be a "
        "skorch Callback instance, e.g. skorch.callbacks.LRScheduler(...), or a "
        "(name, Callback instance) tuple.")


def _check_callbacks(callbacks, name):
    names = []
    for i, item in enumerate(callbacks or []):
        cb, what = item, "it"
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[0], str):
                raise _callback_error(name, i, item, "a tuple, but not (str, Callback)")
            names.append(item[0])
            cb, what = item[1], "its second item"
        if isinstance(cb, type) and issubclass(cb, Callback):
            raise _callback_error(name, i, item, f"{what} is a class, not an instance "
                                  f"(write {cb.__name__}())")
        if not isinstance(cb, Callback):
            raise _callback_error(name, i, item, f"{what} ({type(cb).__name__}) is not a "
                                  "Callback")
    for cb_name in names:
        if cb_name in RESERVED_CALLBACK_NAMES:
            raise ValueError(
                f"{name}: the callback name {cb_name!r} in callbacks is taken by a callback "
                f"the estimator adds itself ({', '.join(RESERVED_CALLBACK_NAMES)}); "
                "choose another name.")
        if names.count(cb_name) > 1:
            raise ValueError(f"{name}: two entries of callbacks are named {cb_name!r}; "
                             "callback names must be unique.")
