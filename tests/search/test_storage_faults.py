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
from sklstm.search import create_or_load_study, resolve_storage, run_study, tune

from .helpers import load_study


def _break_journal(monkeypatch, storage):
    """Every later append to the journal file fails as on a full disk."""
    def full(self, logs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(JournalFileBackend, "append_logs", full)


def _break_sqlite(monkeypatch, storage):
    """The SQLite file turns read-only: every later write fails as SQLite fails it
    (file permissions cannot do it for a test run as root)."""
    def read_only(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise sqlite3.OperationalError("attempt to write a readonly database")
    # only this storage's engine: the one that reads it back afterwards is another
    sqlalchemy.event.listen(unwrap_storage(storage).engine,
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
            break_storage(monkeypatch, study_storage(study))
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
    _break_journal(monkeypatch, study_storage(study))
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
        _break_journal(monkeypatch, study_storage(study))
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


@pytest.mark.parametrize("file_name, break_storage, cause", [
    ("study.journal", _break_journal, r"OSError: \[Errno 28\] No space left on device"),
    ("study.db", _break_sqlite, "OperationalError: attempt to write a readonly database"),
])
def test_a_storage_that_fails_to_create_the_study_says_so(file_name, break_storage, cause,
                                                           tmp_path, monkeypatch):
    # the storage opens, and its first write fails: the journal's bare "OSError: [Errno
    # 28]" named no storage; SQLite's was Optuna's "invalid data in the commit"
    path = str(tmp_path / file_name)
    storage = resolve_storage(path)
    break_storage(monkeypatch, storage)
    with pytest.raises(OSError, match=(
            rf"^the study 's' could not be created or joined in .*{re.escape(path)} "
            rf"\({cause}\); no trial was run\. Make the storage writable again")) as info:
        create_or_load_study("s", storage, scoring="accuracy")
    assert info.value.__cause__ is not None  # the storage's own error, chained
    monkeypatch.undo()
    assert optuna.get_all_study_names(resolve_storage(path)) == []


def test_an_error_of_the_study_checks_is_not_taken_for_the_storages(tmp_path):
    path = str(tmp_path / "study.journal")
    create_or_load_study("s", path, scoring="accuracy")
    with pytest.raises(ValueError, match="scoring"):
        create_or_load_study("s", path, scoring="f1")


def _failed_before_its_end(monkeypatch, study, ended):
    """Another worker fails the trials numbered in ``ended`` as stale before their
    objective returns."""
    def objective(trial):
        if trial.number in ended:
            study_storage(study).set_trial_state_values(trial._trial_id,
                                                        optuna.trial.TrialState.FAIL)
        return 0.5
    return objective, r"Cannot tell a FAIL trial."


def _failed_as_its_end_is_written(monkeypatch, study, ended):
    """... or between Optuna's check of the trial and its write (the storage refuses)."""
    write = JournalStorage.set_trial_state_values

    def raced(self, trial_id, state, values=None):
        if (state == optuna.trial.TrialState.COMPLETE
                and self.get_trial(trial_id).number in ended):
            write(self, trial_id, optuna.trial.TrialState.FAIL)
        return write(self, trial_id, state, values)

    monkeypatch.setattr(JournalStorage, "set_trial_state_values", raced)
    return (lambda trial: 0.5), r"Trial#\d has already finished and can not be updated."


@pytest.mark.parametrize("end", [_failed_before_its_end, _failed_as_its_end_is_written])
def test_a_trial_another_worker_ended_is_said_so_not_taken_for_a_broken_storage(
        end, tmp_path, monkeypatch):
    # another worker failed the trial as stale while it ran: Optuna refuses its result
    # and raised "AssertionError: Should not reach."; the storage works, and "make it
    # writable" would mislead. A second such trial stops the worker (clocks that differ
    # would end every trial it runs).
    path = str(tmp_path / "study.journal")
    study = optuna.create_study(study_name="s", storage=resolve_storage(path))
    objective, refusal = end(monkeypatch, study, ended={0, 1})
    said = (rf"a trial of study 's' was ended by another worker while this one ran it "
            rf"\({refusal}\): its heartbeat was older than the grace period there")
    with pytest.warns(UserWarning, match=f"{said}.* This worker goes on with the next trial"), \
            pytest.raises(RuntimeError, match=f"{said}.* Run this worker again") as info:
        run_study(study, objective, n_trials=1)
    assert not isinstance(info.value, OSError)  # not "make the storage writable"
    monkeypatch.undo()
    assert [t.state.name for t in load_study(path, "s").trials] == ["FAIL", "FAIL"]


@pytest.mark.parametrize("end", [_failed_before_its_end, _failed_as_its_end_is_written])
def test_a_worker_whose_trial_another_ended_goes_on_with_the_next(end, tmp_path,
                                                                   monkeypatch):
    # the worker stopped: alive, on a storage that works, with trials left to run
    path = str(tmp_path / "study.journal")
    study = optuna.create_study(study_name="s", storage=resolve_storage(path))
    objective, _ = end(monkeypatch, study, ended={0})
    with pytest.warns(UserWarning, match="This worker goes on with the next trial; another "
                      "trial ended so stops it"):
        run_study(study, objective, n_trials=2)
    monkeypatch.undo()
    # the ended trial holds no place in n_trials: the two asked for are complete
    assert [t.state.name for t in load_study(path, "s").trials] == [
        "FAIL", "COMPLETE", "COMPLETE"]
