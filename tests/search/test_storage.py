"""Opening storages: paths, URLs and settings; workers that open one new database
together all get it."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings

import numpy as np
import optuna
import pytest
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from sklstm._compat.optuna import journal_file_path, study_storage, unwrap_storage
from sklstm.search import create_or_load_study, resolve_storage, run_study, tune
from sklstm.search.storage import __all__ as storage_names
from sklstm.search.storage import describe_storage, one_line_reason
from sklstm.search.storage_faults import one_line_reason as reason_of_write_failures

from .helpers import load_study, needs_postgres, python

#: A worker that opens the storage at an agreed moment and creates (or loads) one study.
OPENING_WORKER = """
import sys, time
import optuna
from sklstm.search import resolve_storage
url, name, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
time.sleep(max(0.0, start_at - time.time()))  # all workers open the new database together
optuna.create_study(study_name=name, storage=resolve_storage(url), load_if_exists=True)
"""


@pytest.mark.parametrize("storage_url", ["sqlite",
                                         pytest.param("postgres", marks=needs_postgres)],
                         indirect=True)
def test_workers_opening_a_new_database_together_all_succeed(storage_url, study_name):
    # Each creates Optuna's schema if missing; before the fix, the losers of that race
    # failed with "table studies already exists" (seen in CI on 2 cores).
    start_at = time.time() + 6  # after every worker has imported optuna
    workers = [python(OPENING_WORKER, storage_url, study_name, start_at) for _ in range(4)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, outputs
    assert load_study(storage_url, study_name).trials == []


@pytest.mark.parametrize("name", ["study.db", "study.sqlite", "study.SQLITE3"])
def test_a_plain_path_ending_like_a_database_opens_sqlite(name, tmp_path):
    # It was a journal file under that name, which sqlite:///study.db, optuna-dashboard
    # and every SQLite tool then refused.
    path = tmp_path / name
    for given in (str(path), path):  # a str and a pathlib.Path alike
        storage = resolve_storage(given)
        assert isinstance(storage, RDBStorage)
        optuna.create_study(study_name="s", storage=storage, load_if_exists=True)
    assert path.read_bytes().startswith(b"SQLite format 3\x00")
    assert describe_storage(str(path)) == f"SQLite file {path}"
    assert optuna.load_study(study_name="s", storage=f"sqlite:///{path}").study_name == "s"


@pytest.mark.parametrize("name", ["a%20b.db", "runs?1.db", "lr 0.1#2.db"])
def test_a_plain_sqlite_path_opens_the_file_it_names(name, tmp_path):
    # The path went into the URL as text: "%20" was decoded and "?" began a query, so
    # "a%20b.db" opened "a b.db" and "runs?1.db" opened "runs", beside the one named.
    path = tmp_path / name
    optuna.create_study(study_name="s", storage=resolve_storage(str(path)))
    assert os.listdir(tmp_path) == [name]
    assert path.read_bytes().startswith(b"SQLite format 3\x00")
    assert optuna.load_study(study_name="s", storage=resolve_storage(path)).study_name == "s"


def test_an_existing_file_is_opened_as_what_it_holds(tmp_path):
    sqlite_path, journal_path = tmp_path / "made.bin", tmp_path / "old.db"
    optuna.create_study(study_name="s", storage=f"sqlite:///{sqlite_path}")
    optuna.create_study(study_name="s", storage=JournalStorage(JournalFileBackend(
        str(journal_path))))  # an earlier sklstm wrote journals under any name
    # an existing SQLite database given as a path was refused as "not a journal file"
    assert isinstance(resolve_storage(str(sqlite_path)), RDBStorage)
    assert isinstance(resolve_storage(str(journal_path)), JournalStorage)
    assert isinstance(resolve_storage(f"journal:{tmp_path / 'forced.db'}"), JournalStorage)


@pytest.mark.parametrize(("given", "message"), [
    (lambda d: str(d), "is a directory; name a file in it, e.g. '{d}/sklstm-study.journal'"),
    (lambda d: d, "is a directory; name a file in it"),
    (lambda d: f"sqlite:///{d}", "is a directory; name a file in it"),
    (lambda d: f"sqlite:///{d}/missing/s.db", "directory '{d}/missing' does not exist; create"),
    # the next three were "'{d}/new/' is not a readable Optuna journal file: [Errno 21]
    # Is a directory", "directory '{d}/~' does not exist" and "'' is not a readable
    # Optuna journal file"
    (lambda d: f"{d}/new/", "'{d}/new/' names a directory; name a file in it, e.g. "
     "'{d}/new/sklstm-study.journal'"),
    (lambda d: "sqlite:///~/s.db", "directory '{d}/~' does not exist (a URL's '~' is not "
     "your home directory: write the full path)"),
    (lambda d: "journal://", "storage 'journal://' names no file: write journal:PATH"),
], ids=["str", "path", "sqlite-url", "sqlite-missing-dir", "new-dir", "tilde-in-url",
        "empty-journal-url"])
def test_a_directory_or_a_missing_one_is_named_with_the_fix(given, message, tmp_path,
                                                            monkeypatch):
    # They failed with IsADirectoryError's text or SQLite's "unable to open database
    # file (Background on this error at: https://sqlalche.me/...)".
    monkeypatch.chdir(tmp_path)  # (where a relative path lies)
    with pytest.raises(ValueError, match=re.escape(message.format(d=tmp_path))):
        resolve_storage(given(tmp_path))
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not os.path.exists("/dev/null") or not hasattr(os, "mkfifo"),
                    reason="needs /dev/null and named pipes")
@pytest.mark.parametrize(("given", "message"), [
    (lambda d: "/dev/null", "'/dev/null' is not a regular file (a character device)"),
    (lambda d: "sqlite:////dev/null", "'sqlite:////dev/null' is not a regular file"),
    (lambda d: f"journal:{d}/pipe", "pipe' is not a regular file (a named pipe)"),
    (lambda d: f"{d}/pipe", "pipe' is not a regular file (a named pipe)"),
], ids=["dev-null", "sqlite-dev-null", "journal-pipe", "pipe"])
def test_a_path_that_is_no_regular_file_is_refused_by_name(given, message, tmp_path):
    # /dev/null took the study and lost it: Optuna's fsync failed with a bare
    # "[Errno 22] Invalid argument" (SQLite's with "disk I/O error" and a
    # /dev/null-journal beside it); a named pipe blocked the worker.
    os.mkfifo(tmp_path / "pipe")
    for heartbeat in (None, 10):
        with pytest.raises(ValueError, match=re.escape(message) + ".*give the path of a file"):
            resolve_storage(given(tmp_path), heartbeat_interval=heartbeat)
    assert os.listdir(tmp_path) == ["pipe"]


@pytest.mark.skipif(not os.path.isfile("/proc/version"), reason="needs Linux's /proc")
def test_a_file_that_cannot_be_appended_to_is_refused_even_for_root():
    # os.access says yes to root for any file: /proc/version (mode 0444) was opened, and
    # failed with a bare "[Errno 22] Invalid argument" seeking its end.
    with pytest.raises(ValueError, match=re.escape("'/proc/version' is not writable here")):
        resolve_storage("/proc/version")


def _opened_as_a_user_who_cannot_write(storages):
    """What :func:`resolve_storage` makes of each storage, one line each, in a process
    that file modes bind.

    Root's writes ignore file modes, so as root a forked child drops to the user nobody
    (forked, not started: nobody may not be allowed to run the interpreter itself).
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        lines = []
        try:
            if os.geteuid() == 0:
                try:
                    os.setgid(65534)
                    os.setuid(65534)
                except PermissionError as exc:  # a root without CAP_SETUID
                    lines.append(f"SKIP {exc}")
                    storages = []
            for storage in storages:
                try:
                    lines.append(f"opened {type(resolve_storage(storage)).__name__}")
                except ValueError as exc:
                    lines.append(str(exc))
        except BaseException:
            lines.append(traceback.format_exc())
        finally:
            os.write(write, "\n".join(lines).encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as child:
        out = child.read()
    os.waitpid(pid, 0)
    return out.splitlines()


def test_a_storage_this_process_cannot_write_is_named_with_the_fix():
    # A read-only journal was opened, and the study's first write raised a bare
    # PermissionError (a traceback from `sklstm tune`); a read-only SQLite file raised
    # Optuna's "exception during the commit ... e.g. exceeding max length"; a new
    # journal in a read-only directory was "not a readable Optuna journal file".
    top = tempfile.mkdtemp()  # not tmp_path: nobody cannot enter pytest's own directory
    try:
        shared, locked = os.path.join(top, "shared"), os.path.join(top, "locked")
        os.mkdir(shared)
        os.mkdir(locked)
        journal, database = os.path.join(shared, "s.journal"), os.path.join(shared, "s.db")
        for storage in (journal, database):
            optuna.create_study(study_name="s", storage=resolve_storage(storage))
        with open(journal, "rb") as f:
            before = f.read()
        for path, mode in ((top, 0o755), (shared, 0o777), (locked, 0o555),
                           (journal, 0o444), (database, 0o444)):
            os.chmod(path, mode)
        new_journal, new_database = os.path.join(locked, "s.journal"), os.path.join(locked, "s.db")
        lines = _opened_as_a_user_who_cannot_write(
            [journal, database, f"sqlite:///{database}", new_journal, new_database])
        if lines and lines[0].startswith("SKIP"):
            pytest.skip(f"cannot drop root's privileges here: {lines[0]}")
        file_fix = ("is not writable here, and a study writes every trial to it; make it "
                    "writable (chmod u+rw), or copy it to a path you can write to")
        directory_fix = (f"directory {locked!r} is not writable, and a study writes its file "
                         "and lock files there; make it writable, or give a path in a "
                         "directory you can write to")
        assert lines == [
            f"storage {journal!r} {file_fix}",
            f"storage 'sqlite:///{database}' {file_fix}",  # a plain path to SQLite
            f"storage 'sqlite:///{database}' {file_fix}",
            f"storage {new_journal!r}: {directory_fix}",
            f"storage 'sqlite:///{new_database}': {directory_fix}",
        ]
        with open(journal, "rb") as f:
            assert f.read() == before
        assert os.listdir(locked) == []
    finally:
        os.chmod(locked, 0o755)
        shutil.rmtree(top)


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
@pytest.mark.parametrize(("settings", "error", "message"), [
    ({"heartbeat_interval": 0}, ValueError, "heartbeat_interval must be an int >= 1, got 0"),
    ({"heartbeat_interval": 1.5}, TypeError, "heartbeat_interval must be an int >= 1"),
    ({"heartbeat_interval": 5, "grace_period": -1}, ValueError,
     "grace_period must be an int >= 1, got -1"),
    # a grace period not longer than the interval failed live workers' trials
    ({"heartbeat_interval": 5, "grace_period": 5}, ValueError,
     "grace_period must be longer than heartbeat_interval=5 seconds, got 5"),
    ({"heartbeat_interval": 5, "retry_failed": -1}, ValueError,
     "retry_failed must be an int >= 0, got -1"),
    # dropped in silence: only heartbeats find a dead worker's trial to run again
    ({"heartbeat_interval": None, "retry_failed": 2}, ValueError,
     "retry_failed=2 does nothing without heartbeats (heartbeat_interval is off)"),
    ({"grace_period": 300}, ValueError,
     "grace_period=300 does nothing without heartbeats (heartbeat_interval is off)"),
    # an OverflowError from the heartbeat thread's wait, or the grace period's timedelta
    ({"heartbeat_interval": np.int64(10**18)}, ValueError,
     f"heartbeat_interval must be at most 86400 seconds (a day), got {10**18}"),
    ({"heartbeat_interval": 60, "grace_period": 10**20}, ValueError,
     f"grace_period must be at most 604800 seconds (a week), got {10**20}"),
], ids=["zero-interval", "float-interval", "negative-grace", "grace-not-longer",
        "negative-retries", "retries-without-heartbeats", "grace-without-heartbeats",
        "huge-interval", "huge-grace"])
def test_bad_heartbeat_settings_are_refused_before_the_storage_exists(kind, settings, error,
                                                                      message, tmp_path):
    # A journal took all of them (a negative grace period failed every running trial);
    # SQLite refused some with Optuna's message, after creating the database file.
    path = tmp_path / ("s.journal" if kind == "journal" else "s.db")
    with pytest.raises(error, match=re.escape(message)):
        resolve_storage(str(path), **settings)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_heartbeat_settings_take_numpy_ints_and_retry_without_deprecation(kind, tmp_path):
    path = tmp_path / ("s.journal" if kind == "journal" else "s.db")
    with warnings.catch_warnings():
        # Optuna 4.9 deprecated RetryFailedTrialCallback (removed in 6.0); its heartbeat
        # arguments are "experimental": neither is anything a user can act on
        warnings.simplefilter("error")
        storage = resolve_storage(str(path), heartbeat_interval=np.int64(5),
                                  grace_period=np.int64(11), retry_failed=np.int64(2))
    assert storage.get_heartbeat_interval() == 5
    assert type(storage.get_heartbeat_interval()) is int
    callback = storage.get_heartbeat_stale_trial_callback()
    renamed = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)  # 4.9
    # (sklstm's retry, on the class of the new name where it exists, not the old one)
    assert callback is not None and (renamed is None or (
        isinstance(callback, renamed)
        and not isinstance(callback, optuna.storages.RetryFailedTrialCallback)))


def test_a_storage_instance_without_heartbeats_warns_that_killed_trials_stay(
        pipeline, data, tmp_path):
    # tune's heartbeat_interval=60 was dropped in silence for a JournalStorage given as
    # an instance: a worker killed mid-trial left it RUNNING for good, holding its place.
    journal = JournalStorage(JournalFileBackend(str(tmp_path / "s.journal")))
    with pytest.warns(UserWarning, match=r"heartbeat_interval=60 does not apply to the "
                      r"JournalStorage given, which has no heartbeats: .* Give its file path"):
        tune(pipeline, *data, n_trials=1, cv=2, space={"lr": [0.03]}, storage=journal)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # heartbeats asked for and had, or none asked for
        for storage, interval in ((optuna.storages.InMemoryStorage(), 60), (journal, None),
                                  (resolve_storage(str(tmp_path / "s.db"),
                                                   heartbeat_interval=5), 60)):
            resolve_storage(storage, heartbeat_interval=interval)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_sqlite_in_memory_runs_trials_without_a_heartbeat_thread_error(url, monkeypatch):
    # Each thread gets its own in-memory database: Optuna's heartbeat thread failed with
    # "no such table: trial_heartbeats" in every trial.
    errors = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    study = create_or_load_study("s", url, heartbeat_interval=1)
    run_study(study, lambda t: time.sleep(0.2) or t.suggest_float("x", 0, 1), n_trials=2)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 2
    assert errors == []


_KILLED_MID_TRANSACTION = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA cache_size=1")  # (the journal goes to disk before the kill)
db.execute("BEGIN")
db.execute("CREATE TABLE filler (x)")
db.executemany("INSERT INTO filler VALUES (?)", [("x" * 1000,)] * 2000)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_database_a_worker_was_killed_writing_opens_as_the_study(tmp_path, study_name):
    # its hot journal needs a rollback, which a read-only check cannot make: the study
    # was refused as "not a readable SQLite database" after a killed worker
    path = tmp_path / "study.db"
    url = f"sqlite:///{path}"
    optuna.create_study(study_name=study_name, storage=resolve_storage(url))
    subprocess.run([sys.executable, "-c", _KILLED_MID_TRANSACTION, str(path)], check=False)
    assert (tmp_path / "study.db-journal").is_file()
    assert load_study(url, study_name).study_name == study_name


@pytest.mark.parametrize("name", ["study.journal", "study.db"])
def test_workers_reaching_a_storage_by_a_symlink_lock_the_file_itself(name, tmp_path):
    # Optuna's journal lock (and the schema's and trial budget's) is a file beside the
    # path given: a worker that reached the file through a symlinked directory locked
    # another file than the others, and both appended at once.
    real = tmp_path / "scratch"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    studies = [optuna.create_study(study_name="s", load_if_exists=True, storage=resolve_storage(
        str(tmp_path / where / name))) for where in ("link", "scratch")]
    paths = {journal_file_path(storage) or unwrap_storage(storage).engine.url.database
             for storage in map(study_storage, studies)}
    assert paths == {str(real / name)}
    studies[0].add_trial(optuna.trial.create_trial(value=0.5))
    assert [t.value for t in studies[1].trials] == [0.5]


def test_the_one_line_reason_is_public_and_shared_with_the_write_failures():
    # storage_faults imported the private _reason of this module
    assert "one_line_reason" in storage_names
    assert reason_of_write_failures is one_line_reason
    assert one_line_reason(OSError("attempt to write\n   a readonly database "
                                   "(Background on this error at: https://sqlalche.me/e/20/e3q8)")
                           ) == "attempt to write a readonly database"


def test_a_journal_with_an_entry_optuna_does_not_know_is_named_with_the_fix(tmp_path):
    # (a newer Optuna's, say) was "not a readable Optuna journal file: Should not reach."
    path = tmp_path / "study.journal"
    optuna.create_study(study_name="s", storage=resolve_storage(str(path)))
    with open(path, "a") as f:
        f.write('{"op_code": 99, "worker_id": "w"}\n')
    before = path.read_bytes()
    with pytest.raises(ValueError, match=re.escape(
            f"{str(path)!r} is not a readable Optuna journal file (an entry of a kind this "
            "Optuna does not know); it is left untouched. Restore it from a copy")):
        resolve_storage(str(path))
    assert path.read_bytes() == before


#: Opens a new SQLite file on a disk that is full (a file size limit of 0).
FULL_DISK_OPEN = """
import resource, signal, sys
from sklstm.search import resolve_storage
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
try:
    resolve_storage(sys.argv[1])
except ValueError as exc:
    print(exc)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
def test_a_database_that_cannot_be_created_says_why_on_one_line(tmp_path):
    # the message held SQLAlchemy's statement ("[SQL: CREATE TABLE studies ( study_id
    # INTEGER NOT NULL, ...") and no fix
    path = tmp_path / "study.db"
    out, err = python(FULL_DISK_OPEN, path).communicate(timeout=120)
    assert out.strip() == (
        f"cannot open storage 'sqlite:///{path}' (disk I/O error): check that the database "
        "can be reached and written (the server, its credentials, free disk space, file "
        "permissions)"), err
