"""Does ``batch_size=16, accumulation_steps=4`` train like ``batch_size=64`` with
``LSTMClassifier``'s default convolutional branch?

The branch's batch normalization takes its statistics per micro-batch, so with it the
three ways to an effective batch of 64, ``(batch_size, accumulation_steps)`` in
``(64, 1)``, ``(16, 4)`` and ``(32, 2)``, are three different fits; without it
(``conv_channels=None``) they are one fit up to float rounding. For each data seed,
two classification generators of :mod:`sklstm.datasets` (three shapes at any position
in 120 steps; a narrow or wide bump of the same area in 150 steps), 128 series to
train on and the rest (72) to score: ``LSTMClassifier(random_state=seed,
device="cpu")`` at its defaults but the branch and the batch. Prints, as a Markdown
table, the held-out accuracy and the largest difference of a held-out
``predict_proba`` from that of ``(64, 1)``.

Run from the repository root::

    python benchmarks/bench_conv_accumulation.py                 # 10 epochs, seeds 0-2
    python benchmarks/bench_conv_accumulation.py --epochs 0      # the defaults' own stop
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from sklstm import LSTMClassifier
from sklstm.datasets import make_shape_in_series, make_subtle_shape

DATA = {
    "shapes anywhere": lambda seed: make_shape_in_series(200, 120, 3, position="anywhere",
                                                         random_state=seed),
    "subtle bump": lambda seed: make_subtle_shape(200, 150, random_state=seed),
}
#: (batch_size, accumulation_steps): one effective batch of 64, the first the reference.
SIZES = ((64, 1), (16, 4), (32, 2))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10,
                        help="max_epochs with tol=None; 0: the defaults' own stopping rule")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    # (the defaults warn where a fit of 10 epochs has not converged: expected here)
    warnings.filterwarnings("ignore", category=UserWarning)
    stop = {} if args.epochs == 0 else {"max_epochs": args.epochs, "tol": None}
    print("| data | seed | conv_channels | batch_size, accumulation_steps | accuracy "
          "| max abs predict_proba difference from (64, 1) | epochs | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, make in DATA.items():
        for seed in args.seeds:
            X, y = make(seed)
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, train_size=128, random_state=seed, stratify=y)
            for conv_channels in ("auto", None):
                reference = None
                for batch_size, steps in SIZES:
                    start = time.perf_counter()
                    clf = LSTMClassifier(random_state=seed, device="cpu", n_threads=1,
                                         conv_channels=conv_channels, batch_size=batch_size,
                                         accumulation_steps=steps, **stop)
                    clf.fit(X_train, y_train)
                    seconds = time.perf_counter() - start
                    proba = clf.predict_proba(X_test)
                    reference = proba if reference is None else reference
                    print(f"| {name} | {seed} | {conv_channels} | {batch_size}, {steps} | "
                          f"{clf.score(X_test, y_test):.3f} | "
                          f"{np.abs(proba - reference).max():.2g} | {clf.n_epochs_} | "
                          f"{seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
