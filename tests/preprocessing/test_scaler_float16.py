"""SequenceScaler on float16 data: float16 out, computed where no step overflows."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklstm.preprocessing import SequenceScaler

from ..settings import traced_peak


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_float16_spanning_its_range_scales_without_overflow(method):
    # the shift was subtracted in float16: 6e4 - (-6e4), or -6e4 minus a mean of 2e4,
    # is beyond 65504 and became infinity, though the scaled value is small
    X = np.array([[[60000.0], [-60000.0], [60000.0]]], np.float16)
    scaler = SequenceScaler(method=method)
    with np.errstate(over="raise"):
        out = scaler.fit_transform(X)
        back = scaler.inverse_transform(out)
    expected = SequenceScaler(method=method).fit_transform(X.astype(np.float64))
    assert out.dtype == np.float16 and back.dtype == np.float16
    assert_allclose(out.astype(np.float64), expected, rtol=1e-3)
    assert_allclose(back.astype(np.float64), X.astype(np.float64), rtol=1e-3)


def test_a_float16_store_scales_to_float16_as_the_same_list_does(tmp_path):
    # a store's float16 values were read as float64 by the view that scales them: the
    # scaler gave float64 for a float16 store and float16 for the same sequences in a list
    from sklstm.data import SequenceStore

    rng = np.random.default_rng(0)
    seqs = [(rng.normal(size=(n, 2)) * 100).astype(np.float16) for n in (3, 5, 4)]
    store = SequenceStore.write(tmp_path / "s", seqs)
    out = SequenceScaler().fit_transform(store)
    expected = SequenceScaler().fit_transform(seqs)
    assert isinstance(out, SequenceStore) and out.dtype == np.float16
    for got, want in zip(out.read([0, 1, 2]), expected, strict=True):
        assert got.dtype == want.dtype == np.float16
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_float16_is_scaled_a_chunk_at_a_time(method, monkeypatch):
    """float16 values were scaled in a float32 copy of the whole array: a peak of 3
    times the output (46 MiB for 20000 x 50 x 8); now the output and a chunk."""
    from sklstm.data import store as store_module

    monkeypatch.setattr(store_module, "CHUNK_BYTES", 2**14)
    X = np.random.default_rng(0).normal(50.0, 20.0, size=(4000, 25, 4)).astype(np.float16)
    scaler = SequenceScaler(method=method).fit(X)
    Xt, peak = traced_peak(scaler.transform, X)
    assert Xt.dtype == np.float16
    # every chunk scaled as a whole float32 array is
    expected = X.astype(np.float32)
    if method == "standard":
        expected = (expected - scaler.mean_) / scaler.scale_
    else:
        expected = expected * scaler.scale_ + scaler.min_
    np.testing.assert_allclose(Xt.astype(np.float32), expected, rtol=2e-3, atol=2e-3)
    assert peak < 1.5 * Xt.nbytes  # (validation may hold a mask of X's values)
