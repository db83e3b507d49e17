"""A profiled fit's network is the one a fit on the whole data builds (the token case
of ``sklstm/profiling/_whole_data.py`` and ``docs/memory_and_throughput.rst``).

400 sequences of 10 token ids drawn from 1 to 5,000, one in 100 starting with the id
50,000 (a vocabulary of 50,001 ids for ``vocab_size=None``);
``profile_batch_sizes(LSTMClassifier(embedding_dim=64, hidden_size=8, device="cpu",
n_threads=1), X, y, batch_sizes=[8, 32])``: the peak memory of each batch size, in a
fresh process. ``--before DIR`` measures the package in DIR as well (a copy of
``sklstm`` from another commit, put first on ``PYTHONPATH``), e.g. that of 51b91de's
parent, whose profiled fits sized the embedding by the ids of their few samples::

    git archive 51b91de^ sklstm | tar -x -C /tmp/before

Run from the repository root (under a minute)::

    OMP_NUM_THREADS=1 python benchmarks/bench_profile_whole_data.py --before /tmp/before
"""

import argparse
import json
import warnings

import numpy as np
from _fresh_process import measured_in_fresh_process


def one():
    """The profile's peak memory at each batch size, in MB."""
    from sklstm import LSTMClassifier, profile_batch_sizes

    rng = np.random.default_rng(0)
    X = rng.integers(1, 5001, size=(400, 10))
    X[::100, 0] = 50_000
    y = np.arange(400) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the profile's own notes: not measured here)
        profile = profile_batch_sizes(
            LSTMClassifier(embedding_dim=64, hidden_size=8, device="cpu", n_threads=1,
                           random_state=0), X, y, batch_sizes=[8, 32])
    return {str(b): peak / 1e6 for b, peak in zip(profile["batch_size"],
                                                   profile["peak_memory"], strict=True)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a directory holding another commit's sklstm")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(one()))
        return
    for label, package in [("now", None)] + ([("before", args.before)] if args.before
                                              else []):
        peaks = measured_in_fresh_process(__file__, [], package=package,
                                          env={"OMP_NUM_THREADS": "1"})
        print(f"{label}: peak memory " + ", ".join(
            f"{peak:.1f} MB at batch {b}" for b, peak in peaks.items()), flush=True)


if __name__ == "__main__":
    main()
