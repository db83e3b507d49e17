"""limit_threads (sklstm/resources/threads.py): what it accepts, the cores it caps at, and
torch's setting put back (what it leaves alone beside other fits: test_concurrency.py)."""

import os
import threading

import numpy as np
import pytest
import torch

from sklstm.resources import limit_threads
from sklstm.resources import threads as threads_module


@pytest.mark.parametrize("n_threads", [np.int64(1), np.array(1), np.uint8(1)])
def test_numpy_integers_are_thread_counts(n_threads):
    before = torch.get_num_threads()
    with limit_threads(n_threads):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(("n_threads", "error", "match"), [
    (0, ValueError, "n_threads must be a positive int"),
    (-1, ValueError, "n_threads must be a positive int"),
    (np.int64(0), ValueError, "got 0"),
    (1.5, TypeError, "n_threads must be a positive int or None; got float"),
    (True, TypeError, "got bool"),
    ("2", TypeError, "got str"),
])
def test_what_is_no_thread_count_is_refused_in_words(n_threads, error, match):
    # torch's own refusal is a bare RuntimeError ("set_num_threads expects ...")
    before = torch.get_num_threads()
    with pytest.raises(error, match=match), limit_threads(n_threads):
        pass
    assert torch.get_num_threads() == before


def test_the_count_is_capped_at_the_cores_the_process_may_run_on(monkeypatch):
    # an affinity mask (taskset, a container's cpuset) of one core on a machine of 64:
    # os.cpu_count() counts the machine's
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert threads_module.usable_cores() == 1
    before = torch.get_num_threads()
    with limit_threads(2):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_without_affinity_masks_the_machine_s_cores_count(monkeypatch):
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # (macOS, Windows)
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # (unknown: one)
    assert threads_module.usable_cores() == 1


def test_a_container_s_cpu_quota_caps_the_count(monkeypatch):
    # docker --cpus=2 on a machine of 64: the mask holds all 64 cores, the cgroup's
    # quota (which joblib reads) gives the process the time of 2; n_threads=8 ran 8
    # threads throttled for most of each quota period
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    monkeypatch.setattr(threads_module, "cpu_count", lambda: 2)
    assert threads_module.usable_cores() == 2
    before = torch.get_num_threads()
    with limit_threads(8):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("error", [PermissionError, ValueError])
def test_a_cgroup_file_that_cannot_be_read_leaves_the_mask_s_count(monkeypatch, error):
    # a locked-down container: an unreadable (or odd) cpu.max is no failed fit
    def unreadable():
        raise error("/sys/fs/cgroup/cpu.max")

    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.setattr(threads_module, "cpu_count", unreadable)
    assert threads_module.usable_cores() == 3


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_the_setting_is_restored_when_the_block_raises(error):
    before = torch.get_num_threads()
    with pytest.raises(error), limit_threads(1):
        assert torch.get_num_threads() == 1
        raise error
    assert torch.get_num_threads() == before


def test_blocks_of_two_threads_leave_torch_s_setting_as_it_was(monkeypatch):
    # two predictions with n_threads=1 in a thread pool (no fit registered, so not
    # "concurrent fits"): the second read the first one's 1 as its "before" and put it
    # back after the first had restored the original, leaving the process at 1 thread
    monkeypatch.setattr(threads_module, "usable_cores", lambda: 8)
    original = torch.get_num_threads()
    torch.set_num_threads(3)
    first_in, second_in, first_out = (threading.Event() for _ in range(3))

    def first():
        with limit_threads(1):
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with limit_threads(2):
            second_in.set()
            first_out.wait(5)

    try:
        workers = [threading.Thread(target=first), threading.Thread(target=second)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        seen = []  # a thread started now takes the process's count
        reader = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        reader.start()
        reader.join()
        assert (torch.get_num_threads(), seen) == (3, [3])
    finally:
        torch.set_num_threads(original)


def test_a_pool_thread_s_block_puts_back_the_process_s_count_not_its_own(monkeypatch):
    # with torch's OpenMP backend each thread keeps the count it took at its first
    # parallel work: a pool thread started before the user's torch.set_num_threads(3)
    # read its own 2 as "before" and restored that as the process's, so threads started
    # later (and a main thread that had not read it yet) ran at 2; two fits with
    # n_threads=1 in a thread pool left the user's 3 at 1 this way
    monkeypatch.setattr(threads_module, "usable_cores", lambda: 8)
    original = torch.get_num_threads()
    torch.set_num_threads(2)
    started, user_set = threading.Event(), threading.Event()
    seen = {}

    def pool_thread():
        torch.get_num_threads()  # (its first read: OpenMP's backend gives it the 2)
        started.set()
        user_set.wait(5)
        seen["before"] = torch.get_num_threads()  # 2 there; 3 where the count is global
        with limit_threads(1):
            seen["inside"] = torch.get_num_threads()
        seen["own after"] = torch.get_num_threads()

    try:
        worker = threading.Thread(target=pool_thread)
        worker.start()
        started.wait(5)
        torch.set_num_threads(3)  # the user's
        user_set.set()
        worker.join()
        later = []
        reader = threading.Thread(target=lambda: later.append(torch.get_num_threads()))
        reader.start()
        reader.join()
        assert seen["inside"] == 1 and seen["own after"] == seen["before"]
        assert (torch.get_num_threads(), later) == (3, [3])
    finally:
        torch.set_num_threads(original)


def test_ctrl_c_while_the_count_is_read_gives_the_hold_back(monkeypatch):
    # the count was read after the block took the hold and before its try: a Ctrl-C
    # there kept the hold for good, and no block of another thread set n_threads again
    def interrupted():
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(torch, "get_num_threads", interrupted)
        with pytest.raises(KeyboardInterrupt), limit_threads(1):
            pass
    assert threads_module._HOLDER == {"thread": None, "depth": 0}
