"""Scorers that carry each fit's cost (time, memory, optimizer steps) into ``cv_results_``.

Every sklstm fit records ``fit_time_``, ``peak_memory_`` and ``n_updates_``. scikit-learn's
searches only keep what a *scorer* returns, so the cheapest way to get these numbers next to
the scores, per fold and per candidate, is a scorer that ignores ``X``/``y`` and reads the
attribute off the fitted estimator. The search then aggregates them like any other metric
(``mean_test_fit_time``, ``std_test_peak_memory``, ...).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Iterable, Mapping

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, is_classifier, is_regressor
from sklearn.metrics import get_scorer, get_scorer_names

from .._compat.sklearn import scorer_metric_kind
from .pipeline import final_estimator

__all__ = [
    "FIT_STATS",
    "FitStatScorer",
    "check_multi_objective",
    "check_scoring_kind",
    "fit_stats",
    "fit_stats_scorers",
    "scorer_names_for",
]

#: Fitted attributes (without the trailing underscore) every sklstm estimator records.
FIT_STATS = ("fit_time", "peak_memory", "n_updates")


def check_multi_objective(multi_objective):
    """Return ``multi_objective`` if it is None or one of :data:`FIT_STATS`, else raise.

    Parameters
    ----------
    multi_objective : str or None
        The fit cost minimized beside the score.

    Returns
    -------
    str or None
        ``multi_objective``.

    Examples
    --------
    >>> check_multi_objective("n_updates")
    'n_updates'
    """
    if multi_objective not in (None, *FIT_STATS):
        raise ValueError(
            f"multi_objective must be None or one of {FIT_STATS}, got {multi_objective!r}"
        )
    return multi_objective


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
    or for a classifier one that its classes refuse (a binary metric of three
    classes, ``pos_label=1`` of text labels).

    Such a scoring failed (``accuracy`` on continuous targets, ``f1`` of three classes)
    or gave numbers without meaning (``r2`` of class labels, ``adjusted_rand_score`` of
    real values) in every trial of a search, after the study had been created.

    Parameters
    ----------
    estimator : estimator or Pipeline
        The estimator scored; one that is neither a classifier nor a regressor is not
        checked.
    scoring : str, callable or None
        A scikit-learn scorer name or scorer, or any callable (a callable whose metric
        scikit-learn does not define is not checked), or None (``estimator.score``).
    y : array-like of shape (n_samples,) or None, default=None
        A classifier's targets: the metric scores predictions of every label right
        (of one sample per class and per label, twice), and one it fails on fails
        on any prediction. None: not tried.

    Returns
    -------
    str, callable or None
        ``scoring``.

    Raises
    ------
    ValueError
        An unknown scorer name, or a metric of another kind of task, with the names
        that fit the estimator.

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
    if scoring is None or estimator_kind is None:
        return scoring
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    kind = scorer_metric_kind(scorer)
    if kind is None:
        return scoring
    if kind in _KINDS_FOR[estimator_kind]:
        error = _fails_on_labels(scorer, y) if estimator_kind == "classifier" else None
        if error is None:
            return scoring
        fits = [name for name in names if _fails_on_labels(get_scorer(name), y) is None]
        raise ValueError(
            f"scoring {scoring!r} cannot score these classes ({error}): it fails even on "
            "predictions that are all right, and so would every trial. Leave scoring out "
            f"(the estimator's score method) or give one of the scorers for them: "
            f"{', '.join(fits)}")
    raise ValueError(
        f"scoring {scoring!r} is a {kind} metric, but {type(final_estimator(estimator)).__name__}"
        f" is a {estimator_kind}: every trial would fail or score nonsense. Leave scoring out "
        f"(the estimator's score method) or give one of {fits}")


class _RightAnswers(ClassifierMixin, BaseEstimator):
    """A "fitted" classifier whose answers to the sample indices ``X`` are right: its
    labels, and certain probabilities and decision values of them."""

    def __init__(self, y=None):
        self.y = y

    def fit(self, X=None, y=None):  # (sklearn's API; it is built "fitted")
        return self

    def predict(self, X):
        return self.y[X]

    def predict_proba(self, X):
        return (self.y[X][:, None] == self.classes_).astype(float)

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
            scorer(oracle, np.arange(len(oracle.y)), oracle.y)
    except (ValueError, TypeError) as exc:
        return " ".join(str(exc).split())
    return None


def fit_stats(estimator):
    """Read the fit cost attributes off a fitted sklstm estimator or Pipeline.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        Its final step must be a fitted sklstm estimator.

    Returns
    -------
    dict
        ``{"fit_time": seconds, "peak_memory": bytes, "n_updates": optimizer steps}``.

    Raises
    ------
    AttributeError
        If the final step does not have the attributes (not fitted, or not sklstm).

    Examples
    --------
    >>> from sklstm import LSTMClassifier
    >>> from sklstm.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(40, 5, 2, 2, random_state=0)
    >>> clf = LSTMClassifier(hidden_size=4, max_epochs=1, random_state=0).fit(X, y)
    >>> sorted(fit_stats(clf))
    ['fit_time', 'n_updates', 'peak_memory']
    """
    final = final_estimator(estimator)
    return {name: getattr(final, name + "_") for name in FIT_STATS}


class FitStatScorer:
    """Scorer returning one fit cost attribute of the estimator it is given.

    A plain class (not a closure) so that it pickles for joblib's process-based
    backends and repr()s readably in ``cv_results_``-related errors.

    Parameters
    ----------
    stat : {"fit_time", "peak_memory", "n_updates"}
        The attribute to report (the trailing underscore is added).

    Examples
    --------
    >>> FitStatScorer("fit_time")
    FitStatScorer('fit_time')
    """

    def __init__(self, stat: str):
        if stat not in FIT_STATS:
            raise ValueError(f"stat must be one of {FIT_STATS}, got {stat!r}")
        self.stat = stat

    def __call__(self, estimator, X=None, y=None, **kwargs) -> float:
        value = getattr(final_estimator(estimator), self.stat + "_")
        # peak_memory_ is None where it cannot be measured (no /proc): NaN keeps the
        # column numeric and nan-aware aggregates working.
        return float("nan") if value is None else float(value)

    def __repr__(self) -> str:
        return f"FitStatScorer({self.stat!r})"


def _estimator_score(estimator, X, y=None, **kwargs) -> float:
    # Same as scoring=None in scikit-learn: the estimator's own ``score`` method.
    return estimator.score(X, y, **kwargs)


def _as_scorer_dict(scoring) -> dict[str, Callable]:
    if scoring is None:
        return {"score": _estimator_score}
    if isinstance(scoring, str):
        return {"score": get_scorer(scoring)}
    if callable(scoring):
        return {"score": scoring}
    if isinstance(scoring, Mapping):
        return {name: get_scorer(s) if isinstance(s, str) else s for name, s in scoring.items()}
    if isinstance(scoring, Iterable):
        names = list(scoring)
        # (empty, no metric was left for refit="score"; a repeated name was dropped)
        if not names or not all(isinstance(name, str) for name in names) \
                or len(set(names)) < len(names):
            raise ValueError(f"a list of scorings must hold distinct scorer names, got "
                             f"{names!r}")
        return {name: get_scorer(name) for name in names}
    raise ValueError(f"scoring must be None, a str, a callable, a list or a dict, got {scoring!r}")


def fit_stats_scorers(scoring=None, stats: Iterable[str] = FIT_STATS) -> dict[str, Callable]:
    """Multi-metric ``scoring`` dict: your score(s) plus the fit cost of every fit.

    Pass the result as ``scoring`` to :class:`~sklearn.model_selection.GridSearchCV`,
    :class:`~sklearn.model_selection.RandomizedSearchCV` or
    :func:`~sklearn.model_selection.cross_validate`. ``cv_results_`` then holds
    ``mean_test_fit_time`` (the estimator's own ``fit_time_``, training loop only),
    ``mean_test_peak_memory`` and ``mean_test_n_updates`` per candidate. The search needs
    ``refit="score"`` (or the name of one of your metrics) because it is multi-metric.

    ``Halving*SearchCV`` accept a single score only; they still report scikit-learn's own
    ``mean_fit_time``.

    Parameters
    ----------
    scoring : None, str, callable, list of str or dict, default=None
        The score(s) to optimize. A single score (None means the estimator's ``score``) is
        named ``"score"``; lists and dicts keep their names.
    stats : str or iterable of str, default=("fit_time", "peak_memory", "n_updates")
        Which fit costs to add; a single name adds that one.

    Returns
    -------
    dict
        Metric name -> scorer callable.

    Raises
    ------
    ValueError
        If a name is unknown or a score is named like one of ``stats``.

    Examples
    --------
    >>> sorted(fit_stats_scorers("accuracy"))
    ['fit_time', 'n_updates', 'peak_memory', 'score']
    >>> sorted(fit_stats_scorers(["accuracy", "f1_macro"], stats=["fit_time"]))
    ['accuracy', 'f1_macro', 'fit_time']
    >>> sorted(fit_stats_scorers("accuracy", stats="n_updates"))
    ['n_updates', 'score']
    """
    scorers = _as_scorer_dict(scoring)
    if isinstance(stats, str):  # one name, not its letters ("stat must be ..., got 'f'")
        stats = [stats]
    for stat in map(str, stats):  # (np.str_ names too, as plain str keys)
        if stat in scorers:
            repeated = isinstance(scorers[stat], FitStatScorer)
            raise ValueError(f"stats names {stat!r} twice" if repeated else
                             f"scoring already has a metric named {stat!r}; rename it")
        scorers[stat] = FitStatScorer(stat)
    return scorers

