"""What a trial's retry keeps of the dead worker's trial (sklstm/search/trial_attrs.py)."""

import time

import optuna
import pytest

from sklstm.search import resolve_storage, run_study
from sklstm.search.trial_attrs import RUN_ATTRS, STALE, failed_as_stale, retry_callback

from .helpers import python

#: A worker killed (SIGKILL) in its trial, just after its objective recorded why it
#: failed: the trial stays RUNNING with a fail_reason, and its heartbeat stops.
DIES_FAILING = """
import os, signal, sys, optuna
from sklstm.search import resolve_storage
storage = resolve_storage(sys.argv[1], heartbeat_interval=1, retry_failed=1)
study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
for name, value in [("baseline", True), ("worker", "node:1"),
                    ("fail_reason", "MemoryError: out of memory")]:
    trial.set_user_attr(name, value)
os.kill(os.getpid(), signal.SIGKILL)
"""


def study_of_a_killed_worker(storage_url, retry_failed=0):
    """The study "s" of a worker SIGKILLed after its trial recorded a fail_reason
    (:data:`DIES_FAILING`), opened with heartbeats once its grace period has passed."""
    dead = python(DIES_FAILING, storage_url)
    _, err = dead.communicate(timeout=120)  # (a guard against a hang)
    assert dead.returncode == -9, err
    study = optuna.load_study(study_name="s", storage=resolve_storage(
        storage_url, heartbeat_interval=1, retry_failed=retry_failed))
    time.sleep(2.5)  # the grace period, twice the heartbeat interval: found stale at once
    return study


@pytest.mark.parametrize("storage_url", ["journal", "sqlite"], indirect=True)
def test_a_retried_trial_does_not_carry_the_dead_trials_fail_reason(storage_url):
    # Optuna's retry copies the failed trial's user attributes: the retry completed
    # with the dead run's fail_reason (and worker), read as a failure
    study = study_of_a_killed_worker(storage_url, retry_failed=1)
    run_study(study, lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == 0]
    assert [t.state.name for t in retried] == ["COMPLETE"]
    assert retried[0].user_attrs == {"baseline": True}  # what the trial is, kept
    assert study.trials[0].user_attrs["fail_reason"].startswith("MemoryError")  # kept


def test_no_retry_callback_without_retries():
    assert retry_callback(0) is None
    assert {"fail_reason", "worker", "sklstm_interrupted"} <= RUN_ATTRS


def test_a_stale_mark_copied_onto_a_retry_marks_nothing():
    # Optuna's own retry callback copies the failed trial's system attributes: a retry
    # that then failed in its objective read as failed for a dead worker, holding no place
    study = optuna.create_study()
    for number, state in [(0, "FAIL"), (1, "FAIL"), (0, "COMPLETE")]:
        trial = optuna.trial.create_trial(state=optuna.trial.TrialState[state],
                                          values=None if state == "FAIL" else [1.0],
                                          system_attrs={STALE: 0})
        trial.number = number
        assert failed_as_stale(trial) == (number == 0 and state == "FAIL")
    dead = optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL,
                                     system_attrs={STALE: 0, "kept": 1})
    dead.number = 0
    retry_callback(1)(study, dead)
    assert study.trials[0].system_attrs == {"kept": 1, "failed_trial": 0,
                                            "retry_history": [0]}
