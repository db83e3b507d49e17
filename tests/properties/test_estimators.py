"""Generated cases for LSTMClassifier and LSTMRegressor: shapes, lengths, dtypes, label
kinds, parameter types and values. Each fits and predicts finite values of the right
shape, or raises a ValueError/TypeError naming what is wrong; nothing else."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sklstm import LSTMClassifier, LSTMRegressor

from ..settings import TINY
from .checks import SETTINGS, assert_finite, run
from .strategies import (
    Case,
    estimator_params,
    int_param,
    labels,
    numeric_X,
    option_param,
    targets,
    token_X,
)


@st.composite
def cases(draw, regressor):
    case = Case()
    tokens = draw(st.integers(0, 3)) == 0
    n = draw(st.integers(2, 12))
    strategies = estimator_params(tokens)
    if regressor:
        strategies["scale_target"] = option_param([True, False], [1, "no"])
        strategies["relative"] = option_param([None, "last", "mean", np.str_("last")],
                                              ["median", 1])
        strategies["relative_target"] = int_param(0, 2)
    if tokens:
        case.set("embedding_dim", draw(int_param(1, 4)))
        strategies["vocab_size"] = option_param([None, 20, np.int64(64)], [1, 5, "big"])
    chosen = draw(st.lists(st.sampled_from(sorted(strategies)), max_size=7, unique=True))
    for name in chosen:
        case.set(name, draw(strategies[name]))
    case.X = draw(token_X(n, case) if tokens else numeric_X(n, case))
    if tokens and case.params["embedding_dim"] is None:
        # numeric input then: padded ids are 2D numbers, ragged 1-D lists are invalid X
        case.invalid.discard("embedding_dim")
        if isinstance(case.X, list):
            case.invalid.add("X")
    if (regressor and not tokens and case.params.get("relative") is not None
            and "relative_target" not in case.invalid
            and case.params.get("relative_target", 0) >= _n_features(case.X)):
        case.invalid.add("relative_target")  # a column that X does not have
    case.y = draw(targets(n, case) if regressor else labels(n, case))
    return case


def _n_features(X):
    """Features per timestep of generated numeric X (1 for 2D arrays and 1-D rows)."""
    try:
        first = np.asarray(X[0]) if isinstance(X, list) else np.asarray(X)[0]
    except (IndexError, TypeError, ValueError):  # X that is wrong in itself
        return np.inf
    return first.shape[-1] if first.ndim == 2 else 1


def _n_samples(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _check_classifier(case):
    est = LSTMClassifier(**{**TINY, **case.params})

    def call():
        est.fit(case.X, case.y)
        return est.predict(case.X), est.predict_proba(case.X)

    result = run(case, call)
    if result is None:
        return
    predicted, proba = result
    n = _n_samples(case.X)
    assert predicted.shape == (n,) and set(predicted) <= set(est.classes_)
    assert proba.shape == (n, len(est.classes_))
    assert_finite(proba)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def _check_regressor(case):
    est = LSTMRegressor(**{**TINY, **case.params})
    result = run(case, lambda: est.fit(case.X, case.y).predict(case.X))
    if result is None:
        return
    assert result.shape == np.shape(case.y)
    assert_finite(result)


@settings(max_examples=200, **SETTINGS)
@given(case=cases(regressor=False))
def test_classifier_fits_or_names_the_problem(case):
    _check_classifier(case)


@settings(max_examples=200, **SETTINGS)
@given(case=cases(regressor=True))
def test_regressor_fits_or_names_the_problem(case):
    _check_regressor(case)
