"""Trials that repeat a finished one (sklstm.search.duplicates)."""

import optuna
from optuna.distributions import CategoricalDistribution

from sklstm.search.duplicates import replay
from sklstm.search.selection import BASELINE
from sklstm.search.study_pruner import DUPLICATE_OF


def test_a_repeat_of_the_baseline_is_no_baseline():
    # a sampled trial that repeated the baseline was recorded as the baseline too
    study = optuna.create_study(direction="maximize")
    dist = {"batch_size": CategoricalDistribution([8, 16])}
    study.add_trial(optuna.trial.create_trial(
        value=0.5, params={"batch_size": 16}, distributions=dist,
        user_attrs={BASELINE: True, "fold_scores": [0.4, 0.6]}))
    trial = study.ask(dist)
    assert replay(trial, study.trials[0]) == 0.5
    study.tell(trial, 0.5)
    attrs = study.trials[1].user_attrs
    assert attrs[DUPLICATE_OF] == 0 and attrs["fold_scores"] == [0.4, 0.6]
    assert BASELINE not in attrs
