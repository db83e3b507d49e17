"""Time sklstm's ``fit`` against a hand-written PyTorch loop and plain skorch.

The three implementations train the same module class
(:class:`sklstm.network.LSTMNetwork`) on the same float32 data, with Adam at the
same learning rate, the same batch size, the same number of epochs and the same
torch thread count:

* ``hand``: what a careful user writes. Tensors are built once; every epoch
  draws one ``randperm`` and slices the prebuilt tensors by index; per batch
  ``zero_grad`` / forward / loss / ``backward`` / ``step``, nothing else (no
  per-batch ``.item()``).
* ``sklstm``: ``LSTMClassifier(...).fit(X, y)`` on the numpy arrays, with
  ``pooling="last"`` and ``downsample=1`` (the network the other two train; the
  estimator's default readout, ``"concat"``, computes more per step).
* ``skorch``: ``skorch.NeuralNetClassifier`` with the same module, default
  ``DataLoader`` (per-sample fetch and collate), ``train_split=None``.

Only ``fit`` is timed, never ``predict``. The figure compared is the median,
over repeats, of the mean epoch time of one fit: for ``hand`` it is measured
around the epoch loop; for sklstm and skorch it is skorch's per-epoch ``dur``
(``EpochTimer``, from ``on_epoch_begin`` to ``on_epoch_end``). The whole
``fit`` is timed as well, and ``fit - sum(dur)`` is reported as setup
(input validation, tensor building, net initialization).

Every configuration first runs each implementation once on a slice of the data
(warm-up, not timed). Repeats then interleave the three implementations, with
the order rotated each repeat, so slow phases of a shared machine hit all three
alike.

On a busy machine whole epochs still drift by more than the 5% being checked,
so a second, paired measurement follows: sklstm (then skorch) trains with its
training iterator wrapped so that one step of the hand loop runs between every
two of its batches (no callback is added to the net). The two then alternate
every few milliseconds, and the per-batch medians compare like with like. The
paired measurement also runs sklstm's ``SequenceNet`` in skorch's own epoch loop
(:class:`SkorchLoopNet`: skorch's ``notify``, ``run_single_epoch`` with its
``.item()`` per batch, train mode set every step): *stock/fast* is what sklstm's
loop (``sklstm/training/loop.py``) buys.

Run from the repository root, e.g.::

    python benchmarks/bench_fit_speed.py                     # the full grid
    python benchmarks/bench_fit_speed.py --sizes small --batch-sizes 64 \\
        --repeats 3 --epochs 1 --out /tmp/quick.md
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shlex
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import skorch
import torch
from _machine import cpu_model  # benchmarks/_machine.py
from _same_network import check_same_network
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn
from torch.utils.data import DataLoader

import sklstm
import sklstm.training.setup as net_setup
from sklstm import LSTMClassifier
from sklstm.data import BatchLoader
from sklstm.network import LSTMNetwork
from sklstm.resources.host_malloc import step_buffers_on_heap
from sklstm.training import SequenceNet
from sklstm.training.optimizers import optimizer_defaults

IMPLS = ("hand", "sklstm", "skorch")


class SkorchLoopNet(SequenceNet):
    """sklstm's net (its train step) in skorch's own epoch loop and bookkeeping."""

    run_single_epoch, notify = NeuralNet.run_single_epoch, NeuralNet.notify
    get_loss, on_batch_begin = NeuralNet.get_loss, NeuralNet.on_batch_begin

    def in_training_mode(self, training=True):
        return False  # skorch sets the mode at every step


LR = 1e-3
ADAM_KWARGS = optimizer_defaults(torch.optim.Adam, torch.device("cpu"), None)
N_CLASSES = 2


@dataclass(frozen=True)
class Size:
    name: str
    n_samples: int
    n_timesteps: int
    n_features: int
    hidden_size: int


SIZES = {
    "small": Size("small", 20_000, 10, 4, 16),
    "medium": Size("medium", 4_000, 100, 8, 128),
}
# defaults that keep the full grid (both sizes, 4 batch sizes, 1 thread count)
# around 12 minutes on a 2-core machine
# (short fits, many repeats: finer interleaving spreads noise better)
DEFAULT_EPOCHS = {"small": 1, "medium": 1}
DEFAULT_REPEATS = {"small": 10, "medium": 3}
# at least this many batches in lockstep, in whole epochs (medium: one epoch)
DEFAULT_PAIRED = {"small": 400, "medium": 1}
MARKER = "<!-- hand-written below; bench_fit_speed.py keeps it -->"


def make_data(size, seed=0):
    """Float32 sequences and int64 binary labels, identical for all three."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(size.n_samples, size.n_timesteps, size.n_features))
    X = X.astype(np.float32)
    y = (X[:, -3:, 0].sum(axis=1) > 0).astype(np.int64)
    return X, y


class CpuEpochTimer(Callback):
    """Records the process CPU time of each epoch as ``cpu_dur`` (next to
    skorch's wall-clock ``dur``). It implements no per-batch hook, but plain
    skorch still calls its inherited empty ones: three calls per batch."""

    def on_epoch_begin(self, net, **kwargs):
        self.start_ = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        net.history.record("cpu_dur", time.process_time() - self.start_)


def hand_network(size):
    """The network all three train (``LSTMNetwork``'s defaults: the last step's readout)."""
    return LSTMNetwork(size.n_features, N_CLASSES, hidden_size=size.hidden_size)


# -- the three implementations ---------------------------------------------------
# Each returns (whole fit wall seconds, [epoch wall seconds], [epoch CPU seconds]).
def hand_steps(X, y, size, batch_size, seed):
    """The hand-written loop as a generator: one optimizer step per ``next``,
    ``True`` after the last step of an epoch. Tensors are built once, a
    ``randperm`` per epoch, index slicing, zero_grad/forward/backward/step."""
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    torch.manual_seed(seed)
    model = hand_network(size)
    # the same optimizer settings as sklstm's fit (fused Adam where torch has it)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, **ADAM_KWARGS)
    criterion = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    model.train()
    while True:
        batches = torch.randperm(len(X_t), generator=generator).split(batch_size)
        for i, idx in enumerate(batches):
            xb, yb = X_t[idx], y_t[idx]
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            yield i == len(batches) - 1


def fit_hand(X, y, size, batch_size, epochs, seed):
    """Hand-written loop, timed per epoch (under the malloc settings of a CPU fit, so
    that the loops, not glibc's thresholds, are compared: sklstm.resources.host_malloc)."""
    start = time.perf_counter()
    steps = hand_steps(X, y, size, batch_size, seed)
    epoch_times, cpu_times = [], []
    with step_buffers_on_heap(torch.device("cpu")):
        for _ in range(epochs):
            t0, c0 = time.perf_counter(), time.process_time()
            while not next(steps):
                pass
            epoch_times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
    return time.perf_counter() - start, epoch_times, cpu_times


class Lockstep:
    """Paired timing: one hand-loop step between every two batches of a net.

    The net's training iterator is wrapped (sklstm: a ``BatchLoader``
    subclass; skorch: its ``DataLoader``), so no callback is added to the net.
    A net's batch is everything from the end of one hand step to the net asking
    for its next batch: fetching the batch, hooks, train step, history.
    """

    active = None  # the instance the wrapped iterators report to

    def __init__(self, steps):
        self.steps = steps
        self.net_wall, self.net_cpu, self.hand_wall, self.hand_cpu = [], [], [], []

    def wrap(self, batches):
        mark = time.perf_counter(), time.process_time()
        for batch in batches:
            yield batch
            wall, cpu = time.perf_counter(), time.process_time()
            self.net_wall.append(wall - mark[0])
            self.net_cpu.append(cpu - mark[1])
            next(self.steps)
            mark = time.perf_counter(), time.process_time()
            self.hand_wall.append(mark[0] - wall)
            self.hand_cpu.append(mark[1] - cpu)


class LockstepBatchLoader(BatchLoader):
    def __iter__(self):
        return Lockstep.active.wrap(super().__iter__())


class LockstepDataLoader:
    """skorch's default ``iterator_train`` (a torch DataLoader), wrapped."""

    def __init__(self, dataset, **kwargs):
        self.loader = DataLoader(dataset, **kwargs)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        return Lockstep.active.wrap(self.loader)


def fit_sklstm(X, y, size, batch_size, epochs, seed, threads):
    est = LSTMClassifier(
        hidden_size=size.hidden_size, batch_size=batch_size, max_epochs=epochs, lr=LR,
        optimizer="adam", n_threads=threads, device="cpu", random_state=seed,
        # the network the other two train (LSTMNetwork's defaults): the estimator's
        # default readout is "concat" (last, max and mean), which costs more per step
        pooling="last", downsample=1, tol=None, conv_channels=None, split_level=False,
        callbacks=[("cpu_timer", CpuEpochTimer())],
    )
    start = time.perf_counter()
    est.fit(X, y)
    whole = time.perf_counter() - start
    check_same_network(est.net_.module_, hand_network(size))
    history = est.net_.history
    return whole, list(history[:, "dur"]), list(history[:, "cpu_dur"])


def fit_skorch(X, y, size, batch_size, epochs, seed, **kwargs):
    torch.manual_seed(seed)
    net = NeuralNetClassifier(
        LSTMNetwork,
        module__n_inputs=size.n_features,
        module__n_outputs=N_CLASSES,
        module__hidden_size=size.hidden_size,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        **{f"optimizer__{k}": v for k, v in ADAM_KWARGS.items()},
        lr=LR,
        batch_size=batch_size,
        max_epochs=epochs,
        train_split=None,
        iterator_train__shuffle=True,
        device="cpu",
        verbose=0,
        callbacks=[("cpu_timer", CpuEpochTimer())],
        **kwargs,
    )
    start = time.perf_counter()
    net.fit(X, y)
    whole = time.perf_counter() - start
    return whole, list(net.history[:, "dur"]), list(net.history[:, "cpu_dur"])


def run_one(impl, X, y, size, batch_size, epochs, seed, threads):
    gc.collect()
    if impl == "hand":
        return fit_hand(X, y, size, batch_size, epochs, seed)
    if impl == "sklstm":
        return fit_sklstm(X, y, size, batch_size, epochs, seed, threads)
    return fit_skorch(X, y, size, batch_size, epochs, seed)


# -- one configuration -------------------------------------------------------------
def bench_config(size, batch_size, epochs, repeats, threads, paired_batches, log):
    torch.set_num_threads(threads)
    X, y = make_data(size)
    n_warm = min(len(X), max(2 * batch_size, 512))
    for impl in IMPLS:  # warm-up, not timed
        run_one(impl, X[:n_warm], y[:n_warm], size, batch_size, 1, 0, threads)
    runs = {impl: [] for impl in IMPLS}
    for r in range(repeats):
        order = IMPLS[r % 3:] + IMPLS[:r % 3]
        for impl in order:
            runs[impl].append(run_one(impl, X, y, size, batch_size, epochs, r, threads))
        log(f"    repeat {r + 1}/{repeats}: " + "  ".join(
            f"{impl} {statistics.fmean(runs[impl][-1][1]):.3f}s"
            f" (cpu {statistics.fmean(runs[impl][-1][2]):.3f}s)" for impl in IMPLS))
    result = summarize(size, batch_size, epochs, repeats, threads, runs)
    if paired_batches:
        result.update(bench_paired(X, y, size, batch_size, threads, paired_batches, log))
    return result


def bench_paired(X, y, size, batch_size, threads, n_pairs, log):
    """sklstm and skorch each in lockstep with the hand loop, batch by batch.

    Alternating at the batch level (milliseconds apart) cancels the slow drifts
    of a shared machine that whole-epoch timings cannot. Reports the median per
    batch of each side, over at least ``n_pairs`` batches.
    """
    n_batches = -(-len(X) // batch_size)
    epochs = -(-n_pairs // n_batches)
    out = {"paired_epochs": epochs, "paired_batches": epochs * n_batches}
    for impl in ("sklstm", "sklstm_stock", "skorch"):
        lock = Lockstep.active = Lockstep(hand_steps(X, y, size, batch_size, seed=1))
        gc.collect()
        if impl.startswith("sklstm"):
            # the estimator builds its loader and net itself: swap the classes it uses
            net_setup.BatchLoader = LockstepBatchLoader
            if impl == "sklstm_stock":
                net_setup.SequenceNet = SkorchLoopNet
            try:
                fit_sklstm(X, y, size, batch_size, epochs, 1, threads)
            finally:
                net_setup.BatchLoader = BatchLoader
                net_setup.SequenceNet = SequenceNet
        else:
            fit_skorch(X, y, size, batch_size, epochs, 1,
                       iterator_train=LockstepDataLoader)
        Lockstep.active = None
        med = {k: statistics.median(getattr(lock, k))
               for k in ("net_wall", "net_cpu", "hand_wall", "hand_cpu")}
        out[f"paired_{impl}_us"] = med["net_wall"] * 1e6
        out[f"paired_hand_us_{impl}"] = med["hand_wall"] * 1e6
        out[f"paired_{impl}_ratio"] = med["net_wall"] / med["hand_wall"]
        out[f"paired_{impl}_cpu_ratio"] = med["net_cpu"] / med["hand_cpu"]
        # means keep what medians drop: rare costs such as garbage collection
        out[f"paired_{impl}_mean_cpu_ratio"] = (
            statistics.fmean(lock.net_cpu) / statistics.fmean(lock.hand_cpu))
    # each side against its own hand loop, which ran beside it: the machine's drift
    # between the two runs cancels
    out["paired_stock_gain"] = out["paired_sklstm_stock_ratio"] / out["paired_sklstm_ratio"]
    log(f"    paired ({out['paired_batches']} batches): sklstm/hand "
        f"{out['paired_sklstm_ratio']:.3f} (cpu {out['paired_sklstm_cpu_ratio']:.3f}, "
        f"stock loop {out['paired_sklstm_stock_ratio']:.3f}, "
        f"cpu mean {out['paired_sklstm_mean_cpu_ratio']:.3f}), skorch/hand "
        f"{out['paired_skorch_ratio']:.3f} (cpu {out['paired_skorch_cpu_ratio']:.3f}, "
        f"cpu mean {out['paired_skorch_mean_cpu_ratio']:.3f})")
    return out


def summarize(size, batch_size, epochs, repeats, threads, runs):
    epoch = {impl: [statistics.fmean(e) for _, e, _ in runs[impl]] for impl in IMPLS}
    cpu = {impl: [statistics.fmean(c) for _, _, c in runs[impl]] for impl in IMPLS}
    setup = {impl: [w - sum(e) for w, e, _ in runs[impl]] for impl in IMPLS}
    med = {impl: statistics.median(epoch[impl]) for impl in IMPLS}
    med_cpu = {impl: statistics.median(cpu[impl]) for impl in IMPLS}
    # ratios within one repeat (the three ran back to back) show the spread
    per_repeat = [s / h for s, h in zip(epoch["sklstm"], epoch["hand"], strict=True)]
    n_batches = -(-size.n_samples // batch_size)
    return {
        "size": size.name, "batch_size": batch_size, "threads": threads,
        "epochs": epochs, "repeats": repeats, "n_batches": n_batches,
        "hand": med["hand"], "sklstm": med["sklstm"], "skorch": med["skorch"],
        "sklstm_ratio": med["sklstm"] / med["hand"],
        "skorch_ratio": med["skorch"] / med["hand"],
        "sklstm_ratio_min": min(per_repeat), "sklstm_ratio_max": max(per_repeat),
        "sklstm_cpu_ratio": med_cpu["sklstm"] / med_cpu["hand"],
        "skorch_cpu_ratio": med_cpu["skorch"] / med_cpu["hand"],
        "hand_spread": spread(epoch["hand"]),
        "overhead_us": (med["sklstm"] - med["hand"]) / n_batches * 1e6,
        "sklstm_setup": statistics.median(setup["sklstm"]),
        "skorch_setup": statistics.median(setup["skorch"]),
        "hand_setup": statistics.median(setup["hand"]),
        "raw": epoch, "raw_cpu": cpu,
    }


def spread(values):
    """(max - min) / median, a crude noise gauge."""
    return (max(values) - min(values)) / statistics.median(values)


# -- reporting ---------------------------------------------------------------------
def table(results):
    head = (
        "| size | threads | batch | batches/epoch | epochs x repeats | hand (s/epoch) "
        "| sklstm (s/epoch) | skorch (s/epoch) | sklstm/hand | skorch/hand "
        "| sklstm/hand per repeat | sklstm/hand CPU | sklstm setup (s) |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    rows = []
    for r in results:
        rows.append(
            f"| {r['size']} | {r['threads']} | {r['batch_size']} | {r['n_batches']} "
            f"| {r['epochs']} x {r['repeats']} | {r['hand']:.3f} | {r['sklstm']:.3f} "
            f"| {r['skorch']:.3f} | **{r['sklstm_ratio']:.3f}** | {r['skorch_ratio']:.2f} "
            f"| {r['sklstm_ratio_min']:.2f}-{r['sklstm_ratio_max']:.2f} "
            f"| {r['sklstm_cpu_ratio']:.3f} | {r['sklstm_setup']:.3f} |"
        )
    return head + "\n".join(rows) + "\n"


def paired_table(results):
    rows = [r for r in results if "paired_batches" in r]
    if not rows:
        return ""
    head = (
        "| size | threads | batch | batches paired | hand (us/batch) | sklstm (us/batch) "
        "| sklstm/hand | sklstm/hand CPU | sklstm/hand CPU mean "
        "| stock loop/hand | stock/fast | skorch (us/batch) "
        "| skorch/hand | skorch/hand CPU |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    lines = [
        f"| {r['size']} | {r['threads']} | {r['batch_size']} | {r['paired_batches']} "
        f"| {r['paired_hand_us_sklstm']:.0f} | {r['paired_sklstm_us']:.0f} "
        f"| **{r['paired_sklstm_ratio']:.3f}** | {r['paired_sklstm_cpu_ratio']:.3f} "
        f"| {r['paired_sklstm_mean_cpu_ratio']:.3f} "
        f"| {r['paired_sklstm_stock_ratio']:.3f} | {r['paired_stock_gain']:.3f} "
        f"| {r['paired_skorch_us']:.0f} | {r['paired_skorch_ratio']:.2f} "
        f"| {r['paired_skorch_cpu_ratio']:.2f} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def verdict(results, key):
    rows = [r for r in results if key in r]
    if not rows:
        return "n/a"
    worst = max(rows, key=lambda r: r[key])
    met = all(r[key] <= 1.05 for r in rows)
    return (f"**{'met' if met else 'not met'}** (worst {worst[key]:.3f}: {worst['size']}, "
            f"batch {worst['batch_size']}, {worst['threads']} thread(s))")


def machine():
    return (
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores\n"
        f"- Python {platform.python_version()}, torch {torch.__version__}, "
        f"skorch {skorch.__version__}, sklstm {sklstm.__version__}, "
        f"numpy {np.__version__}\n"
        f"- load average at start: {load_average()}\n"
    )


def load_average():
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def report(results, command, started, elapsed):
    sizes = sorted({r["size"] for r in results}, key=list(SIZES).index)
    size_lines = "\n".join(
        f"- {s}: hidden {SIZES[s].hidden_size}, {SIZES[s].n_timesteps} timesteps, "
        f"{SIZES[s].n_features} features, {SIZES[s].n_samples} samples"
        for s in sizes
    )
    paired = paired_table(results)
    text = (
        "# Fit speed: sklstm vs a hand-written PyTorch loop vs plain skorch\n\n"
        f"Command (run from the repository root, {started}, took {elapsed / 60:.1f} min):\n\n"
        f"```\n{command}\n```\n\n"
        f"Machine:\n\n{machine()}\n"
        f"Models (`sklstm.network.LSTMNetwork`, 1 layer, 2 classes, Adam lr={LR}, "
        f"float32, CPU):\n\n{size_lines}\n\n"
        "## Whole epochs\n\n"
        "Seconds per epoch: the median over repeats of each fit's mean epoch time "
        "(wall clock; hand: around its epoch loop, sklstm and skorch: skorch's `dur`). "
        "*sklstm/hand per repeat*: range of the ratio within single repeats, where the "
        "three ran back to back, a gauge of machine noise. *sklstm/hand CPU*: the "
        "same ratio in process CPU time. *sklstm setup*: the whole `fit` minus its "
        "epochs (input validation, tensors, net initialization).\n\n"
        + table(results)
        + f"\nsklstm/hand <= 1.05 (whole epochs): {verdict(results, 'sklstm_ratio')}\n"
    )
    if paired:
        text += (
            "\n## Paired, batch by batch\n\n"
            "sklstm (or skorch) trains with its training iterator wrapped so that one "
            "hand-loop step runs between every two of its batches: the two alternate "
            "every few milliseconds, and slow phases of a shared machine hit both "
            "alike. No callback is added. Per-batch medians (wall clock, and CPU "
            "time); the sklstm/skorch side is everything from handing out one batch "
            "to asking for the next (fetching it, hooks, train step, history). "
            "*CPU mean*: ratio of mean CPU times, which keeps the rare costs (garbage "
            "collection) that medians drop. *stock loop*: sklstm's `SequenceNet` in "
            "skorch's own epoch loop and hooks (`SkorchLoopNet`: an `.item()` per batch); "
            "*stock/fast*: (stock loop/hand) / (sklstm/hand), the gain of sklstm's loop.\n\n"
            + paired
            + f"\nsklstm/hand <= 1.05 (paired): {verdict(results, 'paired_sklstm_ratio')}\n"
        )
    return text


def parse_per_size(text, defaults, name):
    """``"3"`` (every size) or ``"small=5,medium=3"``."""
    if text is None:
        return dict(defaults)
    if "=" not in text:
        return dict.fromkeys(defaults, int(text))
    out = dict(defaults)
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key not in SIZES:
            raise SystemExit(f"--{name}: unknown size {key!r}")
        out[key] = int(value)
    return out


def int_list(text):
    return [int(v) for v in text.split(",")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="small,medium",
                        help="comma-separated, from: " + ", ".join(SIZES))
    parser.add_argument("--batch-sizes", type=int_list, default=[16, 64, 256, 1024])
    parser.add_argument("--epochs", default=None,
                        help="epochs per fit: N, or per size as small=2,medium=1 "
                             f"(default {DEFAULT_EPOCHS})")
    parser.add_argument("--repeats", default=None,
                        help="timed fits per implementation: N, or per size "
                             f"(default {DEFAULT_REPEATS})")
    parser.add_argument("--threads", type=int_list, default=[1],
                        help="torch thread counts, comma-separated (default 1)")
    parser.add_argument("--paired-batches", default=None,
                        help="time at least this many batches (in whole epochs) in lockstep "
                             "with the hand loop, 0 to skip: N, or per size "
                             f"(default {DEFAULT_PAIRED})")
    parser.add_argument("--out", default="benchmarks/results/fit_speed.md",
                        help="markdown report to write ('-' for none); text after a "
                             f"line {MARKER!r} in an existing file is kept")
    args = parser.parse_args(argv)
    sizes = [SIZES[s] for s in args.sizes.split(",")]
    epochs = parse_per_size(args.epochs, DEFAULT_EPOCHS, "epochs")
    repeats = parse_per_size(args.repeats, DEFAULT_REPEATS, "repeats")
    paired = parse_per_size(args.paired_batches, DEFAULT_PAIRED, "paired-batches")
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(
        sys.argv[1:] if argv is None else argv)])

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    warnings.filterwarnings("ignore")
    started = time.strftime("%Y-%m-%d %H:%M")
    t0 = time.perf_counter()
    results = []
    for threads in args.threads:
        for size in sizes:
            for batch_size in args.batch_sizes:
                log(f"{size.name} batch {batch_size}, {threads} thread(s), "
                    f"{epochs[size.name]} epoch(s) x {repeats[size.name]} repeats")
                results.append(bench_config(
                    size, batch_size, epochs[size.name], repeats[size.name], threads,
                    paired[size.name], log))
    text = report(results, command, started, time.perf_counter() - t0)
    print(text)
    if args.out != "-":
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        old = out.read_text() if out.exists() else ""
        kept = "\n" + MARKER + old.partition(MARKER)[2] if MARKER in old else ""
        out.write_text(text + kept)
        out.with_suffix(".json").write_text(json.dumps(
            {"command": command, "started": started, "results": results}, indent=1))
        log(f"wrote {out} and {out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
