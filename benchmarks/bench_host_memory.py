"""Host memory of each step beside data already in memory, measured.

What a step adds to the host's memory while it runs, beside the data it is given
(made before the measurement, so not counted), shown as multiples of the data's
float32 bytes and in MiB. Each step runs in a fresh Python process (so that no
earlier step's peak or freed memory mixes in), after one small warm-up call of the
same step (one-time imports and caches are not the step's):

* ``scaler_fit``, ``scaler_fit_int32``, ``scaler_transform_float16``,
  ``scaler_transform``: :class:`~sklstm.preprocessing.SequenceScaler` on X of
  20,000 x 50 x 8 (float32; int32 values for the integer fit; float16 for the
  float16 transform, fitted on the same float16 X);
* ``resampler``: ``SequenceResampler(2).fit(X).transform(X)`` on the same float32 X;
* ``padder_2d``: ``SequencePadder().fit_transform`` of a 2D float32 array of
  200,000 x 50, and its time (median of 3, timed without tracing);
* ``relative_predict``: ``LSTMRegressor(relative="last", hidden_size=4,
  max_epochs=1, device="cpu")`` fitted on 200 rows, then ``predict``'s peak on
  20,000 x 50 x 4 float32 minus the same ``predict``'s of a ``relative=None`` model;
* ``csv_10``, ``csv_50``: :func:`~sklstm.datasets.load_dataset` of a CSV of 200,000
  rows x 10 and x 50 feature columns (and a target column ``y``), written to a
  temporary directory first; ``csv_store_10``, ``csv_store_50``:
  :func:`~sklstm.data.csv_to_store` of the same files into a new store beside them.

The peaks are tracemalloc's: what Python objects and numpy arrays held at the most
while the step ran, beyond what they held before it. torch's tensors and C buffers
outside Python's and numpy's allocators are not counted (every step but
``relative_predict`` has none of its own; there the network's tensors are the same
for both models and cancel out). For the CSV files the growth of the process's peak
resident set (``ru_maxrss``) over the call is also given, from another fresh
process run without tracemalloc (tracemalloc's own bookkeeping would inflate it).

Run from the repository root::

    OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/bench_host_memory.py   # ~5 min
    python benchmarks/bench_host_memory.py --quick --out -                   # a try

and it writes ``benchmarks/results/host_memory.md`` (``--out -`` prints it instead).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _machine import cpu_model, load_average
from _results_file import command_line

#: (rows, timesteps, features) of the preprocessing steps' X, full and --quick
PREP_SHAPE = {False: (20_000, 50, 8), True: (2_000, 50, 8)}
PAD_SHAPE = {False: (200_000, 50), True: (20_000, 50)}
PREDICT_SHAPE = {False: (20_000, 50, 4), True: (2_000, 50, 4)}
CSV_ROWS = {False: 200_000, True: 20_000}
CSV_COLUMNS = (10, 50)
STEPS = ("scaler_fit", "scaler_fit_int32", "scaler_transform", "scaler_transform_float16",
         "resampler", "padder_2d", "relative_predict", "csv_10", "csv_50", "csv_store_10",
         "csv_store_50")


def traced_peak(function):
    """``function()``'s result and the most tracemalloc saw held during it beyond what
    was held before it (as ``tests/settings.py``'s helper of the same name)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = function()
        return result, tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def _data(shape, dtype=np.float32):
    return np.random.default_rng(0).normal(size=shape).astype(dtype)


def _preprocessing(step, quick):
    from sklstm.preprocessing import SequencePadder, SequenceResampler, SequenceScaler

    shape = PREP_SHAPE[quick]
    X = _data(shape)
    if step == "scaler_fit_int32":
        X = np.random.default_rng(0).integers(-1000, 1000, size=shape, dtype=np.int32)
    elif step == "scaler_transform_float16":
        X = X.astype(np.float16)
    steps = {
        "scaler_fit": lambda data: SequenceScaler().fit(data),
        "scaler_fit_int32": lambda data: SequenceScaler().fit(data),
        "scaler_transform": SequenceScaler().fit(X).transform,
        "scaler_transform_float16": SequenceScaler().fit(X).transform,
        "resampler": lambda data: SequenceResampler(2).fit(data).transform(data),
        "padder_2d": lambda data: SequencePadder().fit_transform(data),
    }
    call = steps[step]
    if step == "padder_2d":
        X = _data(PAD_SHAPE[quick])
    call(X[:10])  # the warm-up
    _, peak = traced_peak(lambda: call(X))
    result = {"peak": peak, "float32_bytes": X.size * 4, "shape": X.shape}
    if step == "padder_2d":
        times = []
        for _ in range(3):
            start = time.perf_counter()
            call(X)
            times.append(time.perf_counter() - start)
        result["seconds"] = statistics.median(times)
    return result


def _relative_predict(quick):
    import torch

    from sklstm import LSTMRegressor

    torch.set_num_threads(1)
    X = _data(PREDICT_SHAPE[quick])
    y = X[:, -1, 0] + 0.1
    peaks = {}
    for relative in (None, "last"):
        est = LSTMRegressor(relative=relative, hidden_size=4, max_epochs=1, device="cpu",
                            random_state=0).fit(X[:200], y[:200])
        est.predict(X[:10])  # the warm-up
        peaks[str(relative)] = traced_peak(lambda est=est: est.predict(X))[1]
    return {"peak": peaks["last"] - peaks["None"], "peak_relative": peaks["last"],
            "peak_none": peaks["None"], "float32_bytes": X.size * 4, "shape": X.shape}


def write_csv(path, rows, columns):
    """A CSV of ``rows`` x ``columns`` float features (6 significant digits) and an
    integer target column ``y``, written a block of rows at a time."""
    rng = np.random.default_rng(0)
    header = ",".join([f"x{i}" for i in range(columns)] + ["y"])
    with open(path, "w") as f:
        f.write(header + "\n")
        for start in range(0, rows, 10_000):
            n = min(10_000, rows - start)
            block = np.column_stack([rng.normal(size=(n, columns)),
                                     rng.integers(0, 3, size=n)])
            np.savetxt(f, block, fmt=["%.6g"] * columns + ["%d"], delimiter=",")


def _csv(path, rss, store):
    """``load_dataset`` of the CSV ``path``, or with ``store`` its ``csv_to_store``
    into a new directory beside it."""
    from sklstm.data import csv_to_store
    from sklstm.datasets import load_dataset

    def read(path, suffix=""):
        """The shape of X read (held no longer than the call)."""
        if store:
            X, _ = csv_to_store(path, f"{path}.store{suffix}")
            return len(X), len(X[0])
        return load_dataset(path)[0].shape

    suffix = "-rss" if rss else ""  # (each process writes stores of its own)
    read(path + ".warm.csv", suffix)  # the warm-up, on the file's first rows
    if rss:
        # ru_maxrss is the process's peak so far: its rise over the call is the call's
        # peak beyond the level of everything before it (KiB on Linux)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        shape = read(path, suffix)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    else:
        shape, peak = traced_peak(lambda: read(path, suffix))
    return {"peak": peak, "float32_bytes": shape[0] * shape[1] * 4, "shape": shape}


def measure(spec):
    """One step in this (fresh) process; its figures as a dict."""
    step, quick = spec["step"], spec["quick"]
    if step == "relative_predict":
        return _relative_predict(quick)
    if step.startswith("csv_"):
        return _csv(spec["path"], spec.get("rss", False), step.startswith("csv_store_"))
    return _preprocessing(step, quick)


def _run(spec):
    out = subprocess.run([sys.executable, __file__, "--measure", json.dumps(spec)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mib(n):
    return f"{n / 2**20:,.1f}"


def _row(label, result, key="peak"):
    if "error" in result:
        return f"| {label} | failed: {result['error']} | | |"
    shape = " x ".join(f"{n:,}" for n in result["shape"])
    return (f"| {label} | {shape} ({_mib(result['float32_bytes'])} MiB) | "
            f"{_mib(result[key])} | {result[key] / result['float32_bytes']:.2f}x |")


def _environment():
    """What the command was run under: ``OMP_NUM_THREADS`` and the cores it was bound to
    (as ``taskset -c``), where set."""
    words = []
    if "OMP_NUM_THREADS" in os.environ:
        words.append(f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if cores and len(cores) < (os.cpu_count() or 0):
        words.append("taskset -c " + ",".join(map(str, cores)))
    return "".join(w + " " for w in words)


def _report(argv, results, seconds):
    import torch

    import sklstm

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False, cwd=Path(__file__).parent).stdout.strip()
    header = ["| step | data (its float32 bytes) | peak MiB | peak / float32 bytes |",
              "|---|--:|--:|--:|"]
    labels = {
        "scaler_fit": "`SequenceScaler().fit(X)`, float32",
        "scaler_fit_int32": "`SequenceScaler().fit(X)`, int32",
        "scaler_transform": "`.transform(X)`, float32",
        "scaler_transform_float16": "`.transform(X)`, float16 (fitted on it)",
        "resampler": "`SequenceResampler(2).fit(X).transform(X)`",
        "padder_2d": "`SequencePadder().fit_transform(X)`, 2D",
        "relative_predict": "`predict`, relative=\"last\" minus relative=None",
    }
    pad = results["padder_2d"]
    rel = results["relative_predict"]
    lines = [
        "# Host memory of data in memory",
        "",
        f"Command (from the repository root, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}"
        f" UTC, took {seconds / 60:.1f} min):",
        "",
        "```",
        f"{_environment()}{command_line(argv)}",
        "```",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, torch "
        f"{torch.__version__}, sklstm {sklstm.__version__} (commit {commit}); load average "
        f"at the end {load_average()}. Every step in a fresh process after a small "
        "warm-up call.",
        "",
        "Peaks: tracemalloc's, what Python objects and numpy arrays held at most during "
        "the step beyond what they held before it (the input, made before, is not "
        "counted; the output is). torch's tensors are not counted.",
        "",
        "## Preprocessing and prediction",
        "",
        *header,
        *(_row(labels[step], results[step]) for step in labels),
        "",
    ]
    if "seconds" in pad:
        lines += [f"`SequencePadder` 2D: {pad['seconds']:.3f} s (median of 3, untraced).", ""]
    if "error" not in rel:
        lines += [f"`predict`'s own peaks: relative=None {_mib(rel['peak_none'])} MiB, "
                  f"relative=\"last\" {_mib(rel['peak_relative'])} MiB "
                  "(`LSTMRegressor(hidden_size=4, max_epochs=1, device=\"cpu\")`, fitted "
                  "on 200 rows).", ""]
    lines += ["## CSV files (`load_dataset`, `csv_to_store`)", "",
              "A generated CSV (6 significant digits per value, an integer target column "
              "`y`); *tracemalloc* as above; *ru_maxrss*: the rise of the process's peak "
              "resident set over the call, in another fresh process without tracemalloc.",
              "", *header]
    for step, label in (("csv", ""), ("csv_store", ", `csv_to_store`")):
        for columns in CSV_COLUMNS:
            for suffix, kind in (("", "tracemalloc"), ("_rss", "ru_maxrss")):
                lines.append(_row(f"{columns} columns{label}, {kind}",
                                  results[f"{step}_{columns}{suffix}"]))
    lines += ["", "`csv_to_store` writes each chunk of rows to a `SequenceStore` as it "
              "is read: what it holds grows with the rows alone (the targets and the "
              "store's offsets), not with the columns."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a tenth of the rows, for a try (not the recorded figures)")
    parser.add_argument("--out", default="benchmarks/results/host_memory.md",
                        help="the markdown report ('-' prints it)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure))))
        return
    start = time.perf_counter()
    results = {}
    root = tempfile.mkdtemp(prefix="sklstm-host-memory-")
    try:
        for step in STEPS:
            spec = {"step": step, "quick": args.quick}
            if step.startswith("csv_"):
                columns = int(step.rpartition("_")[2])
                path = os.path.join(root, f"csv_{columns}.csv")  # (csv_store_ reads it too)
                if not os.path.exists(path):
                    write_csv(path, CSV_ROWS[args.quick], columns)
                    write_csv(path + ".warm.csv", 100, columns)
                spec["path"] = path
                results[step + "_rss"] = _run({**spec, "rss": True})
                print(step + "_rss", results[step + "_rss"], file=sys.stderr)
            results[step] = _run(spec)
            print(step, results[step], file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = _report(sys.argv[1:] if argv is None else argv, results,
                   time.perf_counter() - start)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
