"""A CPU fit under ``max_memory``: the memory its steps and its trial steps take.

On the CPU the budget is a check after each step, not a cap. This script measures,
for ``LSTMRegressor(hidden_size=64, num_layers=2, max_epochs=2, tol=None)`` on 2000
generated sequences of 100 steps and 8 features (single thread):

* a fixed ``batch_size=512`` under ``max_memory="64MiB"``: ``peak_memory_``, the
  resident set's growth sampled every 2 ms by a thread (an independent reading), the
  micro-batch trained and ``memory_events_`` (the trial steps predict the step and
  start the fit at the halving ``on_oom="shrink"`` would reach);
* ``batch_size="auto"`` under 16, 32 and 64 MiB: its trial steps
  (``batch_size_trials_``) and the fit's ``peak_memory_``;
* ``--fixed BATCH:BUDGET[:raise]``: other fixed batches (``None`` for no budget), with
  ``on_oom="raise"`` where asked; a fit refused shows the error's start. A fit
  without a budget and the same under a budget a little over its peak show the trial
  steps' line, an estimate: where it starts the fit smaller, and where ``raise``
  refuses it;
* ``--processes N``: each of ``--process-fits BATCH:SAMPLES`` (default ``auto:4000``)
  in N fresh processes on 4000 sequences of 200 steps (the first SAMPLES of them)
  under ``--process-budget`` (64 MiB): what varies between processes (the heap's
  placement, oneDNN's cache), per process the trial steps, the micro-batch chosen, the
  halvings and the peak, then the spread. Run it under ``setarch "$(uname -m)" -R``
  for processes without address-space randomisation (children inherit it).

Each fit runs in this process after a small warm-up fit (which loads torch's kernels,
as a fit's own warm-up does). Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_cpu_budget.py       # ~1-2 minutes
    OMP_NUM_THREADS=1 python benchmarks/bench_cpu_budget.py --budgets \
        --fixed 160:None 160:140MiB 160:128MiB:raise
    OMP_NUM_THREADS=1 python benchmarks/bench_cpu_budget.py --processes 10  # ~5 minutes
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import warnings

import numpy as np
from _fresh_process import measured_in_fresh_process

from sklstm import LSTMRegressor
from sklstm.exceptions import MemoryBudgetError

MiB = 2**20


def _resident():
    """The process's resident set in bytes (``/proc/self/status``)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


def _fit_sampled(X, y, batch_size, max_memory, on_oom="shrink"):
    """Fit while a thread samples the resident set; the estimator and the growth."""
    before, top, done = _resident(), [0], threading.Event()

    def sample():
        while not done.is_set():
            top[0] = max(top[0], _resident())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        est = LSTMRegressor(hidden_size=64, num_layers=2, max_epochs=2, tol=None,
                            batch_size=batch_size, max_memory=max_memory, device="cpu",
                            n_threads=1, random_state=0, on_oom=on_oom).fit(X, y)
    finally:
        done.set()
        sampler.join()
    return est, top[0] - before


def _one_process(batch_size, n, budget):
    """One ``--processes`` fit in this (fresh) process; its figures as a dict."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 200, 8)).astype(np.float32)[:n]
    y = X[:, -5:, 0].sum(1)
    warnings.simplefilter("ignore")
    LSTMRegressor(hidden_size=8, max_epochs=1, device="cpu", n_threads=1).fit(X[:50, :10],
                                                                               y[:50])
    est, growth = _fit_sampled(X, y, batch_size if batch_size == "auto" else int(batch_size),
                               None if budget == "None" else budget)
    return {"trials": [[t["batch_size"], t["peak_memory"] / MiB]
                       for t in getattr(est, "batch_size_trials_", [])],
            "batch_size_": est.batch_size_, "peak_mib": est.peak_memory_ / MiB,
            "growth_mib": growth / MiB,
            "events": [[e["epoch"], e["from"], e["to"]] for e in est.memory_events_]}


def _chosen(row):
    """The micro-batch the fit started with: before its first halving after a step (epoch
    >= 1; those at epoch 0 are the trial steps' predictions)."""
    return next((a for e, a, _ in row["events"] if e >= 1), row["batch_size_"])


def _processes(count, fits, budget):
    """Each of ``fits`` (``BATCH:SAMPLES``) in ``count`` fresh processes, as a table and
    a summary line each."""
    print(f"\nUnder max_memory={budget!r}, each fit in a fresh process:\n")
    print("| batch_size | samples | trial steps (size: MiB) | chosen | memory_events_ "
          "(epoch, from, to) | peak_memory_ MiB | sampled growth MiB |")
    print("|---|--:|---|--:|---|--:|--:|")
    for fit in fits:
        batch_size, n = fit.split(":")
        rows = [measured_in_fresh_process(__file__, [batch_size, int(n), budget])
                for _ in range(count)]
        for row in rows:
            trials = ", ".join(f"{size}: {mib:.1f}" for size, mib in row["trials"])
            events = ", ".join(f"({e}, {a}, {b})" for e, a, b in row["events"])
            first = _chosen(row)
            print(f"| {batch_size} | {n} | {trials or '-'} | {first} | {events or '-'} | "
                  f"{row['peak_mib']:.1f} | {row['growth_mib']:.1f} |")
        chosen = sorted(_chosen(r) for r in rows)
        peaks = [r["peak_mib"] for r in rows]
        over = sum(any(e[0] >= 1 for e in r["events"]) for r in rows)
        print(f"\n{fit}: chosen {chosen}; {over} of "
              f"{count} halved in the fit; peaks {min(peaks):.1f} to {max(peaks):.1f} MiB\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budgets", nargs="*", default=["16MiB", "32MiB", "64MiB"],
                        help="max_memory values for batch_size='auto'")
    parser.add_argument("--fixed", nargs="*", default=["512:64MiB"],
                        help="fixed batches: BATCH:BUDGET, or BATCH:BUDGET:raise")
    parser.add_argument("--processes", type=int, default=0,
                        help="run --process-fits in this many fresh processes instead")
    parser.add_argument("--process-fits", nargs="*", default=["auto:4000"],
                        help="BATCH:SAMPLES, each run in --processes fresh processes")
    parser.add_argument("--process-budget", default="64MiB", help='or "None"')
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # a --processes fit, in a fresh process
        print(json.dumps(_one_process(*json.loads(args.one))))
        return
    if args.processes:
        _processes(args.processes, args.process_fits, args.process_budget)
        return
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 100, 8)).astype(np.float32)
    y = X[:, -5:, 0].sum(1)
    warnings.simplefilter("ignore")
    LSTMRegressor(hidden_size=8, max_epochs=1, device="cpu", n_threads=1).fit(X[:50, :10],
                                                                               y[:50])
    print("| batch_size | max_memory | trial steps (size: MiB) | batch_size_ | "
          "memory_events_ (epoch, from, to) | peak_memory_ MiB | sampled growth MiB |")
    print("|---|---|---|--:|---|--:|--:|")
    fixed = [(int(b), None if m == "None" else m, *rest)
             for b, m, *rest in (case.split(":") for case in args.fixed)]
    for batch_size, budget, *on_oom in [*fixed, *(("auto", b) for b in args.budgets)]:
        try:
            est, growth = _fit_sampled(X, y, batch_size, budget, *on_oom)
        except MemoryBudgetError as error:
            print(f"| {batch_size} | {budget}, on_oom=raise | refused: "
                  f"{str(error)[:160]}... | | | | |")
            continue
        budget = f"{budget}, on_oom={on_oom[0]}" if on_oom else budget
        trials = ", ".join(f"{t['batch_size']}: {t['peak_memory'] / MiB:.1f}"
                           for t in getattr(est, "batch_size_trials_", []))
        events = ", ".join(f"({e['epoch']}, {e['from']}, {e['to']})"
                           for e in est.memory_events_)
        print(f"| {batch_size} | {budget} | {trials or '-'} | {est.batch_size_} | "
              f"{events or '-'} | {est.peak_memory_ / MiB:.1f} | {growth / MiB:.1f} |")


if __name__ == "__main__":
    main()
