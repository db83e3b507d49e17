"""SequenceStore: indexed into views, read whole or in chunks, wrapped around arrays."""

import numpy as np
import pytest

from sklstm.data.store import SequenceStore

from ..settings import traced_peak


def test_written_store_reads_back_every_sequence(ragged):
    seqs, store = ragged
    assert len(store) == 5 and store.ragged and store.n_features == 2
    assert store.lengths.tolist() == [3, 7, 1, 5, 4]
    for expected, got in zip(seqs, store, strict=True):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(store[-1], seqs[-1])


@pytest.mark.parametrize("key", [slice(1, 4), [4, 0], np.array([True, False, True, False,
                                                                  True])])
def test_indexing_gives_a_view_of_the_same_file(ragged, key):
    seqs, store = ragged
    view = store[key]
    assert isinstance(view, SequenceStore) and view._values is store._values
    positions = np.arange(5)[key]
    for i, got in zip(positions, view, strict=True):
        np.testing.assert_array_equal(got, seqs[i])
    # a view of a view still points into the one file
    np.testing.assert_array_equal(view[[-1]][0], seqs[positions[-1]])


def test_scikit_learn_indexing_returns_views(ragged):
    from sklearn.utils import _safe_indexing

    _, store = ragged
    fold = _safe_indexing(store, np.array([0, 2]))
    assert isinstance(fold, SequenceStore) and fold.lengths.tolist() == [3, 1]


def test_bad_indices_say_what_is_wrong(ragged):
    _, store = ragged
    with pytest.raises(IndexError, match="out of bounds"):
        store[5]
    with pytest.raises(IndexError, match="out of bounds"):
        store[[0, 9]]
    with pytest.raises(IndexError, match="sample axis"):
        store[0, 1]
    with pytest.raises(IndexError, match="boolean index"):
        store[np.array([True, False])]
    for flag in (True, np.True_):  # Python took True for 1: sequence 1
        with pytest.raises(IndexError, match="got the bool True"):
            store[flag]
    # read and read_steps take positions as indexing does, negative ones from the end
    np.testing.assert_array_equal(store.read([-1])[0], store[4])
    np.testing.assert_array_equal(store[[1, 3]].read_steps([-1])[0], store[3])
    for read, position in [(store.read, -6), (store.read_steps, 5), (store[[0, 1]].read, 2)]:
        with pytest.raises(IndexError, match=f"index {position} is out of bounds"):
            read([position])


def test_an_empty_index_gives_an_empty_view_as_in_numpy(ragged):
    _, store = ragged
    for key in ([], np.array([], dtype=np.int64), slice(3, 3)):
        assert len(store[key]) == 0 and store[key].lengths.tolist() == []


def test_reading_it_whole_is_explicit(ragged):
    seqs, store = ragged
    with pytest.raises(TypeError, match="load"):
        np.asarray(store)
    assert [len(s) for s in store.load()] == [len(s) for s in seqs]


@pytest.mark.parametrize("key", [slice(3, 13), slice(-1, -21, -2), np.arange(10)])
def test_a_few_sequences_of_a_large_store_cost_their_own_positions(key):
    # a slice made all n positions first, and a view's lengths the lengths of every
    # stored sequence: 8 bytes per sequence of the store, for a view of ten of them
    n = 2**20
    store = SequenceStore(np.zeros(n, np.int8), np.arange(n + 1))
    view, peak = traced_peak(store.__getitem__, key)
    assert view.lengths.tolist() == [1] * 10 and view.nbytes == 10
    assert peak < n  # (a pass over n positions: 8 * n bytes)


def test_chunks_cover_the_view_in_order_within_their_size(ragged):
    _, store = ragged
    chunks = list(store.chunks(max_bytes=40))
    assert [start for start, _ in chunks] == list(range(0, 5, len(chunks[0][1])))
    assert sum(len(c) for _, c in chunks) == 5 and len(chunks) > 1


@pytest.mark.parametrize("max_bytes", [0, -8, 40.0, "40", True])
def test_chunks_take_a_positive_number_of_bytes(ragged, max_bytes):
    # 0 and -8 made one-sequence chunks in silence, 40.0 passed as bytes, "40" failed in
    # Python's words ("unsupported operand type(s) for //")
    _, store = ragged
    for method in ("chunks", "chunk_slices"):
        with pytest.raises(ValueError, match=rf"'max_bytes' parameter of SequenceStore\.{method}"
                                             r" must be an int in the range \[1, inf\) or None"):
            next(getattr(store, method)(max_bytes))
    assert len(list(store.chunks(np.int64(40)))) == len(list(store.chunks(40)))


def test_chunks_of_ragged_sequences_hold_their_bytes_not_the_mean(ragged):
    # cut by the mean sequence (64 bytes here, 2 per chunk of 128), the first chunk held
    # 160 bytes; a store sorted by length held most of itself in its last chunks
    _, store = ragged
    parts = list(store.chunk_slices(max_bytes=128))
    assert [p.start for p in parts] == [0, 1, 3, 4] and parts[-1].stop == 5
    assert all(store[p].nbytes <= 128 or p.stop - p.start == 1 for p in parts)


def test_chunks_of_many_short_sequences_hold_about_their_bytes():
    # cut by the values' bytes alone, a chunk of 1 MiB was 131,072 one-step sequences:
    # as many arrays read, ~250 bytes each (32 MiB), where the pass meant to hold 1 MiB
    n, max_bytes = 2**17, 2**20
    store = SequenceStore(np.arange(n, dtype=np.int8)[:, None], np.arange(n + 1))
    (count, total), peak = traced_peak(
        lambda: np.sum([(len(c), sum(int(s[0, 0]) for s in c)) for _, c in
                        store.chunks(max_bytes)], axis=0))
    assert count == n and total == int(np.arange(n, dtype=np.int8).sum())
    assert peak < 8 * max_bytes  # (a chunk, and the positions of the store: 8 bytes each)


@pytest.mark.parametrize(("X", "name"), [
    (np.array([[1, "a"], [2, 3]], dtype=object), "object"),
    (np.array([["1", "2"], ["3", "4"]]), "<U1"),
    (np.zeros((2, 3, 1), dtype=complex), "complex128"),
], ids=["object", "strings", "complex"])
def test_wrapping_an_array_refuses_what_a_store_file_refuses(X, name, tmp_path):
    # accepted before: objects and strings reached the estimators' batches
    message = f"dtype {name} cannot be stored.*kinds b, i, u, f"
    with pytest.raises(ValueError, match=message):
        SequenceStore.from_array(X)
    with pytest.raises(ValueError, match=message):
        SequenceStore.write(tmp_path / "s", [np.zeros(2)], dtype=X.dtype)


def test_wrapping_2d_data_without_timesteps_words_it_as_the_estimators(tmp_path):
    from sklstm import LSTMRegressor

    with pytest.raises(ValueError) as wrapped:
        SequenceStore.from_array(np.zeros((4, 0), np.float32))
    with pytest.raises(ValueError) as fitted:
        LSTMRegressor().fit(np.zeros((4, 0), np.float32), np.zeros(4))
    assert str(wrapped.value) == str(fitted.value)


def test_the_repr_counts_the_sequences_of_a_view():
    store = SequenceStore.from_array(np.zeros((3, 4, 2), np.float32))
    assert repr(store) == "SequenceStore(3 sequences, dense (3, 4, 2), float32)"
    assert repr(store[:1].map(np.negative)) == ("SequenceStore(1 sequence, dense (1, 4, 2), "
                                                "float32, mapped)")
