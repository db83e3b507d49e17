"""sklstm._param_validation: the estimators check and use numpy scalars and 0-d arrays
as the Python values they hold, and a refused value is told what to write instead."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._compat.sklearn import InvalidParameterError
from sklstm._param_validation import plain_params, validate_constraints, validate_plain_params
from sklstm.datasets import make_sequence_classification
from sklstm.windows import make_windows

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 5, 2)).astype(np.float32)
Y = X[:, -2:, 0].sum(axis=1)


def test_a_longdouble_parameter_trains_saves_and_is_named_as_a_float(tiny, tmp_path):
    """A model trained with lr=np.longdouble(...) (a grid of that dtype) could not be
    saved: its lr_ was "np.longdouble(...), which a model file cannot hold"."""
    est = LSTMRegressor(**{**tiny, "lr": np.longdouble(0.03)}, device="cpu").fit(X, Y)
    assert type(est.lr_) is float
    est.save(tmp_path / "model")
    reference = LSTMRegressor(**tiny, device="cpu").fit(X, Y)
    np.testing.assert_array_equal(est.predict(X), reference.predict(X))
    with pytest.raises(InvalidParameterError, match=r"Got 1\.5 instead\.$"):
        LSTMRegressor(**tiny, dropout=np.longdouble(1.5), device="cpu").fit(X, Y)


def test_a_float32_parameter_trains_as_the_python_float(tiny):
    """validation_fraction=np.float32(0.2) (a grid of a float32 array) held out
    ceil(0.2000000030 * 20) = 5 samples of 20, where 0.2 holds out 4: the same
    random_state trained another model."""
    params = {**tiny, "early_stopping": True, "device": "cpu"}
    expected = LSTMRegressor(**params, validation_fraction=0.2).fit(X, Y).predict(X)
    for value in (np.float32(0.2), np.array(0.2, dtype=np.float32)):
        est = LSTMRegressor(**params, validation_fraction=value).fit(X, Y)
        np.testing.assert_array_equal(est.predict(X), expected)


@pytest.mark.parametrize(("params", "message"), [
    (dict(weight_decay=np.array([0.01])), r"Got array\(\[0\.01\]\) instead\. array\(\[0\.01\]\) "
                                         r"holds one number; pass the number 0\.01 itself"),
    (dict(lr=[0.01]), r"Got \[0\.01\] instead\. \[0\.01\] holds one number; pass the "
                      r"number 0\.01 itself"),
    (dict(batch_size=np.array([8])), r"holds one number; pass the number 8 itself"),
    (dict(batch_size=True), r"Got True instead\. True is a bool, which sklstm does not count "
                            r"as 1; pass 1\.$"),
])
def test_a_bool_or_an_array_of_one_for_a_number_is_refused_saying_what_to_pass(
        params, message, tiny):
    """scikit-learn's words alone ("Got array([0.01]) instead") did not say what to write."""
    with pytest.raises(InvalidParameterError, match=message):
        LSTMRegressor(**{**tiny, **params}, device="cpu").fit(X, Y)
    # where the number held is refused too, scikit-learn's words alone
    with pytest.raises(InvalidParameterError, match=r"Got \[-0\.5\] instead\.$"):
        LSTMRegressor(**{**tiny, "weight_decay": [-0.5]}, device="cpu").fit(X, Y)


def test_a_fraction_trains_as_the_number_it_is(tiny):
    """lr=Fraction(3, 100) failed with numpy's bare "ufunc 'isnan' not supported" (the
    np.isnan of scikit-learn's intervals); past float64 it is refused as not finite."""
    params = {**tiny, "early_stopping": True, "device": "cpu"}
    expected = LSTMRegressor(**{**params, "lr": 0.03, "validation_fraction": 0.2}).fit(X, Y)
    est = LSTMRegressor(**{**params, "lr": Fraction(3, 100),
                           "validation_fraction": Fraction(1, 5)}).fit(X, Y)
    np.testing.assert_array_equal(est.predict(X), expected.predict(X))
    with pytest.raises(InvalidParameterError, match=r"'lr' parameter .* Got inf instead"):
        LSTMRegressor(**{**params, "lr": Fraction(10**400)}).fit(X, Y)


def test_a_number_in_a_0d_array_is_the_number(tiny):
    est = LSTMRegressor(**{**tiny, "weight_decay": np.array(0.01)}, device="cpu").fit(X, Y)
    assert type(est.net_.optimizer_.param_groups[0]["weight_decay"]) is float


def test_numpy_values_in_a_dict_parameter_resume_the_fit_written_plainly(tiny, tmp_path):
    """optimizer_params={"momentum": np.float32(0.9)} (a search's grid) and class_weight
    keyed by numpy labels trained as 0.9 and label 1, but the checkpoint recorded
    0.8999999761581421 and "np.int64(1)": the fit resumed with the values written as
    Python numbers was refused as "another fit" (and the other way round)."""
    y = (X[:, -1, 0] > 0).astype(int)
    params = {**tiny, "device": "cpu", "tol": None, "max_epochs": 1, "optimizer": "sgd",
              "checkpoint": str(tmp_path)}
    LSTMClassifier(**params, optimizer_params={"momentum": np.float32(0.9)},
                   class_weight={np.int64(0): 1.0, np.int64(1): np.float32(2.0)}).fit(X, y)
    resumed = LSTMClassifier(**{**params, "max_epochs": 2}, optimizer_params={"momentum": 0.9},
                             class_weight={0: 1.0, 1: 2.0}).fit(X, y)
    assert len(resumed.history_) == 2
    assert plain_params({"p": {np.int64(1): (np.float32(0.8), 0.99)}}) == {"p": {1: (0.8, 0.99)}}
    assert type(next(iter(plain_params({"p": {np.int64(1): 2}})["p"]))) is int


def test_a_numpy_generator_as_random_state_is_refused_saying_what_to_pass(tiny):
    """scikit-learn's words ("must be an int in the range [0, 4294967295], an instance of
    'numpy.random.mtrand.RandomState' or None. Got Generator(PCG64) ...") did not say
    how to get one from the np.random.default_rng numpy recommends."""
    rng = np.random.default_rng(0)
    told = r"Got Generator\(PCG64\).* pass a seed drawn from it, " \
           r"random_state=int\(rng\.integers\(2\*\*32\)\)"
    with pytest.raises(InvalidParameterError, match=told):
        LSTMRegressor(**{**tiny, "random_state": rng}, device="cpu").fit(X, Y)
    LSTMRegressor(**{**tiny, "random_state": int(rng.integers(2**32))}, device="cpu").fit(X, Y)
    # the functions too (make_sequence_classification: scikit-learn's words alone)
    with pytest.raises(InvalidParameterError, match=told):
        make_sequence_classification(random_state=rng)


@pytest.mark.parametrize("value", [32, np.int64(32), 32.0, np.array(32)])
def test_a_number_where_its_string_is_taken_is_refused_saying_to_pass_the_string(value, tiny):
    """precision=32 (its values are strings: "32", "16-mixed", "bf16") got scikit-learn's
    "must be a str among {...}. Got 32 instead", which did not say to write '32'."""
    with pytest.raises(InvalidParameterError, match=r"Got 32(\.0)? instead\. 32(\.0)? is a "
                       r"number; precision takes it as a string: pass precision='32'\.$"):
        LSTMRegressor(**{**tiny, "precision": value}, device="cpu").fit(X, Y)
    with pytest.raises(InvalidParameterError, match=r"Got 48 instead\.$"):  # no string of it
        LSTMRegressor(**{**tiny, "precision": 48}, device="cpu").fit(X, Y)


@pytest.mark.parametrize(("value", "meant"), [
    (16, "'16-mixed'"), (np.int64(16), "'16-mixed'"), ("fp16", "'16-mixed'"),
    ("half", "'16-mixed'"), (torch.float16, "'16-mixed'"), ("bf16-mixed", "'bf16'"),
    (torch.bfloat16, "'bf16'"), (torch.float32, "'32'"), (64, "'32'"), ("64", "'32'"),
    (torch.float64, "'32'")])
def test_a_precision_written_as_elsewhere_is_refused_naming_sklstms(value, meant, tiny):
    """precision=16 (Lightning's float16), 'fp16' or torch.float16 got scikit-learn's
    "must be a str among {...}. Got 16 instead", which did not say which one it is."""
    estimator = LSTMRegressor(**{**tiny, "precision": value}, device="cpu")
    with pytest.raises(InvalidParameterError, match=rf"instead\. .*precision={meant}"):
        estimator.fit(X, Y)
    assert not hasattr(estimator, "net_")  # (refused before training)


@pytest.mark.parametrize(("value", "message"), [
    (3.0, r"Got 3\.0 instead\. 3\.0 is a float; pass the int 3\."),
    (np.array([3]), r"holds one number; pass the number 3 itself"),
    ("3", r"'3' is the number 3 written as a string; pass the number\.")])
def test_a_function_refuses_a_mistyped_number_saying_what_to_pass(value, message):
    """validate_plain_params (make_windows, the datasets) said scikit-learn's "Got 3.0
    instead" alone, where the estimators name the fix."""
    with pytest.raises(InvalidParameterError, match=message):
        make_windows(np.arange(10.0), lookback=value)
    with pytest.raises(InvalidParameterError, match=r"Got 0 instead\.$"):  # no fix to name
        make_windows(np.arange(10.0), lookback=0)


@pytest.mark.parametrize(("value", "message"), [
    (np.array(3), r"Got 3 instead\. 3 is a single value; .* e\.g\. sizes=\[3\]\.$"),
    ("x", r"'x' is a single value; sizes takes a sequence of them: pass a list, e\.g\. "
          r"sizes=\['x'\]\.$"),
    (True, r"Got True instead\.$"),  # (a bool is no size: no list of one to suggest)
    (None, r"Got None instead\.$")])
def test_one_value_where_a_sequence_is_taken_is_told_to_pass_a_list(value, message):
    """scikit-learn's "must be an array-like. Got 3 instead" named no fix, for the
    estimators' constraints and validate_plain_params' functions alike."""
    constraints = {"sizes": ["array-like"]}
    with pytest.raises(InvalidParameterError, match=message):
        validate_constraints(constraints, plain_params({"sizes": value}), "f")
    with pytest.raises(InvalidParameterError, match=message):
        validate_plain_params(constraints)(lambda sizes: sizes)(value)
