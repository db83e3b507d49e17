"""Studies: storage URLs, validation before creation, resume after a kill, several workers."""

import json
import os

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


def test_invalid_search_leaves_no_study_behind(pipeline, data, tmp_path):
    storage = str(tmp_path / "s.journal")
    with pytest.raises(ValueError, match="unknown parameter"):
        tune(pipeline, *data, storage=storage, study_name="s", space={"nope": [1]})
    assert optuna.get_all_study_names(resolve_storage(storage)) == []


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
