"""Create or join an Optuna study for sklstm and run trials in it, cluster-safely.

Every worker (a process on this machine or on another one) runs the same :func:`tune` call
(or ``sklstm tune`` command) on the same storage and study name: the first one creates the
study, the others join it, and ``n_trials`` is the total for the study, shared by all of
them, exactly (:class:`~sklstm.search.TrialBudget` serializes trial creation across workers).
"""

from __future__ import annotations

import optuna

from .._compat.optuna import study_storage
from .baseline_trial import enqueue_baseline
from .heartbeat import checked_run_settings
from .metrics import objective_directions
from .objective import checked_objective
from .pruners import make_pruner
from .selection import baseline_params
from .storage import resolve_storage
from .storage_faults import storage_write_failures, study_creation_failures
from .study_checks import (
    HEARTBEAT_STUDY_ATTR,
    check_existing_study,
    check_flags,
    check_space_fits_study,
    check_study_name,
    heartbeat_record,
)
from .study_pruner import ignoring_duplicates
from .study_record import study_attrs
from .study_run import run_study  # (the loop: its own module)

__all__ = ["create_or_load_study", "run_study", "tune", "tune_objective"]


def create_or_load_study(study_name, storage=None, *, scoring=None, multi_objective=None,
                         pruner=None, sampler=None, heartbeat_interval=None,
                         retry_failed=0, estimator=None, y=None, X=None, splits=None,
                         searched=None, fixed=None) -> optuna.Study:
    """Create the study, or join it if it exists, after checking it fits this search.

    Everything is validated first (storage URL, pruner, directions of an existing study,
    its scoring), so a bad call never leaves a half-made study behind.

    Parameters
    ----------
    study_name : str
        Name of the study in the storage; must not be empty or blank.
    storage : str, os.PathLike, optuna.storages.BaseStorage or None, default=None
        See :func:`~sklstm.search.resolve_storage`; None is the journal file
        ``sklstm-study.journal`` in the working directory.
    scoring : str, callable or None, default=None
        Recorded on a new study (by name); an existing study with another scoring is
        refused.
    multi_objective : {None, "fit_time", "peak_memory", "n_updates"}, default=None
        Fit cost minimized as a second objective: the study then has the directions
        ``["maximize", "minimize"]``, else ``["maximize"]``.
    pruner : str, optuna.pruners.BasePruner or None, default=None
        Passed to :func:`~sklstm.search.make_pruner`: None means ``"median"`` for one
        objective and no pruning for two. The study's pruner leaves out the trials that
        repeat a finished one (:class:`~sklstm.search.study_pruner.IgnoringDuplicates`).
    sampler : optuna.samplers.BaseSampler or None, default=None
        The study's sampler; None means Optuna's default (TPE).
    heartbeat_interval : int or None, default=None
        Heartbeats for the trials of a storage opened from a URL or path, so that the
        trial of a worker that died is failed (see :mod:`sklstm.search.heartbeat`);
        None: no heartbeats. The heartbeats the storage sends are recorded on a new
        study, and a worker that sends others (none, or another interval or grace
        period) is refused: it would fail the live trials of the others, or they its.
    retry_failed : int, default=0
        How many times a trial failed for its dead worker is run again.
    estimator : estimator, Pipeline or None, default=None
        The estimator searched: its class (a Pipeline's steps' classes) and parameters
        (but those that say where and how visibly a fit runs: ``verbose``, ``device``,
        ``n_threads``, ``max_memory``, ``on_oom``, ``checkpoint``, a Pipeline's
        ``memory``) are recorded on a new study, and an existing study made for another
        class or configuration is refused.
    y, X : array-like or None, default=None
        The search's targets and sequences: their number and a digest of them are
        recorded, and an existing study made on other data is refused.
    splits : list of (train, test) index arrays or None, default=None
        The folds every trial is scored on: a digest of them is recorded, and an
        existing study scored on other folds (another ``cv``) is refused.
    searched : iterable of str or None, default=None
        The estimator parameters the search space samples: left out of the estimator's
        recorded configuration, and recorded by name (another set is refused).
    fixed : dict or None, default=None
        ``param -> value`` the space fixes: recorded in place of the estimator's values.

    Returns
    -------
    optuna.Study
        The new or joined study, with the scoring, objective names, estimator, data and
        folds recorded in its user attributes.

    Raises
    ------
    TypeError
        A ``study_name`` that is not a str, or a ``pruner`` that is no name or pruner
        instance.
    ValueError
        Invalid storage, pruner or study name, or an existing study whose directions,
        scoring, estimator, data, folds or heartbeats differ.

    Examples
    --------
    >>> import optuna
    >>> storage = optuna.storages.InMemoryStorage()
    >>> study = create_or_load_study("demo", storage, scoring="accuracy")
    >>> study.direction.name
    'MAXIMIZE'
    >>> create_or_load_study("demo", storage, scoring="accuracy", multi_objective="fit_time")
    Traceback (most recent call last):
    ...
    ValueError: study 'demo' exists with directions ['maximize'], but this search needs ...
    """
    study_name = check_study_name(study_name)
    directions = objective_directions(multi_objective)
    # (a trial that repeats a finished one is no trial for the pruner's n_startup_trials)
    pruner = ignoring_duplicates(make_pruner(pruner, multi_objective))
    attrs = study_attrs(scoring, multi_objective, estimator, y, splits, searched, fixed, X)
    storage = resolve_storage(storage, heartbeat_interval=heartbeat_interval,
                              retry_failed=retry_failed)
    # the heartbeats the storage really sends (an instance keeps its own settings): all
    # workers of a study must send the same, or one fails the others' live trials
    attrs = {**attrs, HEARTBEAT_STUDY_ATTR: heartbeat_record(storage)}
    check_existing_study(study_name, storage, directions, attrs)
    with study_creation_failures(study_name, storage):  # (a full disk: not the raw error)
        # load_if_exists: another worker may create it between the check and this call.
        study = optuna.create_study(
            storage=storage, study_name=study_name, directions=directions,
            pruner=pruner, sampler=sampler, load_if_exists=True,
        )
        check_existing_study(study_name, storage, directions, attrs)
        for key, value in attrs.items():
            if key not in study.user_attrs:
                study.set_user_attr(key, value)
        # Once more after writing: a worker that joined while the creator was writing
        # found them missing and compared nothing. (Optuna's attributes have no
        # compare-and-set: two workers writing the same one at once still both pass.)
        check_existing_study(study_name, storage, directions, attrs)
    return study


def tune(estimator, X, y, *, n_trials=20, timeout=None, study_name="sklstm", storage=None,
         cv="auto", scoring=None, space=None, pruner=None, sampler=None,
         multi_objective=None, groups=None, reuse_duplicates=True, baseline=True,
         heartbeat_interval=60, retry_failed=0, show_progress_bar=False) -> optuna.Study:
    """Optuna search for an sklstm estimator or Pipeline: validate, create/join, run.

    Parameters
    ----------
    estimator : estimator or Pipeline
        An sklstm estimator, or a Pipeline whose last step is one; it is cloned for
        every fold of every trial and never fitted itself.
    X : array-like
        Sequences ``(n, T, F)`` or ``(n, T)`` (or ragged lists).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    n_trials : int, default=20
        Total trials in the study, shared by all workers.
    timeout : float or None, default=None
        Seconds this worker searches at most; None means no time limit.
    study_name : str, default="sklstm"
        Name of the study to create or join; every worker of a search uses the same.
        An existing study made for other directions, scoring, estimator (its class or
        parameters), data (a digest of ``y``) or folds (another ``cv``) is refused: its
        values would not be comparable.
    storage : str, os.PathLike, optuna.storages.BaseStorage or None, default=None
        See :func:`~sklstm.search.resolve_storage`. None is a resumable journal file
        in the working directory.
    cv : "auto", int, cross-validation generator or iterable, default="auto"
        ``"auto"`` repeats stratified 3-fold on small data (below 500 samples), so
        split noise does not pick the winner; with ``groups``, it (or a number of
        folds) keeps each group in one fold (stratified for classifiers); see
        :func:`~sklstm.search.selection.resolve_cv`.
    scoring : str, callable or None, default=None
        One scikit-learn score, greater is better; None uses ``estimator.score``. A
        metric of another kind of task (``"accuracy"`` for a regressor, ``"r2"`` for
        a classifier) is refused before any study exists
        (:func:`~sklstm.search.scoring_kind.check_scoring_kind`).
    space : dict or None, default=None
        Search space (see :func:`~sklstm.search.resolve_space`); None means
        :func:`~sklstm.search.default_space`.
    pruner : str, optuna.pruners.BasePruner or None, default=None
        See :func:`~sklstm.search.make_pruner`; None means ``"median"`` for one objective and no
        pruning for two.
    sampler : optuna.samplers.BaseSampler or None, default=None
        None means Optuna's default (TPE). Do not give every worker the same seeded
        sampler: they would propose the same parameters.
    multi_objective : {None, "fit_time", "peak_memory", "n_updates"}, default=None
        Optimize the score *and* this cost; ``study.best_trials`` is the Pareto front.
        Per-epoch reporting, and so pruning, is then off.
    groups : array-like of shape (n_samples,) or None, default=None
        Group labels for group-aware ``cv`` (``"auto"`` is then group-aware).
    reuse_duplicates : bool, default=True
        End a trial that repeats the parameters of a finished one as that trial ended,
        without fitting (only with an int ``random_state``); see
        :func:`~sklstm.search.make_objective`.
    baseline : bool, default=True
        Run the estimator's own configuration (its values of the sampled parameters)
        as the first trial of a new study, so the search has to beat it on the same
        folds to pick anything else (:func:`~sklstm.search.selection.baseline_params`;
        skipped when those values are not a point of the space). Use
        :func:`~sklstm.search.selected_trial` rather than ``study.best_trial``: it keeps
        the baseline unless the best trial beats it by more than the fold-to-fold noise.
        A baseline that its worker's death or Ctrl-C ended is run again, in the next
        place of the budget once it is found (as a worker starts, or before its next
        trial).
    heartbeat_interval : int or None, default=60
        Running trials report every this many seconds (journal files and databases),
        so that the trial of a worker that died is failed after twice that long and its
        place in ``n_trials`` is freed; a worker whose budget is full waits for running
        trials to end for that reason. None turns heartbeats off (a dead worker's trial
        then stays RUNNING and keeps its place). A storage given as an instance keeps
        its own settings (a warning says so where it has no heartbeats). Every worker
        of a study must send the same heartbeats: one with another setting is refused
        before it runs a trial (one that beats would fail the live trials of one that
        does not, or that beats less often, and lose their results).
    retry_failed : int, default=0
        Run a trial failed for its dead worker again, up to this many times
        (``optuna.storages.RetryFailedTrialCallback``); needs ``heartbeat_interval``,
        which finds such trials (refused with ``heartbeat_interval=None``).
    show_progress_bar : bool, default=False
        Show a tqdm bar of the study-wide progress.

    Returns
    -------
    optuna.Study
        The study, holding the trials of every worker.

    Examples
    --------
    >>> import optuna
    >>> from sklstm import LSTMClassifier
    >>> from sklstm.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(60, 5, 2, 2, random_state=0)
    >>> study = tune(LSTMClassifier(hidden_size=4, max_epochs=2), X, y, n_trials=2, cv=2,
    ...              space={"batch_size": [8, 16]},
    ...              storage=optuna.storages.InMemoryStorage())
    >>> len(study.trials)
    2
    """
    # (tune_objective checks them again, for its own callers: cheap, and here first so a
    # bad argument costs no data check)
    checked_run_settings(sampler, n_trials, timeout, heartbeat_interval, retry_failed)
    check_flags(baseline=baseline, reuse_duplicates=reuse_duplicates,
                show_progress_bar=show_progress_bar)
    # Objective next: data, space, scoring and cv are checked before any study exists.
    objective = checked_objective(estimator, X, y, cv=cv, scoring=scoring, space=space,
                                  groups=groups, multi_objective=multi_objective,
                                  reuse_duplicates=reuse_duplicates)
    return tune_objective(objective, n_trials=n_trials, timeout=timeout, study_name=study_name,
                          storage=storage, pruner=pruner, sampler=sampler, baseline=baseline,
                          heartbeat_interval=heartbeat_interval, retry_failed=retry_failed,
                          show_progress_bar=show_progress_bar)


def tune_objective(objective, *, n_trials=20, timeout=None, study_name="sklstm", storage=None,
                   pruner=None, sampler=None, baseline=True, heartbeat_interval=60,
                   retry_failed=0, show_progress_bar=False, on_wait=None) -> optuna.Study:
    """The second half of :func:`tune`: create or join the study, run the trials.

    Parameters
    ----------
    objective : CVObjective
        From :func:`~sklstm.search.objective.checked_objective` (its scoring is recorded).
    n_trials, timeout, study_name, storage, pruner, sampler, baseline, \
heartbeat_interval, retry_failed, show_progress_bar
        As for :func:`tune`.
    on_wait : callable or None, default=None
        As for :func:`run_study` (``sklstm tune`` says what it waits for).

    Returns
    -------
    optuna.Study
        The study, holding the trials of every worker.
    """
    n_trials, timeout, heartbeat_interval, retry_failed = checked_run_settings(
        sampler, n_trials, timeout, heartbeat_interval, retry_failed)
    check_flags(baseline=baseline, show_progress_bar=show_progress_bar)
    study = create_or_load_study(
        study_name, storage, scoring=objective.scoring, multi_objective=objective.multi_objective,
        pruner=pruner, sampler=sampler, heartbeat_interval=heartbeat_interval,
        retry_failed=retry_failed, estimator=objective.estimator, y=objective.y,
        X=objective.X, splits=objective.splits_,
        searched=[param for param, dist, _ in objective.space.values() if dist is not None],
        fixed={param: value for param, dist, value in objective.space.values() if dist is None})
    check_space_fits_study(study, objective.space)
    params = baseline_params(objective.space, objective.estimator) if baseline else None
    if params:
        with storage_write_failures(study, study_storage(study),  # (not the raw error)
                                    lost="the baseline trial was not enqueued"):
            enqueue_baseline(study, params)
    return run_study(study, objective, n_trials, timeout, show_progress_bar=show_progress_bar,
                     on_wait=on_wait, baseline=params or None)
