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
the first prediction (a fit the budget ended shows its error instead).

Run from the repository root (to compare with another checkout, put it first on
``PYTHONPATH``), pinned to one core::

    taskset -c 1 python benchmarks/bench_ragged_onednn.py
    taskset -c 1 python benchmarks/bench_ragged_onednn.py --estimator clf --batch auto
    taskset -c 1 python benchmarks/bench_ragged_onednn.py --precision bf16 --n 1000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

import numpy as np

#: the environment each route's process starts with (oneDNN reads it once)
ROUTES = {"native": {}, "onednn": {"DNNL_PRIMITIVE_CACHE_CAPACITY": "1024"},
          "cache0": {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "0"}}


def measure(estimator, batch, precision, n):
    """One fit in this process; returns its figures as a dict."""
    import sklstm

    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(t), 8)).astype(np.float32) for t in rng.integers(20, 201, n)]
    if estimator == "reg":
        est, y = sklstm.LSTMRegressor, rng.normal(size=n).astype(np.float32)
    else:
        est, y = sklstm.LSTMClassifier, np.arange(n) % 3
    model = est(hidden_size=64, num_layers=2, max_epochs=2, device="cpu", random_state=0,
                batch_size=batch if batch == "auto" else int(batch), precision=precision,
                max_memory="64MiB")
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
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # in a fresh process: oneDNN reads its environment once
        print(json.dumps(measure(*json.loads(args.one))))
        return
    import torch

    import sklstm

    print(f"sklstm {sklstm.__version__} at {sklstm.__file__}, torch {torch.__version__}")
    print("| estimator | batch | precision | route | peak (MiB) | batch_size_ | CPU (s) "
          "| first prediction |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    for estimator in args.estimator:
        for route in args.routes:
            env = {key: value for key, value in os.environ.items()
                   if key not in ("ONEDNN_PRIMITIVE_CACHE_CAPACITY",
                                  "DNNL_PRIMITIVE_CACHE_CAPACITY")}
            env.update(ROUTES[route], OMP_NUM_THREADS="1")
            for _ in range(args.repeats):
                out = subprocess.run(
                    [sys.executable, "-W", "ignore", __file__, "--one",
                     json.dumps([estimator, args.batch, args.precision, args.n])],
                    capture_output=True, text=True, check=True, env=env)
                row = json.loads(out.stdout.strip().splitlines()[-1])
                head = f"| {estimator} | {args.batch} | {args.precision} | {route} |"
                if "error" in row:
                    print(f"{head} {row['error']} | | {row['cpu_s']:.1f} | |")
                else:
                    print(f"{head} {row['peak_mib']:.0f} | {row['batch_size_']} | "
                          f"{row['cpu_s']:.1f} | {row['first']:.6f} |")


if __name__ == "__main__":
    main()
