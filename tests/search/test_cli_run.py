"""``sklstm tune``'s words around the study and its exit status (sklstm/_cli_run.py)."""

from datetime import datetime

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from sklstm._cli_run import interrupted_note, outcome, waiting_reporter
from sklstm.search import resolve_storage
from sklstm.search.trial_attrs import STALE, WORKER, worker_name


def test_the_waiting_reporter_says_what_a_full_budget_waits_for(capsys):
    # the budget's on_wait hook: the waiting note of a worker whose own trials ended
    # while the study was full (it looked only once, before the run)
    study = optuna.create_study()
    running = [study.ask() for _ in range(4)]
    running[0].set_user_attr("worker", "otherhost:1")
    waiting_reporter(120)(study.get_trials(states=[TrialState.RUNNING]))
    err = capsys.readouterr().err
    assert err == ("sklstm tune: the study is full; waiting for trial #0 of worker "
                   "otherhost:1, #1 of worker ?, #2 of worker ? and 1 more: a trial is "
                   "failed as lost if its worker sends no heartbeat for 120 s, and its "
                   "place run here\n")


def test_the_exit_message_says_a_last_failure_was_a_lost_worker():
    # it said the dead worker's own fail_reason, or "?" where it had none: not that the
    # worker died (the table said "worker ... lost: no heartbeat" for the latter)
    study = optuna.create_study(direction="maximize")
    study.add_trial(create_trial(state=TrialState.FAIL, user_attrs={"worker": "node:2"}))
    study.add_trial(create_trial(
        state=TrialState.FAIL, system_attrs={STALE: 1},
        user_attrs={"worker": "node:1", "fail_reason": "MemoryError: out of memory"}))
    status, message = outcome(study, datetime.now())
    assert status == 1
    assert message == ("no trial of the study completed (2 failed); last failure: worker "
                       "node:1 lost: no heartbeat; it had recorded MemoryError: out of memory")
    study.add_trial(create_trial(state=TrialState.FAIL, user_attrs={"worker": "node:2"}))
    assert outcome(study, datetime.now())[1].endswith(
        "last failure: worker node:2 lost: no heartbeat")


def test_an_interrupted_trial_left_running_is_said_to_hold_its_place_until_stale(tmp_path):
    # a trial whose failure the storage did not record as the search stopped: it was
    # said to be marked FAIL, and it holds its place until a worker fails it as stale
    started = datetime.now()
    storage = resolve_storage(str(tmp_path / "s.journal"), heartbeat_interval=5)
    with pytest.warns(UserWarning, match="Heartbeat"):  # (Optuna's: ask, no optimize)
        trial = optuna.create_study(storage=storage, study_name="s").ask()
    trial.set_user_attr(WORKER, worker_name())
    assert interrupted_note(storage, "s", started) == (
        ", and the interrupted trial #0 could not be marked FAIL and is left RUNNING: it "
        "holds its --n-trials place until a worker fails it as stale, 10 s after its "
        "last heartbeat")
