"""What the flushes to disk of ``sklstm._durable_files`` cost: saving a model, writing a
SequenceStore, and a checkpointed fit, with ``os.fsync`` as it is and as a no-op.

A write that survives a crash of the system waits for the disk: the file before its
rename, the directory after. This measures that wait on the disk holding ``--dir``, in
one process, the two modes interleaved (so both see the same page cache and load).
The absolute figures depend on the disk and its write cache; the difference is the
price of durability.

Run from the repository root::

    python benchmarks/bench_durable_writes.py              # ~1 min, ~50 MB in a temp dir
    python benchmarks/bench_durable_writes.py --dir /data --out -

and it writes ``benchmarks/results/durable_writes.md``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np

from sklstm import LSTMClassifier
from sklstm.data import SequenceStore

_REAL_FSYNC = os.fsync


def _timed(call, repeats):
    """Median and minimum seconds of ``repeats`` calls, with and without flushes."""
    times = {"fsync": [], "no fsync": []}
    for _ in range(repeats):
        for mode in times:  # interleaved: both modes see the same cache and load
            os.fsync = _REAL_FSYNC if mode == "fsync" else (lambda fd: None)
            try:
                start = time.perf_counter()
                call()
                times[mode].append(time.perf_counter() - start)
            finally:
                os.fsync = _REAL_FSYNC
    return {mode: (statistics.median(t), min(t)) for mode, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=None, help="where to write (default: a temp dir)")
    parser.add_argument("--out", default="benchmarks/results/durable_writes.md",
                        help="where to write the table ('-': print it)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    where = tempfile.mkdtemp(dir=args.dir)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 6, 2)).astype(np.float32)
    y = (X[:, -1, 0] > 0).astype(int)
    small = dict(hidden_size=8, random_state=0, n_threads=1, device="cpu", tol=None)
    est = LSTMClassifier(max_epochs=1, **small).fit(X, y)
    model = os.path.join(where, "m.safetensors")
    sequences = [rng.normal(size=(2500, 5)) for _ in range(500)]  # 50 MB of float64
    store = os.path.join(where, "store")

    def checkpointed_fit():
        directory = tempfile.mkdtemp(dir=where)
        LSTMClassifier(max_epochs=20, checkpoint=directory, **small).fit(X, y)
        shutil.rmtree(directory)

    try:
        rows = [("save a model", "ms", 1e3, _timed(lambda: est.save(model), 30)),
                ("write a 50 MB store", "ms", 1e3, _timed(
                    lambda: SequenceStore.write(store, sequences, overwrite=True), 7)),
                ("checkpointed fit, 20 epochs", "s", 1, _timed(checkpointed_fit, 3))]
    finally:
        shutil.rmtree(where, ignore_errors=True)
    command = shlex.join(["python", "benchmarks/bench_durable_writes.py",
                          *(sys.argv[1:] if argv is None else argv)])
    lines = ["# What durable writes cost", "",
             f"`{command}` "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}), disk of "
             f"`{args.dir or tempfile.gettempdir()}`", "",
             "Median (minimum) of interleaved runs, `os.fsync` as it is and as a no-op.", "",
             "| write | with fsync | without | unit |", "|---|--:|--:|---|"]
    for name, unit, scale, result in rows:
        cells = [f"{result[m][0] * scale:.1f} ({result[m][1] * scale:.1f})"
                 for m in ("fsync", "no fsync")]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {unit} |")
    text = "\n".join(lines) + "\n"
    if args.out == "-":
        print(text, end="")
    else:
        with open(args.out, "w") as f:
            f.write(text)
        print(text, end="")


if __name__ == "__main__":
    main()
