"""Choosing robustly on small data: the default folds, the estimator as trial 0, and a
selection that needs more than luck.

With a few dozen samples a 3-fold score moves by several points from one split to the
next, so a search can pick a configuration that is worse than the one it started from
by luck alone (the best of 20 noisy scores is biased upwards). Three things guard
against that:

* ``cv="auto"`` repeats stratified k-fold on small data (:func:`resolve_cv`): more
  folds average the split noise down, at the cost of more fits;
* the estimator's own configuration is the study's first trial
  (:func:`baseline_params`), scored on the same folds as every other;
* :func:`selected_trial` keeps that baseline unless the best trial beats it, fold by
  fold, by more than the standard error of their paired differences (a one-standard-
  error rule); :func:`selected_params` gives its parameters for the refit.

The refit sees all the training data, the folds two thirds of it: what ``"auto"``
sizes from the number of sequences (``LSTMRegressor``'s ``ar_window``) can differ
between them; search such a parameter by named values where it matters.
"""

from __future__ import annotations

import collections
from numbers import Integral, Real

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, IntDistribution
from sklearn.base import is_classifier
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    check_cv,
)

from .._param_validation import plain_value
from .pipeline import final_estimator, final_prefix
from .space import resolve_space

__all__ = ["BASELINE", "SMALL_DATA", "as_param_names", "baseline_params", "resolve_cv",
           "selected_params", "selected_trial"]

#: User attribute of the trial that runs the estimator's own configuration.
BASELINE = "sklstm_baseline"

#: Below this many samples ``cv="auto"`` repeats its folds.
SMALL_DATA = 500


def resolve_cv(cv, estimator, y, random_state=0, groups=None):
    """The splitter ``cv`` stands for; ``"auto"`` picks one by the size of the data.

    Parameters
    ----------
    cv : "auto", int, cross-validation generator or iterable
        ``"auto"``: 3-fold (stratified for classifiers), repeated twice with other
        splits when there are fewer than :data:`SMALL_DATA` samples, or with
        ``groups`` 3-fold that keeps every group in one fold (stratified for
        classifiers, not repeated); a number of folds with ``groups`` that many folds
        keeping every group in one fold (stratified for classifiers); anything else as
        in :func:`sklearn.model_selection.check_cv`.
    estimator : estimator or Pipeline
        Classifiers get stratified folds.
    y : array-like
        Targets (their number decides for ``"auto"``).
    random_state : int, default=0
        Seed of the ``"auto"`` splits: every worker of a study gets the same folds.
    groups : array-like or None, default=None
        The search's group labels: with them, ``"auto"`` is group-aware.

    Returns
    -------
    cross-validation generator
        The splitter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMClassifier
    >>> resolve_cv("auto", LSTMClassifier(), np.arange(60) % 2).get_n_splits()
    6
    >>> resolve_cv("auto", LSTMClassifier(), np.arange(60) % 2, groups=np.arange(60) // 6)
    StratifiedGroupKFold(n_splits=3, random_state=0, shuffle=True)
    """
    classifier = is_classifier(estimator)
    cv = plain_value(cv)  # np.array(3) is a number of folds, not an iterable of splits
    if isinstance(cv, bool):  # scikit-learn took True for 1 fold: "n_splits=1"
        raise TypeError(f"cv must be 'auto', a number of folds (>= 2), a splitter or an "
                        f"iterable of (train, test) splits, got {cv!r}; e.g. cv=3")
    grouped = StratifiedGroupKFold if classifier else GroupKFold
    if groups is not None and isinstance(cv, Integral):
        # a number of folds with groups: check_cv's KFold ignored them (scikit-learn
        # only warned "The groups parameter is ignored by KFold"), and a group's
        # sequences in both halves of a fold scored the search too high
        return grouped(n_splits=cv)
    if not (isinstance(cv, str) and cv == "auto"):
        return check_cv(cv, y, classifier=classifier)
    if groups is not None:
        # the groups were given to keep each one out of its own test fold (a patient's
        # sequences in both halves leak): "auto"'s folds ignored them, with only
        # scikit-learn's warning that they did
        return grouped(n_splits=3, shuffle=True, random_state=random_state)
    if len(y) < SMALL_DATA:
        repeated = RepeatedStratifiedKFold if classifier else RepeatedKFold
        return repeated(n_splits=3, n_repeats=2, random_state=random_state)
    single = StratifiedKFold if classifier else KFold
    return single(n_splits=3, shuffle=True, random_state=random_state)


def baseline_params(resolved_space, estimator):
    """The estimator's own values of the space's sampled parameters, as a trial's params.

    Parameters
    ----------
    resolved_space : dict
        Output of :func:`~sklstm.search.resolve_space`.
    estimator : estimator or Pipeline
        The estimator being tuned.

    Returns
    -------
    dict or None
        ``name -> value`` under the space's names, ready for ``study.enqueue_trial``;
        None when a value lies outside its distribution (the estimator's
        configuration is then not a point of the space).

    Examples
    --------
    >>> from sklstm import LSTMClassifier
    >>> from sklstm.search import resolve_space
    >>> baseline_params(resolve_space({"batch_size": [16, 32]}), LSTMClassifier())
    {'batch_size': 16}
    """
    params = estimator.get_params(deep=True)
    final = final_estimator(estimator).get_params()
    baseline = {}
    for name, (param, dist, _) in resolved_space.items():
        if dist is None:
            continue
        value = plain_value(params.get(param, final.get(name)))
        if isinstance(dist, CategoricalDistribution):
            # the choice itself: dropout=0 is the choice 0.0 of [0.0, 0.2] (the
            # baseline was dropped, its guard against a lucky best trial with it)
            value = next((c for c in dist.choices if _same_choice(value, c)), _OUTSIDE)
        if value is _OUTSIDE or not _inside(dist, value):
            return None
        baseline[name] = value
    return baseline


#: Marks a value that is no choice of a categorical.
_OUTSIDE = object()


def _same_choice(value, choice):
    """Whether ``value`` is ``choice``: equal and of its type, or equal numbers (an int
    and a float); a bool is no number here (Optuna records ``True`` of ``[1, True]`` as
    ``1``)."""
    if value is choice or (type(value) is type(choice) and value == choice):
        return True
    numbers = all(isinstance(v, Real) and not isinstance(v, bool) for v in (value, choice))
    return numbers and value == choice


def _inside(dist, value):
    """Whether ``value`` is a point of the Optuna distribution ``dist``."""
    if isinstance(dist, CategoricalDistribution):
        return any(_same_choice(value, c) for c in dist.choices)
    if isinstance(value, bool) or not isinstance(value, Real):
        return False
    if isinstance(dist, IntDistribution) and not isinstance(value, Integral):
        return False
    if not dist.low <= value <= dist.high:
        return False
    if dist.step is None:
        return True
    # a range with a step holds only low + k * step: a value between them was run as
    # the baseline anyway (Optuna only warns "out of range" for an enqueued value),
    # a point outside the space (the tolerance is Optuna's own, for float rounding)
    steps = (value - dist.low) / dist.step
    return abs(steps - round(steps)) < 1e-8


def selected_trial(study):
    """The trial to use: the best one, unless it beats the baseline only by noise.

    The best complete trial replaces the baseline (the estimator's own configuration,
    the first trial of a :func:`~sklstm.search.tune` study) only when its fold scores
    beat the baseline's on the same folds by more, on average, than the standard
    error of those paired differences. Otherwise the baseline is returned: on small
    data the best of many noisy scores is often a lucky one.

    Parameters
    ----------
    study : optuna.Study
        A single-objective study.

    Returns
    -------
    optuna.trial.FrozenTrial
        The selected trial (``study.best_trial`` when there is no complete baseline).

    Raises
    ------
    ValueError
        A study of several objectives (it has a Pareto front, ``study.best_trials``,
        and no one best trial), or one without a complete trial.

    Examples
    --------
    >>> import optuna
    >>> from sklstm.search import selected_trial
    >>> from sklstm.search.selection import BASELINE
    >>> study = optuna.create_study(direction="maximize")
    >>> study.enqueue_trial({"x": 0.5}, user_attrs={BASELINE: True})
    >>> def objective(trial):
    ...     x = trial.suggest_float("x", 0, 1)
    ...     folds = [x + 0.01, x - 0.01] if trial.number else [0.5, 0.5]
    ...     trial.set_user_attr("fold_scores", folds)
    ...     return sum(folds) / 2
    >>> study.optimize(objective, n_trials=5)
    >>> selected_trial(study).number in [t.number for t in study.trials]
    True
    """
    _check_has_one_best(study)
    best = study.best_trial
    baselines = [t for t in study.get_trials(deepcopy=False)
                 if t.user_attrs.get(BASELINE) and t.state.name == "COMPLETE"]
    if not baselines or best.number == baselines[0].number:
        return best
    baseline = baselines[0]
    a, b = best.user_attrs.get("fold_scores"), baseline.user_attrs.get("fold_scores")
    if not a or not b or len(a) != len(b) or len(a) < 2:
        return best
    # (a study that minimizes: lower scores are gains; the baseline was kept whatever
    # the best trial's lead)
    sign = -1 if study.direction == optuna.study.StudyDirection.MINIMIZE else 1
    gains = sign * np.subtract(a, b)
    standard_error = gains.std(ddof=1) / np.sqrt(len(gains))
    return best if gains.mean() > standard_error else baseline


def _check_has_one_best(study):
    """Refuse, in words, a study that has no best trial (Optuna's own errors say "No
    trials are completed yet." or speak of ``best_trials``)."""
    if len(study.directions) > 1:
        raise ValueError(
            f"study {study.study_name!r} has {len(study.directions)} objectives: no one "
            "trial is best. Choose one of its Pareto front, study.best_trials (listed by "
            "sklstm.search.summary), and refit with its params.")
    if not study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        counts = collections.Counter(t.state.name for t in study.get_trials(deepcopy=False))
        found = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"
        raise ValueError(
            f"study {study.study_name!r} has no complete trial to select (trials: "
            f"{found}); run more trials (see the failed trials' fail_reason).")


def selected_params(study, estimator, space=None):
    """The parameters of :func:`selected_trial`, as ``estimator.set_params`` takes them.

    A trial stores its sampled values under the space's names (``"lr"``, which a
    Pipeline's final step reads as ``"lstm__lr"``) and the space's fixed values under
    the full parameter names (user attribute ``fixed_params``); this joins both, with
    the final step's prefix where a name needs it, for the refit on the whole training
    set.

    Optuna's storages keep user attributes as JSON, so a fixed value that is not JSON
    (an optimizer class such as ``torch.optim.SGD``, a callable) is stored as its
    ``repr``; the refit needs the object. It is taken from ``space``, or from
    ``estimator`` where that holds the same value.

    Parameters
    ----------
    study : optuna.Study
        A single-objective study of :func:`~sklstm.search.tune` or
        :class:`~sklstm.search.CVObjective`.
    estimator : estimator or Pipeline
        The estimator that was searched.
    space : dict or None, default=None
        The space that was searched: its fixed values replace the study's ``repr`` of
        those that are not JSON.

    Returns
    -------
    dict
        ``param -> value``.

    Raises
    ------
    ValueError
        A fixed value the study holds only as a ``repr`` that neither ``space`` nor
        ``estimator`` has: pass the space.

    Examples
    --------
    >>> import optuna
    >>> from sklearn.base import clone
    >>> from sklearn.pipeline import Pipeline
    >>> from sklstm import LSTMClassifier, datasets
    >>> from sklstm.preprocessing import SequenceScaler
    >>> from sklstm.search import tune
    >>> X, y = datasets.make_sequence_classification(60, 5, 2, 2, random_state=0)
    >>> pipe = Pipeline([("scale", SequenceScaler()),
    ...                  ("lstm", LSTMClassifier(hidden_size=4, random_state=0))])
    >>> study = tune(pipe, X, y, n_trials=2, cv=2, storage=optuna.storages.InMemoryStorage(),
    ...              space={"batch_size": [16, 32], "max_epochs": 2})
    >>> params = selected_params(study, pipe)
    >>> sorted(params)
    ['lstm__batch_size', 'lstm__max_epochs']
    >>> model = clone(pipe).set_params(**params).fit(X, y)
    """
    trial = selected_trial(study)
    return {**as_param_names(trial.params, estimator),
            **_fixed_params(trial, estimator, space)}


def as_param_names(values, estimator):
    """``values`` under the parameter names ``estimator.set_params`` takes: a space's
    name that is no parameter of a Pipeline gets its final step's prefix.

    Parameters
    ----------
    values : dict
        ``space name or parameter name -> value``.
    estimator : estimator or Pipeline
        The estimator that was searched.

    Returns
    -------
    dict
        ``parameter name -> value``, in the order of ``values``.
    """
    names, prefix = estimator.get_params(deep=True), final_prefix(estimator)
    return {name if name in names else prefix + name: value for name, value in values.items()}


#: The user attribute of a trial that lists the fixed values ``fixed_params`` holds only
#: as their ``repr``: Optuna's storages keep user attributes as JSON.
FIXED_AS_REPR = "fixed_params_as_repr"


def _fixed_params(trial, estimator, space):
    """The fixed values of ``trial``, each one stored as its ``repr`` replaced by the
    object of ``space`` or of ``estimator`` that it was stored from."""
    fixed = dict(trial.user_attrs.get("fixed_params", {}))
    as_repr = trial.user_attrs.get(FIXED_AS_REPR, [])
    sources = [estimator.get_params(deep=True)]
    if space is not None and as_repr:
        sources.insert(0, {param: value for param, dist, value
                           in resolve_space(space, estimator).values() if dist is None})
    missing = []
    for param in as_repr:
        originals = [source[param] for source in sources
                     if param in source and repr(source[param]) == fixed[param]]
        if originals:
            fixed[param] = originals[0]
        else:
            missing.append(param)
    if missing:
        raise ValueError(
            f"the study holds the fixed value of {', '.join(map(repr, missing))} only as "
            f"its repr, {', '.join(repr(fixed[param]) for param in missing)} (Optuna "
            "stores JSON): pass the space that was searched, "
            "selected_params(study, estimator, space=space), or an estimator set to that "
            "value.")
    return fixed
