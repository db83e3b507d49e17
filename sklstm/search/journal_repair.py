"""A journal file whose last record was cut short (a worker killed, or a disk that
filled up, as it appended) is repaired before anyone appends after it: when a worker
opens the file (:func:`drop_cut_short_record`) and whenever a worker takes the
journal's lock (:class:`JournalFileRepairingLock`).

Split from :mod:`~sklstm.search.storage_files`, which checks what a storage file is
before Optuna opens it.
"""

from __future__ import annotations

import os
import warnings

from .journal_lock import JournalFileLinkLock

__all__ = ["JournalFileRepairingLock", "drop_cut_short_record"]


def _ends_cut_short(f):
    """Whether the open journal ``f`` ends within a line (its last record cut short)."""
    size = f.seek(0, os.SEEK_END)
    if size == 0:
        return False
    f.seek(size - 1)
    return f.read(1) != b"\n"


def _cut_short_bytes_dropped(path):
    """Cut off a record cut short at the end of the journal ``path`` (its writer's lock
    held): the number of bytes removed (0 if it ends with a whole line)."""
    with open(path, "r+b") as f:
        if not _ends_cut_short(f):
            return 0
        end = keep = f.tell()
        while keep > 0:  # back to the end of the last whole line
            start = max(0, keep - (1 << 20))
            f.seek(start)
            newline = f.read(keep - start).rfind(b"\n")
            keep = start if newline < 0 else start + newline + 1
            if newline >= 0:
                break
        f.truncate(keep)
    return end - keep


def _warn_dropped(path, dropped, stacklevel):
    warnings.warn(
        f"journal file {path!r} ended with a record cut short (a worker killed, or a full "
        f"disk, while it wrote): its {dropped} bytes, which no worker could read, were "
        "removed; the records before them are kept.", UserWarning, stacklevel=stacklevel + 1)


def drop_cut_short_record(path, lock):
    """Remove a record cut short at the end of the journal ``path``, under the journal's
    ``lock`` (Optuna's, which every writer holds).

    A worker killed, or a disk that filled up, while it appended to the journal leaves
    its last line unfinished. Optuna reads past it, but the next worker appends its
    records to that line, which is then no JSON: from then on every worker failed on the
    file (``Expecting ':' delimiter``), and the whole study with it. The unfinished
    record (which Optuna never read) is cut off, with a warning; the others are kept.
    """
    if not os.path.isfile(path):
        return
    with open(path, "rb") as f:
        if not _ends_cut_short(f):
            return
    lock.acquire()
    try:
        dropped = _cut_short_bytes_dropped(path)  # (0: a live worker's write, finished meanwhile)
    finally:
        lock.release()
    if dropped:
        _warn_dropped(path, dropped, stacklevel=3)


class JournalFileRepairingLock(JournalFileLinkLock):
    """Optuna's default lock of a journal file (as :class:`~.journal_lock.JournalFileLinkLock`)
    that cuts off a record cut short at the file's end whenever it is taken.

    :func:`drop_cut_short_record` repairs the file when a worker opens it; the workers
    already running append under this lock, and so do not write after a record cut
    short either: one left when the disk filled up in the middle of a write (Optuna
    lets the ``OSError`` out, with the lock given back and the half record left), or by
    a worker killed as it wrote (whose lock Optuna takes over after its grace period).
    Not when the lock is given back: Optuna also does that for a dead worker's lock,
    without holding it.

    Parameters
    ----------
    filepath : str
        The journal file.
    """

    def __init__(self, filepath):
        super().__init__(filepath)
        self._journal_path = filepath

    def acquire(self):
        """Take the lock, then cut off a record cut short at the file's end.

        Returns
        -------
        bool
            True, as Optuna's.
        """
        acquired = super().acquire()
        try:
            dropped = _cut_short_bytes_dropped(self._journal_path)
        except OSError:  # (no file yet: Optuna's own error, if any, says why)
            dropped = 0
        except BaseException:
            # a press (Ctrl-C, SIGTERM) as the lock was taken: Optuna's writer takes the
            # lock outside its try, and the link left blocked every worker for 30 s
            self.release()
            raise
        if dropped:
            _warn_dropped(self._journal_path, dropped, stacklevel=2)
        return acquired
