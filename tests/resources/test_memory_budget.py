"""Memory budgets: parsing max_memory, and a budget reading what peak_memory_ reads."""

import sys
import warnings
from types import SimpleNamespace

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
    ("1.5G", 1_500_000_000), (np.str_("4GiB"), 4 * 2**30), (np.float64(2048.0), 2048),
    # the decimals as written, not through floats (which made 2009 bytes of "2.01kB")
    ("2.01kB", 2010), ("1.1e-2MB", 11_000), ("0.1kib", 102),
    # numbers as Python writes them: a trailing or leading point, a plus sign
    ("5.", 5), (".5kB", 500), ("+3kB", 3000),
    # an int is taken exactly, however large (no float on the way)
    pytest.param(10**400, 10**400, id="an-int-past-floats"),
    # 0-d arrays, which the estimators accept: profile_batch_sizes raised TypeError
    (np.array("2GiB"), 2 * 2**30), (np.array(2048), 2048),
])
def test_parse_memory(value, expected):
    assert parse_memory(value) == expected


@pytest.mark.parametrize(("value", "error", "message"), [
    ("lots", ValueError, "is not a memory size"),
    ("2 GiBs", ValueError, "is not a memory size"),
    # a negative size is refused for its sign, not as something that is not a size
    ("-1GB", ValueError, "must be a positive size"),
    ("-1", ValueError, "must be a positive size"),
    ("0MB", ValueError, "must be a positive size"),
    (0, ValueError, "must be a positive size"),
    (float("nan"), ValueError, "must be a positive size"),
    # no whole number of bytes: refused in words, not with float's OverflowError
    ("1e400", ValueError, "is not a finite size"),
    (float("inf"), ValueError, "is not a finite size"),
    (np.float64("inf"), ValueError, "is not a finite size"),
    (True, TypeError, "must be a number of bytes or a string"),
    ([1], TypeError, "must be a number of bytes or a string"),
    (np.array([2048]), TypeError, "must be a number of bytes or a string .*; got ndarray"),
    (np.array(True), TypeError, "must be a number of bytes or a string .*; got bool"),
])
def test_parse_memory_refuses(value, error, message):
    with pytest.raises(error, match=message):
        parse_memory(value)


@pytest.mark.parametrize(("value", "example"), [
    ("1.5", "'1.5GiB' or '1.5GB'"), (" 2.5 b", "'2.5GiB' or '2.5GB'"),
    (".5", "'.5GiB' or '.5GB'"), (np.float64(2.5), "'2.5GiB' or '2.5GB'"),
    (2**30 + 0.5, "'2GiB'"),
])
def test_a_fraction_of_a_byte_is_refused_as_a_unit_left_out(value, example):
    # "1.5" was read as 1 byte, and a fit refused it only as smaller than its network
    # ("more than max_memory=1 B allows"), never naming the unit left out
    with pytest.raises(ValueError, match=r"is not a whole number of bytes \(a size without "
                       rf"a unit counts bytes\); give whole bytes, or the unit meant, e\.g\. "
                       rf"{example}\.$"):
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_process_started_by_a_larger_one_is_not_charged_its_peak(monkeypatch):
    """getrusage's peak is also that of the program the process was exec-ed from (Linux
    keeps it for the process's life): a fit with max_memory in a worker of
    GridSearchCV(n_jobs=2), started from a process that had held 2 GiB, read 1.7 GiB
    used before its first step. (Here a peak of 4 GiB inherited, as getrusage says it.)"""
    import resource

    from sklstm.resources import memory as memory_module

    real = resource.getrusage

    def inherited(who):
        usage = real(who)
        return SimpleNamespace(ru_maxrss=max(usage.ru_maxrss, 4 * GiB // 1024))

    monkeypatch.setattr(resource, "getrusage", inherited)
    # (what the process learns of the inherited peak goes with the fake)
    monkeypatch.setattr(memory_module, "_inherited", {"bytes": 0}, raising=False)
    with PeakMemory(torch.device("cpu")) as memory:
        budget = MemoryBudget(200 * 2**20, memory)
        budget.check()  # nothing allocated yet
        assert budget.used() < 16 * 2**20
        block = torch.ones(100 * 2**20)  # 400 MiB: still seen
        with pytest.raises(MemoryBudgetExceeded):
            budget.check()
    del block


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
    ("cpu", 2**30, (2**30, "max_memory")),
    ("cpu", 2**40, (20 * 2**30, "host")),  # max_memory cannot add to the host either
])
def test_available_memory_is_the_smallest_figure_that_applies(device, limit, expected,
                                                               monkeypatch):
    monkeypatch.setattr("sklstm.resources.memory_budget._cuda_free", lambda d: 10 * 2**30)
    monkeypatch.setattr("sklstm.resources.memory_budget._available_cpu_bytes",
                        lambda: 20 * 2**30)
    assert available_memory(torch.device(device), limit) == expected


# -- the host's memory: MemAvailable, bounded by the process's memory cgroups -------------
GiB = 2**30


def _fake_host(tmp_path, monkeypatch, proc_cgroup, files, available=64 * GiB):
    """A /proc/meminfo, /proc/self/cgroup and cgroup tree of files under ``tmp_path``."""
    from sklstm.resources import memory_budget

    meminfo = tmp_path / "meminfo"
    meminfo.write_text(f"MemTotal: {128 * GiB // 1024} kB\nMemAvailable: "
                       f"{available // 1024} kB\n")
    (tmp_path / "cgroup").write_text(proc_cgroup)
    for name, text in files.items():
        path = tmp_path / "sys" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "sys").mkdir(exist_ok=True)
    monkeypatch.setattr(memory_budget, "_MEMINFO", str(meminfo))
    monkeypatch.setattr(memory_budget, "_PROC_CGROUP", str(tmp_path / "cgroup"))
    monkeypatch.setattr(memory_budget, "_CGROUP_ROOT", str(tmp_path / "sys"))
    return memory_budget._available_cpu_bytes()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_cgroup_v2_limit_bounds_what_the_host_has(tmp_path, monkeypatch):
    # a batch job of 4 GiB on a machine with 64 GiB available: 1 GiB used, of which
    # 512 MiB inactive page cache (the kernel reclaims it before the limit)
    available = _fake_host(tmp_path, monkeypatch, "0::/user.slice/job1\n", {
        "user.slice/memory.max": "max\n", "user.slice/memory.current": f"{20 * GiB}\n",
        "user.slice/job1/memory.max": f"{4 * GiB}\n",
        "user.slice/job1/memory.current": f"{GiB}\n",
        "user.slice/job1/memory.stat": f"anon 1\ninactive_file {GiB // 2}\nactive_file 9\n",
    })
    assert available == 4 * GiB - GiB // 2
    with PeakMemory(torch.device("cpu")) as measured:
        budget = MemoryBudget(None, measured)
        assert budget.search_limit() == available  # batch_size="auto" searches against it
    assert available_memory(torch.device("cpu")) == (available, "host")


def test_a_parent_cgroup_s_limit_binds_too(tmp_path, monkeypatch):
    available = _fake_host(tmp_path, monkeypatch, "0::/pod/box\n", {
        "pod/memory.max": f"{2 * GiB}\n", "pod/memory.current": f"{GiB + GiB // 2}\n",
        "pod/box/memory.max": f"{8 * GiB}\n", "pod/box/memory.current": f"{GiB}\n",
    })
    assert available == GiB // 2


def test_a_cgroup_v1_limit_and_a_container_s_own_root(tmp_path, monkeypatch):
    # in a container the path is the host's and not under the container's own mount:
    # the mount's root is the container's cgroup
    available = _fake_host(tmp_path, monkeypatch, "5:cpu:/x\n4:memory:/docker/abc\n", {
        "memory/memory.limit_in_bytes": f"{3 * GiB}\n",
        "memory/memory.usage_in_bytes": f"{GiB}\n",
        "memory/memory.stat": "cache 5\ntotal_inactive_file 0\n",
    })
    assert available == 2 * GiB


@pytest.mark.parametrize("files", [
    {},  # no cgroup files at all
    {"memory/memory.limit_in_bytes": "9223372036854771712\n",  # v1's "no limit"
     "memory/memory.usage_in_bytes": f"{GiB}\n"},
    {"memory/memory.limit_in_bytes": "garbage\n", "memory/memory.usage_in_bytes": "1\n"},
])
def test_without_a_cgroup_limit_the_host_s_available_memory_counts(tmp_path, monkeypatch,
                                                                     files):
    assert _fake_host(tmp_path, monkeypatch, "4:memory:/\n0::/\n", files) == 64 * GiB


def test_a_cgroup_with_less_room_than_the_host_sets_it(tmp_path, monkeypatch):
    # MemAvailable below the cgroup's room: the smaller figure counts
    assert _fake_host(tmp_path, monkeypatch, "0::/\n", {
        "memory.max": f"{100 * GiB}\n", "memory.current": "0\n"}, available=GiB) == GiB


def test_a_budget_that_cannot_be_watched_says_so(monkeypatch):
    # no /proc (macOS, a locked-down container): max_memory was silently ignored, and
    # batch_size="auto" searched it with trial steps that all read 0 bytes
    from sklstm.resources import memory

    def no_proc():
        raise OSError("no /proc")

    monkeypatch.setattr(memory, "reset_peak_rss", no_proc)
    with PeakMemory(torch.device("cpu")) as measured:
        with pytest.warns(UserWarning, match=r"max_memory=1.0 MiB cannot be watched here"):
            budget = MemoryBudget(2**20, measured)
        assert not budget.enforced and budget.search_limit() is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # without a max_memory there is nothing to say
            assert MemoryBudget(None, measured).search_limit() is None
    assert measured.peak is None


def test_on_cuda_the_automatic_batch_is_searched_within_what_the_device_has_free(
        monkeypatch):
    # a 4 GiB budget on a GPU where other processes left 1 GiB free (and torch holds
    # 512 MiB for this one): batch_size="auto" searched against the 4 GiB
    from sklstm.resources import memory_budget

    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (GiB, 80 * GiB))
    monkeypatch.setattr(memory_budget, "reserved_memory", lambda device: GiB // 2)
    gpu = torch.device("cuda")
    assert MemoryBudget(4 * GiB, PeakMemory(gpu)).search_limit() == GiB + GiB // 2
    assert MemoryBudget(GiB, PeakMemory(gpu)).search_limit() == GiB  # the budget binds
    assert MemoryBudget(None, PeakMemory(gpu)).search_limit() == GiB + GiB // 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_on_the_cpu_the_automatic_batch_is_searched_within_what_the_host_has(monkeypatch):
    # max_memory="1TB" on a machine with 20 GiB available: batch_size="auto" searched
    # against the terabyte, for a micro-batch whose steps swap or are killed (without a
    # max_memory it is searched against the 20 GiB)
    from sklstm.resources import memory_budget

    monkeypatch.setattr(memory_budget, "_available_cpu_bytes", lambda: 20 * GiB)
    with PeakMemory(torch.device("cpu")) as measured:
        assert MemoryBudget(2**40, measured).search_limit() == 20 * GiB
        assert MemoryBudget(GiB, measured).search_limit() == GiB  # the budget binds
        assert MemoryBudget(None, measured).search_limit() == 20 * GiB


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_step_past_the_host_below_max_memory_is_not_told_to_raise_it(monkeypatch):
    # the search bound by what the host has: "needs more than the memory budget of
    # 1.0 TiB ... Raise max_memory", which cannot help
    from sklstm.resources import memory_budget

    monkeypatch.setattr(memory_budget, "_available_cpu_bytes", lambda: 20 * GiB)
    with PeakMemory(torch.device("cpu")) as measured:
        budget = MemoryBudget(2**40, measured)
        budget.search_limit()
        message = str(budget.error(1, "LSTMClassifier: batch_size='auto'", margin=5 * GiB))
        assert ("needs more than the 20.0 GiB available on cpu (below max_memory) once "
                "batch_size='auto' keeps 5.0 GiB of it free") in message
        assert "Free memory on cpu" in message and "aise max_memory" not in message
        budget = MemoryBudget(GiB, measured)  # the budget binds: raising it helps
        budget.search_limit()
        assert "Raise max_memory" in str(budget.error(1, "LSTMClassifier", margin=GiB))
