"""SequenceScaler on a store: statistics in one streaming pass, scaling by the batch."""

import pickle

import numpy as np
import pytest

from sklstm.data import store as store_module
from sklstm.data.store import SequenceStore
from sklstm.preprocessing import SequenceScaler


@pytest.fixture(params=["ragged", "dense", "ints"])
def data(request, tmp_path):
    """(in-memory X, the same X as a store)."""
    rng = np.random.default_rng(0)
    if request.param == "dense":
        X = rng.normal(5, 3, size=(40, 9, 2))
        np.save(tmp_path / "X.npy", X)
        return X, SequenceStore.from_array(np.load(tmp_path / "X.npy", mmap_mode="r"))
    if request.param == "ints":
        X = [rng.integers(-50, 50, size=(int(n), 1)) for n in rng.integers(1, 20, size=40)]
    else:
        X = [rng.normal(5, 3, size=(int(n), 2)) for n in rng.integers(1, 20, size=40)]
    return X, SequenceStore.write(tmp_path / "s", X)


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_streamed_statistics_equal_the_in_memory_ones(data, method, monkeypatch):
    X, store = data
    monkeypatch.setattr(store_module, "CHUNK_BYTES", 300)  # many chunks to merge
    expected = SequenceScaler(method=method).fit(X)
    streamed = SequenceScaler(method=method).fit(store)
    assert streamed.n_timesteps_seen_ == expected.n_timesteps_seen_
    for name in ("scale_", "mean_", "var_", "min_", "data_min_", "data_max_"):
        if hasattr(expected, name):
            np.testing.assert_allclose(getattr(streamed, name), getattr(expected, name),
                                       rtol=1e-12)


def test_transform_returns_a_view_that_scales_each_read(data):
    X, store = data
    scaler = SequenceScaler().fit(X)
    scaled = scaler.transform(store)
    assert isinstance(scaled, SequenceStore) and len(scaled) == len(X)
    expected = scaler.transform(X)
    for i in (0, len(X) - 1):
        np.testing.assert_allclose(scaled[i], expected[i], rtol=1e-6)
    back = scaler.inverse_transform(scaled)
    np.testing.assert_allclose(back[3], np.asarray(X[3], dtype=float), rtol=1e-6, atol=1e-9)
    # the view travels to a search's workers as the file and the (picklable) scaling
    again = pickle.loads(pickle.dumps(scaled))
    np.testing.assert_array_equal(again[1], scaled[1])


def test_a_nan_in_the_store_is_refused_naming_the_sequence(tmp_path):
    store = SequenceStore.write(tmp_path / "s", [np.ones((2, 1)), np.array([[np.nan]])])
    with pytest.raises(ValueError, match="sequence 1"):
        SequenceScaler().fit(store)


def test_streamed_constant_feature_is_left_unscaled(tmp_path, monkeypatch):
    # the merged chunk means of a constant 5118216.247 differed by rounding: a scale of
    # 2e-10 turned the constant into values of several units
    monkeypatch.setattr(store_module, "CHUNK_BYTES", 300)
    X = np.full((97, 7, 1), 5118216.247002567)
    scaler = SequenceScaler().fit(SequenceStore.from_array(X))
    assert scaler.scale_[0] == 1.0
    np.testing.assert_allclose(scaler.transform(X), 0.0, atol=1e-6)
