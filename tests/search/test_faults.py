"""Faults in a search: a worker killed mid-trial, Ctrl-C or SIGTERM in a worker (real
signals)."""

import errno
import json
import os
import signal
import sys
import time

import optuna
import pytest
from optuna.storages import JournalStorage, fail_stale_trials
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from sklstm.cli import _TermAsInterrupt
from sklstm.search import resolve_storage, run_study, tune
from sklstm.search.selection import BASELINE

from .helpers import (
    cli,
    load_study,
    needs_postgres,
    press_at_lock_file,
    python,
    states,
    wait_for,
)

#: Trials of a second or two (30 epochs, no convergence rule): a worker is killed or
#: interrupted in the middle of one.
LONG_TRIALS = {"hidden_size": 4, "max_epochs": 30, "tol": None, "batch_size": [4, 8],
               "lr": [0.01, 0.03], "n_threads": 1}


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


@pytest.fixture
def space_json(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(LONG_TRIALS))
    return path


def _worker(npz_path, space_json, storage_url, study_name, n_trials, *extra):
    return cli("tune", npz_path, "--space", space_json, "--cv", "2", "--storage", storage_url,
               "--study-name", study_name, "--n-trials", n_trials, "--pruner", "none",
               "--no-progress", "--heartbeat", 1, *extra)


def _running(storage_url, study_name, sampled=0):
    """A condition: a trial of the study is running (with ``sampled`` parameters drawn:
    a worker killed under load between creating the trial and sampling left none, or
    between one parameter and the next only some, and a test reading them found ``{}``
    or ``{"batch_size": 16}``)."""
    def check():
        try:
            trials = load_study(storage_url, study_name).trials
        except KeyError:  # the study does not exist yet
            return False
        return any(t.state.name == "RUNNING" and len(t.params) >= sampled for t in trials)
    return check


@pytest.mark.parametrize("storage_url", ["journal", "sqlite",
                                         pytest.param("postgres", marks=needs_postgres)],
                         indirect=True)
@pytest.mark.parametrize("retry", [0, 1])
def test_a_worker_killed_mid_trial_costs_no_place_in_the_budget(
        npz_path, space_json, storage_url, study_name, retry):
    n_trials = 2
    victim = _worker(npz_path, space_json, storage_url, study_name, n_trials,
                     "--retry-failed", retry)
    wait_for(_running(storage_url, study_name), victim)
    victim.send_signal(signal.SIGKILL)  # no cleanup of any kind runs
    victim.wait()
    (killed,) = [n for n, s in states(load_study(storage_url, study_name)).items()
                 if s == "RUNNING"]
    survivor = _worker(npz_path, space_json, storage_url, study_name, n_trials,
                       "--retry-failed", retry)
    _, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, err
    trials = load_study(storage_url, study_name).trials
    by_number = {t.number: t for t in trials}
    # the dead worker's trial failed when its heartbeat stopped; it holds no place
    assert by_number[killed].state.name == "FAIL"
    assert "fail_reason" not in by_number[killed].user_attrs
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == n_trials and "RUNNING" not in states(load_study(
        storage_url, study_name)).values()
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retried) == retry  # RetryFailedTrialCallback ran it again when asked
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in retried)


def test_a_baseline_whose_worker_was_killed_runs_again(npz_path, tmp_path):
    # The estimator's own configuration runs as the first trial, and selected_trial
    # keeps it unless beaten by more than noise. Killed in it, the worker left it FAIL,
    # nothing ran it again, and the resumed study selected its best trial unguarded.
    space = tmp_path / "space.json"  # LSTMClassifier's own batch_size=16, lr=1e-3 are in it
    space.write_text(json.dumps({**LONG_TRIALS, "batch_size": [4, 16], "lr": [1e-3, 0.03]}))
    storage, name = str(tmp_path / "s.journal"), "killed-baseline"
    victim = _worker(npz_path, space, storage, name, 2)
    wait_for(_running(storage, name, sampled=2), victim)  # (batch_size and lr)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    (baseline,) = load_study(storage, name).trials
    assert baseline.state.name == "RUNNING" and baseline.user_attrs[BASELINE]
    time.sleep(2 * 1 + 0.5)  # the grace period of --heartbeat 1: its heartbeat is stale
    survivor = _worker(npz_path, space, storage, name, 2)
    _, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, err
    study = load_study(storage, name)
    assert study.trials[0].state.name == "FAIL"
    (rerun,) = [t for t in study.trials[1:] if t.user_attrs.get(BASELINE)]
    assert rerun.params == baseline.params == {"batch_size": 16, "lr": 1e-3}
    assert rerun.state.name == "COMPLETE" and rerun.user_attrs["fold_scores"]
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials) == 2


def test_ctrl_c_fails_the_running_trial_keeps_the_finished_and_resumes(
        npz_path, space_json, tmp_path):
    storage, name, n_trials = str(tmp_path / "s.journal"), "interrupted", 3
    worker = _worker(npz_path, space_json, storage, name, n_trials)

    def one_complete_and_one_fitting():
        if not os.path.exists(storage):
            return False
        try:
            trials = load_study(storage, name).trials
        except KeyError:
            return False
        return ("COMPLETE" in {t.state.name for t in trials}
                and any(t.state.name == "RUNNING" and t.intermediate_values for t in trials))

    wait_for(one_complete_and_one_fitting, worker, timeout=300)
    complete_before = {t.number: t.value for t in load_study(storage, name).trials
                       if t.state.name == "COMPLETE"}
    worker.send_signal(signal.SIGINT)
    _, err = worker.communicate(timeout=120)
    assert worker.returncode == 130, err
    assert "interrupted" in err and "Run the same command again" in err
    study = load_study(storage, name)
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    # the trial Ctrl-C hit is not COMPLETE, says why, and the search stopped there
    assert len(failed) == 1 and "interrupted" in failed[0].user_attrs["fail_reason"]
    assert "RUNNING" not in states(study).values()
    assert max(t.number for t in study.trials) == failed[0].number
    # the same command continues the study: the finished trials stay, the budget fills up
    again = _worker(npz_path, space_json, storage, name, n_trials)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    study = load_study(storage, name)
    assert {n: v for n, v in ((t.number, t.value) for t in study.trials)
            if n in complete_before} == complete_before
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials) == n_trials


def test_sigterm_ends_the_search_as_ctrl_c_does(npz_path, space_json, tmp_path):
    # SIGTERM (kill, timeout, a batch scheduler) killed the worker where it stood: its
    # trial stayed RUNNING (for good with --heartbeat 0), with no word on stderr
    storage, name = str(tmp_path / "s.journal"), "terminated"
    worker = _worker(npz_path, space_json, storage, name, 2)
    wait_for(_running(storage, name), worker, timeout=300)
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=120)
    assert worker.returncode == 128 + signal.SIGTERM, err  # the shell's status for it
    assert "interrupted" in err and "Run the same command again" in err
    study = load_study(storage, name)
    assert "RUNNING" not in states(study).values()
    assert [t.user_attrs.get("fail_reason") for t in study.trials
            if t.state.name == "FAIL"] == ["interrupted (Ctrl-C)"]


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


@pytest.mark.parametrize("storage_url", ["journal", "sqlite",
                                         pytest.param("postgres", marks=needs_postgres)],
                         indirect=True)
def test_a_trial_that_never_sent_a_heartbeat_is_failed_after_the_grace_period(
        storage_url, study_name):
    # A worker killed after creating its trial but before the first heartbeat: Optuna's
    # RDBStorage alone never fails such a trial, and a full budget waited for it for ever.
    storage = resolve_storage(storage_url, heartbeat_interval=1)
    study = optuna.create_study(study_name=study_name, storage=storage)
    orphan = study.ask()  # RUNNING, and no heartbeat thread ever runs for it
    time.sleep(2 * 1 + 0.5)  # the grace period: twice the heartbeat interval
    fail_stale_trials(study)
    assert study.trials[orphan.number].state == TrialState.FAIL
    run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE]


def test_a_journal_record_cut_short_is_dropped_and_the_study_goes_on(tmp_path):
    # a worker killed (or a full disk) while it appended left the journal's last line
    # unfinished; Optuna reads past it, but the next worker appended its records to that
    # line, and from then on every read of the file failed ("Expecting ':' delimiter"):
    # the whole study was lost
    path = str(tmp_path / "study.journal")
    study = optuna.create_study(study_name="s", storage=resolve_storage(path))
    study.add_trial(optuna.trial.create_trial(value=0.5))
    cut = b'{"op_code": 5, "worker_id": "x", "trial_id": 1, "param'
    with open(path, "ab") as f:
        f.write(cut)
    with pytest.warns(UserWarning, match=f"ended with a record cut short .* its {len(cut)} "
                      "bytes, which no worker could read, were removed"):
        storage = resolve_storage(path)
    study = optuna.load_study(study_name="s", storage=storage)
    study.tell(study.ask(), 0.25)
    again = optuna.load_study(study_name="s", storage=resolve_storage(path))
    assert [t.value for t in again.trials] == [0.5, 0.25]
    assert sorted(os.listdir(tmp_path)) == ["study.journal"]  # (the lock was released)


#: A worker whose disk fills up (a file size limit) in the middle of writing a trial.
DISK_FULL_WORKER = """
import os, resource, signal, sys
import optuna
from sklstm.search import resolve_storage
path = sys.argv[1]
study = optuna.load_study(study_name="s", storage=resolve_storage(path))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + 40, resource.RLIM_INFINITY))
try:
    study.add_trial(optuna.trial.create_trial(value=0.75))
except OSError as exc:
    print(exc.errno)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
def test_a_write_that_fills_the_disk_leaves_the_journal_whole_for_running_workers(tmp_path):
    # Optuna lets the OSError out and leaves the half-written record; the workers already
    # running (which repair the file only when they open it) appended their records to
    # its line, and every read of the journal failed from then on ("Invalid log format")
    path = str(tmp_path / "study.journal")
    study = optuna.create_study(study_name="s", storage=resolve_storage(path))
    study.add_trial(optuna.trial.create_trial(value=0.5))
    worker = python(DISK_FULL_WORKER, path)
    out, err = worker.communicate(timeout=120)
    assert out.split() == [str(errno.EFBIG)], err
    with pytest.warns(UserWarning, match="ended with a record cut short"):
        study.add_trial(optuna.trial.create_trial(value=0.25))  # a worker still running
    again = optuna.load_study(study_name="s", storage=resolve_storage(path))
    assert [t.value for t in again.trials] == [0.5, 0.25]
