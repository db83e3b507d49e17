"""Reaching the sklstm estimator at the end of a (possibly nested) Pipeline."""

from __future__ import annotations

from sklearn.base import clone

from .._param_validation import plain_value
from ..estimators._base import BaseLSTM
from ..estimators._data_checks import check_fit_data

__all__ = ["check_final_lstm", "check_search_data", "copying_inputs", "final_estimator",
           "final_prefix"]


def final_estimator(estimator):
    """Return the last step of a (possibly nested) Pipeline, or ``estimator`` itself.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A fitted or unfitted estimator.

    Returns
    -------
    estimator
        The innermost final step, the one that holds the sklstm fitted attributes.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn.linear_model import Ridge
    >>> final_estimator(make_pipeline(FunctionTransformer(), Ridge()))
    Ridge()
    """
    # ``steps`` rather than ``_final_estimator``: it is public and also covers
    # imblearn-style pipelines; the loop unwraps pipelines nested as the last step.
    while hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return estimator


def final_prefix(estimator) -> str:
    """The ``set_params`` prefix of the innermost final step (``""`` for no Pipeline).

    Parameters
    ----------
    estimator : estimator or Pipeline
        Possibly a Pipeline whose last step is itself a Pipeline.

    Returns
    -------
    str
        e.g. ``"model__lstm__"``.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklstm import LSTMClassifier
    >>> inner = Pipeline([("id", FunctionTransformer()), ("lstm", LSTMClassifier())])
    >>> final_prefix(Pipeline([("id", FunctionTransformer()), ("model", inner)]))
    'model__lstm__'
    """
    prefix = ""
    while hasattr(estimator, "steps"):
        name, estimator = estimator.steps[-1]
        prefix += name + "__"
    return prefix


def check_final_lstm(estimator):
    """Refuse an estimator that is no sklstm estimator nor a Pipeline ending in one.

    An Optuna search of sklstm reports the scores of every epoch of the LSTM's fits
    and reads their costs off it; any other estimator (a Pipeline ending in Ridge, an
    LSTM wrapped in a ``TransformedTargetRegressor``) failed with a bare
    ``KeyError: 'max_epochs'``, or with a default space's names "unknown".

    Parameters
    ----------
    estimator : estimator or Pipeline
        The estimator searched.

    Raises
    ------
    TypeError
        Naming what was given and what to do instead.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> check_final_lstm(Ridge())
    Traceback (most recent call last):
    ...
    TypeError: an Optuna search of sklstm searches an sklstm estimator, or a Pipeline ...
    """
    if isinstance(estimator, type):
        # the class, not called: "got ABCMeta" (its metaclass), and no word of the fix
        fix = (f": pass an instance, {estimator.__name__}()" if issubclass(estimator, BaseLSTM)
               else "")
        raise TypeError(f"estimator must be an estimator instance, got the class "
                        f"{estimator.__name__}{fix}")
    final = final_estimator(estimator)
    if isinstance(final, BaseLSTM):
        return
    got = (f"a {type(estimator).__name__} whose last step is {type(final).__name__}"
           if final is not estimator else type(estimator).__name__)
    raise TypeError(
        "an Optuna search of sklstm searches an sklstm estimator, or a Pipeline whose last "
        f"step is one (it scores the LSTM's fits epoch by epoch); got {got}. Make the LSTM "
        "the last step, or search this estimator with scikit-learn's GridSearchCV or "
        "RandomizedSearchCV.")


def check_search_data(estimator, X, y):
    """Refuse ``X`` and ``y`` that every fit of a search would refuse, before it starts.

    The sklstm estimator at the end of ``estimator`` checks them as its ``fit`` would
    (:func:`~sklstm.estimators._data_checks.check_fit_data`: its parameters, NaN, one class,
    ...). In a Pipeline the steps before it are fitted first, on clones
    (``fit_transform`` on all of ``X``, once): their own checks run, and the final
    step checks what it would be given. Nothing is checked for a final step that is
    no sklstm estimator.

    Parameters
    ----------
    estimator : estimator or Pipeline
        The estimator searched, never fitted itself.
    X : array-like
        Sequences ``(n, T, F)`` or ``(n, T)`` (or ragged lists).
    y : array-like
        Targets.

    Returns
    -------
    array-like
        ``X`` as the final step is given it (as the steps before it transform it).

    Raises
    ------
    ValueError, TypeError
        What the final step's ``fit`` would raise about the data or its parameters
        (or what a step before it raises on the data).
    MemoryBudgetError
        The final step's network alone does not fit the memory available.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMClassifier
    >>> check_search_data(LSTMClassifier(), np.zeros((6, 4, 1)), np.zeros(6))
    Traceback (most recent call last):
    ...
    ValueError: LSTMClassifier needs samples of at least 2 classes in y, but y contains ...
    """
    while hasattr(estimator, "steps"):  # a Pipeline, nested ones included
        for _, step in estimator.steps[:-1]:
            if step is not None and step != "passthrough":
                X = copying_inputs(clone(step)).fit_transform(X, y)
        estimator = estimator.steps[-1][1]
    if isinstance(estimator, BaseLSTM):
        check_fit_data(estimator, X, y)
    return X


def copying_inputs(estimator):
    """``estimator`` with every ``copy=False`` of it (its own, its steps') set to True.

    A step of ``copy=False`` (``SequenceScaler(copy=False)``) transforms the data it is
    given in place, and a search hands the same arrays to it more than once: the data
    check scaled the user's own ``X``, and each fold's held-out data was scaled again
    at every epoch's score (a log loss of -18 for -0.25). The results are the same
    either way; only the copies differ.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A clone: it is changed.

    Returns
    -------
    estimator or Pipeline
        ``estimator``.
    """
    # (np.False_ too, which scikit-learn's "boolean" takes: `value is False` missed it,
    # and the data check scaled the user's X in place)
    copying = {name: True for name, value in estimator.get_params(deep=True).items()
               if name.rpartition("__")[2] == "copy" and plain_value(value) is False}
    return estimator.set_params(**copying) if copying else estimator
