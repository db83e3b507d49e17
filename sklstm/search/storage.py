"""Turn a storage URL into an Optuna storage, failing early and clearly on bad URLs.

Accepted forms (everything is checked, and the storage opened, before any study exists):

* ``None``: the embedded default, an append-only journal file ``sklstm-study.journal``
  in the working directory. Every finished trial is flushed to it, so a killed search
  resumes where it stopped, and several processes on one machine can share it.
* a file path (``runs/study.journal``) or ``journal:PATH`` / ``journal:///ABS/PATH``: the
  same journal storage (Optuna's ``JournalStorage`` + ``JournalFileBackend``). A plain
  path that names an SQLite database, an existing one or a new file ending ``.db``,
  ``.sqlite`` or ``.sqlite3`` (:data:`SQLITE_SUFFIXES`), is opened as ``sqlite:///PATH``
  (Optuna refuses a bare path, and a journal written into ``study.db`` would be refused
  by every SQLite tool); ``journal:PATH`` always means a journal file. A directory is
  refused, naming a file in it, and so is a path that is no regular file (``/dev/null``,
  a named pipe).
* any SQLAlchemy URL Optuna's ``RDBStorage`` understands: ``sqlite:///study.db``,
  ``postgresql://user@host/db``, ``mysql+pymysql://...``. This is the way to share a study
  between machines.
* ``redis://...``: ``JournalStorage`` on a ``JournalRedisBackend`` (needs ``redis``).
* an ``optuna.storages.BaseStorage`` instance, used as is.

An existing file that is not a study's (a journal file whose first line is no journal
entry, an SQLite file that is not an Optuna database) is refused and left untouched.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import time
import warnings

from optuna.exceptions import StorageInternalError
from optuna.storages import BaseStorage, InMemoryStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from .._compat.optuna import heartbeat_interval as storage_heartbeat_interval
from .._compat.optuna import verified_or_warn
from .heartbeat import HeartbeatJournalStorage, HeartbeatRDBStorage, heartbeat_settings
from .journal_lock import JournalFileLinkLock, OwnedFileOpenLock
from .journal_repair import JournalFileRepairingLock, drop_cut_short_record
from .storage_files import (
    DEFAULT_STORAGE_PATH,
    SQLITE_SUFFIXES,
    check_file_location,
    check_journal_file,
    check_sqlite_file,
    names_sqlite,
    sqlite_file,
    sqlite_url_with_file,
)
from .storage_urls import describe_storage, is_plain_path, journal_path, scheme_hint, shown_url

__all__ = ["DEFAULT_STORAGE_PATH", "SQLITE_SUFFIXES", "describe_storage", "one_line_reason",
           "resolve_storage", "root_error", "sqlite_file"]


def _journal_storage(backend, location, failure, heartbeat, fix=""):
    """A journal storage on ``backend(location)`` (with heartbeats if asked), any
    failure as a ValueError: ``failure`` (its cause), then ``fix``."""
    if heartbeat and not verified_or_warn(
            "Heartbeats on a journal", "The journal is opened without heartbeats (as with "
            "heartbeat_interval=None): a dead worker's trial stays RUNNING, holding its place "
            "in the trial budget; a database (sqlite:///study.db) has Optuna's own heartbeats"):
        heartbeat = None
    try:
        log = backend(location)
        if heartbeat:
            return HeartbeatJournalStorage(log, **heartbeat)
        return JournalStorage(log)
    except Exception as exc:
        # Optuna asserts "Should not reach." on an entry of a kind it does not know
        reason = ("an entry of a kind this Optuna does not know" if isinstance(
            exc, AssertionError) else one_line_reason(exc))
        raise ValueError(f"{failure} ({reason}){fix}") from exc


def _file(path, heartbeat) -> BaseStorage:
    """The storage of a plain file path: an SQLite database or a journal file."""
    path = os.path.expanduser(path)
    if names_sqlite(path):
        # As a URL object, not f"sqlite:///{path}": parsed as URL text, a path's "%20"
        # was decoded and a "?" began a query string, so "a%20b.db" opened "a b.db"
        # and "runs?1.db" opened "runs", files beside the one named (and checked).
        from sqlalchemy.engine import URL

        return _rdb(URL.create("sqlite", database=path), heartbeat)
    return _journal(path, heartbeat)


def _journal(path: str, heartbeat) -> JournalStorage:
    path = os.path.expanduser(path)
    check_file_location(path, path)
    check_journal_file(path)
    # Optuna's locks (the journal's, the trial budget's) are files beside the path they
    # are given: the file's own path, so that the workers that reach it by another path
    # (a symlinked scratch directory) take the same locks rather than write at once.
    real = os.path.realpath(path)
    # (Optuna's default lock of the file, held by every writer)
    drop_cut_short_record(real, JournalFileLinkLock(real))
    # Replays the whole log: a file that is not an Optuna journal fails here. The lock
    # is Optuna's default, which also repairs a record cut short while this worker runs.
    backend = functools.partial(JournalFileBackend, lock_obj=JournalFileRepairingLock(real))
    # (a bare "Should not reach." or JSON error told neither that the file was kept
    # nor what to do)
    return _journal_storage(
        backend, real, f"{path!r} is not a readable Optuna journal file", heartbeat,
        "; it is left untouched. Restore it from a copy (or open it with the Optuna "
        "release that wrote it), or pass a new file path to start another study")


def _redis(url: str, heartbeat) -> JournalStorage:
    from optuna.storages.journal import JournalRedisBackend

    if importlib.util.find_spec("redis") is None:
        raise ValueError(f"storage {url!r} needs the 'redis' package: pip install redis")
    return _journal_storage(JournalRedisBackend, url, f"cannot open Redis storage {url!r}",
                            heartbeat)


def _rdb(url, heartbeat) -> RDBStorage:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
        dialect = parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ValueError(
            f"invalid storage URL {url!r}{scheme_hint(url)}: use a journal file path, "
            f"sqlite:///FILE, postgresql://USER@HOST/DB, mysql+pymysql://..., or "
            f"redis://... ({exc})"
        ) from exc
    shown = shown_url(parsed)  # (the path as written, not percent-encoded)
    database_file = sqlite_file(parsed)
    if database_file:
        check_file_location(database_file, shown)
        check_sqlite_file(database_file)
        # the file's own path, for the locks beside it (as for a journal, _journal)
        database_file = os.path.realpath(database_file)
        # (a URI filename keeps its form and query: set(database=) made 'x.db?mode=rwc')
        parsed = sqlite_url_with_file(parsed, database_file)
    elif parsed.get_backend_name() == "sqlite":
        # In memory: no other process can see it, and each thread would get a database
        # of its own, so Optuna's heartbeat thread failed with "no such table".
        heartbeat = None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        # SQLAlchemy >= 2.1 maps bare ``postgresql://`` to psycopg 3; the postgres extra
        # installs psycopg2, so fall back to it rather than failing.
        if parsed.drivername == "postgresql" and importlib.util.find_spec("psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg2")
        else:
            raise ValueError(
                f"storage {shown!r} needs a database driver that is not installed ({exc}); "
                "for PostgreSQL: pip install 'sklstm[postgres]', for MySQL: pip install "
                "pymysql and write mysql+pymysql://..."
            ) from exc
    # pool_pre_ping: long trials outlive idle server connections on shared databases.
    open_storage = functools.partial(
        HeartbeatRDBStorage if heartbeat else RDBStorage,
        parsed.render_as_string(hide_password=False),
        engine_kwargs={"pool_pre_ping": True}, **heartbeat or {},
    )
    try:
        return _open_creating_schema_once(open_storage, database_file)
    except Exception as exc:
        # the driver's own error: SQLAlchemy's adds the statement ("[SQL: CREATE TABLE")
        raise ValueError(f"cannot open storage {shown!r} ({one_line_reason(root_error(exc))}): "
                         "check that the database can be reached and written (the server, "
                         "its credentials, free disk space, file permissions)") from exc


def one_line_reason(exc):
    """An error's message on one line, without SQLAlchemy's link to its error catalogue.

    Shared by the messages of a storage that cannot be opened and of one that cannot
    be written (:mod:`~sklstm.search.storage_faults`).

    Parameters
    ----------
    exc : BaseException
        The storage's error.

    Returns
    -------
    str
        Its message, whitespace runs joined into single spaces.

    Examples
    --------
    >>> one_line_reason(OSError("readonly   database (Background on this error at: x)"))
    'readonly database'
    """
    return " ".join(str(exc).split("(Background on this error at:")[0].split())


def root_error(exc):
    """The database's own error behind Optuna's ``StorageInternalError``, whose message
    guesses at "invalid data in the commit" whatever the error (a read-only database),
    and behind SQLAlchemy's, whose message adds the statement and its parameters.

    Parameters
    ----------
    exc : BaseException
        A storage's error.

    Returns
    -------
    BaseException
        The driver's error (``sqlite3.OperationalError``, say), or ``exc`` itself.
    """
    while isinstance(exc, StorageInternalError) and exc.__cause__ is not None:
        exc = exc.__cause__
    orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError: the driver's error
    return orig if isinstance(orig, Exception) else exc


#: Tries at opening a new database whose schema other workers are creating.
_SCHEMA_TRIES = 5


def _lost_schema_race(exc):
    """Whether *exc* comes from another worker creating Optuna's schema at the same time."""
    return isinstance(exc, IntegrityError) or "already exists" in str(exc)


def _open_creating_schema_once(open_storage, sqlite_path):
    """``open_storage()``, safe when several workers open a new database together.

    Each worker creates Optuna's tables and version row if they are missing; started
    together on a new database they race (``table studies already exists``, a duplicate
    version row). On an SQLite file a lock file beside it lets one worker at a time
    open it (Optuna's ``JournalFileOpenLock``, as for the trial budget); on a server the
    loser of a race finds the tables there on another try (``create_all`` skips those
    that exist).
    """
    lock = None
    if sqlite_path and os.path.isdir(os.path.dirname(os.path.abspath(sqlite_path))):
        lock = OwnedFileOpenLock(f"{sqlite_path}.schema")
        lock.acquire()
    try:
        for attempt in range(_SCHEMA_TRIES):
            try:
                return open_storage()
            except (IntegrityError, OperationalError, ProgrammingError) as exc:
                if attempt == _SCHEMA_TRIES - 1 or not _lost_schema_race(exc):
                    raise
                time.sleep(0.1 * (attempt + 1))
    finally:
        if lock is not None:
            lock.release()


def resolve_storage(storage=None, *, heartbeat_interval=None, grace_period=None,
                    retry_failed=0) -> BaseStorage:
    """Open the Optuna storage named by ``storage``, or raise a clear ``ValueError``.

    Parameters
    ----------
    storage : None, str, os.PathLike or optuna.storages.BaseStorage, default=None
        See the module docstring for the accepted forms; None means the journal file
        :data:`DEFAULT_STORAGE_PATH` in the working directory.
    heartbeat_interval : int or None, default=None
        Turn on heartbeats (journal files and RDB storages; see
        :mod:`sklstm.search.heartbeat`): running trials report every this many
        seconds, so the trial of a worker that died is failed instead of left RUNNING.
        Ignored for a storage instance, which keeps its own settings (with a warning
        where it has no heartbeats and is no ``InMemoryStorage``), and for SQLite in
        memory, which no other worker can see.
    grace_period : int or None, default=None
        Seconds without a heartbeat before such a trial is failed, more than
        ``heartbeat_interval``; None is twice the interval. Needs ``heartbeat_interval``.
    retry_failed : int, default=0
        How many times a trial failed that way is run again. More than 0 needs
        ``heartbeat_interval``.

    Returns
    -------
    optuna.storages.BaseStorage
        The opened storage: a ``JournalStorage`` for journal files and Redis, an
        ``RDBStorage`` for SQLAlchemy URLs, or ``storage`` itself if it already is one.

    Raises
    ------
    ValueError
        If the URL is malformed, its driver is missing, or the storage cannot be opened
        (unreachable server, missing or unwritable directory, a file that is not a
        journal or is read-only, ...), or
        a heartbeat setting is out of range or given without ``heartbeat_interval``
        (:func:`~sklstm.search.heartbeat.heartbeat_settings`).
    TypeError
        If a heartbeat setting is not an int.

    Examples
    --------
    >>> import tempfile, os
    >>> tmp = tempfile.mkdtemp()
    >>> type(resolve_storage(os.path.join(tmp, "study.journal"))).__name__
    'JournalStorage'
    >>> type(resolve_storage(f"sqlite:///{tmp}/study.db")).__name__
    'RDBStorage'
    >>> type(resolve_storage(os.path.join(tmp, "other.db"))).__name__  # SQLite too
    'RDBStorage'
    >>> resolve_storage("postgres://h/db")
    Traceback (most recent call last):
    ...
    ValueError: invalid storage URL 'postgres://h/db' (did you mean 'postgresql://'?): ...
    """
    heartbeat = heartbeat_settings(heartbeat_interval, grace_period, retry_failed)
    if isinstance(storage, BaseStorage):
        if heartbeat and _without_heartbeats(storage):
            warnings.warn(
                f"heartbeat_interval={heartbeat['heartbeat_interval']} does not apply to the "
                f"{type(storage).__name__} given, which has no heartbeats: the trial of a "
                "worker that is killed stays RUNNING and holds its place in n_trials. Give "
                "its file path or URL instead (sklstm adds the heartbeats), or "
                "heartbeat_interval=None.", UserWarning, stacklevel=2)
        return storage
    if storage is None:
        return _journal(DEFAULT_STORAGE_PATH, heartbeat)
    if isinstance(storage, os.PathLike):
        return _file(os.fspath(storage), heartbeat)
    if not isinstance(storage, str) or not storage.strip():
        raise ValueError(f"storage must be a URL, a file path or an Optuna storage: {storage!r}")
    if storage.startswith("journal:"):
        if not journal_path(storage).strip():  # ("'' is not a readable ... journal file")
            raise ValueError(f"storage {storage!r} names no file: write journal:PATH, "
                             f"e.g. journal:{DEFAULT_STORAGE_PATH}")
        return _journal(journal_path(storage), heartbeat)
    if storage.startswith(("redis://", "rediss://", "unix://")):
        return _redis(storage, heartbeat)
    if is_plain_path(storage):
        return _file(storage, heartbeat)
    return _rdb(storage, heartbeat)


def _without_heartbeats(storage):
    """Whether a storage that other processes can share has no heartbeats.

    An in-memory storage has no other worker, and dies with its own: nothing to fail.
    """
    return not isinstance(storage, InMemoryStorage) and storage_heartbeat_interval(storage) is None
