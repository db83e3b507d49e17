"""Tests for sklstm.preprocessing: container handling, statistics, errors, sklearn API."""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklstm.data.containers import restore_container
from sklstm.data.validation import validate_sequences
from sklstm.preprocessing import SequencePadder, SequenceScaler


@parametrize_with_checks(
    [
        SequenceScaler(),
        SequenceScaler(method="minmax", feature_range=(-1, 2)),
        SequencePadder(),
        SequencePadder(length=2, padding="pre", truncating="post", value=-1.0),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture
def ragged():
    """Three sequences with two features on very different scales."""
    rng = np.random.default_rng(0)
    return [rng.normal([5.0, -100.0], [2.0, 30.0], size=(n, 2)) for n in (4, 1, 7)]


def _containers(sequences):
    """The same ragged data as a list, a 1D object array and a tuple."""
    obj = np.empty(len(sequences), dtype=object)
    for i, seq in enumerate(sequences):
        obj[i] = seq
    return {"list": list(sequences), "object": obj, "tuple": tuple(sequences)}


@pytest.mark.parametrize("form", ["list", "object", "tuple"])
def test_scaler_pools_all_timesteps_and_keeps_ragged_form(ragged, form):
    X = _containers(ragged)[form]
    Xt = SequenceScaler().fit(X).transform(X)
    stacked = np.concatenate(ragged)
    expected = (stacked - stacked.mean(axis=0)) / stacked.std(axis=0)
    assert isinstance(Xt, np.ndarray if form == "object" else list)
    assert [len(seq) for seq in Xt] == [4, 1, 7]
    assert_allclose(np.concatenate(list(Xt)), expected)


def test_scaler_3d_uses_per_feature_statistics_over_time():
    X = np.random.default_rng(1).normal(3.0, 2.0, size=(5, 6, 3))
    scaler = SequenceScaler().fit(X)
    assert_allclose(scaler.mean_, X.reshape(-1, 3).mean(axis=0))
    assert_allclose(scaler.scale_, X.reshape(-1, 3).std(axis=0))
    assert (scaler.n_features_in_, scaler.n_sequence_features_) == (3, 3)
    assert scaler.n_timesteps_seen_ == 30
    Xt = scaler.transform(X)
    assert Xt.shape == X.shape
    assert_allclose(Xt.reshape(-1, 3).mean(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize("as_frame", [False, True])
def test_scaler_2d_treats_all_values_as_one_feature(as_frame):
    values = np.arange(12.0).reshape(3, 4)
    X = pd.DataFrame(values, columns=list("abcd")) if as_frame else values
    scaler = SequenceScaler(method="minmax").fit(X)
    assert_allclose(scaler.data_min_, [0.0])
    assert_allclose(scaler.data_max_, [11.0])
    assert scaler.n_features_in_ == 4 and scaler.n_sequence_features_ == 1
    assert_allclose(scaler.transform(X), values / 11.0)
    # Univariate ragged sequences share the single fitted feature.
    assert_allclose(scaler.transform([np.array([[11.0], [5.5]])])[0].ravel(), [1.0, 0.5])


@pytest.mark.parametrize("feature_range", [(0, 1), (-1, 2)])
def test_minmax_maps_features_onto_range(ragged, feature_range):
    Xt = SequenceScaler(method="minmax", feature_range=feature_range).fit_transform(ragged)
    stacked = np.concatenate(Xt)
    assert_allclose(stacked.min(axis=0), feature_range[0])
    assert_allclose(stacked.max(axis=0), feature_range[1])


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_constant_feature_gets_unit_scale(method):
    X = np.stack([np.full((4, 5), 7.0), np.arange(20.0).reshape(4, 5)], axis=-1)
    scaler = SequenceScaler(method=method).fit(X)
    assert scaler.scale_[0] == 1.0
    expected_constant = 0.0 if method == "standard" else 7.0 - scaler.data_min_[0]
    assert_allclose(scaler.transform(X)[..., 0], expected_constant)


def test_refit_with_another_method_keeps_only_its_statistics(ragged):
    # mean_ and var_ of a standard fit stayed beside a later minmax fit's statistics; and
    # method changed without a refit was AttributeError "no attribute 'data_min_'"
    scaler = SequenceScaler().fit(ragged)
    standardized = scaler.transform(ragged)
    scaler.set_params(method="minmax")
    for out, want in zip(scaler.transform(ragged), standardized, strict=True):
        assert_allclose(out, want)  # the statistics fitted, until the next fit
    scaler.fit(ragged)
    assert not hasattr(scaler, "mean_") and not hasattr(scaler, "var_")
    assert_allclose(np.concatenate(scaler.transform(ragged)).min(axis=0), 0.0)
    scaler.set_params(method="standard").fit(ragged)
    assert not any(hasattr(scaler, name) for name in ("data_min_", "data_max_", "min_"))


def test_minmax_scale_of_a_constant_feature_is_the_range_width():
    # as documented (the docstring said 1 for constant features, whatever the method)
    X = np.stack([np.full((4, 5), 7.0), np.arange(20.0).reshape(4, 5)], axis=-1)
    scaler = SequenceScaler(method="minmax", feature_range=(-1, 2)).fit(X)
    assert_allclose(scaler.scale_, [3.0, 3.0 / 19.0])
    assert_allclose(scaler.transform(X)[..., 0], -1.0)


@pytest.mark.parametrize("method", ["standard", "minmax"])
@pytest.mark.parametrize("form", ["3d", "2d", "list", "object"])
def test_inverse_transform_round_trip(ragged, method, form):
    X = {
        "3d": np.stack([ragged[0], ragged[0] * 2]),
        "2d": ragged[2],
        **_containers(ragged),
    }[form]
    scaler = SequenceScaler(method=method).fit(X)
    back = scaler.inverse_transform(scaler.transform(X))
    assert type(back) is type(X)
    for original, restored in zip(X, back, strict=True):
        assert_allclose(restored, original)


@pytest.mark.parametrize(("as_frame", "output"), [(True, "default"), (False, "pandas")])
def test_inverse_transform_of_the_output_of_transform_does_not_warn(as_frame, output):
    # an array out of a fit on a DataFrame, or a DataFrame (set_output) out of a fit on
    # an array: the inverse warned "X does not have valid feature names" or "X has
    # feature names, but ...", which no scikit-learn scaler does
    values = np.arange(12.0).reshape(3, 4)
    X = pd.DataFrame(values, columns=list("abcd")) if as_frame else values
    scaler = SequenceScaler().set_output(transform=output).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = scaler.inverse_transform(scaler.transform(X))
    assert_allclose(back, values)


def test_inverse_transform_ignores_the_column_names_as_scikit_learn_does():
    # a DataFrame of other columns (predictions, say) after a fit on a DataFrame was
    # refused: "The feature names should match those that were passed during fit"
    values = np.arange(12.0).reshape(3, 4)
    scaler = SequenceScaler().fit(pd.DataFrame(values, columns=list("abcd")))
    scaled = pd.DataFrame(scaler.transform(values), columns=list("wxyz"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_allclose(scaler.inverse_transform(scaled), values)


@pytest.mark.parametrize("copy", [True, False])
def test_copy_controls_in_place_scaling(copy):
    X = np.ones((2, 3, 1)) * np.arange(3.0)[None, :, None]
    original = X.copy()
    Xt = SequenceScaler(copy=copy).fit(X).transform(X)
    assert np.shares_memory(X, Xt) is not copy
    assert_array_equal(X, Xt if not copy else original)


def test_scaler_keeps_float32(ragged):
    X = [seq.astype(np.float32) for seq in ragged]
    assert {seq.dtype for seq in SequenceScaler().fit_transform(X)} == {np.dtype(np.float32)}


@pytest.mark.parametrize(
    ("X", "match"),
    [
        ([np.ones((3, 2)), np.array([[1.0, np.nan]])], "NaN at sequence 1, timestep 0, feature 1"),
        ([np.ones((3, 2)), np.array([[np.inf, 1.0]])], "infinity at sequence 1, timestep 0"),
        ([np.ones((3, 2)), np.ones((2, 2)), np.ones((2, 3))], "Sequence 2 of X has 3 features"),
        ([np.ones((3, 2)), np.ones((0, 2))], r"Sequence 1 of X is empty"),
        ([np.ones((3, 2)), np.ones(3)], r"Sequence 1 of X has shape \(3,\)"),
        ([np.ones((3, 2)), np.ones((3, 2, 1))], r"Sequence 1 of X has shape \(3, 2, 1\)"),
        ([], r"Found array with 0 sample\(s\) \(shape=\(0,\)\) while a minimum of 1 is required "
             "by SequenceScaler"),
        (np.ones(4), "Reshape your data"),
        (np.ones((2, 0, 3)), "needs at least one timestep"),
        (np.full((2, 3, 1), np.nan), "Input X contains NaN"),
    ],
)
def test_scaler_fit_rejects_bad_sequences(X, match):
    with pytest.raises(ValueError, match=match):
        SequenceScaler().fit(X)


@pytest.mark.parametrize(
    "X_new", [np.ones((2, 5, 3)), [np.ones((4, 3))], np.ones((2, 5))], ids=["3d", "list", "2d"]
)
def test_transform_rejects_wrong_feature_count(ragged, X_new):
    n_new = 1 if np.ndim(X_new) == 2 else 3
    match = f"X has {n_new} features, but SequenceScaler is expecting 2 features as input."
    with pytest.raises(ValueError, match=match):
        SequenceScaler().fit(ragged).transform(X_new)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"method": "robust"}, "'method' parameter of SequenceScaler must be a str among"),
        ({"feature_range": (1, 0)},
         r"'feature_range' .* must be \(min, max\) of finite numbers with min < max"),
        # an infinite end gave NaN output
        ({"method": "minmax", "feature_range": (0, np.inf)}, r"finite numbers with min < max"),
        # finite ends, but a width beyond float64's range: NaN output, silently
        ({"method": "minmax", "feature_range": (-1e308, 1e308)}, r"too wide for float64"),
        ({"feature_range": "0-1"},
         "'feature_range' parameter of SequenceScaler must be an instance of 'tuple'"),
    ],
)
def test_scaler_validates_params_in_fit(ragged, params, match):
    scaler = SequenceScaler(**params)  # no validation in __init__
    assert scaler.get_params()[next(iter(params))] == next(iter(params.values()))
    with pytest.raises(ValueError, match=match):
        scaler.fit(ragged)


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


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("length", [3, 8])
def test_padder_dense_matches_ragged(padding, length):
    X = np.random.default_rng(2).normal(size=(3, 5, 2))
    padder = SequencePadder(length=length, padding=padding)
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
    ("X", "kind"),
    [
        (np.zeros((2, 3, 4)), "3d"),
        (np.zeros((2, 3)), "2d"),
        ([np.zeros((2, 4)), np.zeros((3, 4))], "list"),
        ([[[0.0], [1.0]], [[2.0]]], "list"),
    ],
)
def test_validated_sequences_rebuild_their_container(X, kind):
    data, found = validate_sequences(SequenceScaler(), X, reset=True)
    assert found == kind
    sequences = list(data[:, :, None]) if kind == "2d" else list(data)
    assert all(seq.ndim == 2 for seq in sequences)
    restored = restore_container(sequences, kind)
    for original, back in zip(X, restored, strict=True):
        assert_array_equal(back, np.asarray(original, dtype=float))


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


@pytest.mark.parametrize("copy", [True, False])
def test_scaler_scales_read_only_input(copy):
    """A read-only view (a DataFrame under pandas' copy-on-write, a bool frame converted
    to floats, a read-only memmap) is copied rather than scaled in place (found by
    tests/properties)."""
    frame = pd.DataFrame(np.arange(6.0).reshape(2, 3) > 2)
    scaler = SequenceScaler(copy=copy).fit(frame)
    assert_allclose(scaler.transform(frame).std(), 1.0)
    frozen = np.arange(6.0).reshape(2, 3)
    frozen.flags.writeable = False
    assert_allclose(SequenceScaler(copy=copy).fit_transform(frozen).mean(), 0.0, atol=1e-12)


@pytest.mark.parametrize("form", ["list", "object"])
def test_scaler_copy_false_scales_ragged_read_only_sequences(form):
    # numpy's bare "output array is read-only" (the dense forms were copied already): a
    # list of per-sequence DataFrames is read-only under pandas' copy-on-write
    frozen = [np.arange(6.0).reshape(3, 2), np.arange(4.0).reshape(2, 2)]
    for seq in frozen:
        seq.flags.writeable = False
    X = restore_container(frozen, form)
    expected = SequenceScaler().fit_transform([seq.copy() for seq in frozen])
    for out, want in zip(SequenceScaler(copy=False).fit_transform(X), expected, strict=True):
        assert_allclose(out, want)
    frames = [pd.DataFrame(seq) for seq in frozen]
    assert_allclose(SequenceScaler(copy=False).fit_transform(frames)[0], expected[0])


def test_scaler_copy_false_scales_shared_values_once():
    # a sample drawn twice, or overlapping windows cut as views of one series, were scaled
    # in place once per sequence holding a value: twice (or more) over, silently
    series = np.arange(10.0).reshape(5, 2)
    X = [series, series, series[1:4], series[3:]]
    expected = SequenceScaler().fit_transform([seq.copy() for seq in X])
    scaler = SequenceScaler(copy=False).fit(X)
    for out, want in zip(scaler.transform(X), expected, strict=True):
        assert_allclose(out, want)
    assert np.shares_memory(scaler.transform([series])[0], series)  # alone: in place


@pytest.mark.parametrize("Transformer", [SequenceScaler, SequencePadder])
def test_text_input_names_x(Transformer):
    with pytest.raises(ValueError, match="X holds non-numeric values"):
        Transformer().fit(np.full((3, 2), "a"))


@pytest.mark.parametrize("form", ["3d", "ragged", "2d"])
def test_scaler_pandas_output_wraps_tables_and_keeps_sequences(ragged, form):
    # 3D and ragged output went to pandas' DataFrame(...): "Must pass 2-d input"
    X = {"3d": np.stack([s[:1] for s in ragged]), "ragged": ragged,
         "2d": np.concatenate(ragged)}[form]
    Xt = SequenceScaler().set_output(transform="pandas").fit_transform(X)
    expected = SequenceScaler().fit_transform(X)
    if form == "2d":
        assert isinstance(Xt, pd.DataFrame) and list(Xt.columns) == ["x0", "x1"]
        assert_allclose(Xt.to_numpy(), expected)
    else:
        assert type(Xt) is type(expected)
        assert_allclose(np.concatenate(list(Xt)), np.concatenate(list(expected)))


@pytest.mark.parametrize("feature_range", [np.array([-1, 2]), np.array([-1.0, 2.0]),
                                           [np.int64(-1), np.float32(2.0)]])
def test_feature_range_accepts_numpy_values(ragged, feature_range):
    # an array was refused: "must be an instance of 'tuple' or an instance of 'list'"
    scaler = SequenceScaler(method="minmax", feature_range=feature_range)
    stacked = np.concatenate(scaler.fit_transform(ragged))
    assert_allclose(stacked.min(axis=0), -1.0)
    assert_allclose(stacked.max(axis=0), 2.0)
    assert clone(scaler).feature_range is not feature_range


@pytest.mark.parametrize("feature_range", [np.array(1.0), np.array([[0, 1]]),
                                           np.array([2.0, 1.0])])
def test_feature_range_array_must_hold_two_increasing_numbers(ragged, feature_range):
    with pytest.raises(ValueError, match="'feature_range' parameter of SequenceScaler must be"):
        SequenceScaler(method="minmax", feature_range=feature_range).fit(ragged)


@pytest.mark.parametrize("value", [5118216.247002567, 1441596.1271963373, 0.7])
@pytest.mark.parametrize("form", ["3d", "list"])
def test_large_constant_feature_is_left_unscaled(value, form):
    # the mean's rounding error left a variance of ~1e-19, whose root scaled the
    # constant feature to values of +-1 to +-4
    X = np.full((97, 7, 2), value)
    X[..., 1] = np.random.default_rng(0).normal(size=(97, 7))
    X = list(X) if form == "list" else X
    scaler = SequenceScaler().fit(X)
    assert scaler.scale_[0] == 1.0
    assert_allclose(np.concatenate(list(scaler.transform(X)))[:, 0], 0.0, atol=1e-6)


@pytest.mark.parametrize("method", ["standard", "minmax"])
@pytest.mark.parametrize("form", ["3d", "list"])
def test_float32_far_from_zero_is_scaled_to_float32_precision(method, form):
    # values * factor was stored in float32 before the offset was added: 1e6 +- 1 came
    # out standardized 0.03 off, and minmax output in [-0.007, 0.993], not [0, 1]
    X = (1e6 + np.random.default_rng(0).normal(size=(20, 10, 1))).astype(np.float32)
    exact = X.astype(np.float64)
    exact = ((exact - exact.mean()) / exact.std() if method == "standard"
             else (exact - exact.min()) / (exact.max() - exact.min()))
    scaler = SequenceScaler(method=method).fit(X)
    Xt = scaler.transform(list(X) if form == "list" else X)
    assert_allclose(np.stack(Xt), exact, atol=1e-6)
    assert_allclose(np.stack(scaler.inverse_transform(Xt)), X, rtol=1e-7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_feature_on_a_tiny_scale_is_standardized(dtype):
    # a standard deviation under 10 * eps (2.2e-15) was taken for a constant feature's:
    # values of 1e-16 that vary were left on their scale, where StandardScaler scales them
    X = np.array([1e-16, 3e-16, 2e-16, 4e-16], dtype=dtype).reshape(1, 4, 1)
    Xt = SequenceScaler().fit_transform(X)
    assert_allclose(Xt.ravel(), [-1.3416408, 0.4472136, -0.4472136, 1.3416408], rtol=1e-5)


@pytest.mark.parametrize(
    ("method", "X", "match"),
    [
        ("standard", np.array([[[1e200], [-1e200]]]), r"feature\(s\) \[0\] .*variance overflowed"),
        ("standard", np.full((1, 2, 1), 1e308), r"mean, variance overflowed"),
        ("minmax", np.array([[[1e308], [-1e308]]]), r"range overflowed"),
    ],
)
def test_overflowing_statistics_are_refused(method, X, match):
    # gave infinite statistics: NaN output ("standard") or one value for all ("minmax")
    with pytest.raises(ValueError, match=match):
        SequenceScaler(method=method).fit(X)


@pytest.mark.parametrize("method", ["standard", "minmax"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("ndim", [2, 3])
def test_input_unchecked_under_assume_finite_is_named_rightly(method, value, ndim):
    """Was refused as statistics that "overflowed float64", to be cured by dividing X
    (ragged input is checked whatever assume_finite says)."""
    from sklearn import config_context

    X = np.arange(24.0).reshape((4, 6) if ndim == 2 else (4, 3, 2))
    X[2, 1] = value
    with config_context(assume_finite=True), pytest.raises(
            ValueError, match=r"^SequenceScaler: X has NaN or infinity in sequence 2 "
                              r"\(sklearn.set_config\(assume_finite=True\) skipped"):
        SequenceScaler(method=method).fit(X)


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
