"""A press (Ctrl-C, or SIGTERM where Ctrl-C is ignored) inside a search, wherever it
lands: as Optuna creates a trial, records its end, or as the search ends, once or twice."""

import errno
import os
import signal
import sys
from datetime import datetime

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from sklstm._cli_run import interrupted_note
from sklstm.cli import _TermAsInterrupt
from sklstm.search import resolve_storage, run_study, tune
from sklstm.search.trial_attrs import WORKER, worker_name

from .helpers import (
    load_study,
    press_at_lock_file,
)


@pytest.fixture(params=["ctrl_c", "sigterm_where_ctrl_c_is_ignored"])
def press(request):
    """The signal a press is: Ctrl-C (Python's SIGINT handler), or the SIGTERM that
    ``sklstm tune`` takes as one, in a process whose SIGINT is ignored (``sklstm tune
    ... &`` in a script: no guard installs a handler, and SIGINT raises nothing)."""
    ignored = request.param != "ctrl_c"
    previous = signal.signal(signal.SIGINT,
                             signal.SIG_IGN if ignored else signal.default_int_handler)
    previous_term = signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (as sklstm tune finds it)
    try:
        with _TermAsInterrupt() as term:
            yield signal.SIGTERM if ignored else signal.SIGINT
        assert term.received == ignored
        assert signal.getsignal(signal.SIGINT) == (
            signal.SIG_IGN if ignored else signal.default_int_handler)  # given back
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)


def test_a_ctrl_c_that_an_error_replaced_in_a_trial_still_stops_the_search(press, tmp_path):
    # a press that lands while a trial writes to the journal file can come out of
    # Optuna's lock as FileNotFoundError (its release unlinks the lock file again): the
    # trial fails with it, and the search must stop there all the same (a SIGTERM where
    # SIGINT was ignored was noted by no guard: the search ran on, sklstm tune exit 0)
    def objective(trial):
        if trial.number == 1:
            try:
                signal.raise_signal(press)
            except BaseException:
                raise FileNotFoundError("the lock file is gone") from None
        return trial.suggest_float("x", 0, 1)

    study = optuna.create_study(storage=resolve_storage(str(tmp_path / "s.journal")))
    with pytest.raises(KeyboardInterrupt):
        run_study(study, objective, n_trials=5)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL]
    run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=5)  # resumes
    assert [t.state for t in study.trials].count(TrialState.COMPLETE) == 5


class _PressAsTrialBegins(optuna.samplers.RandomSampler):
    """A press (signal ``signum``) while Optuna creates trial ``number``, before its
    objective runs (as the fresh-clone CI's SIGTERM test's press once landed, at trial
    0: the trial stayed RUNNING)."""

    def __init__(self, signum, number):
        super().__init__()
        self.signum, self.number = signum, number

    def before_trial(self, study, trial):
        if trial.number == self.number:
            signal.raise_signal(self.signum)


class _PressingJournal(optuna.storages.JournalStorage):
    """A journal storage that presses (signal ``signum``) where a subclass says."""

    def __init__(self, backend, signum):
        super().__init__(backend)
        self.signum = signum


class _PressAsTrialEnds(_PressingJournal):
    """A press while Optuna stores trial 0's end, before the write: the trial stayed
    RUNNING."""

    def set_trial_state_values(self, trial_id, state, values=None):
        if self.get_trial_number_from_id(trial_id) == 0 and state.is_finished():
            signal.raise_signal(self.signum)
        return super().set_trial_state_values(trial_id, state, values)


@pytest.mark.parametrize("where, expected", [
    ("trial 0 begins", [TrialState.FAIL]),
    ("trial 1 begins", [TrialState.COMPLETE, TrialState.FAIL]),
    ("trial 0 ends", [TrialState.COMPLETE])])
def test_a_ctrl_c_as_optuna_creates_or_records_a_trial_leaves_none_running(
        press, tmp_path, where, expected):
    # Optuna lets a KeyboardInterrupt through only from the objective: held outside it,
    # the press is raised as the trial's objective starts (that trial fails as
    # interrupted, holding no place), or once trial 0's end is stored (a SIGTERM where
    # SIGINT was ignored was held by no guard: the trial stayed RUNNING). Trial 0's
    # creation is held before Optuna's loop runs any callback (storage_faults)
    path = str(tmp_path / "s.journal")
    begins = where.endswith("begins")
    storage = (JournalStorage(JournalFileBackend(path)) if begins
               else _PressAsTrialEnds(JournalFileBackend(path), press))
    sampler = _PressAsTrialBegins(press, int(where.split()[1])) if begins else None
    study = optuna.create_study(storage=storage, sampler=sampler, study_name="s")
    with pytest.raises(KeyboardInterrupt):
        run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert [t.state for t in study.trials] == expected
    assert [t.user_attrs.get("fail_reason") for t in study.trials
            if t.state == TrialState.FAIL] == ["interrupted (Ctrl-C)"] * begins
    study = run_study(load_study(path, "s"), lambda t: t.suggest_float("x", 0, 1),
                      n_trials=3)  # resumes
    assert [t.state for t in study.trials].count(TrialState.COMPLETE) == 3


class _PressAsTheLoopEnds(_PressingJournal):
    """A press as Optuna's loop ends, after the last trial's record and callbacks (its
    storage's ``remove_session``)."""

    def remove_session(self):
        signal.raise_signal(self.signum)
        return super().remove_session()


def test_a_ctrl_c_held_as_the_search_ends_is_raised_after_it(press, tmp_path):
    # held from the last trial's callbacks on, as Optuna's loop ends: the search must
    # still end interrupted (sklstm tune 130/143), not return as a finished one
    path = str(tmp_path / "s.journal")
    study = optuna.create_study(storage=_PressAsTheLoopEnds(JournalFileBackend(path), press),
                                study_name="s")
    with pytest.raises(KeyboardInterrupt):
        run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2


class _SecondPressAsTrialEnds(_PressingJournal):
    """Two presses as Optuna stores a trial's end, before the write (``after``: just
    after it): the first is held, the second raises there. With ``failing``, every
    write after them fails (the storage gone as the search stops)."""

    def __init__(self, backend, signum, after=False, failing=False):
        super().__init__(backend, signum)
        self.after, self.failing, self.pressed = after, failing, False

    def _write(self):
        if self.pressed and self.failing:
            raise OSError(errno.EROFS, "Read-only file system")

    def set_trial_user_attr(self, trial_id, key, value):
        self._write()
        return super().set_trial_user_attr(trial_id, key, value)

    def set_trial_state_values(self, trial_id, state, values=None):
        self._write()
        first, self.pressed = state.is_finished() and not self.pressed, True
        if first and not self.after:
            self._press_twice()
        done = super().set_trial_state_values(trial_id, state, values)
        if first and self.after:
            self._press_twice()
        return done

    def _press_twice(self):
        signal.raise_signal(self.signum)  # held: Optuna records the trial's end
        signal.raise_signal(self.signum)  # raises at once


def _interrupted_by_second_press(tmp_path, signum, **pressing):
    """Trial 0's record cut by a second press (:class:`_SecondPressAsTrialEnds`): its
    stored trials and what ``sklstm tune`` says of them."""
    path, started = str(tmp_path / "s.journal"), datetime.now()
    storage = _SecondPressAsTrialEnds(JournalFileBackend(path), signum, **pressing)
    study = optuna.create_study(storage=storage, study_name="s")

    def objective(trial):
        trial.set_user_attr(WORKER, worker_name())  # (as sklstm's objective names it)
        return trial.suggest_float("x", 0, 1)

    with pytest.raises(KeyboardInterrupt):
        run_study(study, objective, n_trials=3)
    return load_study(path, "s").trials, interrupted_note(storage, "s", started)


@pytest.mark.parametrize("after, expected", [(False, TrialState.FAIL),
                                             (True, TrialState.COMPLETE)])
def test_a_second_ctrl_c_as_optuna_records_a_trial_leaves_none_running(
        press, tmp_path, after, expected):
    # a second press raises at once: in the record of a trial's end it cut the record
    # short, the trial stayed RUNNING (holding its place in the budget, for good with
    # --heartbeat 0) and sklstm tune said it was marked FAIL. It is failed as
    # interrupted; a record that was written is kept
    trials, note = _interrupted_by_second_press(tmp_path, press, after=after)
    assert [t.state for t in trials] == [expected]
    if after:
        assert note == "" and "fail_reason" not in trials[0].user_attrs
    else:
        assert trials[0].user_attrs["fail_reason"] == "interrupted (Ctrl-C)"
        assert note == (", and the interrupted trial #0 is marked FAIL (it does not count "
                        "toward --n-trials)")


def test_a_trial_that_a_failing_storage_leaves_running_is_said_to_hold_its_place(
        press, tmp_path):
    # the storage fails as the cut-short trial is failed: the message said "marked FAIL"
    trials, note = _interrupted_by_second_press(tmp_path, press, failing=True)
    assert [t.state for t in trials] == [TrialState.RUNNING]
    assert note == (", and the interrupted trial #0 could not be marked FAIL and is left "
                    "RUNNING: it holds its --n-trials place for good with --heartbeat 0 "
                    "(a worker run with --heartbeat N fails it as stale after 2 x N s)")


def test_a_ctrl_c_as_the_budget_lock_is_given_back_leaves_no_lock_and_no_lost_trial(
        default_ctrl_c, tmp_path, monkeypatch):
    # the press landed as trial 1 began, while its budget lock file was given back: the
    # file stayed (the next run, and every worker of the study, waited 30 s for Optuna
    # to break it) and the trial failed without a word, read as a dead worker's
    path = str(tmp_path / "s.journal")
    press_at_lock_file(monkeypatch, "release", at=2, suffix=".budget.lock")
    study = optuna.create_study(storage=resolve_storage(path), study_name="s")
    with pytest.raises(KeyboardInterrupt):
        run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL]
    assert study.trials[1].user_attrs["fail_reason"] == "interrupted (Ctrl-C)"
    assert sorted(os.listdir(tmp_path)) == ["s.journal"]


def test_in_tune_such_a_trial_is_interrupted_and_holds_no_place(default_ctrl_c, pipeline,
                                                                  data, tmp_path):
    # sklstm's objective: the press is replaced while the second trial scores its first
    # fold (outside any fit: the scorer also scores every epoch inside the fits); the
    # trial is an interrupted one, not a failed one
    folds = []

    def scorer(estimator, X, y):
        folds.append(sys._getframe(1).f_code.co_name == "_fit_fold")
        if sum(folds) == 3 and folds[-1]:  # (two folds a trial)
            try:
                signal.raise_signal(signal.SIGINT)
            except BaseException:
                raise FileNotFoundError("the lock file is gone") from None
        return float((estimator.predict(X) == y).mean())

    storage = str(tmp_path / "s.journal")
    search = dict(n_trials=3, storage=storage, study_name="s", cv=2, scoring=scorer,
                  space={"lr": [0.01, 0.03]}, reuse_duplicates=False, heartbeat_interval=None)
    with pytest.raises(KeyboardInterrupt):
        tune(pipeline, *data, **search)
    trials = load_study(storage, "s").trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL]
    assert trials[1].user_attrs["fail_reason"] == "interrupted (Ctrl-C)"
    study = tune(pipeline, *data, **search)  # resumes: three trials that hold a place
    assert [t.state for t in study.trials].count(TrialState.COMPLETE) == 3
