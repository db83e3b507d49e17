"""Settings checked against each other and against the data, before anything trains.

What ``_parameter_constraints`` cannot say about one parameter alone:

* :func:`check_settings`: the entries of ``callbacks`` and ``optimizer_params``, and
  ``padding_idx`` against ``vocab_size`` (called from ``BaseLSTM._checked_params``);
* :func:`check_validation_split`: whether ``early_stopping``'s held-out split can be
  drawn from the training data at all (called in ``fit`` once ``y`` is encoded).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import _num_samples
from skorch.callbacks import Callback

from .._data.validation import validate_sequences
from .._param_validation import plain_value

__all__ = ["RESERVED_CALLBACK_NAMES", "check_fit_data", "check_sample_counts", "check_settings",
           "check_validation_split", "plain_label",
           "target_shape"]

#: Names of the callbacks the estimator adds itself; user callbacks must not take them.
RESERVED_CALLBACK_NAMES = ("epoch_snapshot", "divergence", "gradient_clip", "warmup",
                           "convergence", "checkpoint", "checkpoint_rng", "progress_log",
                           "progress_bar")


def _callback_error(name, i, item, problem):
    return TypeError(
        f"{name}: callbacks[{i}] is {item!r}: {problem}. Each entry of callbacks must be a "
        "skorch Callback instance, e.g. skorch.callbacks.LRScheduler(...), or a "
        "(name, Callback instance) tuple."
    )


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
                "choose another name."
            )
        if names.count(cb_name) > 1:
            raise ValueError(f"{name}: two entries of callbacks are named {cb_name!r}; "
                             "callback names must be unique.")


def _check_optimizer_params(optimizer, optimizer_params, name):
    params = optimizer_params or {}
    for key in params:
        if not isinstance(key, str):
            raise TypeError(f"{name}: optimizer_params keys must be str (argument names of "
                            f"{optimizer.__name__}); got {key!r}.")
    if "lr" in params:
        # refused rather than honoured: lr_scaling, warmup_epochs and lr_ all start
        # from the lr parameter, which optimizer_params['lr'] would silently override
        raise ValueError(
            f"{name}: optimizer_params['lr']={params['lr']!r} conflicts with the lr parameter; "
            f"set lr={params['lr']!r} instead and leave 'lr' out of optimizer_params (lr is "
            "what lr_scaling, warmup_epochs and lr_ use)."
        )
    if "params" in params:
        raise ValueError(f"{name}: optimizer_params must not contain 'params': the estimator "
                         "passes the network's parameters to the optimizer itself.")
    try:
        signature = inspect.signature(optimizer.__init__)
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return
    accepted = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        names = [p for p in accepted if p not in ("self", "params")]
        raise TypeError(
            f"{name}: optimizer_params has {', '.join(map(repr, unknown))}, which "
            f"{optimizer.__name__} does not take; its arguments are {', '.join(names)}."
        )


def check_settings(p, name):
    """Check the settings no single-parameter constraint covers; raise a clear error.

    Parameters
    ----------
    p : types.SimpleNamespace
        The estimator's parameters as plain values, ``p.optimizer`` already resolved to
        its class.
    name : str
        The estimator's class name, for the messages.

    Raises
    ------
    TypeError
        An entry of ``callbacks`` is not a skorch Callback instance or a
        ``(str, Callback)`` tuple; an ``optimizer_params`` key is not an argument of
        the optimizer.
    ValueError
        ``optimizer_params`` sets ``lr`` (set the ``lr`` parameter instead); callback
        names clash; ``padding_idx`` is outside ``vocab_size``.
    """
    _check_callbacks(p.callbacks, name)
    _check_optimizer_params(p.optimizer, p.optimizer_params, name)
    if (p.embedding_dim is not None and p.vocab_size is not None
            and p.padding_idx is not None and p.padding_idx >= p.vocab_size):
        raise ValueError(
            f"{name}: padding_idx={p.padding_idx} is not an id of the vocabulary of "
            f"vocab_size={p.vocab_size} ids (0..{p.vocab_size - 1}); raise vocab_size or "
            "use a padding id inside it."
        )


def check_sample_counts(X, y, name):
    """Raise a ValueError naming ``X`` and ``y`` when their numbers of samples differ.

    Parameters
    ----------
    X : array-like or list of array-like
        The sequences.
    y : array-like
        The targets.
    name : str
        The estimator's class name, for the message.
    """
    try:
        n_x, n_y = _num_samples(X), _num_samples(y)
    except TypeError as exc:  # e.g. a scalar: what is wrong with it is said later
        raise TypeError(f"{name}: X and y must be sequences of samples ({exc}).") from exc
    if n_x != n_y:
        raise ValueError(
            f"{name}: X has {n_x} samples but y has {n_y}; pass one target per sequence "
            "(found input variables with inconsistent numbers of samples)."
        )


def _samples_needed(fraction, n_classes):
    """Fewest samples whose split has ``n_classes`` samples on either side."""
    # start near the answer: a fraction of 1e-6 or 0.999999 needs millions of samples
    n = max(2 * n_classes, int((n_classes - 1) / fraction) + 1,
            math.ceil(n_classes / (1 - fraction)))
    while math.ceil(fraction * n) < n_classes or n - math.ceil(fraction * n) < n_classes:
        n += 1
    return n


def target_shape(y):
    """The shape of ``y`` as an array (not ``np.ndim(y)``: that would ask an array-like's
    ``__array_function__``); ragged ``y`` is a ValueError naming y."""
    try:
        return np.asarray(y).shape
    except ValueError as exc:
        raise ValueError(f"y must be an array of targets, one per sequence ({exc}).") from exc


def plain_label(value):
    """A class label as the Python value it holds, so messages show ``1.0``, not
    ``np.float64(1.0)``."""
    return value.item() if isinstance(value, np.generic) else value


def check_validation_split(estimator, y, fraction, stratified):
    """Raise a clear ValueError when ``early_stopping`` cannot split off its validation set.

    The split is scikit-learn's ``ShuffleSplit`` (``StratifiedShuffleSplit`` for
    classifiers, as skorch's ``ValidSplit`` draws it): ``ceil(fraction * n)`` samples
    are held out. With stratification each side needs a sample of every class, and
    every class needs two samples.

    Parameters
    ----------
    estimator : BaseLSTM
        The estimator being fitted (named in the message; ``classes_`` for labels).
    y : ndarray
        The encoded training targets (class indices for classifiers).
    fraction : float
        ``validation_fraction``.
    stratified : bool
        Whether the split is stratified (classifiers).
    """
    name = type(estimator).__name__
    n = len(y)
    n_valid = math.ceil(fraction * n)
    n_train = n - n_valid
    held_out = (f"early_stopping=True holds out validation_fraction={fraction:g} of the {n} "
                f"training samples ({n_valid})")
    if not stratified:
        if n_train < 1:
            raise ValueError(f"{name}: {held_out}, which leaves no sample to train on; lower "
                             "validation_fraction, pass more samples or set "
                             "early_stopping=False.")
        return
    counts = np.bincount(y)
    k = len(counts)
    rare = int(np.argmin(counts))
    if counts[rare] < 2:
        raise ValueError(
            f"{name}: class {plain_label(estimator.classes_[rare])!r} has only "
            f"{counts[rare]} sample in y, but early_stopping=True needs at least 2 of every "
            "class for its stratified validation split (one to train on, one to validate); "
            "add samples of that class or set early_stopping=False."
        )
    if n_valid < k or n_train < k:
        side, fix = (("validation", "raise validation_fraction") if n_valid < k else
                     ("training", "lower validation_fraction"))
        raise ValueError(
            f"{name}: {held_out}, so the stratified {side} side cannot hold a sample of each "
            f"of the {k} classes in y. At validation_fraction={fraction:g} this needs at "
            f"least {_samples_needed(fraction, k)} samples; pass more samples, {fix}, or set "
            "early_stopping=False."
        )


def check_fit_data(estimator, X, y):
    """Validate ``X`` and ``y`` as ``estimator.fit`` would, without training anything.

    For callers that must refuse bad data before they start work, such as
    ``sklstm tune`` before it creates a study. ``estimator`` is not changed.

    Parameters
    ----------
    estimator : BaseLSTM
        The (unfitted) estimator whose ``fit`` the data is meant for.
    X : array-like or list of array-like
        The sequences.
    y : array-like
        The targets.

    Raises
    ------
    ValueError, TypeError
        What ``fit`` would raise about the data.
    """
    probe = clone(estimator)
    name = type(probe).__name__
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None.")
    check_sample_counts(X, y, name)
    params = probe.get_params()
    validate_sequences(probe, X, reset=True, tokens=params["embedding_dim"] is not None,
                       padding_idx=plain_value(params["padding_idx"]))
    probe._encode_y(y)
