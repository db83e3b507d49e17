"""Time sklstm's ``fit`` on a GPU against a hand-written cuDNN loop doing the same work.

Both train :class:`sklstm.network.LSTMNetwork` (readout of the last step, as
``pooling="last"``) with fused Adam at the same learning rate on the same float32
data, with the same batch size and epochs:

* ``hand``: what a careful user writes for a GPU. The data are copied to the device
  once; every epoch draws a ``randperm`` on the device and gathers each batch there;
  per batch ``zero_grad`` / forward / loss / ``backward`` / ``step``, and no tensor
  is read on the host.
* ``sklstm``: ``LSTMClassifier(..., device=...).fit(X, y)`` on the numpy arrays
  (``pooling="last"``, ``downsample=1``, ``tol=None``: a fixed number of epochs).

Each side's *whole* fit is timed, from the numpy arrays to the trained model, with
``torch.cuda.synchronize()`` before the clock starts and before it stops (so the
host's copy of the data, the model's construction and sklstm's input validation
count too). Every configuration is first run once on each side (cuDNN's kernel
choice, the CUDA context: not timed); then ``--repeats`` pairs follow, the order
alternating within a pair, and the figure is the median of the per-pair ratios
sklstm/hand (a shared or throttling GPU hits both sides of a pair alike).

Syncs per batch: one more fit of each side runs under
``torch.cuda.set_sync_debug_mode("warn")`` from the start of its second training
batch to the end of its last, and every synchronizing call torch warns about in
that window is counted (and where it came from, listed in the report). The target
is 0 for sklstm (issue 19); the hand loop shows what the same work needs.

The sizes are those of the first GPU run (``../shared/gpu/2026-12-04-h200.md``,
section 3): small (hidden 128, 200 steps, batch 32, 8192 samples, 1 epoch), medium
(hidden 128, 200 steps, batch 256, 8192 samples, 3 epochs), large (hidden 256, 400
steps, batch 1024, 16384 samples, 3 epochs), 8 features, 2 classes.

Run from the repository root; on a GPU machine in one call (a few minutes on an
H200; ``benchmarks/gpu_speed.sh`` runs it with the CUDA tests of the loop, then
``benchmarks/bench_gpu_search.py``, which appends the timing of a 48-fit search with
processes, threads and CUDA MPS to the same report)::

    python benchmarks/bench_gpu.py                       # CUDA, all sizes
    python benchmarks/bench_gpu.py --device cpu --quick --out /tmp/gpu_speed.md

``--device cpu --quick`` is a dry run on the CPU (tiny sizes, two pairs, one torch
thread): it checks that the script works, and its report says that it holds no GPU
figure. The sync count is then "n/a" (``set_sync_debug_mode`` is CUDA's; the CPU count
of tensor reads is ``tests/training/test_host_sync.py``). Its fits take milliseconds,
so sklstm's fixed cost per ``fit`` (input validation, warm-up: ~10 ms) dominates the
ratio there; the GPU sizes take seconds.
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import skorch
import torch
from _machine import cpu_model  # benchmarks/_machine.py
from _same_network import check_same_network
from skorch.callbacks import Callback
from torch import nn

import sklstm
from sklstm import LSTMClassifier
from sklstm.network import LSTMNetwork
from sklstm.training.optimizers import optimizer_defaults

LR = 1e-3
N_CLASSES = 2
N_FEATURES = 8
DEFAULT_OUT = Path(__file__).parent / "results" / "gpu_speed.md"


@dataclass(frozen=True)
class Work:
    name: str
    hidden_size: int
    n_timesteps: int
    batch_size: int
    n_samples: int
    epochs: int


SIZES = (
    Work("small", 128, 200, 32, 8192, 1),
    Work("medium", 128, 200, 256, 8192, 3),
    Work("large", 256, 400, 1024, 16384, 3),
)


def quick(work):
    """The same shape of work, small enough for a CPU dry run."""
    return replace(work, hidden_size=work.hidden_size // 8, n_timesteps=work.n_timesteps // 20,
                   n_samples=max(4 * work.batch_size, work.n_samples // 32), epochs=1)


def make_data(work, seed=0):
    """Float32 sequences and int64 binary labels, the same for both sides."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(work.n_samples, work.n_timesteps, N_FEATURES)).astype(np.float32)
    return X, (X[:, -3:, 0].sum(axis=1) > 0).astype(np.int64)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# -- the window of a fit's training batches in which syncs are counted -----------------
class SyncWindow:
    """``set_sync_debug_mode("warn")`` from the 2nd training batch to the last; counts
    the warnings torch gives in it (a no-op off CUDA)."""

    def __init__(self, device, n_batches):
        self.enabled = device.type == "cuda"
        self.n_batches = n_batches
        self.batch = 0
        self.counted = 0  # batches in the window, once it closed
        self.where = collections.Counter()
        self._record = None

    def begin_batch(self):
        self.batch += 1
        if self.batch == 2 and self.enabled:
            self._record = warnings.catch_warnings(record=True)
            self._caught = self._record.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")

    def end_batch(self):
        if self.batch == self.n_batches:
            self.close()

    def close(self):
        if self._record is None:
            return
        torch.cuda.set_sync_debug_mode("default")
        self._record.__exit__(None, None, None)
        self._record = None
        self.counted = self.batch - 1
        for w in self._caught:
            if "synchroniz" in str(w.message):
                self.where[f"{Path(w.filename).name}:{w.lineno}"] += 1

    def per_batch(self):
        """Syncs per counted batch, or None off CUDA."""
        return sum(self.where.values()) / max(1, self.counted) if self.enabled else None


class WindowCallback(Callback):
    """Opens and closes a :class:`SyncWindow` around the first epoch's training batches."""

    def __init__(self, window):
        self.window = window

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.window.begin_batch()

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.window.end_batch()

    def on_epoch_end(self, net, **kwargs):
        self.window.close()
        self.window.n_batches = -1  # the first epoch only: no later batch reopens it


# -- the two sides ---------------------------------------------------------------------
def hand_network(work):
    """The network both sides train: the LSTM and a linear readout of its last step."""
    return LSTMNetwork(N_FEATURES, N_CLASSES, hidden_size=work.hidden_size, pooling="last")


def fit_hand(X, y, work, device, seed, window=None):
    """The hand-written loop, from the numpy arrays to the trained model; seconds."""
    synchronize(device)
    start = time.perf_counter()
    torch.manual_seed(seed)
    X_d, y_d = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    model = hand_network(work).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR,
                                 **optimizer_defaults(torch.optim.Adam, device, None))
    criterion = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(work.epochs):
        for idx in torch.randperm(len(X_d), device=device).split(work.batch_size):
            if window is not None and epoch == 0:
                window.begin_batch()
            optimizer.zero_grad()
            criterion(model(X_d[idx]), y_d[idx]).backward()
            optimizer.step()
            if window is not None and epoch == 0:
                window.end_batch()
    synchronize(device)
    return time.perf_counter() - start


def fit_sklstm(X, y, work, device, seed, window=None):
    """``LSTMClassifier.fit`` on the numpy arrays; seconds."""
    est = LSTMClassifier(
        hidden_size=work.hidden_size, batch_size=work.batch_size, max_epochs=work.epochs,
        lr=LR, optimizer="adam", pooling="last", downsample=1, tol=None,
        conv_channels=None, split_level=False,  # the hand loop's network: the LSTM alone
        device=str(device), random_state=seed,
        # on the CPU the hand loop's thread count (main sets it); on a GPU sklstm's own
        n_threads=torch.get_num_threads() if device.type == "cpu" else None,
        callbacks=None if window is None else [("sync_window", WindowCallback(window))])
    synchronize(device)
    start = time.perf_counter()
    est.fit(X, y)
    synchronize(device)
    seconds = time.perf_counter() - start
    check_same_network(est.net_.module_, hand_network(work))
    return seconds


SIDES = {"hand": fit_hand, "sklstm": fit_sklstm}


def bench(work, device, repeats, log):
    X, y = make_data(work)
    for fit in SIDES.values():  # warm-up, not timed
        fit(X, y, work, device, seed=0)
    times = {side: [] for side in SIDES}
    for r in range(repeats):
        order = list(SIDES) if r % 2 == 0 else list(reversed(SIDES))
        for side in order:
            times[side].append(SIDES[side](X, y, work, device, seed=r))
        log(f"  {work.name} pair {r + 1}/{repeats}: hand {times['hand'][-1]:.3f} s, "
            f"sklstm {times['sklstm'][-1]:.3f} s")
    ratios = [s / h for s, h in zip(times["sklstm"], times["hand"], strict=True)]
    n_batches = -(-work.n_samples // work.batch_size)
    syncs = {}
    for side, fit in SIDES.items():
        window = SyncWindow(device, n_batches)
        fit(X, y, work, device, seed=0, window=window)
        syncs[side] = window
    return {"work": work, "hand": statistics.median(times["hand"]),
            "sklstm": statistics.median(times["sklstm"]), "ratio": statistics.median(ratios),
            "ratios": ratios, "syncs": syncs, "n_batches": n_batches}


# -- the report ------------------------------------------------------------------------
def commit():
    """The checkout's commit: ``$SKLSTM_COMMIT`` if set (a GPU machine's copy of the
    checkout may have no .git), else git's, else "unknown"."""
    if os.environ.get("SKLSTM_COMMIT"):
        return os.environ["SKLSTM_COMMIT"]
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=Path(__file__).parent, timeout=10, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, cwd=Path(__file__).parent,
                               timeout=10).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def device_name(device):
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name}, {props.total_memory / 2**30:.0f} GiB"
    return f"CPU: {cpu_model()}"


def _syncs(window):
    per = window.per_batch()
    return "n/a" if per is None else f"{per:.2f}"


def report(results, device, args, took):
    dry_run = device.type != "cuda"
    lines = ["# GPU speed: sklstm's fit vs a hand-written cuDNN loop", ""]
    if dry_run:
        lines += ["**CPU DRY RUN: no GPU figure.** This file was written by "
                  f"`--device {device.type}`{' --quick' if args.quick else ''} to check "
                  "that the script runs; its times are a CPU's and its sizes are "
                  "reduced. Run the script on a GPU for the figures.", ""]
    lines += [
        f"Command (from the repository root, {time.strftime('%Y-%m-%d %H:%M %Z')}, took "
        f"{took / 60:.1f} min):", "", "```",
        "python " + " ".join(shlex.quote(a) for a in ["benchmarks/bench_gpu.py", *sys.argv[1:]]),
        "```", "",
        f"- device: {device_name(device)}",
        f"- torch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN "
        f"{torch.backends.cudnn.version()}), skorch {skorch.__version__}, sklstm "
        f"{sklstm.__version__}, Python {platform.python_version()}",
        f"- commit: {commit()}",
        "",
        "Whole fit (numpy arrays to trained model) between two `torch.cuda.synchronize()`; "
        f"median over {args.repeats} pairs (order alternating) of the per-pair ratio; "
        "*syncs/batch*: synchronizing calls that `torch.cuda.set_sync_debug_mode(\"warn\")` "
        "reported from the 2nd training batch of the first epoch to its last, per batch.",
        "",
        "| work | hidden | steps | batch | samples | epochs | batches/epoch | hand (s) | "
        "sklstm (s) | **sklstm/hand** | per pair | syncs/batch sklstm | syncs/batch hand |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        w = r["work"]
        lines.append(
            f"| {w.name} | {w.hidden_size} | {w.n_timesteps} | {w.batch_size} | "
            f"{w.n_samples} | {w.epochs} | {r['n_batches']} | {r['hand']:.3f} | "
            f"{r['sklstm']:.3f} | **{r['ratio']:.3f}** | "
            f"{min(r['ratios']):.2f}-{max(r['ratios']):.2f} | {_syncs(r['syncs']['sklstm'])} | "
            f"{_syncs(r['syncs']['hand'])} |")
    worst = max(r["ratio"] for r in results)
    lines += ["", f"sklstm/hand <= 1.05: **{'met' if worst <= 1.05 else 'not met'}** "
              f"(worst {worst:.3f}){' (CPU dry run: says nothing about a GPU)' if dry_run else ''}"]
    where = collections.Counter()
    for r in results:
        where.update(r["syncs"]["sklstm"].where)
    if where:
        lines += ["", "Where sklstm's fits synchronized in the counted batches (calls, all sizes):",
                  ""] + [f"- `{k}`: {n}" for k, n in where.most_common()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (a dry run)")
    parser.add_argument("--sizes", default="small,medium,large",
                        help="comma-separated, from: small, medium, large")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed pairs per size (default 5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="reduced sizes (hidden/8, steps/20, 1 epoch): a dry run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"markdown report (default {DEFAULT_OUT}), '-' for none")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (2 if args.quick else 5)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA device here; --device cpu --quick runs a dry run")
    if device.type == "cpu":
        # tiny steps on 2 threads of a shared CPU wait on each other (seconds, not
        # milliseconds, per fit): the dry run computes on one
        torch.set_num_threads(1)
    works = [w for w in SIZES if w.name in args.sizes.split(",")]
    if args.quick:
        works = [quick(w) for w in works]

    def log(message):
        print(message, flush=True)

    start = time.perf_counter()
    results = []
    for work in works:
        log(f"{work}")
        results.append(bench(work, device, args.repeats, log))
        r = results[-1]
        log(f"  -> sklstm/hand {r['ratio']:.3f}, syncs/batch sklstm "
            f"{_syncs(r['syncs']['sklstm'])}, hand {_syncs(r['syncs']['hand'])}")
    text = report(results, device, args, time.perf_counter() - start)
    print(text)
    if str(args.out) != "-":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
