"""The lock of a journal file when a dead worker's lock link is left dangling."""

import os
import subprocess
import time

import pytest

from sklstm.search.journal_lock import JournalFileLinkLock, OwnedFileOpenLock
from sklstm.search.journal_repair import JournalFileRepairingLock

from .helpers import press_at_lock_file, python

#: A worker that opens a journal whose lock is a link to a file that is not there (a
#: dead worker's, the study's directory since moved) and appends to it.
_OPEN_LOCKED = """
import os, sys, warnings
from sklstm.search.journal_lock import JournalFileLinkLock
path = sys.argv[1]
open(path, "a").close()
os.symlink("/moved/elsewhere/study.journal", path + ".lock")
lock = JournalFileLinkLock(path, grace_period=3)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    lock.acquire()
print(os.readlink(path + ".lock") == path, [str(w.message) for w in caught
                                            if "released the lock" in str(w.message)])
lock.release()
"""


def test_a_dangling_lock_link_is_released_after_the_grace_period(tmp_path):
    # os.stat, following the link, failed, and Optuna's lock tried again at once, for
    # ever, at 100% CPU: it never reached its grace period
    proc = python(_OPEN_LOCKED, tmp_path / "s.journal")
    try:
        out, err = proc.communicate(timeout=120)  # (a guard against a hang, no timing)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the lock was never taken")
    assert proc.returncode == 0, err
    assert out.startswith("True") and "released the lock" in out and "does not exist" in out
    assert not os.path.lexists(tmp_path / "s.journal.lock")


def test_a_lock_link_to_the_journal_is_left_to_optunas_grace_period(tmp_path):
    # a live worker's link (to an existing journal) is not this lock's to release
    path = str(tmp_path / "s.journal")
    open(path, "a").close()
    os.symlink(path, path + ".lock")
    lock = JournalFileLinkLock(path, grace_period=3)
    lock._release_dangling_link()  # returns at once, the link left in place
    assert os.readlink(path + ".lock") == path


def test_the_lock_of_a_journal_storage_releases_dangling_links():
    assert issubclass(JournalFileRepairingLock, JournalFileLinkLock)


@pytest.mark.parametrize("retake", [False, True], ids=["released", "taken"])
def test_a_lock_taken_over_while_held_is_left_to_its_new_holder(retake, tmp_path):
    # held past its grace period (a slow disk, a suspended machine), a lock is taken
    # over by a waiting worker as Optuna does it; the holder's release then raised
    # "did not possess lock" (its write failed, though made), or removed the new
    # holder's lock (a third worker could write beside it)
    path = str(tmp_path / "s.journal")
    holder, waiter = JournalFileLinkLock(path), JournalFileLinkLock(path)
    holder.acquire()
    os.rename(path + ".lock", path + ".lock.x")  # (Optuna's forced release)
    os.unlink(path + ".lock.x")
    if retake:
        time.sleep(0.05)  # (a new link's time differs from the old one's)
        waiter.acquire()
    with pytest.warns(UserWarning, match="another worker took it over"):
        holder.release()
    assert os.path.lexists(path + ".lock") == retake
    if retake:
        waiter.release()
        assert not os.path.lexists(path + ".lock")


@pytest.mark.parametrize("lock_class", [JournalFileLinkLock, OwnedFileOpenLock])
@pytest.mark.parametrize("step", ["acquire", "release"])
def test_a_press_as_the_lock_is_taken_or_given_back_leaves_no_lock_file(
        default_ctrl_c, lock_class, step, tmp_path, monkeypatch):
    # Ctrl-C (or SIGTERM, as sklstm tune takes it) once the lock file was made and
    # before it was recorded, or before Optuna's release renamed it: the file stayed,
    # and every worker of the storage waited for its grace period (30 s)
    path = str(tmp_path / "s.journal")
    open(path, "a").close()
    press_at_lock_file(monkeypatch, step)
    lock = lock_class(path)
    with pytest.raises(KeyboardInterrupt):
        lock.acquire()
        lock.release()
    assert not os.path.lexists(path + ".lock")
