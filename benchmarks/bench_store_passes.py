"""Host memory of one streaming pass over a SequenceStore, against the data's size and dtype.

A pass (the estimators' check of the data, :class:`~sklstm.preprocessing.SequenceScaler`'s
statistics, iterating the store) reads the store chunk by chunk
(:meth:`~sklstm.data.store.SequenceStore.chunk_slices`, 8 MiB of 8-byte numbers each),
so its peak should not grow with the data, whatever the stored dtype. Ragged stores of
100-300 steps a sequence are written from a generator (never in memory whole) at two
sizes per dtype; each pass's peak of Python and numpy allocations is measured with
``tracemalloc`` (the store's memory-mapped pages are file-backed, not allocations).

The *one-step* case (``--one-step``, a million float32 sequences of one step and one
feature by default: 3.8 MiB of values, within one chunk) shows the cost of the Python
objects each sequence read makes: a chunk is cut by count too
(:data:`~sklstm.data.store.SEQUENCE_READ_BYTES`); run the same command with the package
of 994d151^ first on ``PYTHONPATH`` to see the passes before that cut.

Run from the repository root::

    python benchmarks/bench_store_passes.py              # ~3 min, ~1 GB of temporary files
    python benchmarks/bench_store_passes.py --out -      # print instead of writing
    python benchmarks/bench_store_passes.py --sizes --out -   # the one-step case alone

and it writes ``benchmarks/results/store_passes.md`` (notes under its marker kept).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from _results_file import report_head, write_results

from sklstm.data import SequenceStore
from sklstm.data.store_scan import scan_store
from sklstm.preprocessing import SequenceScaler

#: stored dtype -> (token ids?, features per step)
DTYPES = {"uint8": (True, 1), "int32": (True, 1), "float16": (False, 4), "float32": (False, 4)}
MARKER = "## Before chunks counted values as 8-byte numbers"


def _sequences(n, dtype, tokens, n_features, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        length = int(rng.integers(100, 300))
        if tokens:
            yield rng.integers(1, 200, length).astype(dtype)
        else:
            yield rng.normal(size=(length, n_features)).astype(dtype)


def _one_step(n):
    """``n`` float32 sequences of one step and one feature."""
    return (np.full((1, 1), i, np.float32) for i in range(n))


def _peak(call):
    """``(peak MiB of allocations, seconds)`` of ``call()``."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20, time.perf_counter() - start
    finally:
        tracemalloc.stop()


def _passes(store, tokens):
    passes = {"check (scan_store)": lambda: scan_store(store, tokens=tokens, padding_idx=0),
              "iterate": lambda: sum(1 for _ in store)}
    if not tokens:
        passes["SequenceScaler.fit"] = lambda: SequenceScaler().fit(store)
    return passes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[50_000, 200_000],
                        help="sequences per store (none: the one-step case alone)")
    parser.add_argument("--one-step", type=int, default=1_000_000,
                        help="one-step float32 sequences of the one-step case (0: none)")
    parser.add_argument("--out", default="benchmarks/results/store_passes.md")
    args = parser.parse_args(argv)
    rows, record = [], []
    top = tempfile.mkdtemp(prefix="sklstm-store-passes-")
    cases = [(dtype, n, *DTYPES[dtype]) for dtype in DTYPES for n in args.sizes]
    cases += [("float32, one step", args.one_step, False, 1)] if args.one_step else []
    try:
        for dtype, n, tokens, n_features in cases:
            path = Path(top) / f"{len(record)}"
            store = SequenceStore.write(path, _one_step(n) if "one step" in dtype else
                                        _sequences(n, dtype, tokens, n_features))
            passes = _passes(store, tokens)
            if "one step" in dtype:  # SequenceScaler's pass reads as iterating does
                passes.pop("SequenceScaler.fit")
            for name, call in passes.items():
                peak, seconds = _peak(call)
                rows.append(f"| {dtype} | {n:,} | {store.nbytes / 2**20:,.1f} | {name} | "
                            f"{peak:.1f} | {seconds:.1f} |")
                record.append(dict(dtype=dtype, sequences=n, stored_mib=store.nbytes / 2**20,
                                   name=name, peak_mib=peak, seconds=seconds))
            shutil.rmtree(path)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    text = "\n".join([
        report_head("Host memory of one streaming pass over a SequenceStore", argv).rstrip(),
        "",
        "Peak of Python and numpy allocations during the pass (`tracemalloc`); the store's "
        "values are memory-mapped (file-backed pages, not allocations). Ragged sequences of "
        "100-300 steps; token ids for the integer dtypes, 4 features for the float ones; "
        "the one-step case: float32 sequences of one step and one feature.", "",
        "| dtype | sequences | stored (MiB) | pass | peak (MiB) | time (s) |",
        "|---|--:|--:|---|--:|--:|", *rows, ""])
    print(text)
    if args.out != "-":
        write_results(args.out, text, MARKER, record)


if __name__ == "__main__":
    main()
