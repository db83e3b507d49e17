"""The switch of fits in threads (sklstm/resources/concurrency.py) and what it leaves alone:
torch's thread count (sklstm/resources/threads.py)."""

import contextlib
import os
import threading

import pytest
import torch

from sklstm.resources import limit_threads
from sklstm.resources import threads as threads_module
from sklstm.resources.concurrency import (
    fit_running,
    fit_stream,
    fits_in_threads,
    fits_run_concurrently,
)
from sklstm.resources.threads import usable_cores

from .forking import child_answer_beside


def test_the_switch_is_process_wide_and_nests():
    seen = []
    assert not fits_run_concurrently()
    with fits_in_threads():
        with fits_in_threads():
            assert fits_run_concurrently()
        thread = threading.Thread(target=lambda: seen.append(fits_run_concurrently()))
        thread.start()
        thread.join()
        assert fits_run_concurrently()
    assert seen == [True] and not fits_run_concurrently()


def test_the_thread_count_is_left_alone_beside_other_fits():
    before = torch.get_num_threads()
    target = 1 if before > 1 else 2
    with limit_threads(target):  # alone: the fit's
        assert torch.get_num_threads() == min(target, usable_cores())  # (taskset: fewer)
    with fits_in_threads(), limit_threads(target):  # beside others: the process's
        assert torch.get_num_threads() == before
    assert torch.get_num_threads() == before


def test_off_cuda_a_fit_keeps_the_thread_s_stream(monkeypatch):
    def no_stream(*args, **kwargs):
        raise AssertionError("a CUDA stream was made for a CPU fit")

    monkeypatch.setattr(torch.cuda, "Stream", no_stream)
    for concurrent in (True, False):
        with (fits_in_threads() if concurrent else fit_stream(torch.device("cpu"))):
            with fit_stream(torch.device("cpu")):
                assert fits_run_concurrently() == concurrent


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # (Python >= 3.12)
def test_a_child_forked_beside_a_running_fit_is_not_beside_it():
    """A process forked while a fit ran in a thread (multiprocessing's "fork" beside a
    thread pool) took every fit of its life as concurrent, and no n_threads applied
    there: the thread whose fit and block it inherited does not run in it."""

    @contextlib.contextmanager
    def fit():
        with fit_running(), limit_threads(1):
            yield

    answer = child_answer_beside(fit, lambda: b"%d%d" % (
        fits_run_concurrently(), threads_module._HOLDER["thread"] is None))
    assert answer == b"01"
