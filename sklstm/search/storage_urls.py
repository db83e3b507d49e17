"""The text of a storage argument: a plain path or a URL, how messages show it
(:func:`describe_storage`), and the valid scheme a mistyped one was meant as."""

from __future__ import annotations

import difflib
import os
import re
from urllib.parse import unquote

from optuna.storages import BaseStorage
from sqlalchemy.engine import URL, make_url

from .storage_files import DEFAULT_STORAGE_PATH, names_sqlite

__all__ = ["describe_storage", "is_plain_path", "journal_path", "scheme_hint", "shown_url"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")

#: The schemes of the URLs sklstm opens: SQLAlchemy's dialects, Redis and a journal file.
_SCHEMES = ("sqlite", "postgresql", "mysql", "oracle", "mssql", "redis", "rediss", "journal")


def journal_path(url):
    """The file of a ``journal:PATH`` or ``journal://PATH`` URL."""
    path = url.removeprefix("journal:")
    return path[2:] if path.startswith("//") else path


def is_plain_path(text):
    """No "scheme:" (or a Windows drive letter): a file path."""
    return not _SCHEME.match(text) or bool(re.match(r"^[A-Za-z]:[\\/]", text))


def shown_url(url):
    """A SQLAlchemy ``URL`` as messages show it: the password hidden, the database as
    the path it names.

    SQLAlchemy's rendering percent-encodes the database, so that
    ``sqlite:///dir with späce/x.db`` was shown as ``.../dir with sp%C3%A4ce/x.db``,
    a path the user never wrote; only that part is decoded (the query keeps its form).

    Examples
    --------
    >>> shown_url(make_url("sqlite:///runs/späce.db?mode=ro"))
    'sqlite:///runs/späce.db?mode=ro'
    """
    text = url.render_as_string(hide_password=True)
    if url.database is None:
        return text
    # (URL.set keeps a part given as None: the URL rebuilt without database and query)
    head = URL.create(url.drivername, url.username, url.password, url.host,
                      url.port).render_as_string(hide_password=True)
    # "/" and the quoted database, which holds no "?" of its own (SQLAlchemy quotes it)
    path, sep, query = text[len(head):].partition("?")
    return f"{head}{unquote(path)}{sep}{query}"


def scheme_hint(url):
    """`` (did you mean 'postgresql://'?)`` for a URL whose scheme is close to a valid
    one (``postgres``: SQLAlchemy knows PostgreSQL only by its full name), or ``""``.

    Examples
    --------
    >>> scheme_hint("postgres://me@db.example/optuna")
    " (did you mean 'postgresql://'?)"
    >>> scheme_hint("sqlite3+pysqlite:///study.db"), scheme_hint("http://x")
    (" (did you mean 'sqlite+pysqlite://'?)", '')
    """
    scheme = url.partition(":")[0].lower()
    dialect, plus, driver = scheme.partition("+")
    close = difflib.get_close_matches(dialect, _SCHEMES, n=1, cutoff=0.7)
    if not close or close[0] == dialect:
        return ""
    written = "journal:" if close[0] == "journal" else f"{close[0]}{plus}{driver}://"
    return f" (did you mean {written!r}?)"


def describe_storage(storage) -> str:
    """Short human-readable description of a storage (passwords hidden).

    Parameters
    ----------
    storage : None, str, os.PathLike or optuna.storages.BaseStorage
        A storage as :func:`~sklstm.search.resolve_storage` takes it.

    Returns
    -------
    str
        The file it names (as written), its URL, or the storage's class name.

    Examples
    --------
    >>> describe_storage("postgresql://me:secret@db.example/optuna")
    'postgresql://me:***@db.example/optuna'
    >>> describe_storage(None)
    'journal file sklstm-study.journal'
    >>> describe_storage("runs/study.db")
    'SQLite file runs/study.db'
    >>> describe_storage("journal://runs/study.log")  # the file resolve_storage opens
    'journal file runs/study.log'
    """
    if storage is None:
        return f"journal file {DEFAULT_STORAGE_PATH}"
    if isinstance(storage, BaseStorage):
        return type(storage).__name__
    text = os.fspath(storage)
    if is_plain_path(text) and names_sqlite(os.path.expanduser(text)):
        return f"SQLite file {text}"
    if not is_plain_path(text) and not text.startswith("journal:"):
        try:
            return shown_url(make_url(text))
        except Exception:
            return text
    return f"journal file {journal_path(text)}"
