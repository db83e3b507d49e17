"""A study-wide trial budget that holds exactly, however many workers share the study.

Why this is written here: Optuna's ``MaxTrialsCallback`` counts the trials after one
finishes, and the next trial is created a moment later, so two workers that finish
together can both see room for one more and both start one (optuna/optuna#3518): a study
asked for ``n_trials`` ends with up to ``workers - 1`` extra trials. No Optuna storage
offers "create a trial only if there are fewer than n", so :class:`TrialBudget` holds a
lock that every worker of the storage can see from the count until the new trial exists:

* journal file, SQLite file: a lock file beside the storage file (Optuna's own
  ``JournalFileOpenLock``, the one its journal uses; safe on NFSv3+ shares);
* PostgreSQL: a session advisory lock (released by the server if the worker dies);
* in-memory storage: a thread lock (no other process can see that storage).

Other storages (MySQL, Redis) get the count without the lock, that is Optuna's behaviour:
with several workers a study may end with up to ``workers - 1`` trials more than asked.
"""

from __future__ import annotations

import threading
import zlib

from optuna.storages import InMemoryStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
from optuna.trial import TrialState
from sqlalchemy import text

__all__ = ["TrialBudget", "budget_lock"]

#: Trials that use up the budget: enqueued (WAITING) trials are not run yet.
_COUNTED = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


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
    storage : optuna.storages.BaseStorage
        The study's storage (Optuna wraps an ``RDBStorage`` in a cache; it is unwrapped).
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
    'JournalFileOpenLock'
    """
    # Optuna wraps RDBStorage in a private cache class and JournalStorage holds its backend
    # privately; both keep it in ``_backend``, which is the only way to reach the engine or
    # the file path of a storage handed to us.
    backend = getattr(storage, "_backend", None)
    if isinstance(backend, RDBStorage):
        storage = backend
    if isinstance(storage, JournalStorage) and isinstance(backend, JournalFileBackend):
        return JournalFileOpenLock(f"{backend._file_path}.budget")
    if isinstance(storage, RDBStorage):
        url = storage.engine.url
        dialect = url.get_backend_name()
        if dialect == "postgresql":
            return _PostgresAdvisoryLock(storage.engine, study_name)
        if dialect == "sqlite" and url.database not in (None, "", ":memory:"):
            return JournalFileOpenLock(f"{url.database}.budget")
    if isinstance(storage, InMemoryStorage):
        return threading.Lock()
    return _NoLock()


class TrialBudget:
    """At most ``n_trials`` trials in *study*, counted over every worker.

    :meth:`claim` takes the lock and checks for room; the lock stays held until
    :meth:`release`, once the new trial exists. :meth:`wrap` and the budget itself (an
    Optuna callback) do both inside ``study.optimize``: each finished trial claims the
    next place, and the wrapped objective releases it as the new trial starts. A trial
    left RUNNING by a killed worker uses up its place: without heartbeats, Optuna cannot
    tell it from a slow one.

    Parameters
    ----------
    study : optuna.Study
        The study whose trials are counted; its storage decides the lock.
    n_trials : int
        Most trials the study may hold, counting RUNNING, COMPLETE, PRUNED and
        FAIL trials of every worker (enqueued WAITING trials are not counted).

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study()
    >>> budget = TrialBudget(study, 1)
    >>> budget.claim()
    True
    >>> trial = study.ask(); budget.release()
    >>> budget.claim()
    False
    """

    def __init__(self, study, n_trials):
        self.study = study
        self.n_trials = n_trials
        # ``study._storage``: Optuna gives no public handle on a study's storage.
        self.lock = budget_lock(study._storage, study.study_name)
        self._held = False

    def n_used(self) -> int:
        """Trials that count against the budget (all but enqueued WAITING ones).

        Returns
        -------
        int
            Number of the study's RUNNING, COMPLETE, PRUNED and FAIL trials.
        """
        return len(self.study.get_trials(deepcopy=False, states=_COUNTED))

    def claim(self) -> bool:
        """Take the lock and check whether one more trial fits.

        Returns
        -------
        bool
            True, with the lock still held until :meth:`release`, if one more
            trial fits; False, with the lock released, otherwise.
        """
        self.lock.acquire()
        self._held = True
        if self.n_used() < self.n_trials:
            return True
        self.release()
        return False

    def release(self) -> None:
        """Let the next worker count; does nothing if the lock is not held."""
        if self._held:
            self._held = False
            self.lock.release()

    def wrap(self, objective):
        """Wrap *objective* so that it releases the claim first.

        The trial exists once the objective runs, so the next worker may count.

        Parameters
        ----------
        objective : callable
            Optuna objective, called as ``objective(trial)``.

        Returns
        -------
        callable
            Objective that calls :meth:`release`, then returns
            ``objective(trial)``.
        """

        def run(trial):
            self.release()
            return objective(trial)

        return run

    def __call__(self, study, trial):
        """Optuna callback: claim the next place, or stop this worker's loop."""
        if not self.claim():
            study.stop()
