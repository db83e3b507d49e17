"""CPU fits of ragged sequences under ``max_memory``: oneDNN's routes, memory and time.

4000 sequences of 20-200 steps and 8 features (23 padded widths),
``hidden_size=64``, ``num_layers=2``, ``max_epochs=2``, ``max_memory="64MiB"`` on the
CPU, in a fresh process per fit with one thread, by route:

* ``native``: sklstm's own choice, torch's native kernels (oneDNN off for the fit,
  :mod:`sklstm.resources.onednn`);
* ``onednn``: oneDNN kept with its cache of 1024 primitives (oneDNN's default, set as
  ``DNNL_PRIMITIVE_CACHE_CAPACITY=1024``, which sklstm leaves alone);
* ``cache0``: oneDNN kept, its cache sized 0 (``ONEDNN_PRIMITIVE_CACHE_CAPACITY=0``).

Prints the fit's ``peak_memory_``, its micro-batch (``batch_size_``, smaller where a
step over the budget was redone smaller), the process's CPU time during ``fit`` and
the first prediction (a fit the budget ended shows its error instead), with the
median (range) of each row's repeats below, and writes ``benchmarks/results/
ragged_onednn.md`` (``--out``; the notes under its marker line are kept).

``--equal-lengths`` gives every sequence 110 steps (one padded width: what oneDNN's
cache holds for one shape), ``--max-memory none`` fits without a budget (oneDNN kept
on every route; ``native`` is then oneDNN with its default cache too).

Run from the repository root (to compare with another checkout, put it first on
``PYTHONPATH``), pinned to one core::

    taskset -c 1 python benchmarks/bench_ragged_onednn.py
    taskset -c 1 python benchmarks/bench_ragged_onednn.py --estimator clf --batch auto
    taskset -c 1 python benchmarks/bench_ragged_onednn.py --precision bf16 --n 1000
    taskset -c 1 python benchmarks/bench_ragged_onednn.py --estimator reg \
        --max-memory none --routes onednn cache0 --equal-lengths
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
from _fresh_process import median_range
from _results_file import report_head, write_results

#: the line of the results file under which notes written by hand are kept
MARKER = "<!-- notes -->"

#: the environment each route's process starts with (oneDNN reads it once)
ROUTES = {"native": {}, "onednn": {"DNNL_PRIMITIVE_CACHE_CAPACITY": "1024"},
          "cache0": {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "0"}}


def measure(estimator, batch, precision, n, max_memory="64MiB", equal_lengths=False):
    """One fit in this process; returns its figures as a dict."""
    import sklstm

    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 201, n)
    if equal_lengths:  # the ragged data's mean length, one padded width
        lengths = np.full(n, 110)
    X = [rng.normal(size=(int(t), 8)).astype(np.float32) for t in lengths]
    if estimator == "reg":
        est, y = sklstm.LSTMRegressor, rng.normal(size=n).astype(np.float32)
    else:
        est, y = sklstm.LSTMClassifier, np.arange(n) % 3
    model = est(hidden_size=64, num_layers=2, max_epochs=2, device="cpu", random_state=0,
                batch_size=batch if batch == "auto" else int(batch), precision=precision,
                max_memory=None if max_memory == "none" else max_memory)
    before = resource.getrusage(resource.RUSAGE_SELF)
    try:
        model.fit(X, y)
    except Exception as error:  # (the budget's error is a result here)
        outcome = {"error": f"{type(error).__name__}: {str(error)[:70]}..."}
    else:
        first = model.predict(X[:1]) if estimator == "reg" else model.predict_proba(X[:1])
        outcome = {"peak_mib": model.peak_memory_ / 2**20, "batch_size_": model.batch_size_,
                   "first": float(np.ravel(first)[0])}
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {**outcome, "cpu_s": (after.ru_utime + after.ru_stime
                                 - before.ru_utime - before.ru_stime)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimator", choices=["reg", "clf"], nargs="*",
                        default=["reg", "clf"])
    parser.add_argument("--batch", default="40", help='an int or "auto"')
    parser.add_argument("--precision", default="32")
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--routes", nargs="*", choices=list(ROUTES), default=list(ROUTES))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-memory", default="64MiB", help='a budget or "none"')
    parser.add_argument("--equal-lengths", action="store_true",
                        help="every sequence 110 steps long (one padded width)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"
                                             / "ragged_onednn.md"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # in a fresh process: oneDNN reads its environment once
        print(json.dumps(measure(*json.loads(args.one))))
        return
    import torch

    import sklstm

    lines = [f"sklstm {sklstm.__version__} at {sklstm.__file__}, torch {torch.__version__}",
             "", "| estimator | batch | max_memory | lengths | route | peak (MiB) "
             "| batch_size_ | CPU (s) | first prediction |",
             "|---|---|---|---|---|---:|---:|---:|---:|"]
    print("\n".join(lines))
    record, summary = [], []
    lengths = "110" if args.equal_lengths else "20-200"
    for estimator in args.estimator:
        for route in args.routes:
            env = {key: value for key, value in os.environ.items()
                   if key not in ("ONEDNN_PRIMITIVE_CACHE_CAPACITY",
                                  "DNNL_PRIMITIVE_CACHE_CAPACITY")}
            env.update(ROUTES[route], OMP_NUM_THREADS="1")
            head = (f"| {estimator} | {args.batch} | {args.max_memory} | {lengths} | "
                    f"{route} |")
            rows = []
            for _ in range(args.repeats):
                out = subprocess.run(
                    [sys.executable, "-W", "ignore", __file__, "--one",
                     json.dumps([estimator, args.batch, args.precision, args.n,
                                 args.max_memory, args.equal_lengths])],
                    capture_output=True, text=True, check=True, env=env)
                row = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append(row)
                record.append({"estimator": estimator, "route": route, **row})
                if "error" in row:
                    line = f"{head} {row['error']} | | {row['cpu_s']:.1f} | |"
                else:
                    line = (f"{head} {row['peak_mib']:.0f} | {row['batch_size_']} | "
                            f"{row['cpu_s']:.1f} | {row['first']:.6f} |")
                print(line)
                lines.append(line)
            done = [row for row in rows if "error" not in row]
            summary.append(
                f"* {estimator}, {route}: {len(done)} of {len(rows)} fits completed"
                + (f", peak {median_range([r['peak_mib'] for r in done], '{:.0f}')} MiB, "
                   f"CPU {median_range([r['cpu_s'] for r in rows], '{:.1f}')} s"
                   if done else ""))
    print("\n".join(summary))
    text = (report_head(f"Ragged CPU fits and oneDNN (precision {args.precision}, "
                        f"n={args.n}, {args.repeats} fresh processes a row)", argv)
            + "\n".join(lines) + "\n\n" + "\n".join(summary) + "\n\n")
    write_results(args.out, text, MARKER, {"args": vars(args), "fits": record})

if __name__ == "__main__":
    main()
