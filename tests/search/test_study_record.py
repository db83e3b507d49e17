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


def _tune_twice(data, tmp_path, first, second):
    """Tune one trial with the space ``first``, then join with ``second``."""
    run = dict(cv=2, storage=str(tmp_path / "study.journal"), study_name="s", baseline=False,
               heartbeat_interval=None)
    est = LSTMClassifier(**{**TINY, "max_epochs": 1})
    tune(est, *data, n_trials=1, space=first, **run)
    return tune(est, *data, n_trials=2, space=second, **run)


def test_a_search_with_other_fixed_values_is_refused(data, tmp_path):
    # a rerun fixing hidden_size=2 instead of 4 joined the study in silence, and the
    # scores of the two models were ranked together
    with pytest.raises(ValueError, match=r"hidden_size=4 \(now 2\): its values.*search space the"):
        _tune_twice(data, tmp_path, {"lr": [0.01, 0.03], "hidden_size": 4},
                    {"lr": [0.01, 0.03], "hidden_size": 2})
    # the same space joins
    (tmp_path / "again").mkdir()
    study = _tune_twice(data, tmp_path / "again", {"lr": [0.01, 0.03], "hidden_size": 4},
                        {"lr": [0.01, 0.03], "hidden_size": 4})
    assert len(study.trials) == 2


def test_a_search_sampling_other_names_is_refused(data, tmp_path):
    # hidden_size sampled by the study, fixed by the rerun: the rerun's trials had no
    # hidden_size in their params, and best_params refitted them with the estimator's
    with pytest.raises(ValueError, match=r"'hidden_size' only by the study.*Search the"):
        _tune_twice(data, tmp_path, {"lr": [0.01, 0.03], "hidden_size": [2, 4]},
                    {"lr": [0.01, 0.03], "hidden_size": 4})


def test_a_study_without_the_space_record_stays_joinable():
    # a study made before the space was recorded left the space's names out of its
    # parameters and recorded no sampled names
    est, y = LSTMClassifier(hidden_size=8), np.arange(10) % 2
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(study_name="old", storage=storage, direction="maximize")
    old = study_attrs("accuracy", None, est, y, searched=["lr", "hidden_size"])
    del old["sklstm_sampled"]
    for key, value in old.items():
        study.set_user_attr(key, value)
    check_existing_study("old", storage, ["maximize"], study_attrs(
        "accuracy", None, est, y, searched=["lr"], fixed={"hidden_size": 4}))


def test_workers_whose_spaces_fix_other_devices_join():
    # where a fit runs is no part of what it learns, fixed by the space or not
    est, y = LSTMClassifier(hidden_size=8), np.arange(10) % 2
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    for key, value in study_attrs("accuracy", None, est, y, searched=["lr"],
                                  fixed={"device": "cpu", "verbose": 0}).items():
        study.set_user_attr(key, value)
    check_existing_study("s", storage, ["maximize"], study_attrs(
        "accuracy", None, est, y, searched=["lr"], fixed={"device": "cuda", "verbose": 1}))


@pytest.mark.parametrize("storage_url", ["journal", "sqlite"], indirect=True)
def test_a_study_of_other_sequences_with_the_same_targets_is_refused(storage_url, study_name):
    # only y was fingerprinted: a search rerun with other features (or another
    # preprocessing) of the same samples joined the study, its scores mixed in
    from sklstm.data.store import SequenceStore
    from sklstm.search import resolve_storage

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 6, 3)), np.arange(40) % 2
    storage = resolve_storage(storage_url)
    attrs = study_attrs("accuracy", None, y=y, X=X)
    study = optuna.create_study(storage=storage, study_name=study_name, direction="maximize")
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    for other in (X[:, :, :2], X * 2.0, X[::-1].copy()):
        with pytest.raises(ValueError, match=r"created with X=.*same features, preprocessing"):
            check_existing_study(study_name, storage, ["maximize"],
                                 study_attrs("accuracy", None, y=y, X=other))
    # the same sequences, in another dtype or container, are the same
    for same in (X.astype(np.float32), list(X), SequenceStore.from_array(X)):
        check_existing_study(study_name, storage, ["maximize"],
                             study_attrs("accuracy", None, y=y, X=same))
