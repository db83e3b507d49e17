"""Tests of sklstm.search.scoring_kind: the scoring is checked before any study."""

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    make_scorer,
    mean_squared_error,
    r2_score,
    top_k_accuracy_score,
)

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.search.scoring_kind import check_scoring_kind


@pytest.mark.parametrize(("estimator", "scoring", "message"), [
    # the search maximizes the score: it sought the largest error
    (LSTMRegressor(), make_scorer(mean_squared_error),
     "maximizes mean_squared_error, an error: lower is better, so the search would seek "
     "the worst model. Give scoring='neg_mean_squared_error', or "
     "make_scorer(mean_squared_error, greater_is_better=False)"),
    (LSTMClassifier(), make_scorer(log_loss, response_method="predict_proba"),
     "Give scoring='neg_log_loss'"),
    (LSTMClassifier(), make_scorer(accuracy_score, greater_is_better=False),
     "minimizes accuracy_score, a score: greater is better"),
])
def test_a_scorer_that_optimizes_its_metric_the_wrong_way_is_refused(estimator, scoring,
                                                                      message):
    y = (np.array([0, 1, 0, 1]) if isinstance(estimator, LSTMClassifier)
         else np.array([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="scoring make_scorer") as info:
        check_scoring_kind(estimator, scoring, y)
    assert message in str(info.value)


@pytest.mark.parametrize("scoring", [
    make_scorer(mean_squared_error, greater_is_better=False), make_scorer(r2_score),
    "neg_mean_squared_error", lambda estimator, X, y: 0.0,
])
def test_a_scorer_that_optimizes_its_metric_the_right_way_is_kept(scoring):
    assert check_scoring_kind(LSTMRegressor(), scoring, np.array([0.0, 1.0, 2.0])) is scoring


@pytest.mark.parametrize(("scoring", "y"), [
    ("top_k_accuracy", np.arange(12) % 2),  # k=2 of 2 classes: 1.0 for any model
    (make_scorer(top_k_accuracy_score, k=3, response_method="predict_proba"), np.arange(12) % 3),
])
def test_a_scoring_that_cannot_tell_wrong_from_right_is_refused(scoring, y):
    # every trial scored 1.0, and the search picked its first trial
    with pytest.raises(ValueError, match=r"scores predictions that are all wrong as high as "
                       r"right ones on these \d classes .* give one of: accuracy, "):
        check_scoring_kind(LSTMClassifier(), scoring, y)


@pytest.mark.parametrize("scoring", ["top_k_accuracy", "rand_score", "accuracy", "neg_log_loss",
                                     "roc_auc_ovr", "matthews_corrcoef"])
def test_a_scoring_that_ranks_the_classes_is_kept(scoring):
    assert check_scoring_kind(LSTMClassifier(), scoring, np.arange(12) % 3) is scoring
