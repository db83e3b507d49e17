"""The statistics SequenceScaler fits (_scaler_statistics): constant and tiny features,
overflow, input left unchecked by assume_finite."""


import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklstm.preprocessing import SequenceScaler

from ..settings import traced_peak


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


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("form", ["3d", "2d", "list"])
def test_fit_holds_a_chunk_in_float64_not_the_data_set(form, dtype, monkeypatch):
    """The statistics took a float64 copy of all of X and its squared deviations: a
    peak of 4 times float32 X (122 MiB for 20000 x 50 x 8); now about a chunk's.
    Validation made the float64 copy of integers (2 times int32 X)."""
    from sklstm.data import store as store_module

    monkeypatch.setattr(store_module, "CHUNK_BYTES", 2**14)
    rng = np.random.default_rng(0)
    X = (rng.normal(3.0, 2.0, size=(4000, 25, 4)) * 100).astype(dtype)  # 1.6 MB
    X = {"3d": X, "2d": X[..., 0].copy(), "list": list(X)}[form]
    expected = np.asarray(X, dtype=np.float64)
    for method in ("standard", "minmax"):
        scaler, peak = traced_peak(SequenceScaler(method=method).fit, X)
        assert peak < expected.nbytes / 4  # half of X itself
        flat = expected.reshape(-1, scaler.n_sequence_features_)
        if method == "standard":  # the chunks merged to the statistics of all of X
            assert_allclose(scaler.mean_, flat.mean(axis=0), rtol=1e-12)
            assert_allclose(scaler.var_, flat.var(axis=0), rtol=1e-12)
        else:
            assert_allclose(scaler.data_min_, flat.min(axis=0), rtol=0)
            assert_allclose(scaler.data_max_, flat.max(axis=0), rtol=0)
