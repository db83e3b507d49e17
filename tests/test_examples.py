"""Every example of the gallery runs to its end (``examples/plot_*.py``).

The documentation renders the gallery without running it (``docs/conf.py``), so
this is where a change of the package that breaks an example is caught. Each runs
in a fresh Python as a user runs it (``python examples/plot_x.py``), with a
non-interactive matplotlib backend.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_the_example_runs(example):
    run = subprocess.run([sys.executable, str(example)], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "MPLBACKEND": "Agg"}, timeout=900,
                         check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    if example.stem == "plot_quickstart":  # the README's main example: a clean first run
        assert "Warning" not in run.stderr, run.stderr[-3000:]
        assert "held-out accuracy" in run.stdout
    if example.stem == "plot_optuna_pruning":  # trials of a fixed budget (tol=None): the
        # convergence rule's patience does nothing there, and searching it only added noise
        assert "n_iter_no_change" not in run.stdout, run.stdout[-3000:]


def test_every_example_is_found():
    assert len(EXAMPLES) >= 8  # (the test above can fail: a renamed folder runs nothing)
