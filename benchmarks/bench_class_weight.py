"""Imbalanced classes: ``LSTMClassifier()`` unweighted against ``class_weight="balanced"``.

Two classes told apart by when an event comes (noisy series of 40 steps and 2
features, a bump at a third of the way or at two thirds), one series in ten of the
rare class: 400 series to train on, 200 new ones to score. For each data seed, both
fits at the defaults otherwise (``random_state=0``, the CPU); prints accuracy,
balanced accuracy (the mean of the per-class recalls), ``converged_`` and epochs as a
Markdown table.

Run from the repository root::

    python benchmarks/bench_class_weight.py                # data seeds 10-13
    python benchmarks/bench_class_weight.py --seeds 10 11
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from sklstm import LSTMClassifier


def make_data(seed, n=600, rare=0.1):
    """``(X, y)``: ``n`` series, a share ``rare`` of them of class 1."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rare).astype(int)
    X = rng.normal(size=(n, 40, 2))
    centre = (y + 1) * 40 / 3
    X[:, :, 0] += 2.0 * np.exp(-0.5 * ((np.arange(40) - centre[:, None]) / 2.0) ** 2)
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[10, 11, 12, 13])
    args = parser.parse_args(argv)
    print("| data seed | rare in training | class_weight | accuracy | balanced accuracy "
          "| converged_ | epochs | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for seed in args.seeds:
        X, y = make_data(seed)
        for class_weight in (None, "balanced"):
            start = time.perf_counter()
            clf = LSTMClassifier(class_weight=class_weight, random_state=0, device="cpu")
            clf.fit(X[:400], y[:400])
            seconds = time.perf_counter() - start
            balanced = balanced_accuracy_score(y[400:], clf.predict(X[400:]))
            print(f"| {seed} | {y[:400].sum()} of 400 | {class_weight} | "
                  f"{clf.score(X[400:], y[400:]):.3f} | {balanced:.3f} | {clf.converged_} | "
                  f"{len(clf.history_)} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
