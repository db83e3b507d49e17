"""Studies: storage URLs, validation before creation, resume after a kill, several workers."""

import json
import os
import re

import numpy as np
import optuna
import pytest
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score, make_scorer
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.preprocessing import SequenceScaler
from sklstm.search import (
    create_or_load_study,
    fit_stats_scorers,
    resolve_storage,
    results_table,
    selected_params,
    summary,
    tune,
)
from sklstm.search.report import ProgressBar

from ..settings import TINY
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
     ({"multi_objective": "fit_time"}, {"multi_objective": "peak_memory"}, "objectives"),
     # both were recorded as "_Scorer", and the second search joined the study
     ({"scoring": make_scorer(f1_score)}, {"scoring": make_scorer(accuracy_score)},
      r"scoring=\"make_scorer\(f1_score, response_method='predict'\)\""),
     ({"scoring": make_scorer(f1_score)}, {"scoring": make_scorer(f1_score, average="macro")},
      r"not \"make_scorer\(f1_score, response_method='predict', average=macro\)\"")],
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
    # the folds were split first: "'<' not supported between 'NoneType' and 'str'"
    "a label missing": ({"lr": [0.01]},
                        lambda X, y: (X, np.array([None, *y[1:].astype(str)], dtype=object)),
                        "Mix of label input types in y: NoneType"),
}


@pytest.mark.parametrize("case", sorted(INVALID_SEARCHES))
def test_invalid_search_leaves_no_study_behind(case, pipeline, data, tmp_path):
    space, change, message = INVALID_SEARCHES[case]
    storage = tmp_path / "s.journal"
    with pytest.raises(ValueError, match=message):
        tune(pipeline, *change(*data), storage=str(storage), study_name="s", space=space)
    assert not storage.exists()  # not even opened


#: name -> (the distribution a study's trial sampled "lr" from, the new space's spec, error)
CHANGED_SPACES = {
    "other choices": (optuna.distributions.CategoricalDistribution([0.01, 0.03]), [0.01],
                      "dynamic value space"),
    "other kind": (optuna.distributions.CategoricalDistribution([0.01, 0.03]),
                   optuna.distributions.FloatDistribution(0.01, 0.03), "distribution kind"),
    "other log scale": (optuna.distributions.FloatDistribution(1e-3, 0.1, log=True),
                        optuna.distributions.FloatDistribution(1e-3, 0.1), "log configuration"),
}


@pytest.mark.parametrize("case", sorted(CHANGED_SPACES))
def test_joining_a_study_with_another_space_is_refused(case, pipeline, data, tmp_path):
    stored, spec, reason = CHANGED_SPACES[case]
    storage = str(tmp_path / "s.journal")
    study = create_or_load_study("s", storage, heartbeat_interval=60)  # (tune's default)
    trial = study.ask({"lr": stored})
    study.tell(trial, 0.5)
    # timeout: without the check, every new trial failed in Optuna's suggest for ever
    with pytest.raises(ValueError, match=rf"'lr' from .*{reason}.*new study_name"):
        tune(pipeline, *data, n_trials=2, timeout=10, cv=2, storage=storage, study_name="s",
             space={"lr": spec})
    assert len(load_study(storage, "s").trials) == 1  # no trial was created


#: name -> (a bad argument of tune, the error). sklstm tune refuses the same values.
BAD_RUN_ARGS = {
    "no trials": ({"n_trials": 0}, ValueError, "n_trials must be an int >= 1"),
    "negative trials": ({"n_trials": -3}, ValueError, "n_trials must be an int >= 1"),
    "fractional trials": ({"n_trials": 1.5}, TypeError, "n_trials must be an int"),
    "bool trials": ({"n_trials": True}, TypeError, "n_trials must be an int"),
    "negative timeout": ({"timeout": -1}, ValueError, "timeout must be a positive number"),
    "nan timeout": ({"timeout": float("nan")}, ValueError, "timeout must be a positive"),
    "text timeout": ({"timeout": "5"}, TypeError, "timeout must be a positive number"),
    "negative heartbeat": ({"heartbeat_interval": -5}, ValueError, "None to turn heartbeats"),
    "negative retries": ({"retry_failed": -1}, ValueError, "retry_failed must be an int >= 0"),
    "sampler name": ({"sampler": "tpe"}, TypeError, "optuna.samplers.BaseSampler instance"),
    # any value's truth was taken: baseline="no" ran the baseline
    "baseline text": ({"baseline": "no"}, TypeError, "baseline must be True or False, got 'no'"),
    "reuse number": ({"reuse_duplicates": 0}, TypeError, "reuse_duplicates must be True or"),
}


@pytest.mark.parametrize("case", sorted(BAD_RUN_ARGS))
def test_bad_run_arguments_are_refused_before_the_storage_exists(case, pipeline, data,
                                                                   tmp_path):
    kwargs, error, message = BAD_RUN_ARGS[case]
    storage = tmp_path / "s.journal"
    with pytest.raises(error, match=message):
        tune(pipeline, *data, **{"n_trials": 1, "cv": 2, "space": {"lr": [0.01]}, **kwargs},
             storage=str(storage), study_name="s")
    assert not storage.exists()


def test_a_heartbeat_longer_than_a_day_is_refused_before_the_data_are_checked(
        pipeline, data, tmp_path):
    # only the storage refused it, once the data had been checked and split: here the
    # data's error (y of another length) came first
    X, y = data
    with pytest.raises(ValueError, match=re.escape(
            "heartbeat_interval must be at most 86400 seconds (a day), got 172800")):
        tune(pipeline, X, y[:-1], n_trials=1, heartbeat_interval=2 * 86400,
             storage=str(tmp_path / "s.journal"))
    assert list(tmp_path.iterdir()) == []


def test_n_trials_is_the_study_total(pipeline, data, tmp_path):
    kwargs = dict(cv=2, storage=str(tmp_path / "s.journal"), study_name="s",
                  space={"lr": [0.01, 0.03]}, pruner="none")
    assert len(tune(pipeline, *data, n_trials=2, **kwargs).trials) == 2
    assert len(tune(pipeline, *data, n_trials=np.int64(2), **kwargs).trials) == 2  # nothing to do
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


@pytest.mark.parametrize(("name", "error"), [("", ValueError), ("   ", ValueError),
                                             (None, TypeError), (3, TypeError)])
def test_a_blank_or_non_str_study_name_is_refused(name, error, tmp_path):
    # "   " (which sklstm tune refused) and 3 made studies of those names
    storage = tmp_path / "s.journal"
    with pytest.raises(error, match=r"study_name must be a (non-empty )?str.*e\.g\. 'lstm-v1'"):
        create_or_load_study(name, str(storage))
    assert not storage.exists()


#: name -> how the second search differs from the first (tune's arguments it changes).
OTHER_SEARCHES = {
    "estimator": (lambda X, y: {"estimator": LSTMRegressor(**TINY), "y": y.astype(float)},
                  "estimator='SequenceScaler > LSTMClassifier', not 'LSTMRegressor'"),
    "fewer samples": (lambda X, y: {"X": X[:40], "y": y[:40]},
                      r"data='60 samples, targets \w+', not '40 samples, targets \w+'"),
    "other labels": (lambda X, y: {"y": 1 - y}, r"data='60 samples, targets \w+', not"),
    # scored on 3 folds against the study's 2; a duplicate replayed a 2-fold value
    "other folds": (lambda X, y: {"cv": 3}, r"cv='2 folds, \w+', not '3 folds, \w+'"),
    # a rerun after a change of the estimator returned the study of the old one
    "other parameters": (
        lambda X, y: {"estimator": Pipeline([("scale", SequenceScaler()), ("lstm", LSTMClassifier(
            **{**TINY, "hidden_size": 5, "verbose": 1}))])},
        r"an estimator with lstm__hidden_size=4 \(now 5\): its"),
}


@pytest.mark.parametrize("case", sorted(OTHER_SEARCHES))
def test_joining_a_study_of_another_estimator_or_data_is_refused(case, pipeline, data,
                                                                 tmp_path):
    # Both were mixed into the study: a regressor's R^2 ranked against a classifier's
    # accuracy, scores on other folds against the study's.
    change, message = OTHER_SEARCHES[case]
    kwargs = dict(n_trials=1, cv=2, storage=str(tmp_path / "s.journal"), study_name="s",
                  space={"lr": [0.01]}, baseline=False)
    tune(pipeline, *data, **kwargs)
    search = {"estimator": pipeline, "X": data[0], "y": data[1], **kwargs}
    with pytest.raises(ValueError, match=message + r".*not comparable\. .*nother study"):
        tune(**{**search, **change(*data), "n_trials": 2})
    assert len(load_study(kwargs["storage"], "s").trials) == 1
    # the same search joins, with numpy numbers for its limits, also from a worker whose
    # estimator differs only in a parameter the space sets and in where the fit runs
    worker = clone(pipeline).set_params(lstm__lr=0.5, lstm__n_threads=1, lstm__verbose=1)
    study = tune(worker, *data, **{**kwargs, "n_trials": np.int64(2),
                                   "timeout": np.float64(60)})
    assert len(study.trials) == 2


#: (the study's heartbeat_interval, this worker's, what the refusal says)
OTHER_HEARTBEATS = {
    "none then some": (None, 1, r"run by workers with no heartbeats, but this worker has "
                       r"heartbeats every 1 s .*heartbeat_interval=None \(sklstm tune "
                       r"--heartbeat 0\)"),
    "some then none": (1, None, r"heartbeats every 1 s \(a trial failed after 2 s without "
                       r"one\), but this worker has no heartbeats.*heartbeat_interval=1 "
                       r"\(sklstm tune --heartbeat 1\)"),
    # the faster one failed the slower one's live trials between two of its heartbeats
    "slower": (1, 60, r"every 1 s .*but this worker has heartbeats every 60 s"),
}


@pytest.mark.parametrize("storage_url", ["journal", "sqlite"], indirect=True)
@pytest.mark.parametrize("case", sorted(OTHER_HEARTBEATS))
def test_a_worker_with_other_heartbeats_is_refused_before_its_first_trial(
        case, pipeline, data, storage_url, study_name):
    # A worker with heartbeats failed the running trial of a live worker without them
    # (or beating less often) after its grace period: the result was lost, and the
    # worker that ran it stopped on Optuna's bare "AssertionError: Should not reach."
    study_beats, worker_beats, message = OTHER_HEARTBEATS[case]
    kwargs = dict(cv=2, storage=storage_url, study_name=study_name, space={"lr": [0.01]},
                  baseline=False)
    tune(pipeline, *data, n_trials=1, heartbeat_interval=study_beats, **kwargs)
    with pytest.raises(ValueError, match=message) as refusal:
        tune(pipeline, *data, n_trials=2, heartbeat_interval=worker_beats, **kwargs)
    assert "their results are lost" in str(refusal.value)
    assert len(load_study(storage_url, study_name).trials) == 1
    # with the study's own setting it joins
    study = tune(pipeline, *data, n_trials=2, heartbeat_interval=study_beats, **kwargs)
    assert len(study.trials) == 2


@pytest.mark.parametrize("storage_url", ["journal", "sqlite"], indirect=True)
def test_a_storage_instance_is_compared_by_the_heartbeats_it_sends(storage_url, study_name):
    # (sklstm tune passes its storage opened: heartbeat_interval does not apply to it)
    def join(**settings):
        return create_or_load_study(study_name, resolve_storage(storage_url, **settings),
                                    heartbeat_interval=None)

    optuna.create_study(study_name=study_name, storage=resolve_storage(storage_url),
                        direction="maximize")  # made without sklstm: nothing recorded
    study = join(heartbeat_interval=1, grace_period=5)  # the first worker records its own
    assert study.user_attrs["sklstm_heartbeat"] == {"heartbeat_interval": 1,
                                                    "grace_period": 5}
    with pytest.raises(ValueError, match=(
            r"after 5 s without one\), but this worker has heartbeats every 1 s \(a trial "
            r"failed after 2 s without one\).*a storage opened with resolve_storage\(\.\.\., "
            r"heartbeat_interval=1, grace_period=5\), or")):
        join(heartbeat_interval=1)
    with pytest.raises(ValueError, match="but this worker has no heartbeats"):
        join()
    assert join(heartbeat_interval=1, grace_period=5).trials == []


# --- what a study looks like (sklstm.search.report, sklstm.search.metrics) ------------

@pytest.mark.parametrize(("direction", "best"), [("maximize", "3"), ("minimize", "1")])
def test_the_progress_bar_shows_the_best_value_of_the_direction(direction, best):
    study = optuna.create_study(direction=direction)
    for value in (2, 1, 3):
        study.add_trial(optuna.trial.create_trial(value=value))
    bar = ProgressBar(study, 3)  # showed the largest value for a minimized study
    bar.bar.close()
    assert bar.bar.postfix == f"best={best}"


@pytest.mark.parametrize(("max_rows", "error"), [(0, ValueError), (-1, ValueError),
                                                 (1.5, TypeError), (True, TypeError)])
def test_results_table_refuses_a_bad_max_rows(max_rows, error):
    # 0 printed "(no trials)" for a study that had some, -1 left out the last trial
    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(value=1.0))
    with pytest.raises(error, match="max_rows must be an int >= 1 or None"):
        results_table(study, max_rows=max_rows)
    assert len(results_table(study, max_rows=np.int64(1)).splitlines()) == 2


def test_summary_gives_the_selected_parameters_as_json():
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(
        value=0.9, params={"batch_size": 8, "seq_len": None},
        distributions={"batch_size": optuna.distributions.CategoricalDistribution([8, 16]),
                       "seq_len": optuna.distributions.CategoricalDistribution([None, 50])},
        user_attrs={"fixed_params": {"optimizer": "adam", "tol": None}}))
    last = summary(study).splitlines()[-1]
    assert last.startswith("params as JSON: ")
    params = json.loads(last.removeprefix("params as JSON: "))  # "None", "'adam'" were not
    assert params == {"batch_size": 8, "seq_len": None, "optimizer": "adam", "tol": None}


def test_summary_leaves_values_json_cannot_hold_out_of_its_json_line():
    # their repr pasted back as text: set_params(optimizer="<class '...SGD'>")
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(
        value=0.9, params={"batch_size": 8},
        distributions={"batch_size": optuna.distributions.CategoricalDistribution([8, 16])},
        user_attrs={"fixed_params": {"optimizer": "<class 'torch.optim.sgd.SGD'>",
                                     "class_weight": "{0: 1, 1: 3}", "tol": None},
                    "fixed_params_as_repr": ["optimizer", "class_weight"]}))
    lines = summary(study).splitlines()
    assert "  optimizer = <class 'torch.optim.sgd.SGD'>" in lines
    assert "  class_weight = {0: 1, 1: 3}" in lines
    assert lines[-1] == ('params as JSON (without class_weight, optimizer, which JSON cannot '
                         'hold: selected_params gives them): {"batch_size": 8, "tol": null}')


def test_summary_names_a_pipelines_parameters_as_its_set_params_takes_them(pipeline, data,
                                                                           tmp_path):
    # the sampled "lr" beside the fixed "lstm__max_epochs": Pipeline.set_params refused it
    study = tune(pipeline, *data, n_trials=1, cv=2, storage=str(tmp_path / "s.journal"),
                 space={"lr": [0.01], "batch_size": [8, 16]}, baseline=False)
    last = summary(study, pipeline).splitlines()[-1]
    params = json.loads(last.removeprefix("params as JSON: "))
    assert params == selected_params(study, pipeline)
    assert set(params) == {"lstm__lr", "lstm__batch_size"}
    clone(pipeline).set_params(**params)


def test_fit_stats_scorers_takes_one_stat_by_name():
    # a str was taken for its letters: "stat must be one of ..., got 'f'"
    assert sorted(fit_stats_scorers("accuracy", stats="fit_time")) == ["fit_time", "score"]
