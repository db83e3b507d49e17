"""Memory of accumulation, the automatic batch size, and mixed precision, measured.

Three measurements of ``LSTMClassifier(hidden_size=64, downsample=1)`` on generated
data (``make_sequence_classification``, 3 features), each fit in a fresh Python
process so that no earlier fit's allocations are reused (``peak_memory_`` is the
growth of the process's peak resident set on the CPU, torch's allocator on CUDA):

* ``accumulation``: ``peak_memory_`` of ``(B, k)`` (micro-batch B, k accumulation
  steps) against ``(B, 1)`` and ``(B*k, 1)`` for k = 2, 4, 8 at two sequence
  lengths. Targets: ``(B, 4) <= 1.1 x (B, 1)`` and ``<= 0.4 x (4B, 1)``.
* ``auto``: ``batch_size="auto"`` against three budgets at two sequence lengths:
  the micro-batch chosen, the fit's peak, whether a step still had to shrink,
  and the time the search took against the time of a 10-epoch fit at the chosen
  micro-batch (target: under 10 %).
* ``precision``: epoch time and peak memory, ``precision="32"`` against
  ``"bf16"``, on this machine's device.
* ``epoch``: ``peak_memory_`` of one epoch of batches of 32 over 32 to 2048 batches
  (the data, in memory before the fit, is not counted). Target: the peak is bounded
  by the batch, not the number of batches: at most 1.2 x the 32-batch epoch's.

Run from the repository root::

    python benchmarks/bench_memory.py                      # all three, ~10 min on 2 cores
    python benchmarks/bench_memory.py --only accumulation --out -
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

import sklstm

B = 32
SEQ_LENS = (100, 400)
KS = (2, 4, 8)
BUDGETS = ("64MiB", "256MiB", "1GiB")
# (the LSTM alone, as the recorded figures (LSTMClassifier's default branch came later))
COMMON = dict(hidden_size=64, downsample=1, tol=None, random_state=0, n_threads=1,
              conv_channels=None, lr=1e-2)


def _one(spec):
    """Fit one configuration in this process; the figures as a dict."""
    import warnings

    import numpy as np

    from sklstm import LSTMClassifier
    from sklstm.datasets import make_sequence_classification

    X, y = make_sequence_classification(n_samples=spec["n"], n_timesteps=spec["T"],
                                        random_state=0)
    X = X.astype(np.float32)
    torch.set_num_threads(1)
    # one small fit first: torch's one-time costs are not the configuration's
    LSTMClassifier(**{**COMMON, "max_epochs": 1}, batch_size=4).fit(X[:8], y[:8])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        est = LSTMClassifier(**COMMON, **spec["params"]).fit(X, y)
        elapsed = time.perf_counter() - start
    epochs = [row["dur"] for row in est.history_]
    return {"peak": est.peak_memory_, "batch_size_": est.batch_size_,
            "effective": est.effective_batch_size_, "fit_time": elapsed,
            "epoch_time": statistics.median(epochs), "n_epochs": est.n_epochs_,
            "trials": {str(t["batch_size"]): t["peak_memory"]
                       for t in getattr(est, "batch_size_trials_", [])},
            "shrunk": len(est.memory_events_),
            "search_time": getattr(est, "batch_size_search_time_", None),
            "warnings": sorted({w.category.__name__ for w in caught})}


REPEATS = 3


def measure(T, n, **params):
    """``_one`` in fresh interpreters, :data:`REPEATS` times: the median of each figure
    (a resident set varies by a few MB from process to process)."""
    spec = json.dumps({"T": T, "n": n, "params": params})
    runs = []
    for _ in range(REPEATS):
        out = subprocess.run([sys.executable, __file__, "--one", spec], check=True,
                             capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    result = dict(runs[0])
    for key in ("peak", "fit_time", "epoch_time", "search_time"):
        if runs[0][key] is not None:
            result[key] = statistics.median(r[key] for r in runs)
    result["shrunk"] = max(r["shrunk"] for r in runs)
    return result


def mib(n):
    return f"{n / 2**20:.1f}"


def accumulation():
    lines = ["| seq_len | k | (B, 1) MiB | (B, k) MiB | (B*k, 1) MiB | (B,k)/(B,1) | "
             "(B,k)/(B*k,1) |", "|--:|--:|--:|--:|--:|--:|--:|"]
    verdicts = []
    for T in SEQ_LENS:
        n = B * max(KS) * 2  # two optimizer steps of the largest effective batch
        base = measure(T, n, batch_size=B, max_epochs=1)["peak"]
        for k in KS:
            acc = measure(T, n, batch_size=B, accumulation_steps=k, max_epochs=1)["peak"]
            big = measure(T, n, batch_size=B * k, max_epochs=1)["peak"]
            lines.append(f"| {T} | {k} | {mib(base)} | {mib(acc)} | {mib(big)} | "
                         f"{acc / base:.2f} | {acc / big:.2f} |")
            if k == 4:
                verdicts.append(
                    f"- seq_len {T}: (B, 4) = {acc / base:.2f} x (B, 1) "
                    f"({'met' if acc <= 1.1 * base else 'NOT met'}: at most 1.1); "
                    f"{acc / big:.2f} x (4B, 1) "
                    f"({'met' if acc <= 0.4 * big else 'NOT met'}: at most 0.4)")
    return ("## Accumulation memory\n\n"
            f"B = {B}; `peak_memory_` of one epoch over {B * max(KS) * 2} samples "
            "(two optimizer steps of the largest effective batch).\n\n"
            + "\n".join(lines) + "\n\nTargets:\n\n" + "\n".join(verdicts) + "\n")


def auto():
    lines = ["| seq_len | max_memory | batch_size_ | trial steps (size: MiB) | peak MiB | "
             "shrunk | search s | 10-epoch fit s | search / fit |",
             "|--:|--:|--:|---|--:|--:|--:|--:|--:|"]
    for T in SEQ_LENS:
        for budget in BUDGETS:
            n = 2048
            a = measure(T, n, batch_size="auto", max_memory=budget, max_epochs=1)
            fit = measure(T, n, batch_size=a["batch_size_"], max_epochs=10)
            trials = ", ".join(f"{k}: {mib(v)}" for k, v in sorted(
                a["trials"].items(), key=lambda kv: int(kv[0])))
            share = a["search_time"] / fit["fit_time"]
            lines.append(f"| {T} | {budget} | {a['batch_size_']} | {trials} | "
                         f"{mib(a['peak'])} | {a['shrunk']} | {a['search_time']:.2f} | "
                         f"{fit['fit_time']:.1f} | {100 * share:.1f} % |")
    return ("## batch_size=\"auto\"\n\n"
            "2048 samples; the search is the trial steps "
            "(`batch_size_search_time_`); the fit is a 10-epoch fit at the chosen micro-batch. "
            "*shrunk*: steps of the 1-epoch auto fit redone with half the micro-batch.\n\n"
            + "\n".join(lines) + "\n")


def precision():
    lines = ["| seq_len | batch | precision | epoch s | peak MiB |", "|--:|--:|---|--:|--:|"]
    for T in SEQ_LENS:
        for batch in (32, 256):
            for prec in ("32", "bf16"):
                r = measure(T, 1024, batch_size=batch, precision=prec, max_epochs=3)
                lines.append(f"| {T} | {batch} | {prec} | {r['epoch_time']:.2f} | "
                             f"{mib(r['peak'])} |")
    return ("## Mixed precision\n\n1024 samples, 3 epochs, median epoch time.\n\n"
            + "\n".join(lines) + "\n")


def epoch():
    lines = ["| batches | samples | peak MiB | / 32 batches |", "|--:|--:|--:|--:|"]
    peaks = {}
    for batches in EPOCH_BATCHES:
        peaks[batches] = measure(100, B * batches, batch_size=B, max_epochs=1)["peak"]
        lines.append(f"| {batches} | {B * batches} | {mib(peaks[batches])} | "
                     f"{peaks[batches] / peaks[EPOCH_BATCHES[0]]:.2f} |")
    most = max(EPOCH_BATCHES)
    ratio = peaks[most] / peaks[EPOCH_BATCHES[0]]
    return ("## One epoch over more batches\n\n"
            f"seq_len 100, batch_size {B}, one epoch; `peak_memory_` (the data, made "
            "before the fit, is not counted).\n\n" + "\n".join(lines)
            + f"\n\nTarget: {most} batches at most 1.2 x 32 batches: {ratio:.2f} "
            f"({'met' if ratio <= 1.2 else 'NOT met'}).\n")


EPOCH_BATCHES = (32, 256, 1024, 2048)
SECTIONS = {"accumulation": accumulation, "auto": auto, "precision": precision,
            "epoch": epoch}


def main(argv=None):
    global REPEATS  # one setting of the whole script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--out", default="benchmarks/results/memory.md")
    parser.add_argument("--repeats", type=int, default=3,
                        help="fresh processes per configuration (median)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(json.loads(args.one))))
        return
    REPEATS = args.repeats
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(
        sys.argv[1:] if argv is None else argv)])
    started, t0 = time.strftime("%Y-%m-%d %H:%M"), time.perf_counter()
    parts = [SECTIONS[name]() for name in args.only.split(",")]
    text = ("# Memory and throughput\n\n"
            f"Command (from the repository root, {started}, took "
            f"{(time.perf_counter() - t0) / 60:.0f} min):\n\n```\n{command}\n```\n\n"
            f"Machine: {os.cpu_count()} logical cores, {platform.machine()}, Python "
            f"{platform.python_version()}, torch {torch.__version__}, sklstm "
            f"{sklstm.__version__}, one torch thread, CPU (no GPU was available: the "
            "GPU figures are missing). `LSTMClassifier(hidden_size=64, downsample=1)`, "
            f"3 features, every fit in a fresh process, median of {REPEATS}.\n\n"
            + "\n".join(parts))
    print(text)
    if args.out != "-":
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
