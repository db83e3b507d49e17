"""Shared data of the tests of sklstm.data."""

import numpy as np
import pytest

from sklstm.data.store import SequenceStore


@pytest.fixture
def ragged(tmp_path):
    """Five sequences of two features, of 1 to 7 steps, and the store written of them."""
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 2)) for n in (3, 7, 1, 5, 4)]
    return seqs, SequenceStore.write(tmp_path / "s", iter(seqs))  # a generator is enough
