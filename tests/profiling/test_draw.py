"""Tests of the samples a profiled fit draws (sklstm.profiling._draw)."""

import numpy as np
import pytest

from sklstm.profiling._draw import draw


@pytest.mark.parametrize("bucketing", [True, False])
def test_ragged_warm_up_takes_the_longest_and_the_timed_steps_the_mix(bucketing):
    rng = np.random.default_rng(1)
    lengths = rng.integers(5, 201, size=1000)
    X = [np.zeros((n, 1), np.float32) for n in lengths]
    y = np.arange(len(X)) % 2
    for batch_size in (2, 8, 32):
        idx, warm_steps = draw(X, y, batch_size, warmup_steps=1, n_steps=3,
                               classifier=False, bucketing=bucketing)
        # the longest batch, then one batch per other padded width (25 in all)
        assert warm_steps == 25 and len(idx) == (warm_steps + 3) * batch_size
        warm = lengths[idx[:warm_steps * batch_size]].reshape(warm_steps, batch_size)
        timed = lengths[idx[warm_steps * batch_size:]]
        assert warm[0].min() >= np.sort(lengths)[-batch_size]  # the longest: the memory
        assert np.array_equal(-(-warm.max(axis=1) // 8), np.arange(25, 0, -1))
        assert abs(timed.mean() - lengths.mean()) < 5, (batch_size, timed.mean())
        spans = np.ptp(timed.reshape(3, batch_size), axis=1)
        if bucketing:  # a batch of neighbouring lengths: about 1/50 of their range
            assert spans.max() <= 10, spans
        elif batch_size >= 8:  # mixed lengths
            assert spans.min() > 50, spans


@pytest.mark.parametrize("downsample, seq_len, widths", [
    (1, None, 25), (4, None, 7), ("auto", None, 13), (1, 16, 2), (4, 20, 3)])
def test_the_warm_up_covers_the_widths_the_fit_reads(downsample, seq_len, widths):
    # the widths of the raw lengths, not of the steps after downsample and seq_len: a
    # step per 8 raw steps, 625 for sequences of 5,000 steps that "auto" reads as 100
    from types import SimpleNamespace

    lengths = np.random.default_rng(1).integers(5, 201, size=1000)
    X = [np.zeros((n, 1), np.float32) for n in lengths]
    fit = SimpleNamespace(embedding_dim=None, downsample=downsample, seq_len=seq_len)
    _, warm_steps = draw(X, np.arange(len(X)) % 2, 4, warmup_steps=1, n_steps=1,
                         classifier=False, bucketing=True, fit=fit)
    assert warm_steps == widths
    tokens = SimpleNamespace(embedding_dim=4, downsample=4, seq_len=None)  # (not averaged)
    assert draw(X, np.arange(len(X)) % 2, 4, 1, 1, False, True, fit=tokens)[1] == 25


def test_dense_data_draws_a_shuffled_subset():
    X = np.zeros((40, 5, 1), np.float32)
    idx, warm_steps = draw(X, np.arange(40) % 2, 4, warmup_steps=1, n_steps=2,
                           classifier=True, bucketing=True)
    assert len(idx) == 12 and len(set(idx)) == 12 and warm_steps == 1
