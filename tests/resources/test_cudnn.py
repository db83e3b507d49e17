"""cuDNN's deterministic convolutions during CUDA fits (sklstm/resources/cudnn.py)."""

import os
import threading

import numpy as np
import pytest
import torch

from sklstm import LSTMClassifier
from sklstm.resources.cudnn import deterministic_convolutions

from ..settings import requires_cuda
from .forking import child_answer_beside

CUDA = torch.device("cuda")  # (a device object needs no GPU: only the flag is read and set)


@pytest.fixture
def user_flag():
    """The flag as the user left it, put back after the test."""
    found = torch.backends.cudnn.deterministic
    yield found
    torch.backends.cudnn.deterministic = found


@pytest.mark.parametrize("user_value", [False, True])
def test_overlapping_cuda_fits_hold_the_flag_until_the_last_ends(user_flag, user_value):
    torch.backends.cudnn.deterministic = user_value
    with deterministic_convolutions(CUDA) as first:
        with deterministic_convolutions(CUDA) as second:  # a fit in another thread
            assert first and second and torch.backends.cudnn.deterministic
        assert torch.backends.cudnn.deterministic  # the first fit still runs
    assert torch.backends.cudnn.deterministic is user_value


def test_a_fit_in_a_thread_that_ends_first_leaves_the_flag_to_the_other(user_flag):
    # a search's fits in threads on one GPU: the first to end must not switch the flag
    # off under a fit still running
    torch.backends.cudnn.deterministic = False
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first():
        with deterministic_convolutions(CUDA):
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second():
        first_in.wait(10)
        with deterministic_convolutions(CUDA):
            second_in.set()
            first_out.wait(10)
            seen.append(torch.backends.cudnn.deterministic)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [True] and not torch.backends.cudnn.deterministic


def test_the_flag_comes_back_after_a_cuda_fit_that_failed(user_flag):
    torch.backends.cudnn.deterministic = False
    with pytest.raises(RuntimeError, match="step"):
        with deterministic_convolutions(CUDA):
            raise RuntimeError("a step failed")
    assert not torch.backends.cudnn.deterministic


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # (Python >= 3.12)
def test_a_child_forked_beside_a_cuda_fit_gets_the_flag_back(user_flag):
    # the child counted the parent thread's fit, which never ends there: the flag stayed
    # set for the child's whole life, its own fits' end included
    torch.backends.cudnn.deterministic = False

    def child():
        before = torch.backends.cudnn.deterministic
        with deterministic_convolutions(CUDA):  # the child's own fit
            during = torch.backends.cudnn.deterministic
        return f"{before} {during} {torch.backends.cudnn.deterministic}".encode()

    answer = child_answer_beside(lambda: deterministic_convolutions(CUDA), child)
    assert answer == b"False True False"
    assert not torch.backends.cudnn.deterministic


def test_cpu_fits_leave_cudnn_alone(user_flag):
    torch.backends.cudnn.deterministic = False
    with deterministic_convolutions(torch.device("cpu")) as held:
        assert not held and not torch.backends.cudnn.deterministic


@requires_cuda
def test_two_default_cuda_fits_with_one_seed_predict_alike(user_flag):
    # the classifier's default convolutional branch, whose backward pass cuDNN may
    # otherwise add up in a different order every run
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 30, 2)).astype(np.float32)
    y = (X[:, 10:14, 0].sum(axis=1) > 0).astype(int)
    first, second = (LSTMClassifier(max_epochs=5, random_state=0, device="cuda").fit(X, y)
                     for _ in range(2))
    assert first.conv_channels_ is not None
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert torch.backends.cudnn.deterministic is user_flag
