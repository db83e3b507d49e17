"""An overwrite of a SequenceStore killed between its two renames (store_recovery): the
next open or write puts the store in place, and no replaced store stays hidden."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from sklstm._durable_files import _HOST
from sklstm.data.store import SequenceStore

from ..test_durable_files import POSIX, age, killed_when_written

pytestmark = pytest.mark.skipif(not POSIX, reason="processes asked for with os.kill")

# the old store written, then an overwrite killed once the old one is renamed aside
_KILLED_BETWEEN_RENAMES = """
import sys, time
import numpy as np
from sklstm.data import SequenceStore, store_files

SequenceStore.write(sys.argv[1], [np.ones(2)] * 3)

def killed(src, dst):
    print("written", flush=True)
    time.sleep(600)

store_files.replace_synced = killed  # (the new store's rename to the path)
SequenceStore.write(sys.argv[1], [np.zeros(2)] * 5, overwrite=True)
"""


def _dead_pid():
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _temporary(path, pid):
    """The temporary directory a write of ``path`` by process ``pid`` of this machine makes."""
    return path.parent / f".{path.name}.store-tmp-{_HOST}-{pid}-1397"


@pytest.mark.parametrize("then", ["open", "write", "overwrite"])
def test_an_overwrite_killed_between_its_renames_is_finished_by_the_next_call(tmp_path,
                                                                              then):
    # open said "the leftover of a killed write ... remove it (rm -r ...)" of the whole
    # new store, and the old one stayed hidden beside it (.old) for good
    path = tmp_path / "s"
    pid = killed_when_written(_KILLED_BETWEEN_RENAMES, path)
    assert not path.exists() and len(list(tmp_path.iterdir())) == 2  # new, and .old
    if then == "open":
        store = SequenceStore.open(path)
    elif then == "write":  # the store exists, as the overwrite left it
        with pytest.raises(FileExistsError, match="pass overwrite=True"):
            SequenceStore.write(path, [np.full(2, 7.0)])
        store = SequenceStore.open(path)
    else:
        store = SequenceStore.write(path, [np.full(2, 7.0)], overwrite=True)
    expected = np.full((1, 2), 7.0) if then == "overwrite" else np.zeros((5, 2))
    np.testing.assert_array_equal(store.load(), expected)
    assert os.listdir(tmp_path) == ["s"], pid


def test_a_new_store_that_is_not_whole_gives_the_old_one_back(tmp_path):
    path = tmp_path / "s"
    old = SequenceStore.write(path, [np.ones(2)] * 3)
    tmp = _temporary(path, _dead_pid())
    tmp.mkdir()  # (no meta.json: not whole)
    os.replace(path, f"{tmp}.old")
    assert len(SequenceStore.open(path)) == len(old) == 3
    assert not os.path.exists(f"{tmp}.old")


def test_the_renames_of_a_running_writer_are_left_alone(tmp_path):
    path = tmp_path / "s"
    SequenceStore.write(path, [np.ones(2)])
    tmp = _temporary(path, os.getpid())
    shutil.copytree(path, tmp)
    os.replace(path, f"{tmp}.old")
    with pytest.raises(FileNotFoundError, match="a write of it is in progress"):
        SequenceStore.open(path)
    assert sorted(os.listdir(tmp_path)) == sorted([tmp.name, f"{tmp.name}.old"])


def test_a_store_left_replaced_is_removed_by_the_next_write(tmp_path):
    # killed after the new store's rename, before the old one was removed: no write
    # removed a ".old" (a store's size, for good)
    path = tmp_path / "s"
    SequenceStore.write(path, [np.ones(2)])
    left = f"{_temporary(path, _dead_pid())}.old"
    shutil.copytree(path, left)
    SequenceStore.write(path, [np.ones(2)], overwrite=True)
    assert os.path.isdir(left)  # (kept while recent: another container's process?)
    age(left)
    SequenceStore.write(path, [np.ones(2)], overwrite=True)
    assert os.listdir(tmp_path) == ["s"]


@pytest.mark.parametrize("then", ["open", "write", "overwrite"])
def test_a_killed_overwrite_is_not_taken_for_a_store_whose_name_begins_alike(tmp_path,
                                                                               then):
    # the temporary names held a store's first 32 characters alone: a write (or open)
    # of "..._fold_2" put "..._fold_1"'s new store in its place, and an overwrite or the
    # removal of leftovers deleted it and the store it replaced
    path, other = (tmp_path / f"sensor_recordings_2024_train_fold_{i}" for i in (1, 2))
    killed_when_written(_KILLED_BETWEEN_RENAMES, path)
    halves = sorted(os.listdir(tmp_path))
    for half in halves:
        age(tmp_path / half)
    if then == "open":
        with pytest.raises(FileNotFoundError, match=r"no meta\.json"):
            SequenceStore.open(other)
    else:
        SequenceStore.write(other, [np.full(2, 7.0)], overwrite=then == "overwrite")
        np.testing.assert_array_equal(SequenceStore.open(other).load(), [[7.0, 7.0]])
    assert sorted(os.listdir(tmp_path)) == sorted(halves + [other.name] * (then != "open"))
    # ... and the killed overwrite is finished as that of a short name is
    assert len(SequenceStore.open(path)) == 5  # (the new store)
    assert sorted(os.listdir(tmp_path)) == sorted([path.name] + [other.name] * (then != "open"))
