"""Host memory of a fit on ragged sequences in memory with one very long sequence.

``n`` token sequences of 50-150 ids (or float32 sequences of 2 features) and one of
``--longest`` steps, one epoch of ``LSTMClassifier(hidden_size=4, conv_channels=None)``
(``embedding_dim=8`` for tokens, ``downsample=1`` for values) on the CPU, in a fresh
process per case; prints the data's size, the growth of the process's peak resident
set during ``fit`` and the fit's time. Padding the whole data set to the longest
sequence costs ``n x longest`` steps; sklstm pads such data per batch
(:data:`sklstm.data.timesteps.PAD_INFLATION`).

Run from the repository root (to compare with another checkout, put it first on
``PYTHONPATH``)::

    python benchmarks/bench_ragged_padding.py                 # 2,000 and 20,000 sequences
    python benchmarks/bench_ragged_padding.py --n 2000 --kind values
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def measure(n, longest, kind):
    """One fit; returns the data's MiB, the peak RSS growth in MiB and seconds."""
    import sklstm

    rng = np.random.default_rng(0)
    lengths = [*rng.integers(50, 151, size=n), longest]
    if kind == "tokens":
        X = [rng.integers(1, 100, size=length) for length in lengths]
        estimator = sklstm.LSTMClassifier(embedding_dim=8, hidden_size=4, max_epochs=1,
                                          conv_channels=None, device="cpu")
    else:
        X = [rng.normal(size=(length, 2)).astype(np.float32) for length in lengths]
        estimator = sklstm.LSTMClassifier(hidden_size=4, max_epochs=1, downsample=1,
                                          conv_channels=None, device="cpu")
    y = np.arange(len(X)) % 2
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    estimator.fit(X, y)
    seconds = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB on Linux
    return {"data_mib": sum(x.nbytes for x in X) / 2**20, "grown_mib": grown / 1024,
            "seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[2000, 20000])
    parser.add_argument("--longest", type=int, default=20000)
    parser.add_argument("--kind", choices=["tokens", "values"], default="tokens")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # in a fresh process: no earlier fit's peak hides this one's
        print(json.dumps(measure(*json.loads(args.one))))
        return
    import sklstm

    print(f"sklstm {sklstm.__version__} at {sklstm.__file__}")
    print("| sequences | longest | kind | data (MiB) | peak RSS growth (MiB) | fit (s) |")
    print("|---:|---:|---|---:|---:|---:|")
    for n in args.n:
        out = subprocess.run([sys.executable, "-W", "ignore", __file__, "--one",
                              json.dumps([n, args.longest, args.kind])],
                             capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {n + 1} | {args.longest} | {args.kind} | {row['data_mib']:.1f} | "
              f"{row['grown_mib']:.0f} | {row['seconds']:.1f} |")


if __name__ == "__main__":
    main()
