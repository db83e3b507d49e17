"""Models that come from another machine: unpickled where the device of their fit is not."""

import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

import sklstm
from sklstm import LSTMClassifier

from .helpers import rewrite_header

X = np.random.default_rng(0).normal(size=(20, 5, 2)).astype(np.float32)
Y = np.arange(20) % 2


@pytest.fixture
def from_elsewhere(tiny):
    """A bf16 model whose ``device_`` this machine lacks, as one trained on CUDA and
    unpickled on a machine without it (skorch moves the net to the CPU, ``device_``
    keeps the fit's device): trained on the CPU, where bf16 runs everywhere."""
    est = LSTMClassifier(**{**tiny, "precision": "bf16", "device": "cpu"}).fit(X, Y)
    est.device_ = torch.device("cuda", 99)  # (on no machine: a CUDA device of fewer)
    return est


def test_it_saves_where_its_device_is_not(from_elsewhere, tmp_path):
    # resolving bf16 for the absent device asked CUDA for its capability: a raw
    # AssertionError ("Torch not compiled with CUDA enabled") or RuntimeError
    path = tmp_path / "m.safetensors"
    from_elsewhere.save(path)
    with pytest.warns(UserWarning, match="trained on cuda:99, which this machine does not"):
        loaded = sklstm.load(path)
    # where CUDA is, on its default device (cuda:99's kind), else on the CPU
    assert loaded.device_.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert loaded.predict_proba(X).shape == (len(X), 2)
    # exactly as saved where it computes as it did (on another device: to float tolerance)
    assert_array_equal(sklstm.load(path, device="cpu").predict_proba(X),
                       from_elsewhere.predict_proba(X))


def test_parameters_changed_after_its_fit_are_still_refused(from_elsewhere, tmp_path):
    from_elsewhere.set_params(hidden_size=3)
    with pytest.raises(ValueError, match=r"the parameters were changed after the fit"):
        from_elsewhere.save(tmp_path / "m.safetensors")


def test_a_model_loaded_where_its_precision_is_not_saves_without_warning(tiny, tmp_path):
    # trained in float16 on CUDA, loaded on the CPU (where it predicts in float32, as
    # the load warns): its save warned again that it "predicts in float32 here", from
    # the network it rebuilds only to compare with the fitted one
    est = LSTMClassifier(**{**tiny, "device": "cpu"}).fit(X, Y)
    path = tmp_path / "m.safetensors"
    est.save(path)
    rewrite_header(path, lambda header: header["params"].update(precision="16-mixed"))
    with pytest.warns(UserWarning, match="precision='16-mixed', which cpu does not support"):
        loaded = sklstm.load(path, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded.save(tmp_path / "again.safetensors")
    # what would compute otherwise is still refused
    loaded.set_params(precision="bf16")
    with pytest.raises(ValueError, match=r"the parameters were changed after the fit"):
        loaded.save(tmp_path / "again.safetensors")


def test_a_device_parameter_this_machine_lacks_is_kept_not_refused(tiny, tmp_path):
    # a fit's device="cuda:99" (another machine's GPU) names a torch device: the model
    # loads and predicts here, and keeps the parameter (a refit here says it is absent);
    # only a string torch names no device with is refused (test_untrusted_files)
    est = LSTMClassifier(**{**tiny, "device": "cpu"}).fit(X, Y)
    path = tmp_path / "m.safetensors"
    est.save(path)
    rewrite_header(path, lambda header: header["params"].update(device="cuda:99"))
    loaded = sklstm.load(path, device="cpu")
    assert loaded.device == "cuda:99"
    assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
