"""Time ``sklstm.windows.from_long_format`` on a large and a small long table.

Tables (seeded, rows shuffled): *large*, ``--n-rows`` rows (1,000,000) of ``--n-ids``
text ids (20,000: ``"id00000"``...), integer times, 3 float features and an integer
target; *small*, 200 rows of 10 text ids, the same columns. Each repeat converts the
table whole (``from_long_format(df, "id", "t", target_col="y")``: checks, the sort by
id and time, the per-id split and target); the table is built once per size, outside
the timings. Reported: min, median and max over ``--repeats`` (after one untimed call),
the sizes interleaved. To time another copy of the package, put it first on
``PYTHONPATH`` (the table names the package it timed).

Run from the repository root, pinned to one core (~1 minute)::

    OMP_NUM_THREADS=1 python benchmarks/bench_long_format.py --write
    OMP_NUM_THREADS=1 python benchmarks/bench_long_format.py --n-rows 100000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "long_format.md"
MARKER = "## Notes"


def long_table(n_rows, n_ids, seed=0):
    """A long table of ``n_rows`` shuffled rows of ``n_ids`` text ids (as even as may be)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    ids = np.arange(n_rows) % n_ids
    times = np.arange(n_rows) // n_ids  # (each id's times distinct)
    order = rng.permutation(n_rows)
    df = pd.DataFrame({"id": np.char.add("id", np.char.zfill(ids.astype(str), 5))[order],
                       "t": times[order]})
    for j in range(3):
        df[f"x{j}"] = rng.normal(size=n_rows)
    df["y"] = rng.integers(0, 2, size=n_rows)
    return df


def main(argv=None):
    from sklstm.windows import from_long_format

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-rows", type=int, default=1_000_000)
    parser.add_argument("--n-ids", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    args = parser.parse_args(argv)
    tables = {f"{args.n_rows:,} rows, {args.n_ids:,} ids": long_table(args.n_rows, args.n_ids),
              "200 rows, 10 ids": long_table(200, 10)}
    times = {name: [] for name in tables}
    for df in tables.values():  # untimed: imports, first calls
        from_long_format(df, "id", "t", target_col="y")
    for _ in range(args.repeats):
        for name, df in tables.items():
            start = time.perf_counter()
            from_long_format(df, "id", "t", target_col="y")
            times[name].append(time.perf_counter() - start)
    lines = ["| table | min (ms) | median (ms) | max (ms) |", "|---|--:|--:|--:|"]
    for name, values in times.items():
        lines.append(f"| {name} | {min(values) * 1e3:.1f} | "
                     f"{statistics.median(values) * 1e3:.1f} | {max(values) * 1e3:.1f} |")
    package = Path(sys.modules["sklstm"].__file__).parent
    table = "\n".join(lines) + f"\n\nPackage: {package}."
    print(table)
    if args.write:
        from _results_file import report_head, write_results

        text = (report_head("from_long_format on a large and a small long table", argv,
                            ": a shared machine")
                + f"{args.repeats} "
                f"interleaved repeats per table, after one untimed call.\n\n{table}\n")
        write_results(RESULTS, text, MARKER, times)


if __name__ == "__main__":
    main()
