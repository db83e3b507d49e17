"""Host memory and time of ``make_windows`` on a long series with a time index.

One series of ``--n`` hourly steps (1,000,000 by default) and one float32 column,
indexed by a time-zone-aware ``DatetimeIndex`` without a ``freq`` (as read from a
file: its steps are checked for gaps, :mod:`sklstm._time_order`), cut by
``make_windows(series, lookback=24, step=--step)`` with ``return_index`` True (the
windows' labels: since 1ec764d of the windows only, before it of the whole index made
objects) and False. Each case runs in this process after a warm-up call on 1,000
steps: the peak of Python and numpy allocations (``tracemalloc``; the windows
themselves take ``n / step * 24 * 4`` bytes) and the time, untraced, best of 3.

Put another copy of the package first on ``PYTHONPATH`` to compare (e.g. 1ec764d^ for
the labels, 884eefa^ for the steps). Run from the repository root::

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/bench_windows_memory.py   # ~1 minute
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd


def _peak_and_time(call):
    """``(peak MiB of allocations, best of 3 untraced seconds)`` of ``call()``."""
    tracemalloc.start()
    try:
        call()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return peak, min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="hourly steps")
    parser.add_argument("--step", type=int, default=24, help="make_windows's step")
    args = parser.parse_args(argv)
    import sklstm
    from sklstm.windows import make_windows

    def series(n):
        index = pd.date_range("2020-01-01", periods=n, freq="h", tz="Europe/Berlin")
        # as read from a file: no freq, so make_windows checks the steps for gaps
        index = pd.to_datetime(index.asi8, utc=True).tz_convert("Europe/Berlin")
        return pd.DataFrame({"v": np.arange(n, dtype=np.float32)}, index=index)

    make_windows(series(1000), 24, step=args.step, return_index=True)
    data = series(args.n)
    cases = {f"return_index={r}": (lambda r=r: make_windows(
        data, 24, step=args.step, return_index=r)) for r in (True, False)}
    print(f"package {sklstm.__file__}; {args.n:,} hourly steps, step {args.step}\n")
    print("| make_windows | peak (MiB) | time (s) |\n|---|--:|--:|")
    for name, call in cases.items():
        peak, seconds = _peak_and_time(call)
        print(f"| {name} | {peak:.1f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
