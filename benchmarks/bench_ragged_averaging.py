"""Averaging (``downsample``) of ragged float sequences read from a SequenceStore or
transformed by SequenceResampler: the time of the store's scan, of a store fit's epoch
and of the averaging in it, and of the resampler's transform.

Data: ``--n`` float32 sequences of 10-300 steps and 8 features, averaged by 4. Each
round runs in a fresh process, which writes the store to a temporary folder and times:

* *scan*: ``scan_store(store, tokens=False, factor=4, rms=True, level_rows=...)``, the
  check a store fit makes once (best of ``--repeats`` after an untimed call);
* *epoch* and *averaging*: a fit of ``LSTMRegressor(max_epochs=2, hidden_size=8,
  downsample=4, device="cpu")`` on the store: its mean epoch, and the CPU time per
  epoch of the thread that makes the batch rows (the read-ahead thread, which a
  profiler of the main thread does not see) spent in the batches' averaging, timed
  with ``time.thread_time`` around it: ``kept_sequences`` (since 931b839) or
  ``StreamedRows._steps`` (one call a sequence, before it);
* *resampler*: ``SequenceResampler(factor=4).transform`` of the sequences as a list
  (best of ``--repeats``).

``--before DIR`` runs each round under another copy of the package too (``DIR`` first
on ``PYTHONPATH``), interleaved with this checkout's, as a shared machine's load shifts
between runs; the table gives the median with the min-max over the rounds (scan and
resampler: of each round's best). ``--write`` writes
``benchmarks/results/ragged_averaging.md`` (notes under its marker kept).

Run from the repository root, single-threaded (~4 minutes with ``--before``)::

    git archive 931b839^ sklstm | tar -x -C /tmp/before
    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/bench_ragged_averaging.py \
        --before /tmp/before --write
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _fresh_process import measured_in_fresh_process, median_range  # (this directory)

METRICS = ("scan", "epoch", "averaging", "resampler")
RESULTS = Path(__file__).parent / "results" / "ragged_averaging.md"
MARKER = "## Notes"


def _best(f, repeats):
    """The best of ``repeats`` timings of ``f()`` after an untimed call (imports)."""
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def _thread_timed(owner, name, spent):
    """Wrap ``owner.name`` (if there is one) to add the CPU time of the calling thread
    to ``spent[0]``: the batch rows are made on the read-ahead thread."""
    original = getattr(owner, name, None)
    if original is None:
        return

    @functools.wraps(original)
    def timed(*args, **kwargs):
        start = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.thread_time() - start

    setattr(owner, name, timed)


def measure(n, repeats):
    """The :data:`METRICS` (seconds) of this process's package."""
    from sklstm import LSTMRegressor
    from sklstm.data import SequenceStore, streaming
    from sklstm.data.store_scan import scan_store
    from sklstm.preprocessing import SequenceResampler

    rng = np.random.default_rng(0)
    X = [rng.standard_normal((t, 8)).astype(np.float32) for t in rng.integers(10, 301, n)]
    y = rng.standard_normal(n).astype(np.float32)
    out = {"package": str(Path(sys.modules["sklstm"].__file__).parent)}
    spent = [0.0]
    # the batches' averaging: one call a batch now, one call a sequence before 931b839
    _thread_timed(streaming, "kept_sequences", spent)
    _thread_timed(streaming.StreamedRows, "_steps", spent)
    with tempfile.TemporaryDirectory() as tmp:
        store = SequenceStore.write(Path(tmp) / "store", X)
        # as a fit checks the store: root mean squares and levels of every sequence
        out["scan"] = _best(lambda: scan_store(store, tokens=False, factor=4, rms=True,
                                               level_rows=np.arange(n)), repeats)
        est = LSTMRegressor(max_epochs=2, hidden_size=8, downsample=4, device="cpu",
                            verbose=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (two epochs: convergence notes)
            est.fit(store, y)
    out["epoch"] = float(np.mean([h["dur"] for h in est.history_]))
    out["averaging"] = spent[0] / len(est.history_)
    resampler = SequenceResampler(factor=4).fit(X)
    out["resampler"] = _best(lambda: resampler.transform(X), repeats)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="sequences")
    parser.add_argument("--repeats", type=int, default=3, help="timings per process")
    parser.add_argument("--rounds", type=int, default=3, help="processes per version")
    parser.add_argument("--before", help="another copy of the package, to compare with")
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(*json.loads(args.one))))
        return
    here = Path(__file__).resolve().parent.parent
    versions = {"before": Path(args.before), "after": here} if args.before else {"": here}
    runs = {label: [] for label in versions}
    for _ in range(args.rounds):
        for label, path in versions.items():
            runs[label].append(measured_in_fresh_process(__file__, [args.n, args.repeats], path))
    lines = ["| code | scan (s) | epoch (s) | averaging per epoch (s) | averaging / epoch | "
             "resampler transform (s) |", "|---|--:|--:|--:|--:|--:|"]
    for label, rows in runs.items():
        col = {k: [row[k] for row in rows] for k in METRICS}
        share = [row["averaging"] / row["epoch"] * 100 for row in rows]
        lines.append(f"| {label or 'this checkout'} | {median_range(col['scan'])} | "
                     f"{median_range(col['epoch'])} | {median_range(col['averaging'])} | "
                     f"{median_range(share, '{:.0f}')} % | {median_range(col['resampler'])} |")
    packages = sorted({f"{label or 'this checkout'}: {rows[0]['package']}"
                       for label, rows in runs.items()})
    table = "\n".join(lines) + "\n\nPackages: " + "; ".join(packages) + "."
    print(table)
    if args.write:
        from _results_file import report_head, write_results

        text = (report_head("Averaging of ragged sequences from a store and by SequenceResampler",
                            argv, ": a shared machine, so compare rows of one run")
                + f"Median (min-max) of {args.rounds} fresh processes per row, interleaved; "
                f"{args.n:,} float32 sequences of 10-300 steps and 8 features, averaged by 4; "
                f"scan and resampler: best of {args.repeats} in each process.\n\n{table}\n")
        write_results(RESULTS, text, MARKER, runs)


if __name__ == "__main__":
    main()
