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
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
from _fit_speed_cases import IMPLS, SIZES, make_data
from _fit_speed_hand import fit_hand
from _fit_speed_nets import fit_sklstm, fit_skorch
from _fit_speed_paired import bench_paired
from _fit_speed_report import report
from _results_file import command_line, write_results

# defaults that keep the full grid (both sizes, 4 batch sizes, 1 thread count)
# around 12 minutes on a 2-core machine
# (short fits, many repeats: finer interleaving spreads noise better)
DEFAULT_EPOCHS = {"small": 1, "medium": 1}
DEFAULT_REPEATS = {"small": 10, "medium": 3}
# at least this many batches in lockstep, in whole epochs (medium: one epoch)
DEFAULT_PAIRED = {"small": 400, "medium": 1}
MARKER = "<!-- hand-written below; bench_fit_speed.py keeps it -->"


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
    command = command_line(argv)

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
        written = write_results(
            out, text, MARKER, {"command": command, "started": started, "results": results})
        log(f"wrote {written[0]} and {written[1]}")


if __name__ == "__main__":
    main()
