"""The values of a search space: numpy types made plain, each checked before any trial.

Three things make a space that looks right fail only once trials run:

* numpy values (``np.array([8, 16])`` as the choices, ``np.int64`` choices or range
  ends): Optuna's storages write parameters as JSON, which numpy scalars are not, and
  an array is no list. :func:`plain_spec` turns them into Python values;
* a scipy.stats distribution, as ``RandomizedSearchCV`` takes (``loguniform(1e-3,
  0.1)``): it would be a fixed value. :func:`plain_spec` refuses it, naming the Optuna
  distribution to give instead;
* values the estimator refuses (``batch_size=0``, a float range for an int
  parameter): every trial would fail. :func:`check_space_values` checks every choice,
  range end and fixed value against the owner's ``_parameter_constraints``, and the
  fixed (or else sampled) values against the sklstm estimator's rules between parameters
  (``embedding_dim`` with ``downsample=2``, ``vocab_size`` without ``embedding_dim``),
  so the error comes before the study is created.
"""

from __future__ import annotations

import itertools
import math
import warnings
from functools import partial

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from .._compat.sklearn import (
    InvalidParameterError,
    parameter_constraints,
    validate_parameter_constraints,
)
from .._param_validation import plain_params, plain_value
from ..estimators._base import BaseLSTM
from ..estimators._params import check_params
from .pipeline import final_estimator
from .space_hints import refusal_hint

__all__ = ["check_space_values", "check_told_apart", "owner_of", "plain_spec", "trial_points"]


def _plain(value):
    value = plain_value(value)
    return str(value) if isinstance(value, np.str_) else value


def plain_spec(name, spec):
    """The distribution (or None) and fixed value of a space entry, in Python values.

    Parameters
    ----------
    name : str
        The entry's name, for the messages.
    spec : object
        An Optuna distribution, a list, tuple, range or 1-D array of choices, or a fixed
        value (numpy scalars and 0-d arrays included).

    Returns
    -------
    distribution : optuna.distributions.BaseDistribution or None
        None for a fixed value.
    value : object
        The fixed value (the plain spec itself for a sampled entry).

    Raises
    ------
    ValueError
        Empty choices, an array of choices that is not 1-D, a set (no order), a choice
        that Optuna's storages cannot keep (a tuple, a dict), or a distribution of
        scikit-learn's ``RandomizedSearchCV`` (a scipy.stats one).

    Examples
    --------
    >>> import numpy as np
    >>> plain_spec("batch_size", np.array([8, 16]))[0]
    CategoricalDistribution(choices=(8, 16))
    >>> plain_spec("lr", np.array(0.01))
    (None, 0.01)
    """
    if isinstance(spec, CategoricalDistribution):
        spec = CategoricalDistribution(_stored_choices(name, spec.choices))
    if isinstance(spec, BaseDistribution):
        return spec, spec
    if isinstance(spec, (set, frozenset)):
        # (a set of text has another order in every worker process: its trials' choices
        # would not match the study's)
        raise ValueError(f"space entry {name!r}: choices must be a list, a tuple, a range "
                         f"or a 1-D array, in an order; got the set {spec!r}: give "
                         f"sorted(...) or a list")
    if isinstance(spec, range):  # choices, as in scikit-learn's grids
        spec = list(spec)
    if isinstance(spec, np.ndarray) and spec.ndim > 0:
        if spec.ndim != 1:
            raise ValueError(f"space entry {name!r}: an array of choices must be 1-D, got "
                             f"shape {spec.shape}")
        spec = spec.tolist()
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError(f"space entry {name!r}: a list of choices must not be empty")
        choices = _stored_choices(name, spec)
        return CategoricalDistribution(choices), choices
    if callable(getattr(spec, "rvs", None)):
        # scikit-learn's rule for a distribution of RandomizedSearchCV. As a fixed
        # value it was set on the estimator itself: refused by name only where the
        # estimator is checked, else fitted with an object for a number.
        raise ValueError(
            f"space entry {name!r}: {_distribution_name(spec)} is a distribution for "
            f"scikit-learn's RandomizedSearchCV (it has rvs), not for an Optuna space; "
            f"give {_optuna_range(spec)}, or a list of choices")
    return None, _plain(spec)


def _stored_choices(name, choices):
    """``choices`` as Python values, refused unless each is one Optuna's storages keep.

    Optuna stores a categorical's choices as JSON: a tuple comes back a list and a
    dict's keys strings, so ``best_params`` would hold other values than the trials
    fitted with (``class_weight={0: 1, 1: 3}`` back as ``{"0": 1, "1": 3}``), and
    the study, resumed, no longer matches its own space.
    """
    plain = [_plain(c) for c in choices]
    for choice in plain:
        if not (choice is None or isinstance(choice, (bool, int, float, str))):
            raise ValueError(
                f"space entry {name!r}: the choice {choice!r} is a {type(choice).__name__}; "
                "Optuna's storages keep only None, bool, int, float and str choices (a "
                "tuple comes back a list, a dict with str keys, and the study no longer "
                "matches its space). Set such a value on the estimator rather than "
                "searching it, or search it with scikit-learn's GridSearchCV, whose grids "
                "hold any value.")
    return plain


#: scipy.stats distributions with a range Optuna samples: name -> (class, log scale).
_OPTUNA_RANGES = {"randint": ("IntDistribution", False), "uniform": ("FloatDistribution", False),
                  "loguniform": ("FloatDistribution", True),
                  "reciprocal": ("FloatDistribution", True)}


def _distribution_name(spec):
    """``scipy.stats.loguniform`` for a frozen scipy.stats distribution, else its type."""
    name = getattr(getattr(spec, "dist", None), "name", None)
    return f"scipy.stats.{name}" if isinstance(name, str) else type(spec).__name__


def _optuna_range(spec):
    """The Optuna distribution over the values a scipy.stats distribution draws, as code.

    Examples
    --------
    >>> from scipy.stats import loguniform, randint
    >>> _optuna_range(loguniform(1e-3, 0.1))
    'optuna.distributions.FloatDistribution(0.001, 0.1, log=True)'
    >>> _optuna_range(randint(8, 65))
    'optuna.distributions.IntDistribution(8, 64)'
    """
    kind = _OPTUNA_RANGES.get(getattr(getattr(spec, "dist", None), "name", None))
    if kind is None:
        return "optuna.distributions.FloatDistribution(low, high) or IntDistribution(low, high)"
    cls, log = kind
    low, high = (plain_value(end) for end in spec.support())  # randint's high is exclusive
    return f"optuna.distributions.{cls}({low!r}, {high!r}{', log=True' if log else ''})"


def owner_of(estimator, param):
    """The object whose parameter ``param`` is, and the parameter's own name."""
    path, _, leaf = param.rpartition("__")
    if not path:
        return estimator, leaf
    return estimator.get_params(deep=True).get(path), leaf


def _points(dist, value):
    """The values to check: every choice, both range ends, or the fixed value."""
    if dist is None:
        return [value]
    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, (FloatDistribution, IntDistribution)):
        return [dist.low, dist.high]
    return []


def _refused(constraints, leaf, value, owner_name):
    try:
        validate_parameter_constraints({leaf: constraints}, {leaf: plain_value(value)},
                                       caller_name=owner_name)
    except InvalidParameterError as exc:
        return exc
    return None


def check_space_values(resolved, estimator):
    """Check the values of a resolved space against the estimator's parameter rules.

    Every choice, range end and fixed value is checked against its owner's
    ``_parameter_constraints``. The end of a continuous float range may sit on an open
    bound (``dropout`` up to 1.0, ``lr`` from 0): it is accepted when the values just
    inside it are. Then the fixed values are checked together against the sklstm
    estimator's rules between parameters (``embedding_dim`` excludes ``downsample=2``):
    they are refused when no combination of the sampled parameters' values (every
    choice; a range's ends and middle; up to 512 combinations) avoids the rules. So are
    sampled parameters none of whose values the estimator's own take
    (``padding_idx`` choices outside its ``vocab_size``). A rule that only some
    sampled values break is left to the trials, which record why they failed.

    Parameters
    ----------
    resolved : dict
        ``name -> (param_name, distribution_or_None, value)`` from
        :func:`~sklstm.search.resolve_space`.
    estimator : estimator or Pipeline
        Its parameters' owners (the estimator or a Pipeline step) hold the
        ``_parameter_constraints``; parameters without constraints are not checked.

    Raises
    ------
    ValueError
        A choice, range end or fixed value that the estimator would refuse, or fixed
        values it would refuse together in every trial, named with the space entries
        and the estimator's own message (which says the fix).

    Examples
    --------
    >>> from sklstm import LSTMClassifier
    >>> from sklstm.search import resolve_space
    >>> resolve_space({"embedding_dim": 4, "downsample": 2}, LSTMClassifier())
    Traceback (most recent call last):
    ...
    ValueError: space entries 'embedding_dim', 'downsample': the fixed values 4, 2 would \
fail every trial together: LSTMClassifier: downsample=2 averages timesteps, ...
    """
    _check_each(resolved, estimator)
    _check_together(resolved, estimator)


def _check_each(resolved, estimator):
    """Refuse a choice, range end or fixed value its owner's constraints refuse."""
    for name, (param, dist, value) in resolved.items():
        owner, leaf = owner_of(estimator, param)
        constraints = parameter_constraints(owner).get(leaf)
        if constraints is None:
            continue
        owner_name = type(owner).__name__
        for point in _points(dist, value):
            error = _refused(constraints, leaf, point, owner_name)
            if error is not None and isinstance(dist, FloatDistribution) and dist.step is None:
                inward = dist.high if point == dist.low else dist.low
                if _refused(constraints, leaf, float(np.nextafter(point, inward)),
                            owner_name) is None:
                    error = None
                # else the end's own error: the value just inside ("Got
                # 8.000000000000002") is not one the space names
            if error is not None:
                where = ("the fixed value" if dist is None else
                         "the choice" if isinstance(dist, CategoricalDistribution) else
                         "the range end")
                int_accepted = (isinstance(point, float) and point.is_integer() and
                                _refused(constraints, leaf, int(point), owner_name) is None)
                hint = refusal_hint(dist, point, constraints, leaf, owner_name, int_accepted)
                raise ValueError(f"space entry {name!r}: {where} {point!r} would fail every "
                                 f"trial that uses it: {error}{hint}")


def _check_together(resolved, estimator):
    """Refuse fixed values, or else sampled ones, that the sklstm estimator's rules
    between parameters (:func:`~sklstm.estimators._params.check_params`) refuse in
    every trial."""
    final = final_estimator(estimator)
    if not isinstance(final, BaseLSTM):
        return  # no sklstm rules to apply
    defaults = plain_params(type(final)().get_params(deep=False))
    check = partial(_rules_error, type(final).__name__, defaults)
    # the trials' parameters: the estimator's own with the fixed values, and every
    # combination of the sampled ones' points (choices; range ends and middle)
    own = plain_params(final.get_params(deep=False))
    params = dict(own)
    fixed, sampled = {}, {}  # leaf -> (space name, value); leaf -> points
    dists = {}  # leaf -> (space name, distribution), of the sampled ones
    for name, (param, dist, value) in resolved.items():
        owner, leaf = owner_of(estimator, param)
        if owner is not final:
            continue
        if dist is None:
            fixed[leaf] = (name, value)
            params[leaf] = value
        else:
            sampled[leaf] = trial_points(dist) or [params[leaf]]
            dists[leaf] = (name, dist)
    if math.prod(map(len, sampled.values())) > _MAX_COMBINATIONS:
        return  # too many to try: the trials record why
    refused = None
    for combination in itertools.product(*sampled.values()):
        trial = {**params, **dict(zip(sampled, combination, strict=True))}
        error = check(trial)
        if error is None:
            return  # some trials can run
        refused = refused or (trial, error)
    params, error = refused
    # the space's part in it: the fixed values without which the error changes, or
    # else the sampled ones without which it does (none: the estimator refuses its own
    # configuration, which its fit reports). Sampled ones were left to the trials,
    # which all failed: padding_idx=[10, 12] with the estimator's vocab_size=10
    involved = [(name, value) for leaf, (name, value) in fixed.items()
                if str(check({**params, leaf: defaults[leaf]})) != str(error)]
    if involved:
        raise _fixed_values_error(involved, error)
    involved = [dists[leaf] for leaf in sampled
                if str(check({**params, leaf: own[leaf]})) != str(error)]
    if involved:
        raise _sampled_values_error(involved, error)


#: The most combinations of sampled values :func:`_check_together` tries (each
#: costs one check of the parameters, about a millisecond); beyond, the trials tell.
_MAX_COMBINATIONS = 512


def trial_points(dist):
    """Values a trial may sample from ``dist``: every choice; a range's ends and middle
    (an open end alone may be refused where the rest of the range is not)."""
    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, IntDistribution):
        return [dist.low, (dist.low + dist.high) // 2, dist.high]
    if isinstance(dist, FloatDistribution):
        return [dist.low, (dist.low + dist.high) / 2, dist.high]
    return []


def _fixed_values_error(involved, error):
    """The ValueError naming the space's fixed ``(name, value)`` pairs ``error`` refuses."""
    several = len(involved) > 1
    values = ", ".join(repr(value) for _, value in involved)
    return _values_error(involved, f"the fixed {'values' if several else 'value'} {values}",
                         error)


def _sampled_values_error(involved, error):
    """The ValueError naming the space's sampled ``(name, distribution)`` pairs whose
    values ``error`` refuses in every trial."""
    values = "; ".join(_described(dist) for _, dist in involved)
    return _values_error(involved, values, error, ", with the estimator's own parameters")


def _values_error(involved, values, error, context=""):
    """The ValueError naming the space entries of ``involved`` (``(name, ...)`` pairs)
    whose ``values`` (in words) ``error`` refuses in every trial."""
    names = ", ".join(repr(name) for name, _ in involved)
    several = len(involved) > 1
    return ValueError(
        f"space {'entries' if several else 'entry'} {names}: {values} would fail every "
        f"trial{' together' if several else ''}{context}: {error}")


def _described(dist):
    """The values of a sampled entry, in words: ``the choices 10, 12``."""
    if isinstance(dist, CategoricalDistribution):
        several = len(dist.choices) > 1
        return f"the choice{'s' if several else ''} " + ", ".join(map(repr, dist.choices))
    return f"the range {dist.low!r} to {dist.high!r}"


def _rules_error(estimator_name, defaults, params):
    """The error the estimator's rules between parameters raise for ``params``, or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecated patience's FutureWarning
        try:
            check_params(params, estimator_name, defaults)
        except (TypeError, ValueError) as exc:
            return exc
    return None


def check_told_apart(name, dist):
    """Refuse choices that are equal but of other types (``1`` and ``True``).

    Optuna stores a choice as its index, found with ``==``: a trial fitted with ``True``
    of ``[1, True]`` recorded ``1``, and ``best_params`` gave the refit the other value.
    """
    choices = getattr(dist, "choices", ())
    for i, choice in enumerate(choices):
        for other in choices[i + 1:]:
            if choice == other and type(choice) is not type(other):
                raise ValueError(
                    f"space entry {name!r}: the choices {choice!r} and {other!r} are equal "
                    "to Optuna, which records a choice by its position: a trial fitted with "
                    f"{other!r} would be recorded as {choice!r}. Keep one of them.")
