"""``estimator.save`` and ``sklstm.load``: exact round trips, what is not saved, devices."""

import json
import os
import pickle
import stat
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.datasets import make_token_sentiment
from sklstm.persistence._codec import decode, encode

from .helpers import rewrite_header

rng = np.random.default_rng(0)
X3 = rng.normal(size=(24, 6, 2)).astype(np.float32)
RAGGED = [rng.normal(size=(n, 2)) for n in rng.integers(2, 9, size=24)]
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


def test_save_needs_a_fitted_estimator(tmp_path):
    with pytest.raises(NotFittedError):
        LSTMClassifier().save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize(("name", "error", "problem"), [
    ("no/such/dir/m.safetensors", FileNotFoundError,
     r"the directory 'no/such/dir' does not exist; create it first"),
    ("taken", IsADirectoryError, "it is a directory; give a file name"),
], ids=["missing directory", "a directory"])
def test_save_where_no_file_can_be_written_names_the_path_and_leaves_nothing(
        name, error, problem, tmp_path, tiny, monkeypatch):
    (tmp_path / "taken").mkdir()
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    monkeypatch.chdir(tmp_path)  # a relative path, as users type it
    with pytest.raises(error, match=rf"cannot save the model to '{name}': {problem}"):
        est.save(name)
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no temporary file either


@pytest.mark.parametrize(("changed", "problem"), [
    ({"hidden_size": 3}, r"module tensor 'lstm.weight_ih_l0' is \(\(16, 2\)"),
    ({"bidirectional": True}, r"module tensor 'lstm.weight_ih_l0_reverse' is None"),
    ({"embedding_dim": 3}, "make no network"),
    ({"hidden_size": -1}, "'hidden_size' parameter of LSTMClassifier must be an int"),
])
def test_save_refuses_parameters_changed_after_the_fit(changed, problem, tmp_path, tiny):
    # the file would not load: set_params changed what rebuilds the network, not the network
    est = LSTMClassifier(**tiny).fit(X3, np.arange(24) % 2)
    fitted_with = est.get_params()
    with pytest.raises(ValueError, match=r"LSTMClassifier.save: the parameters were changed "
                       rf"after the fit .*{problem}.*Set them back .* or refit"):
        est.set_params(**changed).save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
    # what only a refit reads may change (dropout is off in prediction): the file loads,
    # with the new value
    est.set_params(**fitted_with).set_params(max_epochs=7, dropout=0.25)
    est.save(tmp_path / "m.safetensors")
    loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.max_epochs == 7 and loaded.dropout == 0.25
    assert_array_equal(loaded.predict_proba(X3), est.predict_proba(X3))


@pytest.mark.parametrize(("changed", "problem"), [
    ({"pooling": "max"}, "pooling='max', but the fitted one has pooling='mean'"),
    ({"pooling": "last"}, "pooling='last', but the fitted one has pooling='mean'"),
    ({"precision": "bf16"}, "precision='bfloat16', but the fitted one has precision='float32'"),
])
def test_save_refuses_parameters_that_make_the_same_weights_compute_otherwise(
        changed, problem, tmp_path, tiny):
    # the file loaded, and its model predicted otherwise than the one saved, silently
    est = LSTMRegressor(**{**tiny, "device": "cpu"}, pooling="mean").fit(X3, X3[:, 0, 0])
    with pytest.raises(ValueError, match=r"LSTMRegressor.save: the parameters were changed "
                       rf"after the fit .*: they make a network with {problem}\. Set them back"):
        est.set_params(**changed).save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


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


def test_optimizer_classes_of_torch_tuples_and_paths_round_trip(tmp_path, tiny):
    est = LSTMRegressor(**tiny, optimizer=torch.optim.AdamW,
                        optimizer_params={"betas": (0.8, 0.9)},
                        checkpoint=tmp_path / "run").fit(X3, X3[:, 0, 0])
    est.save(tmp_path / "m.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a path was "a parameter that is code"
        loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.optimizer is torch.optim.AdamW
    assert loaded.optimizer_params == {"betas": (0.8, 0.9)}
    assert loaded.checkpoint == tmp_path / "run" and isinstance(loaded.checkpoint, Path)


def test_numpy_parameters_are_saved_as_numbers(tmp_path, tiny):
    est = LSTMRegressor(**{**tiny, "hidden_size": np.int64(3), "lr": np.array(0.02)})
    est.fit(X3, X3[:, 0, 0]).save(tmp_path / "m.safetensors")
    loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.hidden_size == 3 and type(loaded.hidden_size) is int
    assert loaded.lr == 0.02 and type(loaded.lr) is float


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
    with pytest.warns(UserWarning, match=r"\['retired_param'\] .* are ignored"):
        loaded = sklstm.load(path)
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


def test_dicts_with_keys_that_are_not_str_round_trip():
    # class_weight's keys are class labels: such a dict was "not saved", as if it were code
    value = {0: 1.0, np.int64(1): 3.0, (2, "x"): [0.5], "lo": np.float32(2.0)}
    tensors = {}
    data = encode(value, "attr.param.class_weight", tensors)
    assert json.loads(json.dumps(data)) == data
    decoded = decode(data, tensors)
    assert decoded == {0: 1.0, 1: 3.0, (2, "x"): [0.5], "lo": 2.0}
    assert [type(key) for key in decoded] == [int, int, tuple, str]
    with pytest.raises(ValueError, match="bad __items__ key"):
        decode({"__items__": [[[1, 2], 3.0]]}, {})


def test_class_weight_by_label_is_saved(tmp_path, tiny):
    est = LSTMClassifier(**tiny, class_weight={0: 1.0, 1: 3.0}).fit(X3, np.arange(24) % 2)
    est.save(tmp_path / "m.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it warned that class_weight was code, not saved
        loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.class_weight == {0: 1.0, 1: 3.0}


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_saved_file_is_readable_as_a_new_file_is(tmp_path, tiny):
    # safetensors creates its files readable by their owner only (0600): a model saved
    # for a server running as another user could not be read by it
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    path = tmp_path / "m.safetensors"
    previous = os.umask(0o022)
    try:
        est.save(path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.chmod(0o640)  # saved again, the file keeps the permissions it was given
    est.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_paths_with_a_home_directory_bytes_or_no_file_name(tmp_path, tiny, monkeypatch):
    est = LSTMRegressor(**tiny).fit(X3, X3[:, 0, 0])
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))  # (Windows' home)
    # "~/..." was a directory named "~", which the message advised to create
    est.save("~/m.safetensors")
    assert (tmp_path / "m.safetensors").is_file()
    assert_array_equal(sklstm.load("~/m.safetensors").predict(X3), est.predict(X3))
    # bytes loaded as "not an sklstm model file"
    est.save(os.fsencode(tmp_path / "b.safetensors"))
    assert_array_equal(sklstm.load(os.fsencode(tmp_path / "b.safetensors")).predict(X3),
                       est.predict(X3))
    monkeypatch.chdir(tmp_path)  # the error named the temporary file
    with pytest.raises(ValueError, match="cannot save the model to '': it names no file"):
        est.save("")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.safetensors", "m.safetensors"]


def test_save_during_the_fit_is_refused(tmp_path, tiny):
    # the file lacked what the fit sets when it ends: it never loaded, its load blaming
    # an edit of the file
    refusals = []

    class SavesEachEpoch(Callback):
        def on_epoch_end(self, net, **kwargs):
            with pytest.raises(NotFittedError, match=r"LSTMRegressor.save: the fit has not "
                               r"finished .*\(fit_time_\.\.\.\) is missing") as refused:
                est.save(tmp_path / "m.safetensors")
            refusals.append(refused)

    est = LSTMRegressor(**tiny, callbacks=[SavesEachEpoch()])
    est.fit(X3, X3[:, 0, 0])
    assert len(refusals) == tiny["max_epochs"]
    assert not (tmp_path / "m.safetensors").exists()
    est.save(tmp_path / "m.safetensors")  # once the fit has returned
    with pytest.warns(UserWarning, match="callbacks"):
        assert_array_equal(sklstm.load(tmp_path / "m.safetensors").predict(X3), est.predict(X3))


def test_a_fitted_attribute_a_file_cannot_hold_is_refused_on_save(tmp_path, tiny):
    # datetime labels were left out of the file, which then never loaded (blamed on an edit)
    y = np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]")[np.arange(24) % 2]
    est = LSTMClassifier(**tiny).fit(X3, y)
    with pytest.raises(ValueError, match=r"LSTMClassifier.save: the fitted attribute "
                       r"'classes_' is an array of dtype datetime64\[D\] .* pickle the "
                       r"estimator \(joblib.dump\) instead"):
        est.save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


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
