"""The CUDA paths of sklstm, exercised on a real GPU in one short run (under 10 min).

Prepared for a machine with a CUDA GPU; the CPU test suite stands without one. It

1. fits ``LSTMClassifier`` and ``LSTMRegressor`` with ``device="auto"`` and checks that
   they trained on CUDA and predict finite values;
2. compares the CUDA ``peak_memory_`` of fits at three micro-batches with what
   :func:`sklstm.profile_batch_sizes` reports for the same pairs;
3. triggers a real CUDA out-of-memory error with a huge micro-batch under a budget
   (``max_memory``, torch's allocator capped: its reserved peak is reported) and a
   real one without (``on_oom="shrink"``): the fit recovers with the effective batch
   kept, and ``on_oom="raise"`` raises ``MemoryBudgetError``;
4. runs ``batch_size="auto"`` against the device's free memory and two budgets;
5. fits with ``precision="bf16"`` and ``"16-mixed"``: epoch time and peak memory
   against float32, the dtypes the LSTM ran with, and the (B*k, 1) vs (B, k)
   accumulation equivalence.

Every figure is printed as one JSON line and the whole as a markdown report::

    python benchmarks/gpu_check.py --out benchmarks/results/gpu_check.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor, profile_batch_sizes
from sklstm.datasets import make_sequence_classification
from sklstm.exceptions import MemoryBudgetError, MicroBatchShrunkWarning

LINES = []


def report(name, **figures):
    line = json.dumps({"check": name, **figures}, default=str)
    print(line, flush=True)
    LINES.append(f"- **{name}**: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/results/gpu_check.md")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        sys.exit("gpu_check.py needs a CUDA device")
    X, y = make_sequence_classification(n_samples=2048, n_timesteps=200, random_state=0)
    X = X.astype(np.float32)
    base = dict(hidden_size=128, downsample=1, max_epochs=3, tol=None, random_state=0)

    for Estimator, target in [(LSTMClassifier, y), (LSTMRegressor, X[:, -5:, 0].sum(1))]:
        est = Estimator(**base).fit(X, target)
        out = est.predict(X)
        report(f"{Estimator.__name__} on auto", device=est.device_,
               finite=bool(np.isfinite(out).all()), peak_MiB=est.peak_memory_ / 2**20,
               fit_s=round(est.fit_time_, 2))

    sizes = [32, 256, 1024]
    profile = profile_batch_sizes(LSTMClassifier(**base), X, y, batch_sizes=sizes)
    for size, row in zip(sizes, profile.itertuples(), strict=True):
        fit = LSTMClassifier(**{**base, "max_epochs": 1}, batch_size=size).fit(X, y)
        report("peak vs profile", batch_size=size, fit_MiB=fit.peak_memory_ / 2**20,
               profile_MiB=row.peak_memory / 2**20, samples_per_s=row.samples_per_s)

    free, total = torch.cuda.mem_get_info()
    huge = dict(base, hidden_size=1024, max_epochs=1)
    X_long = np.repeat(X, 4, axis=1)  # 800 timesteps
    for name, params in [("budget 4GiB", dict(max_memory="4GiB")), ("device memory", {})]:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            est = LSTMClassifier(**huge, batch_size=2048, **params).fit(X_long, y)
        shrunk = [w for w in caught if issubclass(w.category, MicroBatchShrunkWarning)]
        # under max_memory torch's allocator is capped: what it reserved stays within
        report(f"out of memory, {name}", effective=est.effective_batch_size_,
               batch_size_=est.batch_size_, events=est.memory_events_,
               warnings=len(shrunk), fit_s=round(time.perf_counter() - start, 1),
               reserved_peak_GiB=round(torch.cuda.max_memory_reserved() / 2**30, 2),
               free_GiB=free / 2**30, total_GiB=total / 2**30)
    try:
        LSTMClassifier(**huge, batch_size=2048, max_memory="2GiB", on_oom="raise").fit(
            X_long, y)
        report("on_oom=raise", raised=False)
    except MemoryBudgetError as exc:
        report("on_oom=raise", raised=True, message=str(exc)[:160])

    for budget in [None, "1GiB", "8GiB"]:
        est = LSTMClassifier(**{**base, "max_epochs": 1}, batch_size="auto",
                             max_memory=budget).fit(X, y)
        report("batch_size=auto", max_memory=budget, batch_size_=est.batch_size_,
               peak_MiB=est.peak_memory_ / 2**20, search_s=est.batch_size_search_time_,
               fit_s=est.fit_time_, shrunk=len(est.memory_events_))

    for precision in ["32", "bf16", "16-mixed"]:
        est = LSTMClassifier(**base, batch_size=256, precision=precision).fit(X, y)
        epoch = float(np.median([row["dur"] for row in est.history_]))
        big = LSTMRegressor(**base, batch_size=256, precision=precision).fit(X, y)
        acc = LSTMRegressor(**base, batch_size=64, accumulation_steps=4,
                            precision=precision).fit(X, y)
        seen = set()  # the dtypes the LSTM runs with: input, weights
        hook = est.net_.module_.lstm.register_forward_pre_hook(
            lambda m, a, seen=seen: seen.add((str(a[0].dtype), str(m.weight_hh_l0.dtype))))
        est.predict(X[:64])
        hook.remove()
        report("precision", precision=precision, epoch_s=round(epoch, 3),
               peak_MiB=est.peak_memory_ / 2**20, lstm_input_weights=sorted(seen),
               accumulation_max_abs_diff=float(np.abs(big.predict(X) - acc.predict(X)).max()))

    text = (f"# GPU check\n\n{torch.cuda.get_device_name()}, torch {torch.__version__}, "
            f"sklstm {sklstm.__version__}\n\n" + "\n".join(LINES) + "\n")
    if args.out != "-":
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
