"""Scorers that carry each fit's cost (time, memory, optimizer steps) into ``cv_results_``.

Every sklstm fit records ``fit_time_``, ``peak_memory_`` and ``n_updates_``. scikit-learn's
searches only keep what a *scorer* returns, so the cheapest way to get these numbers next to
the scores, per fold and per candidate, is a scorer that ignores ``X``/``y`` and reads the
attribute off the fitted estimator. The search then aggregates them like any other metric
(``mean_test_fit_time``, ``std_test_peak_memory``, ...).

The values are costs, kept positive (seconds, bytes, steps) so that they read and plot as
they are; but scikit-learn ranks every scorer greater-is-better, so their ``rank_test_*``
columns give rank 1 to the *costliest* candidate, and a stat named as ``refit`` would pick
it. :func:`fit_stats_scorers` says how to select by cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from sklearn.metrics import get_scorer

__all__ = [
    "FIT_STATS",
    "FitStatScorer",
    "check_multi_objective",
    "fit_stats",
    "fit_stats_scorers",
    "objective_directions",
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


def objective_directions(multi_objective=None) -> list[str]:
    """Study directions: the score is maximized (scikit-learn scorers are greater-is-better),
    a fit cost minimized.

    Examples
    --------
    >>> objective_directions("fit_time")
    ['maximize', 'minimize']
    """
    check_multi_objective(multi_objective)
    return ["maximize"] + (["minimize"] if multi_objective else [])


#: Fitted attributes of scikit-learn's meta-estimators that hold the one estimator they
#: fitted: ``TransformedTargetRegressor``'s, ``SelfTrainingClassifier``'s or ``RFE``'s,
#: a nested search's refit.
_FITTED_INNER = ("regressor_", "estimator_", "best_estimator_")


def _fitted_final(estimator):
    """The fitted estimator at the end of ``estimator``: the last step of a Pipeline, or
    the one estimator a fitted meta-estimator holds (nested in any order).

    The fit costs of an LSTM in a ``TransformedTargetRegressor`` (targets scaled) were
    NaN in ``cv_results_``, with a "Scoring failed" warning for every fold: the
    wrapper has no ``fit_time_``, the fitted ``regressor_`` it holds has.
    """
    # imported here: .pipeline imports the estimators (torch), and ``sklstm tune --help``
    # reads FIT_STATS from this module
    from .pipeline import final_estimator

    while True:
        estimator = final_estimator(estimator)
        inner = next((getattr(estimator, name) for name in _FITTED_INNER
                      if hasattr(estimator, name)), None)
        if inner is None or inner is estimator:
            return estimator
        estimator = inner


def _fitted_finals(estimator):
    """The fitted sklstm estimators whose fits make up that of ``estimator``: the one
    :func:`_fitted_final` finds, or those of a meta-estimator that fits one per output.

    ``MultiOutputClassifier(LSTMClassifier())``, the way to several labels per sequence
    that ``LSTMClassifier`` itself names, holds its fitted LSTMs in ``estimators_``: its
    fit costs were NaN, with a "Scoring failed" warning for every fold.
    """
    final = _fitted_final(estimator)
    inner = getattr(final, "estimators_", None)
    if hasattr(final, FIT_STATS[0] + "_") or not isinstance(inner, list) or not inner:
        return [final]
    return [each for one in inner for each in _fitted_finals(one)]


def _fit_stat(estimator, stat):
    """One fit cost of ``estimator``: of its several LSTMs, the sum of their times and
    updates (fitted one after another), the largest of their peaks (None: one has none)."""
    values = [getattr(final, stat + "_") for final in _fitted_finals(estimator)]
    if len(values) == 1:
        return values[0]
    if stat == "peak_memory":
        return None if None in values else max(values)
    return sum(values)


def fit_stats(estimator):
    """Read the fit cost attributes off a fitted sklstm estimator or Pipeline.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        Its final step must be a fitted sklstm estimator, or a fitted meta-estimator
        that holds one (``TransformedTargetRegressor``'s ``regressor_``) or one per
        output (``MultiOutputClassifier``'s ``estimators_``).

    Returns
    -------
    dict
        ``{"fit_time": seconds, "peak_memory": bytes, "n_updates": optimizer steps}``;
        of several LSTMs, the sums of their times and updates, the largest peak.

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
    return {name: _fit_stat(estimator, name) for name in FIT_STATS}


class FitStatScorer:
    """Scorer returning one fit cost attribute of the estimator it is given.

    The cost is positive and lower is better, so it is a column to read, not a score
    to optimize: scikit-learn, which maximizes every scorer, would select the
    costliest candidate by it (see :func:`fit_stats_scorers`).

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
        value = _fit_stat(estimator, self.stat)
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
        if not scoring:  # (as an empty list: only the costs, no metric to refit by)
            raise ValueError("scoring={} names no metric: give None (the estimator's score), "
                             "a scorer name, or a dict of them")
        # plain str names, as for a list (np.str_ keys named the cv_results_ columns)
        return {str(name): get_scorer(s) if isinstance(s, str) else s
                for name, s in scoring.items()}
    if isinstance(scoring, Iterable):
        names = list(scoring)
        # (empty, no metric was left for refit="score"; a repeated name was dropped)
        if not names or not all(isinstance(name, str) for name in names) \
                or len(set(names)) < len(names):
            raise ValueError(f"a list of scorings must hold distinct scorer names, got "
                             f"{names!r}")
        # plain str keys (a numpy array of names gave np.str_ ones), as for stats
        return {str(name): get_scorer(name) for name in names}
    raise ValueError(f"scoring must be None, a str, a callable, a list or a dict, got {scoring!r}")


def fit_stats_scorers(scoring=None, stats: Iterable[str] = FIT_STATS) -> dict[str, Callable]:
    """Multi-metric ``scoring`` dict: your score(s) plus the fit cost of every fit.

    Pass the result as ``scoring`` to :class:`~sklearn.model_selection.GridSearchCV`,
    :class:`~sklearn.model_selection.RandomizedSearchCV` or
    :func:`~sklearn.model_selection.cross_validate`. ``cv_results_`` then holds
    ``mean_test_fit_time`` (the estimator's own ``fit_time_``, training loop only),
    ``mean_test_peak_memory`` and ``mean_test_n_updates`` per candidate. The search needs
    ``refit="score"`` (or the name of one of your metrics) because it is multi-metric.

    The costs are positive, lower is better, while scikit-learn takes every scorer as
    greater-is-better: ``rank_test_fit_time``, ``rank_test_peak_memory`` and
    ``rank_test_n_updates`` give rank 1 to the *costliest* candidate, and
    ``refit="fit_time"`` would refit the slowest one. Name a score as ``refit``; to
    select by cost, give a callable ``refit`` that reads the ``mean_test_*`` columns
    and returns the index of the candidate to refit (below: the fewest updates; the
    user guide's :ref:`hyperparameter_search` takes the fastest fit among the
    candidates whose score is close to the best).

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

    Selecting by cost, with a callable ``refit`` (rank 1 of a cost is its largest):

    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklstm import LSTMClassifier
    >>> from sklstm.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(40, 5, 2, 2, random_state=0)
    >>> def fewest_updates(results):
    ...     return int(np.argmin(results["mean_test_n_updates"]))
    >>> search = GridSearchCV(LSTMClassifier(hidden_size=4, max_epochs=1, tol=None,
    ...                                      random_state=0, device="cpu"),
    ...                       {"batch_size": [4, 8], "seq_len": [2, 5]}, cv=2,
    ...                       scoring=fit_stats_scorers("accuracy", stats="n_updates"),
    ...                       refit=fewest_updates).fit(X, y)
    >>> search.cv_results_["mean_test_n_updates"].tolist()
    [5.0, 5.0, 3.0, 3.0]
    >>> search.cv_results_["rank_test_n_updates"].tolist()  # rank 1: the most updates
    [1, 1, 3, 3]
    >>> search.best_params_
    {'batch_size': 8, 'seq_len': 2}
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

