"""Fit setup and predict's conversion of large ragged input, and the share of their parts.

Cases: *token lists* (``--n-tokens`` sentences of 5-200 ids 1..4999, Python lists of
ints), *token arrays* (the same sentences as int64 arrays), *floats*
(``--n-floats`` float32 sequences of (10-300, 8), which ``downsample="auto"`` averages
by 3) and *short sentences* (``bench_token_speed.py``'s *short* case: 4,000 arrays of
5-30 ids of 50, whose setup a fit of a few epochs feels). Each case runs in a fresh
process, which times (``--repeats`` times each after an untimed call; the table gives
the best and, for setup and predict, the median too):

* *setup*: everything a fit does before its first epoch (``LSTMClassifier._prepare``:
  validation, padding, the plan; ``embedding_dim=4`` for tokens, ``hidden_size=2``,
  ``conv_channels=None``, on the CPU);
* *predict conversion*: what ``predict`` does before the forward pass
  (``_sequences`` of an estimator fitted on the first 200 sequences);
* the two parts asked about, apart: ``check_ragged`` of the input (the per-sentence
  conversion and checks) and ``pad_sequences`` of the checked sequences (averaged
  first for floats), the only per-row loops of the in-memory path.

``--before DIR`` runs every case under another copy of the package too (``DIR`` first
on ``PYTHONPATH``; e.g. a copy of the tree with HEAD's modules), interleaved with this
checkout's runs, as a shared machine's load shifts between runs. ``--write`` writes
the table to ``benchmarks/results/setup_ragged.md`` (notes under its marker kept).

Run from the repository root, single-threaded (~6 minutes with ``--before``)::

    OMP_NUM_THREADS=1 python benchmarks/bench_setup_ragged.py
    OMP_NUM_THREADS=1 python benchmarks/bench_setup_ragged.py --before /tmp/head --write
    OMP_NUM_THREADS=1 python benchmarks/bench_setup_ragged.py --cases "short sentences" \
        --repeats 7 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _fresh_process import measured_in_fresh_process  # (this directory)

CASES = ("token lists", "token arrays", "floats", "short sentences")
METRICS = ("setup", "predict", "check_ragged", "pad_sequences")
RESULTS = Path(__file__).parent / "results" / "setup_ragged.md"
MARKER = "## Notes"


def _data(case, n_tokens, n_floats):
    """``X`` and ``y`` of ``case``, seeded."""
    if case == "short sentences":
        from bench_token_speed import CASES as TOKEN_CASES  # (this script's directory)

        from sklstm.datasets import make_token_sentiment

        return make_token_sentiment(random_state=0, **TOKEN_CASES["short"][0])
    rng = np.random.default_rng(0)
    if case == "floats":
        lengths = rng.integers(10, 301, size=n_floats)
        X = [rng.normal(size=(t, 8)).astype(np.float32) for t in lengths]
    else:
        lengths = rng.integers(5, 201, size=n_tokens)
        ids = rng.integers(1, 5000, size=int(lengths.sum()))
        X = np.split(ids, np.cumsum(lengths)[:-1])
        if case == "token lists":
            X = [seq.tolist() for seq in X]
    return X, np.arange(len(X)) % 2


def _times(f, repeats):
    """``repeats`` timings of ``f()``, in seconds, after an untimed call (the first
    imports and sets up: seconds, which would move a median)."""
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return times


def measure(case, n_tokens, n_floats, repeats):
    """The timings (seconds) of each of :data:`METRICS` for ``case``, in this process."""
    from sklstm import LSTMClassifier
    from sklstm.data.ragged import check_ragged
    from sklstm.data.steps import downsample_steps, pad_sequences

    X, y = _data(case, n_tokens, n_floats)
    tokens = case != "floats"
    params = dict(embedding_dim=4) if tokens else {}
    est = LSTMClassifier(hidden_size=2, conv_channels=None, max_epochs=1, device="cpu",
                         **params)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a fit of one epoch: convergence notes)
        out["setup"] = _times(lambda: est._prepare(X, y), repeats)
        est.fit(X[:200], y[:200])
        out["predict"] = _times(lambda: est._sequences(X), repeats)
    check = dict(ensure_all_finite=False, token_ids=True) if tokens else {}
    out["check_ragged"] = _times(lambda: check_ragged(X, **check), repeats)
    rows = check_ragged(X, **check)
    if not tokens:
        rows = [downsample_steps(seq, est.downsample_) for seq in rows]
    dtype = np.int64 if tokens else np.float32
    out["pad_sequences"] = _times(lambda: pad_sequences(rows, value=0, dtype=dtype), repeats)
    out["package"] = str(Path(sys.modules["sklstm"].__file__).parent)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", choices=CASES, default=list(CASES))
    parser.add_argument("--n-tokens", type=int, default=100_000)
    parser.add_argument("--n-floats", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3, help="timings per process")
    parser.add_argument("--rounds", type=int, default=2, help="processes per case")
    parser.add_argument("--before", help="another copy of the package, to compare with")
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(*json.loads(args.one))))
        return
    here = Path(__file__).resolve().parent.parent
    versions = {"before": Path(args.before), "after": here} if args.before else {"": here}
    runs = {}  # the timings of every round
    for _ in range(args.rounds):
        for case in args.cases:
            for label, path in versions.items():
                row = measured_in_fresh_process(
                    __file__, [case, args.n_tokens, args.n_floats, args.repeats], path)
                kept = runs.setdefault((case, label), {**row, **{k: [] for k in METRICS}})
                for k in METRICS:
                    kept[k] += row[k]
    best = {key: {**row, **{k: min(row[k]) for k in METRICS}} for key, row in runs.items()}
    lines = [
        "| case | code | setup (s) | predict conversion (s) | check_ragged (s) | "
        "pad_sequences (s) | check_ragged / setup | pad_sequences / setup | "
        "setup, median (s) | predict conversion, median (s) |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for (case, label), row in best.items():
        lines.append(
            f"| {case} | {label or 'this checkout'} | {row['setup']:.3f} | "
            f"{row['predict']:.3f} | {row['check_ragged']:.3f} | {row['pad_sequences']:.3f} | "
            f"{row['check_ragged'] / row['setup']:.0%} | "
            f"{row['pad_sequences'] / row['setup']:.0%} | "
            f"{statistics.median(runs[(case, label)]['setup']):.3f} | "
            f"{statistics.median(runs[(case, label)]['predict']):.3f} |")
    packages = sorted({f"{label or 'this checkout'}: {row['package']}"
                       for (_, label), row in best.items()})
    table = "\n".join(lines) + "\n\nPackages: " + "; ".join(packages) + "."
    print(table)
    if args.write:
        from _results_file import report_head, write_results

        text = (report_head("Setup of a fit and predict's conversion on large ragged input", argv,
                            ": a shared machine, so compare rows of one run")
                + f"Best (and median) of {args.repeats} timings in each of {args.rounds} "
                f"fresh processes per row; {args.n_tokens:,} token sentences, "
                f"{args.n_floats:,} float sequences.\n\n{table}\n")
        record = {f"{case} | {label}": row for (case, label), row in runs.items()}
        write_results(RESULTS, text, MARKER, record)


if __name__ == "__main__":
    main()
