"""The accuracies ``make_token_sentiment``'s Notes quote: an LSTM against a bag of words.

For each case (data seed, sentences, length range, vocabulary), the sentences are
split 3:1 (``train_test_split(test_size=0.25, random_state=0)``) and scored on the
held-out quarter by ``LSTMClassifier(embedding_dim=16, hidden_size=32,
random_state=0, device="cpu")`` at its defaults otherwise (trained until its loss
stops improving) and by a bag of words (``LogisticRegression`` on word counts).
Writes a Markdown table to ``benchmarks/results/dataset_notes.md`` (and a JSON record
beside it); notes written by hand under its marker line are kept.

Run from the repository root (about 10 minutes on one core)::

    OMP_NUM_THREADS=1 python benchmarks/bench_dataset_notes.py
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from _machine import cpu_model
from _results_file import command_line, write_results
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sklstm import LSTMClassifier
from sklstm.datasets import make_token_sentiment

OUT = Path(__file__).resolve().parent / "results" / "dataset_notes.md"
MARKER = "<!-- notes written by hand below are kept on rerun -->"
# (label, make_token_sentiment's arguments): the defaults on two seeds, then one
# thing changed at a time on seed 0
CASES = [
    ("defaults", {"random_state": 0}),
    ("defaults", {"random_state": 1}),
    ("up to 60 tokens", {"length_range": (5, 60), "random_state": 0}),
    ("1000 sentences", {"n_samples": 1000, "random_state": 0}),
    ("vocab_size=500", {"vocab_size": 500, "random_state": 0}),
]


def score_case(kwargs):
    """The held-out accuracies of the LSTM and of the bag of words, and the LSTM's epochs."""
    X, y = make_token_sentiment(**kwargs)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    lstm = LSTMClassifier(embedding_dim=16, hidden_size=32, random_state=0, device="cpu")
    lstm.fit(X_train, y_train)
    vocab_size = kwargs.get("vocab_size", 50)
    counts = [np.array([np.bincount(x, minlength=vocab_size) for x in part])
              for part in (X_train, X_test)]
    bag = LogisticRegression(max_iter=2000).fit(counts[0], y_train)
    return {"lstm": float(lstm.score(X_test, y_test)), "epochs": int(lstm.n_epochs_),
            "bag_of_words": float(bag.score(counts[1], y_test))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="the Markdown file to write")
    args = parser.parse_args(argv)
    rows, record = [], []
    for label, kwargs in CASES:
        start = time.perf_counter()
        scores = score_case(kwargs)
        seconds = time.perf_counter() - start
        record.append({"case": label, "kwargs": {k: list(v) if isinstance(v, tuple) else v
                                                 for k, v in kwargs.items()},
                       **scores, "seconds": seconds})
        rows.append(f"| {label} | {kwargs['random_state']} | {scores['lstm']:.2f} "
                    f"| {scores['bag_of_words']:.2f} | {scores['epochs']} | {seconds:.0f} |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "# make_token_sentiment: LSTM against a bag of words (held-out quarter)",
        "",
        f"`OMP_NUM_THREADS=1 {command_line(argv)}` on {datetime.date.today()}, "
        f"torch {torch.__version__}, scikit-learn {sklearn.__version__}, {cpu_model()}.",
        "",
        "| case | data seed | LSTM accuracy | bag of words | LSTM epochs | seconds |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ])
    write_results(args.out, text, MARKER, {"cases": record})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
