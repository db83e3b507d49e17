"""Epoch time and accuracy with and without length bucketing.

Sequences with lengths uniform in ``--min-len..--max-len`` are classified by an
:class:`~sklstm.LSTMClassifier` trained three times per repeat, with the same
model, seed and epochs:

* ``longest``: random batches, every batch padded to the longest sequence of
  the data set (what a fixed-width padded array costs; the padding waste the
  issue quotes, ~1.96x for lengths 10..500, is this one);
* ``bucketing=False``: random batches, each cut to its own longest sequence
  (for uniform lengths the longest of 32 is close to the longest overall);
* ``bucketing=True``: batches of similar length.

Padding never changes a result (each sequence is read at its own last step), so
only the computation spent on padded timesteps and the batch composition
differ.

Reported per setting: median training epoch time over all epochs of all
repeats, as wall-clock time and as process CPU time (the latter is what to
trust on a shared machine: torch runs single-threaded here, so CPU time is not
inflated by other processes waiting for the cores), the share of computed
timesteps that are padding, and held-out accuracy (mean and standard deviation
over repeats, each repeat a different ``random_state``).

Run from the repository root::

    python benchmarks/bench_bucketing.py

It prints a markdown table and writes it, with the command and the machine, to
``benchmarks/results/bucketing.md`` (``--append`` adds a section instead).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import sklearn
import torch
from skorch.callbacks import Callback
from torch.nn import functional as F

import sklstm
from sklstm import LSTMClassifier
from sklstm.data.batching import BatchLoader
from sklstm.data.tensors import SequenceDataset
from sklstm.data.timesteps import to_sequences
from sklstm.datasets import make_sequence_classification

RESULTS = Path(__file__).parent / "results" / "bucketing.md"
MODES = ("longest", False, True)  # baseline first
LABELS = {"longest": "padded to the longest sequence",
          False: "`bucketing=False` (cut to the batch's longest)",
          True: "`bucketing=True`"}


class PadToLongest(BatchLoader):
    """Random batches, each padded back to the data set's longest sequence.

    The baseline a fixed-width padded array gives; results stay those of the
    true lengths, only the computation grows.
    """

    def __iter__(self):
        width = self._base.X.shape[1]
        for X, y in super().__iter__():
            X["x"] = F.pad(X["x"], (0, 0, 0, width - X["x"].shape[1]))
            yield X, y


def fit(mode, X, y, **params):
    """Fit an LSTMClassifier in one of the three batching ``MODES``."""
    # (the LSTM alone, as the recorded figures: the classifier's default branch came later)
    clf = LSTMClassifier(bucketing=mode is True, **{"conv_channels": None, "lr": 1e-2, **params})
    if mode != "longest":
        return clf.fit(X, y)
    with mock.patch("sklstm.training.setup.BatchLoader", PadToLongest):
        return clf.fit(X, y)


class EpochCPUTime(Callback):
    """Record each epoch's process CPU time in the history as ``cpu_dur``."""

    def on_epoch_begin(self, net, **kwargs):
        self._start = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        net.history.record("cpu_dur", time.process_time() - self._start)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=1500)
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--min-len", type=int, default=10)
    parser.add_argument("--max-len", type=int, default=500)
    parser.add_argument("--hidden-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--gradient-clip", type=float, default=0.5,
                        help="clipping keeps 3-epoch runs on 500-step sequences stable")
    parser.add_argument("--repeats", type=int, default=10,
                        help="3-epoch accuracies scatter by +-0.14 over seeds: 5 repeats mislead")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (fixed, so timings are comparable)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="markdown file to write; '-' writes nothing")
    parser.add_argument("--append", metavar="TITLE",
                        help="add the table to --out as a section with this title")
    return parser.parse_args(argv)


def padding_share(X, y, batch_size, mode, seed=0):
    """Share of the timesteps of one training epoch that are padding."""
    est = LSTMClassifier()
    seqs = to_sequences(X, est, reset=True)
    loader_cls = PadToLongest if mode == "longest" else BatchLoader
    loader = loader_cls(SequenceDataset.from_sequences(seqs, y), batch_size,
                        shuffle=True, bucketing=mode is True, seed=seed)
    computed = real = 0
    for Xb, _ in loader:
        computed += Xb["x"].shape[0] * Xb["x"].shape[1]
        real += int(Xb["lengths"].sum())
    return 1 - real / computed


def run(args):
    torch.set_num_threads(args.threads)
    X, y = make_sequence_classification(
        n_samples=args.n_train + args.n_test, n_timesteps=args.max_len, n_features=3,
        variable_length=True, length_range=(args.min_len, args.max_len), random_state=0,
    )
    X_train, y_train = X[: args.n_train], y[: args.n_train]
    X_test, y_test = X[args.n_train:], y[args.n_train:]
    results = {mode: {"wall": [], "cpu": [], "cpu_by_repeat": [], "acc": []}
               for mode in MODES}
    # a first fit pays one-off imports (torch._dynamo) inside its first epoch
    fit("longest", X_train[:64], y_train[:64], hidden_size=4, max_epochs=1)
    for repeat in range(args.repeats):
        # rotate which setting goes first, so drifting machine load hits all
        for mode in MODES[repeat % 3:] + MODES[: repeat % 3]:
            clf = fit(
                mode, X_train, y_train,
                hidden_size=args.hidden_size, batch_size=args.batch_size,
                max_epochs=args.epochs, lr=args.lr, gradient_clip=args.gradient_clip,
                n_threads=args.threads, random_state=repeat,
                callbacks=[("cpu_time", EpochCPUTime())],
            )
            res = results[mode]
            res["wall"].extend(clf.history_[:, "dur"])
            res["cpu"].extend(clf.history_[:, "cpu_dur"])
            res["cpu_by_repeat"].append(np.median(clf.history_[:, "cpu_dur"]))
            res["acc"].append(clf.score(X_test, y_test))
            print(f"repeat {repeat} {mode}: "
                  f"epoch wall {np.round(clf.history_[:, 'dur'], 2).tolist()} s, "
                  f"accuracy {res['acc'][-1]:.3f}", file=sys.stderr, flush=True)
    for mode, res in results.items():
        res["padding"] = padding_share(X_train, y_train, args.batch_size, mode)
    return results


def table(results):
    base_wall = np.median(results["longest"]["wall"])
    base_cpu = np.median(results["longest"]["cpu"])
    lines = [
        "| batches | epoch wall time (s) | epoch CPU time (s) | speed-up (CPU) "
        "| padded timesteps | test accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        res = results[mode]
        wall, cpu = np.median(res["wall"]), np.median(res["cpu"])
        acc = np.asarray(res["acc"])
        # paired per repeat: the settings of a repeat ran back to back
        paired = (np.asarray(results["longest"]["cpu_by_repeat"])
                  / np.asarray(res["cpu_by_repeat"]))
        spread = (f" (per repeat {paired.min():.2f}..{paired.max():.2f})"
                  if mode != "longest" else "")
        lines.append(
            f"| {LABELS[mode]} | {wall:.2f} (x{base_wall / wall:.2f}) | {cpu:.2f} "
            f"| x{base_cpu / cpu:.2f}{spread} | {res['padding']:.0%} "
            f"| {acc.mean():.3f} ± {acc.std():.3f} |"
        )
    return "\n".join(lines)


def machine():
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs; "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"scikit-learn {sklearn.__version__}, sklstm {sklstm.__version__}"
    )


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    text = table(results)
    print(text)
    if str(args.out) != "-":
        command = "python benchmarks/bench_bucketing.py " + shlex.join(
            sys.argv[1:] if argv is None else argv
        )
        body = (
            f"{args.n_train} training / {args.n_test} test sequences of 3 features, "
            f"lengths uniform in {args.min_len}..{args.max_len}; LSTMClassifier "
            f"hidden_size={args.hidden_size}, batch_size={args.batch_size}, "
            f"lr={args.lr}, gradient_clip={args.gradient_clip}, {args.epochs} epochs, "
            f"{args.repeats} repeats "
            f"(random_state 0..{args.repeats - 1}), {args.threads} torch thread(s). "
            "Times are medians over all epochs of all repeats; speed-ups are against "
            "padding to the longest sequence (the per-repeat range pairs the runs of "
            "each repeat, which ran back to back); accuracy is mean ± standard "
            "deviation over repeats. CPU time is the measure to trust on a shared "
            "machine.\n\n"
            f"{text}\n\n"
            f"Command: `{command.strip()}`\n\n"
            f"Machine: {machine()}\n"
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.append:
            with args.out.open("a") as f:
                f.write(f"\n## {args.append}\n\n{body}")
        else:
            args.out.write_text(f"# Length bucketing: epoch time and accuracy\n\n{body}")
        print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
