"""Host memory of one streaming pass over a SequenceStore, against the data's size and dtype.

A pass (the estimators' check of the data, :class:`~sklstm.preprocessing.SequenceScaler`'s
statistics, iterating the store) reads the store chunk by chunk
(:meth:`~sklstm.data.store.SequenceStore.chunk_slices`, 8 MiB of 8-byte numbers each),
so its peak should not grow with the data, whatever the stored dtype. Ragged stores of
100-300 steps a sequence are written from a generator (never in memory whole) at two
sizes per dtype; each pass's peak of Python and numpy allocations is measured with
``tracemalloc`` (the store's memory-mapped pages are file-backed, not allocations).

Run from the repository root::

    python benchmarks/bench_store_passes.py              # ~2 min, ~1 GB of temporary files
    python benchmarks/bench_store_passes.py --out -      # print instead of writing

and it writes ``benchmarks/results/store_passes.md``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from sklstm.data import SequenceStore
from sklstm.data.store_scan import scan_store
from sklstm.preprocessing import SequenceScaler

#: stored dtype -> (token ids?, features per step)
DTYPES = {"uint8": (True, 1), "int32": (True, 1), "float16": (False, 4), "float32": (False, 4)}


def _sequences(n, dtype, tokens, n_features, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        length = int(rng.integers(100, 300))
        if tokens:
            yield rng.integers(1, 200, length).astype(dtype)
        else:
            yield rng.normal(size=(length, n_features)).astype(dtype)


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
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000],
                        help="sequences per store")
    parser.add_argument("--out", default="benchmarks/results/store_passes.md")
    args = parser.parse_args(argv)
    rows = []
    top = tempfile.mkdtemp(prefix="sklstm-store-passes-")
    try:
        for dtype, (tokens, n_features) in DTYPES.items():
            for n in args.sizes:
                path = Path(top) / f"{dtype}-{n}"
                store = SequenceStore.write(path, _sequences(n, dtype, tokens, n_features))
                for name, call in _passes(store, tokens).items():
                    peak, seconds = _peak(call)
                    rows.append(f"| {dtype} | {n:,} | {store.nbytes / 2**20:,.1f} | {name} | "
                                f"{peak:.1f} | {seconds:.1f} |")
                shutil.rmtree(path)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    command = "python benchmarks/bench_store_passes.py " + shlex.join(argv or sys.argv[1:])
    text = "\n".join([
        "# Host memory of one streaming pass over a SequenceStore", "",
        f"`{command.strip()}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
        "Peak of Python and numpy allocations during the pass (`tracemalloc`); the store's "
        "values are memory-mapped (file-backed pages, not allocations). Ragged sequences of "
        "100-300 steps; token ids for the integer dtypes, 4 features for the float ones.", "",
        "| dtype | sequences | stored (MiB) | pass | peak (MiB) | time (s) |",
        "|---|--:|--:|---|--:|--:|", *rows, ""])
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text)
        print(text)


if __name__ == "__main__":
    main()
