"""How a benchmark script records its run: the command that made it, and the results
written as markdown (keeping the hand-written notes under its marker) and JSON.

Imported by ``bench_fit_speed.py``, ``bench_small_data.py`` and others that write results.
"""

from __future__ import annotations

import json
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path

from _machine import cpu_model, load_average


def command_line(argv=None):
    """The command as typed: ``python`` and the script's arguments, shell-quoted.

    Parameters
    ----------
    argv : list of str, optional
        The arguments ``main`` was called with; None reads them from ``sys.argv``.
    """
    return "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(
        sys.argv[1:] if argv is None else argv)])


def report_head(title, argv, machine_note=""):
    """A results file's first lines: its title, then the command, when it ran, the CPU
    and the load average at the end (times on a shared machine compare within one run).

    Parameters
    ----------
    title : str
        The markdown heading.
    argv : list of str or None
        As given to :func:`command_line`.
    machine_note : str, default=""
        Appended to the load average, e.g. ``": a shared machine"``.
    """
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"# {title}\n\n`{command_line(argv)}` ({stamp}; {cpu_model()}, load average "
            f"{load_average()} at the end{machine_note})\n\n")


def write_results(out, text, marker, record, json_default=None):
    """Write the report ``text`` to ``out`` and ``record`` as JSON beside it.

    The text after a line ``marker`` in an existing ``out`` (notes written by hand
    about earlier runs) is kept below the new report: rerunning a benchmark must
    not lose them.

    Parameters
    ----------
    out : str or pathlib.Path
        The markdown file; the JSON file gets its name with the suffix ``.json``.
    text : str
        The report.
    marker : str
        The line under which the existing file's text is kept.
    record : dict
        What the JSON file holds.
    json_default : callable, optional
        ``json.dumps``'s ``default``, for values JSON has no type for.

    Returns
    -------
    tuple of pathlib.Path
        The markdown and the JSON file written.
    """
    out = Path(out)
    old = out.read_text() if out.exists() else ""
    kept = "\n" + marker + old.partition(marker)[2] if marker in old else ""
    out.write_text(text + kept)
    json_out = out.with_suffix(".json")
    json_out.write_text(json.dumps(record, indent=1, default=json_default))
    return out, json_out
