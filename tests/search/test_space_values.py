"""Searches written with numpy (spaces, counts, folds), and space values the estimator
refuses, before any trial."""

import re

import numpy as np
import optuna
import pytest
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from scipy.stats import loguniform, randint

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.search import (
    as_distributions,
    default_space,
    make_objective,
    resolve_space,
    suggest_params,
    tune,
)

from ..settings import TINY

NUMPY_SPECS = {
    "array of choices": (np.array([8, 16]), [8, 16]),
    "list of numpy ints": ([np.int64(8), np.int32(16)], [8, 16]),
    "tuple of 0-d arrays": ((np.array(8), np.array(16)), [8, 16]),
    "categorical of numpy ints": (CategoricalDistribution([np.int64(8), np.int64(16)]), [8, 16]),
    # as in scikit-learn's grids; it was a fixed value, refused by the estimator
    "range of choices": (range(8, 17, 8), [8, 16]),
}


@pytest.mark.parametrize("name", sorted(NUMPY_SPECS))
def test_numpy_choices_become_python_values(name):
    spec, choices = NUMPY_SPECS[name]
    (_, dist, _), = resolve_space({"batch_size": spec}, LSTMClassifier()).values()
    assert list(dist.choices) == choices
    assert all(type(c) is int for c in dist.choices)


def test_numpy_fixed_values_and_ranges():
    resolved = resolve_space({"lr": np.array(0.01), "max_epochs": np.int64(3),
                              "dropout": FloatDistribution(np.float32(0.0), np.float64(0.5)),
                              "num_layers": IntDistribution(np.int64(1), np.int64(2)),
                              "pooling": np.array(["last", "max"])}, LSTMClassifier())
    assert resolved["lr"][2] == 0.01 and type(resolved["lr"][2]) is float
    assert resolved["max_epochs"][2] == 3 and type(resolved["max_epochs"][2]) is int
    assert type(resolved["dropout"][1].high) is float
    assert resolved["pooling"][1].choices == ("last", "max")
    assert all(type(c) is str for c in resolved["pooling"][1].choices)


def test_numpy_space_runs_on_a_database_storage(tmp_path, data):
    """Optuna stores parameters as JSON, which numpy scalars are not."""
    space = {"batch_size": np.array([8, 16]), "lr": [np.float64(0.03)],
             "max_epochs": np.int64(1)}
    study = tune(LSTMClassifier(**TINY), *data, n_trials=2, cv=2, space=space,
                 storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    trial = study.trials[0]
    assert trial.params["batch_size"] in (8, 16) and type(trial.params["batch_size"]) is int
    assert trial.user_attrs["fixed_params"] == {"max_epochs": 1}


def test_sampled_values_are_python_values():
    trial = optuna.create_study().ask()
    params = suggest_params(trial, {"batch_size": np.array([8, 16]), "seq_len": np.array(4)})
    assert type(params["batch_size"]) is int and type(params["seq_len"]) is int


BAD_VALUES = {
    "choice 0": ({"batch_size": [0, 8]}, "space entry 'batch_size': the choice 0 would fail "
                 "every trial.*'batch_size' parameter of LSTMClassifier must be an int"),
    "bool for an int": ({"batch_size": [True, 8]}, "the choice True"),
    "bool from numpy": ({"batch_size": np.array([True, False])}, "the choice True"),
    # the message quotes the end, not the float just inside it that was also checked
    "float range for an int": ({"batch_size": FloatDistribution(8, 16)},
                               r"the range end 8\.0 .*Got 8\.0 instead"),
    "int range from 0": ({"batch_size": IntDistribution(0, 4)}, "the range end 0"),
    "fixed max_epochs=0": ({"max_epochs": np.int64(0)}, "the fixed value 0"),
    "dropout 1 as a choice": ({"dropout": [0.0, 1.0]}, "the choice 1.0"),
    "unknown pooling": ({"pooling": ["last", "sum"]}, "the choice 'sum'"),
    "2-D array": ({"batch_size": np.array([[8, 16]])}, "must be 1-D"),
    "empty array": ({"batch_size": np.array([], dtype=int)}, "must not be empty"),
    "earlier pipeline step": ({"scale__method": "robust"}, "'method' parameter of "
                              "SequenceScaler"),
    # numpy makes every value of a mixed array text: the message said "Got '8' instead"
    "numbers and text in one array": (
        {"batch_size": np.array([8, "auto"])},
        r"the choice '8' .*Got '8' instead\. \('8' is text: an np\.array of numbers and "
        r"text holds text only; give a list, or np\.array\(\.\.\., dtype=object\)\)"),
    "bools and text in one array": ({"split_level": np.array([False, "auto"])},
                                    r"the choice 'False' .*\('False' is text"),
    # a space file's range written in Python is a fixed dict: the message said only that
    "space file's range": ({"lr": {"low": 1e-3, "high": 0.1, "log": True}},
                           r"the fixed value .* \(a range is an Optuna distribution here: "
                           r"optuna\.distributions\.FloatDistribution\(0\.001, 0\.1, "
                           r"log=True\); .* see load_space\)"),
    "space file's int range": ({"hidden_size": {"low": 4, "high": 8}},
                               r"optuna\.distributions\.IntDistribution\(4, 8\)"),
    # read as the choices 8, 5 and 3: "Got 8 instead", and no word of the fix
    "a fixed sequence": ({"conv_kernel_sizes": (8, 5, 3)},
                         r"the choice 8 .*must be an array-like\. Got 8 instead\. \(a list or "
                         r"tuple in a space is its choices: set a fixed sequence on the "
                         r"estimator\)"),
    # an int parameter's range written as floats: "Got 4.0 instead", and no fix
    "float range of an int": ({"hidden_size": FloatDistribution(4, 64, log=True)},
                              r"the range end 4\.0 .*Got 4\.0 instead\. \(hidden_size takes "
                              r"ints: give optuna\.distributions\.IntDistribution\(4, 64, "
                              r"log=True\), or in a space file ints: \{\"low\": 4, "),
    "float range with a step": ({"num_layers": FloatDistribution(1, 3, step=1)},
                                r"IntDistribution\(1, 3, step=1\)"),
    "np.linspace choices of an int": ({"hidden_size": np.linspace(4, 8, 2)},
                                      r"the choice 4\.0 .*4\.0 is a float; pass the int 4\."),
    # a set's order differs between processes; it was taken as a fixed value
    "a set of choices": ({"batch_size": {8, 16}}, r"choices must be a list, a tuple, a "
                         r"range or a 1-D array, in an order; got the set"),
}


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_values_the_estimator_refuses_fail_before_any_trial(name, pipeline, data):
    space, message = BAD_VALUES[name]
    with pytest.raises(ValueError, match=message):
        make_objective(pipeline, *data, space=space)


@pytest.mark.parametrize("space", [{"batch_size": [0, 8]}, {"batch_size": [8.0]}])
def test_a_refused_number_is_not_called_text(space, pipeline, data):
    with pytest.raises(ValueError) as refused:
        make_objective(pipeline, *data, space=space)
    assert "is text" not in str(refused.value)


#: RandomizedSearchCV's distributions -> (parameter, distribution, the Optuna one to give).
SCIPY_SPECS = {
    "loguniform": ("lr", loguniform(1e-3, 3e-2), "FloatDistribution(0.001, 0.03, log=True)"),
    "randint": ("batch_size", randint(4, 33), "IntDistribution(4, 32)"),  # high exclusive
}


@pytest.mark.parametrize("name", sorted(SCIPY_SPECS))
def test_a_randomized_search_distribution_names_the_optuna_one(name, pipeline, data):
    # Taken as a fixed value: as_distributions made it OptunaSearchCV's one choice, set
    # on the estimator for a number; tune refused "the fixed value <scipy.stats...
    # object at 0x...>", naming neither the problem nor the fix.
    param, spec, optuna_range = SCIPY_SPECS[name]
    message = (rf"space entry '{param}': scipy\.stats\.{name} is a distribution for "
               rf"scikit-learn's RandomizedSearchCV .*give optuna\.distributions\."
               rf"{re.escape(optuna_range)}, or a list of choices")
    with pytest.raises(ValueError, match=message):
        as_distributions({param: spec}, prefix="lstm__")
    with pytest.raises(ValueError, match=message):
        make_objective(pipeline, *data, space={param: spec})


@pytest.mark.parametrize(("param", "spec", "kind"), [
    ("class_weight", [None, {0: 1.0, 1: 3.0}], "dict"),
    ("conv_kernel_sizes", [(8, 5, 3), (5, 3, 3)], "tuple"),
    ("conv_kernel_sizes", CategoricalDistribution([(8, 5, 3), (5, 3, 3)]), "tuple"),
])
def test_choices_optuna_cannot_store_are_refused_naming_the_way_out(param, spec, kind,
                                                                    pipeline, data):
    """Stored as JSON, a dict came back with str keys ({"0": 1.0}: no class of y), a
    tuple as a list, and the study resumed did not match its own space."""
    message = (rf"space entry '{param}': the choice .* is a {kind}; Optuna's storages keep "
               r"only None, bool, int, float and str choices .*GridSearchCV")
    with pytest.raises(ValueError, match=message):
        make_objective(pipeline, *data, space={param: spec})


def test_range_ends_on_an_open_bound_are_accepted(pipeline, data):
    """Values just inside are valid: dropout up to 1.0, lr from 0."""
    make_objective(pipeline, *data, cv=2, space={"dropout": FloatDistribution(0.0, 1.0),
                                                 "lr": FloatDistribution(0.0, 0.1)})


def test_numpy_numbers_for_the_search_settings(data):
    study = tune(LSTMClassifier(**TINY), *data, n_trials=np.array(2), cv=np.array(2),
                 timeout=np.float64(600), space={"batch_size": np.array([8, 16])},
                 storage=optuna.storages.InMemoryStorage())
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert len(study.trials[0].user_attrs["fold_scores"]) == 2


#: name -> (space, estimator parameters, the error): fixed values that the estimator's
#: rules between parameters refuse in every trial (each trial failed in fit before).
FIXED_TOGETHER = {
    "two fixed values": ({"embedding_dim": 4, "downsample": 2}, {},
                         r"entries 'embedding_dim', 'downsample': the fixed values 4, 2 would "
                         r"fail every trial together: LSTMClassifier: downsample=2 averages"),
    "one fixed value": ({"vocab_size": 10}, {}, r"entry 'vocab_size': the fixed value 10 would "
                        r"fail every trial: .*set embedding_dim as well"),
    "with the estimator's own value": ({"downsample": 2}, {"embedding_dim": 4},
                                       r"entry 'downsample': the fixed value 2 .*token ids"),
    "every choice of another entry": ({"embedding_dim": 4, "downsample": [2, 4]}, {},
                                      r"entry 'embedding_dim': the fixed value 4"),
    "behind a sampled rule": ({"embedding_dim": 4, "downsample": [1, 2], "ar_window": 3}, {},
                              r"entries 'embedding_dim', 'ar_window'.*ar_window=3 maps"),
    "an optimizer class": ({"optimizer": torch.optim.LBFGS, "weight_decay": 0.1}, {},
                           r"'optimizer', 'weight_decay'.*LBFGS does not take"),
}


@pytest.mark.parametrize("name", sorted(FIXED_TOGETHER))
@pytest.mark.parametrize("in_pipeline", [False, True], ids=["estimator", "pipeline"])
def test_fixed_values_refused_together_fail_before_any_trial(name, in_pipeline, pipeline,
                                                             data):
    space, own, message = FIXED_TOGETHER[name]
    estimator = LSTMClassifier(**TINY, **own)
    if in_pipeline:
        estimator = pipeline.set_params(lstm=estimator)
    with pytest.raises(ValueError, match=message):
        make_objective(estimator, *data, cv=2, space=space)


def test_fixed_values_refused_together_leave_no_study(pipeline, data, tmp_path):
    storage = tmp_path / "s.journal"
    with pytest.raises(ValueError, match="would fail every trial together"):
        tune(pipeline, *data, cv=2, space={"embedding_dim": 4, "lstm__downsample": 2},
             storage=str(storage))
    assert not storage.exists()


@pytest.mark.parametrize("space", [
    {"embedding_dim": 4, "downsample": [1, 2]},
    {"embedding_dim": 4, "downsample": [2, 1], "ar_window": [3, None]},
    {"optimizer": torch.optim.LBFGS, "weight_decay": [0.1, 0.0]},
    default_space(embedding_dim=4),
], ids=["a choice avoids it", "two choices avoid it", "a range end avoids it", "default"])
def test_fixed_values_that_some_sampled_values_allow_are_accepted(space):
    """Those trials fail with their reason (fail_reason); the others run."""
    resolve_space(space, LSTMClassifier())


def test_fixed_values_refused_together_by_the_regressor():
    with pytest.raises(ValueError, match=r"'relative', 'split_level'.*LSTMRegressor"):
        resolve_space({"relative": "mean", "split_level": True}, LSTMRegressor())
    resolve_space({"relative": ["mean", None], "split_level": True}, LSTMRegressor())


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["estimator", "pipeline"])
def test_sampled_values_the_estimators_own_refuse_in_every_trial_fail_before_any_trial(
        in_pipeline, pipeline):
    # every trial failed in its fit ("padding_idx=10 is not an id of the vocabulary"),
    # while the same value fixed was refused at once
    estimator = LSTMClassifier(**TINY, embedding_dim=4, vocab_size=10)
    if in_pipeline:
        estimator = pipeline.set_params(lstm=estimator)
    with pytest.raises(ValueError, match=r"entry 'padding_idx': the choices 10, 12 would "
                       r"fail every trial, with the estimator's own parameters: "
                       r".*vocab_size=10"):
        resolve_space({"padding_idx": [10, 12], "max_epochs": 3}, estimator)
    with pytest.raises(ValueError, match=r"entry 'padding_idx': the range 10 to 20 would"):
        resolve_space({"padding_idx": IntDistribution(10, 20)}, estimator)
    resolve_space({"padding_idx": [0, 10]}, estimator)  # trial with 0 run
    with pytest.raises(ValueError, match=r"entries 'embedding_dim', 'downsample': the "
                       r"choice 4; the choice 2 would fail every trial together"):
        resolve_space({"embedding_dim": [4], "downsample": [2]}, LSTMClassifier())
    # the estimator's own refused configuration is its fit's to report, not the space's
    resolve_space({"batch_size": [8, 16]}, LSTMClassifier(embedding_dim=4, downsample=2))
