"""Does ``LSTMClassifier``'s default convolutional branch help on token ids?

``conv_channels="auto"`` (LSTM-FCN's branch, 64/128/64 channels) was chosen on numeric
shape tasks (``bench_small_data.py``); on token sentences it makes the fit 4-5x slower
(``bench_token_speed.py``). Here it is scored: sentences of
:func:`sklstm.datasets.make_token_sentiment`, ``LSTMClassifier(embedding_dim=16,
random_state=seed, device="cpu")`` at its defaults otherwise, with the branch
(*branch*: ``conv_channels=64``, i.e. ``(64, 128, 64)`` as ``"auto"`` built it on token
ids until it built none there, with ``conv_kernel_sizes=(5, 5, 3)``: a named branch's
kernels must fit the shortest sentence, 5 ids, where ``"auto"`` read zeros past it with
8) against ``conv_channels=None``, held-out accuracy and whole-fit time per seed (data
and model seeded alike). Settings: *default* (the generator's defaults,
3,000 sentences: 2,000 to train, 1,000 to score) and *fewer* (1,500 sentences: 1,000
to train, 500 to score; the same vocabulary and lengths). Prints a Markdown table, a
row per fit as it ends, then the means and ranges.

Run from the repository root, single-threaded (fits take 0.5 to 8 minutes; ~35 minutes in all)::

    OMP_NUM_THREADS=1 python benchmarks/bench_token_conv.py
    OMP_NUM_THREADS=1 python benchmarks/bench_token_conv.py --settings default --seeds 0
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from sklstm import LSTMClassifier
from sklstm.datasets import make_token_sentiment

SETTINGS = {  # name: (make_token_sentiment arguments, test sentences)
    "default": (dict(n_samples=3000), 1000),
    "fewer": (dict(n_samples=1500), 500),
}
#: arm -> conv_channels and conv_kernel_sizes
BRANCHES = {"branch": (64, (5, 5, 3)), "none": (None, (8, 5, 3))}


def run(setting, branch, seed):
    """Held-out accuracy, fit seconds, epochs and the branch chosen for one fit."""
    kwargs, n_test = SETTINGS[setting]
    X, y = make_token_sentiment(**kwargs, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=n_test, random_state=seed, stratify=y)
    channels, kernels = BRANCHES[branch]
    clf = LSTMClassifier(embedding_dim=16, conv_channels=channels,
                         conv_kernel_sizes=kernels, random_state=seed, device="cpu")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes: the score is the figure
        clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return clf.score(X_test, y_test), seconds, clf.n_epochs_, clf.conv_channels_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| setting | conv_channels | seed | accuracy | fit (s) | epochs |")
    print("|---|---|---|---|---|---|")
    results = {}
    for setting in args.settings:
        for seed in args.seeds:
            for branch in BRANCHES:  # interleaved: the machine's drift hits both alike
                acc, seconds, epochs, chosen = run(setting, branch, seed)
                results.setdefault((setting, branch), []).append((acc, seconds))
                print(f"| {setting} | {branch} {chosen} | {seed} | {acc:.3f} | "
                      f"{seconds:.1f} | {epochs} |", flush=True)
    print("\n| setting | conv_channels | accuracy mean (min-max) | fit s mean (min-max) |")
    print("|---|---|---|---|")
    for (setting, branch), rows in results.items():
        acc, sec = np.array(rows).T
        print(f"| {setting} | {branch} | {acc.mean():.3f} ({acc.min():.3f}-{acc.max():.3f})"
              f" | {sec.mean():.1f} ({sec.min():.1f}-{sec.max():.1f}) |")


if __name__ == "__main__":
    main()
