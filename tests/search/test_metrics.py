"""The fit-cost scorers' scoring argument (sklstm.search.metrics)."""

import warnings

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import cross_validate
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.preprocessing import SequenceScaler
from sklstm.search import fit_stats, fit_stats_scorers

from ..settings import TINY


def test_fit_stats_scorers_refuse_an_empty_dict_of_scorings():
    # only the costs were returned, and the search failed later: no metric for refit
    with pytest.raises(ValueError, match=r"scoring=\{\} names no metric"):
        fit_stats_scorers({})


@pytest.mark.parametrize("scoring", [np.array(["accuracy", "f1"]),
                                     {np.str_("accuracy"): "accuracy", np.str_("f1"): "f1"}])
def test_fit_stats_scorers_name_numpy_scorings_by_plain_str(scoring):
    names = list(fit_stats_scorers(scoring, stats="fit_time"))
    assert names == ["accuracy", "f1", "fit_time"]
    assert all(type(name) is str for name in names)


def test_fit_stats_reach_the_lstm_a_transformed_target_regressor_holds(data):
    # the wrapper has no fit_time_: the costs were NaN, with a "Scoring failed" warning
    # for every fold
    X, y = data
    model = TransformedTargetRegressor(regressor=Pipeline([
        ("scale", SequenceScaler()), ("lstm", LSTMRegressor(**TINY, device="cpu"))]))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Scoring failed")
        results = cross_validate(model, X, y.astype(float), cv=2,
                                 scoring=fit_stats_scorers("r2", stats=["n_updates"]))
    assert np.all(results["test_n_updates"] > 0)
    model.fit(X, y.astype(float))
    assert fit_stats(model) == fit_stats(model.regressor_)


def test_fit_stats_of_one_lstm_per_output_add_up(data):
    # MultiOutputClassifier(LSTMClassifier()), as LSTMClassifier's own error names for
    # several labels: the costs were NaN, with a "Scoring failed" warning for every fold
    X, y = data
    Y = np.c_[y, 1 - y]
    model = MultiOutputClassifier(LSTMClassifier(**TINY, device="cpu"))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Scoring failed")
        results = cross_validate(model, X, Y, cv=2, scoring=fit_stats_scorers(
            "accuracy", stats=["n_updates", "fit_time"]))
    assert np.all(results["test_n_updates"] > 0)
    stats = [fit_stats(one) for one in model.fit(X, Y).estimators_]
    assert fit_stats(model)["n_updates"] == sum(s["n_updates"] for s in stats)
    assert fit_stats(model)["fit_time"] == sum(s["fit_time"] for s in stats)
