"""cuDNN's deterministic convolutions during CUDA fits (sklstm/resources/cudnn.py)."""

import numpy as np
import pytest
import torch

from sklstm import LSTMClassifier
from sklstm.resources.cudnn import deterministic_convolutions

from ..settings import requires_cuda


@pytest.fixture
def user_flag():
    """The flag as the user left it, put back after the test."""
    found = torch.backends.cudnn.deterministic
    yield found
    torch.backends.cudnn.deterministic = found


@pytest.mark.parametrize("user_value", [False, True])
def test_overlapping_cuda_fits_hold_the_flag_until_the_last_ends(user_flag, user_value):
    # a CUDA device object needs no GPU: only the flag is read and set
    torch.backends.cudnn.deterministic = user_value
    cuda = torch.device("cuda")
    with deterministic_convolutions(cuda) as first:
        with deterministic_convolutions(cuda) as second:  # a fit in another thread
            assert first and second and torch.backends.cudnn.deterministic
        assert torch.backends.cudnn.deterministic  # the first fit still runs
    assert torch.backends.cudnn.deterministic is user_value


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
