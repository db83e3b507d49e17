"""Checks of the objective's estimator and space made before any trial."""

import os
import re
import warnings

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.search import tune
from sklstm.search.objective import checked_objective

from ..settings import TINY


@pytest.fixture
def unmeasured_memory(monkeypatch, tmp_path):
    """A machine where a CPU fit's peak memory is not measured (``peak_memory_`` None),
    as without Linux's /proc: the file that restarts the peak cannot be written."""
    monkeypatch.setattr("sklstm.resources.memory._CLEAR_REFS", str(tmp_path))  # a directory


def test_peak_memory_that_cannot_be_measured_is_refused_before_any_study(
        unmeasured_memory, pipeline, data, tmp_path):
    # every trial fitted all its folds, then failed: "peak_memory_ is not measured on
    # this platform"
    pipeline.set_params(lstm__device="cpu")
    storage = str(tmp_path / "s.journal")
    with pytest.raises(ValueError, match=r"multi_objective='peak_memory' needs the peak memory "
                       r"of every fit, but that of a fit on lstm__device='cpu' cannot be "
                       r"measured here .* Minimize 'fit_time' or 'n_updates' instead"):
        tune(pipeline, *data, n_trials=1, cv=2, multi_objective="peak_memory",
             space={"batch_size": [8, 16]}, storage=storage)
    assert not os.path.exists(storage)  # no study was made
    # the costs measured everywhere are still searched
    objective = checked_objective(pipeline, *data, cv=2, multi_objective="n_updates",
                                  space={"batch_size": [8, 16]})
    assert objective.multi_objective == "n_updates"


def test_a_searched_device_is_checked_in_every_choice(unmeasured_memory, pipeline, data):
    with pytest.raises(ValueError, match=r"lstm__device='cpu' cannot be measured"):
        checked_objective(pipeline.set_params(lstm__device="auto"), *data, cv=2,
                          multi_objective="peak_memory", space={"device": ["cpu"]})


def test_peak_memory_where_it_is_measured_is_searched(pipeline, data):
    objective = checked_objective(pipeline.set_params(lstm__device="cpu"), *data, cv=2,
                                  multi_objective="peak_memory", space={"batch_size": [8]})
    assert objective.multi_objective == "peak_memory"


@pytest.mark.parametrize("estimator", [LSTMClassifier, LSTMRegressor])
@pytest.mark.parametrize(("value", "said"), [(np.nan, "NaN"), (np.inf, "infinity")])
def test_targets_that_are_not_finite_are_named_by_sample(estimator, value, said, data,
                                                         tmp_path):
    # refused before the storage is opened (the fit's own check, the same since, said
    # only "Input y contains NaN.": no sample, no fix)
    X, y = data
    y = y.astype(float)
    y[[7, 9]] = value
    storage = str(tmp_path / "s.journal")
    with pytest.raises(ValueError, match=re.escape(
            f"Input y contains {said} at sample 7 (2 of 60 targets are not finite)")
            + ".*drop those samples .* or fill them in"):
        tune(estimator(device="cpu", **TINY), X, y, n_trials=1, cv=2, storage=storage,
             space={"batch_size": [8]})
    assert not os.path.exists(storage)


@pytest.mark.parametrize(("estimator", "cv", "limit"), [
    (LSTMClassifier, 31, "cv=30 at most: there are 30 samples of the largest class"),
    (LSTMClassifier, 61, "cv=30 at most: there are 30 samples of the largest class"),
    (LSTMRegressor, 61, "cv=60 at most: there are 60 samples"),
])
def test_more_folds_than_the_data_allow_are_refused_with_the_most_they_allow(
        estimator, cv, limit, data):
    # scikit-learn's bare "n_splits=31 cannot be greater than the number of members in
    # each class." named no number of folds that would do
    with pytest.raises(ValueError, match=re.escape(f"cv={cv} cannot split these 60 samples (")
                       + ".*" + re.escape(f"); pass fewer folds ({limit})")):
        checked_objective(estimator(device="cpu", **TINY), *data, cv=cv,
                          space={"batch_size": [8]})


def test_a_class_of_one_sample_in_two_is_refused_before_the_study(data, tmp_path):
    # the fold that tests the single sample trains on the other class alone: every
    # trial failed there (scikit-learn only warns of the least populated class)
    X, _ = data
    y = np.zeros(len(X), dtype=int)
    y[5] = 1
    storage = str(tmp_path / "s.journal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (scikit-learn's, about that class)
        with pytest.raises(ValueError, match=re.escape(
                "trains on class 0 alone (all of class 1 (1 sample) is in its test part), "
                "and a classifier needs 2 classes to fit: every trial would fail at that "
                "fold; add samples of class 1 (2 at least) or drop its sample")):
            tune(LSTMClassifier(device="cpu", **TINY), X, y, n_trials=1, cv=2,
                 storage=storage, space={"batch_size": [8]})
    assert not os.path.exists(storage)


def test_unstratified_folds_that_train_on_one_class_are_refused(data):
    X, _ = data
    y = np.repeat([0, 1], len(X) // 2)  # sorted: KFold(2) tests each class on the other
    with pytest.raises(ValueError, match=re.escape(
            "fold 0 of the cv trains on class 1 alone (all of class 0 (30 samples) is in "
            "its test part)") + ".*use stratified folds"):
        checked_objective(LSTMClassifier(device="cpu", **TINY), X, y, cv=KFold(2),
                          space={"batch_size": [8]})
    # a regressor fits them, and a class of one sample in three is fitted too
    checked_objective(LSTMRegressor(device="cpu", **TINY), X, y.astype(float), cv=KFold(2),
                      space={"batch_size": [8]})
    y = np.arange(len(X)) % 2
    y[4] = 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        checked_objective(LSTMClassifier(device="cpu", **TINY), X, y, cv=2,
                          space={"batch_size": [8]})


@pytest.mark.parametrize(("cv", "estimator", "fix"), [
    # the fix said was "pass fewer folds (cv=60 at most: there are 60 samples)", or
    # "more data are needed": no number of folds or samples mends either
    (GroupKFold(2), LSTMRegressor, "GroupKFold keeps each group in one fold: pass groups="),
    (StratifiedKFold(2), LSTMRegressor,
     "StratifiedKFold stratifies class labels, and the targets are 'continuous': pass a "
     "splitter without classes"),
])
def test_a_splitter_refused_for_another_reason_than_its_folds_is_not_told_fewer_folds(
        cv, estimator, fix, data):
    X, y = data
    with pytest.raises(ValueError, match=re.escape(fix)) as info:
        checked_objective(estimator(device="cpu", **TINY), X, y.astype(float) + 0.5, cv=cv,
                          space={"batch_size": [8]})
    assert "fewer folds" not in str(info.value) and "more data" not in str(info.value)


def test_splits_used_up_or_with_an_empty_part_are_refused_before_the_study(data, tmp_path):
    # a generator of splits used up by an earlier search gave no folds: every trial
    # failed with "the objective returned NaN"
    X, y = data
    used = KFold(2).split(X)
    list(used)
    storage = str(tmp_path / "s.journal")
    for cv, said in [(used, "cv (a generator) gave no (train, test) splits"),
                     ([], "cv (a list) gave no (train, test) splits"),
                     ([(np.arange(60), np.array([], dtype=int))],
                      "fold 0 of the cv has an empty test part")]:
        with pytest.raises(ValueError, match=re.escape(said)):
            tune(LSTMRegressor(device="cpu", **TINY), X, y.astype(float), n_trials=1,
                 cv=cv, storage=storage, space={"batch_size": [8]})
    assert not os.path.exists(storage)
    # a list of splits, and boolean masks, are folds
    mask = np.arange(60) < 30
    objective = checked_objective(LSTMRegressor(device="cpu", **TINY), X, y.astype(float),
                                  cv=[(mask, ~mask)], space={"batch_size": [8]})
    assert len(objective.splits_) == 1
