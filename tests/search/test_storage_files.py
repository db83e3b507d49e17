"""The files of storages: SQLite URLs in URI form (``sqlite:///file:...?uri=true``),
directories no file can be created in, files whose name and content disagree."""

import os
import re

import pytest
from sqlalchemy.engine import make_url

from sklstm.search.storage import resolve_storage
from sklstm.search.storage_files import sqlite_file, sqlite_url_with_file


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///file:/runs/x.db?mode=ro&uri=true", "/runs/x.db"),
    ("sqlite:///file:///runs/x.db?uri=true", "/runs/x.db"),
    ("sqlite:///file:runs/x.db?uri=1", "runs/x.db"),
    ("sqlite:///file:/runs/a%2520b.db?uri=true", "/runs/a b.db"),  # SQLite decodes it too
    ("sqlite:///file::memory:?uri=true&cache=shared", None),
    ("sqlite:///file:shared?mode=memory&uri=true", None),
    # without uri=true, "file:" is part of a plain file name, as SQLite reads it
    ("sqlite:///file:x.db", "file:x.db"),
    ("sqlite:///runs/x.db", "runs/x.db"),
])
def test_sqlite_file_reads_uri_filenames(url, expected):
    assert sqlite_file(make_url(url)) == expected


@pytest.mark.parametrize("url", ["sqlite:///file:x.db?mode=rwc&uri=true",
                                 "sqlite:///x.db?timeout=5"])
def test_sqlite_url_with_file_keeps_the_form_and_query(url, tmp_path):
    path = str(tmp_path / "a b?.db")
    new = make_url(sqlite_url_with_file(make_url(url), path).render_as_string())
    assert sqlite_file(new) == path
    assert dict(new.query) == dict(make_url(url).query)


def test_a_sqlite_uri_is_checked_as_the_file_it_names(tmp_path):
    # refused before as the missing directory '.../file:/...'
    missing = tmp_path / "missing" / "x.db"
    with pytest.raises(ValueError, match=f"directory '{tmp_path / 'missing'}' does not"):
        resolve_storage(f"sqlite:///file:{missing}?uri=true")
    storage = resolve_storage(f"sqlite:///file:{tmp_path / 'x.db'}?uri=true")
    assert sqlite_file(storage.engine.url) == os.path.realpath(tmp_path / "x.db")


def test_a_sqlite_uri_with_uri_parameters_opens_the_file_it_names(tmp_path):
    resolve_storage(f"sqlite:///file:{tmp_path / 'x.db'}?mode=rwc&uri=true")
    assert os.listdir(tmp_path) == ["x.db"]  # not 'x.db?mode=rwc'


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
@pytest.mark.parametrize("storage", ["/proc/s.journal", "journal:/proc/s.journal",
                                     "/proc/s.db", "sqlite:////proc/s.db"])
def test_a_directory_no_file_can_be_created_in_is_named_for_root_too(storage, monkeypatch):
    # os.access says yes to root for /proc, /sys or a read-only mount: a new journal
    # there was "not a readable Optuna journal file ... Restore it from a copy", a file
    # that never existed (and SQLite failed on its lock file). os.access answers as
    # for root here, whoever runs the test.
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: True)
    with pytest.raises(ValueError, match=re.escape(
            "directory '/proc' is not writable (creating a file there failed: ")
            + ".*make it writable, or give a path in a directory you can write to"):
        resolve_storage(storage)


@pytest.mark.parametrize("name", ["d.db", "d.sqlite", "d.SQLITE3"])
def test_a_file_named_as_sqlite_that_is_not_is_refused_as_sqlite(name, tmp_path):
    # "d.db" holding other text was "not an Optuna journal file": .db means SQLite
    path = tmp_path / name
    path.write_text("hello\n")
    with pytest.raises(ValueError, match=re.escape(
            f"storage {str(path)!r} exists but is not an SQLite database (no SQLite header)")):
        resolve_storage(str(path))
    assert path.read_text() == "hello\n"
    assert os.listdir(tmp_path) == [name]


def test_a_journal_named_as_sqlite_stays_a_journal(tmp_path):
    # written as journal:study.db, it is opened as the journal it is by its plain path
    import optuna

    path = str(tmp_path / "study.db")
    optuna.create_study(study_name="s", storage=resolve_storage(f"journal:{path}"))
    storage = resolve_storage(path)
    assert type(storage).__name__.endswith("JournalStorage")
    assert [s.study_name for s in storage.get_all_studies()] == ["s"]


def test_a_database_locked_by_another_process_is_named_locked_and_kept(tmp_path):
    # "database is locked" was "not a readable SQLite database ... Pass a new file
    # path": the study's own file, held by a browser or a worker in a debugger
    import contextlib
    import sqlite3

    import optuna

    path = str(tmp_path / "s.db")
    optuna.create_study(study_name="s", storage=resolve_storage(path))
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(ValueError, match=re.escape(
                f"storage {path!r} is locked by another process (database is locked); "
                "wait until it lets go")):
            resolve_storage(path)
        holder.execute("ROLLBACK")
    assert [s.study_name for s in resolve_storage(path).get_all_studies()] == ["s"]
