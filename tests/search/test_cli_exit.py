"""How the ``sklstm`` command's process ends: as a script or module, after an
interrupted run (whatever thread is left, a further press), and a SIGTERM where Ctrl-C
is ignored."""

import signal
import sys
from pathlib import Path

import pytest

from sklstm.cli import _TermAsInterrupt, run

from .helpers import python


def test_the_cli_module_runs_as_a_script():
    # python -m sklstm.cli printed nothing and exited 0: the module had no __main__ guard
    proc = python("import runpy; runpy.run_module('sklstm.cli', run_name='__main__')",
                  "tune", "missing.npz")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.strip() == "sklstm tune: error: dataset file 'missing.npz' does not exist"


@pytest.mark.parametrize("status", [130, 143])
def test_an_interrupted_run_ends_whatever_thread_is_left(status):
    # Optuna's heartbeat thread (no daemon) of a trial a kill hit as it began was never
    # stopped: `sklstm tune` printed "interrupted ... Run the same command again" and
    # never exited (the stand-in: a thread that waits for good, and main's status)
    code = ("import threading, sklstm.cli as cli; threading.Thread(target=threading.Event()"
            f".wait).start(); cli.main = lambda: {status}; cli.run()")
    proc = python(code)
    proc.communicate(timeout=60)
    assert proc.returncode == status


@pytest.mark.parametrize("status", [130, 143])
def test_a_further_press_as_an_interrupted_run_exits_ends_it_with_its_status(status):
    # a double Ctrl-C: the second press landed in Python's exit handlers (torch's), and
    # "Exception ignored in atexit callback", a traceback and KeyboardInterrupt followed
    # the one-line message (the stand-in: an exit handler that presses)
    code = ("import atexit, signal, sklstm.cli as cli; atexit.register(signal.raise_signal, "
            f"signal.SIGINT); cli.main = lambda: {status}; cli.run()")
    proc = python(code)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status and not err, err


def test_the_console_script_and_the_module_end_as_run_does():
    from sklstm import __main__ as module

    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '\n[project.scripts]\nsklstm = "sklstm.cli:run"\n' in pyproject
    assert module.run is run


def test_sigterm_where_ctrl_c_is_ignored_imports_nothing_in_its_handler(monkeypatch):
    # where SIGINT is ignored (``sklstm tune ... &`` in a script) SIGTERM is a press of
    # the guards in force (sklstm.training.interrupts.press); imported by the handler,
    # that module met torch or scikit-learn half imported by the parser's choices
    # (seconds on a cold start): an ImportError traceback, or a crash, not exit 143.
    # Before its module is imported no guard exists: a bare KeyboardInterrupt
    monkeypatch.delitem(sys.modules, "sklstm.training.interrupts")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(KeyboardInterrupt), _TermAsInterrupt() as term:
            signal.raise_signal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert term.received and "sklstm.training.interrupts" not in sys.modules
