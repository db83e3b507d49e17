"""Time a GridSearchCV of many small fits on one GPU: processes, threads, CUDA MPS.

The grid of the first GPU run (``../shared/gpu/2026-12-04-h200.md``, section 5):
``batch_size`` {32, 64, 128, 256} x ``accumulation_steps`` {1, 2} x ``seq_len`` {50, 100},
``cv=3`` (48 fits), ``LSTMClassifier(hidden_size=64, max_epochs=5, tol=None)``, 4096
sequences of 100 steps and 8 features, 2 classes. The same search runs in four ways:

* ``serial``: ``n_jobs=1``, the reference;
* ``processes``: ``n_jobs=N`` with joblib's default backend (loky worker processes: a
  CUDA context each, the device time-sliced between them);
* ``threads``: ``n_jobs=N`` threads of one process inside
  :func:`sklstm.search.concurrent_fits` (a CUDA stream per fit);
* ``mps``: ``processes`` again with the CUDA MPS control daemon running
  (``nvidia-cuda-mps-control -d``, pipe and log folders of its own, stopped after), so
  that the workers' kernels share the GPU; only where ``nvidia-cuda-mps-control`` exists
  and the daemon starts, else the report says why not.

Each way runs in a fresh Python process (``--run-mode``), so none inherits another's
CUDA context, caches or MPS connection: one fit of the grid's smallest size warms the
process up first (its CUDA context, cuDNN), then the search's whole ``fit`` is timed,
worker start-up included (what a user waits for). While it runs, ``nvidia-smi`` is
sampled every 0.5 s for the GPU's utilization (the share of time a kernel ran). The
report lists the wall time, the speed-up over ``serial``, the best parameters and score,
whether all mean test scores equal ``serial``'s, and the mean utilization; the issue's
target is a speed-up of at least 4 with the same best parameters.

Run from the repository root, on a GPU machine (about 2-3 minutes on an H200, by the
2026-12-04 figures; ``benchmarks/gpu_speed.sh`` runs it after ``bench_gpu.py``)::

    python benchmarks/bench_gpu_search.py --out benchmarks/results/gpu_speed.md --append
    python benchmarks/bench_gpu_search.py --device cpu --quick --out /tmp/search.md

``--device cpu --quick`` is a dry run on the CPU (a 16-fit grid of tiny fits, 2 jobs):
it checks that every way runs and that they agree, and its report says that it holds
no GPU figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import torch  # (no CUDA call here: the ways' processes make the contexts)
from bench_gpu import commit, device_name  # benchmarks/bench_gpu.py

DEFAULT_OUT = Path(__file__).parent / "results" / "gpu_speed.md"
#: In the order they run: the reference, then the way not measured before first.
MODES = ("serial", "threads", "processes", "mps")

FULL = dict(n_samples=4096, n_timesteps=100, n_features=8, hidden_size=64, max_epochs=5,
            cv=3, grid={"batch_size": [32, 64, 128, 256], "accumulation_steps": [1, 2],
                        "seq_len": [50, 100]})
QUICK = dict(n_samples=96, n_timesteps=12, n_features=3, hidden_size=4, max_epochs=1,
             cv=2, grid={"batch_size": [8, 16], "accumulation_steps": [1, 2],
                         "seq_len": [6, 12]})


def make_data(size, seed=0):
    """Float32 sequences and binary labels that depend on the last steps."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(size["n_samples"], size["n_timesteps"], size["n_features"]))
    X = X.astype(np.float32)
    return X, (X[:, -5:, 0].sum(axis=1) > 0).astype(np.int64)


class Utilization:
    """``nvidia-smi``'s GPU utilization, sampled on a thread while the block runs."""

    def __init__(self, period=0.5):
        self.period = period
        self.samples = []
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if shutil.which("nvidia-smi"):
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return False

    def _run(self):
        while not self._stop.wait(self.period):
            try:
                out = subprocess.run(
                    ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                     "-i", "0"], capture_output=True, text=True, timeout=5).stdout
                self.samples.append(float(out.strip().splitlines()[0]))
            except (OSError, ValueError, IndexError, subprocess.SubprocessError):
                pass

    def mean(self):
        """Mean utilization in percent, or None without samples."""
        return statistics.fmean(self.samples) if self.samples else None


def run_mode(mode, device, n_jobs, quick):
    """One way of running the search, in this process; a dict for the report."""
    from sklearn.model_selection import GridSearchCV

    from sklstm import LSTMClassifier
    from sklstm.search import concurrent_fits

    warnings.simplefilter("ignore")  # (convergence warnings of 5-epoch fits)
    size = QUICK if quick else FULL
    X, y = make_data(size)
    if device == "cpu":
        torch.set_num_threads(1)  # the dry run's tiny fits: one thread each
    # (the LSTM alone, as the recorded figures: the classifier's default branch came later)
    est = LSTMClassifier(hidden_size=size["hidden_size"], max_epochs=size["max_epochs"],
                         tol=None, device=device, random_state=0, conv_channels=None, lr=1e-2)
    # warm-up: this process's CUDA context and kernels (not timed)
    est.set_params(batch_size=max(size["grid"]["batch_size"]), max_epochs=1).fit(X[:256], y[:256])
    est.set_params(max_epochs=size["max_epochs"])
    search = GridSearchCV(est, size["grid"], cv=size["cv"],
                          n_jobs=n_jobs if mode in ("processes", "mps") else None)
    with Utilization() as busy:
        start = time.perf_counter()
        if mode == "threads":
            with concurrent_fits(n_jobs):
                search.fit(X, y)
        else:
            search.fit(X, y)
        took = time.perf_counter() - start
    return {"mode": mode, "n_jobs": 1 if mode == "serial" else n_jobs, "seconds": took,
            "best_params": {k: int(v) for k, v in search.best_params_.items()},
            "best_score": float(search.best_score_),
            "mean_test_score": [float(s) for s in search.cv_results_["mean_test_score"]],
            "n_fits": len(search.cv_results_["params"]) * size["cv"],
            "utilization": busy.mean(), "torch_threads_after": torch.get_num_threads()}


# -- the way each mode runs: a fresh process --------------------------------------------
class MPS:
    """The CUDA MPS control daemon for the block, with pipe and log folders of its own;
    ``env`` is what the clients need. ``error`` says why it did not start (None if it did)."""

    def __init__(self):
        self.error = None
        self.env = None
        self._dir = None

    def __enter__(self):
        control = shutil.which("nvidia-cuda-mps-control")
        if control is None:
            self.error = "nvidia-cuda-mps-control is not installed"
            return self
        self._dir = tempfile.mkdtemp(prefix="sklstm-mps-")
        env = {**os.environ, "CUDA_MPS_PIPE_DIRECTORY": os.path.join(self._dir, "pipe"),
               "CUDA_MPS_LOG_DIRECTORY": os.path.join(self._dir, "log")}
        for key in ("CUDA_MPS_PIPE_DIRECTORY", "CUDA_MPS_LOG_DIRECTORY"):
            os.makedirs(env[key])
        try:
            done = subprocess.run([control, "-d"], env=env, capture_output=True, text=True,
                                  timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            self.error = f"nvidia-cuda-mps-control -d failed: {exc}"
            return self
        if done.returncode != 0:
            self.error = (f"nvidia-cuda-mps-control -d exited {done.returncode}: "
                          f"{(done.stderr or done.stdout).strip()[:300]}")
            return self
        self.env = env
        return self

    def __exit__(self, *exc_info):
        if self.env is not None:  # (the daemon stops its server with it)
            subprocess.run(["nvidia-cuda-mps-control"], input="quit\n", env=self.env,
                           capture_output=True, text=True, timeout=30)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        return False


def in_fresh_process(mode, args, env=None, timeout=300):
    """Run one mode with ``--run-mode`` in a new Python; its result, or an error dict."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        argv = [sys.executable, __file__, "--run-mode", mode, "--device", args.device,
                "--n-jobs", str(args.n_jobs), "--json", str(out)] + (
                    ["--quick"] if args.quick else [])
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"mode": mode, "error": f"took over {timeout} s"}
        if done.returncode != 0 or not out.exists():
            last = (done.stderr.strip().splitlines() or [""])[-1]
            return {"mode": mode, "error": f"exit {done.returncode}: {last[:300]}"}
        return json.loads(out.read_text())


def run_all(args, log, save):
    """Every way in turn; ``save(results)`` after each (a timeout keeps what ran)."""
    results = []
    for mode in args.modes:
        if mode == "mps":
            with MPS() as mps:
                if mps.error is not None:
                    results.append({"mode": mode, "error": mps.error})
                else:
                    results.append(in_fresh_process(mode, args, env=mps.env,
                                                    timeout=args.timeout))
        else:
            results.append(in_fresh_process(mode, args, timeout=args.timeout))
        r = results[-1]
        log(f"{mode}: " + (r["error"] if "error" in r else
                           f"{r['seconds']:.1f} s, best {r['best_params']} "
                           f"{r['best_score']:.4f}, GPU busy {r['utilization']}"))
        save(results)
    return results


# -- the report ------------------------------------------------------------------------
def _busy(value):
    return "n/a" if value is None else f"{value:.0f} %"


def report(results, args, took):
    dry_run = args.device != "cuda"
    size = QUICK if args.quick else FULL
    serial = next((r for r in results if r["mode"] == "serial" and "error" not in r), None)
    lines = ["## A search of many small fits on one GPU: processes, threads, MPS", ""]
    if dry_run:
        lines += ["**CPU DRY RUN: no GPU figure.** Written by "
                  f"`--device {args.device}`{' --quick' if args.quick else ''} to check that "
                  "every way runs and agrees; its times are a CPU's, its sizes reduced.", ""]
    grid = " x ".join(f"{k} {v}" for k, v in size["grid"].items())
    lines += [
        f"Command (from the repository root, {time.strftime('%Y-%m-%d %H:%M %Z')}, took "
        f"{took / 60:.1f} min):", "", "```",
        "python " + " ".join(shlex.quote(a) for a in ["benchmarks/bench_gpu_search.py",
                                                       *sys.argv[1:]]),
        "```", "",
        f"- device: {device_name(torch.device(args.device))}; commit: {commit()}",
        f"- GridSearchCV over {grid}, cv={size['cv']}; LSTMClassifier(hidden_size="
        f"{size['hidden_size']}, max_epochs={size['max_epochs']}, tol=None); "
        f"{size['n_samples']} x {size['n_timesteps']} x {size['n_features']}",
        "- each way in a fresh process, warmed up by one small fit; the search's whole "
        "`fit` timed once; *GPU busy*: mean of `nvidia-smi` utilization samples (0.5 s)",
        "",
        "| way | n_jobs | seconds | speed-up vs n_jobs=1 | best params | best score | "
        "scores = n_jobs=1's | GPU busy |",
        "|---|--:|--:|--:|---|--:|---|--:|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['mode']} | | not run: {r['error']} | | | | | |")
            continue
        speedup = "" if serial is None else f"{serial['seconds'] / r['seconds']:.2f}x"
        same = "" if serial is None else (
            "yes" if r["mean_test_score"] == serial["mean_test_score"] else "no")
        lines.append(
            f"| {r['mode']} | {r['n_jobs']} | {r['seconds']:.1f} | {speedup} | "
            f"{r['best_params']} | {r['best_score']:.4f} | {same} | {_busy(r['utilization'])} |")
    ran = [r for r in results if "error" not in r and r["mode"] != "serial"]
    if serial is not None and ran:
        best = min(ran, key=lambda r: r["seconds"])
        factor = serial["seconds"] / best["seconds"]
        same = best["best_params"] == serial["best_params"]
        lines += ["", f"Fastest: **{best['mode']}**, {factor:.2f}x n_jobs=1, "
                  f"{'the same' if same else 'other'} best params; target >= 4x with the same "
                  f"best params: **{'met' if factor >= 4 and same else 'not met'}**"
                  + (" (CPU dry run: says nothing about a GPU)" if dry_run else "")]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (a dry run)")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="workers of the parallel ways (default 8; 2 with --quick)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help=f"comma-separated, from: {', '.join(MODES)}")
    parser.add_argument("--quick", action="store_true", help="a tiny grid: a dry run")
    parser.add_argument("--timeout", type=int, default=150,
                        help="seconds each way may take (default 150)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"markdown report (default {DEFAULT_OUT}), '-' for none")
    parser.add_argument("--append", action="store_true",
                        help="append the report to --out (after bench_gpu.py's)")
    parser.add_argument("--run-mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.n_jobs = args.n_jobs or (2 if args.quick else 8)
    args.modes = [m for m in args.modes.split(",") if m]
    if args.run_mode:  # one way, in this (fresh) process
        result = run_mode(args.run_mode, args.device, args.n_jobs, args.quick)
        args.json.write_text(json.dumps(result), encoding="utf-8")
        return
    start = time.perf_counter()
    old = args.out.read_text(encoding="utf-8") + "\n" if (
        args.append and str(args.out) != "-" and args.out.exists()) else ""

    def save(results):
        if str(args.out) != "-":
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(old + report(results, args, time.perf_counter() - start),
                                encoding="utf-8")

    results = run_all(args, lambda message: print(message, flush=True), save)
    print(report(results, args, time.perf_counter() - start))
    if str(args.out) != "-":
        print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
