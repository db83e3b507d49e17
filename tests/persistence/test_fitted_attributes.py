"""Fitted attributes edited in a file (its checksum recomputed): refused on load, naming
the file and the attribute, never a raw error or a silently wrong prediction later."""

import re

import numpy as np
import pandas as pd
import pytest

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor

from .helpers import MISSING, rewrite_attributes, rewrite_header

FAST = dict(hidden_size=2, max_epochs=1, tol=None, batch_size=8, random_state=0, n_threads=1,
            device="cpu")
rng = np.random.default_rng(0)
X3 = rng.normal(size=(16, 6, 2)).astype(np.float32)
TOKENS = rng.integers(1, 8, size=(16, 5))
FRAME = pd.DataFrame(X3[:, :, 0], columns=[f"t{i}" for i in range(6)])

#: The fitted models edited below: name -> (estimator, X, y).
MODELS = {
    # 3 classes, the default convolutional branch
    "classifier": (LSTMClassifier(**FAST), X3, np.array(["a", "b", "c"])[np.arange(16) % 3]),
    # 2 outputs, an autoregressive highway
    "regressor": (LSTMRegressor(**FAST, ar_window=2), X3, X3[:, -1, :]),
    "tokens": (LSTMClassifier(**FAST, embedding_dim=3), TOKENS, np.arange(16) % 2),
    "2d frame": (LSTMRegressor(**FAST), FRAME, X3[:, -1, 0]),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """name -> (the fitted estimator, its file's bytes)."""
    out = {}
    for name, (est, X, y) in MODELS.items():
        path = tmp_path_factory.mktemp("fitted") / "model.safetensors"
        est.fit(X, y).save(path)
        out[name] = est, path.read_bytes()
    return out


def _settings(**changes):
    """The fit's ``_sequence_params`` with ``changes`` (MISSING: without that entry)."""
    def edit(est):
        settings = {**est._sequence_params, **changes}
        return {"_sequence_params": {k: v for k, v in settings.items() if v is not MISSING}}
    return edit


def _set(**values):
    return lambda est: values


#: kind of damage -> (model, the attributes it sets, the attribute named, the problem)
DAMAGE = {
    # the targets against the output layer (classifier: classes_)
    "classes_ longer than the output layer": (
        "classifier", _set(classes_=np.array(["a", "b", "c", "d"])), "classes_",
        "has 4 entries, but the network has 3 output"),
    "classes_ shorter than the output layer": (
        "classifier", _set(classes_=np.array(["a", "b"])), "classes_",
        "has 2 entries, but the network has 3 output"),
    "classes_ repeated": ("classifier", _set(classes_=np.array(["a", "a", "b"])), "classes_",
                          "must be a 1-D array of at least 2 distinct labels, sorted"),
    "classes_ unsorted": ("classifier", _set(classes_=np.array(["b", "a", "c"])), "classes_",
                          "must be a 1-D array of at least 2 distinct labels"),
    # (dates are labels, as a fit takes them: a missing one, NaT, is none)
    "classes_ with a missing date": (
        "classifier", _set(classes_=np.array(["2020-01-01", "2021-01-01", "NaT"], "M8[D]")),
        "classes_", "must be a 1-D array of at least 2 distinct labels"),
    "classes_ 2-D": ("classifier", _set(classes_=np.arange(3)[None]), "classes_",
                     r"shape \(1, 3\), but must be a 1-D array"),
    "classes_ a list": ("classifier", _set(classes_=["a", "b", "c"]), "classes_",
                        r"is \['a', 'b', 'c'\], but must be a 1-D array"),
    "classes_ missing": ("classifier", _set(classes_=MISSING), "classes_",
                         "is missing .every fitted LSTMClassifier has it"),
    # (regressor: n_outputs_, target_mean_, target_scale_, _y_is_1d)
    "n_outputs_ more than the output layer": ("regressor", _set(n_outputs_=3), "n_outputs_",
                                              "is 3, but the network has 2 output"),
    "n_outputs_ zero": ("regressor", _set(n_outputs_=0), "n_outputs_", "must be an int >= 1"),
    "n_outputs_ missing": ("regressor", _set(n_outputs_=MISSING), "n_outputs_",
                           "is missing .every fitted LSTMRegressor has it"),
    "target_mean_ longer than the output layer": (
        "regressor", _set(target_mean_=np.zeros(3)), "target_mean_",
        "has 3 entries, but the network has 2 output"),
    "target_mean_ 2-D": ("regressor", _set(target_mean_=np.zeros((1, 2))), "target_mean_",
                         r"shape \(1, 2\), but must be a 1-D float array"),
    "target_mean_ of ints": ("regressor", _set(target_mean_=np.zeros(2, dtype=np.int64)),
                             "target_mean_", "dtype int64 .*must be a 1-D float array"),
    "target_mean_ not finite": ("regressor", _set(target_mean_=np.array([0.0, np.nan])),
                                "target_mean_", "must be a 1-D float array of finite values"),
    "target_scale_ zero": ("regressor", _set(target_scale_=np.array([1.0, 0.0])),
                           "target_scale_", "must be a 1-D float array of positive"),
    "target_scale_ a string": ("regressor", _set(target_scale_="1"), "target_scale_",
                               "is '1', but must be"),
    "target_scale_ missing": ("regressor", _set(target_scale_=MISSING), "target_scale_",
                              "is missing"),
    "_y_is_1d with 2 outputs": ("regressor", _set(_y_is_1d=True), "_y_is_1d",
                                "is True .1-D targets., but the network has 2 outputs"),
    # the features against the input side and each other
    "n_features_in_ not the network's": (
        "classifier", _set(n_features_in_=3), "n_features_in_",
        "is 3, but n_sequence_features_ is 2"),
    "n_features_in_ negative": ("classifier", _set(n_features_in_=-2), "n_features_in_",
                                "is -2, but must be an int >= 1"),
    "n_features_in_ a float": ("classifier", _set(n_features_in_=2.0), "n_features_in_",
                               "is 2.0, but must be an int >= 1"),
    "n_features_in_ a bool": ("classifier", _set(n_features_in_=True), "n_features_in_",
                              "is True, but must be an int"),
    "n_features_in_ missing": ("classifier", _set(n_features_in_=MISSING), "n_features_in_",
                               "is missing"),
    "n_sequence_features_ not the network's": (
        "classifier", _set(n_sequence_features_=5, n_features_in_=5), "n_sequence_features_",
        "is 5, but the network reads 2 feature"),
    "_fitted_form unknown": ("classifier", _set(_fitted_form="3d"), "_fitted_form",
                             "is '3d', but must be one of '2d', 'sequences', 'tokens'"),
    "_fitted_form tokens without an embedding": (
        "classifier", _set(_fitted_form="tokens"), "_fitted_form",
        "is 'tokens', but the network has no embedding of token ids"),
    "_fitted_form 2d with 2 features": ("classifier", _set(_fitted_form="2d"), "_fitted_form",
                                        "is '2d' .*but n_sequence_features_ is 2"),
    # (sequences may be DataFrames, whose columns are names: token ids have none)
    "feature_names_in_ after token ids": (
        "tokens", _set(feature_names_in_=np.array(["x"], dtype=object)),
        "feature_names_in_", "a fit on token ids has no column names"),
    "feature_names_in_ of another width": (
        "2d frame", _set(feature_names_in_=np.array(["x", "y"], dtype=object)),
        "feature_names_in_", "has 2 names, but n_features_in_ is 6"),
    "feature_names_in_ not strings": ("2d frame", _set(feature_names_in_=np.arange(6.0)),
                                      "feature_names_in_", "must be a 1-D array of str"),
    "_fitted_form sequences after 2D input": (
        "2d frame", _set(_fitted_form="sequences"), "n_features_in_",
        "is 6, but n_sequence_features_ is 1"),
    # token ids
    "vocab_size_ not the embedding's": ("tokens", _set(vocab_size_=4), "vocab_size_",
                                        "is 4, but the network embeds 8 token ids"),
    "vocab_size_ missing": ("tokens", _set(vocab_size_=MISSING), "vocab_size_",
                            "is missing, but the network embeds 8"),
    "vocab_size_ without token ids": ("classifier", _set(vocab_size_=10), "vocab_size_",
                                      "is 10, but the model reads no token ids"),
    "_fitted_form sequences with an embedding": (
        "tokens", _set(_fitted_form="sequences"), "_fitted_form",
        "is 'sequences', but the network embeds token ids"),
    "n_sequence_features_ of token ids": (
        "tokens", _set(n_sequence_features_=2, n_features_in_=2), "n_sequence_features_",
        "is 2, but a model fitted on token ids reads 1"),
    # the settings prediction reads
    "_sequence_params not a dict": ("classifier", _set(_sequence_params=[1]),
                                    "_sequence_params", "is \\[1\\], but must be a dict"),
    "_sequence_params without an entry": ("classifier", _settings(keep_steps=MISSING),
                                          "_sequence_params", "has the entries .* but those"),
    "_sequence_params with an unknown entry": ("classifier", _settings(scale=2),
                                               "_sequence_params", "has the entries"),
    "_sequence_params half of the regressor's own": (
        "regressor", _settings(relative_target=MISSING), "_sequence_params",
        "has the entries"),
    "seq_len negative": ("classifier", _settings(seq_len=-1), "_sequence_params",
                         "The 'seq_len' parameter .* Got -1"),
    "keep_steps unknown": ("classifier", _settings(keep_steps="middle"), "_sequence_params",
                           "The 'keep_steps' parameter"),
    "downsample zero": ("classifier", _settings(downsample=0), "_sequence_params",
                        "The 'downsample' parameter"),
    "relative unknown": ("regressor", _settings(relative="median"), "_sequence_params",
                         "The 'relative' parameter"),
    "relative_target not a column": ("regressor", _settings(relative="last", relative_target=5),
                                     "_sequence_params", "has relative_target=5, but the "
                                     "model reads 2 feature"),
    "tokens setting on sequences": ("classifier", _settings(tokens=True), "_sequence_params",
                                    "has tokens=True, but _fitted_form is 'sequences'"),
    "downsample_ not the setting's": ("classifier", _set(downsample_=2), "downsample_",
                                      "is 2, but the fit's setting .* is downsample=1"),
    # beyond the int64 of an index (the setting as well): prediction failed with numpy's
    # raw "Cannot cast array data from dtype('O') to dtype('int64')"
    "downsample_ beyond 64 bits": (
        "classifier", lambda est: {"downsample_": 2**63, **_settings(downsample=2**63)(est)},
        "downsample_", "is 9223372036854775808, but must be an int >= 1 that fits in 64 bits"),
    # the padding id the fit's vocabulary has a row for: beyond it, every prediction of
    # sequences of unequal lengths failed, blaming a token id of X the user never gave
    "padding_idx beyond the vocabulary": (
        "tokens", _settings(padding_idx=8), "_sequence_params",
        "has padding_idx=8, but the network embeds 8 token ids .0..7."),
    # the branches the fit resolved
    "conv_channels_ not the network's": ("classifier", _set(conv_channels_=(4, 8, 4)),
                                         "conv_channels_", "has convolution blocks of"),
    "conv_channels_ without a branch": ("regressor", _set(conv_channels_=(4, 8, 4)),
                                        "conv_channels_", "has no convolutional branch"),
    "ar_window_ without a highway": ("classifier", _set(ar_window_=3), "ar_window_",
                                     "is 3, but the network has no autoregressive highway"),
    "ar_window_ not the highway's": ("regressor", _set(ar_window_=3), "ar_window_",
                                     "is 3, but the network has an autoregressive highway of 4"),
    "_ar_scale of another length": ("regressor", _set(_ar_scale=(1.0,)), "_ar_scale",
                                    "has 1 value.s., but the network has 2 input feature"),
    "_ar_scale negative": ("regressor", _set(_ar_scale=(1.0, -1.0)), "_ar_scale",
                           "must be None or a tuple of positive finite floats"),
    "split_level_ not a flag": ("classifier", _set(split_level_="yes"), "split_level_",
                                "must be True or False"),
    # the fit's outcome
    "batch_size_ zero": ("classifier", _set(batch_size_=0), "batch_size_",
                         "must be an int >= 1"),
    "lr_ infinite": ("regressor", _set(lr_=float("inf")), "lr_", "must be a finite float > 0"),
    # an int beyond a float's range: math.isfinite raised a bare OverflowError
    "fit_time_ beyond a float": ("regressor", _set(fit_time_=10**400), "fit_time_",
                                 "must be a finite float >= 0"),
    "n_epochs_ not the history's": ("classifier", _set(n_epochs_=7), "n_epochs_",
                                    "is 7, but the training history has 1 epoch"),
    "memory_events_ not a list": ("classifier", _set(memory_events_={}), "memory_events_",
                                  "must be a list of dicts"),
    "converged_ missing": ("regressor", _set(converged_=MISSING), "converged_", "is missing"),
}


def _file(saved, model, tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(saved[model][1])
    return path


@pytest.mark.parametrize("model", sorted(MODELS))
def test_an_unedited_file_passes_the_checks(saved, model, tmp_path):
    est, _ = saved[model]
    X = MODELS[model][1]
    loaded = sklstm.load(_file(saved, model, tmp_path))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_an_edited_fitted_attribute_is_refused_on_load(saved, damage, tmp_path):
    model, values, name, problem = DAMAGE[damage]
    path = _file(saved, model, tmp_path)
    rewrite_attributes(path, **values(saved[model][0]))
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))} is not a valid sklstm "
                       rf"model file: fitted attribute '{name}' .*{problem}.*; the fitted "
                       r"attributes were changed after the fit .* refit the estimator and "
                       "save it again$"):
        sklstm.load(path)


@pytest.mark.parametrize(("history", "shown"), [
    ({"__dict__": {}}, "{}"),
    ([1, 2], r"\[1, 2\]"),
    ([{"__dict__": {"epoch": 1, "batches": 3}}], r"\[{'batches': 3, 'epoch': 1}\]"),
], ids=["a dict", "numbers", "batches not a list"])
def test_a_history_that_is_not_a_list_of_epochs_is_refused(saved, history, shown, tmp_path):
    path = _file(saved, "classifier", tmp_path)
    rewrite_header(path, lambda header: header.update(history=history))
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))} is not a valid sklstm "
                       rf"model file: the training history is {shown}, but must be a list "
                       "of epochs"):
        sklstm.load(path)


def test_every_check_runs_before_the_estimator_is_built(saved, tmp_path, monkeypatch):
    """No estimator (and no network) is made from a refused file."""
    path = _file(saved, "classifier", tmp_path)
    rewrite_attributes(path, classes_=np.array(["a", "b"]))
    built = []
    monkeypatch.setattr(LSTMClassifier, "_from_model_state",
                        classmethod(lambda cls, *args: built.append(cls)))
    with pytest.raises(ValueError, match="fitted attribute 'classes_'"):
        sklstm.load(path)
    assert built == []


@pytest.mark.parametrize("layers", [2, 10**6])
def test_a_num_layers_the_weights_do_not_have_is_refused_before_a_network_is_built(
        saved, layers, tmp_path, monkeypatch):
    """The reference network of the parameters is built to compare the weights with:
    for a crafted num_layers of 10**5 that took minutes (torch's LSTM redoes the list of
    its weights for each one added)."""
    path = _file(saved, "classifier", tmp_path)
    rewrite_header(path, lambda header: header["params"].update(num_layers=layers))
    monkeypatch.setattr("sklstm.estimators._persistence.meta_module",
                        lambda net: pytest.fail("a network was built"))
    with pytest.raises(ValueError, match=rf"not a valid sklstm model file: the parameter "
                       rf"num_layers is {layers}, but the network's weights have 1 LSTM "
                       r"layer\(s\); load the file estimator.save wrote"):
        sklstm.load(path)
