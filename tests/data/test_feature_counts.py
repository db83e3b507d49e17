"""The fitted feature bookkeeping (sklstm.data._feature_counts): data of another
feature count is refused with the likelier layout's fix, memory-mapped as in memory."""

import numpy as np
import pandas as pd
import pytest

from sklstm import LSTMRegressor
from sklstm.preprocessing import SequenceScaler

rng = np.random.default_rng(0)
X3 = rng.normal(size=(8, 5, 3)).astype(np.float32)
Y = rng.normal(size=8)


def _mapped(tmp_path, array):
    np.save(tmp_path / "x.npy", array)
    return np.load(tmp_path / "x.npy", mmap_mode="r")


def _fitted(name, X, tiny):
    est = LSTMRegressor(**tiny, device="cpu") if name == "regressor" else SequenceScaler()
    return est.fit(X, Y)


def _use(est, X):
    return est.predict(X) if hasattr(est, "predict") else est.transform(X)


@pytest.mark.parametrize("name", ["regressor", "scaler"])
def test_a_memmap_of_another_2d_width_gets_the_3d_reshape(name, tiny, tmp_path):
    # "X has 3 features, but ... is expecting 5 features as input." before, memory-mapped,
    # where the same array in memory was told to pass X[:, :, None]
    est = _fitted(name, X3[:, :, 0], tiny)
    other = np.ones((8, 3), np.float32)
    for X in (other, _mapped(tmp_path, other)):
        with pytest.raises(ValueError, match=r"expecting 5 features as input\. 2D X holds "
                                             r"univariate sequences.*"
                                             r"np\.asarray\(X\)\[:, :, None\]"):
            _use(est, X)
    assert len(_use(est, _mapped(tmp_path, other)[:, :, None])) == 8  # the fix
    # (as written, for a DataFrame too: its own X[:, :, None] is pandas' InvalidIndexError)
    assert len(_use(est, np.asarray(pd.DataFrame(other))[:, :, None])) == 8


@pytest.mark.parametrize("name", ["regressor", "scaler"])
def test_a_memmap_of_one_sequence_gets_the_hint_of_one_sequence(name, tiny, tmp_path):
    # only "pass a 3D array" before, memory-mapped: the single-sequence X[None] hint of the
    # same array in memory was lost
    est = _fitted(name, X3, tiny)
    one = X3[0]  # (n_timesteps, n_features) = (5, 3)
    for X in (one, _mapped(tmp_path, one)):
        with pytest.raises(ValueError, match=r"for a single sequence of shape \(n_timesteps, "
                                             r"n_features\) = \(5, 3\), pass "
                                             r"np\.asarray\(X\)\[None\]"):
            _use(est, X)
    assert len(_use(est, _mapped(tmp_path, one)[None])) == 1
    # (as written, for a DataFrame too: its own X[None] is a KeyError)
    assert len(_use(est, np.asarray(pd.DataFrame(one))[None])) == 1


@pytest.mark.parametrize("name", ["regressor", "scaler"])
def test_a_channels_first_memmap_is_told_to_transpose(name, tiny, tmp_path):
    # no hint at all before, memory-mapped (the array in memory was told to transpose)
    est = _fitted(name, X3, tiny)
    channels_first = np.ascontiguousarray(X3[:, :4].transpose(0, 2, 1))  # (8, 3, 4)
    for X in (channels_first, _mapped(tmp_path, channels_first)):
        with pytest.raises(ValueError, match=r"X has 4 features, .*X has shape \(8, 3, 4\): "
                                             r"if it is laid out \(n_samples, n_features, "
                                             r"n_timesteps\), pass X.transpose\(0, 2, 1\)"):
            _use(est, X)


@pytest.mark.parametrize(("Step", "instead"), [
    ("SequenceResampler", r"the estimators' downsample parameter averages the steps of a "
                          r"store as it does \(LSTMRegressor\(downsample=factor\)\); for this "
                          r"step call X.load\(\)"),
    ("SequencePadder", r"the estimators read sequences of any length, of a store too, and "
                       r"cut them with their seq_len parameter .*; for this step call "
                       r"X.load\(\)"),
])
def test_a_store_refused_by_a_step_names_what_the_estimators_do_instead(Step, instead,
                                                                        tmp_path):
    # only X.load() was named, which a store larger than memory cannot take
    from sklstm import preprocessing
    from sklstm.data import SequenceStore

    store = SequenceStore.write(tmp_path / "s", [np.ones((4, 1))] * 2)
    with pytest.raises(TypeError, match=rf"^{Step} reads X whole, .* {instead}"):
        getattr(preprocessing, Step)().fit(store)
