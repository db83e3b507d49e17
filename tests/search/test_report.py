"""What a study looks like from a terminal (sklstm.search.report)."""

import time

import numpy as np
import optuna
import pytest
from optuna.storages import fail_stale_trials
from optuna.trial import TrialState

from sklstm.search import resolve_storage, results_table, summary
from sklstm.search.epoch_reporter import FOLDS_NOT_CONVERGED
from sklstm.search.report import ProgressBar, fail_reason
from sklstm.search.trial_budget import (
    FAIL_REASON,
    INTERRUPTED,
    fail_dead_workers_trials,
    uses_budget,
)

from .test_trial_attrs import study_of_a_killed_worker


def test_results_table_keeps_a_failure_of_several_lines_on_its_row():
    # the reason's other lines were printed under the first column, breaking the table
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.5))
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.FAIL,
        user_attrs={"fail_reason": "ValueError: first line\n  second line\nthird"}))
    lines = results_table(study).splitlines()
    assert len(lines) == 3
    assert lines[2].endswith("ValueError: first line second line third")


def test_results_table_says_a_trial_failed_for_its_lost_worker(tmp_path):
    # its fail_reason was "-": nothing said the worker died; and it still holds no place
    # in the budget (uses_budget reads the absence of a recorded reason)
    storage = resolve_storage(str(tmp_path / "study.journal"), heartbeat_interval=1)
    study = optuna.create_study(storage=storage, direction="maximize")
    study.ask().set_user_attr("worker", "node7:4242")  # killed mid-trial
    time.sleep(2.5)  # the grace period (twice the heartbeat interval)
    fail_stale_trials(study)
    assert results_table(study).splitlines()[1].endswith("worker node7:4242 lost: no heartbeat")
    (trial,) = study.trials
    assert FAIL_REASON not in trial.user_attrs and not uses_budget(trial)


@pytest.mark.parametrize("storage_url", ["journal", "sqlite"], indirect=True)
def test_results_table_says_a_worker_was_lost_that_had_recorded_a_reason(storage_url):
    # killed after its objective recorded a fail_reason: the heartbeats failed its trial
    # (it held no place, it was retried), but the table showed only the dead worker's
    # own "MemoryError: out of memory", as if the fit had failed
    study = study_of_a_killed_worker(storage_url)
    fail_dead_workers_trials(study)
    (trial,) = study.trials
    assert results_table(study).splitlines()[1].endswith(
        "worker node:1 lost: no heartbeat; it had recorded MemoryError: out of memory")
    assert fail_reason(trial) == ("worker node:1 lost: no heartbeat; it had recorded "
                                  "MemoryError: out of memory")


def test_results_table_names_the_trial_a_reused_duplicate_repeats():
    # its fit time (its twin's, copied) was shown as if it had fitted
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.5, user_attrs={"mean_fit_time": 2.0}))
    study.add_trial(optuna.trial.create_trial(
        value=0.5, user_attrs={"mean_fit_time": 2.0, "duplicate_of": 0}))
    header, first, second = (line.split() for line in results_table(study).splitlines())
    assert header[-1] == "duplicate_of"
    assert (first[0], first[-1]) == ("0", "-")
    assert (second[0], second[-1]) == ("1", "0")


def test_results_table_keeps_its_columns_for_parameters_named_as_them():
    # a plain Optuna study's parameter "state" (or "score") took the place of that
    # column: the table said a finished trial's state was 3
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda t: t.suggest_int("state", 3, 3) + t.suggest_float("score", 0, 0),
                   n_trials=1)
    header, row = (line.split() for line in results_table(study).splitlines())
    assert header[:3] == ["trial", "state", "score"] and row[:3] == ["0", "COMPLETE", "3"]
    assert (header[-2:], row[-2:]) == (["params_state", "params_score"], ["3", "0"])


def test_results_table_of_unfinished_failed_and_numpy_valued_trials(tmp_path):
    storage = resolve_storage(str(tmp_path / "study.journal"), heartbeat_interval=1)
    study = optuna.create_study(storage=storage, direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.5))
    study.add_trial(optuna.trial.create_trial(state=TrialState.PRUNED))
    study.ask()  # a worker killed before its first heartbeat
    time.sleep(2.5)  # the grace period (twice the heartbeat interval)
    fail_stale_trials(study)  # FAIL, and no reason: its worker never gave one
    study.ask()  # running
    lines = results_table(study).splitlines()
    assert [line.split() for line in lines[1:]] == [
        ["0", "COMPLETE", "0.5", *"----"], ["1", "PRUNED", *"-----"],
        ["2", "FAIL", *"----", "worker", "lost:", "no", "heartbeat"],
        ["3", "RUNNING", *"-----"]]
    # (an in-memory study keeps numpy numbers: printed as the floats they are)
    memory = optuna.create_study(direction="maximize")
    memory.add_trial(optuna.trial.create_trial(
        value=0.5, user_attrs={"mean_fit_time": np.float32(1.23456789)}))
    assert results_table(memory).splitlines()[1].split()[3] == "1.235"


def test_the_progress_bar_counts_the_trials_that_hold_a_place_in_the_budget(tmp_path):
    # a trial of a dead worker (failed without a reason) or interrupted by Ctrl-C is
    # run again: counted, the bar reached its total with a trial still to run
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}",
                                direction="maximize")
    study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL))
    study.add_trial(optuna.trial.create_trial(
        state=TrialState.FAIL, user_attrs={INTERRUPTED: True, FAIL_REASON: "interrupted"}))
    study.add_trial(optuna.trial.create_trial(
        state=TrialState.FAIL, user_attrs={FAIL_REASON: "ValueError: x"}))
    study.add_trial(optuna.trial.create_trial(value=0.5))
    bar = ProgressBar(study, 3)
    try:
        assert bar.bar.n == 2
        study.add_trial(optuna.trial.create_trial(value=0.7))
        bar(study, study.trials[-1])
        assert bar.bar.n == 3
    finally:
        bar.bar.close()


def test_the_progress_bar_counts_a_trial_optunas_retry_reruns_once():
    # a worker killed after its objective recorded a fail_reason, on a storage whose
    # stale trials sklstm does not mark: the budget counts it once, by its retry, and
    # so must the bar (it counted both)
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(
        state=TrialState.FAIL, user_attrs={FAIL_REASON: "ValueError: x"}))
    study.add_trial(optuna.trial.create_trial(
        value=0.5, system_attrs={"failed_trial": 0, "retry_history": [0]}))
    bar = ProgressBar(study, 2)
    try:
        assert bar.bar.n == 1
    finally:
        bar.bar.close()


def test_results_table_and_summary_count_the_folds_that_did_not_converge():
    # a search held its ConvergenceWarnings and said the first: the table and summary
    # are where a user finds every trial's count (a column only where any is not 0)
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.5,
                                              user_attrs={FOLDS_NOT_CONVERGED: "0 of 3"}))
    assert "not_converged" not in results_table(study)
    assert "did not converge" not in summary(study)
    study.add_trial(optuna.trial.create_trial(value=0.7,
                                              user_attrs={FOLDS_NOT_CONVERGED: "2 of 3"}))
    study.add_trial(optuna.trial.create_trial(value=0.6))  # (a plain Optuna trial)
    lines = results_table(study).splitlines()
    assert lines[0].split()[-1] == "not_converged"
    assert [line[-6:] for line in lines[1:]] == ["2 of 3", "     -", "0 of 3"]
    assert "\n1 of 3 trials had folds that did not converge" in summary(study)


def test_results_table_shows_no_score_for_a_pruned_trial():
    # Optuna gives a pruned trial the last score it reported (one epoch on one fold):
    # shown in the score column, it stood above the best trial's cross-validated mean
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.5, params={"x": 0},
                                              distributions={"x": _X}))

    def pruned(trial):
        trial.suggest_int("x", 0, 3)
        trial.report(0.9, 0)
        raise optuna.TrialPruned

    study.optimize(pruned, n_trials=1)
    assert study.trials[1].value == 0.9  # (Optuna's)
    rows = [line.split()[:3] for line in results_table(study).splitlines()[1:]]
    assert rows == [["0", "COMPLETE", "0.5"], ["1", "PRUNED", "-"]]


_X = optuna.distributions.IntDistribution(0, 3)


def test_summary_lists_a_configuration_of_the_pareto_front_once():
    # a reused duplicate has its twin's values: both were on the front, one point twice
    study = optuna.create_study(directions=["maximize", "minimize"])
    for values, attrs in (([0.9, 2.0], {}), ([0.5, 1.0], {}), ([0.9, 2.0], {"duplicate_of": 0})):
        study.add_trial(optuna.trial.create_trial(values=values, user_attrs=attrs))
    assert len(study.best_trials) == 3  # (Optuna's)
    lines = summary(study).splitlines()
    assert lines[1] == "Pareto front (score vs objective_1), 2 trials:"
    assert [line.split()[0] for line in lines[3:]] == ["1", "0"]
