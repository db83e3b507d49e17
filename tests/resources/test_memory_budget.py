"""Memory budgets: parsing max_memory, and a budget reading what peak_memory_ reads."""

import sys

import numpy as np
import pytest
import torch

from sklstm.resources import PeakMemory
from sklstm.resources.device import fits_on_device
from sklstm.resources.memory_budget import (
    MemoryBudget,
    MemoryBudgetExceeded,
    available_memory,
    parse_memory,
)


@pytest.mark.parametrize(("value", "expected"), [
    (1, 1), (np.int64(2048), 2048), ("2GiB", 2 * 2**30), ("512 MB", 512 * 10**6),
    ("1.5e3", 1500), ("64kib", 64 * 1024), ("3 b", 3), (" 7 TB ", 7 * 10**12), (None, None),
])
def test_parse_memory(value, expected):
    assert parse_memory(value) == expected


@pytest.mark.parametrize(("value", "error", "message"), [
    ("lots", ValueError, "is not a memory size"),
    ("2 GiBs", ValueError, "is not a memory size"),
    ("-1GB", ValueError, "is not a memory size"),
    ("0MB", ValueError, "must be a positive size"),
    (0, ValueError, "must be a positive size"),
    (float("nan"), ValueError, "must be a positive size"),
    (True, TypeError, "must be a number of bytes or a string"),
    ([1], TypeError, "must be a number of bytes or a string"),
])
def test_parse_memory_refuses(value, error, message):
    with pytest.raises(error, match=message):
        parse_memory(value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_cpu_budget_sees_what_peak_memory_sees_and_restarts():
    with PeakMemory(torch.device("cpu")) as memory:
        # sizes well above what other tests leave in a worker process (a few MB)
        budget = MemoryBudget(200 * 2**20, memory)
        budget.check()  # nothing allocated yet
        block = torch.ones(100 * 2**20)  # 400 MiB
        with pytest.raises(MemoryBudgetExceeded):
            budget.check()
        del block
        budget.restart(keep=True)
        budget.check()  # freed and restarted: within the budget again
    assert memory.peak >= 0.95 * 400 * 2**20  # the step over the budget still counts


def test_without_a_budget_the_cpu_is_not_watched():
    with PeakMemory(torch.device("cpu")) as memory:
        budget = MemoryBudget(None, memory)
        block = torch.ones(2**20)
        budget.check()
    assert not budget.enforced and block.sum() > 0


def test_data_stay_on_the_host_when_they_would_take_over_half_the_budget(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (8 * 2**30, 16 * 2**30))
    gpu = torch.device("cuda")
    assert fits_on_device(2**30, gpu)
    assert not fits_on_device(2**30, gpu, limit=2**30)  # half of a 1 GiB budget
    assert fits_on_device(2**30, torch.device("cpu"), limit=1)


def test_on_cuda_the_data_go_to_the_device_only_within_what_the_budget_has_left(monkeypatch):
    # a 2 GiB budget of which the process already holds 1.5 GiB on the device (all of it
    # counts on CUDA): 300 MiB of data would take over half of what is left
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (60 * 2**30, 80 * 2**30))
    monkeypatch.setattr("sklstm.resources.memory_budget.peak_allocated",
                        lambda device: 3 * 2**29)
    gpu = torch.device("cuda")
    budget = MemoryBudget(2 * 2**30, PeakMemory(gpu))
    assert budget.headroom() == 2**29
    assert not fits_on_device(300 * 2**20, gpu, limit=budget.headroom())
    assert fits_on_device(300 * 2**20, gpu, limit=budget.limit)  # what was decided before
    assert MemoryBudget(None, PeakMemory(torch.device("cpu"))).headroom() is None


@pytest.mark.parametrize(("device", "limit", "expected"), [
    ("cuda:0", None, (10 * 2**30, "device")),
    ("cuda:0", 2**30, (2**30, "max_memory")),
    ("cuda:0", 2**40, (10 * 2**30, "device")),  # max_memory cannot add to the device
    ("cpu", None, (20 * 2**30, "host")),
    ("cpu", 2**40, (2**40, "max_memory")),  # the budget the user set, as MemoryBudget's
])
def test_available_memory_is_the_smallest_figure_that_applies(device, limit, expected,
                                                               monkeypatch):
    monkeypatch.setattr("sklstm.resources.memory_budget._cuda_free", lambda d: 10 * 2**30)
    monkeypatch.setattr("sklstm.resources.memory_budget._available_cpu_bytes",
                        lambda: 20 * 2**30)
    assert available_memory(torch.device(device), limit) == expected
