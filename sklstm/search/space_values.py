"""The values of a search space: numpy types made plain, each checked before any trial.

Two things make a space that looks right fail only once trials run:

* numpy values (``np.array([8, 16])`` as the choices, ``np.int64`` choices or range
  ends): Optuna's storages write parameters as JSON, which numpy scalars are not, and
  an array is no list. :func:`plain_spec` turns them into Python values;
* values the estimator refuses (``batch_size=0``, a float range for an int
  parameter): every trial would fail. :func:`check_space_values` checks every choice,
  range end and fixed value against the owner's ``_parameter_constraints``, so the
  error comes before the study is created.
"""

from __future__ import annotations

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
from .._param_validation import plain_value

__all__ = ["check_space_values", "plain_spec"]


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
        An Optuna distribution, a list, tuple or 1-D array of choices, or a fixed value
        (numpy scalars and 0-d arrays included).

    Returns
    -------
    distribution : optuna.distributions.BaseDistribution or None
        None for a fixed value.
    value : object
        The fixed value (the plain spec itself for a sampled entry).

    Raises
    ------
    ValueError
        Empty choices, or an array of choices that is not 1-D.

    Examples
    --------
    >>> import numpy as np
    >>> plain_spec("batch_size", np.array([8, 16]))[0]
    CategoricalDistribution(choices=(8, 16))
    >>> plain_spec("lr", np.array(0.01))
    (None, 0.01)
    """
    if isinstance(spec, CategoricalDistribution):
        spec = CategoricalDistribution([_plain(c) for c in spec.choices])
    if isinstance(spec, BaseDistribution):
        return spec, spec
    if isinstance(spec, np.ndarray) and spec.ndim > 0:
        if spec.ndim != 1:
            raise ValueError(f"space entry {name!r}: an array of choices must be 1-D, got "
                             f"shape {spec.shape}")
        spec = spec.tolist()
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError(f"space entry {name!r}: a list of choices must not be empty")
        choices = [_plain(c) for c in spec]
        return CategoricalDistribution(choices), choices
    return None, _plain(spec)


def _owner(estimator, param):
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
    """Check the values of a resolved space against the estimator's parameter constraints.

    The end of a continuous float range may sit on an open bound (``dropout`` up to
    1.0, ``lr`` from 0): it is accepted when the values just inside it are.

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
        A choice, range end or fixed value that the estimator would refuse, named with
        the space entry and the estimator's own message.
    """
    for name, (param, dist, value) in resolved.items():
        owner, leaf = _owner(estimator, param)
        constraints = parameter_constraints(owner).get(leaf)
        if constraints is None:
            continue
        owner_name = type(owner).__name__
        for point in _points(dist, value):
            error = _refused(constraints, leaf, point, owner_name)
            if error is not None and isinstance(dist, FloatDistribution) and dist.step is None:
                inward = dist.high if point == dist.low else dist.low
                error = _refused(constraints, leaf, float(np.nextafter(point, inward)),
                                 owner_name)
            if error is not None:
                where = ("the fixed value" if dist is None else
                         "the choice" if isinstance(dist, CategoricalDistribution) else
                         "the range end")
                raise ValueError(f"space entry {name!r}: {where} {point!r} would fail every "
                                 f"trial that uses it: {error}")
