"""The files of storages: SQLite URLs in URI form (``sqlite:///file:...?uri=true``)."""

import os

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
