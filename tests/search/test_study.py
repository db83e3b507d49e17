"""Studies: storage URLs, validation before creation, resume after a kill, several workers."""

import json
import os

import numpy as np
import optuna
import pytest

from sklstm.search import create_or_load_study, resolve_storage, tune

from .helpers import cli, load_study, needs_postgres

#: Trials of ~0.5 s: long enough for two workers to interleave, short enough for CI.
#: One torch thread per worker: two workers on a 2-core runner must not oversubscribe it.
SLOW_TRIAL_SPACE = {"hidden_size": 4, "max_epochs": 10, "batch_size": [4, 8], "lr": [0.01, 0.03],
                    "n_threads": 1}


@pytest.fixture
def space_json(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(SLOW_TRIAL_SPACE))
    return path


@pytest.mark.parametrize(
    "url",
    ["postgress://localhost/db", "sqlite://relative.db", "nonexistent-dir/x/study.journal",
     "postgresql://nobody@127.0.0.1:1/nothing", "redis://127.0.0.1:1", "mysql://u@h/db", ""],
    ids=["typo-dialect", "sqlite-two-slashes", "missing-dir", "unreachable", "redis-missing",
         "driver-missing", "empty"],
)
def test_invalid_storage_is_a_clear_value_error(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"storage|journal|URL"):
        create_or_load_study("s", url)
    assert os.listdir(tmp_path) == []  # nothing was created on the way


def test_existing_study_with_other_direction_is_refused(pipeline, data, storage_url, study_name):
    optuna.create_study(storage=resolve_storage(storage_url), study_name=study_name,
                        direction="minimize")
    with pytest.raises(ValueError, match=r"directions \['minimize'\].*\['maximize'\]"):
        tune(pipeline, *data, n_trials=1, cv=2, storage=storage_url, study_name=study_name,
             space={"lr": [0.01]})
    assert load_study(storage_url, study_name).trials == []


@pytest.mark.parametrize(
    ("first", "second", "match"),
    [({"scoring": "accuracy"}, {"scoring": "f1"}, "scoring='accuracy'"),
     ({"multi_objective": "fit_time"}, {"multi_objective": "peak_memory"}, "objectives")],
)
def test_existing_study_with_other_objective_is_refused(first, second, match, tmp_path):
    storage = str(tmp_path / "s.journal")
    create_or_load_study("s", storage, **first)
    with pytest.raises(ValueError, match=match):
        create_or_load_study("s", storage, **second)
    assert create_or_load_study("s", storage, **first).study_name == "s"  # same settings join


#: name -> (space, the data changed, the error). Bad data failed every trial before,
#: after a journal file was written. NaN is refused by the scaler before the LSTM (its
#: fit_transform runs first), one class by the LSTM on what the scaler gives it.
INVALID_SEARCHES = {
    "unknown parameter": ({"nope": [1]}, lambda X, y: (X, y), "unknown parameter"),
    "one class": ({"lr": [0.01]}, lambda X, y: (X, np.zeros_like(y)),
                  "needs samples of at least 2 classes in y, but y contains only one class"),
    "nan in X": ({"lr": [0.01]}, lambda X, y: (np.where(X > 2, np.nan, X), y),
                 "Input X contains NaN"),
}


@pytest.mark.parametrize("case", sorted(INVALID_SEARCHES))
def test_invalid_search_leaves_no_study_behind(case, pipeline, data, tmp_path):
    space, change, message = INVALID_SEARCHES[case]
    storage = tmp_path / "s.journal"
    with pytest.raises(ValueError, match=message):
        tune(pipeline, *change(*data), storage=str(storage), study_name="s", space=space)
    assert not storage.exists()  # not even opened


def test_n_trials_is_the_study_total(pipeline, data, tmp_path):
    kwargs = dict(cv=2, storage=str(tmp_path / "s.journal"), study_name="s",
                  space={"lr": [0.01, 0.03]}, pruner="none")
    assert len(tune(pipeline, *data, n_trials=2, **kwargs).trials) == 2
    assert len(tune(pipeline, *data, n_trials=2, **kwargs).trials) == 2  # nothing to do
    assert len(tune(pipeline, *data, n_trials=3, **kwargs).trials) == 3  # tops up


@pytest.mark.parametrize(
    "storage_url", ["journal", pytest.param("postgres", marks=needs_postgres)], indirect=True
)
def test_two_workers_share_one_study(npz_path, space_json, storage_url, study_name):
    n_trials = 8
    args = ["tune", npz_path, "--space", space_json, "--cv", "2", "--storage", storage_url,
            "--study-name", study_name, "--n-trials", n_trials, "--no-progress"]
    workers = [cli(*args, "--seed", seed) for seed in (1, 2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    trials = load_study(storage_url, study_name).trials
    assert sorted(t.number for t in trials) == list(range(n_trials))  # all there, none twice
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both did some of the work
