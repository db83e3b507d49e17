"""Resolving the device parameter (sklstm/resources/_device_resolution.py, re-exported by
sklstm/resources/device.py): the devices that exist, and the fix named for the others."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sklstm import LSTMClassifier

X = np.random.default_rng(0).normal(size=(24, 5, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int)
BASE = dict(hidden_size=4, max_epochs=1, tol=None, downsample=1, random_state=0,
            n_threads=1)


@pytest.mark.parametrize(("device", "expected"), [
    ("auto", torch.device("cuda")), ("cuda", torch.device("cuda")),
    ("cuda:1", torch.device("cuda", 1)), (torch.device("cuda", 0), torch.device("cuda", 0)),
    (np.str_("cuda:1"), torch.device("cuda", 1)), ("cpu", torch.device("cpu")),
    # as a fit reads it: profile_batch_sizes, which resolves the estimator's device
    # itself, refused np.array("cpu") as an ndarray
    (np.array("cuda:1"), torch.device("cuda", 1)), (np.array("auto"), torch.device("cuda")),
    ("cpu:0", torch.device("cpu")), (torch.device("cpu", 0), torch.device("cpu")),
])
def test_devices_that_exist_are_resolved(two_gpus, device, expected):
    from sklstm.resources import resolve_device

    assert resolve_device(device) == expected


@pytest.mark.parametrize(("device", "error", "match"), [
    ("cuda:7", ValueError, r"only 2 CUDA device\(s\) are visible .* N below 2"),
    (torch.device("cuda", 2), ValueError, "^device='cuda:2' asks for CUDA device 2"),
    ("gpu", ValueError, "Unknown device 'gpu'; use 'auto', 'cpu'"),
    (np.str_("gpu"), ValueError, "^Unknown device 'gpu'; use"),
    ("cuda:-1", ValueError, "Unknown device"),
    ("meta", ValueError, "Unsupported device 'meta'; use .* 'mps' or a torch.device"),
    ("META", ValueError, "^Unknown device 'META'; use 'auto'"),  # no hint of 'meta'
    (0, TypeError, "or a torch.device; got int"),
    (None, TypeError, "got NoneType"),
    # torch runs "cpu:1" on its one CPU device: the index was dropped without a word
    ("cpu:1", ValueError, r"^device='cpu:1' names CPU 1, but torch has one CPU device "
                          r"\(n_threads sets how many cores a fit uses\); use device='cpu'\.$"),
    (torch.device("cpu", 2), ValueError, "^device='cpu:2' names CPU 2, .* use device='cpu'"),
])
def test_devices_that_do_not_exist_are_refused_with_the_fix(two_gpus, device, error, match):
    from sklstm.resources import resolve_device

    with pytest.raises(error, match=match):
        resolve_device(device)


def test_a_fit_on_an_indexed_cpu_pickles_and_loads():
    # torch.load cannot place tensors tagged "cpu:0": the saved model did not load
    import pickle

    clf = LSTMClassifier(**BASE, device="cpu:0").fit(X, Y)
    assert clf.device_ == torch.device("cpu")
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict(X), clf.predict(X))


def test_an_absent_accelerator_is_refused_with_the_fix(monkeypatch):
    from sklstm.resources import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match=r"no CUDA device is available \(or this torch build "
                                         r"has no CUDA support\); use device='auto'"):
        resolve_device("cuda:7")
    # the variable that hides the GPUs is named: it was only "no CUDA device is available"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(ValueError, match=r"no CUDA support; CUDA_VISIBLE_DEVICES is ''\); use"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="MPS, which is not available here; use device='auto'"):
        resolve_device("mps")


# torch reads device names in lower case without spaces ("CUDA" raised torch's own
# "Expected one of cpu, cuda, ..."): the message names the string meant
@pytest.mark.parametrize(("device", "meant"), [
    ("CUDA", "cuda"), ("Cpu", "cpu"), (" cpu", "cpu"), ("cpu ", "cpu"), ("Auto", "auto"),
    ("CUDA: 1", "cuda:1"), (np.str_("MPS"), "mps"),
])
def test_a_device_in_capitals_or_with_spaces_is_refused_naming_the_one_meant(device, meant):
    from sklstm.resources import resolve_device

    with pytest.raises(ValueError, match=rf"^Unknown device '{device}'; device names are "
                       rf"lower case, without spaces \(did you mean '{meant}'\?\); use "
                       r"'auto', 'cpu', 'cuda', 'cuda:N', 'mps' or a torch.device\.$"):
        resolve_device(device)


def test_an_mps_index_is_refused_as_mps_has_one_device(monkeypatch):
    from sklstm.resources import resolve_device

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("mps:0") == torch.device("mps", 0)
    with pytest.raises(ValueError, match=r"^device='mps:1' names MPS 1, but torch has one "
                                         r"MPS device; use device='mps'\.$"):
        resolve_device("mps:1")


@pytest.mark.parametrize(("device", "match"), [
    ("CPU", r"did you mean 'cpu'\?"), ("cpu:1", "torch has one CPU device"),
])
def test_a_misnamed_device_is_refused_before_training_leaving_no_fit(device, match):
    clf = LSTMClassifier(**BASE, device=device)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
