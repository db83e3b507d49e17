"""Optuna's lock of a journal file, with a grace period for a lock link left dangling.

Why this is written here: Optuna's ``JournalFileSymlinkLock`` is a symbolic link beside
the journal (``<file>.lock``) that points to the journal. It forcibly releases a lock
left by a dead worker once the lock has not changed for its grace period, and it judges
that by ``os.stat``, which follows the link. Where the link's target does not exist,
``os.stat`` fails and Optuna's loop tries again at once, without a sleep and without
ever reaching the grace period: every worker that opened the journal spun at 100% CPU
for ever, a warning every 10 s its only sign. Such a link is a dead worker's lock in a
study directory since moved or copied (``cp -a``, ``rsync -a`` keep links as they are),
or one written by an Optuna worker given a relative path (Optuna links to the path as
given, which the link resolves from its own directory). Here a dangling link is judged
by its own ``lstat`` instead, by Optuna's rule: unchanged for the grace period, it is
released as Optuna releases a stale lock; a live worker's lock, held for the moment of
one write, changes or goes long before.

Both of Optuna's file locks also let a worker remove a lock that is no longer its own:
one held longer than the grace period (a write on a slow disk, a machine suspended or
too loaded) is taken over by a waiting worker, and the holder's release then raised
"did not possess lock", failing its next trial or write, or, where the waiter had taken
the lock already, removed the waiter's, letting a third worker in beside it.
:class:`OwnedLockMixin` releases only the lock file this worker made.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
import warnings

from optuna.storages.journal import JournalFileOpenLock, JournalFileSymlinkLock

__all__ = ["JournalFileLinkLock", "OwnedFileOpenLock", "OwnedLockMixin"]

#: Seconds between two looks at a dangling lock link (Optuna's own wait grows to 1 s).
_POLL_SECONDS = 0.5


def _identity(path):
    """The lock file ``path`` as made (its inode and time), None if there is none:
    another worker's file made since under the same name differs."""
    try:
        made = os.lstat(path)
    except OSError:
        return None
    return made.st_ino, made.st_mtime_ns


class OwnedLockMixin:
    """An Optuna file lock (``JournalFileSymlinkLock``, ``JournalFileOpenLock``) whose
    release removes only the lock file its own acquire made.

    Why this is written here: Optuna's locks release whatever file has the lock's
    name. A lock held for longer than its grace period is forcibly released by a
    waiting worker, which takes it; the holder's release then raised ``RuntimeError:
    did not possess lock`` (its trial failed before its objective ran) or removed the
    new holder's lock. Here that release leaves the lock as it is, with a warning.
    Optuna's own forced release of another worker's stale lock, inside ``acquire``,
    is unchanged. (A lock is acquired and released by one thread at a time: the
    journal storage's writes and the trial budget's claims are serialized.)
    """

    #: The identity of the lock file this lock made, until it releases it.
    _made = None

    def __init__(self, filepath, grace_period=30):
        super().__init__(filepath, grace_period)
        # Optuna's name of the lock (kept private by it): under another name, no file
        # is found here, and every release is Optuna's
        self._link = f"{filepath}.lock"

    def acquire(self):
        """Take the lock (Optuna's wait), remembering the lock file it made; a press
        (``KeyboardInterrupt``) as it is made gives it back.

        Returns
        -------
        bool
            True, as Optuna's.
        """
        acquired = super().acquire()
        try:
            self._made = _identity(self._link)
        except BaseException:
            # a press (Ctrl-C, SIGTERM as sklstm tune takes it) once the file was made:
            # left there, it blocked every worker of the storage for the grace period
            self._made = None
            with contextlib.suppress(RuntimeError):  # (gone already: nothing to give back)
                super().release()
            raise
        return acquired

    def release(self):
        """Remove the lock file this lock made; another's (this one's taken over after
        the grace period) is left, with a warning; a press (``KeyboardInterrupt``) in
        the middle still removes it. Outside a hold, Optuna's release (its forced
        release of a stale lock, inside ``acquire``)."""
        made, self._made = self._made, None
        try:
            if made is None or _identity(self._link) == made:
                return super().release()
        except BaseException:
            # a press before Optuna's rename of the file: the release is finished, or
            # the file blocked every worker for the grace period (after the rename, the
            # file is gone and Optuna's own error stands)
            if made is not None and _identity(self._link) == made:
                with contextlib.suppress(RuntimeError):
                    super().release()
            raise
        warnings.warn(
            f"the lock {self._link!r} was held here for longer than its grace "
            f"period ({self.grace_period} s: a slow disk, a suspended or overloaded "
            "machine) and another worker took it over; it is left to that worker. What "
            "this worker did under it is kept, but another worker may have done the same "
            "at once (a study's trial budget may end with one trial more).",
            UserWarning, stacklevel=2)
        return None


class OwnedFileOpenLock(OwnedLockMixin, JournalFileOpenLock):
    """Optuna's ``JournalFileOpenLock`` that releases only its own lock file
    (:class:`OwnedLockMixin`): the lock of a study's trial budget.

    Parameters
    ----------
    filepath : str
        The file locked: the lock is ``<filepath>.lock``.
    grace_period : int or None, default=30
        As for Optuna's lock.

    Examples
    --------
    >>> import os, tempfile
    >>> lock = OwnedFileOpenLock(os.path.join(tempfile.mkdtemp(), "study.budget"))
    >>> lock.acquire()
    True
    >>> lock.release()
    """


class JournalFileLinkLock(OwnedLockMixin, JournalFileSymlinkLock):
    """Optuna's ``JournalFileSymlinkLock`` that also releases a dangling lock link
    left unchanged for its grace period, where Optuna's spins for ever, and releases
    only its own link (:class:`OwnedLockMixin`).

    Parameters
    ----------
    filepath : str
        The journal file.
    grace_period : int or None, default=30
        Seconds a lock may stay unchanged before it is forcibly released, as for
        Optuna's lock (its default); None never releases one (Optuna then waits,
        without spinning).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "study.journal")
    >>> lock = JournalFileLinkLock(path)
    >>> lock.acquire(), os.path.islink(path + ".lock")
    (True, True)
    >>> lock.release()
    """

    def acquire(self):
        """Take the lock, first waiting out a dangling lock link (see the module).

        Returns
        -------
        bool
            True, as Optuna's.
        """
        self._release_dangling_link()
        return super().acquire()

    def _release_dangling_link(self):
        """Return once no dangling lock link is left: it went, came to point to a file
        (Optuna's loop judges those), or stayed unchanged for the grace period and was
        released here."""
        if self.grace_period is None:
            return
        seen = since = None
        while True:
            try:
                link = os.lstat(self._link)
                target = os.readlink(self._link) if stat.S_ISLNK(link.st_mode) else None
            except OSError:
                return  # no lock: Optuna takes it
            if target is None or os.path.exists(self._link):
                return
            # (another link of the same name is another worker's lock: counted afresh)
            if (link.st_ino, link.st_mtime_ns) != seen:
                seen, since = (link.st_ino, link.st_mtime_ns), time.monotonic()
            elif time.monotonic() - since > self.grace_period:
                warnings.warn(
                    f"released the lock {self._link!r}: a link to {target!r}, which does not "
                    f"exist, unchanged for {self.grace_period} s, left by a worker killed as "
                    "it wrote to the journal (in a directory since moved or copied, or an "
                    "Optuna worker given a relative path)", UserWarning, stacklevel=2)
                with contextlib.suppress(RuntimeError, OSError):  # another waiter's first
                    self.release()
                return
            time.sleep(_POLL_SECONDS)
