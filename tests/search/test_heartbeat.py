"""Heartbeats of running trials (sklstm/search/heartbeat.py), on real storages."""

import threading
import time

import optuna
import pytest
from optuna.storages import fail_stale_trials
from optuna.trial import TrialState

from sklstm.search import resolve_storage, run_study
from sklstm.search.heartbeat import HEARTBEAT_ATTR
from sklstm.search.trial_attrs import STALE
from sklstm.search.trial_budget import uses_budget


@pytest.mark.parametrize("storage_url", ["journal", "sqlite"], indirect=True)
def test_a_trial_failed_elsewhere_while_it_runs_ends_its_heartbeat_quietly(
        storage_url, study_name, monkeypatch):
    # Another worker failed the trial as stale (this machine too loaded to beat in
    # time): the journal's next heartbeat raised UpdateFinishedTrialError, and the
    # heartbeat thread died with a traceback in the middle of the search's output.
    crashed = []
    monkeypatch.setattr(threading, "excepthook", crashed.append)
    study = optuna.create_study(study_name=study_name, direction="maximize",
                                storage=resolve_storage(storage_url, heartbeat_interval=1))
    other = resolve_storage(storage_url, heartbeat_interval=1)  # the other worker's

    def objective(trial):
        if trial.number == 0:
            study_id = other.get_study_id_from_name(study_name)
            other.set_trial_state_values(
                other.get_trial_id_from_study_id_trial_number(study_id, 0), TrialState.FAIL)
            time.sleep(1.5)  # past the next heartbeat (every second)
        return 1.0

    with pytest.warns(UserWarning, match="ended by another worker"):
        run_study(study, objective, n_trials=1)
    assert not crashed, crashed[0].exc_value
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE]


def test_a_journal_heartbeat_of_a_finished_trial_records_nothing(tmp_path):
    path = tmp_path / "study.journal"
    storage = resolve_storage(str(path), heartbeat_interval=1)
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    study.tell(trial, 1.0)
    size = path.stat().st_size
    storage.record_heartbeat(trial._trial_id)  # as the heartbeat thread would, late
    assert path.stat().st_size == size  # (no dead record appended)
    assert HEARTBEAT_ATTR not in study.trials[0].system_attrs
    assert study.trials[0].state == TrialState.COMPLETE


def test_a_retried_trial_is_not_stale_for_the_heartbeat_of_the_trial_it_repeats(tmp_path):
    # Optuna's retry copies the failed trial's system attributes, the journal's last
    # heartbeat among them: the retry, once a worker took it and before that worker's
    # first heartbeat, was already stale, and another worker failed it (and retried it,
    # or lost the result of the worker running it)
    storage = resolve_storage(str(tmp_path / "study.journal"), heartbeat_interval=1,
                              retry_failed=1)
    study = optuna.create_study(storage=storage)
    dead = study.ask()
    storage.record_heartbeat(dead._trial_id)  # its worker's last heartbeat
    time.sleep(2.5)  # the grace period: twice the heartbeat interval
    fail_stale_trials(study)
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.WAITING]
    retry = study.ask()  # taken by a worker whose heartbeat thread has not beaten yet
    assert retry.number == 1 and HEARTBEAT_ATTR in study.trials[1].system_attrs
    assert storage.stale_trial_ids(study._study_id) == []
    fail_stale_trials(study)
    assert study.trials[1].state == TrialState.RUNNING


@pytest.mark.parametrize("storage_url", ["journal", "sqlite"], indirect=True)
def test_trials_failed_for_their_dead_worker_are_marked_so(storage_url):
    # a worker killed just after its objective recorded a fail_reason left a trial that,
    # failed by the heartbeat, read as failed in its objective: it held a place in the
    # budget (and its retry found none)
    storage = resolve_storage(storage_url, heartbeat_interval=1, retry_failed=1)
    study = optuna.create_study(storage=storage)
    beat, never = study.ask(), study.ask()  # one beat before its worker died, one never
    storage.record_heartbeat(beat._trial_id)
    for trial in (beat, never):
        trial.set_user_attr("fail_reason", "MemoryError: out of memory")
    # the grace period (twice the heartbeat interval), and the second that SQLite's
    # heartbeat times are rounded to
    time.sleep(3.5)
    fail_stale_trials(study)
    dead, retries = study.trials[:2], study.trials[2:]
    assert [t.state for t in dead] == [TrialState.FAIL] * 2
    assert [t.system_attrs.get(STALE) for t in dead] == [0, 1]
    assert not any(map(uses_budget, dead))
    assert [t.state for t in retries] == [TrialState.WAITING] * 2
    assert not any(STALE in t.system_attrs for t in retries)  # (not copied)
