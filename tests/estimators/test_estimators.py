"""Behaviour of LSTMClassifier and LSTMRegressor: formats, reproducibility,
persistence, searches, and the hyperparameters that shape training."""

import math
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from skorch.callbacks import Callback

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._compat.torch import fused_optimizer_devices
from sklstm.preprocessing import SequenceScaler
from sklstm.resources import resolve_device


def _output(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


@pytest.fixture(params=["classifier", "regressor"])
def fitted_pair(request, seq_data, tiny):
    """(unfitted estimator, X, y) for each estimator type."""
    X, y_class, y_reg = seq_data
    if request.param == "classifier":
        return LSTMClassifier(**tiny), X, y_class
    return LSTMRegressor(**tiny), X, y_reg


def test_classifier_labels_and_probabilities(seq_data, tiny):
    X, _, y_reg = seq_data
    y = np.array(["low", "mid", "high"])[np.digitize(y_reg, [-1, 1])]
    clf = LSTMClassifier(**tiny).fit(X, y)
    assert_array_equal(clf.classes_, ["high", "low", "mid"])
    proba = clf.predict_proba(X)
    assert proba.shape == (64, 3)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-6)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_classifier_learns(seq_data):
    X, y, _ = seq_data
    clf = LSTMClassifier(hidden_size=16, max_epochs=40, lr=0.02, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9


def _bump_series(rng, y):
    """Noisy series of 40 steps and 2 features, the first with a bump at a third of the
    way (class 0) or two thirds (class 1): told apart by when the event comes."""
    X = rng.normal(size=(len(y), 40, 2))
    centre = (y + 1) * 40 / 3
    X[:, :, 0] += 2.0 * np.exp(-0.5 * ((np.arange(40) - centre[:, None]) / 2.0) ** 2)
    return X


def test_classifier_defaults_learn_classes_told_apart_by_when_an_event_comes():
    """At the defaults with weight_decay=1e-3, Adam's penalty pulled the fit to memorised
    noise (training accuracy 1.0, new data 0.47, converged_ True); at 1e-4 it learns."""
    rng = np.random.default_rng(10)
    y = rng.integers(0, 2, size=300)
    X = _bump_series(rng, y)
    clf = LSTMClassifier(random_state=0).fit(X[:210], y[:210])
    assert clf.converged_
    assert clf.score(X[210:], y[210:]) >= 0.85


def test_balanced_class_weight_learns_a_rare_class():
    """One series in ten of the rare class: unweighted, the defaults settle near the
    majority class (balanced accuracy 0.52 and 0.47 on new data for these series and
    seed 11's); class_weight="balanced" learns both (0.89, 0.88)."""
    rng = np.random.default_rng(10)
    y = (rng.random(600) < 0.1).astype(int)
    X = _bump_series(rng, y)
    clf = LSTMClassifier(class_weight="balanced", random_state=0).fit(X[:400], y[:400])
    assert clf.converged_
    assert balanced_accuracy_score(y[400:], clf.predict(X[400:])) >= 0.75


@pytest.mark.parametrize("y_shape", [(64,), (64, 1), (64, 3)])
def test_regressor_output_shape_follows_y(seq_data, tiny, y_shape):
    X, _, y_reg = seq_data
    y = np.repeat(y_reg[:, None], y_shape[1], axis=1) if len(y_shape) == 2 else y_reg
    reg = LSTMRegressor(**tiny).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == y_shape and pred.dtype == np.float64
    assert reg.n_outputs_ == (1 if len(y_shape) == 1 else y_shape[1])


def test_regressor_learns(seq_data):
    X, _, y = seq_data
    reg = LSTMRegressor(hidden_size=16, max_epochs=60, lr=0.02, random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.8


def test_input_forms_are_equivalent(fitted_pair):
    """float64, int-valued, lists and DataFrames convert to the same data."""
    est, X, y = fitted_pair
    X2 = np.round(X[:, :, 0] * 4)  # 2D univariate, integer-valued
    ref = _output(clone(est).fit(X2.astype(np.float32), y), X2)
    for form in (X2.astype(np.int64), X2.astype(np.float64), X2.tolist(), pd.DataFrame(X2)):
        assert_allclose(_output(clone(est).fit(form, y), form), ref, rtol=1e-6)


@pytest.mark.parametrize("given", ["requires_grad", "bfloat16"])
def test_torch_targets_are_read_as_the_arrays_they_hold(fitted_pair, given):
    # as X's are (tests/data/test_validation.py); torch refused y before: "Can't call
    # numpy() on Tensor that requires grad", "Got unsupported ScalarType BFloat16"
    est, X, y = fitted_pair
    est.set_params(device="cpu")
    if y.dtype.kind != "f":  # the classifier's labels, as numbers
        y = np.unique(y, return_inverse=True)[1]
    tensor = torch.tensor(y, dtype=torch.float32)
    tensor = tensor.requires_grad_() if given == "requires_grad" else tensor.bfloat16()
    reference = tensor.detach().float().numpy()
    assert_allclose(_output(clone(est).fit(X, tensor), X),
                    _output(clone(est).fit(X, reference), X))


def test_n_features_in(fitted_pair):
    est, X, y = fitted_pair
    assert clone(est).fit(X, y).n_features_in_ == 3
    assert clone(est).fit(X[:, :, 0], y).n_features_in_ == 12
    df = pd.DataFrame(X[:, :, 0], columns=[f"t{i}" for i in range(12)])
    assert list(clone(est).fit(df, y).feature_names_in_) == list(df.columns)


def test_3d_predict_accepts_other_lengths(fitted_pair):
    est, X, y = fitted_pair
    est.fit(X, y)
    assert len(est.predict(X[:, :5])) == len(est.predict(np.concatenate([X, X], axis=1)))


@pytest.mark.parametrize("keep_steps", ["last", "first"])
def test_seq_len_keeps_the_chosen_steps(fitted_pair, keep_steps):
    est, X, y = fitted_pair
    est.set_params(seq_len=4, keep_steps=keep_steps).fit(X, y)
    kept = X[:, -4:] if keep_steps == "last" else X[:, :4]
    assert_allclose(_output(est, X), _output(est, kept), rtol=1e-6)
    # the other end of the sequence is ignored: changing it changes nothing
    other = X.copy()
    if keep_steps == "last":
        other[:, :-4] = 0
    else:
        other[:, 4:] = 0
    assert_allclose(_output(est, other), _output(est, X), rtol=1e-6)
    full = clone(est).set_params(seq_len=None).fit(X, y)
    assert not np.allclose(_output(full, X), _output(est, X))


def test_reproducible_and_clone(fitted_pair):
    est, X, y = fitted_pair
    state = torch.get_rng_state()
    first = _output(clone(est).fit(X, y), X)
    assert torch.equal(state, torch.get_rng_state())  # global torch RNG untouched
    assert_array_equal(_output(clone(est).fit(X, y), X), first)
    assert_array_equal(_output(clone(clone(est)).fit(X, y), X), first)
    other = _output(clone(est).set_params(random_state=1).fit(X, y), X)
    assert not np.allclose(other, first)


@pytest.mark.parametrize("roundtrip", ["pickle", "joblib"])
def test_persistence_round_trip(fitted_pair, roundtrip, tmp_path):
    est, X, y = fitted_pair
    est.fit(X, y)
    if roundtrip == "pickle":
        loaded = pickle.loads(pickle.dumps(est))
    else:
        joblib.dump(est, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    assert_array_equal(_output(loaded, X), _output(est, X))
    assert loaded.n_updates_ == est.n_updates_


def test_grid_search_in_pipeline(seq_data):
    X, y, _ = seq_data
    pipe = Pipeline([("scale", SequenceScaler()),
                     ("lstm", LSTMClassifier(hidden_size=4, max_epochs=1, random_state=0))])
    grid = {"lstm__batch_size": [8, 16], "lstm__accumulation_steps": [1, 2],
            "lstm__seq_len": [4, None]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_.named_steps["lstm"]
    assert best.effective_batch_size_ == best.batch_size * best.accumulation_steps
    assert_array_equal(pickle.loads(pickle.dumps(search)).predict(X), search.predict(X))


def test_every_public_fitted_attribute_is_documented(fitted_pair):
    est, X, y = fitted_pair
    est.set_params(max_epochs=1, batch_size="auto").fit(X, y)
    # an entry's name, or one of a joint entry's ("target_mean_, target_scale_ : ...")
    documented = {name for line in type(est).__doc__.splitlines() if " : " in line
                  for name in line.split(" : ")[0].strip().split(", ")}
    public = [name for name in vars(est) if name.endswith("_") and not name.startswith("_")]
    assert sorted(set(public) - documented) == []


@pytest.mark.parametrize("Est", [LSTMClassifier, LSTMRegressor])
def test_history_of_an_unfitted_estimator_says_it_is_not_fitted(Est):
    est = Est()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        _ = est.history_
    assert not hasattr(est, "history_")  # (NotFittedError is an AttributeError)


def test_fit_records_cost(fitted_pair):
    est, X, y = fitted_pair
    est.set_params(batch_size=5, accumulation_steps=2, max_epochs=3).fit(X, y)
    assert est.n_updates_ == 3 * math.ceil(64 / 10)
    assert est.n_epochs_ == 3 and len(est.history_) == 3
    assert est.fit_time_ > 0
    assert est.device_ == resolve_device("auto")  # CUDA where there is one


@pytest.mark.parametrize(("rule", "factor"), [(None, 1.0), ("linear", 4.0), ("sqrt", 2.0)])
def test_lr_scaling(fitted_pair, rule, factor):
    est, X, y = fitted_pair
    est.set_params(lr=0.01, batch_size=32, accumulation_steps=2, base_batch_size=16,
                   lr_scaling=rule).fit(X, y)
    assert est.lr_ == pytest.approx(0.01 * factor)
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(est.lr_)


def test_warmup_ramps_learning_rate(fitted_pair):
    est, X, y = fitted_pair
    est.set_params(lr=0.01, warmup_epochs=3, max_epochs=1).fit(X, y)
    # one epoch done out of 3 warmup epochs: factor 1/4 -> 2/4
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.005)


def test_optimizer_params_reach_the_optimizer(fitted_pair):
    est, X, y = fitted_pair
    est.set_params(optimizer="sgd", optimizer_params={"momentum": 0.9}, weight_decay=2e-3)
    group = est.fit(X, y).net_.optimizer_.param_groups[0]
    assert isinstance(est.net_.optimizer_, torch.optim.SGD)
    assert (group["momentum"], group["weight_decay"]) == (0.9, 2e-3)


def test_the_default_weight_decay_applies_and_gives_way_where_it_cannot(seq_data, tiny):
    X, y, _ = seq_data
    # the classifier's default L2 penalty reaches Adam; the regressor has none
    assert LSTMClassifier(**tiny).fit(X, y).net_.optimizer_.param_groups[0][
        "weight_decay"] == 1e-4
    assert LSTMRegressor(**tiny).fit(X, seq_data[2]).net_.optimizer_.param_groups[0][
        "weight_decay"] == 0
    # at its default it gives way to optimizer_params' and to an optimizer without one
    given = LSTMClassifier(**tiny, optimizer_params={"weight_decay": 0.05}).fit(X, y)
    assert given.net_.optimizer_.param_groups[0]["weight_decay"] == 0.05
    # (parameter handling, pinned to the CPU; no level path: LBFGS's linear steps
    # overshoot on it, see tests/training/test_accumulation.py)
    lbfgs = dict(optimizer=torch.optim.LBFGS, lr=0.5, optimizer_params={"max_iter": 2},
                 split_level=False, device="cpu")
    assert isinstance(LSTMClassifier(**{**tiny, **lbfgs}).fit(X, y).net_.optimizer_,
                      torch.optim.LBFGS)
    # the default written as a numpy number is still the default
    assert isinstance(LSTMClassifier(**{**tiny, **lbfgs}, weight_decay=np.float64(1e-4))
                      .fit(X, y).net_.optimizer_, torch.optim.LBFGS)
    # a penalty the user set is not dropped: refused before training
    with pytest.raises(ValueError, match="LBFGS does not take; set weight_decay=0"):
        LSTMClassifier(**{**tiny, **lbfgs}, weight_decay=0.01).fit(X, y)


needs_fused_cpu = pytest.mark.skipif(
    "cpu" not in fused_optimizer_devices(),
    reason="this torch build has no fused CPU optimizer kernels")


@pytest.mark.parametrize("optimizer_params, fused", [
    (None, True), ({"fused": False}, False), ({"foreach": True}, None),
])
@needs_fused_cpu
def test_adam_is_fused_unless_the_user_says_otherwise(fitted_pair, optimizer_params, fused):
    est, X, y = fitted_pair
    est.set_params(optimizer="adamw", optimizer_params=optimizer_params, max_epochs=1)
    group = est.fit(X, y).net_.optimizer_.param_groups[0]
    assert group["fused"] is fused


@needs_fused_cpu  # without the kernel both fits would be the same loop
def test_fused_adam_learns_like_the_per_tensor_loop(fitted_pair):
    est, X, y = fitted_pair
    # same update rule, only the order of float operations differs
    fused = _output(est.set_params(max_epochs=3).fit(X, y), X)
    loop = _output(est.set_params(optimizer_params={"fused": False}).fit(X, y), X)
    assert_allclose(fused, loop, atol=1e-4)


def test_early_stopping_holds_out_data_and_stops(seq_data):
    X, _, _ = seq_data
    noise = np.random.default_rng(3).normal(size=64)  # nothing to learn: stops early
    reg = LSTMRegressor(hidden_size=8, max_epochs=60, lr=0.05, early_stopping=True,
                        validation_fraction=0.25, patience=2, random_state=0).fit(X, noise)
    assert reg.n_epochs_ < 60
    assert "valid_loss" in reg.history_[-1]
    assert sum(reg.history_[0, "batches", :, "train_batch_size"]) == 48


class _Recorder(Callback):
    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


def test_user_callbacks_run_on_a_copy(fitted_pair):
    est, X, y = fitted_pair
    recorder = _Recorder()
    est.set_params(callbacks=[recorder], max_epochs=3).fit(X, y)
    assert recorder.epochs == 0  # the parameter itself is left untouched
    fitted = [cb for _, cb in est.net_.callbacks_ if isinstance(cb, _Recorder)]
    assert len(fitted) == 1 and fitted[0].epochs == 3


def test_gradient_clip_uses_skorch_callback(fitted_pair):
    est, X, y = fitted_pair
    est.set_params(gradient_clip=0.5).fit(X, y)
    assert dict(est.net_.callbacks_)["gradient_clip"].gradient_clip_value == 0.5


def test_n_threads_is_restored(fitted_pair):
    est, X, y = fitted_pair
    before = torch.get_num_threads()
    est.set_params(n_threads=2).fit(X, y).predict(X)
    assert torch.get_num_threads() == before


def test_explicit_cpu_device(fitted_pair):
    est, X, y = fitted_pair
    assert est.set_params(device="cpu").fit(X, y).device_ == torch.device("cpu")
    assert next(est.net_.module_.parameters()).device.type == "cpu"
