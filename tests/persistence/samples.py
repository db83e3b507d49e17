"""Small data the persistence tests fit their models on."""

import numpy as np

_rng = np.random.default_rng(0)
#: 24 sequences of 6 steps and 2 features.
X3 = _rng.normal(size=(24, 6, 2)).astype(np.float32)
#: 24 sequences of 2 to 8 steps and 2 features.
RAGGED = [_rng.normal(size=(n, 2)) for n in _rng.integers(2, 9, size=24)]
