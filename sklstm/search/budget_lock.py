"""The lock that serializes the creation of a study's trials across its workers, for the
trial budget (:mod:`sklstm.search.trial_budget`): one every worker of the storage can see.

* journal file, SQLite file: a lock file beside the storage file (Optuna's own
  ``JournalFileOpenLock``, safe on NFSv3+ shares, releasing only its own file:
  :class:`~sklstm.search.journal_lock.OwnedFileOpenLock`);
* PostgreSQL: a session advisory lock (released by the server if the worker dies);
* in-memory storage: a thread lock of the storage, shared by the worker threads;
* other storages (MySQL, Redis), or any on an Optuna release that
  :mod:`sklstm._compat.optuna` was not verified on: none (a count-only no-op).

Written by hand because no Optuna storage offers "create a trial only if there are
fewer than n" (see :mod:`~sklstm.search.trial_budget`).
"""

from __future__ import annotations

import threading
import weakref
import zlib

from optuna.storages import InMemoryStorage, RDBStorage
from sqlalchemy import text

from .._compat.optuna import journal_file_path, unwrap_storage
from .journal_lock import OwnedFileOpenLock
from .storage import sqlite_file

__all__ = ["budget_lock"]


class _NoLock:
    """Count-only fallback for storages without a lock every worker can see."""

    def acquire(self):
        return True

    def release(self):
        pass


class _PostgresAdvisoryLock:
    """``pg_advisory_lock`` on a connection of its own, keyed by the study name.

    Session-level: the server releases it if the worker's connection drops, so a killed
    worker never blocks the others.
    """

    def __init__(self, engine, name):
        self.engine = engine
        self.key = zlib.crc32(f"sklstm trial budget {name}".encode())
        self._conn = None

    def acquire(self):
        self._conn = self.engine.connect()
        self._conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self.key})
        self._conn.commit()
        return True

    def release(self):
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._conn.commit()
        finally:
            self._conn.close()
            self._conn = None


def budget_lock(storage, study_name):
    """The lock that serializes trial creation of *study_name* across all workers.

    Parameters
    ----------
    storage : optuna.storages.BaseStorage or None
        The study's storage (Optuna wraps an ``RDBStorage`` in a cache; it is unwrapped);
        None if unknown.
    study_name : str

    Returns
    -------
    object with ``acquire()`` and ``release()``
        A no-op lock where the storage has no lock shared by its workers (MySQL, Redis).

    Examples
    --------
    >>> import optuna, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "study.journal")
    >>> storage = optuna.storages.JournalStorage(
    ...     optuna.storages.journal.JournalFileBackend(path))
    >>> type(budget_lock(storage, "demo")).__name__
    'OwnedFileOpenLock'
    """
    # Optuna keeps an RDBStorage's engine and a journal's file private: read through
    # sklstm._compat.optuna, which answers "none" on an Optuna it was not verified on.
    journal_file = journal_file_path(storage)
    if journal_file:
        return OwnedFileOpenLock(f"{journal_file}.budget")
    storage = unwrap_storage(storage)
    if isinstance(storage, RDBStorage):
        url = storage.engine.url
        if url.get_backend_name() == "postgresql":
            return _PostgresAdvisoryLock(storage.engine, study_name)
        if sqlite_file(url):
            return OwnedFileOpenLock(f"{sqlite_file(url)}.budget")
    if isinstance(storage, InMemoryStorage):
        return _thread_lock(storage)
    return _NoLock()


#: One thread lock per in-memory storage, shared by every worker (thread) of it.
_THREAD_LOCKS = weakref.WeakKeyDictionary()
_THREAD_LOCKS_LOCK = threading.Lock()


def _thread_lock(storage):
    """The thread lock of an in-memory ``storage``, the same for every worker of it.

    A lock of each worker's own serialized nothing: worker threads sharing the storage
    counted at the same time, and a study asked for 2 trials ended with one per worker.
    """
    with _THREAD_LOCKS_LOCK:
        return _THREAD_LOCKS.setdefault(storage, threading.Lock())
