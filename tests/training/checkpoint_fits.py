"""The data and settings of the checkpoint tests (tests/training/test_checkpoint*.py)."""

import json

import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 6, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int)
RAGGED = [rng.normal(size=(int(n), 2)).astype(np.float32) for n in rng.integers(3, 12, 60)]
Y_RAGGED = np.array([s[:, 0].sum() for s in RAGGED])
#: dropout and bucketing: the random streams must pick up where they stopped too
COMMON = dict(hidden_size=8, max_epochs=10, tol=None, dropout=0.3, random_state=0,
              n_threads=1)


def state_directory(directory):
    """The directory of the state a checkpoint holds: its state file names it."""
    return directory / json.loads((directory / "sklstm_fit.json").read_text())["files"]
