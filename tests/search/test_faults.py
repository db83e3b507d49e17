"""Faults in a search: a worker killed mid-trial, Ctrl-C or SIGTERM in a worker (real
signals)."""

import errno
import json
import os
import signal
import time

import optuna
import pytest
from optuna.storages import fail_stale_trials
from optuna.trial import TrialState

from sklstm.search import resolve_storage, run_study
from sklstm.search.selection import BASELINE

from .helpers import (
    cli,
    load_study,
    needs_postgres,
    python,
    states,
    wait_for,
)

#: Trials of a second or two (30 epochs, no convergence rule): a worker is killed or
#: interrupted in the middle of one.
LONG_TRIALS = {"hidden_size": 4, "max_epochs": 30, "tol": None, "batch_size": [4, 8],
               "lr": [0.01, 0.03], "n_threads": 1}


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
