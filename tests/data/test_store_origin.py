"""A SequenceStore pickled by reference to its file (store_origin), and reopened only
on the data it was opened on."""

import os
import pickle
import re

import numpy as np
import pytest

import sklstm.data.store as store_module
import sklstm.data.store_files as files_module
from sklstm.data.store import SequenceStore
from sklstm.data.store_files import write_files


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


def _change_in_place(name, how):
    """Change the file ``name`` keeping its inode, as a writer that is no
    SequenceStore.write does: cut it short, append to it, or rewrite its bytes."""
    if how == "truncate":
        os.truncate(name, 8)
    elif how == "append":
        with open(name, "ab") as f:
            f.write(b"\0" * 64)
    else:
        data = bytearray(open(name, "rb").read())
        data[-8:] = b"\xff" * 8
        with open(name, "r+b") as f:  # (the same size)
            f.write(bytes(data))
        os.utime(name, ns=(0, 1))  # (a modification time apart, on any clock's granularity)


@pytest.mark.parametrize("how", ["truncate", "append", "rewrite"])
@pytest.mark.parametrize("name", ["values.bin", "offsets.npy"])
def test_a_store_file_changed_in_place_is_refused_before_it_is_read(how, name, tmp_path):
    # the store maps its files: read past the end of one cut short, a batch killed the
    # process with a bus error, and one rewritten in place was read as the data opened
    store = SequenceStore.write(tmp_path / "s", [np.arange(40.0), np.arange(3.0)])
    view = store[[0]]
    _change_in_place(tmp_path / "s" / name, how)
    for read in (lambda: store[0], lambda: view.load(), lambda: store.lengths,
                 lambda: list(store.chunks())):
        with pytest.raises(ValueError, match=rf"{re.escape(name)}' was .* since it was "
                           "opened.*Open it again.*write them to a new path"):
            read()


def test_a_store_replaced_by_a_new_one_is_still_read_as_it_was_opened(tmp_path):
    # a new store at the path (new files) changes nothing the open one maps
    store = SequenceStore.write(tmp_path / "s", [np.arange(4.0), np.arange(3.0)])
    SequenceStore.write(tmp_path / "s", [np.ones(9)], overwrite=True)
    np.testing.assert_array_equal(store[0], np.arange(4.0))
    assert store.lengths.tolist() == [4, 3]


@pytest.mark.parametrize("shape", [(2, 3), (9, 3)])
def test_an_array_file_saved_again_while_mapped_is_refused(shape, tmp_path):
    # np.save rewrites the file in place: the mapping read the new file's bytes with the
    # old offset and shape (or past its end: a bus error)
    np.save(tmp_path / "X.npy", np.zeros((4, 3)))
    store = SequenceStore.from_array(np.load(tmp_path / "X.npy", mmap_mode="r"))
    np.save(tmp_path / "X.npy", np.ones(shape))
    with pytest.raises(ValueError, match=r"X\.npy' was (cut short|grown) from"):
        store.load()


def test_writing_through_its_own_mapping_is_no_change(tmp_path):
    # an np.memmap the process writes to keeps its size: read as it is now
    X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", shape=(3, 4))
    store = SequenceStore.from_array(X)
    X[1] = 5.0
    X.flush()
    np.testing.assert_array_equal(store[1], np.full(4, 5.0))


@pytest.mark.parametrize("writes", [1, 3])
def test_a_store_replaced_while_it_is_opened_is_read_whole(writes, monkeypatch, tmp_path):
    # the stamp was taken after the files were read: replaced in between, the store read
    # the old files and its pickled copy reopened the new ones without a word
    path = tmp_path / "s"
    SequenceStore.write(path, [np.zeros(2)] * 3)
    read, calls = store_module.read_files, []

    def read_then_replaced(where):
        data = read(where)
        if len(calls) < writes:
            calls.append(where)
            write_files(path, [np.full(5, len(calls))], overwrite=True)  # (not reopened)
        return data

    monkeypatch.setattr(store_module, "read_files", read_then_replaced)
    if writes == 3:  # (a writer that never stops: told, not read half)
        with pytest.raises(ValueError, match="changed each time it was read"):
            SequenceStore.open(path)
        return
    store = SequenceStore.open(path)
    copy = pickle.loads(pickle.dumps(store[[0]]))
    np.testing.assert_array_equal(store[0], np.ones(5))
    np.testing.assert_array_equal(copy[0], store[0])


@pytest.mark.parametrize("stage", ["_read_meta", "_read_offsets"])
def test_a_store_replaced_between_its_files_is_read_again_not_called_damaged(
        stage, monkeypatch, tmp_path):
    # another process's write(..., overwrite=True) between reading meta.json and mapping
    # values.bin: the old metadata and the new values were "damaged: values.bin holds
    # 80 bytes, but 2 steps ..." for a store that was whole all along
    path = tmp_path / "s"
    SequenceStore.write(path, [np.zeros(2)])
    real, calls = getattr(files_module, stage), []

    def then_replaced(*args):
        out = real(*args)
        if not calls:
            calls.append(args)
            write_files(path, [np.full(5, 7.0), np.ones(5)], overwrite=True)
        return out

    monkeypatch.setattr(files_module, stage, then_replaced)
    store = SequenceStore.open(path)
    assert store.lengths.tolist() == [5, 5]
    np.testing.assert_array_equal(store[0], np.full(5, 7.0))


def test_a_damaged_store_left_as_it_is_is_refused_at_once(monkeypatch, tmp_path):
    path = tmp_path / "s"
    SequenceStore.write(path, [np.zeros(2)])
    os.truncate(path / "values.bin", 8)
    reads = []
    read = store_module.read_files
    monkeypatch.setattr(store_module, "read_files", lambda where: reads.append(1) or read(where))
    with pytest.raises(ValueError, match=r"is damaged: values\.bin holds 8 bytes"):
        SequenceStore.open(path)
    assert len(reads) == 1  # (no read again: it did not change)


@pytest.mark.parametrize("mode", ["r", "c"])
def test_a_file_cut_short_under_a_mapping_without_origin_is_refused(mode, tmp_path):
    # a strided or copy-on-write view has no origin (it is pickled with its data), but
    # it maps the file all the same: read past the end, it was zeros or a bus error
    np.save(tmp_path / "X.npy", np.arange(1.0, 25.0).reshape(4, 3, 2))
    store = SequenceStore.from_array(np.load(tmp_path / "X.npy", mmap_mode=mode)[:, :2])
    os.truncate(tmp_path / "X.npy", 150)  # (within the mapped page: no bus error here)
    with pytest.raises(ValueError, match=r"X\.npy' was cut short to 150 bytes while mapped "
                       r"\(its data ran to byte 320\).*Open it again"):
        store.load()
