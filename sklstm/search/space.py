"""The Optuna search space for sklstm estimators: defaults, validation and sampling.

A *space* is a dict ``name -> spec`` where ``spec`` is one of

* an Optuna distribution (``optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)``),
* a list, tuple, range or 1-D numpy array of choices (sampled as a categorical),
* any other value: fixed, set on every trial without being sampled.

numpy scalars and 0-d arrays anywhere in it stand for the Python numbers they hold
(:mod:`~sklstm.search.space_values`).

Names are estimator parameters. For a Pipeline they may omit the final step's prefix:
``"batch_size"`` and ``"lstm__batch_size"`` both mean the LSTM's batch size, while
``"scale__with_mean"`` reaches an earlier step.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from types import SimpleNamespace

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from .._compat.python import warn_at_caller
from ..data.containers import ragged_lengths
from ..data.steps import resolve_downsample
from ..estimators._base import BaseLSTM
from ..training.setup import check_kernels_fit
from .pipeline import final_estimator, final_prefix
from .space_file import load_space
from .space_hints import closest_name
from .space_values import check_space_values, check_told_apart, owner_of, plain_spec, trial_points

__all__ = [
    "as_distributions",
    "default_space",
    "fit_conv_widths",
    "load_space",
    "resolve_space",
    "sample_resolved",
    "suggest_params",
]


def default_space(**overrides) -> dict:
    """The documented default search space, optionally with some entries replaced.

    ======================  ========================================================
    ``batch_size``          categorical, powers of two: 8, 16, 32, 64
    ``accumulation_steps``  categorical: 1, 2, 4
    ``seq_len``             not set: the estimator's own (None, whole sequences, by
                            default); pass choices to search it, e.g.
                            ``default_space(seq_len=[None, 50, 100])``
    ``downsample``          categorical: "auto", 1, 2, 4 (the time resolution)
    ``pooling``             categorical: "concat", "last", "max", "attention"
    ``conv_channels``       categorical: "auto", None, 32, 64 (an LSTM-FCN
                            convolutional branch of ``(k, 2k, k)`` channels, or none;
                            "auto" is the classifier's default); ``tune`` leaves out
                            32 and 64 where a kernel exceeds the shortest sequence,
                            and "auto" for token ids (no branch there: None's trial)
    ``split_level``         categorical: "auto", False (each sequence's level beside
                            its shape, or the sequence as it is; "auto" is the
                            classifier's default)
    ``hidden_size``         categorical: 16, 32, 64, 128
    ``num_layers``          int in [1, 2]
    ``dropout``             float in [0, 0.5]
    ``lr``                  float in [1e-3, 3e-2], log-uniform
    ``n_iter_no_change``    categorical: 10, 20 (the convergence rule's patience; left
                            out where ``tol=None`` and ``early_stopping=False``)
    ======================  ========================================================

    The estimators' defaults are a point of this space, so :func:`~sklstm.search.tune`
    runs them as its first trial. The ranges are the ones that mattered on the
    benchmark of small data sets (``benchmarks/bench_small_data.py``): the learning
    rate within a factor 10 of the default, the time resolution, the readout and the
    size of the network; ``max_epochs`` stays out (the convergence rule decides when a
    fit ends, and pruning compares trials epoch by epoch).

    Parameters
    ----------
    **overrides
        ``name=spec`` entries that replace (or add to) the defaults; a spec is an Optuna
        distribution, a list of choices, or a fixed value.

    Returns
    -------
    dict
        A fresh dict; change it freely.

    Examples
    --------
    >>> space = default_space(batch_size=[8, 16], max_epochs=5)
    >>> space["batch_size"], space["max_epochs"]
    ([8, 16], 5)
    """
    space = {
        "batch_size": CategoricalDistribution([8, 16, 32, 64]),
        "accumulation_steps": CategoricalDistribution([1, 2, 4]),
        # (no seq_len: a fixed None overrode the estimator's, tune(LSTMClassifier(
        # seq_len=50), ...) trained on whole sequences)
        "downsample": CategoricalDistribution(["auto", 1, 2, 4]),
        "pooling": CategoricalDistribution(["concat", "last", "max", "attention"]),
        "conv_channels": CategoricalDistribution(["auto", None, 32, 64]),
        "split_level": CategoricalDistribution(["auto", False]),
        "hidden_size": CategoricalDistribution([16, 32, 64, 128]),
        "num_layers": IntDistribution(1, 2),
        "dropout": FloatDistribution(0.0, 0.5),
        "lr": FloatDistribution(1e-3, 3e-2, log=True),
        "n_iter_no_change": CategoricalDistribution([10, 20]),
    }
    space.update(overrides)
    return space


def resolve_space(space=None, estimator=None, prefix: str = "") -> dict:
    """Validate a space and map each name to the estimator parameter it sets.

    Parameters
    ----------
    space : dict or None, default=None
        ``name -> spec``; None means :func:`default_space`.
    estimator : estimator, Pipeline or None, default=None
        When given, every name is checked against ``estimator.get_params()``; names that
        are not parameters of the estimator itself are looked up in the final step of a
        Pipeline.
    prefix : str, default=""
        Prepended to every name to form the parameter name (e.g. ``"lstm__"``). With an
        ``estimator``, a prefixed name that is not one of its parameters falls back to
        the final step's prefix instead.

    Returns
    -------
    dict
        ``name -> (param_name, distribution_or_None, spec)``, in the order of ``space``.

    Raises
    ------
    TypeError
        If the space is no dict (nor None), or a name is no str.
    ValueError
        If the space is empty, a spec is invalid, a name is not a parameter of the
        estimator (all unknown names are listed, with the closest valid name), two names
        set the same parameter (``"batch_size"`` and ``"lstm__batch_size"``), two
        choices are equal but of other types (``1`` and ``True``: Optuna records the
        first for both), or a choice, range end or fixed value is one the estimator
        refuses, alone or together in every trial
        (:func:`~sklstm.search.space_values.check_space_values`).

    Examples
    --------
    >>> from sklstm import LSTMClassifier
    >>> resolved = resolve_space({"lr": [0.01, 0.1]}, LSTMClassifier())
    >>> resolved["lr"][0]
    'lr'
    >>> resolve_space({"batchsize": [16]}, LSTMClassifier())
    Traceback (most recent call last):
    ...
    ValueError: unknown parameter(s) for LSTMClassifier: 'batchsize' (did you mean 'batch_size'?)...
    """
    default = space is None
    space = default_space() if default else space
    if not isinstance(space, Mapping):
        raise TypeError(
            f"space must be a dict name -> spec (or None: default_space()), got "
            f"{type(space).__name__}: e.g. {{'batch_size': [16, 32], 'hidden_size': 64}}"
            + (" (a list of (name, spec) pairs: pass dict(space))"
               if isinstance(space, (list, tuple)) else ""))
    if not space:
        raise ValueError("the search space is empty: give at least one parameter to search")
    params = None if estimator is None else estimator.get_params(deep=True)
    step_prefix = final_prefix(estimator) if estimator is not None else prefix

    resolved, unknown, named = {}, [], {}  # named: param -> the space name that sets it
    for name, spec in space.items():
        if not isinstance(name, str):  # (a bare "can only concatenate str" before)
            raise TypeError(f"space keys are parameter names (str), got {name!r}: write "
                            "e.g. {'batch_size': [8, 16]}")
        name = str(name)  # np.str_ keys (zip of an np.array of names) showed as np.str_('lr')
        param = prefix + name
        if params is not None and param not in params:
            param = step_prefix + name
            if param not in params:
                close = closest_name(name, params, step_prefix)
                unknown.append(repr(name) + (f" (did you mean {close!r}?)" if close else ""))
                continue
        if param in named:
            # "batch_size" and "lstm__batch_size" in a Pipeline: both were sampled and
            # shown, but the fit used the last one only
            raise ValueError(
                f"space entries {named[param]!r} and {name!r} both set {param!r}: a trial "
                "would record a value its fit did not use. Keep one of them (default_space() "
                "names the final step's parameters without the step prefix: override them "
                "by that name).")
        named[param] = name
        resolved[name] = (param, *plain_spec(name, spec))
        check_told_apart(name, resolved[name][1])
    if unknown:
        raise ValueError(
            f"unknown parameter(s) for {type(estimator).__name__}: {', '.join(unknown)}. "
            "Valid names are the keys of estimator.get_params()."
        )
    if estimator is not None:
        check_space_values(resolved, estimator)
        resolved = drop_inert_patience(resolved, estimator, default)
    return resolved


def trial_values(resolved, estimator, leaf):
    """The entry (or None) setting the final step's ``leaf``, and the values trials give it."""
    final = final_estimator(estimator)
    for name, (param, dist, value) in resolved.items():
        owner, own_leaf = owner_of(estimator, param)
        if owner is final and own_leaf == leaf:
            return name, [value] if dist is None else trial_points(dist)
    return None, [final.get_params(deep=False)[leaf]]


def drop_inert_patience(resolved, estimator, default):
    """``resolved`` without a sampled ``n_iter_no_change`` no trial uses (``tol=None``, no
    ``early_stopping``) in the default space; in a user's a warning, as fit warns of such."""
    values = partial(trial_values, resolved, estimator)
    name = isinstance(final_estimator(estimator), BaseLSTM) and values("n_iter_no_change")[0]
    if (not name or resolved[name][1] is None or any(values("early_stopping")[1])
            or any(v is not None for v in values("tol")[1])):
        return resolved
    if default:
        return {key: entry for key, entry in resolved.items() if key != name}
    warn_at_caller(f"space entry {name!r} samples the convergence rule's patience, which no trial "
                   "uses: tol=None and early_stopping=False run every epoch. Set tol (or "
                   "early_stopping=True), or leave it out of the space.")
    return resolved


def fit_conv_widths(resolved, estimator, X, default):
    """``resolved`` without the conv widths the fit refuses in every trial on ``X`` as the
    final step sees it (:func:`~sklstm.training.setup.check_kernels_fit`, smallest
    downsample, longest seq_len): left out of the default space, refused in a user's."""
    values = partial(trial_values, resolved, estimator)
    name, widths = values("conv_channels")
    tokens = [dim is not None for dim in values("embedding_dim")[1]]
    if default and name is not None and all(tokens) and "auto" in widths and None in widths:
        # "auto" builds no branch on token ids: the same trial as None, run twice
        widths = [w for w in widths if not isinstance(w, str)]
        kept = CategoricalDistribution(widths)
        resolved = {**resolved, name: (resolved[name][0], kept, kept)}
    named = [w for w in widths if w is not None and not isinstance(w, str)]
    lengths = ragged_lengths(X)  # (a store's from its offsets: nothing is read)
    if lengths is None and len(getattr(X, "shape", ())) >= 2:
        lengths = np.array([X.shape[1]])
    # a step before a Pipeline's LSTM that trials sample (or a parameter of one) may
    # change the lengths trial by trial: X is as the fixed values transform it
    sampled_steps = [param for param, dist, _ in resolved.values()
                     if dist is not None and not param.startswith(final_prefix(estimator))]
    if name is None or not named or lengths is None or not len(lengths) or sampled_steps:
        return resolved  # (an estimator's own width: its fit says it)
    # (token ids are not downsampled: their kernels read the sentences as they are)
    factor = 1 if any(tokens) else min(
        resolve_downsample(d, int(lengths.max())) for d in values("downsample")[1])
    cuts = values("seq_len")[1]  # (the longest cut, as the smallest downsample: some
    # trials of seq_len=[4, 50] fit a kernel of 8, which the smallest cut refused)
    shortest = min([-(-int(lengths.min()) // factor), *([] if None in cuts else [max(cuts)])])
    kernels = min(values("conv_kernel_sizes")[1], key=lambda k: max(np.ravel(k)))
    plan = SimpleNamespace(conv_channels=named[0], ar_window=None,
                           conv_kernel_sizes=tuple(int(k) for k in np.ravel(kernels)),
                           name=type(final_estimator(estimator)).__name__)
    try:
        check_kernels_fit(plan, SimpleNamespace(shortest=shortest))
    except ValueError as exc:
        if not default:
            raise ValueError(f"space entry {name!r}: the conv width(s) {named} would fail "
                             f"every trial that uses them: {exc} Or leave them out of the "
                             "space (\"auto\" and None fit any length).") from exc
        kept = CategoricalDistribution([c for c in widths if c not in named])
        resolved = {**resolved, name: (resolved[name][0], kept, kept)}
    return resolved


def _suggest(trial, name: str, dist: BaseDistribution):
    # Public suggest_* API (not trial._suggest) so any Trial-like object works.
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    raise ValueError(f"unsupported distribution for {name!r}: {dist!r}")


def suggest_params(trial, space=None, prefix: str = "", estimator=None) -> dict:
    """Sample one set of estimator parameters from a space with an Optuna trial.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial that records the sampled values (under the space's names).
    space : dict or None, default=None
        ``name -> spec``; None means :func:`default_space`.
    prefix : str, default=""
        Prepended to every returned parameter name, e.g. ``"lstm__"`` for a Pipeline step.
    estimator : estimator, Pipeline or None, default=None
        Validate names against it and find the final-step prefix automatically (see
        :func:`resolve_space`).

    Returns
    -------
    dict
        ``param_name -> value``, ready for ``estimator.set_params(**params)``; fixed
        values are included.

    Examples
    --------
    >>> import optuna
    >>> trial = optuna.create_study().ask()
    >>> params = suggest_params(trial, {"batch_size": [16, 32], "max_epochs": 3}, "lstm__")
    >>> sorted(params), params["lstm__max_epochs"]
    (['lstm__batch_size', 'lstm__max_epochs'], 3)
    """
    return sample_resolved(trial, resolve_space(space, estimator, prefix))


def sample_resolved(trial, resolved: dict) -> dict:
    """Sample a space already checked by :func:`resolve_space` (fixed values included).

    Examples
    --------
    >>> import optuna
    >>> resolved = resolve_space({"batch_size": [16, 32], "lr": 0.01})
    >>> params = sample_resolved(optuna.create_study().ask(), resolved)
    >>> params["lr"], params["batch_size"] in (16, 32)
    (0.01, True)
    """
    return {
        param: spec if dist is None else _suggest(trial, name, dist)
        for name, (param, dist, spec) in resolved.items()
    }


def as_distributions(space=None, estimator=None, prefix: str = "") -> dict:
    """A space as ``param_name -> distribution``, e.g. for ``OptunaSearchCV``.

    Fixed values become single-choice categoricals.

    Parameters
    ----------
    space : dict or None, default=None
        ``name -> spec``; None means :func:`default_space`.
    estimator : estimator, Pipeline or None, default=None
        When given, names are checked against its parameters and may omit the final
        Pipeline step's prefix, as in :func:`resolve_space`.
    prefix : str, default=""
        Prepended to every name to form the parameter name, e.g. ``"lstm__"``.

    Returns
    -------
    dict
        ``param_name -> optuna distribution``.

    Examples
    --------
    >>> dists = as_distributions({"batch_size": [16, 32], "max_epochs": 2}, prefix="lstm__")
    >>> dists["lstm__max_epochs"]
    CategoricalDistribution(choices=(2,))
    """
    resolved = resolve_space(space, estimator, prefix)
    return {
        param: CategoricalDistribution([spec]) if dist is None else dist
        for param, dist, spec in resolved.values()
    }
