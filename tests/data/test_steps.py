"""Operations on the time axis (sklstm.data.steps)."""

import warnings

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data import steps
from sklstm.data.steps import downsample_sequences, downsample_steps

from ..settings import traced_peak

OVERFLOW = r"^The sum of 2 consecutive steps of X, .* beyond the range of float64 .*divide X"


@pytest.mark.parametrize("axis", [0, 1])
def test_a_window_whose_float64_sum_overflows_is_refused(axis):
    # float64 steps were summed to infinity: a mean of inf, with numpy's RuntimeWarning
    seq = np.full((3, 4), 1e308)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(ValueError, match=OVERFLOW):
            downsample_steps(seq, 2, axis=axis)
        assert np.isfinite(downsample_steps(seq / 4, 2, axis=axis)).all()


@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
@pytest.mark.parametrize("form", ["3d", "ragged"])
def test_the_estimators_refuse_the_overflow_before_training(Estimator, form, tiny):
    X = np.full((4, 6, 1), 1e308)
    est = Estimator(**tiny, downsample=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one RuntimeWarning a sequence came before
        with pytest.raises(ValueError, match=OVERFLOW):
            est.fit(X if form == "3d" else list(X), np.arange(4) % 2)
    assert not hasattr(est, "net_")


def _each_alone(sequences, factor):
    """What ``downsample_sequences`` must equal: every sequence averaged on its own."""
    return [downsample_steps(seq, factor) for seq in sequences]


def _assert_same_sequences(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)  # (shapes too): exact, not close


@pytest.mark.parametrize("chunk", [2**20, 7], ids=["one chunk", "a chunk a sequence"])
@pytest.mark.parametrize("ndim", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32])
@pytest.mark.parametrize("factor", [2, 3, 50])
def test_sequences_averaged_together_equal_each_averaged_alone(factor, dtype, ndim, chunk,
                                                               monkeypatch):
    # shorter than the factor, exactly one window, a ragged last window, many windows
    monkeypatch.setattr(steps, "CHUNK_VALUES", chunk)
    draw = np.random.default_rng(factor)
    lengths = [1, factor - 1, factor, factor + 1, *draw.integers(1, 3 * factor + 40, 40)]
    sequences = [(draw.normal(size=(n, 3)[:ndim]) * 100).astype(dtype) for n in lengths]
    _assert_same_sequences(downsample_sequences(sequences, factor),
                           _each_alone(sequences, factor))


def test_sequences_of_mixed_dtypes_and_layouts_average_as_each_alone():
    # float32 and float64 side by side (a list is kept in both), a Fortran-ordered and a
    # strided one: each averaged in its own dtype, from its own values
    draw = np.random.default_rng(0)
    wide = draw.normal(size=(30, 6))
    sequences = [draw.normal(size=(n, 3)).astype(np.float32) for n in (4, 9, 17)]
    sequences += [wide[:, ::2], np.asfortranarray(wide[:13, :3]), wide[:5, 3:].copy()]
    sequences += [draw.normal(size=(7, 3)).astype(np.float32)]
    _assert_same_sequences(downsample_sequences(sequences, 4), _each_alone(sequences, 4))
    assert all(a is b for a, b in zip(downsample_sequences(sequences, 1), sequences,
                                      strict=True))  # factor=1: the very arrays


def test_a_window_of_one_sequence_among_others_whose_sum_overflows_is_refused():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(ValueError, match=OVERFLOW):
            downsample_sequences([np.ones((3, 4)), np.full((3, 4), 1e308)], 2)


def test_sequences_are_averaged_together_a_chunk_at_a_time(monkeypatch):
    # all of them concatenated at once would copy the whole data set (and sum it in
    # float64, twice its float32 size) beside the means; a chunk at a time, the means
    # (half of it here) and a chunk
    monkeypatch.setattr(steps, "CHUNK_VALUES", 2**10)
    sequences = [np.ones((100 + n % 7, 4), np.float32) for n in range(400)]
    means, peak = traced_peak(downsample_sequences, sequences, 2)
    assert peak < 0.75 * sum(seq.nbytes for seq in sequences)
    _assert_same_sequences(means, _each_alone(sequences, 2))
