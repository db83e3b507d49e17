"""A storage argument's text: how messages show its URL, the scheme a typo was meant as."""

import re

import pytest

from sklstm.search import resolve_storage
from sklstm.search.storage_urls import describe_storage, scheme_hint

from .helpers import run_tune


def test_an_sqlite_url_is_shown_with_the_path_as_written(npz_path, capsys, tmp_path):
    # SQLAlchemy's rendering percent-encoded it: "sqlite:///.../dir with sp%C3%A4ce/x.db"
    # in sklstm tune's status and interrupt lines, a path the user never wrote
    folder = tmp_path / "dir with späce"
    folder.mkdir()
    url = f"sqlite:///{folder}/x.db"
    assert describe_storage(url) == url
    assert describe_storage(f"{url}?mode=ro") == f"{url}?mode=ro"
    assert describe_storage(f"sqlite:///{folder}/a%2520b.db") == f"sqlite:///{folder}/a%20b.db"
    # (the query keeps SQLAlchemy's form; the password stays hidden)
    assert (describe_storage("postgresql://me:s%40cret@db/d%C3%A4b?application_name=a%20b")
            == "postgresql://me:***@db/däb?application_name=a+b")
    code, _, err = run_tune(capsys, tmp_path, npz_path, storage=url)
    assert code == 0 and f"study 'sklstm' on {url}, " in err, err


def test_a_refused_sqlite_url_names_the_path_as_written(tmp_path):
    url = f"sqlite:///{tmp_path}/no späce/x.db"
    with pytest.raises(ValueError, match=re.escape(f"storage {url!r}: directory ")):
        resolve_storage(url)


@pytest.mark.parametrize(("url", "meant"), [
    ("postgres://me@localhost/db", "postgresql://"),
    ("postgres+psycopg2://me@localhost/db", "postgresql+psycopg2://"),
    ("sqlite3:///study.db", "sqlite://"),
    ("jornal:runs/study.log", "journal:"),
])
def test_a_mistyped_scheme_suggests_the_closest_valid_one(url, meant):
    # the message listed the valid forms, not that postgres:// is written postgresql://
    with pytest.raises(ValueError, match=re.escape(f"(did you mean {meant!r}?): use a journal")):
        resolve_storage(url)


@pytest.mark.parametrize("url", ["http://x/y", "postgresql+nodriver://x/y", "sqlite:///x.db"])
def test_a_scheme_close_to_none_or_valid_suggests_nothing(url):
    assert scheme_hint(url) == ""
