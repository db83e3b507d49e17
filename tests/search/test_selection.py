"""Choosing the trial to use (sklstm.search.selection)."""

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution

from sklstm.search.selection import BASELINE, selected_trial


def _study_with_baseline(direction, baseline_folds, best_folds):
    """A study whose trial 0 is the baseline, trial 1 another one, with their fold scores."""
    study = optuna.create_study(direction=direction)
    dist = {"x": FloatDistribution(0, 1)}
    for folds, attrs in ((baseline_folds, {BASELINE: True}), (best_folds, {})):
        study.add_trial(optuna.trial.create_trial(
            value=float(np.mean(folds)), params={"x": 0.5}, distributions=dist,
            user_attrs={**attrs, "fold_scores": folds}))
    return study


@pytest.mark.parametrize(("direction", "baseline", "best"), [
    ("maximize", [0.50, 0.52, 0.48], [0.80, 0.83, 0.79]),
    # lower is better: the baseline was kept however far behind it was
    ("minimize", [0.50, 0.52, 0.48], [0.10, 0.13, 0.09]),
])
def test_selection_takes_a_best_trial_that_beats_the_baseline_in_the_studys_direction(
        direction, baseline, best):
    study = _study_with_baseline(direction, baseline, best)
    assert selected_trial(study).number == 1
    # and keeps the baseline when the lead is within the fold-to-fold noise
    noisy = _study_with_baseline(direction, [0.5, 0.5, 0.5],
                                 [0.6, 0.3, 0.65] if direction == "maximize" else
                                 [0.4, 0.7, 0.35])
    assert noisy.best_trial.number == 1 and selected_trial(noisy).number == 0


@pytest.mark.parametrize("cv", [True, np.bool_(False)])
def test_a_bool_cv_is_refused_as_no_number_of_folds(cv):
    # scikit-learn took True for one fold: "requires at least one train/test split by
    # setting n_splits=2 or more, got n_splits=1"
    from sklstm import LSTMClassifier
    from sklstm.search.selection import resolve_cv

    with pytest.raises(TypeError, match=r"cv must be 'auto', a number of folds \(>= 2\).*got "
                       f"{bool(cv)!r}"):
        resolve_cv(cv, LSTMClassifier(), np.arange(20) % 2)


def test_the_baseline_of_a_whole_number_is_the_equal_float_choice():
    # dropout=0 was no point of [0.0, 0.2]: the study ran without its baseline, and the
    # selection took the best trial, lucky or not
    from sklstm import LSTMClassifier
    from sklstm.search import resolve_space
    from sklstm.search.selection import baseline_params

    estimator = LSTMClassifier(dropout=0, bidirectional=True)
    baseline = baseline_params(resolve_space({"dropout": [0.2, 0.0]}, estimator), estimator)
    assert baseline == {"dropout": 0.0} and isinstance(baseline["dropout"], float)
    # a bool is no number: True is not the choice 1
    assert baseline_params(resolve_space({"bidirectional": [0, 1]}), estimator) is None


@pytest.mark.parametrize(("estimator", "y"), [
    ("LSTMRegressor", np.linspace(0, 1, 40)), ("LSTMClassifier", np.arange(40) % 2)])
def test_a_number_of_folds_with_groups_keeps_each_group_in_one_fold(estimator, y, recwarn):
    # check_cv's KFold ignored the groups (scikit-learn warned only "The groups parameter
    # is ignored by KFold"): a group in both halves of a fold scored the search too high
    import sklstm
    from sklstm.search.selection import resolve_cv

    groups = np.arange(40) // 4
    cv = resolve_cv(np.int64(3), getattr(sklstm, estimator)(), y, groups=groups)
    splits = list(cv.split(np.zeros((40, 1)), y, groups))
    assert len(splits) == 3
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
    assert not [w for w in recwarn if "groups parameter is ignored" in str(w.message)]
