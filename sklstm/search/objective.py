"""Cross-validated Optuna objective for sklstm estimators, with per-epoch pruning.

Why not :func:`sklearn.model_selection.cross_validate`: pruning needs the *current* fold's
validation score after every epoch, so the reporting callback must hold the very estimator
being fitted and that fold's held-out data. ``cross_validate`` clones internally and never
exposes either, so the folds are run here (with scikit-learn's ``check_cv``, ``clone`` and
``check_scoring``).

Pruning steps are global across folds: epoch ``e`` of fold ``k`` is reported as step
``k * max_epochs + e``, with the largest ``max_epochs`` of the space where it is searched.
Trials are thus compared fold by fold at the same epoch, and a trial that falls behind in
fold 0 is stopped before its remaining folds run.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import optuna
from sklearn.base import clone
from sklearn.metrics import check_scoring

from .._compat.sklearn import safe_indexing
from ..estimators._data_checks import check_finite_targets
from ..training.interrupts import ctrl_c_pending
from .duplicates import finished_twin, replay
from .epoch_reporter import (
    CALLBACK_NAME,
    EpochScoreReporter,
    convergence_warnings_held,
    fold_convergence,
    record_convergence,
    warn_unconverged,
)
from .metrics import FIT_STATS, check_multi_objective, fit_stats, objective_directions
from .objective_checks import (
    check_cost_measured,
    check_no_checkpoint,
    check_training_classes,
    cv_splits,
    most_epochs,
)
from .pipeline import (
    check_final_lstm,
    check_search_data,
    copying_inputs,
    final_estimator,
    final_prefix,
)
from .scoring_kind import check_scoring_kind
from .selection import FIXED_AS_REPR, resolve_cv
from .space import fit_conv_widths, resolve_space, sample_resolved
from .trial_attrs import FAIL_REASON, WORKER, mark_interrupted, worker_name

__all__ = ["CVObjective", "checked_objective", "make_objective"]


def _json_safe(value):
    """``value`` where Optuna's storages keep it as it is (as JSON), else its ``repr``.

    A value that JSON only writes is not kept: a dict's int keys come back as str (a
    fixed ``class_weight={0: 1, 1: 5}`` was refitted as ``{"0": 1, "1": 5}``, which
    fits no label) and a tuple as a list; the ``repr`` is listed in
    ``fixed_params_as_repr`` for :func:`~sklstm.search.selected_params` to put the
    object back.
    """
    try:
        if json.loads(json.dumps(value)) == value:
            return value
    except (TypeError, ValueError):
        pass
    return repr(value)


class CVObjective:
    """Optuna objective: k-fold CV score of ``estimator`` with parameters from ``space``.

    ``objective(trial)`` runs one sampled configuration; :data:`make_objective` is
    the same class under the name used in user code.

    Each trial clones the estimator (or Pipeline) per fold, sets the sampled parameters,
    fits and scores. With ``report_every_epoch`` a skorch callback on the final LSTM step
    reports the fold's validation score after every epoch, so the study's pruner (Median,
    Hyperband, SuccessiveHalving, ...) can stop a bad trial mid-fold; it then ends PRUNED.
    A trial whose fit raises ends FAIL, with ``fail_reason`` in its user attributes.
    The study must maximize the score (``direction="maximize"``; with
    ``multi_objective``, ``directions=["maximize", "minimize"]``): one of other
    directions, Optuna's default included, is refused with a ValueError at its first
    trial, before anything is fitted.

    User attributes of every trial: ``fold_scores``, ``mean_fit_time`` (s),
    ``mean_peak_memory`` (bytes), ``mean_n_updates`` (over the folds that finished),
    ``fixed_params`` (the space's fixed values; one that is not JSON, such as an
    optimizer class, as its ``repr``, listed in ``fixed_params_as_repr``, for
    :func:`~sklstm.search.selected_params` to put back) and ``worker``
    (``host:pid``), ``folds_not_converged`` (``"2 of 3"``; with the first such fold's
    ``convergence_warning``: the warnings of the folds' fits are held, and said once per
    objective); a reused duplicate (``reuse_duplicates``) has ``duplicate_of``.

    Parameters
    ----------
    estimator : estimator or Pipeline
        An sklstm estimator, or a Pipeline whose last step is one; it is cloned for
        every fold and never fitted itself.
    X, y : array-like
        Sequences ``(n, T, F)`` or ``(n, T)`` (or ragged lists) and targets.
    cv : "auto", int, cross-validation generator or iterable, default="auto"
        ``"auto"``: 3-fold, stratified for classifiers, repeated twice on other splits
        below 500 samples, or with ``groups`` keeping each group in one fold
        (:func:`~sklstm.search.selection.resolve_cv`); an int with ``groups`` is that
        many folds keeping each group in one; otherwise as in scikit-learn.
        The folds are fixed at creation.
    scoring : str, callable or None, default=None
        One scikit-learn score, greater is better; None uses ``estimator.score``.
    space : dict or None, default=None
        Search space (see :mod:`sklstm.search.space`); None means the default space.
    report_every_epoch : bool, default=True
        Report per-epoch scores for pruning. Ignored (with a warning) for multi-objective.
    multi_objective : {None, "fit_time", "peak_memory", "n_updates"}, default=None
        Also return this fit cost (mean over folds, minimized) as a second objective; use
        a study with ``directions=["maximize", "minimize"]``.
    groups : array-like of shape (n_samples,) or None, default=None
        Group labels for group-aware ``cv``.
    reuse_duplicates : bool, default=True
        When a trial samples the same parameters as a finished (complete or pruned) trial
        of the study, end it as that trial ended instead of fitting again. Only done when
        the LSTM has an int ``random_state``: fits on the fixed folds are then
        reproducible, so the refit would only repeat the result. With
        ``random_state=None`` every duplicate is a fresh draw and is fitted. On small
        discrete spaces samplers propose many duplicates, so this saves a large share of
        a study's time.

    Attributes
    ----------
    space : dict
        The space resolved by :func:`~sklstm.search.resolve_space`.
    scorer_ : callable
        The scikit-learn scorer.
    splits_ : list of (train, test) index arrays
        The folds, fixed at creation: every trial is scored on the same ones.

    Raises
    ------
    ValueError
        For an empty space, unknown parameter names, a ``checkpoint`` directory on the
        LSTM (every fit of the search would share it), or a ``scoring`` that is no
        scorer name or whose metric is of another kind of task than the estimator's
        (classification for a regressor, say): see
        :func:`~sklstm.search.scoring_kind.check_scoring_kind`; for
        ``multi_objective="peak_memory"`` where a fit's peak memory is not measured
        (:func:`~sklstm.search.objective_checks.check_cost_measured`).
    TypeError
        An ``estimator`` that is no sklstm estimator nor a Pipeline ending in one
        (:func:`~sklstm.search.pipeline.check_final_lstm`); a ``space`` that is no dict.

    Examples
    --------
    >>> import optuna
    >>> from sklstm import LSTMClassifier, datasets
    >>> objective = make_objective(
    ...     LSTMClassifier(hidden_size=4, max_epochs=2),
    ...     *datasets.make_sequence_classification(60, 5, 2, 2, random_state=0),
    ...     cv=2, space={"batch_size": [8, 16]})
    >>> study = optuna.create_study(direction="maximize")
    >>> study.optimize(objective, n_trials=2)
    >>> attrs = study.best_trial.user_attrs  # (2 epochs: the rule did not stop the fits)
    >>> sorted(set(attrs) & {"fold_scores", "folds_not_converged", "mean_fit_time", "worker"})
    ['fold_scores', 'folds_not_converged', 'mean_fit_time', 'worker']
    """

    def __init__(self, estimator, X, y, cv="auto", scoring=None, space=None,
                 report_every_epoch=True,
                 multi_objective=None, groups=None, reuse_duplicates=True):
        check_final_lstm(estimator)
        if check_multi_objective(multi_objective) is not None and report_every_epoch:
            warnings.warn(
                "Optuna cannot prune multi-objective studies (Trial.report is single-objective"
                " only); per-epoch reporting is disabled.",
                UserWarning,
                stacklevel=2,
            )
            report_every_epoch = False
        if isinstance(scoring, (list, tuple, set, dict)):
            raise ValueError("the objective optimizes one score: pass a single scoring")
        self.estimator = estimator
        self.X, self.y, self.groups = X, y, groups
        self.space = resolve_space(space, estimator)  # unknown names fail here, not in a trial
        check_no_checkpoint(self.space, estimator)
        # (fit_time and n_updates are measured everywhere, peak memory is not)
        check_cost_measured(multi_objective, self.space, estimator)
        self._epochs_per_fold = most_epochs(self.space, estimator)
        self.scoring = scoring  # by name in the study's attributes (create_or_load_study)
        # a metric of another kind of task failed or scored nonsense in every trial
        self.scorer_ = check_scoring(estimator,
                                     scoring=check_scoring_kind(estimator, scoring, y))
        self.report_every_epoch = report_every_epoch
        self.multi_objective = multi_objective
        self.reuse_duplicates = reuse_duplicates
        if groups is not None and len(groups) != len(y):  # (scikit-learn: "[30, 30, 10]")
            raise ValueError(f"groups must hold one label per sample: got {len(groups)} "
                             f"labels for {len(y)} samples")
        splitter = resolve_cv(cv, estimator, y, groups=groups)
        # Fixed once: every trial is scored on the same folds, so pruners compare like with like.
        self.splits_ = cv_splits(splitter, cv, X, y, groups)
        check_training_classes(estimator, y, self.splits_)

    def __call__(self, trial):
        try:
            return self._evaluate(trial)
        except KeyboardInterrupt:
            mark_interrupted(trial)
            raise
        except Exception as exc:
            if not ctrl_c_pending():
                raise
            # a Ctrl-C whose KeyboardInterrupt this exception replaced (Optuna's journal
            # lock, while the trial writes to it: sklstm.training.interrupts)
            mark_interrupted(trial)
            raise KeyboardInterrupt from exc

    def _evaluate(self, trial):
        self._check_directions(trial)
        params = self._sample(trial)
        fixed = {p: _json_safe(spec) for p, dist, spec in self.space.values() if dist is None}
        trial.set_user_attr("fixed_params", fixed)
        as_repr = [p for p, dist, spec in self.space.values()
                   if dist is None and fixed[p] is not spec]
        if as_repr:  # selected_params puts the objects back for the refit
            trial.set_user_attr(FIXED_AS_REPR, as_repr)
        # Which machine/process ran it: the first thing to know when a cluster misbehaves.
        trial.set_user_attr(WORKER, worker_name())
        # a sampler's repeat of a finished trial (reproducible fits only: duplicates.py)
        twin = self.reuse_duplicates and finished_twin(trial, self.estimator, params, fixed)
        if twin:
            return replay(trial, twin)
        reporting = self.report_every_epoch  # (single-objective: _check_directions)
        scores, stats = [], []
        try:
            for fold, (train, test) in enumerate(self.splits_):
                scores.append(self._fit_fold(trial, params, fold, train, test, reporting, stats))
            values = self._values(scores, stats)
        except optuna.TrialPruned:
            raise  # an Exception too, but not a failure
        except Exception as exc:
            _fail_reason(trial, exc)
            raise
        finally:
            self._record(trial, scores, stats)
        # said at the first completed trial with folds that did not converge, once per
        # objective (so per tune run): every trial counts them in its user attrs
        if not getattr(self, "_unconverged_said", False):
            self._unconverged_said = warn_unconverged(trial, [s["convergence"] for s in stats])
        return values

    def _check_directions(self, trial):
        """Refuse a study that optimizes this objective's values the other way, or
        another number of them, before anything is fitted.

        The score is greater-is-better and a fit cost is minimized. In a study created
        with Optuna's default direction (minimize) the search sought the worst
        configuration (and the median pruner stopped the good ones); with another
        number of objectives every trial was fitted in full, then failed.
        """
        needed = objective_directions(self.multi_objective)
        have = [d.name.lower() for d in trial.study.directions]
        if have == needed:
            return
        if len(needed) == 1:
            returns, create = "the score, maximized", "direction='maximize'"
        else:
            returns = f"the score (maximized) and {self.multi_objective} (minimized)"
            create = f"directions={needed}"
        exc = ValueError(
            f"this objective returns {returns}, but the study has directions {have}: "
            f"create it with optuna.create_study({create}), or let sklstm.search.tune "
            "create it")
        _fail_reason(trial, exc)
        raise exc

    def _sample(self, trial):
        """The trial's parameters; a failure to sample them is recorded as its fail reason.

        Optuna's suggest raises when the storage refuses a distribution (another space
        for the same name in a resumed study, say). Without a reason that FAIL would not
        use up the study's budget (:func:`~sklstm.search.trial_budget.uses_budget`), so
        the search would create failing trials for ever.
        """
        try:
            return sample_resolved(trial, self.space)
        except Exception as exc:
            _fail_reason(trial, exc)
            raise

    def _values(self, scores, stats):
        score = float(np.mean(scores))
        if self.multi_objective is None:
            return score
        costs = [s[self.multi_objective] for s in stats]
        if None in costs:
            raise ValueError(f"{self.multi_objective}_ is not measured on this platform")
        return score, float(np.mean(costs))

    def _fit_fold(self, trial, params, fold, train, test, reporting, stats):
        # X_test is scored after every epoch: a step must not transform it in place
        estimator = copying_inputs(clone(self.estimator).set_params(**params))
        X_train, X_test = safe_indexing(self.X, train), safe_indexing(self.X, test)
        y_train, y_test = safe_indexing(self.y, train), safe_indexing(self.y, test)
        if reporting:
            final = final_estimator(estimator)
            reporter = EpochScoreReporter(
                trial, estimator, X_test, y_test, self.scorer_,
                step_offset=fold * self._epochs_per_fold,
            )
            callbacks = [*(final.get_params()["callbacks"] or []), (CALLBACK_NAME, reporter)]
            estimator.set_params(**{final_prefix(estimator) + "callbacks": callbacks})
        # a ConvergenceWarning per fold of every trial buried the progress and summary:
        # counted in the trial instead (_record), and said once (_evaluate)
        with convergence_warnings_held() as held:
            estimator.fit(X_train, y_train)
        final = final_estimator(estimator)
        if final.interrupted_:
            # the estimator swallowed Ctrl-C (as skorch does) and kept its last epoch:
            # for a search that is an interrupt, not a score
            raise KeyboardInterrupt
        stats.append({**fit_stats(estimator), "convergence": fold_convergence(final, held)})
        return float(self.scorer_(estimator, X_test, y_test))

    @staticmethod
    def _record(trial, scores, stats):
        trial.set_user_attr("fold_scores", scores)
        for name in FIT_STATS:
            values = [s[name] for s in stats if s[name] is not None]
            if values:  # peak_memory_ is None where it cannot be measured
                trial.set_user_attr(f"mean_{name}", float(np.mean(values)))
        record_convergence(trial, [s["convergence"] for s in stats])


def _fail_reason(trial, exc):
    """Keep why ``trial`` failed with it: Optuna logs the exception but does not store it."""
    trial.set_user_attr(FAIL_REASON, f"{type(exc).__name__}: {exc}")


#: The name the objective is built by in user code and the docs.
make_objective = CVObjective


def checked_objective(estimator, X, y, *, multi_objective=None, **kwargs):
    """The objective :func:`~sklstm.search.tune` runs, after all it needs is checked.

    First the space, then the data, as the fit of the final sklstm step, set to the
    space's fixed values, would check it
    (:func:`~sklstm.search.pipeline.check_search_data`), and the conv widths the
    sequences are too short for (:func:`~sklstm.search.space.fit_conv_widths`: left
    out of the default space, refused in a user's), then the scoring and cv
    (:class:`CVObjective`): a mistake raises here, before any study exists, instead
    of failing every trial.

    Parameters
    ----------
    estimator, X, y
        As for :class:`CVObjective`.
    multi_objective : {None, "fit_time", "peak_memory", "n_updates"}, default=None
        As for :class:`CVObjective`; per-epoch reporting is on only without it.
    **kwargs : dict
        ``cv``, ``scoring``, ``space``, ``groups``, ``reuse_duplicates``.

    Returns
    -------
    CVObjective
        The objective.
    """
    # the data against the estimator as every trial fits it: with the space's fixed
    # values (a fixed hidden_size too large for the memory fails every trial); before
    # the folds are split and the scoring tried on the labels, which said less of
    # labels they cannot take ("'<' not supported between 'NoneType' and 'str'")
    check_final_lstm(estimator)  # (first: another estimator's space was "unknown" names)
    with warnings.catch_warnings():  # (CVObjective resolves it again, and warns)
        warnings.simplefilter("ignore")
        space = resolve_space(kwargs.get("space"), estimator)
    fixed = {param: value for param, dist, value in space.values() if dist is None}
    check_finite_targets(y)  # (before the storage is opened: a bad call writes no study)
    seen = check_search_data(clone(estimator).set_params(**fixed) if fixed else estimator, X, y)
    # conv widths whose kernels the sequences the LSTM is given are too short for in
    # every trial (a Pipeline's LSTM too: its trials failed)
    space = fit_conv_widths(space, estimator, seen, default=kwargs.get("space") is None)
    if kwargs.get("space") is None:  # the default space as this data allows
        kwargs["space"] = {name: spec for name, (_, _, spec) in space.items()}
    return CVObjective(estimator, X, y, report_every_epoch=multi_objective is None,
                       multi_objective=multi_objective, **kwargs)
