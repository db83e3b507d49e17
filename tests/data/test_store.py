"""SequenceStore: written once, opened lazily, indexed into views, pickled by reference."""

import pickle

import numpy as np
import pytest

from sklstm.data.store import SequenceStore


@pytest.fixture
def ragged(tmp_path):
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 2)) for n in (3, 7, 1, 5, 4)]
    return seqs, SequenceStore.write(tmp_path / "s", iter(seqs))  # a generator is enough


def test_written_store_reads_back_every_sequence(ragged):
    seqs, store = ragged
    assert len(store) == 5 and store.ragged and store.n_features == 2
    assert store.lengths.tolist() == [3, 7, 1, 5, 4]
    for expected, got in zip(seqs, store, strict=True):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(store[-1], seqs[-1])


def test_token_ids_keep_their_stored_width(tmp_path):
    store = SequenceStore.write(tmp_path / "t", [np.array([1, 2], np.int32), np.array([3])])
    assert store.dtype == np.int32 and store[1].dtype == np.int32
    assert SequenceStore.write(tmp_path / "u", [[1, 2]], dtype=np.int16).dtype == np.int16


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


def test_reading_it_whole_is_explicit(ragged):
    seqs, store = ragged
    with pytest.raises(TypeError, match="load"):
        np.asarray(store)
    assert [len(s) for s in store.load()] == [len(s) for s in seqs]


def test_pickles_by_reference_to_the_file(ragged):
    _, store = ragged
    view = store[[1, 3]].map(np.negative)
    data = pickle.dumps(view)
    assert len(data) < 1000  # the path and the index, not the values
    back = pickle.loads(data)
    np.testing.assert_array_equal(back[0], view[0])


def test_a_memory_mapped_array_is_reopened_after_pickling(tmp_path):
    X = np.arange(60, dtype=np.float32).reshape(5, 4, 3)
    np.save(tmp_path / "X.npy", X)
    store = SequenceStore.from_array(np.load(tmp_path / "X.npy", mmap_mode="r"))
    assert store.shape == (5, 4, 3) and not store.ragged
    data = pickle.dumps(store[[4, 1]])
    assert len(data) < 1000
    np.testing.assert_array_equal(pickle.loads(data).load(), X[[4, 1]])
    # an in-memory array travels with its data
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(
        SequenceStore.from_array(X)[[2]])).load(), X[[2]])


def test_map_applies_to_every_read_on_a_copy(ragged):
    seqs, store = ragged
    doubled = store.map(lambda v: v.__imul__(2))
    np.testing.assert_array_equal(doubled[1], 2 * seqs[1])
    np.testing.assert_array_equal(store[1], seqs[1])  # the file is untouched


def test_chunks_cover_the_view_in_order_within_their_size(ragged):
    _, store = ragged
    chunks = list(store.chunks(max_bytes=40))
    assert [start for start, _ in chunks] == list(range(0, 5, len(chunks[0][1])))
    assert sum(len(c) for _, c in chunks) == 5 and len(chunks) > 1


def test_writing_refuses_what_it_cannot_store(tmp_path):
    with pytest.raises(ValueError, match="same trailing shape"):
        SequenceStore.write(tmp_path / "a", [np.zeros((2, 2)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match="empty"):
        SequenceStore.write(tmp_path / "b", [np.zeros(2), np.zeros(0)])
    with pytest.raises(ValueError, match="No sequence"):
        SequenceStore.write(tmp_path / "c", [])
    with pytest.raises(ValueError, match="beyond int16's range"):
        SequenceStore.write(tmp_path / "f", [np.array([1, 40_000])], dtype=np.int16)
    with pytest.raises(ValueError, match="round or cast"):
        SequenceStore.write(tmp_path / "g", [np.array([1.5])], dtype=np.int32)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        SequenceStore.write(tmp_path / "no" / "such" / "d", [np.zeros(2)])
    assert not list(tmp_path.glob("*.tmp-*"))  # a failed write leaves nothing behind
    SequenceStore.write(tmp_path / "e", [np.zeros(2)])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        SequenceStore.write(tmp_path / "e", [np.zeros(3)])
    assert len(SequenceStore.write(tmp_path / "e", [np.zeros(3)] * 2, overwrite=True)) == 2


def test_opening_something_else_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a sequence store"):
        SequenceStore.open(tmp_path)
    with pytest.raises(ValueError, match="2D or 3D"):
        SequenceStore.from_array(np.zeros(4))


@pytest.mark.parametrize("n_steps, keep", [(None, "last"), (2, "last"), (2, "first")])
def test_read_steps_gathers_what_slicing_each_sequence_gives(ragged, n_steps, keep):
    seqs, store = ragged
    view = store[[4, 1, 2]].map(np.negative)
    steps, counts = view.read_steps([0, 1, 2], n_steps, keep)
    cut = slice(None) if n_steps is None else (
        slice(-n_steps, None) if keep == "last" else slice(None, n_steps))
    expected = [-seqs[i][cut] for i in (4, 1, 2)]
    assert counts.tolist() == [len(e) for e in expected]
    np.testing.assert_array_equal(steps, np.concatenate(expected))
