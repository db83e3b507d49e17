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
        idx = draw(X, y, batch_size, warmup_steps=1, n_steps=3, classifier=False,
                   bucketing=bucketing)
        assert len(idx) == 4 * batch_size
        warm, timed = lengths[idx[:batch_size]], lengths[idx[batch_size:]]
        assert warm.min() >= np.sort(lengths)[-batch_size]  # the longest: the memory
        assert abs(timed.mean() - lengths.mean()) < 5, (batch_size, timed.mean())
        spans = np.ptp(timed.reshape(3, batch_size), axis=1)
        if bucketing:  # a batch of neighbouring lengths: about 1/50 of their range
            assert spans.max() <= 10, spans
        elif batch_size >= 8:  # mixed lengths
            assert spans.min() > 50, spans


def test_dense_data_draws_a_shuffled_subset():
    X = np.zeros((40, 5, 1), np.float32)
    idx = draw(X, np.arange(40) % 2, 4, warmup_steps=1, n_steps=2, classifier=True,
               bucketing=True)
    assert len(idx) == 12 and len(set(idx)) == 12
