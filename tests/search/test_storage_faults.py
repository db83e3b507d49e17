"""A storage that fails to record a finished trial (full disk, read-only database)."""

import errno
import re
import sqlite3

import optuna
import pytest
import sqlalchemy
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from sklstm._compat.optuna import study_storage, unwrap_storage
from sklstm.search import resolve_storage, run_study, tune

from .helpers import load_study


def _break_journal(monkeypatch, study):
    """Every later append to the journal file fails as on a full disk."""
    def full(self, logs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(JournalFileBackend, "append_logs", full)


def _break_sqlite(monkeypatch, study):
    """The SQLite file turns read-only: every later write fails as SQLite fails it
    (file permissions cannot do it for a test run as root)."""
    def read_only(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise sqlite3.OperationalError("attempt to write a readonly database")
    # only this study's engine: the one that reads it back afterwards is another
    sqlalchemy.event.listen(unwrap_storage(study_storage(study)).engine,
                            "before_cursor_execute", read_only)


@pytest.mark.parametrize("file_name, break_storage, cause", [
    ("study.journal", _break_journal, r"OSError: \[Errno 28\] No space left on device"),
    ("study.db", _break_sqlite, "OperationalError: attempt to write a readonly database"),
])
def test_a_storage_that_fails_to_record_a_trial_says_so_and_keeps_the_finished(
        file_name, break_storage, cause, tmp_path, monkeypatch):
    # Optuna raised a bare "AssertionError: Should not reach." while it handled the
    # failed write: neither the storage nor the cause was named
    path = str(tmp_path / file_name)
    study = optuna.create_study(study_name="s", storage=resolve_storage(path))
    calls = []

    def objective(trial):
        calls.append(trial.number)
        if len(calls) == 3:
            break_storage(monkeypatch, study)
        return trial.suggest_float("x", 0, 1)

    with pytest.raises(OSError, match=rf"could not be written to .*{path} \({cause}\); the 2 "
                       "finished trials it holds are kept") as info:
        run_study(study, objective, n_trials=5)
    assert info.value.__cause__ is not None  # the storage's own error, chained
    monkeypatch.undo()
    again = load_study(path, "s")
    assert [t.state.name for t in again.trials] == ["COMPLETE", "COMPLETE", "RUNNING"]
    assert [t.value for t in again.trials[:2]] == [t.value for t in study.trials[:2]]


def test_an_error_of_the_objective_is_not_taken_for_the_storages(tmp_path):
    study = optuna.create_study(study_name="s", storage=resolve_storage(
        str(tmp_path / "study.journal")))

    def objective(trial):
        raise OSError(errno.ENOENT, "my own file is missing")

    with pytest.raises(OSError, match="my own file is missing"):
        run_study(study, objective, n_trials=1, catch=())


def test_a_storage_that_fails_to_create_a_trial_says_so_too(tmp_path, monkeypatch):
    # not behind Optuna's assertion: the storage's error itself, which named no storage
    path = str(tmp_path / "study.journal")
    study = optuna.create_study(study_name="s", storage=resolve_storage(path))
    study.add_trial(optuna.trial.create_trial(value=0.5))
    _break_journal(monkeypatch, study)
    with pytest.raises(OSError, match=rf"could not be written to journal file {path} \(OSError: "
                       r"\[Errno 28\] No space left on device\); the 1 finished trial it "
                       "holds is kept"):
        run_study(study, lambda trial: trial.suggest_float("x", 0, 1), n_trials=3)
    monkeypatch.undo()
    assert [t.state.name for t in load_study(path, "s").trials] == ["COMPLETE"]


def test_a_storage_that_fails_to_enqueue_the_baseline_says_so_too(pipeline, data, tmp_path,
                                                                   monkeypatch):
    # tune enqueues its baseline before run_study: the journal's own error came out bare
    path = str(tmp_path / "study.journal")
    enqueue = optuna.Study.enqueue_trial

    def enqueue_on_a_full_disk(study, *args, **kwargs):
        _break_journal(monkeypatch, study)
        return enqueue(study, *args, **kwargs)

    monkeypatch.setattr(optuna.Study, "enqueue_trial", enqueue_on_a_full_disk)
    with pytest.raises(OSError, match=(
            rf"^the study 's' could not be written to journal file {re.escape(path)} "
            r"\(OSError: \[Errno 28\] No space left on device\); the 0 finished trials it "
            r"holds are kept, but the baseline trial was not enqueued\. Make the storage "
            "writable again")) as info:
        tune(pipeline, *data, n_trials=1, cv=2, study_name="s", storage=path,
             space={"batch_size": [8, 16]})
    assert isinstance(info.value.__cause__, OSError)  # the journal's own, chained
    monkeypatch.undo()
    assert load_study(path, "s").trials == []


def _failed_before_its_end(monkeypatch, study):
    """Another worker fails the trial as stale before its objective returns."""
    def objective(trial):
        study_storage(study).set_trial_state_values(trial._trial_id,
                                                    optuna.trial.TrialState.FAIL)
        return 0.5
    return objective, r"Cannot tell a FAIL trial."


def _failed_as_its_end_is_written(monkeypatch, study):
    """... or between Optuna's check of the trial and its write (the storage refuses)."""
    write = JournalStorage.set_trial_state_values

    def raced(self, trial_id, state, values=None):
        if state == optuna.trial.TrialState.COMPLETE:
            write(self, trial_id, optuna.trial.TrialState.FAIL)
        return write(self, trial_id, state, values)

    monkeypatch.setattr(JournalStorage, "set_trial_state_values", raced)
    return (lambda trial: 0.5), r"Trial#0 has already finished and can not be updated."


@pytest.mark.parametrize("end", [_failed_before_its_end, _failed_as_its_end_is_written])
def test_a_trial_another_worker_ended_is_said_so_not_taken_for_a_broken_storage(
        end, tmp_path, monkeypatch):
    # another worker failed the trial as stale while it ran: Optuna refuses its result
    # and raised "AssertionError: Should not reach."; the storage works, and "make it
    # writable" would mislead
    path = str(tmp_path / "study.journal")
    study = optuna.create_study(study_name="s", storage=resolve_storage(path))
    objective, refusal = end(monkeypatch, study)
    with pytest.raises(RuntimeError, match=r"a trial of study 's' was ended by another worker "
                       rf"while this one ran it \({refusal}\): its heartbeat was older than "
                       "the grace period there") as info:
        run_study(study, objective, n_trials=1)
    assert not isinstance(info.value, OSError)  # not "make the storage writable"
    monkeypatch.undo()
    assert [t.state.name for t in load_study(path, "s").trials] == ["FAIL"]
