"""Reaching the sklstm estimator at the end of a (possibly nested) Pipeline."""

from __future__ import annotations

__all__ = ["final_estimator", "final_prefix"]


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
