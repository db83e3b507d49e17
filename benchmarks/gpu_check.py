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
   accumulation equivalence;
6. LBFGS with accumulation (the problem of ``tests/training/test_accumulation.py``, see
   ``benchmarks/lbfgs_rounding.py``) with cuDNN allowed TF32 and not, and a model saved
   on the GPU predicting there and on the CPU (how far apart, not whether equal).

Every figure is printed as one JSON line and the whole as a markdown report, rewritten
after every check (a run cut short by its timeout leaves what it measured); a check that
fails is reported with its error and the others still run (exit status 1)::

    python benchmarks/gpu_check.py --out benchmarks/results/gpu_check.md

``--device cpu --quick`` is a dry run on the CPU (tiny sizes, the CUDA-only readings
left out): it runs every check's code, and says nothing about a GPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
import warnings
from contextlib import contextmanager
from pathlib import Path

import lbfgs_rounding  # benchmarks/lbfgs_rounding.py
import numpy as np
import torch

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor, profile_batch_sizes
from sklstm.datasets import make_sequence_classification
from sklstm.exceptions import MemoryBudgetError, MicroBatchShrunkWarning

LINES = []
FAILED = []


def report(name, **figures):
    line = json.dumps({"check": name, **figures}, default=str)
    print(line, flush=True)
    LINES.append(f"- **{name}**: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


@contextmanager
def check(name, out, header):
    """Run one check; an error is reported and the next check runs. The report is
    written after every check."""
    try:
        yield
    except Exception as exc:  # one check's failure must not end the run
        FAILED.append(name)
        report(f"{name} FAILED", error=f"{type(exc).__name__}: {str(exc)[:300]}")
        traceback.print_exc()
    if out != "-":
        Path(out).write_text(header + "\n".join(LINES) + "\n")


def _cuda_memory():
    """``(free, total)`` of the current CUDA device in bytes, or ``(None, None)``."""
    return torch.cuda.mem_get_info() if torch.cuda.is_available() else (None, None)


def _reset_cuda_peak():
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _reserved_peak_gib():
    if not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_reserved() / 2**30, 2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/results/gpu_check.md")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (a dry run)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (a dry run: the figures mean nothing)")
    args = parser.parse_args(argv)
    device = args.device
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_check.py needs a CUDA device (--device cpu --quick: a dry run)")
    quick = args.quick
    if device == "cpu":
        torch.set_num_threads(1)
    n, steps, hidden, huge_hidden = (64, 20, 8, 16) if quick else (2048, 200, 128, 1024)
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU (dry run)"
    header = (f"# GPU check\n\n{name}, torch {torch.__version__}, "
              f"sklstm {sklstm.__version__}\n\n")
    X, y = make_sequence_classification(n_samples=n, n_timesteps=steps, random_state=0)
    X = X.astype(np.float32)
    # device="auto" where a GPU is (what a user gets), the CPU for a dry run
    # (the LSTM alone: the memory budgets below are sized for it)
    base = dict(hidden_size=hidden, downsample=1, max_epochs=3, tol=None, random_state=0,
                device="auto" if device == "cuda" else "cpu", conv_channels=None, lr=1e-2)

    with check("fits on auto", args.out, header):
        for Estimator, target in [(LSTMClassifier, y), (LSTMRegressor, X[:, -5:, 0].sum(1))]:
            est = Estimator(**base).fit(X, target)
            out = est.predict(X)
            report(f"{Estimator.__name__} on auto", device=est.device_,
                   finite=bool(np.isfinite(out).all()), peak_MiB=est.peak_memory_ / 2**20,
                   fit_s=round(est.fit_time_, 2))

    with check("peak vs profile", args.out, header):
        sizes = [4, 16, 64] if quick else [32, 256, 1024]
        profile = profile_batch_sizes(LSTMClassifier(**base), X, y, batch_sizes=sizes)
        for size, row in zip(sizes, profile.itertuples(), strict=True):
            fit = LSTMClassifier(**{**base, "max_epochs": 1}, batch_size=size).fit(X, y)
            report("peak vs profile", batch_size=size, fit_MiB=fit.peak_memory_ / 2**20,
                   profile_MiB=row.peak_memory / 2**20, samples_per_s=row.samples_per_s)

    huge = dict(base, hidden_size=huge_hidden, max_epochs=1)
    X_long = np.repeat(X, 4, axis=1)  # 800 timesteps (80 in a dry run)
    free, total = _cuda_memory()
    budgets = [("budget 4GiB", "4GiB"), ("device memory", None)]
    if quick:  # a budget the dry run's step is over (on the CPU: the resident set)
        budgets[0] = ("budget 8MiB", "8MiB")
    for label, budget in budgets:
        with check(f"out of memory, {label}", args.out, header):
            _reset_cuda_peak()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                start = time.perf_counter()
                est = LSTMClassifier(**huge, batch_size=n, max_memory=budget).fit(X_long, y)
            shrunk = [w for w in caught if issubclass(w.category, MicroBatchShrunkWarning)]
            # under max_memory torch's allocator is capped: what it reserved stays within
            report(f"out of memory, {label}", effective=est.effective_batch_size_,
                   batch_size_=est.batch_size_, events=est.memory_events_,
                   warnings=len(shrunk), fit_s=round(time.perf_counter() - start, 1),
                   reserved_peak_GiB=_reserved_peak_gib(),
                   free_GiB=None if free is None else free / 2**30,
                   total_GiB=None if total is None else total / 2**30)
    with check("on_oom=raise", args.out, header):
        try:
            LSTMClassifier(**huge, batch_size=n, max_memory="1MiB" if quick else "2GiB",
                           on_oom="raise").fit(X_long, y)
            report("on_oom=raise", raised=False)
        except MemoryBudgetError as exc:
            report("on_oom=raise", raised=True, message=str(exc)[:160])

    for budget in [None, "256MiB" if quick else "1GiB", "8GiB"]:
        with check(f"batch_size=auto, max_memory={budget}", args.out, header):
            est = LSTMClassifier(**{**base, "max_epochs": 1}, batch_size="auto",
                                 max_memory=budget).fit(X, y)
            report("batch_size=auto", max_memory=budget, batch_size_=est.batch_size_,
                   peak_MiB=est.peak_memory_ / 2**20, search_s=est.batch_size_search_time_,
                   fit_s=est.fit_time_, shrunk=len(est.memory_events_))

    precisions = ["32", "bf16"] + (["16-mixed"] if device == "cuda" else [])
    batch = 16 if quick else 256
    for precision in precisions:
        with check(f"precision {precision}", args.out, header):
            est = LSTMClassifier(**base, batch_size=batch, precision=precision).fit(X, y)
            epoch = float(np.median([row["dur"] for row in est.history_]))
            big = LSTMRegressor(**base, batch_size=batch, precision=precision).fit(X, y)
            acc = LSTMRegressor(**base, batch_size=batch // 4, accumulation_steps=4,
                                precision=precision).fit(X, y)
            seen = set()  # the dtypes the LSTM runs with: input, weights
            hook = est.net_.module_.lstm.register_forward_pre_hook(
                lambda m, a, seen=seen: seen.add((str(a[0].dtype), str(m.weight_hh_l0.dtype))))
            est.predict(X[:64])
            hook.remove()
            report("precision", precision=precision, epoch_s=round(epoch, 3),
                   peak_MiB=est.peak_memory_ / 2**20, lstm_input_weights=sorted(seen),
                   accumulation_max_abs_diff=float(np.abs(big.predict(X)
                                                          - acc.predict(X)).max()))
    with check("LBFGS accumulation", args.out, header):
        # tests/training/test_accumulation.py's LBFGS problem on this device, with cuDNN
        # allowed TF32 (torch's default) and not: how far rounding takes the two fits
        for tf32 in (True, False):
            with torch.backends.cudnn.flags(allow_tf32=tf32):
                report("LBFGS accumulation", cudnn_allow_tf32=tf32, **{
                    problem: lbfgs_rounding.distance(problem, device=base["device"])
                    for problem in lbfgs_rounding.PROBLEMS})

    with check("saved on the device, loaded on the CPU", args.out, header):
        est = LSTMClassifier(**{**base, "hidden_size": 4, "max_epochs": 2}).fit(X, y)
        with tempfile.TemporaryDirectory() as tmp:
            est.save(Path(tmp) / "m.safetensors")
            here = sklstm.load(Path(tmp) / "m.safetensors")
            on_cpu = sklstm.load(Path(tmp) / "m.safetensors", device="cpu")
        proba = est.predict_proba(X)
        report("saved on the device, loaded on the CPU", device=est.device_,
               same_device_max_abs_diff=float(np.abs(here.predict_proba(X) - proba).max()),
               cpu_max_abs_diff=float(np.abs(on_cpu.predict_proba(X) - proba).max()))
    if FAILED:
        sys.exit(f"failed checks: {FAILED}")


if __name__ == "__main__":
    main()
