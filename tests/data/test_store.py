"""SequenceStore: written once, opened lazily, indexed into views, pickled by reference."""

import json
import os
import pickle
import re
import tracemalloc

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


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int8])
def test_integer_ids_are_stored_in_any_integer_dtype_they_fit(dtype, tmp_path):
    # int64 ids (np.array([...]) of Python ints) into uint16 is not numpy's "same_kind"
    # cast; the values fit, so nothing changes, and only the range decides
    ids = [np.array([3, 1, 4]), np.array([1, 5], np.uint64)]
    store = SequenceStore.write(tmp_path / "u", ids, dtype=dtype)
    assert store.dtype == dtype
    for expected, got in zip(ids, store, strict=True):
        np.testing.assert_array_equal(got, expected)
    beyond = np.array([1, int(np.iinfo(dtype).max) + 1])
    with pytest.raises(ValueError, match=f"beyond {np.dtype(dtype)}'s range"):
        SequenceStore.write(tmp_path / "v", [beyond], dtype=dtype)


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


@pytest.mark.parametrize("part, by_reference", [
    (np.s_[2:], True), (np.s_[10:40], True), (np.s_[3], True), (np.s_[::2], False),
    (np.s_[:, :2], False)])
def test_a_slice_of_a_memory_mapped_array_is_reopened_at_its_own_offset(
        tmp_path, part, by_reference):
    # a held-out split X[:n] is what users pass; its offset attribute is its parent's,
    # so reopening by it read the parent's first rows (and copying it cost the data)
    X = np.arange(60 * 4 * 3, dtype=np.float32).reshape(60, 4, 3)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")[part]
    if mapped.ndim == 2:
        mapped = mapped[None]  # (one sequence, as a 3D view of the file)
    expected = np.asarray(mapped)
    data = pickle.dumps(SequenceStore.from_array(mapped))
    assert (len(data) < 1000) == by_reference
    np.testing.assert_array_equal(pickle.loads(data).load(), expected)



def test_a_view_of_a_rewritten_store_is_not_reopened_on_other_data(ragged, tmp_path):
    # the view's mapping still reads the old files; a pickled copy (a parallel search's
    # worker) would reopen the path and index the new data with the old positions
    _, store = ragged
    view = store[[1, 3]]
    data = pickle.dumps(view)
    SequenceStore.write(tmp_path / "s", [np.zeros((2, 2))] * 6, overwrite=True)
    with pytest.raises(ValueError, match="changed since it was opened"):
        pickle.loads(data)
    assert len(SequenceStore.open(tmp_path / "s")) == 6  # opened anew, it is the new store


def test_a_rewritten_memory_mapped_file_is_not_reopened(tmp_path):
    np.save(tmp_path / "X.npy", np.zeros((4, 3)))
    data = pickle.dumps(SequenceStore.from_array(np.load(tmp_path / "X.npy", mmap_mode="r")))
    os.remove(tmp_path / "X.npy")  # (a new file, not the mapped one rewritten in place)
    np.save(tmp_path / "X.npy", np.ones((4, 3)))
    with pytest.raises(ValueError, match="changed since it was opened"):
        pickle.loads(data)


@pytest.mark.parametrize("kind", ["store", "memmap"])
def test_a_store_moved_away_is_named_gone_where_a_copy_reopens_it(kind, tmp_path):
    # a search's worker was told "not a sequence store ... write one with
    # SequenceStore.write" for the store moved after it was opened
    path = tmp_path / ("s" if kind == "store" else "X.npy")
    if kind == "store":
        store = SequenceStore.write(path, [np.zeros((2, 2))] * 3)
    else:
        np.save(path, np.zeros((3, 2)))
        store = SequenceStore.from_array(np.load(path, mmap_mode="r"))
    data = pickle.dumps(store[[0, 2]])
    os.rename(path, tmp_path / "moved")
    with pytest.raises(FileNotFoundError, match=rf"{re.escape(repr(str(path)))} was opened "
                       r"as sequence data, but is gone now \(moved or deleted\).*Keep the "
                       "data at its path"):
        pickle.loads(data)


def test_map_applies_to_every_read_on_a_copy(ragged):
    seqs, store = ragged
    doubled = store.map(lambda v: v.__imul__(2))
    np.testing.assert_array_equal(doubled[1], 2 * seqs[1])
    np.testing.assert_array_equal(store[1], seqs[1])  # the file is untouched


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("func", [lambda v: v[..., 1:, :], lambda v: v[..., :1],
                                  lambda v: None])
def test_a_map_that_changes_the_shape_is_refused_when_read(ragged, dense, func):
    # the store's lengths are the stored data's: a shortened sequence was padded to its
    # stored length and trained on as if whole, a widened one failed in numpy's words
    seqs, store = ragged
    if dense:
        store = SequenceStore.from_array(np.stack([seq[:1] for seq in seqs]))
    with pytest.raises(ValueError, match=r"SequenceStore.map: .* returned .* a map keeps "
                                         r"the shape.*SequenceStore.write"):
        store.map(np.negative).map(func)[[0, 1]].load()


@pytest.mark.parametrize("key", [slice(3, 13), slice(-1, -21, -2), np.arange(10)])
def test_a_few_sequences_of_a_large_store_cost_their_own_positions(key):
    # a slice made all n positions first, and a view's lengths the lengths of every
    # stored sequence: 8 bytes per sequence of the store, for a view of ten of them
    n = 2**20
    store = SequenceStore(np.zeros(n, np.int8), np.arange(n + 1))
    tracemalloc.start()
    try:
        view = store[key]
        assert view.lengths.tolist() == [1] * 10 and view.nbytes == 10
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n  # (a pass over n positions: 8 * n bytes)


def test_chunks_cover_the_view_in_order_within_their_size(ragged):
    _, store = ragged
    chunks = list(store.chunks(max_bytes=40))
    assert [start for start, _ in chunks] == list(range(0, 5, len(chunks[0][1])))
    assert sum(len(c) for _, c in chunks) == 5 and len(chunks) > 1


def test_chunks_of_ragged_sequences_hold_their_bytes_not_the_mean(ragged):
    # cut by the mean sequence (64 bytes here, 2 per chunk of 128), the first chunk held
    # 160 bytes; a store sorted by length held most of itself in its last chunks
    _, store = ragged
    parts = list(store.chunk_slices(max_bytes=128))
    assert [p.start for p in parts] == [0, 1, 3, 4] and parts[-1].stop == 5
    assert all(store[p].nbytes <= 128 or p.stop - p.start == 1 for p in parts)


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
    # a float too large for a narrower float dtype would be stored as infinity
    with pytest.raises(ValueError, match=r"Sequence 1 .*beyond float16's range"):
        SequenceStore.write(tmp_path / "h", [np.ones(2), np.array([1.0, 1e5])],
                            dtype=np.float16)
    with pytest.raises(ValueError, match="beyond float16's range"):  # the first's dtype
        SequenceStore.write(tmp_path / "i", [np.ones(1, np.float16), np.array([70_000])])
    with pytest.raises(ValueError, match="beyond float32's range"):
        SequenceStore.write(tmp_path / "j", [np.array([[1e39]])], dtype=np.float32)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        SequenceStore.write(tmp_path / "no" / "such" / "d", [np.zeros(2)])
    # object values would be written as pointers, strings are no numbers
    for dtype, name in [(object, "object"), ("U5", "<U5")]:
        with pytest.raises(ValueError, match=f"dtype {name} cannot be stored.*kinds b, i, u, f"):
            SequenceStore.write(tmp_path / "h", [np.array([1, 2, 3])], dtype=dtype)
    with pytest.raises(ValueError, match="at least one timestep and one feature"):
        SequenceStore.write(tmp_path / "i", [np.zeros((3, 0))])
    # one sequence, or no iterable of them, where an iterable of sequences is asked for
    with pytest.raises(ValueError, match=r"shape \(\).*pass \[seq\]"):
        SequenceStore.write(tmp_path / "k", np.arange(4))
    with pytest.raises(TypeError, match=r"iterable of sequences.*got NoneType"):
        SequenceStore.write(tmp_path / "l", None)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # failed writes leave nothing
    SequenceStore.write(tmp_path / "e", [np.zeros(2)])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        SequenceStore.write(tmp_path / "e", [np.zeros(3)])
    assert len(SequenceStore.write(tmp_path / "e", [np.zeros(3)] * 2, overwrite=True)) == 2


def test_a_path_with_a_trailing_separator_is_the_directory(tmp_path):
    # its temporary directory was made inside the store, and deleted with it
    path = f"{tmp_path / 's'}{os.sep}"
    assert len(SequenceStore.write(path, [np.zeros(2)])) == 1
    assert len(SequenceStore.write(path, [np.zeros(2)] * 3, overwrite=True)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_overwrite_replaces_a_store_only(tmp_path):
    # a directory of other files, or a file, is not deleted to make room for a store
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("mine")
    (tmp_path / "file").write_text("mine")
    for name in ("data", "file"):
        with pytest.raises(FileExistsError, match="not a sequence store"):
            SequenceStore.write(tmp_path / name, [np.zeros(2)], overwrite=True)
    assert (tmp_path / "data" / "notes.txt").read_text() == (tmp_path / "file").read_text()
    (tmp_path / "empty").mkdir()  # an empty directory (or a damaged store) is replaced
    assert len(SequenceStore.write(tmp_path / "empty", [np.zeros(2)], overwrite=True)) == 1


def test_opening_something_else_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"not a sequence store.*SequenceStore.write"):
        SequenceStore.open(tmp_path)
    # an array file: writing it to a store would copy it whole, needlessly
    np.save(tmp_path / "X.npy", np.zeros((2, 3)))
    with pytest.raises(FileNotFoundError, match=r"no meta.json\); for a .npy file, "
                                                r"SequenceStore.from_array\(np.load"):
        SequenceStore.open(tmp_path / "X.npy")
    with pytest.raises(ValueError, match="2D or 3D"):
        SequenceStore.from_array(np.zeros(4))
    for shape in [(10, 0, 2), (10, 2, 0), (10, 0)]:  # in memory, the estimators' error
        with pytest.raises(ValueError, match=rf"shape \({shape[0]}, {shape[1]}.*at least one "
                                             "timestep and one feature"):
            SequenceStore.from_array(np.zeros(shape, np.float32))


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


def _edit_meta(**changes):
    def edit(path):
        meta = json.loads((path / "meta.json").read_text())
        meta.update(changes)
        (path / "meta.json").write_text(json.dumps({k: v for k, v in meta.items()
                                                    if v is not ...}))
    return edit


def _edit_offsets(change):
    def edit(path):
        offsets = np.load(path / "offsets.npy")
        np.save(path / "offsets.npy", change(offsets))
    return edit


def _resize(name, by):
    def edit(path):  # a longer file ends in zeros
        os.truncate(path / name, os.path.getsize(path / name) + by)
    return edit


def _set(offsets, i, value):
    offsets[i] = value
    return offsets


# what a truncated copy or a hand edit does to a store, and the file its error names
_DAMAGES = [
    (_edit_meta(dtype="|O"), "meta.json has dtype '|O'"),  # mapped as pointers: a crash
    (_edit_meta(dtype="<f4"), "values.bin holds"),  # the store is float64
    (_edit_meta(n_features=...), "meta.json lacks n_features"),
    (_edit_meta(n_features=0), "meta.json has n_features 0"),
    (_edit_meta(n_features=-1), "meta.json has n_features -1"),
    (_edit_meta(n_samples=999), "offsets.npy has shape"),
    (_edit_meta(version="2"), "meta.json has version '2'"),
    (lambda path: (path / "meta.json").write_text("[1, 2]"), "meta.json holds a JSON list"),
    (lambda path: (path / "meta.json").write_text("{not json"), "meta.json is not valid"),
    (_resize("values.bin", -16), "values.bin holds"),
    (_resize("values.bin", 16), "values.bin holds"),
    (lambda path: os.remove(path / "values.bin"), "values.bin is missing"),
    (_resize("offsets.npy", -16), "offsets.npy cannot be read"),
    (_edit_offsets(lambda o: o.astype(float)), "offsets.npy holds float64"),
    (_edit_offsets(lambda o: _set(o, 0, 2)), "offsets.npy runs from 2"),  # drops steps
    (_edit_offsets(lambda o: _set(o, 2, o[4])), "offsets.npy gives sequence 2"),
]


@pytest.mark.parametrize("damage, damaged_file", _DAMAGES, ids=[f for _, f in _DAMAGES])
def test_a_damaged_store_is_refused_when_opened(ragged, tmp_path, damage, damaged_file):
    path = tmp_path / "s"  # the fixture's store
    damage(path)
    with pytest.raises(ValueError, match=re.escape(f"{str(path)!r} is damaged: {damaged_file}")
                       + ".*Rewrite it with SequenceStore.write"):
        SequenceStore.open(path)


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


@pytest.mark.parametrize("n_steps, keep", [(None, "last"), (2, "last"), (2, "first")])
def test_a_map_is_given_each_whole_sequence(ragged, n_steps, keep):
    # a fit reads a batch with read_steps: a function of the whole sequence (centring it
    # on its mean) was given the kept steps of the batch's sequences one after the
    # other, and the model trained on other values than store.map(func)[i]
    seqs, store = ragged

    def centred(seq):
        return seq - seq.mean(axis=0)

    steps, counts = store.map(centred).read_steps([4, 1, 2], n_steps, keep)
    cut = slice(None) if n_steps is None else (
        slice(-n_steps, None) if keep == "last" else slice(None, n_steps))
    expected = [centred(seqs[i])[cut] for i in (4, 1, 2)]
    assert counts.tolist() == [len(e) for e in expected]
    np.testing.assert_allclose(steps, np.concatenate(expected))
    steps, counts = store.map(centred).read_steps([])
    assert steps.shape == (0, 2) and counts.tolist() == []


def _write_meanwhile(monkeypatch, path, overwrite):
    """While the test's write is under way, another thread writes ``path`` (2 sequences)."""
    import threading

    from sklstm.data import store_files

    write_values = store_files._write_values
    failures = []

    def other_write():
        try:
            SequenceStore.write(path, [np.ones(3)] * 2, overwrite=overwrite)
        except Exception as exc:  # pragma: no cover - seen by the test as a failure
            failures.append(exc)

    def other_writer_first(directory, sequences, dtype):
        if threading.current_thread() is threading.main_thread():  # (not the other's)
            other = threading.Thread(target=other_write)
            other.start()
            other.join()
        return write_values(directory, sequences, dtype)

    monkeypatch.setattr(store_files, "_write_values", other_writer_first)
    return failures


def test_two_writers_of_one_path_each_write_whole(monkeypatch, tmp_path):
    # they shared one temporary directory per process: the other thread's write deleted
    # this one's files under it
    path = tmp_path / "s"
    other_failed = _write_meanwhile(monkeypatch, path, overwrite=True)
    store = SequenceStore.write(path, [np.zeros(2)] * 5, overwrite=True)
    assert not other_failed
    assert len(store) == 5  # the last rename wins, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_a_store_written_meanwhile_is_not_replaced_without_overwrite(monkeypatch, tmp_path):
    # os.replace failed with a raw OSError ("Directory not empty")
    path = tmp_path / "s"
    other_failed = _write_meanwhile(monkeypatch, path, overwrite=False)
    with pytest.raises(FileExistsError, match="written by another writer meanwhile"):
        SequenceStore.write(path, [np.zeros(2)] * 5)
    assert not other_failed
    assert len(SequenceStore.open(path)) == 2  # the other writer's store is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_a_copy_on_write_mapping_travels_with_its_data(tmp_path):
    # what was assigned to a mode="c" mapping is in this process's memory only: reopened
    # by its file, a parallel search's worker read the values from before (a fixed NaN)
    X = np.arange(24, dtype=np.float32).reshape(4, 3, 2)
    X[1, 2, 0] = np.nan
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="c")
    mapped[1] = 0.0
    for data in (mapped, mapped[1:]):
        back = pickle.loads(pickle.dumps(SequenceStore.from_array(data)))
        np.testing.assert_array_equal(back.load(), data)
    # joblib's pickler (a parallel search's) sends any array on a file mapping as the
    # file's name: the values handed to it must be a copy, on no mapping
    _, (values, _), _ = SequenceStore.from_array(mapped).__reduce__()
    assert not np.shares_memory(values, mapped)
    np.testing.assert_array_equal(values, mapped)


def test_the_repr_counts_the_sequences_of_a_view():
    store = SequenceStore.from_array(np.zeros((3, 4, 2), np.float32))
    assert repr(store) == "SequenceStore(3 sequences, dense (3, 4, 2), float32)"
    assert repr(store[:1].map(np.negative)) == ("SequenceStore(1 sequence, dense (1, 4, 2), "
                                                "float32, mapped)")
