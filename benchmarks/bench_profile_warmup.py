"""``profile_batch_sizes``' peak memory on ragged data against a fit's, by route.

4000 float sequences of 50-500 steps and 3 features (57 padded widths),
``LSTMClassifier(hidden_size=16, downsample=1, conv_channels=None, random_state=0)``
on the CPU with one thread, at ``batch_size=32``. Each figure comes from a fresh
process (the resident set a CPU peak is read from keeps what earlier fits grew):

* *fit*: ``peak_memory_`` of a fit of one epoch on the whole data;
* *profile*: the ``peak_memory`` column of ``profile_batch_sizes`` at batch 32 (its
  warm-up: the longest batch, then a batch of every other padded width);
* *profile, longest only* (``--old``): the same with the warm-up on the longest batch
  alone, as before commit df32fcf (``_width_batches`` made to add no batch).

Routes: *native* (``torch.backends.mkldnn.enabled = False`` for the whole process:
torch's native kernels, as sklstm picks for a fit under ``max_memory`` on data of
many widths) and *onednn* (oneDNN with its default cache: what a fit and a profile
without ``max_memory`` run).

Run from the repository root, pinned to one core (~9 minutes with ``--old``, 3
rounds)::

    OMP_NUM_THREADS=1 python benchmarks/bench_profile_warmup.py --old --write
    OMP_NUM_THREADS=1 python benchmarks/bench_profile_warmup.py --n 1000 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
from _fresh_process import measured_in_fresh_process, median_range  # (this directory)

ROUTES = ("native", "onednn")
RESULTS = Path(__file__).parent / "results" / "profile_warmup.md"
MARKER = "## Notes"
BATCH = 32


def measure(what, route, n):
    """The peak memory in MiB of ``what`` ("fit", "profile" or "old") in this process."""
    import torch

    import sklstm

    torch.set_num_threads(1)
    if route == "native":
        torch.backends.mkldnn.enabled = False
    if what == "old":  # the warm-up before df32fcf: no batch of the other widths
        import sklstm.profiling._draw as draw

        draw._width_batches = lambda descending, lengths, batch_size, skip: (
            np.empty(0, dtype=descending.dtype))
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(t), 3)).astype(np.float32) for t in rng.integers(50, 501, n)]
    y = np.arange(n) % 2
    est = sklstm.LSTMClassifier(hidden_size=16, downsample=1, conv_channels=None,
                                random_state=0, device="cpu", n_threads=1,
                                batch_size=BATCH, max_epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (one epoch: convergence notes)
        if what == "fit":
            return est.fit(X, y).peak_memory_ / 2**20
        table = sklstm.profile_batch_sizes(est, X, y, batch_sizes=[BATCH])
    return float(table["peak_memory"].iloc[0]) / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="sequences")
    parser.add_argument("--rounds", type=int, default=3, help="processes per figure")
    parser.add_argument("--old", action="store_true",
                        help="also the warm-up on the longest batch alone")
    parser.add_argument("--routes", nargs="*", choices=ROUTES, default=list(ROUTES))
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(*json.loads(args.one))))
        return
    whats = ["fit", "profile", *(["old"] if args.old else [])]
    peaks = {(route, what): [] for route in args.routes for what in whats}
    for _ in range(args.rounds):  # interleaved: a shared machine's load shifts
        for key in peaks:
            peaks[key].append(measured_in_fresh_process(
                __file__, [key[1], key[0], args.n], env={"OMP_NUM_THREADS": "1"}))
    names = {"fit": "fit's peak_memory_", "profile": "profile's peak",
             "old": "profile's peak, longest batch only (before df32fcf)"}
    lines = ["| route | " + " | ".join(f"{names[w]} (MiB)" for w in whats) + " |",
             "|---" + "|--:" * len(whats) + "|"]
    for route in args.routes:
        cells = (median_range(peaks[(route, w)], "{:.1f}") for w in whats)
        lines.append(f"| {route} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        from _results_file import report_head, write_results

        text = (report_head("profile_batch_sizes' peak memory against a fit's, ragged data", argv)
                + f"{args.n:,} sequences of 50-500 steps, "
                f"3 features, batch {BATCH}, hidden 16, one thread; median (min-max) of "
                f"{args.rounds} fresh processes per cell.\n\n{table}\n")
        record = {f"{route} | {what}": values for (route, what), values in peaks.items()}
        write_results(RESULTS, text, MARKER, record)


if __name__ == "__main__":
    main()
