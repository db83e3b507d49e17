"""The study's pruner leaves out the trials that repeat a finished one."""

import optuna
import pytest

from sklstm.search import create_or_load_study, run_study
from sklstm.search.objective import checked_objective
from sklstm.search.study_pruner import DUPLICATE_OF, IgnoringDuplicates

GOOD, BAD = 0.03, 1e-6  # learning rates: learns within an epoch / stays at its initial loss


def test_copies_of_a_trial_are_no_startup_trials_of_the_pruner(pipeline, data, tmp_path):
    # the copy of trial 0 (its parameters again, not fitted) counted as the pruner's
    # second finished trial: trial 2 was pruned on the curve of one fitted trial
    pipeline.set_params(lstm__device="cpu")
    study = create_or_load_study(
        "s", str(tmp_path / "s.journal"),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0))
    for lr in (GOOD, GOOD, BAD):
        study.enqueue_trial({"lr": lr})
    objective = checked_objective(pipeline, *data, cv=2, space={"lr": [GOOD, 0.01, BAD, 2 * BAD]})
    run_study(study, objective, n_trials=3)
    assert [t.user_attrs.get(DUPLICATE_OF) for t in study.trials] == [None, 0, None]
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE", "COMPLETE"]
    # with a second fitted trial the pruner starts, as asked
    study.enqueue_trial({"lr": 0.01})
    study.enqueue_trial({"lr": 2 * BAD})
    run_study(study, objective, n_trials=5)
    assert study.trials[-1].state.name == "PRUNED"


@pytest.mark.parametrize("pruner", ["median", "hyperband", "halving"])
def test_every_pruner_decides_through_the_study_without_copies(pruner, tmp_path):
    study = create_or_load_study("s", str(tmp_path / "s.journal"), pruner=pruner)
    # (Hyperband as it is: its samplers keep to a bracket only under a HyperbandPruner)
    assert isinstance(study.pruner, optuna.pruners.HyperbandPruner if pruner == "hyperband"
                      else IgnoringDuplicates)

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if trial.number % 3 == 2:  # as the objective ends a copy of a finished trial
            trial.set_user_attr(DUPLICATE_OF, 0)
            return x
        for step in range(9):
            trial.report(x, step)
            if trial.should_prune():
                raise optuna.TrialPruned
        return x

    run_study(study, objective, n_trials=12, catch=())
    assert {t.state.name for t in study.trials} <= {"COMPLETE", "PRUNED"}


def test_no_pruning_is_said_plainly(tmp_path):
    study = create_or_load_study("s", str(tmp_path / "s.journal"), pruner="none")
    assert isinstance(study.pruner, optuna.pruners.NopPruner)
