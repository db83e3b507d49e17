"""Data larger than memory: host memory against data size, and the cost of streaming.

Token data as in the seed question (millions of articles of a few hundred ids): a
:class:`~sklstm.data.store.SequenceStore` of int32 ids, 250-500 per sequence, written
once per size at 0.1x-10x of a memory limit ``--limit`` that every measuring process
enforces on itself with ``resource.setrlimit(RLIMIT_DATA)`` (Linux counts private
writable memory against it: the heap and anonymous mappings, not the file-backed
pages of a memory-mapped store). A fit that held the data in memory would die with
MemoryError past 1x.

Each measurement runs in a fresh process that samples ``RssAnon`` of
``/proc/self/status`` every 5 ms and reports the peak minus its level just before the
call (torch and the model are loaded first):

* ``fit``: one epoch of ``LSTMClassifier(embedding_dim=16, hidden_size=32,
  batch_size=256)`` on the store;
* ``grid``: ``GridSearchCV(..., cv=3)`` of the same estimator over the store (at the
  ``--grid-sizes``: three fits and three scorings each);
* ``epoch``: at 1x the limit, the same epoch on the store and on the same data held in
  memory (a list of arrays, no limit), interleaved ``--repeats`` times, each in a fresh
  process at sklstm's defaults (which set glibc's malloc thresholds for CPU fits:
  :mod:`sklstm.resources.host_malloc`), again with :data:`GLIBC_DEFAULTS` in the
  environment of both (glibc's own settings), and then all in one process (after one
  full fit); median ratios and the minor page faults of each epoch;
* ``--memmap-3d``: instead of all that, the issue's float32 case: one epoch of
  ``LSTMClassifier(hidden_size=32, batch_size=256)`` on an ``np.load(mmap_mode="r")``
  array of 80,000 x 200 x 8 (488 MiB), RssAnon growth printed (no limit set).

Run from the repository root::

    python benchmarks/bench_data_scale.py --limit 192MiB            # ~35 min on 2 cores
    python benchmarks/bench_data_scale.py --limit 32MiB --sizes 0.1 1 5 --quick
    python benchmarks/bench_data_scale.py --limit 192MiB --sizes --grid-sizes  # epochs only

(the epoch times want a machine doing nothing else; the memory figures do not)

and it writes ``benchmarks/results/data_scale.md`` (``--out -`` prints it instead).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _machine import cpu_model

MIN_LEN, MAX_LEN, VOCAB = 250, 500, 20_000
#: the environment in which sklstm leaves glibc's malloc settings alone: torch's CPU
#: LSTM (oneDNN) takes a training workspace larger than glibc's largest heap block
#: (32 MiB) every step, which glibc then maps afresh and page-faults in again every
#: step (sklstm.resources.host_malloc)
GLIBC_DEFAULTS = {"SKLSTM_HOST_MALLOC": "default"}
# (the LSTM alone, as the recorded figures (LSTMClassifier's default branch came later))
ESTIMATOR = dict(embedding_dim=16, hidden_size=32, batch_size=256, seq_len=100, max_epochs=1,
                 tol=None, conv_channels=None, lr=1e-2,
                 device="cpu", random_state=0, downsample=1, verbose=0)


def _bytes(text):
    units = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def write_tokens(path, n_bytes, seed=0):
    """A store of int32 token ids holding about ``n_bytes``, written a chunk at a time;
    the labels (whether the mean id of a sequence's first 20 is above the middle)."""
    from sklstm.data.store import SequenceStore

    rng = np.random.default_rng(seed)
    n = max(30, int(n_bytes / (4 * (MIN_LEN + MAX_LEN) / 2)))
    labels = np.empty(n, dtype=np.int64)

    def sequences():
        for i in range(n):
            seq = rng.integers(1, VOCAB, size=rng.integers(MIN_LEN, MAX_LEN + 1),
                               dtype=np.int32)
            labels[i] = int(seq[:20].mean() > VOCAB / 2)
            yield seq

    store = SequenceStore.write(path, sequences(), overwrite=True)
    np.save(f"{path}-y.npy", labels)
    return store


class RssAnonPeak:
    """Peak ``RssAnon`` (bytes) while the block runs, sampled every 5 ms on a thread.

    Make it before the process limits its memory: the sampling thread's stack and
    state are allocated when it starts (under a small RLIMIT_DATA a thread started
    later dies before it runs, and ``Thread.start`` waits for it for ever).
    """

    def __init__(self):
        self.start = self.peak = _rss_anon()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def __enter__(self):
        self.start = self.peak = _rss_anon()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_anon())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_anon())

    @property
    def growth(self):
        return self.peak - self.start


def _status(field):
    """A field of ``/proc/self/status`` in bytes (Linux only)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def _rss_anon():
    return _status("RssAnon")


def measure(spec):
    """One measurement in this (fresh) process; its figures as a dict."""
    import warnings

    import torch
    from sklearn.model_selection import GridSearchCV

    from sklstm import LSTMClassifier
    from sklstm.data.store import SequenceStore
    from sklstm.resources.host_malloc import why_not_tuned

    warnings.simplefilter("ignore")
    if spec["kind"] == "memmap_3d":
        return _memmap_3d()
    if spec["kind"] == "paired_epochs":
        return _paired_epochs(spec)
    torch.set_num_threads(spec["threads"])
    store = SequenceStore.open(spec["path"])
    y = np.load(spec["path"] + "-y.npy")
    X = store.load() if spec["in_memory"] else store
    # the one-time costs (torch's training and inference kernels, the allocator's
    # arenas) before the limit
    warm = 2 * ESTIMATOR["batch_size"]  # full batches: the fit's kernels and buffers
    LSTMClassifier(**ESTIMATOR).fit(store[:warm], y[:warm]).score(store[:warm], y[:warm])
    memory = RssAnonPeak()
    if spec["limit"]:
        limit = _status("VmData") + spec["limit"]
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    est = LSTMClassifier(**ESTIMATOR)
    start, faults = time.perf_counter(), _minor_faults()
    with memory:
        if spec["kind"] == "grid":
            GridSearchCV(est, {"hidden_size": [ESTIMATOR["hidden_size"]]}, cv=3).fit(X, y)
        else:
            est.fit(X, y)
    return {"growth": memory.growth, "seconds": time.perf_counter() - start,
            "epoch": est.history_[-1]["dur"] if spec["kind"] != "grid" else None,
            "faults": _minor_faults() - faults,
            "n_samples": len(store), "data_bytes": store.nbytes,
            "malloc": why_not_tuned() or "set by sklstm"}


def _minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _paired_epochs(spec):
    """Epochs on the store and on the same sequences in memory, interleaved in this one
    process (the same allocator and kernel state for both): the reading's own cost."""
    import torch

    from sklstm import LSTMClassifier
    from sklstm.data.store import SequenceStore

    torch.set_num_threads(spec["threads"])
    store = SequenceStore.open(spec["path"])
    y = np.load(spec["path"] + "-y.npy")
    in_memory = store.load()
    LSTMClassifier(**ESTIMATOR).fit(in_memory, y)  # the first full fit of the process
    pairs = []
    for _ in range(spec["repeats"]):
        mapped = LSTMClassifier(**ESTIMATOR).fit(store, y).history_[-1]["dur"]
        memory = LSTMClassifier(**ESTIMATOR).fit(in_memory, y).history_[-1]["dur"]
        pairs.append((mapped, memory))
    return {"pairs": pairs}


def _memmap_3d():
    """One epoch on a float32 memory-mapped 80,000 x 200 x 8 array; RssAnon growth."""
    import torch

    from sklstm import LSTMClassifier

    torch.set_num_threads(1)
    path = Path(tempfile.mkdtemp(prefix="sklstm-3d-")) / "X.npy"
    try:
        X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                      shape=(80_000, 200, 8))
        rng = np.random.default_rng(0)
        for start in range(0, len(X), 5000):  # written a block at a time
            X[start:start + 5000] = rng.normal(size=(5000, 200, 8))
        X.flush()
        del X
        X = np.load(path, mmap_mode="r")
        y = (np.arange(len(X)) % 2).astype(np.int64)
        params = dict(hidden_size=32, batch_size=256, max_epochs=1, tol=None, device="cpu",
                      random_state=0, downsample=1)
        LSTMClassifier(**params).fit(X[:512], y[:512])  # the one-time costs first
        with RssAnonPeak() as memory:
            est = LSTMClassifier(**params).fit(X, y)
        return {"growth": memory.growth, "data_bytes": int(X.nbytes),
                "epoch": est.history_[-1]["dur"]}
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def _run(spec, env=None):
    out = subprocess.run([sys.executable, __file__, "--measure", json.dumps(spec)],
                         capture_output=True, text=True, check=False,
                         env={**os.environ, **(env or {})})
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mib(n):
    return f"{n / 2**20:,.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", default="64MiB", help="the memory limit (RLIMIT_DATA "
                        "above the warmed-up process)")
    parser.add_argument("--sizes", type=float, nargs="*", default=[0.1, 0.5, 1, 2, 5, 10])
    parser.add_argument("--grid-sizes", type=float, nargs="*", default=[1, 2, 5])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-epochs", action="store_true", help="memory only: no epoch "
                        "timing at 1x")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="one repeat, for a try")
    parser.add_argument("--dir", default=None, help="where the stores go (default: a "
                        "temporary directory, removed after)")
    parser.add_argument("--out", default="benchmarks/results/data_scale.md")
    parser.add_argument("--memmap-3d", action="store_true", help="only the float32 "
                        "memory-mapped 80,000 x 200 x 8 case")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure))))
        return
    if args.memmap_3d:
        print(json.dumps(_run({"kind": "memmap_3d"})))
        return
    limit = _bytes(args.limit)
    repeats = 1 if args.quick else args.repeats
    root = Path(args.dir or tempfile.mkdtemp(prefix="sklstm-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    rows, grids, epochs, paired = [], [], {"sklstm": [], "glibc": []}, []
    try:
        timed = set() if args.no_epochs else {1.0}
        for factor in sorted(set(args.sizes) | timed | set(args.grid_sizes)):
            path = str(root / f"tokens-{factor:g}x")
            write_tokens(path, factor * limit)
            base = {"path": path, "threads": args.threads, "in_memory": False}
            if factor in args.sizes:
                rows.append((factor, _run({**base, "kind": "fit", "limit": limit})))
                print(factor, rows[-1], file=sys.stderr)
            if factor in args.grid_sizes:
                grids.append((factor, _run({**base, "kind": "grid", "limit": limit})))
                print("grid", grids[-1], file=sys.stderr)
            if factor in timed:
                for _ in range(repeats):  # interleaved: the machine's drift hits both
                    for malloc, env in (("sklstm", None), ("glibc", GLIBC_DEFAULTS)):
                        mapped = _run({**base, "kind": "fit", "limit": 0}, env)
                        memory = _run({**base, "kind": "fit", "limit": 0,
                                       "in_memory": True}, env)
                        epochs[malloc].append((mapped, memory))
                        print("epoch", malloc, mapped, memory, file=sys.stderr)
                paired = _run({**base, "kind": "paired_epochs", "repeats": repeats})
                paired = paired.get("pairs", [])
            shutil.rmtree(path, ignore_errors=True)
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)
    text = _report(args, limit, rows, grids, epochs, paired)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)


def _report(args, limit, rows, grids, epochs, paired):
    import sklearn
    import torch

    import sklstm

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False,
                            cwd=Path(__file__).parent).stdout.strip()
    lines = [
        "# Data larger than memory: host memory and epoch time",
        "",
        f"`python benchmarks/bench_data_scale.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
        "",
        f"- machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()}; torch "
        f"{torch.__version__}, scikit-learn {sklearn.__version__}, sklstm "
        f"{sklstm.__version__} ({commit})",
        f"- data: SequenceStore of int32 token ids, {MIN_LEN}-{MAX_LEN} per sequence; "
        f"memory limit {_mib(limit)} MiB of RLIMIT_DATA above the warmed-up process",
        f"- estimator: `LSTMClassifier({', '.join(f'{k}={v!r}' for k, v in ESTIMATOR.items())})`",
        "- growth: peak RssAnon during the call minus RssAnon before it (file-backed "
        "pages of the store are not anonymous memory)",
    ]
    for title, measured in (("fit", rows), ("3-fold GridSearchCV", grids)):
        if measured:
            lines += ["", f"{title}:", "",
                      "| data / limit | sequences | data (MiB) | RssAnon growth (MiB) "
                      "| growth / data | time (s) |", "|---:" * 6 + "|",
                      *(_size_row(factor, row) for factor, row in measured)]
    for malloc, pairs in epochs.items():
        lines += _epoch_table(
            "Epoch at 1x the limit (no limit set), memory-mapped store vs the same "
            "sequences in memory (a list of arrays), each in a fresh process, "
            "interleaved; malloc settings: "
            + ("sklstm's defaults (mallopt: M_MMAP_THRESHOLD 256 MiB, M_TRIM_THRESHOLD "
               "512 MiB)" if malloc == "sklstm" else
               f"glibc's defaults ({', '.join(f'{k}={v}' for k, v in GLIBC_DEFAULTS.items())})")
            + ":",
            [(m["epoch"], r["epoch"], m["faults"], r["faults"]) for m, r in pairs
             if "error" not in m and "error" not in r])
    lines += _epoch_table("The same epochs interleaved in one process, after one full fit "
                          "in memory (the same allocator and kernel state for both):",
                          [(m, r, None, None) for m, r in paired])
    return "\n".join(lines) + "\n"


def _size_row(factor, row):
    if "error" in row:
        return f"| {factor:g}x | | | failed: {row['error']} | | |"
    return (f"| {factor:g}x | {row['n_samples']:,} | {_mib(row['data_bytes'])} | "
            f"{_mib(row['growth'])} | {row['growth'] / row['data_bytes']:.1%} | "
            f"{row['seconds']:.1f} |")


def _epoch_table(title, pairs):
    """Markdown lines: (store, in memory) epoch seconds and minor page faults, the
    ratios and the median."""
    pairs = [p for p in pairs if p[0] and p[1]]
    if not pairs:
        return []
    faults = pairs[0][2] is not None
    head = "| repeat | store (s) | in memory (s) | ratio |" + (
        " store: minor faults | in memory: minor faults |" if faults else "")
    return ["", title, "", head, "|---:" * (head.count("|") - 1) + "|",
            *(f"| {i + 1} | {m:.2f} | {r:.2f} | {m / r:.3f} |"
              + (f" {fm:,} | {fr:,} |" if faults else "")
              for i, (m, r, fm, fr) in enumerate(pairs)),
            "", f"Median ratio: {statistics.median(m / r for m, r, *_ in pairs):.3f}."]


if __name__ == "__main__":
    main()
