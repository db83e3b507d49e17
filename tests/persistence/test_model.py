"""``estimator.save`` and ``sklstm.load`` (``_model.py``): exact round trips, what is
not saved (code), the device a model loads on, files of other versions."""

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_array_equal
from skorch.callbacks import Callback

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.datasets import make_token_sentiment
from sklstm.persistence import _model

from .helpers import read_raw, rewrite_header
from .samples import RAGGED, X3

TOKENS, Y_TOKENS = make_token_sentiment(n_samples=24, vocab_size=20, length_range=(2, 7),
                                        random_state=0)


def _outputs(est, X):
    """Everything the estimator predicts for X."""
    if hasattr(est, "predict_proba"):
        return [est.predict(X), est.predict_proba(X), est.predict_log_proba(X)]
    return [est.predict(X)]


CASES = {
    "classifier, string labels": (LSTMClassifier, X3, np.array(["lo", "hi"])[np.arange(24) % 2],
                                  {}),
    "classifier, 3 int classes, bidirectional attention": (
        LSTMClassifier, X3, np.arange(24) % 3, {"bidirectional": True, "pooling": "attention"}),
    "classifier, ragged": (LSTMClassifier, RAGGED, np.arange(24) % 2, {"seq_len": 5}),
    "classifier, padded tokens": (LSTMClassifier, make_token_sentiment(
        n_samples=24, vocab_size=20, length_range=(2, 7), random_state=0, padded=True)[0],
        Y_TOKENS, {"embedding_dim": 3}),
    "classifier, float labels": (LSTMClassifier, X3, np.arange(24) % 2 + 1.0, {}),
    "regressor, ragged tokens": (LSTMRegressor, TOKENS, np.arange(24.0), {"embedding_dim": 3,
                                                                          "vocab_size": 25}),
    "regressor, multi-output": (LSTMRegressor, X3, X3[:, -1, :] * 100, {"num_layers": 2}),
    "regressor, 1D y, unscaled, downsampled": (LSTMRegressor, X3, X3[:, -1, 0],
                                              {"scale_target": False, "downsample": 2}),
    # on the CPU: on CUDA a budget counts every tensor the process holds on the device
    # (other tests' too), and 64 MiB were already taken there on an H200 (2026-12-04)
    "classifier, bf16, automatic batch under a budget": (
        LSTMClassifier, X3, np.arange(24) % 2,
        {"precision": "bf16", "batch_size": "auto", "max_memory": "64MiB", "device": "cpu"}),
    "regressor, 2D DataFrame": (LSTMRegressor, pd.DataFrame(X3[:, :, 0],
                                                            columns=[f"t{i}" for i in range(6)]),
                                np.arange(24.0), {}),
    # (feature_names_in_ of a fit on sequences: such a model saved but was refused on load)
    "classifier, list of DataFrames": (LSTMClassifier, [
        pd.DataFrame(seq, columns=[f"f{j}" for j in range(X3.shape[2])]) for seq in X3],
        np.arange(24) % 2, {}),
    "regressor, relative to the mean, ragged, multi-output": (
        LSTMRegressor, RAGGED, np.c_[np.arange(24.0), -np.arange(24.0)],
        {"relative": "mean", "relative_target": 1}),
}


@pytest.fixture(params=sorted(CASES))
def fitted(request, tiny):
    Estimator, X, y, params = CASES[request.param]
    return Estimator(**{**tiny, **params}).fit(X, y), X


def test_loaded_model_predicts_exactly_like_the_saved_one(fitted, tmp_path):
    est, X = fitted
    path = tmp_path / "model.safetensors"
    assert est.save(path) is est
    loaded = sklstm.load(path)
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()
    for got, expected in zip(_outputs(loaded, X), _outputs(est, X), strict=True):
        assert_array_equal(got, expected)
    assert loaded.score(X, est.predict(X)) == est.score(X, est.predict(X))
    for name in ("n_features_in_", "n_sequence_features_", "_fitted_form", "downsample_",
                 "lr_", "n_updates_", "n_epochs_", "effective_batch_size_", "_sequence_params",
                 "batch_size_", "accumulation_steps_", "memory_events_"):
        assert getattr(loaded, name) == getattr(est, name)
    for name in ("classes_", "feature_names_in_", "target_mean_", "target_scale_"):
        if hasattr(est, name):
            assert_array_equal(getattr(loaded, name), getattr(est, name))
            assert getattr(loaded, name).dtype == getattr(est, name).dtype
    assert getattr(loaded, "vocab_size_", None) == getattr(est, "vocab_size_", None)
    assert getattr(loaded, "batch_size_trials_", 0) == getattr(est, "batch_size_trials_", 0)
    assert loaded.history_.to_list() == est.history_.to_list()
    # a loaded model pickles and refits like any other
    assert_array_equal(pickle.loads(pickle.dumps(loaded)).predict(X), est.predict(X))

def test_refit_of_a_loaded_model_repeats_the_fit(tmp_path, tiny):
    est = LSTMClassifier(**tiny).fit(X3, np.arange(24) % 2)
    est.save(tmp_path / "m.safetensors")
    loaded = sklstm.load(tmp_path / "m.safetensors")
    assert_array_equal(loaded.fit(X3, np.arange(24) % 2).predict_proba(X3), est.predict_proba(X3))

class Marker(Callback):
    """A callback, which is code."""


class MyAdam(torch.optim.Adam):
    """A custom optimizer class, which is code."""


def test_code_parameters_are_not_saved_and_the_load_warns(tmp_path, tiny):
    est = LSTMClassifier(**{**tiny, "random_state": np.random.RandomState(0)},
                         callbacks=[Marker()], optimizer=MyAdam).fit(X3, np.arange(24) % 2)
    est.save(tmp_path / "m.safetensors")
    with pytest.warns(UserWarning, match=r"not saved: callbacks \(was list of 1: Marker, now "
                      r"None\), optimizer \(was class .*MyAdam, now '.*MyAdam'\), random_state "
                      r".*refitting will differ"):
        loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.callbacks is None and loaded.random_state is None
    assert_array_equal(loaded.predict_proba(X3), est.predict_proba(X3))
    # saved again, the placeholders stay "not saved" (they were written as the values the
    # model was trained with, and its next load warned of nothing)
    loaded.save(tmp_path / "again.safetensors")
    with pytest.warns(UserWarning, match=r"not saved: callbacks \(was list of 1: Marker, now "
                      r"None\), optimizer \(was class .*MyAdam, now '.*MyAdam'\), random_state"):
        sklstm.load(tmp_path / "again.safetensors")
    with pytest.raises(ValueError, match=r"unknown optimizer '.*MyAdam'"):
        loaded.fit(X3, np.arange(24) % 2)  # a refit says what is missing
    # refitted, the model is what its parameters say: nothing to warn of
    loaded.set_params(optimizer="adam").fit(X3, np.arange(24) % 2)
    loaded.save(tmp_path / "refit.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sklstm.load(tmp_path / "refit.safetensors")

class BoostedSGD(torch.optim.SGD):
    """A custom optimizer with an argument of its own."""

    def __init__(self, params, lr=0.01, boost=1.0):
        super().__init__(params, lr=lr * boost)


def test_a_custom_optimizers_own_arguments_do_not_stop_the_load(tmp_path, tiny):
    # the optimizer was not saved, its stand-in (Adam) refused optimizer_params={"boost":
    # ...}, and the file never loaded
    est = LSTMClassifier(**tiny, optimizer=BoostedSGD, optimizer_params={"boost": 2.0})
    est.fit(X3, np.arange(24) % 2).save(tmp_path / "m.safetensors")
    with pytest.warns(UserWarning, match=r"not saved: optimizer \(was class .*BoostedSGD"):
        loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.optimizer_params == {"boost": 2.0}
    assert_array_equal(loaded.predict_proba(X3), est.predict_proba(X3))
    with pytest.raises(ValueError, match=r"unknown optimizer '.*BoostedSGD'"):
        loaded.fit(X3, np.arange(24) % 2)  # a refit says what is missing

def test_load_leaves_torch_random_state_alone(tmp_path, tiny):
    LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0]).save(tmp_path / "m.safetensors")
    state = torch.get_rng_state()
    sklstm.load(tmp_path / "m.safetensors")
    assert torch.equal(state, torch.get_rng_state())

def test_a_model_trained_on_cuda_loads_on_the_cpu(tmp_path, tiny):
    """The weights are stored device-free; ``trained_on`` only picks the default device.
    Trained on the CPU, so that the CPU's predictions can be compared exactly (a model
    really trained on CUDA: test_cuda_round_trip)."""
    est = LSTMClassifier(**tiny, device="cpu").fit(X3, np.arange(24) % 2)
    path = tmp_path / "m.safetensors"
    est.save(path)
    rewrite_header(path, lambda h: h.update(trained_on="cuda:0"))
    loaded = sklstm.load(path, device="cpu")
    assert loaded.device_ == torch.device("cpu") and loaded.net_.device == torch.device("cpu")
    assert_array_equal(loaded.predict_proba(X3), est.predict_proba(X3))
    if not torch.cuda.is_available():
        with pytest.warns(UserWarning, match="trained on cuda:0, which this machine does not "
                          "have; loaded on the CPU"):
            assert sklstm.load(path).device_ == torch.device("cpu")
        with pytest.raises(ValueError, match="no CUDA device is available"):
            sklstm.load(path, device="cuda")
    else:  # where CUDA is, trained_on is the default device (this branch ran nowhere else)
        assert sklstm.load(path).device_.type == "cuda"

def test_a_resaved_model_keeps_the_device_it_was_trained_on(tmp_path, tiny):
    """``trained_on`` is where the fit ran: loaded on the CPU and saved again, a model
    trained on CUDA still says CUDA (it said "cpu", and loaded on the CPU thereafter);
    refitted, it says where the new fit ran."""
    est = LSTMRegressor(**tiny, device="cpu").fit(X3, X3[:, 0, 0])
    est.save(tmp_path / "m.safetensors")
    rewrite_header(tmp_path / "m.safetensors", lambda h: h.update(trained_on="cuda:0"))
    loaded = sklstm.load(tmp_path / "m.safetensors", device="cpu")
    loaded.save(tmp_path / "again.safetensors")
    assert json.loads(read_raw(tmp_path / "again.safetensors")[0]["sklstm"])[
        "trained_on"] == "cuda:0"
    loaded.fit(X3, X3[:, 0, 0]).save(tmp_path / "refit.safetensors")
    assert json.loads(read_raw(tmp_path / "refit.safetensors")[0]["sklstm"])[
        "trained_on"] == "cpu"


def _one_gpu(device):
    """``resolve_device`` of a machine with the CPU and one GPU, ``cuda:0``."""
    if not isinstance(device, str):
        raise TypeError(f"device must be a string, got {type(device).__name__}")
    device = torch.device(device)
    if device.type == "cpu":
        return device
    if device.type == "cuda" and not device.index:
        return torch.device("cuda", 0)
    raise ValueError(f"device='{device}' is not available")


def test_a_gpu_index_this_machine_lacks_loads_on_its_gpu_not_the_cpu(monkeypatch):
    # trained on cuda:1, loaded where one GPU is: every prediction ran on the CPU
    monkeypatch.setattr(_model, "resolve_device", _one_gpu)
    with pytest.warns(UserWarning, match=r"m.safetensors was trained on cuda:1, which this "
                      r"machine does not have; loaded on cuda:0 \(pass device= to choose\)"):
        assert _model._load_device(None, "cuda:1", "m.safetensors") == torch.device("cuda", 0)
    assert _model._load_device("cpu", "cuda:1", "m.safetensors") == torch.device("cpu")
    # what names no device of a kind this machine has still loads on the CPU
    for trained_on in ("mps:0", 3):
        with pytest.warns(UserWarning, match=f"trained on {trained_on}, .* loaded on the CPU"):
            assert _model._load_device(None, trained_on, "m.safetensors").type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_gpu_index_this_machine_lacks_loads_on_cuda(tmp_path, tiny):  # pragma: no cover
    est = LSTMRegressor(**tiny, device="cpu").fit(X3, X3[:, 0, 0])
    path = tmp_path / "m.safetensors"
    est.save(path)
    absent = f"cuda:{torch.cuda.device_count()}"  # one index past the last GPU here
    rewrite_header(path, lambda h: h.update(trained_on=absent))
    with pytest.warns(UserWarning, match=f"trained on {absent}, .* loaded on cuda"):
        loaded = sklstm.load(path)
    assert loaded.device_.type == "cuda" and loaded.net_.device.type == "cuda"
    np.testing.assert_allclose(loaded.predict(X3), est.predict(X3), rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_round_trip(tmp_path, tiny):  # pragma: no cover - run on a GPU machine
    est = LSTMClassifier(**tiny, device="cuda").fit(X3, np.arange(24) % 2)
    est.save(tmp_path / "m.safetensors")
    on_gpu = sklstm.load(tmp_path / "m.safetensors")
    assert on_gpu.net_.device.type == "cuda"
    assert_array_equal(on_gpu.predict_proba(X3), est.predict_proba(X3))
    # on the CPU to float tolerance: cuDNN's LSTM and the CPU's round differently (1.2e-5
    # apart on an H200, 2026-12-04, for the LSTM alone), compared in float32 on both
    # sides: cuDNN may run float32 products in TF32 on Ampere and later (torch's
    # default, torch.backends.cudnn.allow_tf32), which the classifier's default
    # convolutional branch (since 2026-12-05) would round to 10 bits
    on_cpu = sklstm.load(tmp_path / "m.safetensors", device="cpu")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.backends.cudnn, "allow_tf32", False)
        in_float32 = est.predict_proba(X3)
    np.testing.assert_allclose(on_cpu.predict_proba(X3), in_float32, atol=1e-4)

def test_parameters_of_other_versions(tmp_path, tiny):
    """A parameter this sklstm lacks is ignored with a warning; a missing one is default."""
    est = LSTMClassifier(**tiny).fit(X3, np.arange(24) % 2)
    path = tmp_path / "m.safetensors"
    est.save(path)

    def change(header):
        header["params"]["retired_param"] = 3
        del header["params"]["weight_decay"]

    rewrite_header(path, change)
    with pytest.warns(UserWarning, match=r"\['retired_param'\] .* are ignored") as record:
        loaded = sklstm.load(path)
    # told where load was called, as its other warnings are (it named sklstm's own line)
    assert [w.filename for w in record] == [__file__]
    assert loaded.weight_decay == LSTMClassifier().weight_decay == 1e-4  # the default
    assert_array_equal(loaded.predict_proba(X3), est.predict_proba(X3))

def test_a_subclass_loads_as_its_sklstm_class(tmp_path, tiny):
    class MyClassifier(LSTMClassifier):
        pass

    MyClassifier(**tiny).fit(X3, np.arange(24) % 2).save(tmp_path / "m.safetensors")
    assert type(sklstm.load(tmp_path / "m.safetensors")) is LSTMClassifier

class RecordsArrays(Callback):
    """Records two arrays in every epoch and batch of the history, as metric callbacks
    may (per-class scores, a confusion matrix)."""

    def on_batch_end(self, net, **kwargs):
        net.history.record_batch("a", np.array([1.0, 2.0]))
        net.history.record_batch("b", np.array([3, 4, 5]))

    def on_epoch_end(self, net, **kwargs):
        net.history.record("a", np.array([1.0, 2.0]))
        net.history.record("b", np.array([3, 4, 5]))


def test_arrays_in_the_history_are_saved_each_as_itself(tmp_path, tiny):
    # the arrays of one epoch (or batch) were written under one key: all loaded as the last
    est = LSTMRegressor(**tiny, callbacks=[RecordsArrays()]).fit(X3, X3[:, 0, 0])
    est.save(tmp_path / "m.safetensors")
    with pytest.warns(UserWarning, match="callbacks"):
        history = sklstm.load(tmp_path / "m.safetensors").history_
    for row in (history[-1], history[-1]["batches"][-1]):
        assert_array_equal(row["a"], [1.0, 2.0])
        assert_array_equal(row["b"], [3, 4, 5])

class RecordsATensor(Callback):
    def on_epoch_end(self, net, **kwargs):
        net.history.record("grad_norm", torch.tensor(1.5))


def test_history_entries_a_file_cannot_hold_are_warned_about_on_save(tmp_path, tiny):
    # they were left out silently (the file recorded them, nothing said so)
    est = LSTMRegressor(**tiny, callbacks=[RecordsATensor()]).fit(X3, X3[:, 0, 0])
    with pytest.warns(UserWarning, match=r"LSTMRegressor.save: the training history's "
                      r"entries \['grad_norm'\] are not saved"):
        est.save(tmp_path / "m.safetensors")
    with pytest.warns(UserWarning, match="callbacks"):
        loaded = sklstm.load(tmp_path / "m.safetensors")
    assert "grad_norm" not in loaded.history_[-1] and "train_loss" in loaded.history_[-1]



def test_a_history_entry_nested_too_deep_is_left_out_and_the_file_loads(tmp_path, tiny):
    # one nested some 500 levels (a callback's record) was saved, and the file never
    # loaded ("maximum recursion depth exceeded"); deeper, the save failed with a raw
    # RecursionError
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    deep = 1
    for _ in range(500):
        deep = [deep]
    est.history_.record("deep", deep)
    with pytest.warns(UserWarning, match=r"the training history's entries \['deep'\] are "
                      r"not saved: .*nested at most 64 levels"):
        est.save(tmp_path / "m.safetensors")
    loaded = sklstm.load(tmp_path / "m.safetensors")
    assert "deep" not in loaded.history_[-1]
    assert loaded.history_[:, "train_loss"] == est.history_[:, "train_loss"]

def test_a_history_too_long_for_the_header_is_saved_without_its_batches(tmp_path, tiny,
                                                                        monkeypatch):
    # a long fit (about 1.2 million batches: 200 epochs of 6000) made a JSON header
    # over the 100 MB safetensors writes and reads: save failed with safetensors' raw
    # "header too large", and the model could not be saved at all. The limit is
    # lowered here to what this small fit's batches exceed and its epochs do not
    from sklstm.persistence import _file

    est = LSTMClassifier(**tiny).fit(X3, np.arange(24) % 2)
    path = tmp_path / "m.safetensors"
    est.save(path)
    full = int.from_bytes(path.read_bytes()[:8], "little")
    monkeypatch.setattr(_file, "MAX_HEADER_BYTES", full - 250, raising=False)
    n_batches = sum(len(row["batches"]) for row in est.history_)
    with pytest.warns(UserWarning, match=rf"LSTMClassifier.save: the training history's "
                      rf"per-batch records \({n_batches} batches\) are not saved"):
        est.save(path)
    assert int.from_bytes(path.read_bytes()[:8], "little") <= full - 250
    loaded = sklstm.load(path)
    assert_array_equal(loaded.predict_proba(X3), est.predict_proba(X3))
    assert len(loaded.history_) == len(est.history_)
    assert all("batches" not in row for row in loaded.history_)
    assert loaded.history_[:, "train_loss"] == est.history_[:, "train_loss"]
    # a header too large even without them: a ValueError saying so, the file kept
    monkeypatch.setattr(_file, "MAX_HEADER_BYTES", 1000)
    with pytest.raises(ValueError, match=r"cannot save the model to .*m.safetensors.*: its "
                       r"header .* would take \d+ bytes, more than the 1000"):
        est.save(path)
    assert_array_equal(sklstm.load(path).predict_proba(X3), est.predict_proba(X3))
