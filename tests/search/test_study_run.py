"""Running trials in a study: the limits, the budget's waits (sklstm/search/study_run.py)."""

import re
import time

import optuna
import pytest

from sklstm.search import resolve_storage, run_study


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"n_trials": "3"}, TypeError, "n_trials must be an int >= 1, got '3'"),
    ({"n_trials": 0}, ValueError, "n_trials must be an int >= 1, got 0"),
    ({"timeout": -1}, ValueError, "timeout must be a positive number of seconds, got -1"),
])
def test_run_study_checks_its_limits_as_tune_does(kwargs, error, message):
    study = optuna.create_study()
    with pytest.raises(error, match=re.escape(message)):
        run_study(study, lambda t: t.suggest_float("x", 0, 1), **kwargs)
    assert study.trials == []


def test_run_study_refuses_an_objective_that_is_no_callable():
    # every trial failed ("'NoneType' object is not callable"), each one stored as FAIL
    study = optuna.create_study()
    with pytest.raises(TypeError, match="objective must be a callable objective"):
        run_study(study, None, n_trials=3)
    assert study.trials == []


def test_run_study_takes_no_callbacks_as_optuna_does():
    # Optuna's own default is callbacks=None: "'NoneType' object is not iterable"
    study = run_study(optuna.create_study(), lambda t: t.suggest_float("x", 0, 1), n_trials=1,
                      callbacks=None)
    assert len(study.trials) == 1


def test_run_study_says_what_it_waits_for_and_runs_a_dead_workers_place(tmp_path):
    # a worker killed mid-trial (no heartbeat ever): the other one waited for its place
    # in silence; on_wait hears of the trial once, and the place is run after the grace
    storage = resolve_storage(str(tmp_path / "s.db"), heartbeat_interval=1)
    study = optuna.create_study(storage=storage)
    dead = study.ask()
    told = []
    run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=1, on_wait=told.append)
    assert [[t.number for t in running] for running in told] == [[dead.number]]
    assert [t.state.name for t in study.trials] == ["FAIL", "COMPLETE"]


def test_run_studys_timeout_counts_the_wait_for_a_dead_workers_places(tmp_path):
    # the first claim waited for three killed workers' trials, past the timeout, and
    # the search then ran for the whole timeout again
    storage = resolve_storage(str(tmp_path / "s.db"), heartbeat_interval=1)
    study = optuna.create_study(storage=storage)
    for _ in range(3):
        study.ask()  # no heartbeat ever: failed after the grace period (2 s)
    run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=3, timeout=3,
              on_wait=lambda running: time.sleep(3.5))  # the wait outlasts the timeout
    assert [t.state.name for t in study.trials] == ["FAIL"] * 3


def test_run_study_refuses_a_baseline_that_is_no_dict():
    with pytest.raises(TypeError, match="baseline must be a dict of the baseline trial's"):
        run_study(optuna.create_study(), lambda t: 0.0, n_trials=1, baseline=True)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"callbacks": [5]}, "callbacks must hold callables callback(study, frozen_trial), got 5"),
    ({"on_wait": 5}, "on_wait must be a callable on_wait(running) or None, got 5"),
    ({"catch": "ValueError"}, "catch must be an exception class or a tuple of them"),
    ({"catch": (ValueError, 3)}, "catch must be an exception class or a tuple of them"),
    ({"show_progress_bar": "no"}, "show_progress_bar must be True or False, got 'no'"),
], ids=["callback", "on_wait", "catch-str", "catch-item", "progress-bar"])
def test_run_study_refuses_bad_hooks_before_any_trial(kwargs, message):
    # a callback that is no callable failed after the first trial was stored, on
    # "'int' object is not callable"; on_wait only once a full budget waited; a str
    # catch only once a trial raised; show_progress_bar="no" showed a bar
    study = optuna.create_study()
    with pytest.raises(TypeError, match=re.escape(message)):
        run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=2, **kwargs)
    assert study.trials == []


def test_run_study_takes_one_exception_class_to_catch():
    def objective(trial):
        raise ValueError(f"trial {trial.number}")

    study = run_study(optuna.create_study(), objective, n_trials=2, catch=ValueError)
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL"]
