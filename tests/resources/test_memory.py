"""PeakMemory measures what a block allocates, and a fit's peak_memory_ follows the batch."""

import os

import numpy as np
import pytest
import torch

from sklstm import LSTMClassifier
from sklstm.resources import PeakMemory

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"),
                                reason="the CPU peak is read from Linux's /proc")
MiB = 2**20


@pytest.mark.parametrize("size_mib", [256, 32, 128])  # a large one first: freed memory
def test_peak_is_the_known_allocation(size_mib):        # must not hide the next ones
    with PeakMemory(torch.device("cpu")) as memory:
        block = torch.ones(size_mib * MiB // 4)  # float32, every page written
    del block
    # within 5 %: the block itself plus the interpreter's small change
    assert size_mib * MiB <= memory.peak <= 1.05 * size_mib * MiB


def test_a_four_times_larger_batch_reads_larger():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 200, 8)).astype(np.float32)
    y = np.arange(256) % 2

    def peak(batch_size):
        return LSTMClassifier(hidden_size=64, batch_size=batch_size, max_epochs=1,
                              random_state=0, n_threads=1, device="cpu").fit(X, y).peak_memory_

    peak(16)  # the first fit of a process also pays one-off imports and kernel set-up
    small, large = peak(16), peak(64)
    # activations grow with the batch (about 2.7x measured: the weights do not)
    assert large > 2 * small > 0
