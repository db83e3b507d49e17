"""One measurement of a benchmark in a fresh process, and how its repeats are quoted.

A fresh process per measurement: what a fit leaves behind (oneDNN's caches, the heap,
imports) must not count in the next, and a copy of the package from another commit
(``--before DIR``) can be put first on ``PYTHONPATH`` for it. The script runs itself
with ``--one JSON`` (the measurement's arguments) and prints the result as JSON last.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys


def measured_in_fresh_process(script, one, package=None, env=None):
    """Run ``script --one JSON(one)`` in a fresh Python and return its last line, parsed.

    Parameters
    ----------
    script : str or pathlib.Path
        The benchmark (its ``__file__``).
    one : list
        The measurement's arguments, as JSON.
    package : str or pathlib.Path, optional
        A directory put first on ``PYTHONPATH`` (a copy of sklstm from another commit).
    env : dict, optional
        Further environment variables, e.g. ``{"OMP_NUM_THREADS": "1"}``.
    """
    environ = {**os.environ, **(env or {})}
    if package is not None:
        environ["PYTHONPATH"] = os.pathsep.join(
            [str(package), *filter(None, [os.environ.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, "-W", "ignore", str(script), "--one",
                           json.dumps(one)],
                          capture_output=True, text=True, check=True, env=environ)
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_range(values, fmt="{:.2f}"):
    """``median (min-max)`` of ``values``, or the one value alone."""
    if len(values) == 1:
        return fmt.format(values[0])
    return (f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-"
            f"{fmt.format(max(values))})")
