"""Run trials in a study until it holds ``n_trials`` of them, over all of its workers.

Split from :mod:`sklstm.search.study`, which creates or joins the study: the loop, its
trial budget (:class:`~sklstm.search.TrialBudget`), progress bar and Ctrl-C.
"""

from __future__ import annotations

import contextlib
import time

import optuna
from optuna.trial import TrialState

from ..training.interrupts import CtrlCGuard
from .baseline_trial import requeue_lost_baseline
from .report import ProgressBar
from .storage_faults import optimize_through_faults
from .study_checks import check_flags, check_run_args
from .trial_attrs import mark_interrupted
from .trial_budget import TrialBudget

__all__ = ["run_study"]


def run_study(study, objective, n_trials=None, timeout=None, *, show_progress_bar=False,
              catch=(Exception,), callbacks=(), on_wait=None, baseline=None) -> optuna.Study:
    """Run trials until the *study* holds ``n_trials`` trials (or ``timeout`` seconds pass).

    ``n_trials`` counts all trials in the storage, whatever worker ran them, and holds
    exactly when workers race (see :class:`~sklstm.search.TrialBudget`; MySQL and
    Redis storages excepted). A trial left RUNNING by a killed worker counts too (without
    heartbeats Optuna cannot tell it from a slow one); enqueued trials count once they run.
    Failing trials are recorded (state FAIL) and the search goes on. Ctrl-C (a
    ``KeyboardInterrupt``) ends it, the trial it cut short failed as interrupted (it
    holds no place), however far Optuna had got in recording it.

    Parameters
    ----------
    study : optuna.Study
        The study to run trials in.
    objective : callable
        Optuna objective, ``objective(trial)``, e.g. from
        :func:`~sklstm.search.make_objective`.
    n_trials : int or None, default=None
        Total for the study; None runs until ``timeout``.
    timeout : float or None, default=None
        Seconds for this worker; None runs until ``n_trials`` is reached. At least one
        of ``n_trials`` and ``timeout`` must be given.
    show_progress_bar : bool, default=False
        tqdm bar of the study-wide progress.
    catch : tuple of exception types, default=(Exception,)
        Trial errors that do not stop the search (by default all exceptions).
    callbacks : iterable of callables or None, default=()
        Extra Optuna ``callback(study, frozen_trial)``; None adds none.
    on_wait : callable or None, default=None
        ``on_wait(running)``, called once each time this worker, its budget full, waits
        for the running trials of others (with heartbeats: one may be a dead worker's,
        failed after the grace period); see :class:`~sklstm.search.TrialBudget`.
    baseline : dict or None, default=None
        The parameters of the study's baseline trial (:func:`~sklstm.search.tune`'s
        ``baseline``), with ``n_trials``: a baseline lost while this worker runs (its
        worker died, and no retry of it waits) is enqueued again before the next trial
        (:func:`~sklstm.search.baseline_trial.requeue_lost_baseline`).

    Returns
    -------
    optuna.Study
        ``study``, for chaining.

    Raises
    ------
    TypeError, ValueError
        An argument refused before any trial: the limits as :func:`~sklstm.search.tune`
        refuses them, an ``objective``, callback or ``on_wait`` that is no callable, a
        ``catch`` that is no exception class (or tuple of them), a
        ``show_progress_bar`` that is no bool, a ``baseline`` that is no dict.
    OSError
        When the storage fails to record a trial (a full disk, a read-only file or
        database, a lost server), naming the storage and the cause (chained); the
        trials finished before are kept, and the same call continues the study.
    TrialEndedElsewhere
        A RuntimeError, at the second trial of this call that another worker failed as
        stale while it ran (at the first, a warning, and the search goes on).

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study()
    >>> run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=3).trials[-1].number
    2
    """
    if n_trials is None and timeout is None:
        raise ValueError("give n_trials, timeout or both")
    catch, callbacks = _checked_hooks(objective, catch, callbacks, on_wait, baseline,
                                      show_progress_bar)
    # checked as tune checks them (numpy numbers accepted): n_trials="3" failed in the
    # budget's count, timeout=-1 ran one trial and stopped
    plain = check_run_args(None, **{name: value for name, value in
                                    (("n_trials", n_trials), ("timeout", timeout))
                                    if value is not None})
    n_trials, timeout = plain.get("n_trials"), plain.get("timeout")
    budget = bar = None
    # the timeout counts from here: a first claim that waited for a dead worker's trial
    # (a grace period) gave the search its whole timeout again after the wait
    deadline = None if timeout is None else time.monotonic() + timeout
    if n_trials is not None:
        # (a baseline found lost as the budget fails a dead worker's trials: its place
        # went to a sampled trial, and the study ended without one)
        on_count = None if baseline is None else (
            lambda trials: requeue_lost_baseline(study, baseline, trials))
        budget = TrialBudget(study, n_trials, timeout, on_wait, on_count)
        if not budget.claim():
            return study
        objective = budget.wrap(objective)
    if show_progress_bar:
        bar = ProgressBar(study, n_trials)
        callbacks.append(bar)
    if budget is not None:
        callbacks.append(budget)  # the claim is held only until the next trial exists
    ctrl_c, began = CtrlCGuard(), []
    objective, callbacks = _held_outside(objective, callbacks, ctrl_c, began)
    try:
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        optimize_through_faults(study, objective, left, catch, callbacks, budget, ctrl_c)
    except KeyboardInterrupt:
        if began:
            _fail_if_running(study, began[-1])
        raise
    finally:
        if budget is not None:
            budget.release()  # a claim left over when a timeout ended the loop
        if bar is not None:
            bar.bar.close()
    return study



def _fail_if_running(study, trial):
    """Fail this worker's ``trial`` as interrupted if a press left it RUNNING.

    A second press raises at once (:func:`_held_outside`): one that came while Optuna
    recorded the trial's end cut that record short, and left the trial RUNNING, holding
    its place in the budget until a worker failed it as stale (for good without
    heartbeats). A record that was written (a press after it) is kept: the state is
    read first, and Optuna's ``tell`` skips a finished trial (another worker may fail
    it meanwhile). A further press is held until this is done; a storage that fails
    here leaves the trial RUNNING (``sklstm tune`` says so).
    """
    with CtrlCGuard() as ctrl_c:
        ctrl_c.hold()
        with contextlib.suppress(Exception):  # (the press is what the caller raises)
            stored, = (t for t in study.get_trials(deepcopy=False) if t.number == trial.number)
            if stored.state == TrialState.RUNNING:
                mark_interrupted(trial)
                study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)


def _held_outside(objective, callbacks, ctrl_c, began):
    """The objective and callbacks with a press held while Optuna creates a trial or
    records its end (``ctrl_c`` holds as :func:`optimize_through_faults` starts).

    Optuna's loop lets a ``KeyboardInterrupt`` through only from the objective: one
    raised as it created the trial (sampling, its heartbeat thread's start) or stored
    its end left the trial RUNNING, for good with no heartbeats (a fresh-clone CI run's
    SIGTERM test saw it), and the heartbeat thread alive. Held there, the press is
    raised as the objective starts (the trial is failed as interrupted) or after the
    trial's record, in the first callback; the other callbacks (the budget's wait for
    running trials among them) and the objective are not held. A second press raises
    at once, as ever (:func:`_fail_if_running` fails the trial it cut short);
    ``began`` holds the last trial the objective was given.
    """
    def run(trial):
        began[:] = [trial]
        try:
            ctrl_c.resume()
        except KeyboardInterrupt:
            with contextlib.suppress(Exception):  # (a storage error here hid the press)
                mark_interrupted(trial)
            raise
        try:
            return objective(trial)
        finally:
            ctrl_c.hold()

    # a Ctrl-C whose KeyboardInterrupt other code replaced (Optuna's journal lock, while
    # a trial writes to it) failed that trial as an error and the search went on: the
    # press is delivered after the trial as well (the trial stays FAIL with that error)
    return run, [lambda study, trial: ctrl_c.resume(), *callbacks,
                 lambda study, trial: ctrl_c.hold()]


def _checked_hooks(objective, catch, callbacks, on_wait, baseline, show_progress_bar):
    """``catch`` as a tuple and ``callbacks`` as a list, every argument of
    :func:`run_study` that Optuna or the budget calls checked first.

    Refused only when used, they failed mid-search on a raw error (``'int' object is
    not callable``, after the first trial was stored; ``on_wait`` only when a full
    budget waited), or, for ``show_progress_bar="no"``, showed a bar.
    """
    if not callable(objective):  # every trial failed, recorded FAIL in the storage
        raise TypeError(f"objective must be a callable objective(trial), got {objective!r}: "
                        "e.g. from sklstm.search.make_objective")
    check_flags(show_progress_bar=show_progress_bar)
    if baseline is not None and not isinstance(baseline, dict):
        raise TypeError(f"baseline must be a dict of the baseline trial's parameters or "
                        f"None, got {baseline!r}: e.g. from "
                        "sklstm.search.selection.baseline_params")
    if on_wait is not None and not callable(on_wait):
        raise TypeError(f"on_wait must be a callable on_wait(running) or None, got "
                        f"{on_wait!r}")
    # (Optuna takes one exception class or an iterable of them: a str was taken for its
    # letters, and failed only when a trial raised)
    caught = (catch,) if isinstance(catch, type) else catch
    if isinstance(caught, str) or not all(
            isinstance(c, type) and issubclass(c, BaseException) for c in _items(caught)):
        raise TypeError(f"catch must be an exception class or a tuple of them, got "
                        f"{catch!r}: e.g. (ValueError,), or () to stop at any error")
    callbacks = list(callbacks or ())  # None: none, as Optuna's optimize takes it
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(f"callbacks must hold callables callback(study, frozen_trial), "
                            f"got {callback!r} among them")
    return tuple(caught), callbacks


def _items(values):
    """The items of ``values``, or ``[values]`` where it is no iterable (refused then)."""
    try:
        return list(values)
    except TypeError:
        return [values]
