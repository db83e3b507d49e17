"""torch's native CPU kernels for fits of ragged data under max_memory
(sklstm/resources/onednn.py)."""

import os

import numpy as np
import pytest
import torch

from sklstm import LSTMRegressor
from sklstm.resources.onednn import native_kernels_for_ragged_steps
from sklstm.training import net as net_module

from .forking import child_answer_beside

CPU = torch.device("cpu")


@pytest.fixture
def user_flag():
    """oneDNN's flag as the user left it, put back after the test."""
    found = torch.backends.mkldnn.enabled
    yield found
    torch.backends.mkldnn.enabled = found


@pytest.mark.parametrize("user_value", [False, True])
def test_overlapping_fits_keep_onednn_off_until_the_last_ends(user_flag, user_value):
    torch.backends.mkldnn.enabled = user_value
    with native_kernels_for_ragged_steps(CPU, 5, budget=True) as first:
        with native_kernels_for_ragged_steps(CPU, 5, budget=True) as second:  # a thread's
            assert first and second and not torch.backends.mkldnn.enabled
        assert not torch.backends.mkldnn.enabled  # the first fit still runs
    assert torch.backends.mkldnn.enabled is user_value


@pytest.mark.parametrize(("device", "widths", "budget"), [
    (torch.device("cuda"), 5, True),  # (a device object needs no GPU)
    (CPU, 1, True),  # one padded width: the cache holds no more than the batch sizes
    (CPU, 5, False),  # no bound on memory: the faster oneDNN kernels
])
def test_other_fits_leave_onednn_as_it_is(user_flag, device, widths, budget):
    torch.backends.mkldnn.enabled = True
    with native_kernels_for_ragged_steps(device, widths, budget) as off:
        assert not off and torch.backends.mkldnn.enabled


def test_the_flag_comes_back_after_a_fit_that_failed(user_flag):
    torch.backends.mkldnn.enabled = True
    with pytest.raises(RuntimeError, match="step"):
        with native_kernels_for_ragged_steps(CPU, 5, budget=True):
            raise RuntimeError("a step failed")
    assert torch.backends.mkldnn.enabled


def _steps_flags(monkeypatch, X, **params):
    """oneDNN's flag at every training step of a small CPU fit on ``X``."""
    flags, step = [], net_module.SequenceNet.train_step_single

    def recorded(self, *args, **kwargs):
        flags.append(torch.backends.mkldnn.enabled)
        return step(self, *args, **kwargs)

    monkeypatch.setattr(net_module.SequenceNet, "train_step_single", recorded)
    y = np.random.default_rng(1).normal(size=len(X)).astype(np.float32)
    LSTMRegressor(hidden_size=4, max_epochs=1, random_state=0, device="cpu",
                  **params).fit(X, y)
    return flags


def _ragged(n=48):
    rng = np.random.default_rng(0)
    return [rng.normal(size=(int(t), 2)).astype(np.float32)
            for t in rng.integers(3, 60, n)]


@pytest.mark.parametrize("batch_size", [8, "auto"])
def test_a_cpu_fit_of_ragged_data_under_max_memory_steps_without_onednn(
        monkeypatch, user_flag, batch_size):
    # oneDNN's primitive cache held buffers for every padded width: 4000 sequences of
    # 20-200 steps under max_memory="64MiB", batch_size="auto" shrank the micro-batch to
    # one sample and lost the fit (memory grew with the lengths, not the batch)
    torch.backends.mkldnn.enabled = True
    flags = _steps_flags(monkeypatch, _ragged(), max_memory="2GiB", batch_size=batch_size)
    assert flags and not any(flags)
    assert torch.backends.mkldnn.enabled  # put back after the fit


@pytest.mark.parametrize(("X", "params"), [
    (np.zeros((24, 10, 2), np.float32), {"max_memory": "2GiB", "batch_size": 8}),  # dense
    (_ragged(24), {"batch_size": 8}),  # no budget
    (_ragged(24), {"batch_size": "auto"}),  # (sized within the host's memory, unchecked)
])
def test_other_cpu_fits_keep_onednn(monkeypatch, user_flag, X, params):
    torch.backends.mkldnn.enabled = True
    flags = _steps_flags(monkeypatch, X, **params)
    assert flags and all(flags)


@pytest.mark.parametrize("name", ["ONEDNN_PRIMITIVE_CACHE_CAPACITY",
                                  "DNNL_PRIMITIVE_CACHE_CAPACITY"])
def test_a_cache_the_user_sized_keeps_onednn(monkeypatch, user_flag, name):
    # a capacity of 0 bounds oneDNN too, and runs faster than the native kernels
    monkeypatch.setenv(name, "0")
    torch.backends.mkldnn.enabled = True
    with native_kernels_for_ragged_steps(CPU, 5, budget=True) as off:
        assert not off and torch.backends.mkldnn.enabled


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # (Python >= 3.12)
def test_a_child_forked_beside_such_a_fit_gets_onednn_back(user_flag):
    # the child counted the parent thread's fit, which never ends there: oneDNN stayed off
    # for the child's whole life
    torch.backends.mkldnn.enabled = True

    def held():
        return native_kernels_for_ragged_steps(CPU, 5, budget=True)

    def child():
        with native_kernels_for_ragged_steps(CPU, 5, budget=True):  # the child's own fit
            during = torch.backends.mkldnn.enabled
        return f"{during} {torch.backends.mkldnn.enabled}".encode()

    assert child_answer_beside(held, child) == b"False True"
    assert torch.backends.mkldnn.enabled
