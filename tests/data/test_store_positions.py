"""Positions a key or a streaming pass names: numpy's rules, bytes bounded."""

import numpy as np
import pytest

from sklstm.data.store_positions import byte_chunks, checked_positions, key_positions

N = 6


@pytest.mark.parametrize("key", [slice(None), slice(1, 5, 2), slice(None, None, -1),
                                 [4, -1, 0], np.array([2, 2], np.uint8),
                                 np.arange(N) % 2 == 0, (slice(2, 4), Ellipsis), []])
def test_a_key_names_what_numpy_indexing_names(key):
    names = checked_positions(key_positions(key, N), N)
    np.testing.assert_array_equal(names, np.arange(N)[key])
    assert names.dtype == np.int64


@pytest.mark.parametrize("key", [0, -1, np.int64(3), np.array(2), np.array(-1, np.int8),
                                 np.array(4, np.uint16)])
def test_an_integer_names_one_sequence(key):
    # a 0-d integer array (np.array(2), what torch.tensor(2) converts to) is one index
    # to numpy; it was refused as "int64 of shape ()"
    assert key_positions(key, N) == np.arange(N)[key]


@pytest.mark.parametrize("key", [N, -N - 1, True, np.bool_(False), [0, N], [[0]], [0.5],
                                 np.ones(N + 1, bool), (0, 1), np.array(N), np.array(0.0),
                                 np.array([2**64 - 1], np.uint64)])  # (-1 as int64)
def test_what_numpy_refuses_or_would_read_wrongly_is_an_index_error(key):
    with pytest.raises(IndexError):
        checked_positions(key_positions(key, N), N)


@pytest.mark.parametrize("positions", [np.arange(N) % 2 == 0, [0.0, 1.0]])
def test_positions_read_are_integers_not_a_mask(positions):
    # store.read(mask) read the mask's 0s and 1s as positions: sequences 0 and 1, again
    # and again, where store[mask] selects
    with pytest.raises(IndexError, match=r"positions are integers.*store\[mask\]"):
        checked_positions(positions, N)


@pytest.mark.parametrize("max_bytes", [1, 7, 8, 16, 50, 10**6])
def test_chunks_are_the_longest_runs_within_the_bytes(max_bytes):
    sizes = np.array([8, 8, 30, 1, 1, 8, 8, 8])
    cuts = list(byte_chunks(sizes, max_bytes))
    assert [i for c in cuts for i in range(c.start, c.stop)] == list(range(len(sizes)))
    for cut, after in zip(cuts, [*cuts[1:], None], strict=True):
        held = sizes[cut].sum()
        assert cut.stop - cut.start == 1 or held <= max_bytes
        if after is not None:  # greedy: the next sequence would have gone over
            assert held + sizes[after.start] > max_bytes


def test_no_sequence_no_chunk():
    assert list(byte_chunks(np.array([], np.int64), 8)) == []
