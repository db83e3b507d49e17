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

A write killed before its rename (SIGKILL, the OOM killer, a power cut) leaves its
temporary file or directory, a model's or a store's size: each is named after its
machine, process and thread (:func:`temporary_path`), and the next successful write to
the same target removes those of processes that have ended (:func:`remove_leftovers`);
a reader that finds no target asks whose they are (:func:`temporary_writers`): a write
in progress, or a killed one's leftover.

Written by hand: ``os.fsync`` is the only call, and none of the libraries sklstm writes
with (torch, safetensors, numpy, skorch) flushes a file, or a directory, to disk.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import threading
import time

__all__ = ["flush", "remove_leftovers", "replace_synced", "sync_directory",
           "sync_files", "temporary_path", "temporary_writers", "write_json_durably"]


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

    One writer of ``path`` at a time: two share ``path + ".tmp"`` (one's rename then
    fails, or puts the other's half-written file in place), so callers hold a lock (a
    checkpoint's ``flock``) or write in a directory of their own (a store's metadata).

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


#: This machine in the names of temporary files (letters, digits and dashes), so that
#: a write on another one that shares the directory is never taken for one killed here.
_HOST = re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname())[:16] or "host"


#: How many characters of ``target``'s name its temporary paths hold as they are.
NAME_KEPT = 32


def _short_name(name):
    """``name`` as the temporary paths hold it: itself up to :data:`NAME_KEPT`
    characters, else its first ones and a digest of it all. The digest keeps the
    temporary paths of two targets apart whose names begin alike (a write of
    "..._fold_2" took "..._fold_1"'s, and removed them as a killed write's leftovers)."""
    if len(name) <= NAME_KEPT:
        return name
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    return f"{name[:NAME_KEPT]}~{digest}"


def _temporary_prefix(target, kind, host=_HOST):
    """The path of the temporary files of ``kind`` written to ``target`` from ``host``
    (this machine; ``""``: any, less the host too), less their process and thread ids.
    Hidden, beside ``target``, and short whatever its name (:func:`_short_name`):
    ``target`` plus a suffix failed near the system's limit ("File name too long")."""
    return os.path.join(os.path.dirname(target),
                        f".{_short_name(os.path.basename(target))}.{kind}-"
                        f"{host}{'-' if host else ''}")


def temporary_path(target, kind):
    """Where to write ``target`` before renaming it into place: beside it (a rename
    stays on one file system), named after this machine, process and thread, so that
    two writers of ``target`` (processes, or threads of one) never share it, and
    :func:`remove_leftovers` tells those of writers that have ended.

    Parameters
    ----------
    target : str
        The file or directory written, as an absolute or relative path.
    kind : str
        What is written (letters and dashes): ``"tmp"`` a model file, ``"store-tmp"``
        a sequence store, ``"csv-tmp"`` a store converted from a CSV file.

    Returns
    -------
    str
        The temporary path, e.g. ``".m.safetensors.tmp-myhost-4242-1397"``.
    """
    return f"{_temporary_prefix(target, kind)}{os.getpid()}-{threading.get_ident()}"


def _is_running(pid):
    try:
        os.kill(pid, 0)  # (signal 0: only asks whether the process is there)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (PermissionError): there
        pass
    return True


#: How long ago a temporary file was last written before a write may take it for one
#: killed: a process of the same number, on a machine of the same name, may be another
#: one's (a container with its own process ids, sharing the directory and host name),
#: whose write fills its file, or renames it, now.
LEFTOVER_AGE_S = 600


def _last_written(path):
    """When ``path`` or, for a directory, anything in it was last modified: a store's
    directory keeps the time its files were made while ``values.bin`` grows for hours."""
    newest = os.lstat(path).st_mtime
    for root, directories, files in os.walk(path):
        for name in directories + files:
            with contextlib.suppress(OSError):  # (removed meanwhile)
                newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return newest


def temporary_writers(target, kind, suffix=""):
    """The temporary files or directories of ``kind`` (:func:`temporary_path`) that
    writes of ``target`` made and have not yet renamed into place or removed, on any
    machine that shares the directory, and whether their writer still runs.

    What tells "being written" (or "killed while written") from "never written" when
    ``target`` is missing: a reader that finds nothing there cannot tell otherwise.

    Parameters
    ----------
    target : str
        The file or directory written.
    kind : str
        As given to :func:`temporary_path`.
    suffix : str, default=""
        What the writer adds to its temporary path for the names listed (``".old"``:
        a store it renamed aside to put its new one in place).

    Returns
    -------
    list of (str, str, int, bool or None)
        ``(path, host, pid, running)`` each, sorted by path: ``host`` as in the name
        (a machine's letters, digits and dashes), ``running`` True or False for a
        process of this machine, None where it cannot be asked (another machine's, or
        on a system where ``os.kill`` terminates processes: Windows).
    """
    directory, start = os.path.split(_temporary_prefix(target, kind, host=""))
    try:
        names = sorted(os.listdir(directory or os.curdir))
    except OSError:
        return []
    writers = []
    for name in names:
        # host, process, thread; ASCII digits, of a process id's size ("²" is a digit
        # to str.isdigit); the host has dashes, but the last two parts are the ids
        ids = re.fullmatch(r"([A-Za-z0-9-]+)-([0-9]{1,9})-[0-9]+" + re.escape(suffix),
                           name[len(start):]) \
            if name.startswith(start) else None
        if ids is None:
            continue
        host, pid = ids[1], int(ids[2])
        running = _is_running(pid) if host == _HOST and os.name == "posix" else None
        writers.append((os.path.join(directory, name), host, pid, running))
    return writers


def remove_leftovers(target, kind, suffix=""):
    """Remove the temporary files or directories of ``kind`` (:func:`temporary_path`)
    that writes of ``target`` on this machine left when killed: their process has ended
    and nothing in them was modified for :data:`LEFTOVER_AGE_S`. Those of running
    processes (this one's other threads included) and of other machines are kept.

    Called once a write has succeeded, so best effort: it raises nothing. A no-op where
    processes cannot be asked for (Windows: ``os.kill`` terminates them there).

    Parameters
    ----------
    target : str
        The file or directory written.
    kind : str
        As given to :func:`temporary_path`.
    suffix : str, default=""
        As given to :func:`temporary_writers`.
    """
    for path, _, _, running in temporary_writers(target, kind, suffix):
        if running is not False:  # (running, another machine's, or cannot be asked)
            continue
        with contextlib.suppress(OSError):
            if time.time() - _last_written(path) <= LEFTOVER_AGE_S:
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
