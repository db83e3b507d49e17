"""SequencePadder: pads and truncates to a length fixed in fit, any container, fill
values that fit the dtype, pandas output."""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklstm.preprocessing import SequencePadder, SequenceScaler

from ..settings import traced_peak


@parametrize_with_checks(
    [
        SequencePadder(),
        SequencePadder(length=2, padding="pre", truncating="post", value=-1.0),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Transformer", [SequencePadder])
def test_text_input_names_x(Transformer):
    with pytest.raises(ValueError, match="X holds non-numeric values"):
        Transformer().fit(np.full((3, 2), "a"))


@pytest.fixture
def short_long():
    return [np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([[5.0]])]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [[1, 2, 3, 4], [5, 0, 0, 0]]),
        ({"padding": "pre"}, [[1, 2, 3, 4], [0, 0, 0, 5]]),
        ({"length": 2}, [[3, 4], [5, 0]]),
        ({"length": 2, "truncating": "post"}, [[1, 2], [5, 0]]),
        ({"length": 3, "padding": "pre", "value": -1.0}, [[2, 3, 4], [-1, -1, 5]]),
    ],
)
def test_padder_pads_and_truncates(short_long, params, expected):
    out = SequencePadder(**params).fit_transform(short_long)
    assert out.shape == (2, len(expected[0]), 1)
    assert_array_equal(out[:, :, 0], expected)


def test_padder_uses_length_seen_in_fit(short_long):
    padder = SequencePadder().fit([np.ones((2, 1)), np.ones((3, 1))])
    assert padder.length_ == 3
    assert_array_equal(padder.transform(short_long)[:, :, 0], [[2, 3, 4], [5, 0, 0]])


@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("length", [3, 5, 8])
def test_padder_dense_matches_ragged(padding, truncating, length):
    X = np.random.default_rng(2).normal(size=(3, 5, 2))
    padder = SequencePadder(length=length, padding=padding, truncating=truncating)
    assert_array_equal(padder.fit_transform(X), padder.fit_transform(list(X)))
    assert_array_equal(padder.fit_transform(X[:, :, 0]), padder.fit_transform(list(X))[..., 0])


@pytest.mark.parametrize(("value", "dtype"), [(0, np.int64), (3.0, np.int64), (0.5, np.float64)])
def test_padder_token_ids_become_2d_and_keep_integers(value, dtype):
    tokens = [np.array([4, 7, 9]), np.array([2])]
    out = SequencePadder(value=value).fit_transform(tokens)
    assert out.dtype == dtype
    assert_array_equal(out, [[4, 7, 9], [2, value, value]])


def test_padder_passes_nan_through():
    X = [np.array([[np.nan], [1.0]])]
    assert_array_equal(SequencePadder(length=3).fit_transform(X)[0, :, 0], [np.nan, 1.0, 0.0])


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"length": 0}, ValueError, r"'length' .* must be an int in the range \[1, inf\) or None"),
        ({"length": 2.5}, ValueError, "'length' parameter of SequencePadder must be an int"),
        ({"padding": "both"}, ValueError, "'padding' parameter of SequencePadder must be a str"),
        ({"truncating": "middle"}, ValueError, "'truncating' .* must be a str among"),
        ({"value": "x"}, TypeError,
         r"'value' parameter of SequencePadder must be a float in the range \(-inf, inf\) or "
         r"numpy.nan. Got 'x'"),
        ({"value": True}, TypeError, "'value' .* Got True"),
    ],
)
def test_padder_validates_params_in_fit(short_long, params, error, match):
    with pytest.raises(error, match=match):
        SequencePadder(**params).fit(short_long)


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ([np.array([1, 2]), np.ones((2, 1))], ValueError, "same number of dimensions"),
        ([np.array([1, 2]), np.array(["a", "b"])], TypeError, "Sequence 1 of X has non-numeric"),
    ],
)
def test_padder_rejects_mixed_sequences(X, error, match):
    with pytest.raises(error, match=match):
        SequencePadder().fit(X)


def test_padder_handles_many_dense_samples():
    # one dtype per sample would exceed result_type's 32 arguments on numpy < 2 (tox min)
    X = np.arange(200 * 3 * 2, dtype=np.float32).reshape(200, 3, 2)
    out = SequencePadder(length=4).fit_transform(X)
    assert out.dtype == np.float32 and out.shape == (200, 4, 2)
    assert_array_equal(out[:, :3], X)


@pytest.mark.parametrize(
    ("dtype", "value", "match"),
    [
        (np.uint8, -1, r"value=-1 does not fit the uint8 data, whose range is \[0, 255\]"),
        (np.int8, 1000.0, r"value=1000 does not fit the int8 data"),
        (np.float16, 1e6, r"value=1000000.0 does not fit the float16 data"),
        # an integral value is an int for int data: np.isnan's raw TypeError on 10**20
        (np.int64, 1e20, r"value=100000000000000000000 does not fit the int64 data"),
    ],
)
def test_padder_fill_value_must_fit_the_dtype(short_long, dtype, value, match):
    # numpy's OverflowError (integers) or silent infinities (float16) before; and no
    # RuntimeWarning of numpy's ahead of the error (the value was cast to float16 to check)
    X = [seq.astype(dtype) for seq in short_long]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=match):
            SequencePadder(value=value).fit_transform(X)


def test_padder_nan_fill_keeps_float16(short_long):
    out = SequencePadder(value=np.nan).fit_transform([s.astype(np.float16) for s in short_long])
    assert out.dtype == np.float16 and np.isnan(out[1, 1:]).all()


def test_padder_pandas_output_on_tables():
    # a Pipeline's set_output failed: "set_output is not available"
    X = pd.DataFrame(np.arange(6.0).reshape(2, 3), columns=["t0", "t1", "t2"], index=[5, 9])
    pipe = make_pipeline(SequencePadder(length=4), SequenceScaler()).set_output(
        transform="pandas")
    Xt = pipe.fit_transform(X)
    assert isinstance(Xt, pd.DataFrame)
    assert list(Xt.columns) == [f"sequencepadder{i}" for i in range(4)]
    assert list(Xt.index) == [5, 9]
    assert_allclose(Xt.to_numpy(), make_pipeline(SequencePadder(length=4),
                                                 SequenceScaler()).fit_transform(X))


def test_padder_keeps_sequences_under_pandas_output(short_long):
    padder = SequencePadder().set_output(transform="pandas").fit(short_long)
    assert not hasattr(padder, "get_feature_names_out")
    out = padder.transform(short_long)
    assert isinstance(out, np.ndarray) and out.shape == (2, 4, 1)


@pytest.mark.parametrize("as_frame", [False, True])
def test_padder_other_width_names_a_remedy_that_keeps_2d_output(as_frame):
    # the shared remedy was X[:, :, None]: 3D output from a padder fitted on 2D (refused
    # under pandas output) and, for a DataFrame, pandas' own InvalidIndexError
    X = np.arange(8.0).reshape(2, 4)
    wider = np.arange(12.0).reshape(2, 6)
    if as_frame:
        X, wider = pd.DataFrame(X), pd.DataFrame(wider)
    padder = SequencePadder().set_output(transform="pandas").fit(X)
    with pytest.raises(ValueError, match=(
            r"^X has 6 features, but SequencePadder is expecting 4 features as input\. .*"
            r"sequences of 6 steps to length_=4 .* list\(np\.asarray\(X\)\)")):
        padder.transform(wider)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = padder.transform(list(np.asarray(wider)))
    assert isinstance(out, pd.DataFrame) and out.shape == (2, 4)
    assert_array_equal(out.to_numpy(), np.asarray(wider)[:, 2:])


def test_padder_keeps_the_shared_error_for_other_features():
    # 3D X of several features after a 2D fit is no question of width: no such remedy
    padder = SequencePadder().fit(np.ones((2, 4)))
    with pytest.raises(ValueError, match="expecting 1 features") as info:
        padder.transform(np.ones((2, 4, 3)))
    assert "list(np.asarray(X))" not in str(info.value)


def test_padder_other_width_of_named_columns_keeps_the_names_error_and_adds_the_remedy():
    # scikit-learn's check of the names fails first, with no way to pad the sequences
    X = pd.DataFrame(np.ones((2, 3)), columns=["t0", "t1", "t2"])
    padder = SequencePadder().fit(X)
    wider = X.assign(t3=1.0)
    with pytest.raises(ValueError, match=r"(?s)^The feature names should match .*- t3.* "
                                         r"list\(np\.asarray\(X\)\)"):
        padder.transform(wider)
    assert padder.transform(list(np.asarray(wider))).shape == (2, 3)


def test_padder_other_width_keeps_errors_about_the_values():
    padder = SequencePadder().fit(np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-numeric") as info:
        padder.transform(np.full((2, 4), "a"))
    assert "list(np.asarray(X))" not in str(info.value)


def test_failed_refit_leaves_no_fitted_state():
    # the text DataFrame's names were recorded before its values were refused: the
    # sequences of columns a, b it had been fitted on were refused afterwards
    sequences = [pd.DataFrame(np.ones((3, 2)), columns=["a", "b"])] * 2
    padder = SequencePadder().fit(sequences)
    with pytest.raises(ValueError, match="non-numeric"):
        padder.fit(pd.DataFrame([["x", "y"]], columns=["p", "q"]))
    assert not [name for name in vars(padder) if name.endswith("_")]
    assert padder.fit(sequences).transform(sequences).shape == (2, 3, 2)


@pytest.mark.parametrize("ndim", [2, 3])
def test_padder_pads_a_dense_array_without_an_object_per_row(ndim):
    """A 2D or 3D array was padded as the list of its rows: a numpy view per sample
    beside the output (23 MiB beside 38 MiB for 200000 rows of 50 float32 steps)."""
    X = np.random.default_rng(0).normal(size=(20000, 10, 1)).astype(np.float32)
    X = X if ndim == 3 else X[..., 0]
    padder = SequencePadder(length=12).fit(X)
    out, peak = traced_peak(padder.transform, X)
    assert peak < 1.5 * out.nbytes
    # as its rows are padded, one (n_timesteps, 1) sequence each
    expected = padder.transform(list(X[..., None] if ndim == 2 else X))
    assert_array_equal(out, expected[..., 0] if ndim == 2 else expected)
