"""What a study records of its search (sklstm/search/study_record.py), read back from
real storages by the next worker."""

import numpy as np
import optuna
import pytest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier
from sklstm.search import tune
from sklstm.search.study_checks import check_existing_study
from sklstm.search.study_record import study_attrs

from ..settings import TINY


@pytest.mark.parametrize("storage_url", ["journal", "sqlite"], indirect=True)
def test_a_search_with_a_nan_parameter_is_joined_by_its_next_worker(data, storage_url,
                                                                    study_name):
    # SimpleImputer's default missing_values=np.nan was recorded as NaN, which equals
    # nothing: the resumed search (or a second worker) was refused "missing_values=nan
    # (now nan)"
    X, y = data[0][:, :, 0].copy(), data[1]  # (n, T) sequences, as SimpleImputer takes them
    X[3, 2] = np.nan
    pipe = make_pipeline(SimpleImputer(), LSTMClassifier(**{**TINY, "max_epochs": 1}))
    run = dict(cv=2, space={"lr": [0.01, 0.03]}, storage=storage_url, study_name=study_name,
               baseline=False, heartbeat_interval=None)
    tune(pipe, X, y, n_trials=1, **run)
    study = tune(pipe, X, y, n_trials=2, **run)
    assert len(study.trials) == 2


@pytest.mark.parametrize("storage_url", ["journal", "sqlite"], indirect=True)
def test_numpy_and_non_finite_values_are_recorded_as_the_next_worker_reads_them(
        storage_url, study_name):
    est = LSTMClassifier(hidden_size=np.int64(4), lr=np.float32(0.01), gradient_clip=np.inf,
                         class_weight={np.int64(0): np.float32(1.0), 1: np.float64(np.nan)},
                         early_stopping=np.bool_(True))
    y = np.arange(10) % 2
    folds = [(np.arange(5), np.arange(5, 10))]
    attrs = study_attrs("accuracy", None, est, y, folds)
    storage = optuna.storages.RDBStorage(storage_url) if storage_url.startswith("sqlite") \
        else optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(storage_url))
    study = optuna.create_study(study_name=study_name, storage=storage)
    for key, value in attrs.items():
        study.set_user_attr(key, value)  # (a value JSON cannot hold raises here)
    params = study.user_attrs["sklstm_params"]
    assert (params["hidden_size"], params["early_stopping"]) == (4, True)
    assert params["class_weight"] == {"0": 1.0, "1": "nan"}
    check_existing_study(study_name, storage, ["minimize"],
                         study_attrs("accuracy", None, est, y, folds))
