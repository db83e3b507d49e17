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
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
import warnings

from optuna.storages.journal import JournalFileSymlinkLock

__all__ = ["JournalFileLinkLock"]

#: Seconds between two looks at a dangling lock link (Optuna's own wait grows to 1 s).
_POLL_SECONDS = 0.5


class JournalFileLinkLock(JournalFileSymlinkLock):
    """Optuna's ``JournalFileSymlinkLock`` that also releases a dangling lock link
    left unchanged for its grace period, where Optuna's spins for ever.

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

    def __init__(self, filepath, grace_period=30):
        super().__init__(filepath, grace_period)
        # Optuna's name of the lock (kept private by it): under another name, no link
        # is found here and Optuna's lock is taken as it is
        self._link = f"{filepath}.lock"

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
