"""A SequenceStore's files (store_files): written whole once (its data on disk before
meta.json describes it), refused when damaged or when they are something else."""

import errno
import json
import os
import re
import shutil

import numpy as np
import pytest

from sklstm.data.store import SequenceStore

from ..test_durable_files import POSIX, age, file_identity, killed_when_written, record_disk


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


@pytest.mark.parametrize("overwrite", ["no", "False", 1])
def test_overwrite_is_a_bool_not_a_truthy_value(overwrite, tmp_path):
    # overwrite="no" (truthy) replaced the store there; refused before anything is written
    path = tmp_path / "s"
    SequenceStore.write(path, [np.zeros(2)])
    with pytest.raises(ValueError, match=r"'overwrite' parameter of SequenceStore\.write must "
                                         r"be an instance of 'bool'"):
        SequenceStore.write(path, [np.zeros(3)] * 2, overwrite=overwrite)
    assert SequenceStore.open(path).lengths.tolist() == [2]
    assert len(SequenceStore.write(path, [np.zeros(3)] * 2, overwrite=np.True_)) == 2


@pytest.mark.skipif(not POSIX, reason="symbolic links")
def test_overwriting_a_link_to_a_store_leaves_nothing_hidden(tmp_path):
    # the link, moved aside, was never removed (rmtree refuses links), hidden for good
    SequenceStore.write(tmp_path / "v1", [np.zeros(2)])
    (tmp_path / "current").symlink_to("v1")
    assert len(SequenceStore.write(tmp_path / "current", [np.ones(3)] * 2, overwrite=True)) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "v1"]
    assert SequenceStore.open(tmp_path / "v1").lengths.tolist() == [2]  # (its data kept)


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
    # (a bare RecursionError, and IsADirectoryError, before)
    (lambda path: (path / "meta.json").write_text("[" * 10**5), "meta.json is not valid JSON"),
    (lambda path: (os.remove(path / "meta.json"), os.mkdir(path / "meta.json")),
     "meta.json is a directory"),
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


def test_a_store_is_described_only_once_its_data_is_on_disk(tmp_path, monkeypatch):
    # nothing was flushed: after a crash of the system the renamed store could hold a
    # meta.json describing a values.bin that read back short or empty (refused as
    # damaged, with the store it replaced gone)
    path = tmp_path / "s"
    described = []  # at each flush: whether a meta.json (or its temporary file) was made

    def note(fd):
        described.append(any(p.name.startswith("meta.json")
                             for p in tmp_path.glob(".s.store-tmp-*/*")))

    events = record_disk(monkeypatch, fsync=note)
    SequenceStore.write(path, [np.zeros((3, 2))] * 4)
    names = {file_identity(path / name): name
             for name in ("values.bin", "offsets.npy", "meta.json")}
    names.update({file_identity(path): "store", file_identity(tmp_path): "parent"})
    expected = [("fsync", "values.bin"), ("fsync", "offsets.npy"), ("fsync", "meta.json"),
                ("replace", "meta.json"), ("fsync", "store"), ("replace", "store"),
                ("fsync", "parent")]
    directories = ("store", "parent")  # (flushed on POSIX only)
    assert [(event[0], names[event[1]]) for event in events] == [
        call for call in expected if POSIX or call[0] == "replace" or call[1] not in directories]
    assert described[:2] == [False, False]  # the data flushed before meta.json is written
    renamed = [event[2] for event in events if event[0] == "replace"]
    assert os.path.basename(renamed[0]) == "meta.json" and renamed[1] == str(path)


@pytest.mark.parametrize("failing", ["values.bin", "offsets.npy", "meta.json.tmp"])
def test_a_write_that_fails_to_reach_the_disk_keeps_the_store_before(failing, tmp_path,
                                                                     monkeypatch):
    path = tmp_path / "s"
    SequenceStore.write(path, [np.ones(2)] * 3)

    def disk_error(fd):
        if any(file_identity(fd) == file_identity(p)
               for p in tmp_path.glob(f".s.store-tmp-*/{failing}")):
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    record_disk(monkeypatch, fsync=disk_error)
    with pytest.raises(OSError, match="Input/output error"):
        SequenceStore.write(path, [np.zeros(2)] * 5, overwrite=True)
    monkeypatch.undo()
    store = SequenceStore.open(path)
    assert len(store) == 3 and all((seq == 1).all() for seq in store)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # no temporary directory


def test_a_store_replaced_is_removed_only_once_the_new_one_is_in_place(tmp_path, monkeypatch):
    # it was deleted before the new store was renamed to its path: a failed rename (or a
    # crash of the system in between) left no store there, and the error blamed
    # "another writer"
    path = tmp_path / "s"
    SequenceStore.write(path, [np.ones(2)] * 3)
    real_replace, failed = os.replace, []

    def rename_fails(src, dst):  # the new store's rename to the path, once
        if os.fspath(dst) == str(path) and not failed:
            failed.append(src)
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", rename_fails)
    with pytest.raises(OSError, match="Input/output error") as error:
        SequenceStore.write(path, [np.zeros(2)] * 5, overwrite=True)
    monkeypatch.undo()
    assert failed and not isinstance(error.value, FileExistsError)
    store = SequenceStore.open(path)
    assert len(store) == 3 and all((seq == 1).all() for seq in store)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # nothing left aside
    assert len(SequenceStore.write(path, [np.zeros(2)] * 5, overwrite=True)) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


_KILLED_MID_WRITE = """
import sys, time
import numpy as np
from sklstm.data import SequenceStore

def sequences():  # the first written, the others never come
    yield from [np.ones((1000, 4))] * 8
    print("written", flush=True)
    time.sleep(600)

SequenceStore.write(sys.argv[1], sequences())
"""


@pytest.mark.skipif(not POSIX, reason="SIGKILL")
def test_a_write_killed_midway_leaves_no_directory_past_the_next_write(tmp_path):
    # a write killed (SIGKILL, the OOM killer) left its temporary directory, up to a
    # store's size, for good: each write's has its own name, which no later write removed
    path = tmp_path / "s"
    pid = killed_when_written(_KILLED_MID_WRITE, path)
    (left,) = tmp_path.iterdir()
    assert f"-{pid}-" in left.name and (left / "values.bin").is_file()
    # kept: a write under way (this process's, a thread's), one of a machine of another
    # name that shares the directory, one written to within minutes
    running = tmp_path / left.name.replace(f"-{pid}-", f"-{os.getpid()}-")
    elsewhere = tmp_path / left.name.replace(f"-{pid}-", f"0-{pid}-")
    for kept in (running, elsewhere):
        shutil.copytree(left, kept)
    SequenceStore.write(path, [np.zeros(2)])
    assert sorted(tmp_path.iterdir()) == sorted([path, left, running, elsewhere])
    for leftover in (left, running, elsewhere):
        age(leftover)
    assert len(SequenceStore.write(path, [np.zeros(2)] * 3, overwrite=True)) == 3
    assert sorted(tmp_path.iterdir()) == sorted([path, running, elsewhere])


@pytest.mark.parametrize("as_path", [str, os.fsencode, lambda path: path])
def test_a_store_is_written_and_opened_at_any_path_the_os_module_takes(as_path, tmp_path):
    # a bytes path failed joining the str names of the store's files: "Can't mix
    # strings and bytes in path components"
    path = as_path(tmp_path / "s")
    written = SequenceStore.write(path, [np.array([1, 2, 3]), np.array([4])])
    for store in (written, SequenceStore.open(path)):
        assert store.lengths.tolist() == [3, 1]
        np.testing.assert_array_equal(store[1], [4])
    assert SequenceStore.write(path, [np.array([5])], overwrite=True)[0].tolist() == [5]
