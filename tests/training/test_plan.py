"""The fit as data: one immutable plan, nets built from it alone, fitted state set in
one place (the prediction state before the first epoch, the outcome at the end)."""

import dataclasses

import numpy as np
import pytest
from skorch.callbacks import Callback

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.estimators._data_checks import check_fit_data
from sklstm.training.setup import build_net


def test_the_plan_is_immutable_and_holds_the_fits_decisions(seq_data, tiny):
    X, y, _ = seq_data
    est = LSTMClassifier(**{**tiny, "accumulation_steps": 2, "lr_scaling": "linear",
                            "device": "cpu"})
    plan, *_ = est._prepare(X, y)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.batch_size = 4
    assert (plan.n_inputs, plan.n_outputs, plan.effective_batch_size) == (3, 2, 16)
    assert plan.lr == pytest.approx(tiny["lr"] * 16 / 16)  # base_batch_size 16
    assert plan.device.type == "cpu" and plan.stratified


@pytest.mark.parametrize(("params", "filled"), [
    ({"batch_size": 4096}, 48),
    ({"batch_size": 16, "accumulation_steps": 3}, 48),  # filled exactly: as before
    ({"batch_size": 4096, "early_stopping": True, "validation_fraction": 0.25}, 36),
], ids=["larger than the data", "exact fill", "larger than the training split"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 2 epochs
def test_lr_scaling_follows_the_batch_the_data_can_fill(seq_data, tiny, params, filled):
    X, y, _ = seq_data
    est = LSTMClassifier(**{**tiny, "device": "cpu", "lr_scaling": "linear",
                            "base_batch_size": 16, **params}).fit(X[:48], y[:48])
    # (scaled for 4096 samples, lr_ was 0.03 * 256 = 7.68)
    assert est.effective_batch_size_ == filled
    # the micro-batch and the accumulation reported are the ones the data filled too
    assert est.batch_size_ <= filled <= est.batch_size_ * est.accumulation_steps_
    assert est.lr_ == pytest.approx(tiny["lr"] * filled / 16)
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(est.lr_)


def test_a_base_batch_size_without_lr_scaling_warns_that_it_does_nothing(seq_data, tiny):
    X, y, _ = seq_data
    with pytest.warns(UserWarning, match=r"base_batch_size=64 has no effect with "
                                         r"lr_scaling=None"):
        est = LSTMClassifier(**tiny, base_batch_size=64).fit(X, y)
    assert est.lr_ == est.lr  # (what it says: lr as it is)


def test_a_net_is_built_from_the_plan_alone(seq_data, tiny):
    X, _, y = seq_data
    plan, *_ = LSTMRegressor(**{**tiny, "device": "cpu"})._prepare(X, y)
    other = dataclasses.replace(plan, hidden_size=7, batch_size=3, accumulation_steps=5)
    net = build_net(other).initialize()
    assert net.module_.lstm.hidden_size == 7
    assert (net.batch_size, net.micro_batch_size, net.lr) == (15, 3, other.lr)


class _PredictsEveryEpoch(Callback):
    """Predicts with the estimator being fitted (kept, not copied, by the fit)."""

    def __init__(self):
        self.estimator, self.X, self.seen = None, None, []

    def __deepcopy__(self, memo):
        return self

    def on_epoch_end(self, net, **kwargs):
        est = self.estimator
        self.seen.append((est.predict(self.X).shape, hasattr(est, "classes_"),
                          hasattr(est, "fit_time_"), hasattr(est, "converged_")))


def test_callbacks_can_predict_during_the_fit_and_see_no_outcome_yet(seq_data, tiny):
    X, y, _ = seq_data
    spy = _PredictsEveryEpoch()
    est = LSTMClassifier(**{**tiny, "device": "cpu", "callbacks": [spy]})
    spy.estimator, spy.X = est, X[:5]
    est.fit(X, y)
    est.fit(X, y)  # a refit: the first fit's outcome is gone until the new one ends
    assert spy.seen == [((5,), True, False, False)] * 4
    assert est.fit_time_ > 0 and est.converged_ is False


def test_a_refit_keeps_nothing_of_the_earlier_fit(tiny):
    rng = np.random.default_rng(0)
    tokens, X = rng.integers(1, 9, size=(32, 6)), rng.normal(size=(32, 6, 2))
    y = np.arange(32) % 2
    est = LSTMClassifier(**{**tiny, "device": "cpu", "embedding_dim": 3,
                            "batch_size": "auto", "max_memory": "4GiB"}).fit(tokens, y)
    assert hasattr(est, "vocab_size_") and hasattr(est, "batch_size_trials_")
    est.set_params(embedding_dim=None, batch_size=8).fit(X, y)
    assert not hasattr(est, "vocab_size_") and not hasattr(est, "batch_size_trials_")


@pytest.mark.parametrize("params, X_y, match", [
    ({"early_stopping": True}, lambda X, y: (X[:5], [0, 0, 0, 0, 1]), "class 1 has only"),
    ({}, lambda X, y: (X, y[:-1]), "X has 64 samples but y has 63"),
    ({"vocab_size": 10}, lambda X, y: (X, y), "vocab_size is only used for token input"),
    ({"hidden_size": 0}, lambda X, y: (X, y), "'hidden_size' parameter"),
])
def test_check_fit_data_refuses_what_fit_refuses(seq_data, tiny, params, X_y, match):
    X, y, _ = seq_data
    est = LSTMClassifier(**{**tiny, **params})
    Xb, yb = X_y(X, y)
    with pytest.raises(ValueError, match=match):
        check_fit_data(est, Xb, yb)
    with pytest.raises(ValueError, match=match):
        est.fit(Xb, yb)
    assert not hasattr(est, "classes_")  # neither left anything behind


@pytest.mark.parametrize(("weight_decay", "optimizer_params", "expected"), [
    (0.0, None, 0.0),  # AdamW's own default is 0.01: passing nothing applied it
    (1e-3, None, 1e-3),
    (0.0, {"weight_decay": 0.05}, 0.05),
])
def test_weight_decay_is_the_penalty_also_where_the_optimizer_has_one_of_its_own(
        seq_data, tiny, weight_decay, optimizer_params, expected):
    X, _, y = seq_data
    plan, *_ = LSTMRegressor(**{**tiny, "device": "cpu"}, optimizer="adamw",
                             weight_decay=weight_decay,
                             optimizer_params=optimizer_params)._prepare(X, y)
    assert build_net(plan).initialize().optimizer_.param_groups[0]["weight_decay"] == expected
