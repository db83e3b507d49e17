"""SequenceScaler: statistics pooled over every timestep, scaling of every container form,
its inverse, copies, pandas output, sklearn's checks."""

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklstm.data.containers import restore_container
from sklstm.preprocessing import SequenceScaler


def _expected_failed_checks(estimator):
    """copy=False scales X in place, so transforming X, then X in another sample order,
    scales twice: scikit-learn's own scalers fail the same check with copy=False."""
    if estimator.copy:
        return {}
    return {"check_methods_sample_order_invariance": "copy=False scales X in place"}


@parametrize_with_checks(
    [
        SequenceScaler(),
        SequenceScaler(method="minmax", feature_range=(-1, 2)),
        SequenceScaler(copy=False),
    ],
    expected_failed_checks=_expected_failed_checks,
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
        # an int beyond float64's range: numpy's bare "ufunc 'isfinite' not supported"
        ({"method": "minmax", "feature_range": (0, 10**400)}, r"finite numbers with min < max"),
    ],
)
def test_scaler_validates_params_in_fit(ragged, params, match):
    scaler = SequenceScaler(**params)  # no validation in __init__
    assert scaler.get_params()[next(iter(params))] == next(iter(params.values()))
    with pytest.raises(ValueError, match=match):
        scaler.fit(ragged)


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


@pytest.mark.parametrize("Transformer", [SequenceScaler])
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


@pytest.mark.parametrize("feature_range", [(Fraction(-1), Fraction(2)), (-(2**64), 2**64)],
                         ids=["fractions", "ints-beyond-int64"])
def test_feature_range_accepts_any_real_numbers(ragged, feature_range):
    # np.isfinite refused both with numpy's bare "ufunc 'isfinite' not supported"
    stacked = np.concatenate(SequenceScaler(method="minmax", feature_range=feature_range)
                             .fit_transform(ragged))
    assert_allclose(stacked.min(axis=0), float(feature_range[0]))
    assert_allclose(stacked.max(axis=0), float(feature_range[1]))


@pytest.mark.parametrize("feature_range", [np.array(1.0), np.array([[0, 1]]),
                                           np.array([2.0, 1.0])])
def test_feature_range_array_must_hold_two_increasing_numbers(ragged, feature_range):
    with pytest.raises(ValueError, match="'feature_range' parameter of SequenceScaler must be"):
        SequenceScaler(method="minmax", feature_range=feature_range).fit(ragged)


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


@pytest.mark.parametrize(
    ("params", "X", "match"),
    [
        ({}, np.full((3, 4, 1), 1e200), "too large for float64"),
        ({"method": "minmax", "feature_range": (-1e308, 1e308)}, np.ones((3, 4, 1)),
         "too wide"),
        ({}, np.array([[[np.nan]]]), "contains NaN"),
    ],
)
def test_failed_refit_leaves_no_fitted_state(params, X, match):
    # the new feature count stayed beside the old fit's statistics: transform raised an
    # AttributeError (no mean_) or broadcast two features' scales onto one
    scaler = SequenceScaler().fit(np.ones((3, 4, 2)))
    with pytest.raises(ValueError, match=match):
        scaler.set_params(**params).fit(X)
    assert not [name for name in vars(scaler) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        scaler.transform(X)
    scaler.set_params(method="standard", feature_range=(0, 1)).fit(np.ones((3, 4, 1)))
    assert scaler.transform(np.ones((3, 4, 1))).shape == (3, 4, 1)


@pytest.mark.parametrize("form", ["3d", "list"])
@pytest.mark.parametrize(
    ("dtype", "params", "X", "inverse_of"),
    [
        # feature_range beyond float16's 65504; float32 data spanning float32's range
        (np.float16, {"method": "minmax", "feature_range": (0, 1e5)}, [[0.0], [1.0]], None),
        (np.float32, {"method": "minmax"}, [[-3e38], [3e38]], None),
        # the inverse of a z-score of 20 on float16 data around 6e4
        (np.float16, {}, [[58000.0], [62000.0]], [[20.0]]),
    ],
)
def test_scaling_beyond_the_dtype_is_refused_not_infinity(dtype, params, X, inverse_of, form):
    # the output was infinity, silently but for numpy's RuntimeWarning (and in a
    # Pipeline the estimator then blamed the user's X for holding infinity)
    X = np.array([X], dtype=dtype)
    scaler = SequenceScaler(**params).fit(X)
    X_new = X if inverse_of is None else np.array([inverse_of], dtype=dtype)
    X_new = list(X_new) if form == "list" else X_new
    apply = scaler.transform if inverse_of is None else scaler.inverse_transform
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warning is no answer
        with pytest.raises(ValueError, match=rf"beyond the range of {np.dtype(dtype)}.*"
                                             r"X\.astype\(np\.float64\)"):
            apply(X_new)
