"""What a storage file must be before Optuna opens it: in an existing, writable
directory, writable itself, and, if it exists, a study's (a journal whose first line is
a journal entry, an SQLite database of Optuna's). A file that is not is refused and left
untouched; Optuna's own errors for these name neither the problem nor the fix.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import tempfile
import urllib.parse

__all__ = ["DEFAULT_STORAGE_PATH", "SQLITE_SUFFIXES", "check_file_location",
           "check_journal_file", "check_sqlite_file", "names_sqlite", "refuse_foreign_file",
           "sqlite_file", "sqlite_url_with_file"]

#: Journal file used when no storage is given.
DEFAULT_STORAGE_PATH = "sklstm-study.journal"

#: Suffixes of a plain path to a new file that mean an SQLite database, not a journal.
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")

#: The first bytes of every SQLite database file.
_SQLITE_HEADER = b"SQLite format 3\x00"


def refuse_foreign_file(path, kind, problem):
    """Refuse the existing file ``path``, which is not ``kind`` (``problem`` says why)."""
    raise ValueError(
        f"storage {path!r} exists but is not {kind} ({problem}); it is left untouched. "
        "Pass a new file path, or the storage of an existing study."
    )


def check_journal_file(path):
    """Refuse an existing, non-empty file whose first line is no Optuna journal entry.

    Optuna's journal backend appends to any file it is given, so a mistyped path to a
    file of one's own would get a study's log added to it.
    """
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    if not _starts_as_journal(path):
        refuse_foreign_file(path, "an Optuna journal file",
                            "its first line is not a journal entry")


def _starts_as_journal(path):
    """Whether the first line of the existing file ``path`` is an Optuna journal entry."""
    with open(path, "rb") as f:
        first = f.readline(1 << 20)
    try:
        entry = json.loads(first)
    except (UnicodeDecodeError, ValueError):
        entry = None
    return isinstance(entry, dict) and "op_code" in entry


def sqlite_file(url):
    """The file of an SQLite URL, or None (another database, or SQLite in memory).

    A URI filename (``sqlite:///file:/runs/study.db?mode=rwc&uri=true``, which
    SQLAlchemy hands to SQLite as a URI) gives the path it names.

    Parameters
    ----------
    url : sqlalchemy.engine.URL
        A parsed database URL.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from sqlalchemy.engine import make_url
    >>> sqlite_file(make_url("sqlite:///runs/study.db")), sqlite_file(make_url("sqlite://"))
    ('runs/study.db', None)
    >>> sqlite_file(make_url("sqlite:///file:/runs/study.db?mode=ro&uri=true"))
    '/runs/study.db'
    """
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if _is_sqlite_uri(url):
        return _sqlite_uri_file(url)
    return url.database


def _is_sqlite_uri(url):
    """Whether SQLite reads the database of ``url`` as a URI filename (``file:...``)."""
    from sqlalchemy.util import asbool

    return (asbool(url.query.get("uri", False))
            and url.database.lower().startswith("file:"))


def _sqlite_uri_file(url):
    """The file of the SQLite URI filename of ``url`` (``file:/abs/x.db``,
    ``file:rel.db``, ``file:///abs/x.db``), None for a database in memory.

    SQLAlchemy hands ``file:...`` (its query joined back on) to SQLite as is: taken
    for a path, it was refused as the missing directory ``'.../file:'``.
    """
    uri = urllib.parse.urlsplit(url.database)
    mode = url.query.get("mode")
    # (SQLite's own percent-decoding of a URI's path, after SQLAlchemy's of the URL)
    path = urllib.parse.unquote(uri.path)
    if path in ("", ":memory:") or mode == "memory" or (
            isinstance(mode, tuple) and "memory" in mode):
        return None
    return path


def sqlite_url_with_file(url, path):
    """``url``, an SQLite URL of a file, naming the file ``path`` in the same form: a
    URI filename stays one (``file:`` + the quoted path), its query kept.

    Parameters
    ----------
    url : sqlalchemy.engine.URL
        A parsed SQLite URL whose :func:`sqlite_file` is not None.
    path : str
        The file it is to name (e.g. the real path of its file).

    Returns
    -------
    sqlalchemy.engine.URL

    Examples
    --------
    >>> from sqlalchemy.engine import make_url
    >>> url = make_url("sqlite:///file:x.db?mode=rw&uri=true")
    >>> new = sqlite_url_with_file(url, "/runs/a b.db")
    >>> new.database, sqlite_file(new), dict(new.query)
    ('file:/runs/a%20b.db', '/runs/a b.db', {'mode': 'rw', 'uri': 'true'})
    """
    if _is_sqlite_uri(url):
        # (a bare path with uri=true is no URI to SQLite: "x.db?mode=rw" is a file name)
        path = "file:" + urllib.parse.quote(path)
    return url.set(database=path)


def _has_sqlite_header(path):
    with open(path, "rb") as f:
        return f.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER


def check_file_location(path, shown):
    """Refuse a storage file that is a directory or no regular file (``/dev/null``, a
    pipe), lies in a missing directory, or that this process cannot write.

    Optuna's own errors for them are an ``IsADirectoryError``, SQLite's "unable to
    open database file", or, for a file that is read-only here, a ``PermissionError``
    (journal) or "An exception is raised during the commit ... e.g. exceeding max
    length" (SQLite) when the study is first written, which name neither the problem
    nor the fix.
    """
    # (a path ending with a separator: a directory to be, an IsADirectoryError unsaid)
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        raise ValueError(
            f"storage {shown!r} {'is' if os.path.isdir(path) else 'names'} a directory; "
            f"name a file in it, e.g. {os.path.join(path, DEFAULT_STORAGE_PATH)!r} (a "
            f"journal file) or 'sqlite:///{os.path.join(path, 'study.db')}'")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        # a URL's "~" is no home directory (only a plain path's is)
        home = (" (a URL's '~' is not your home directory: write the full path)"
                if path.startswith("~") else "")
        raise ValueError(f"storage {shown!r}: directory {parent!r} does not exist{home}; "
                         "create it first, or give a path in an existing directory")
    # Writing a study also creates files beside it (Optuna's journal lock, SQLite's
    # rollback journal, sklstm's schema and trial-budget locks), even when it exists.
    if not os.access(parent, os.W_OK | os.X_OK):
        _refuse_directory(shown, parent, "")
    if not os.path.exists(path):
        # (root's os.access says yes to /sys, /proc or a read-only mount; an existing
        # file there is refused below, as it cannot be appended to)
        why = _cannot_create_in(parent)
        if why:
            _refuse_directory(shown, parent, f" (creating a file there failed: {why})")
        return
    if not stat.S_ISREG(os.stat(path).st_mode):
        # /dev/null took the study and lost it (Optuna's fsync then failed with a bare
        # "[Errno 22] Invalid argument"); a pipe would block the worker
        raise ValueError(f"storage {shown!r} is not a regular file ({_kind(path)}), and a "
                         "study is kept in a file it writes and reads back; give the path "
                         "of a file, e.g. 'study.journal' or 'study.db'")
    if not os.access(path, os.R_OK | os.W_OK) or not _opens_for_append(path):
        raise ValueError(f"storage {shown!r} is not writable here, and a study writes "
                         "every trial to it; make it writable (chmod u+rw), or copy it "
                         "to a path you can write to")


def _refuse_directory(shown, parent, why):
    raise ValueError(f"storage {shown!r}: directory {parent!r} is not writable{why}, and a "
                     "study writes its file and lock files there; make it writable, or "
                     "give a path in a directory you can write to")


def _cannot_create_in(parent):
    """Why no file can be created in the directory ``parent`` (None if one can).

    ``os.access`` says yes to root for any directory, even one where no file can be
    created (a read-only mount, ``/sys``, ``/proc``): a new journal there was "not a
    readable Optuna journal file ... Restore it from a copy", a file that never
    existed. So a file is created there, and removed, to know.
    """
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".sklstm-write-check-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _kind(path):
    """What the existing ``path``, which is no regular file, is, in words."""
    mode = os.stat(path).st_mode
    for test, kind in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a file"


def _opens_for_append(path):
    """Whether the existing regular file ``path`` opens for appending (unchanged).

    ``os.access`` says yes to root for any file, even one that cannot be written:
    ``/proc/version`` (whose end cannot be sought) or a file on a read-only mount.
    """
    try:
        with open(path, "ab"):
            return True
    except OSError:
        return False


def check_sqlite_file(path):
    """Refuse an existing file that is not an SQLite database of Optuna (or empty)."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    if not _has_sqlite_header(path):
        refuse_foreign_file(path, "an SQLite database", "no SQLite header")
    try:
        try:
            tables = _sqlite_tables(path, "ro")
        except sqlite3.OperationalError:
            # a worker killed mid-transaction leaves a hot journal, which a reader must
            # roll back first (refused read-only: the study after a killed worker was
            # "not a readable SQLite database"); what any writer opening it does
            if not os.path.isfile(path + "-journal"):
                raise
            tables = _sqlite_tables(path, "rw")
    except sqlite3.Error as exc:
        if _is_locked(exc):  # a study's file all the same: not to be replaced
            raise ValueError(
                f"storage {path!r} is locked by another process ({exc}); wait until it "
                "lets go, or close the program that holds it (a database browser, a "
                "worker stopped in a debugger), then run again") from None
        refuse_foreign_file(path, "a readable SQLite database", str(exc))
    if tables and "studies" not in tables:
        refuse_foreign_file(path, "an Optuna study database",
                             f"it holds other tables: {', '.join(sorted(tables)[:5])}")


def _is_locked(exc):
    """Whether SQLite's error ``exc`` is another connection's lock on the database
    (which it waited for, for the connection's timeout): "database is locked" was "not
    a readable SQLite database ... Pass a new file path"."""
    busy = (getattr(sqlite3, "SQLITE_BUSY", 5), getattr(sqlite3, "SQLITE_LOCKED", 6))
    code = getattr(exc, "sqlite_errorcode", None)  # (Python >= 3.11)
    return (code & 0xFF) in busy if code is not None else "locked" in str(exc)


def _sqlite_tables(path, mode):
    """The tables of the SQLite database ``path``, opened in ``mode`` (``ro``/``rw``)."""
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + f"?mode={mode}"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        return {row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}


def names_sqlite(path):
    """Whether a plain storage path names an SQLite database rather than a journal file:
    an existing SQLite file, or a new (or empty) one with a suffix of
    :data:`SQLITE_SUFFIXES`. An existing journal keeps its name, whatever it is; an
    existing file of another kind with such a suffix is checked (and refused) as the
    SQLite database its name says it is, not as a journal."""
    suffix = path.lower().endswith(SQLITE_SUFFIXES)
    if os.path.isfile(path) and os.path.getsize(path) > 0:
        return _has_sqlite_header(path) or (suffix and not _starts_as_journal(path))
    return not os.path.isdir(path) and suffix
