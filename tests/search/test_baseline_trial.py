"""The baseline trial: enqueued once, whatever the workers starting together."""

import threading
import time

import optuna
import pytest

import sklstm.search.study
from sklstm import LSTMClassifier
from sklstm.search import TrialBudget, create_or_load_study, tune
from sklstm.search.baseline_trial import (
    MAX_BASELINE_DEATHS,
    enqueue_baseline,
    requeue_lost_baseline,
)
from sklstm.search.selection import BASELINE

from ..settings import TINY
from .helpers import load_study


def test_workers_starting_together_enqueue_one_baseline(monkeypatch, tmp_path):
    # Each found the new study empty and enqueued the baseline: the study ran it twice
    enqueue = optuna.Study.enqueue_trial

    def slow_enqueue(study, *args, **kwargs):
        time.sleep(0.5)  # the other worker looks at the study meanwhile
        enqueue(study, *args, **kwargs)

    monkeypatch.setattr(optuna.Study, "enqueue_trial", slow_enqueue)
    storage = str(tmp_path / "s.journal")
    studies = [create_or_load_study("s", storage) for _ in range(2)]
    workers = [threading.Thread(target=enqueue_baseline, args=(study, {"lr": 0.01}))
               for study in studies]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(load_study(storage, "s").trials) == 1


def test_a_baseline_lost_while_a_worker_runs_is_run_again(storage_url, study_name, data,
                                                         monkeypatch):
    # its worker killed after another worker had started (retry_failed=0): the budget
    # failed it as stale and gave its place to a sampled trial, and the study ended
    # without a baseline (enqueue_baseline looked only as a worker started)
    kwargs = dict(n_trials=2, cv=2, storage=storage_url, study_name=study_name,
                  pruner="none", heartbeat_interval=2, space={"lr": [0.01, 0.03]})
    estimator = LSTMClassifier(**TINY, device="cpu")  # (its lr=0.03: the baseline's)
    with monkeypatch.context() as patch:  # a worker killed as its baseline started
        patch.setattr(sklstm.search.study, "run_study", lambda study, *_, **__: (
            study.ask(), study)[1])  # (no heartbeat thread: as a dead worker's trial)
        (dead,) = tune(estimator, *data, **kwargs).trials
    assert dead.state.name == "RUNNING" and dead.user_attrs[BASELINE]
    trials = tune(estimator, *data, **kwargs).trials  # (before its grace period, 4 s)
    assert trials[0].state.name == "FAIL"
    assert [t.state.name for t in trials[1:]] == ["COMPLETE", "COMPLETE"]
    (rerun,) = [t for t in trials[1:] if t.user_attrs.get(BASELINE)]
    assert rerun.params == {"lr": 0.03}
    assert TrialBudget(load_study(storage_url, study_name), 2).n_used() == 2  # as any trial


def test_a_baseline_whose_workers_died_twice_is_not_run_again():
    # a configuration that kills its worker would otherwise kill every worker in turn
    study = optuna.create_study()
    for deaths in range(MAX_BASELINE_DEATHS + 1):
        trials = study.get_trials(deepcopy=False)
        if deaths < MAX_BASELINE_DEATHS:
            assert deaths == 0 or requeue_lost_baseline(study, {"lr": 0.01}, trials)
            if deaths == 0:
                study.enqueue_trial({"lr": 0.01}, user_attrs={BASELINE: True})
            trial = study.ask()  # run by a worker that dies: failed without a reason
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            with pytest.warns(RuntimeWarning, match="died 2 times"):
                assert not requeue_lost_baseline(study, {"lr": 0.01}, trials)
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL"]
