"""Whether a scoring can score the estimator searched and its targets, checked before
a search starts.

A metric of another kind of task (``accuracy`` for a regressor, ``r2`` for a
classifier), one that the targets refuse (a binary metric of three classes, a
deviance of negative targets), or one that ranks no model above another
(``top_k_accuracy`` of two classes) failed or scored nonsense in every trial, after
the study had been created: :func:`check_scoring_kind` refuses it first, naming the
scorers that fit.
"""

from __future__ import annotations

import difflib
import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    is_classifier,
    is_regressor,
)
from sklearn.metrics import get_scorer, get_scorer_names

from .._compat.sklearn import scorer_metric_kind, scorer_signs
from .pipeline import final_estimator

__all__ = ["check_scoring_kind", "scorer_names_for"]


#: The metric kinds that score an estimator's predictions: clustering metrics compare
#: labels up to their names, which fits classes but not continuous targets.
_KINDS_FOR = {"classifier": ("classification", "clustering"), "regressor": ("regression",)}


def scorer_names_for(estimator_kind):
    """The scikit-learn scorer names whose metric fits an estimator of this kind.

    Parameters
    ----------
    estimator_kind : {"classifier", "regressor"}
        The estimator's kind.

    Returns
    -------
    list of str
        All scorer names where the kinds cannot be read (an unverified scikit-learn).

    Examples
    --------
    >>> "r2" in scorer_names_for("regressor"), "accuracy" in scorer_names_for("regressor")
    (True, False)
    """
    kinds = _KINDS_FOR[estimator_kind]
    names = [name for name in get_scorer_names()
             if scorer_metric_kind(get_scorer(name)) in kinds]
    return names or list(get_scorer_names())


def check_scoring_kind(estimator, scoring, y=None):
    """Refuse a ``scoring`` that is no scorer name, or whose metric cannot score
    ``estimator``: a classification metric for a regressor, or the other way round,
    or one that the targets refuse: for a classifier, its classes (a binary metric of
    three classes, ``pos_label=1`` of text labels), for a regressor, their values (a
    deviance or a logarithmic error of negative targets).

    Such a scoring failed (``accuracy`` on continuous targets, ``f1`` of three classes,
    ``neg_mean_poisson_deviance`` of negative targets) or gave numbers without meaning
    (``r2`` of class labels, ``adjusted_rand_score`` of real values) in every trial of a
    search, after the study had been created.

    Parameters
    ----------
    estimator : estimator or Pipeline
        The estimator scored; one that is neither a classifier nor a regressor is not
        checked.
    scoring : str, callable or None
        A scikit-learn scorer name or scorer, or any callable (a callable whose metric
        scikit-learn does not define is not checked), or None (``estimator.score``).
    y : array-like or None, default=None
        The targets. A classifier's: the metric scores predictions of every label
        right (of one sample per class and per label, twice), and one it fails on
        fails on any prediction. A regressor's: the metric scores predictions that
        every regression metric takes (``|y| + 1``), and one it fails on fails on
        any prediction. None: not tried.

    Returns
    -------
    str, callable or None
        ``scoring``.

    Raises
    ------
    ValueError
        An unknown scorer name, a metric of another kind of task, one the targets
        refuse, or one that scores wrong answers of the classes as high as right ones
        (``top_k_accuracy`` of two classes), with the names that fit; a ``make_scorer``
        of one of scikit-learn's metrics that maximizes an error or minimizes a score
        (``make_scorer(mean_squared_error)``), naming the scorer to give.

    Examples
    --------
    >>> from sklstm import LSTMRegressor
    >>> check_scoring_kind(LSTMRegressor(), "r2")
    'r2'
    >>> check_scoring_kind(LSTMRegressor(), "accuracy")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: scoring 'accuracy' is a classification metric, but LSTMRegressor is a ...
    """
    estimator_kind = ("classifier" if is_classifier(estimator)
                      else "regressor" if is_regressor(estimator) else None)
    names = None if estimator_kind is None else scorer_names_for(estimator_kind)
    fits = ("sklearn.metrics.get_scorer_names()" if names is None else
            f"the scorers for a {estimator_kind}: {', '.join(names)}")
    if isinstance(scoring, str) and scoring not in get_scorer_names():
        close = difflib.get_close_matches(scoring, names or get_scorer_names(), n=3)
        hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
        raise ValueError(f"scoring {scoring!r} is not a scikit-learn scorer name; {hint}"
                         f"give one of {fits}")
    if scoring is None:
        return scoring
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    _check_sign(scorer, scoring)
    if estimator_kind is None:
        return scoring
    kind = scorer_metric_kind(scorer)
    if kind is None:
        return scoring
    if kind in _KINDS_FOR[estimator_kind]:
        classifier = estimator_kind == "classifier"
        fails = _fails_on_labels if classifier else _fails_on_targets
        error = fails(scorer, y)
        if error is None and classifier and kind == "classification" and _blind(scorer, y):
            fits = [name for name in names if fails(get_scorer(name), y) is None
                    and not _blind(get_scorer(name), y)]
            raise ValueError(
                f"scoring {scoring!r} scores predictions that are all wrong as high as right "
                f"ones on these {len(np.unique(y))} classes (as top_k_accuracy does where k "
                "is at least the number of classes), so every trial would score the same. "
                "Leave scoring out (the estimator's score method) or give one of: "
                f"{', '.join(fits)}")
        if error is None:
            return scoring
        fits = [name for name in names if fails(get_scorer(name), y) is None]
        why = ("classes ({error}): it fails even on predictions that are all right" if classifier
               else "targets ({error}): it fails on them whatever the predictions")
        raise ValueError(
            f"scoring {scoring!r} cannot score these {why.format(error=error)}, and so "
            "would every trial. Leave scoring out (the estimator's score method) or give "
            f"one of the scorers for them: {', '.join(fits)}")
    raise ValueError(
        f"scoring {scoring!r} is a {kind} metric, but {type(final_estimator(estimator)).__name__}"
        f" is a {estimator_kind}: every trial would fail or score nonsense. Leave scoring out "
        f"(the estimator's score method) or give one of {fits}")


def _check_sign(scorer, scoring):
    """Refuse a ``make_scorer`` that maximizes a loss or minimizes a score.

    ``make_scorer(mean_squared_error)`` (``greater_is_better=True``, the default) is
    a scorer of the error itself: the search, which maximizes the score, sought the
    worst model, and its pruner stopped the good ones. scikit-learn's own scorers say
    which way each of its metrics goes (``neg_mean_squared_error``); a scorer of one of
    them with the other sign is refused (:func:`~sklstm._compat.sklearn.scorer_signs`).
    """
    signs = scorer_signs(scorer)
    if signs is None or signs[0] == signs[3]:
        return
    sign, func, name, _ = signs
    loss = sign > 0  # scikit-learn's scorer of this metric negates it: a loss
    raise ValueError(
        f"scoring {scoring!r} {'maximizes' if loss else 'minimizes'} "
        f"{func}, {'an error: lower' if loss else 'a score: greater'} is "
        f"better, so the search would seek the worst model. Give scoring={name!r}, "
        f"or make_scorer({func}, greater_is_better={not loss})")


class _Answers(BaseEstimator):
    """A "fitted" estimator whose predictions of the sample indices ``X`` are
    ``answers[X]`` (built fitted: ``fit`` does nothing)."""

    def __init__(self, answers=None):
        self.answers = answers

    def fit(self, X=None, y=None):  # (sklearn's API)
        return self

    def predict(self, X):
        return self.answers[X]


class _RightAnswers(ClassifierMixin, _Answers):
    """A classifier whose answers are right: the labels, and certain probabilities
    and decision values of them."""

    def predict_proba(self, X):
        return (self.answers[X][:, None] == self.classes_).astype(float)

    def decision_function(self, X):
        proba = self.predict_proba(X)
        return proba[:, 1] - proba[:, 0] if len(self.classes_) == 2 else proba


def _fails_on_labels(scorer, y):
    """The error ``scorer`` raises on right answers about the classes of ``y``
    (each one twice), or None; None too where ``y`` is no 1-D array of labels."""
    if y is None or np.ndim(y) != 1:
        return None
    try:
        classes = np.unique(np.asarray(y))
    except TypeError:  # labels that do not sort (None beside text): the data check says
        return None
    oracle = _RightAnswers(np.repeat(classes, 2))
    oracle.classes_ = classes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (ill-defined scores of tiny data)
            scorer(oracle, np.arange(len(oracle.answers)), oracle.answers)
    except (ValueError, TypeError) as exc:
        return " ".join(str(exc).split())
    return None


def _blind(scorer, y):
    """Whether ``scorer`` scores answers that are all wrong (each sample's label that of
    another class) as high as right ones of the classes of ``y``: a score that cannot
    rank models, as ``top_k_accuracy`` (k=2) of two classes, 1.0 for any model.

    Clustering metrics are not asked: they compare labels up to their names, and the
    wrong answers are the right ones renamed.
    """
    if y is None or np.ndim(y) != 1:
        return False
    try:
        classes = np.unique(np.asarray(y))
    except TypeError:
        return False
    right = _RightAnswers(np.repeat(classes, 2))
    wrong = _RightAnswers(np.roll(right.answers, 2))  # every label another class's
    right.classes_ = wrong.classes_ = classes
    samples = np.arange(len(right.answers))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return not scorer(right, samples, right.answers) > scorer(wrong, samples,
                                                                       right.answers)
    except (ValueError, TypeError):  # (_fails_on_labels says)
        return False


class _Predicts(RegressorMixin, _Answers):
    """A regressor whose predictions are the given ones."""


def _fails_on_targets(scorer, y):
    """The error ``scorer`` raises on the regression targets ``y`` whatever the
    predictions, or None; None too where ``y`` is no finite array of numbers (the
    data check says).

    The predictions are ``|y| + 1``, ones every regression metric takes (positive, for
    the deviances; above -1, for the logarithmic errors): a failure is the targets'
    (a deviance or a logarithmic error of negative targets).
    """
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        return None
    if y.ndim not in (1, 2) or not len(y) or not np.isfinite(y).all():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scorer(_Predicts(np.abs(y) + 1), np.arange(len(y)), y)
    except (ValueError, TypeError) as exc:
        return " ".join(str(exc).split())
    return None
