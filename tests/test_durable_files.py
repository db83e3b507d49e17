"""Files written durably (``_durable_files``): on disk before anything names them, the
rename flushed after. :func:`record_disk` watches the calls, for the tests of the files
written so (checkpoints, model files, sequence stores)."""

import errno
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time

import pytest

from sklstm._durable_files import (
    remove_leftovers,
    replace_synced,
    sync_directory,
    sync_files,
    temporary_path,
    temporary_writers,
    write_json_durably,
)

POSIX = os.name == "posix"  # (where a directory can be opened and fsynced)


def file_identity(path_or_fd):
    """``(device, inode)`` of an open file or a path: the same across a rename."""
    stat_ = os.fstat(path_or_fd) if isinstance(path_or_fd, int) else os.stat(path_or_fd)
    return stat_.st_dev, stat_.st_ino


def record_disk(monkeypatch, fsync=None):
    """Watch ``os.fsync`` and ``os.replace``: the list returned fills with
    ``("fsync", identity)`` and ``("replace", identity, destination)`` in call order.
    ``fsync(fd)``, if given, runs first at every fsync (to fail one)."""
    events, real_fsync, real_replace = [], os.fsync, os.replace

    def watched_fsync(fd):
        if fsync is not None:
            fsync(fd)
        events.append(("fsync", file_identity(fd)))
        real_fsync(fd)

    def watched_replace(src, dst):
        events.append(("replace", file_identity(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", watched_fsync)
    monkeypatch.setattr(os, "replace", watched_replace)
    return events


def killed_when_written(script, *args):
    """Run the Python ``script`` with ``args`` until it prints "written", then kill it
    with SIGKILL (as the OOM killer does: no ``finally`` runs); its process id."""
    child = subprocess.Popen([sys.executable, "-c", script, *map(os.fspath, args)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "written\n"
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    return child.pid


def age(path, seconds=3600):
    """Date ``path``, and all a directory holds, ``seconds`` back (instead of waiting)."""
    then = time.time() - seconds
    for root, directories, files in os.walk(path):
        for name in directories + files:
            os.utime(os.path.join(root, name), (then, then))
    os.utime(path, (then, then))


def fail_directories(error):
    """An ``fsync`` hook for :func:`record_disk` that fails on a directory with ``error``."""
    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(error, os.strerror(error))
    return fsync


def test_write_json_durably_flushes_before_the_rename_and_keeps_the_file_on_failure(
        tmp_path, monkeypatch):
    path = str(tmp_path / "state.json")
    order = []
    monkeypatch.setattr(os, "fsync", lambda fd: order.append(("fsync", file_identity(fd))))
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (
        order.append(("replace", file_identity(a))), real_replace(a, b)))
    write_json_durably(path, {"a": 1})
    assert order[:2] == [("fsync", file_identity(path)), ("replace", file_identity(path))]
    assert order[2:] == ([("fsync", file_identity(tmp_path))] if POSIX else [])

    def no_room(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_room)
    with pytest.raises(OSError, match="No space left"):
        write_json_durably(path, {"a": 2})
    assert json.loads(open(path, encoding="utf-8").read()) == {"a": 1}
    assert os.listdir(tmp_path) == ["state.json"]  # no part-written temporary file


@pytest.mark.skipif(not POSIX, reason="a directory is opened and fsynced on POSIX only")
def test_a_file_system_that_cannot_flush_a_directory_is_no_error(tmp_path, monkeypatch):
    def refuses(fd):
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    monkeypatch.setattr(os, "fsync", refuses)
    sync_directory(tmp_path)  # (some network file systems refuse it: nothing to do there)
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(
        OSError(errno.EIO, os.strerror(errno.EIO))))
    with pytest.raises(OSError, match="Input/output error"):  # a real failure is not hidden
        sync_directory(tmp_path)


def test_sync_files_flushes_every_file_then_the_directory_then_its_entry(
        tmp_path, monkeypatch):
    directory = tmp_path / "epoch-1"
    directory.mkdir()
    for name in ("b.pt", "a.json"):
        (directory / name).write_bytes(b"x")
    events = record_disk(monkeypatch)
    sync_files(directory)
    files = [("fsync", file_identity(directory / name)) for name in ("a.json", "b.pt")]
    entries = [("fsync", file_identity(directory)), ("fsync", file_identity(tmp_path))]
    assert events == files + (entries if POSIX else [])


@pytest.mark.parametrize("error", [None, errno.EINVAL, errno.EIO],
                         ids=["flushed", "refused by the file system", "an I/O error"])
def test_replace_synced_flushes_the_rename_at_best(error, tmp_path, monkeypatch):
    # the rename is done when its directory is flushed: a failure there reported a
    # failed write of a file that was in place, whole
    (tmp_path / "new").write_text("new")
    (tmp_path / "file").write_text("old")
    new = file_identity(tmp_path / "new")
    events = record_disk(monkeypatch, fsync=error and fail_directories(error))
    replace_synced(str(tmp_path / "new"), str(tmp_path / "file"))
    assert (tmp_path / "file").read_text() == "new"
    assert events[0] == ("replace", new, str(tmp_path / "file"))
    flushed = POSIX and error is None
    assert events[1:] == ([("fsync", file_identity(tmp_path))] if flushed else [])


def test_temporary_paths_are_per_thread_hidden_beside_the_target_and_short(tmp_path):
    target = str(tmp_path / ("m" * 250))  # (a target's name plus a suffix: too long)
    paths = [temporary_path(target, "tmp")]
    thread = threading.Thread(target=lambda: paths.append(temporary_path(target, "tmp")))
    thread.start()
    thread.join()
    assert paths[0] != paths[1]  # (two threads writing one target wrote one file)
    assert os.path.dirname(paths[0]) == str(tmp_path)
    assert os.path.basename(paths[0]).startswith(".mmm") and len(os.path.basename(paths[0])) < 100
    assert f"-{os.getpid()}-{threading.get_ident()}" in paths[0]


@pytest.mark.skipif(not POSIX, reason="processes asked for with os.kill")
def test_remove_leftovers_removes_only_those_of_writes_killed_on_this_machine(tmp_path):
    target = str(tmp_path / "data")
    ended = killed_when_written("print('written', flush=True)")
    mine = temporary_path(target, "store-tmp")

    def leftover(path, directory=True, aged=True):
        os.mkdir(path) if directory else open(path, "w").close()
        if directory:
            open(os.path.join(path, "values.bin"), "w").close()
        if aged:
            age(path)
        return os.path.basename(path)

    dead = mine.replace(f"-{os.getpid()}-", f"-{ended}-")
    killed = [leftover(dead), leftover(dead + "0", directory=False)]
    kept = [leftover(mine),  # this process's (another thread's write, under way)
            leftover(dead + "1", aged=False),  # written to within minutes
            # a store whose directory is old but whose values.bin grows (a process of
            # the number elsewhere: a container sharing the directory and host name)
            leftover(dead + "2"),
            leftover(dead.replace(".store-tmp-", ".csv-tmp-")),  # another kind
            leftover(dead.replace(f"-{ended}-", f"0-{ended}-")),  # another machine's name
            leftover(dead.replace(f"-{ended}-", f"-{ended}x-"))]  # no process id
    os.utime(os.path.join(dead + "2", "values.bin"))
    assert sorted(os.listdir(tmp_path)) == sorted(killed + kept)
    remove_leftovers(target, "store-tmp")
    assert sorted(os.listdir(tmp_path)) == sorted(kept)


@pytest.mark.skipif(not POSIX, reason="processes asked for with os.kill")
def test_temporary_writers_tell_running_killed_and_other_machines_writes(tmp_path):
    target = str(tmp_path / "data")
    ended = killed_when_written("print('written', flush=True)")
    mine = temporary_path(target, "store-tmp")  # (this process: running)
    host = re.search(r"store-tmp-(.+)-[0-9]+-[0-9]+$", mine)[1]
    dead = mine.replace(f"-{os.getpid()}-", f"-{ended}-")
    elsewhere = str(tmp_path / ".data.store-tmp-my-other-host-42-7")
    for path in (mine, dead, elsewhere, mine + ".old", dead.replace(".data.", ".data2."),
                 dead.replace(".store-tmp-", ".csv-tmp-")):  # (none of them: not listed)
        os.mkdir(path)
    assert temporary_writers(target, "store-tmp") == sorted([
        (mine, host, os.getpid(), True), (dead, host, ended, False),
        (elsewhere, "my-other-host", 42, None)])
    assert temporary_writers(str(tmp_path / "absent" / "data"), "store-tmp") == []
