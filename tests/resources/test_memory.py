"""PeakMemory measures what a block allocates, and a fit's peak_memory_ follows the batch."""

import gc
import os

import numpy as np
import pytest
import torch

from sklstm import LSTMClassifier
from sklstm.resources import PeakMemory
from sklstm.resources.memory_budget import MemoryBudget, MemoryBudgetExceeded

from ..settings import requires_cuda

linux_peak = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"),
                                reason="the CPU peak is read from Linux's /proc")
MiB = 2**20
rng = np.random.default_rng(0)
X = rng.normal(size=(256, 200, 8)).astype(np.float32)
Y = np.arange(256) % 2


def _fit_peak(batch_size, device):
    return LSTMClassifier(hidden_size=64, batch_size=batch_size, max_epochs=1, random_state=0,
                          n_threads=1, device=device).fit(X, Y).peak_memory_


@linux_peak
@pytest.mark.parametrize("size_mib", [256, 32, 128])  # a large one first: freed memory
def test_peak_is_the_known_allocation(size_mib):        # must not hide the next ones
    with PeakMemory(torch.device("cpu")) as memory:
        block = torch.ones(size_mib * MiB // 4)  # float32, every page written
    del block
    # within 5 %: the block itself plus the interpreter's small change
    assert size_mib * MiB <= memory.peak <= 1.05 * size_mib * MiB


@linux_peak
def test_a_measurement_entered_again_starts_afresh():
    memory = PeakMemory(torch.device("cpu"))
    with memory:
        block = torch.ones(128 * MiB // 4)
        del block
        memory.restart(keep=True)  # (as a fit's step over its budget: the peak counts)
    assert memory.peak >= 0.95 * 128 * MiB
    with memory:  # the 128 MiB were the last block's, not this one's
        block = torch.ones(8 * MiB // 4)
    del block
    assert 8 * MiB <= memory.peak <= 16 * MiB


@linux_peak
def test_a_measurement_inside_another_does_not_cut_the_outer_one_short():
    """The peak is the process's: a measurement around a fit (which measures itself)
    read only what came after the fit's start, 73 MiB of a 400 MiB peak."""
    cpu = torch.device("cpu")
    with PeakMemory(cpu) as outer:
        block = torch.ones(128 * MiB // 4)
        del block
        with PeakMemory(cpu) as inner:
            inner.restart(keep=False)  # (a trial step's: forgotten by this one only)
    assert outer.peak >= 0.95 * 128 * MiB and inner.peak < 16 * MiB


@requires_cuda
def test_on_cuda_a_measurement_inside_another_does_not_cut_the_outer_one_short():
    cuda = torch.device("cuda")
    with PeakMemory(cuda) as outer:
        block = torch.ones(128 * MiB // 4, device="cuda")
        del block
        with PeakMemory(cuda):
            pass
    assert outer.peak >= 128 * MiB


@linux_peak
def test_pages_of_a_mapped_file_read_meanwhile_are_no_growth(tmp_path):
    """A store's data read from disk come into the resident set as file pages, which the
    kernel reclaims at will: counted, a fit on data larger than memory, whose pages
    were evicted since its checking pass, grew by the data it read (122 MiB against
    12 MiB of its own) and max_memory shrank it to one sample, then refused it."""
    path = tmp_path / "data.npy"
    np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(64 * MiB // 4,))[:] = 1
    values = np.load(path, mmap_mode="r")
    with PeakMemory(torch.device("cpu")) as memory:
        budget = MemoryBudget(32 * MiB, memory)
        assert values.sum(dtype=np.float64) == 64 * MiB // 4  # every page read
        budget.check()  # 64 MiB of file pages: within a budget of 32
        block = torch.ones(48 * MiB // 4)  # memory of the process's own
        with pytest.raises(MemoryBudgetExceeded):
            budget.check()
    del block, values
    assert 48 * MiB <= memory.peak <= 56 * MiB


@linux_peak
def test_a_four_times_larger_batch_reads_larger():
    _fit_peak(16, "cpu")  # the first fit of a process also pays one-off imports and kernels
    small, large = _fit_peak(16, "cpu"), _fit_peak(64, "cpu")
    # activations grow with the batch (about 2.7x measured: the weights do not)
    assert large > 2 * small > 0


@requires_cuda
@pytest.mark.parametrize("size_mib", [256, 32])
def test_cuda_peak_is_the_known_allocation_on_top_of_what_the_process_holds(size_mib):
    # on CUDA the peak is torch's allocated tensor memory on the device, everything the
    # process holds there included (no baseline is subtracted, unlike the CPU's)
    gc.collect()
    gc.disable()  # no other test's tensor is freed in between
    try:
        held = torch.cuda.memory_allocated()
        with PeakMemory(torch.device("cuda")) as memory:
            block = torch.ones(size_mib * MiB // 4, device="cuda")
        del block
    finally:
        gc.enable()
    assert memory.peak == held + size_mib * MiB  # (whole 512-byte blocks: exact)


@requires_cuda
def test_on_cuda_a_four_times_larger_batch_reads_larger():
    held = torch.cuda.memory_allocated()  # other tests' tensors count in both fits
    small, large = _fit_peak(16, "cuda") - held, _fit_peak(64, "cuda") - held
    # the data on the device and the weights are the same in both; cuDNN's saved
    # activations grow with the batch (not measured on a GPU: a bound well below 4x)
    assert large > 1.5 * small > 0
