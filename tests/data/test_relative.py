"""Sequences relative to their own anchor: the anchors, and padding left alone."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklstm import LSTMRegressor
from sklstm.data.relative import (
    relative_sequences,
    sequence_anchors,
    warn_if_targets_in_other_units,
)
from sklstm.data.store import SequenceStore
from sklstm.data.timesteps import Sequences, to_sequences

from ..settings import traced_peak

rng = np.random.default_rng(0)
PADDED = rng.normal(size=(3, 5, 2)).astype(np.float32)
LENGTHS = np.array([2, 5, 3])
for row, n in zip(PADDED, LENGTHS, strict=True):
    row[n:] = 0.0


def test_anchors_of_equal_length_sequences():
    values = rng.normal(size=(4, 6, 3))
    assert_array_equal(sequence_anchors(values, None, "last"), values[:, -1])
    assert_allclose(sequence_anchors(values, None, "mean"), values.mean(axis=1))


def test_anchors_respect_the_lengths():
    last = sequence_anchors(PADDED, LENGTHS, "last")
    mean = sequence_anchors(PADDED, LENGTHS, "mean")
    for i, n in enumerate(LENGTHS):
        assert_array_equal(last[i], PADDED[i, n - 1])
        assert_allclose(mean[i], PADDED[i, :n].astype(np.float64).mean(axis=0))
    assert last.dtype == mean.dtype == np.float64


def test_relative_sequences_leave_the_padding_as_padding():
    seqs = Sequences(PADDED, LENGTHS, 2, "list")
    for how in ("last", "mean"):
        relative, anchors = relative_sequences(seqs, how)
        assert relative.values.dtype == np.float32 and relative.lengths is LENGTHS
        rows = relative.values
        for i, n in enumerate(LENGTHS):
            assert_allclose(rows[i, :n] + anchors[i], PADDED[i, :n], atol=1e-6)
            assert_array_equal(rows[i, n:], 0.0)
        if how == "last":
            assert_array_equal(rows[np.arange(3), LENGTHS - 1], 0.0)
    assert_array_equal(seqs.values, PADDED)  # the input is not changed


def test_tokens_and_unknown_anchors_are_refused():
    tokens = Sequences(np.ones((2, 3), np.int64), None, 1, "tokens")
    with pytest.raises(ValueError, match="token ids have no level"):
        relative_sequences(tokens, "last")
    with pytest.raises(ValueError, match="how must be one of"):
        sequence_anchors(PADDED, None, "median")


@pytest.mark.parametrize("how", ["last", "mean"])
@pytest.mark.parametrize("ragged", [False, True], ids=["dense", "ragged"])
def test_streamed_relative_rows_equal_the_rows_in_memory(how, ragged, tmp_path):
    # both round the float64 difference to float32 once: a mean anchor has no float32
    # value, so subtracting it in float32 would round twice (and train another model)
    data = [rng.normal(size=(n, 2)) * 100 for n in (7, 3, 5, 6)]
    if not ragged:
        data = np.stack([seq[:3] for seq in data])
    store = (SequenceStore.write(tmp_path / "s", data) if ragged
             else SequenceStore.from_array(data))
    memory, anchors = relative_sequences(
        to_sequences(data, LSTMRegressor(), reset=True), how)
    streamed, streamed_anchors = relative_sequences(
        to_sequences(store, LSTMRegressor(), reset=True), how)
    assert_array_equal(streamed_anchors, anchors)
    assert_array_equal(streamed.values.rows(np.arange(len(data))), memory.values)


@pytest.mark.parametrize("form", ["dense", "ragged", "dense-store", "ragged-store"])
def test_integer_sequences_keep_their_steps_relative_to_a_large_level(form, tmp_path):
    # integers were read as float32, which rounds 1e8 + k to a multiple of 8: every
    # sequence relative to its last step was all zeros, where float64 input kept its steps
    ints = 100_000_000 + np.arange(12, dtype=np.int64).reshape(2, 6, 1)
    X = {"dense": ints, "ragged": list(ints), "dense-store": SequenceStore.from_array(ints),
         "ragged-store": SequenceStore.write(tmp_path / "s", list(ints))}[form]
    relative, _ = relative_sequences(to_sequences(X, LSTMRegressor(), reset=True,
                                                  precise=True), "last")
    rows = relative.values if form in ("dense", "ragged") else relative.values.rows([0, 1])
    assert_array_equal(rows[0, :, 0], np.arange(-5.0, 1.0))


@pytest.mark.parametrize("how", ["last", "mean"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padded", [False, True], ids=["dense", "padded"])
def test_relative_rows_made_by_chunks_equal_the_whole_difference(how, dtype, padded,
                                                                 monkeypatch):
    # anchors and rows made a chunk of rows at a time: both as the difference of the
    # whole array in float64, rounded to float32 once
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 500)  # a few rows a chunk
    values = (rng.normal(size=(37, 6, 2)) * 100 + 1e6).astype(dtype)
    lengths = rng.integers(1, 7, size=37) if padded else None
    if padded:
        values[np.arange(6)[None, :] >= lengths[:, None]] = 0.0
    relative, anchors = relative_sequences(Sequences(values, lengths, 2, "list"), how)
    whole_anchors = sequence_anchors(values.astype(np.float64), lengths, how)
    whole = values.astype(np.float64) - whole_anchors[:, None, :]
    if padded:
        whole[np.arange(6)[None, :] >= lengths[:, None]] = 0.0
    assert_array_equal(anchors, whole_anchors)
    assert_array_equal(relative.values, whole.astype(np.float32))


@pytest.mark.parametrize("how", ["last", "mean"])
def test_relative_sequences_copy_no_rows(how, monkeypatch):
    # the difference was taken over the whole array in float64: 4 times a float32 X in
    # extra memory at its peak; then one float32 copy, filled by chunks (1.33x); the
    # rows are now made per batch (tracemalloc counts numpy's arrays: no timing involved)
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 2**15)
    values = rng.normal(size=(2000, 25, 4)).astype(np.float32)  # 800 kB, 25 chunks
    seqs = Sequences(values, rng.integers(1, 26, size=2000), 4, "list")
    def relative_and_rms():
        relative = relative_sequences(seqs, how)[0]
        relative.feature_rms()  # (a reader of all rows, a chunk at a time)
        return relative

    relative, peak = traced_peak(relative_and_rms)
    assert relative.values.dtype == np.float32 and relative.values.values is values
    # the anchors (0.08x) and what feature_rms takes of plain rows too (0.33x): no copy
    assert peak < 0.5 * values.nbytes, peak / values.nbytes


KEYS = [0, -1, np.int64(2), slice(1, 3), slice(None, None, -1), slice(2, 0, -1), [0, 2],
        np.array([True, False, True]), (0, slice(None), 0), (np.arange(3), LENGTHS - 1),
        (slice(1, 3), 0), (1, 2), ([[0, 1], [2, 0]],), (..., 0), (np.array([2, 0]), 1)]


@pytest.mark.parametrize("chunk_bytes", [None, 64 * 8 * 2], ids=["whole", "rows-by-row"])
@pytest.mark.parametrize("key", KEYS, ids=str)
def test_relative_rows_index_as_the_whole_array_would(key, chunk_bytes, monkeypatch):
    # the rows stand where an array stood (Sequences.values): what a reader indexes
    # must be the rows numpy would give of the whole relative array (also made a row
    # at a time)
    if chunk_bytes is not None:
        monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", chunk_bytes)
    relative, anchors = relative_sequences(Sequences(PADDED, LENGTHS, 2, "list"), "mean")
    whole = PADDED - anchors[:, None, :]
    whole[np.arange(5)[None, :] >= LENGTHS[:, None]] = 0.0
    assert_array_equal(relative.values[key], whole.astype(np.float32)[key])


def _units_warnings(X, y, how):
    """The "other units" warnings for windows ``X`` and their targets ``y``."""
    anchors = sequence_anchors(X, None, how)[:, 0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_targets_in_other_units("Est", how, 0, y.reshape(len(y), -1), anchors)
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("lookback", [48, 168])
def test_mean_anchors_of_a_season_do_not_call_y_other_units(lookback):
    # hourly load: a daily season around 100 over windows of days. The windows' means
    # barely move while the targets swing by the season: 93% of the targets lay beyond
    # the means' range and the warning said the forecasts would be wrong
    from sklstm.windows import make_windows

    t = np.arange(24 * 40)
    series = 100 + 20 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(1).normal(size=len(t))
    X, y = make_windows(series, lookback, horizon=2)
    assert _units_warnings(X, y, "mean") == []
    assert _units_warnings(X, y, "last") == []
    # y still in other units than the column (a scaler fitted on X alone) is told
    scaled = (X - X.mean()) / X.std()
    for how in ("mean", "last"):
        (message,) = _units_warnings(scaled, y, how)
        assert "other units" in message
    assert "whose window means run from" in _units_warnings(scaled, y, "mean")[0]
