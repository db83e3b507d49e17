"""Files that survive a crash of the system: on disk before anything names them.

``os.replace`` is atomic for the processes that read a directory, not against a power
cut or a crash of the system: the rename can reach the disk before the data it names,
and the name then reads back empty or short while what it replaced is gone. What
sklstm writes to keep (a fit's checkpoint, a saved model, a
:class:`~sklstm.data.store.SequenceStore`) is therefore written in this order:

1. the data, flushed to disk (:func:`flush`, :func:`sync_files`);
2. the file or directory that names or describes it, itself flushed, renamed into
   place (:func:`replace_synced`, :func:`write_json_durably`);
3. the rename, flushed: the entries of its directory (:func:`sync_directory`).

Written by hand: ``os.fsync`` is the only call, and none of the libraries sklstm writes
with (torch, safetensors, numpy, skorch) flushes a file, or a directory, to disk.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os

__all__ = ["flush", "replace_synced", "sync_directory", "sync_files", "write_json_durably"]


def flush(f):
    """Flush the open file ``f`` to disk: Python's buffer, then the system's.

    Parameters
    ----------
    f : file object
        Open for writing, on a regular file (a pipe or a device has no fsync).
    """
    f.flush()
    os.fsync(f.fileno())


def sync_directory(path, best_effort=False):
    """Flush the entries of the directory ``path`` (new, renamed or removed files) to
    disk, where the system can: POSIX opens directories; Windows does not (nor does it
    need it), and some file systems refuse to fsync one (``EINVAL``): skipped there.

    Parameters
    ----------
    path : str or os.PathLike
        The directory.
    best_effort : bool, default=False
        Raise no error (a flush after the change is in place, whole: an error there
        would report a failed write of a file that was written).
    """
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:  # (Windows: a directory cannot be opened)
        return
    try:
        os.fsync(handle)
    except OSError as exc:
        if not best_effort and exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(handle)


def sync_files(directory):
    """Flush every file in ``directory`` (as written by torch, safetensors and skorch,
    which flush none to disk) and the directory's entries, then the entry of
    ``directory`` in its parent: once this returns, what it holds survives a crash of
    the system."""
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        if entry.is_file(follow_symlinks=False):
            with open(entry.path, "r+b") as f:  # (Windows flushes writable files only)
                os.fsync(f.fileno())
    sync_directory(directory)
    sync_directory(os.path.dirname(os.path.abspath(directory)))


def replace_synced(src, dst):
    """``os.replace(src, dst)``, then the rename flushed to disk (its directory's
    entries), best effort: the new file or directory is in place and whole by then
    (:func:`sync_directory`). ``src`` is on disk already (:func:`flush`,
    :func:`sync_files`): else the name may reach the disk before the data."""
    os.replace(src, dst)  # (atomic: readers see the old file or the new, whole)
    sync_directory(os.path.dirname(os.path.abspath(dst)), best_effort=True)


def write_json_durably(path, value):
    """Replace the JSON file ``path`` by ``value`` durably: written to ``path + ".tmp"``,
    flushed to disk, renamed over ``path``, and the rename flushed (the directory).

    A write that fails leaves ``path`` as it was and no temporary file (a part-written
    one holds room on a full disk). The flush after the rename raises nothing: the new
    file is in place and whole, and an error there told the caller its write had
    failed (a checkpoint then removed the files the new state file names).

    Parameters
    ----------
    path : str
        The file.
    value : object
        JSON data.

    Examples
    --------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "state.json")
    >>> write_json_durably(path, {"epoch": 1})
    >>> open(path, encoding="utf-8").read()
    '{"epoch": 1}'
    """
    tmp = path + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(value, f)
            flush(f)  # before the rename: else it may name unwritten data
        replace_synced(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
