"""Writing the model file (``_file.py``): where it can be written, its permissions, the
forms of a path, on disk before its name."""

import errno
import os
import re
import stat

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import sklstm
from sklstm import LSTMRegressor
from sklstm.persistence._file import write_model_file

from ..test_durable_files import (
    POSIX,
    age,
    fail_directories,
    file_identity,
    killed_when_written,
    record_disk,
)
from .samples import X3


@pytest.mark.parametrize(("name", "error", "problem"), [
    ("no/such/dir/m.safetensors", FileNotFoundError,
     r"the directory 'no/such/dir' does not exist; create it first"),
    ("taken", IsADirectoryError, "it is a directory; give a file name"),
    # (it was "the directory 'm.safetensors' does not exist; create it first
    # (os.makedirs)", which fails on the file of that name)
    ("m.safetensors/m.safetensors", NotADirectoryError,
     r"'m.safetensors' is a file, not a directory; save into a directory"),
], ids=["missing directory", "a directory", "a file as its directory"])
def test_save_where_no_file_can_be_written_names_the_path_and_leaves_nothing(
        name, error, problem, tmp_path, tiny, monkeypatch):
    (tmp_path / "taken").mkdir()
    (tmp_path / "m.safetensors").write_bytes(b"an earlier model")
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    monkeypatch.chdir(tmp_path)  # a relative path, as users type it
    with pytest.raises(error, match=rf"cannot save the model to '{name}': {problem}"):
        est.save(name)
    # no temporary file either, and the file in the way as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors", "taken"]
    assert (tmp_path / "m.safetensors").read_bytes() == b"an earlier model"

@pytest.mark.parametrize("error", [errno.EACCES, errno.EROFS])
def test_a_directory_that_cannot_be_written_is_named_with_the_fix(error, tmp_path, tiny,
                                                                  monkeypatch):
    # the model is written beside its file and renamed over it: a directory without
    # write permission (for a user other than root) or on a read-only file system
    # failed with a bare "Permission denied" on a file the user could write
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    path = tmp_path / "m.safetensors"
    est.save(path)
    before = path.read_bytes()

    def refuse(file, mode="r", *args, **kwargs):  # (as the system does, root or not)
        if "w" in mode and os.path.dirname(os.fspath(file)) == str(tmp_path):
            raise OSError(error, os.strerror(error), file)
        return open(file, mode, *args, **kwargs)

    monkeypatch.setattr("sklstm.persistence._file.open", refuse, raising=False)
    with pytest.raises(OSError, match=rf"cannot save the model to '{re.escape(str(path))}': "
                       rf"{os.strerror(error)}: the directory '{re.escape(str(tmp_path))}' "
                       r"cannot be "
                       r"written .*save into a directory you can write to"):
        est.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_a_read_only_file_is_kept_as_open_keeps_it(tmp_path, tiny, monkeypatch):
    # renamed over (its directory writable), a model made read-only to keep it was
    # replaced in silence, read-only again; open(path, "wb") (torch.save, joblib.dump)
    # refuses it
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"the model kept")
    path.chmod(0o444)
    real_access = os.access

    def access(file, mode, *args, **kwargs):  # (as for a user other than root)
        if os.path.realpath(file) == os.path.realpath(path) and mode & os.W_OK:
            return False
        return real_access(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(PermissionError, match=r"cannot save the model to .*m.safetensors': "
                       r"the file cannot be written \(read-only.*make it writable"):
        est.save(path)
    assert path.read_bytes() == b"the model kept"
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    path.chmod(0o644)
    monkeypatch.undo()
    est.save(path)  # (writable again: replaced)
    assert_array_equal(sklstm.load(path).predict(X3), est.predict(X3))


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_saved_file_is_readable_as_a_new_file_is(tmp_path, tiny):
    # safetensors creates its files readable by their owner only (0600): a model saved
    # for a server running as another user could not be read by it
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    path = tmp_path / "m.safetensors"
    previous = os.umask(0o022)
    try:
        est.save(path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.chmod(0o640)  # saved again, the file keeps the permissions it was given
    est.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640

def test_paths_with_a_home_directory_bytes_or_no_file_name(tmp_path, tiny, monkeypatch):
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))  # (Windows' home)
    # "~/..." was a directory named "~", which the message advised to create
    est.save("~/m.safetensors")
    assert (tmp_path / "m.safetensors").is_file()
    assert_array_equal(sklstm.load("~/m.safetensors").predict(X3), est.predict(X3))
    # bytes loaded as "not an sklstm model file"
    est.save(os.fsencode(tmp_path / "b.safetensors"))
    assert_array_equal(sklstm.load(os.fsencode(tmp_path / "b.safetensors")).predict(X3),
                       est.predict(X3))
    monkeypatch.chdir(tmp_path)  # the error named the temporary file
    with pytest.raises(ValueError, match="cannot save the model to '': it names no file"):
        est.save("")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.safetensors", "m.safetensors"]


def test_a_saved_file_is_on_disk_before_its_name_and_the_rename_after(tmp_path, monkeypatch):
    # the directory was not flushed after the rename: after a crash of the system the
    # previous model (or none) could come back, though the save had returned
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"the model before")
    events = record_disk(monkeypatch)
    write_model_file(path, {"format_version": 1}, {"attr.x": np.zeros(3, np.float32)})
    new = file_identity(path)
    assert events[:2] == [("fsync", new), ("replace", new, os.path.realpath(path))]
    assert events[2:] == ([("fsync", file_identity(tmp_path))] if POSIX else [])


@pytest.mark.parametrize("error", [errno.EINVAL, errno.EIO],
                         ids=["refused by the file system", "an I/O error"])
def test_a_directory_not_flushed_after_the_rename_still_saves(error, tmp_path, tiny,
                                                               monkeypatch):
    # (the file is in place and whole by then: a failure is not the save's)
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    record_disk(monkeypatch, fsync=fail_directories(error))
    est.save(tmp_path / "m.safetensors")
    assert_array_equal(sklstm.load(tmp_path / "m.safetensors").predict(X3), est.predict(X3))


def test_a_save_that_fails_to_reach_the_disk_keeps_the_file_before(tmp_path, tiny,
                                                                   monkeypatch):
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    path = tmp_path / "m.safetensors"
    est.save(path)
    before = path.read_bytes()

    def disk_error(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    record_disk(monkeypatch, fsync=disk_error)
    with pytest.raises(OSError, match=r"cannot save the model to .*Input/output error"):
        LSTMRegressor(**tiny).fit(X3, -X3[:, 0, 0]).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary file


def test_the_header_limit_is_that_of_safetensors_and_its_estimate_a_bound(tmp_path, tiny):
    # save refuses (or shortens) a header over MAX_HEADER_BYTES before safetensors'
    # raw "header too large": the two limits must be one, and the estimate of the
    # header's size no smaller than the header written
    from safetensors.numpy import load, save

    from sklstm.persistence._file import MAX_HEADER_BYTES, _header_bytes

    tensors = {"a": np.zeros((2, 3), np.float32)}
    fill = MAX_HEADER_BYTES - _header_bytes({"x": ""}, tensors)
    assert load(save(tensors, metadata={"x": "a" * fill}))["a"].shape == (2, 3)
    with pytest.raises(Exception, match="too large"):
        save(tensors, metadata={"x": "a" * (MAX_HEADER_BYTES + 1)})
    path = tmp_path / "m.safetensors"
    LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0]).save(path)
    from .helpers import read_raw

    metadata, saved = read_raw(path)
    assert _header_bytes(metadata, saved) >= int.from_bytes(path.read_bytes()[:8], "little")


_KILLED_MID_SAVE = """
import sys, time
import numpy as np
import sklstm.persistence._file as file
from sklstm import LSTMRegressor

X = np.zeros((4, 3, 1), dtype=np.float32)
est = LSTMRegressor(hidden_size=2, max_epochs=1, tol=None, device="cpu").fit(X, [0., 1, 2, 3])


def stall(f):  # the data written, not yet renamed: where a kill leaves its file
    f.flush()
    print("written", flush=True)
    time.sleep(600)


file.flush = stall
est.save(sys.argv[1])
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_save_killed_before_its_rename_keeps_the_file_and_the_next_save_cleans_up(
        tmp_path, tiny):
    # a save killed (SIGKILL, the OOM killer) left its temporary file, a model's size,
    # for good: each save's has its own name (its process's), which no later save removed
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    path = tmp_path / "m.safetensors"
    est.save(path)
    before = path.read_bytes()
    pid = killed_when_written(_KILLED_MID_SAVE, path)
    left = [p for p in tmp_path.iterdir() if p != path]
    assert len(left) == 1 and f"-{pid}-" in left[0].name
    assert path.read_bytes() == before  # the model before, whole
    assert_array_equal(sklstm.load(path).predict(X3), est.predict(X3))
    # a save still under way is left alone: of a process that runs (this one, another
    # thread), or written to within minutes (by a process of that number elsewhere: a
    # container with its own process ids, sharing the directory and the host name)
    running = tmp_path / left[0].name.replace(f"-{pid}-", f"-{os.getpid()}-1")
    running.write_bytes(b"being written")
    est.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [path.name, running.name, left[0].name])
    for leftover in (left[0], running):
        age(leftover)
    est.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, running.name])
