"""Every private scikit-learn name sklstm uses, imported once and re-exported plainly.

Each name is sklearn's own object on a verified scikit-learn (:data:`VERIFIED`):

=================================  ===================================================
here                               scikit-learn (read in 1.6.1 and 1.9.1)
=================================  ===================================================
:func:`fit_context`                ``sklearn.base._fit_context``
:func:`num_samples`                ``sklearn.utils.validation._num_samples``
:func:`safe_indexing`              ``sklearn.utils._safe_indexing``
``StrOptions``, ``Interval``,      ``sklearn.utils._param_validation``: the constraint
``HasMethods``, ``Hidden``,        language of ``_parameter_constraints``, and its
``validate_params``,               checks and error
``validate_parameter_constraints``,
``InvalidParameterError``
:class:`ParamsValidationHook`      overrides ``BaseEstimator._validate_params``, the
                                   method ``_fit_context`` calls before ``fit``
:func:`parameter_constraints`      reads an estimator's ``_parameter_constraints``
:func:`transform_output`           ``sklearn.utils._set_output._get_output_config``:
                                   the container ``set_output`` wraps output in
:func:`bagging_column_subset`      the locals ``ensemble`` and
                                   ``requires_feature_indexing`` of
                                   ``sklearn.ensemble._bagging._parallel_build_estimators``
                                   (unchanged from 1.0 to 1.9)
:func:`scorer_metric_kind`         a scorer's ``_score_func`` and the private modules
                                   ``sklearn.metrics._classification``, ``._ranking``,
                                   ``._regression``, ``._scorer`` and
                                   ``.cluster._supervised`` that define its metric
                                   (those names since 0.22; read in 1.9.1)
:func:`scorer_signs`               a scorer's ``_score_func`` and ``_sign``, and those
                                   of scikit-learn's own scorer of the same metric
=================================  ===================================================

sklstm's estimators still *declare* ``_parameter_constraints`` (the attribute sklearn
reads) and ``__sklearn_tags__`` (public); that is no import.

On a scikit-learn outside :data:`VERIFIED`, the decision is made once, here:

* :func:`fit_context`, :func:`num_samples` and :func:`safe_indexing` are sklstm's
  own equivalents on scikit-learn's public API (``get_config``, ``config_context``):
  the parameters are checked before ``fit`` and nested validation is skipped, as
  ``_fit_context`` does; what a newer ``_fit_context`` adds around a fit is left out;
* :func:`transform_output` reads the global setting alone
  (``get_config()["transform_output"]``), not an estimator's own ``set_output``;
* :func:`bagging_column_subset` finds no ensemble (bagging is not checked);
* :func:`scorer_metric_kind` knows no metric's kind (searches do not check that their
  scoring fits the estimator), and :func:`scorer_signs` no scorer's direction;
* the constraint language stays scikit-learn's own, the one its estimators validate
  their parameters with, while it imports; a name that is gone makes the check that
  needs it raise :class:`~sklstm._compat.UnverifiedVersionError`, naming the version
  and what to install (importing sklstm still works).
"""

from __future__ import annotations

import functools
import sys

import numpy as np
import sklearn
from sklearn import config_context, get_config

from . import UnverifiedVersionError, install_hint, unverified_message, within

__all__ = ["VERIFIED", "HasMethods", "Hidden", "Interval", "InvalidParameterError",
           "ParamsValidationHook", "StrOptions", "bagging_column_subset", "fit_context",
           "num_samples", "parameter_constraints", "safe_indexing", "scorer_metric_kind",
           "scorer_signs", "transform_output",
           "validate_estimator_params",
           "validate_parameter_constraints", "validate_params", "verified"]

#: scikit-learn (major, minor) versions these uses were verified on, inclusive.
VERIFIED = ((1, 6), (1, 9))


def verified(version=None):
    """Whether the installed (or given) scikit-learn lies within :data:`VERIFIED`.

    Parameters
    ----------
    version : str or None, default=None
        A scikit-learn version string; None checks the installed one.

    Returns
    -------
    bool

    Examples
    --------
    >>> verified("1.6.1"), verified("1.9.1"), verified("1.5.2"), verified("1.10.0")
    (True, True, False, False)
    """
    return within(version or sklearn.__version__, VERIFIED)


def _validation_stand_ins(error):
    """Stand-ins for the constraint language when scikit-learn no longer has it.

    Constraints and decorators are built when sklstm is imported, so building them
    works; checking a value with them raises, naming the version.
    """
    message = unverified_message(
        "scikit-learn", sklearn.__version__, VERIFIED, "Checking parameters",
        f"This one lacks it ({error}); {install_hint('scikit-learn', VERIFIED)}, or a "
        "release of sklstm that supports it.")

    def fail(*args, **kwargs):
        raise UnverifiedVersionError(message)

    class Constraint:
        def __init__(self, *args, **kwargs):
            pass

        is_satisfied_by = fail

    class InvalidParameterError(ValueError, TypeError):  # as scikit-learn defines it
        pass

    def validate_params(constraints, **kwargs):
        def decorate(func):
            # one each: wraps(func)(fail) renamed the shared fail, all became the last
            @functools.wraps(func)
            def refused(*args, **kwargs):
                fail()

            return refused

        return decorate

    names = ("StrOptions", "Interval", "HasMethods", "Hidden")
    return (*(type(name, (Constraint,), {}) for name in names), InvalidParameterError,
            validate_params, fail)


try:
    from sklearn.utils._param_validation import (
        HasMethods,
        Hidden,
        Interval,
        InvalidParameterError,
        StrOptions,
        validate_parameter_constraints,
        validate_params,
    )
except ImportError as error:  # pragma: no cover - an unverified scikit-learn
    (StrOptions, Interval, HasMethods, Hidden, InvalidParameterError, validate_params,
     validate_parameter_constraints) = _validation_stand_ins(error)


def _public_fit_context(*, prefer_skip_nested_validation):
    """``_fit_context`` on public API: check the parameters, then fit with nested
    validation skipped if preferred (sklstm decorates ``fit`` only, never
    ``partial_fit``)."""

    def decorator(fit_method):
        @functools.wraps(fit_method)
        def wrapper(estimator, *args, **kwargs):
            skip = get_config()["skip_parameter_validation"]
            if not skip:
                validate_estimator_params(estimator)
            with config_context(skip_parameter_validation=prefer_skip_nested_validation or skip):
                return fit_method(estimator, *args, **kwargs)

        return wrapper

    return decorator


def _public_num_samples(x):
    """``_num_samples`` for what sklstm passes: arrays, frames, tensors, sequences."""
    shape = getattr(x, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise TypeError(f"Singleton array {x!r} cannot be considered a valid collection.")
        return int(shape[0])
    if not hasattr(x, "__len__"):
        raise TypeError(f"Expected sequence or array-like, got {type(x)}")
    return len(x)


def _public_safe_indexing(X, indices):
    """``_safe_indexing`` along the first axis: by position for frames, by index for
    arrays and tensors, a list for lists and other sequences."""
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    if hasattr(X, "shape") or isinstance(indices, slice):
        return X[indices]
    key = np.asarray(indices)
    if key.dtype == bool:
        key = np.flatnonzero(key)
    return [X[i] for i in key]


def _public_output_config(method, estimator=None):
    """``_get_output_config`` from the global setting alone (public: ``get_config``)."""
    return {"dense": get_config()[f"{method}_output"]}


if verified():
    from sklearn.base import _fit_context as fit_context
    from sklearn.utils import _safe_indexing as safe_indexing
    from sklearn.utils._set_output import _get_output_config
    from sklearn.utils.validation import _num_samples as num_samples
else:  # pragma: no cover - an unverified scikit-learn
    fit_context, num_samples, safe_indexing, _get_output_config = (
        _public_fit_context, _public_num_samples, _public_safe_indexing,
        _public_output_config)


def transform_output(estimator):
    """The container scikit-learn wraps ``estimator.transform``'s output in.

    Parameters
    ----------
    estimator : TransformerMixin
        A transformer with ``set_output``.

    Returns
    -------
    str
        ``"default"`` (the output as it is), ``"pandas"`` or ``"polars"``: the
        estimator's own ``set_output``, else ``sklearn.set_config``'s.

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> transform_output(StandardScaler().set_output(transform="pandas"))
    'pandas'
    """
    return _get_output_config("transform", estimator)["dense"]


#: The kind of task a scikit-learn metric scores, by the (private) module that defines
#: it (the likelihood ratios of classification are defined in ``_scorer``).
_METRIC_KINDS = {
    "sklearn.metrics._classification": "classification",
    "sklearn.metrics._ranking": "classification",
    "sklearn.metrics._scorer": "classification",
    "sklearn.metrics.cluster._supervised": "clustering",
    "sklearn.metrics._regression": "regression",
}


def scorer_metric_kind(scorer):
    """The kind of task a scikit-learn scorer's metric scores.

    Parameters
    ----------
    scorer : callable
        A scorer (``sklearn.metrics.get_scorer(name)``, ``make_scorer(...)``) or any
        callable.

    Returns
    -------
    {"classification", "clustering", "regression"} or None
        None for a metric scikit-learn does not define (a user's own), a callable that
        is no scorer, or on an unverified scikit-learn (the kind is then not known).

    Examples
    --------
    >>> from sklearn.metrics import get_scorer
    >>> scorer_metric_kind(get_scorer("r2")), scorer_metric_kind(len)
    ('regression', None)
    """
    if not verified():
        return None
    module = getattr(getattr(scorer, "_score_func", None), "__module__", None)
    return _METRIC_KINDS.get(module)


def scorer_signs(scorer):
    """Which way a scorer of one of scikit-learn's metrics optimizes it, and which way
    scikit-learn's own scorer of that metric does.

    Parameters
    ----------
    scorer : callable
        A scorer (``make_scorer(...)``, ``get_scorer(name)``) or any callable.

    Returns
    -------
    tuple (sign, metric, name, own_sign) or None
        The scorer's sign (1: greater is better, -1: lower), its metric's name, the
        name of scikit-learn's scorer of the same metric and its sign; None for a
        metric scikit-learn has no scorer of, a callable that is no scorer, or on an
        unverified scikit-learn.

    Examples
    --------
    >>> from sklearn.metrics import make_scorer, mean_squared_error
    >>> scorer_signs(make_scorer(mean_squared_error))
    (1, 'mean_squared_error', 'neg_mean_squared_error', -1)
    """
    if not verified():
        return None
    func, sign = getattr(scorer, "_score_func", None), getattr(scorer, "_sign", None)
    own = _own_scorers().get(func) if sign in (1, -1) else None
    return None if own is None else (sign, func.__name__, *own)


@functools.cache
def _own_scorers():
    """scikit-learn's scorer of each of its metrics, built once: the metric function ->
    (the first scorer name for it, its sign)."""
    from sklearn.metrics import get_scorer, get_scorer_names

    own = {}
    for name in get_scorer_names():
        scorer = get_scorer(name)
        own.setdefault(getattr(scorer, "_score_func", None), (name, scorer._sign))
    return own


def bagging_column_subset():
    """The bagging ensemble that is fitting its caller on a subset of X's columns.

    ``BaggingClassifier`` and ``BaggingRegressor`` with ``max_features`` below the
    number of columns, or ``bootstrap_features=True``, fit each of their estimators on
    ``X[:, features]``, a random draw of the columns in random order. An estimator
    cannot see that in the ``X`` it is given; scikit-learn says it only in the locals
    of the private function that fits the estimators, which this reads from the call
    stack (in a joblib worker too: the function runs there).

    Returns
    -------
    BaseBagging or None
        The ensemble, where the caller's ``fit`` runs inside one that indexes the
        columns; None elsewhere, and on a scikit-learn outside :data:`VERIFIED`.
    """
    if not verified():  # pragma: no cover - an unverified scikit-learn
        return None
    frame = sys._getframe(1)
    while frame is not None:
        if (frame.f_code.co_name == "_parallel_build_estimators"
                and frame.f_globals.get("__name__") == "sklearn.ensemble._bagging"):
            local = frame.f_locals
            return local.get("ensemble") if local.get("requires_feature_indexing") else None
        frame = frame.f_back
    return None


def parameter_constraints(estimator):
    """An estimator's ``_parameter_constraints`` (``{}`` if it declares none).

    Parameters
    ----------
    estimator : object
        An estimator or its class.

    Returns
    -------
    dict
        ``name -> list of constraints``, as scikit-learn's validation reads it.

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> sorted(parameter_constraints(StandardScaler))
    ['copy', 'with_mean', 'with_std']
    """
    return getattr(estimator, "_parameter_constraints", {})


def validate_estimator_params(estimator):
    """Check an estimator's parameters as its ``fit`` does, before fitting.

    Calls the estimator's ``_validate_params`` (scikit-learn's private hook, which
    :class:`ParamsValidationHook` overrides for sklstm's estimators).

    Parameters
    ----------
    estimator : sklearn.base.BaseEstimator

    Raises
    ------
    InvalidParameterError
        If a parameter breaks its constraint.
    """
    estimator._validate_params()


class ParamsValidationHook:
    """Estimator mixin: the check run before ``fit`` reads :meth:`_params_to_validate`.

    scikit-learn's ``_fit_context`` validates an estimator by calling its private
    ``_validate_params``; this overrides it to check ``_params_to_validate()`` (by
    default ``get_params(deep=False)``, as scikit-learn does) against the
    ``_parameter_constraints``, with scikit-learn's wording of the error.
    """

    def _params_to_validate(self):
        return self.get_params(deep=False)

    def _validate_params(self):
        validate_parameter_constraints(self._parameter_constraints,
                                       self._params_to_validate(),
                                       caller_name=type(self).__name__)
