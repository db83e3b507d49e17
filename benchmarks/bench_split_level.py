"""Where the level is the class, a split network scores at chance (``split_level``).

The data of ``tests/network/test_level.py``'s ``LEVELS``: the same sine in two classes
one unit apart in level, 96 recordings of one feature, 64 trained on and 32 held out.
Fits ``split_level=True`` for 30 and 100 epochs (no stopping rule) and the default
``split_level="auto"``, which reads these sequences as they are, and prints their
held-out accuracy: the figures of ``docs/sequence_data.rst`` ("The level beside the
shape"), ``docs/performance.rst`` and ``sklstm/data/level.py``.

Run from the repository root (about a minute)::

    OMP_NUM_THREADS=1 python benchmarks/bench_split_level.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # (the tests' data)

from sklstm import LSTMClassifier
from tests.network.test_level import LEVELS

X, y = LEVELS
train, test = slice(0, 64), slice(64, None)
for label, params in [("split, 30 epochs", dict(split_level=True, max_epochs=30, tol=None)),
                      ("split, 100 epochs", dict(split_level=True, max_epochs=100, tol=None)),
                      ("auto (defaults)", {})]:
    clf = LSTMClassifier(random_state=0, device="cpu", n_threads=1, **params)
    clf.fit(X[train], y[train])
    print(f"{label:<18} split_level_={clf.split_level_!s:<5} held-out accuracy "
          f"{clf.score(X[test], y[test]):.3f} ({len(X[test])} recordings)")
