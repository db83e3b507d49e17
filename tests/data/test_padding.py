"""Ragged sequences in memory: padded into one array only while that costs little; a few
long sequences among short ones are padded per batch instead."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data import timesteps
from sklstm.data.streaming import StreamedRows
from sklstm.data.timesteps import to_sequences

from ..settings import ON_CUDA, TINY, traced_peak

#: Rows padded per batch against the same rows padded whole: the same batches of the same
#: values, but padded to another width. Equal on the CPU (within 1e-5); on CUDA cuDNN's
#: kernels round with the batch's shape (9.4e-6 relative measured on an H200 for a
#: prediction alone), which two epochs of training amplify: an estimate, not yet run on
#: a GPU.
PAD_ATOL = 1e-4 if ON_CUDA else 1e-5

rng = np.random.default_rng(0)


def _ragged(n, longest, tokens):
    """``n`` sequences of 5-15 steps and one of ``longest``: token ids or 2 features."""
    lengths = [*rng.integers(5, 16, size=n), longest]
    if tokens:
        return [rng.integers(1, 50, size=length) for length in lengths]
    return [rng.normal(size=(length, 2)).astype(np.float32) for length in lengths]


@pytest.mark.parametrize("tokens", [True, False], ids=["tokens", "values"])
def test_one_long_sequence_does_not_pad_every_other_to_its_length(tokens):
    # 2,000 short sequences and one of 40,000 steps: padded whole, 640 MB of int64 ids
    # (or float32 pairs) for 0.2 MB of data
    X = _ragged(2000, 40_000, tokens)
    estimator = LSTMClassifier(embedding_dim=4) if tokens else LSTMRegressor()
    seqs, peak = traced_peak(to_sequences, X, estimator, reset=True, tokens=tokens,
                             padding_idx=0 if tokens else None)
    assert isinstance(seqs.values, StreamedRows)
    assert peak < 20 * 2**20, peak
    assert seqs.values.shape[:2] == (2001, 40_000)
    assert seqs.lengths.tolist() == [len(seq) for seq in X]
    # a batch's rows are the sequences, right-padded to the batch's longest
    rows = seqs.values.rows(np.array([3, 0]), width=16)
    for row, seq in zip(rows, (X[3], X[0]), strict=True):
        np.testing.assert_array_equal(row[:len(seq)], seq)
        assert not row[len(seq):].any()


@pytest.fixture
def pad_per_batch(monkeypatch):
    """Every ragged input padded per batch, however small."""
    monkeypatch.setattr(timesteps, "PAD_INFLATION", 0)
    monkeypatch.setattr(timesteps, "PAD_BYTES_FLOOR", 0)


@pytest.mark.parametrize("tokens", [True, False], ids=["tokens", "values"])
def test_rows_padded_per_batch_train_the_model_padding_whole_does(tokens, monkeypatch):
    X = _ragged(40, 30, tokens)
    y = np.arange(len(X)) % 2
    make = (lambda: LSTMClassifier(embedding_dim=4, **TINY)) if tokens else (
        lambda: LSTMRegressor(**TINY))
    whole = make().fit(X, y)
    monkeypatch.setattr(timesteps, "PAD_INFLATION", 0)
    monkeypatch.setattr(timesteps, "PAD_BYTES_FLOOR", 0)
    assert isinstance(to_sequences(X, make(), reset=True, tokens=tokens).values, StreamedRows)
    per_batch = make().fit(X, y)
    predict = "predict_proba" if tokens else "predict"
    assert_allclose(getattr(per_batch, predict)(X), getattr(whole, predict)(X), atol=PAD_ATOL)


def test_a_value_beyond_float32_in_flat_steps_names_its_sequence(pad_per_batch):
    X = _ragged(6, 30, tokens=False)
    X[4] = X[4].astype(np.float64)
    X[4][2, 1] = 1e39
    with pytest.raises(ValueError, match=r"beyond float32's range .* in sequence 4,"):
        LSTMRegressor(**TINY).fit(X, np.zeros(len(X)))


@pytest.mark.parametrize("relative", ["last", "mean"])
def test_relative_rows_padded_per_batch_keep_a_large_level_precise(relative, monkeypatch):
    # float64 steps were rounded to float32 before the anchor was subtracted: at a level
    # of 1e6 every step became a multiple of 0.0625, unlike the padded array's steps
    X = [1e6 + seq.astype(np.float64) for seq in _ragged(20, 30, tokens=False)]
    y = rng.normal(size=len(X))
    whole = LSTMRegressor(relative=relative, **TINY).fit(X, y)
    monkeypatch.setattr(timesteps, "PAD_INFLATION", 0)
    monkeypatch.setattr(timesteps, "PAD_BYTES_FLOOR", 0)
    # (the per-batch path is taken: else the comparison is of a fit with itself)
    assert isinstance(to_sequences(X, LSTMRegressor(relative=relative, **TINY), reset=True)
                      .values, StreamedRows)
    per_batch = LSTMRegressor(relative=relative, **TINY).fit(X, y)
    assert_allclose(per_batch.predict(X), whole.predict(X), atol=PAD_ATOL)


@pytest.mark.parametrize("lengths", [(30, 30, 30), (30, 20, 30)], ids=["equal", "ragged"])
def test_a_value_beyond_float32_in_a_list_is_refused_whatever_the_lengths(lengths):
    # a list of sequences of one length skipped the check: the value became infinity,
    # predicted from silently (or a fit's DivergenceError blamed the learning rate)
    X = [np.zeros((length, 2)) for length in lengths]
    X[1][2, 1] = 1e39
    with pytest.raises(ValueError, match=r"beyond float32's range .* in sequence 1,"):
        to_sequences(X, LSTMRegressor(), reset=True)
