"""Plain helpers of the search tests: subprocesses, storages, marks, ``sklstm tune`` runs."""

import json
import os
import signal
import subprocess
import sys
import time

import optuna
import pytest

from sklstm.cli import main
from sklstm.search import resolve_storage

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

POSTGRES_URL = os.environ.get("SKLSTM_TEST_POSTGRES_URL")
#: Marks of the tests that need the PostgreSQL server .ci/run starts.
needs_postgres = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="SKLSTM_TEST_POSTGRES_URL is not set"),
]


def default_sigint():
    """Give a child SIGINT's default action back (``preexec_fn``).

    A test run started in the background of a non-interactive shell (``cmd &``) has
    SIGINT ignored, its children inherit that, and a Python started with SIGINT
    ignored never raises KeyboardInterrupt: the Ctrl-C tests would test nothing.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(argv):
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, preexec_fn=default_sigint,
    )


def cli(*args):
    """``python -m sklstm ARGS`` as a started subprocess (text pipes, repo on PYTHONPATH)."""
    return _start(["-m", "sklstm", *map(str, args)])


def python(code, *args):
    """``python -c CODE ARGS`` as a started subprocess (text pipes, repo on PYTHONPATH)."""
    return _start(["-c", code, *map(str, args)])


def load_study(storage_url, study_name):
    """The study as Optuna reads it back from the storage."""
    return optuna.load_study(study_name=study_name, storage=resolve_storage(storage_url))


def wait_for(predicate, proc, timeout=120):
    """Poll ``predicate`` until true, failing if ``proc`` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def press_at_lock_file(monkeypatch, step, at=1, suffix=".lock"):
    """Ctrl-C (SIGINT) once, as the ``at``-th ``step`` (``"acquire"``, ``"release"``) of
    a lock of sklstm's whose file ends with ``suffix`` looks at that file: a press that
    lands while a worker takes or gives back a lock file."""
    from sklstm.search import journal_lock

    identity, seen = journal_lock._identity, []

    def pressed(link):
        if sys._getframe(1).f_code.co_name == step and link.endswith(suffix):
            seen.append(link)
            if len(seen) == at:
                signal.raise_signal(signal.SIGINT)
        return identity(link)

    monkeypatch.setattr(journal_lock, "_identity", pressed)


def states(study):
    """``{trial number: state name}`` of a study."""
    return {t.number: t.state.name for t in study.trials}


#: A search space of one tiny, quick trial, as ``--space`` JSON text.
SPACE = json.dumps({"hidden_size": 4, "max_epochs": 1, "n_threads": 1, "batch_size": [8],
                    "lr": [0.03]})


def run_tune(capsys, tmp_path, data_path, *extra, storage=None):
    """``sklstm tune`` in-process on ``data_path``, one trial of :data:`SPACE` on 2
    folds, the journal in ``tmp_path``: ``(status, stdout, stderr)``."""
    storage = str(tmp_path / "s.journal") if storage is None else storage
    code = main(["tune", str(data_path), "--storage", storage, "--n-trials", "1", "--cv", "2",
                 "--no-progress", "--space", SPACE, *map(str, extra)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(code, err, message, tmp_path, keep):
    """Exit 2, one line on stderr naming the problem, and nothing written but ``keep``."""
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sklstm tune: error: "), err
    assert message in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)
