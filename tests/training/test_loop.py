"""sklstm's epoch loop (sklstm.training.loop) must train as skorch's own loop does.

Each case fits once with SequenceNet and once with :class:`StockLoopNet`, the same net
in skorch's own epoch loop, hooks and bookkeeping; histories (values and key order)
and weights must match exactly.
"""

import json

import numpy as np
import pytest
import torch
from skorch import NeuralNet
from skorch.callbacks import BatchScoring, Callback, LRScheduler, SacredLogger
from skorch.utils import TeeGenerator, noop, train_loss_score, valid_loss_score
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR

import sklstm.training.setup as base
from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data.batching import BatchLoader
from sklstm.data.tensors import SequenceDataset
from sklstm.exceptions import FitInterruptedWarning
from sklstm.network import LSTMNetwork
from sklstm.training import SequenceNet
from sklstm.training.batch_losses import LossBuffer

from ..settings import TINY


class StockLoopNet(SequenceNet):
    """SequenceNet's train step in skorch's own epoch loop: skorch's ``notify``,
    ``run_single_epoch`` (an ``.item()`` per batch), ``get_loss`` and history rows,
    train mode set at every step and every ``on_grad_computed`` notified."""

    notify = NeuralNet.notify
    run_single_epoch = NeuralNet.run_single_epoch
    get_loss = NeuralNet.get_loss
    on_batch_begin = NeuralNet.on_batch_begin

    def in_training_mode(self, training=True):
        return False

    def _notify_grad_computed(self, batch):
        self.notify("on_grad_computed", named_parameters=TeeGenerator(
            self.get_all_learnable_params()), batch=batch, training=True)


class BatchRecorder(Callback):
    def on_batch_end(self, net, **kwargs):
        net.history.record_batch("lstm_training", net.module_.lstm.training)

    def on_grad_computed(self, net, named_parameters, **kwargs):
        norm = sum(float(p.grad.norm()) for _, p in named_parameters)
        net.history.record_batch("grad_norm", norm)


class EvalDropout(Callback):
    """Switches one submodule to eval before each batch: skorch resets it."""

    def on_batch_begin(self, net, **kwargs):
        net.module_.dropout.eval()

    def on_batch_end(self, net, **kwargs):
        net.history.record_batch("dropout_training", net.module_.dropout.training)


class PredictMidEpoch(Callback):
    """Runs the net in eval mode mid-epoch; training must resume afterwards."""

    def __init__(self, X):
        self.X = X

    def on_batch_end(self, net, **kwargs):
        if len(net.history[-1, "batches"]) % 3 == 0:
            out = net.forward(SequenceDataset(torch.from_numpy(self.X)))
            net.history.record_batch("pred_sum", float(out.sum()))


class Interrupting(nn.CrossEntropyLoss):
    calls = 0

    def forward(self, y_pred, y_true):
        Interrupting.calls += 1
        if Interrupting.calls == 7:
            raise KeyboardInterrupt
        return super().forward(y_pred, y_true)


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6, 3)).astype(np.float32)
    y = np.where(X[:, -1, 0] > 0, "a", "b")
    ragged = [rng.normal(size=(int(rng.integers(2, 8)), 3)).astype(np.float32)
              for _ in range(80)]
    return X, y, X[:, -2:, 1].sum(axis=1), ragged, rng.integers(0, 3, 80)


X, Y, Y_REG, RAGGED, Y_RAGGED = _data()

CASES = {
    "plain": (LSTMClassifier, dict(batch_size=16), X, Y),
    "accumulation": (LSTMClassifier, dict(batch_size=8, accumulation_steps=3), X, Y),
    "clip_warmup_early_stopping": (LSTMRegressor, dict(
        batch_size=20, gradient_clip=0.5, warmup_epochs=2, early_stopping=True,
        patience=2, max_epochs=5, dropout=0.3), X, Y_REG),
    "ragged_recorder": (LSTMClassifier, dict(batch_size=16, callbacks=[BatchRecorder()]),
                        RAGGED, Y_RAGGED),
    "eval_dropout_and_batch_lr": (LSTMClassifier, dict(batch_size=16, dropout=0.5, callbacks=[
        EvalDropout(), ("sched", LRScheduler(StepLR, step_size=1, step_every="batch"))]),
        X, Y),
    "predict_mid_epoch": (LSTMClassifier, dict(
        batch_size=16, dropout=0.5, callbacks=[PredictMidEpoch(X[:5])]), X, Y),
    # skorch's scheduler reads the batch row's train_loss as the batch ends (it failed:
    # "'train_loss' was not found in history"); patience=0 and a large threshold lower
    # the rate at batches the loss does not improve on by 20%
    "plateau_every_batch": (LSTMRegressor, dict(batch_size=8, accumulation_steps=2, callbacks=[
        ("plateau", LRScheduler(ReduceLROnPlateau, monitor="train_loss", step_every="batch",
                                patience=0, factor=0.5, threshold=0.2))]), X, Y_REG),
    # a callable monitor reads what it likes: the batch row, as likely as not
    "plateau_every_batch_callable": (LSTMRegressor, dict(batch_size=8, callbacks=[
        ("plateau", LRScheduler(ReduceLROnPlateau, step_every="batch", patience=0,
                                monitor=lambda net: net.history[-1, "batches", -1,
                                                                "train_loss"]))]), X, Y_REG),
    # skorch's batch scorings of the loss read the batch row and record a score of it in
    # the row: a tensor there outlived the epoch (the history went to json no more)
    "batch_scoring_of_the_loss": (LSTMClassifier, dict(
        batch_size=16, early_stopping=True, callbacks=[
        ("batch_train", BatchScoring(train_loss_score, name="batch_train", on_train=True,
                                     target_extractor=noop)),
        ("batch_valid", BatchScoring(valid_loss_score, name="batch_valid",
                                     target_extractor=noop))]), X, Y),
}


def _fit(monkeypatch, net_class, cls, params, X, y):
    monkeypatch.setattr(base, "SequenceNet", net_class)
    est = cls(**{**TINY, **params})
    est.fit(X, y)
    return est


def _assert_same(a, b):
    assert json.dumps(list(a.net_.history)) == json.dumps(list(b.net_.history))
    for p, q in zip(a.net_.module_.parameters(), b.net_.module_.parameters(), strict=True):
        assert torch.equal(p, q)


def _strip_durations(history):
    for row in history:
        row.pop("dur", None)


@pytest.mark.parametrize("case", [*CASES, "losses_over_blocks"])
def test_same_history_and_weights_as_skorch(monkeypatch, case):
    if case == "losses_over_blocks":
        # an epoch's losses are copied into blocks (LossBuffer: one allocation per block,
        # not a tensor per batch, whose lifetimes kept the host heap from shrinking):
        # 8 batches an epoch over blocks of 3, the last one partly filled
        monkeypatch.setattr(LossBuffer, "BLOCK", 3)
        case = "plain"
    cls, params, X_, y_ = CASES[case]
    fast = _fit(monkeypatch, SequenceNet, cls, params, X_, y_)
    ref = _fit(monkeypatch, StockLoopNet, cls, params, X_, y_)
    assert type(fast.net_) is SequenceNet and type(ref.net_) is StockLoopNet
    _strip_durations(fast.net_.history)
    _strip_durations(ref.net_.history)
    _assert_same(fast, ref)


def test_interrupted_epoch_keeps_the_losses_so_far():
    """skorch ends a fit quietly on KeyboardInterrupt; the batches run so far keep their
    losses in the history (sklstm's loop reads them once, when the epoch breaks off)."""
    nets = []
    for net_class in (SequenceNet, StockLoopNet):
        Interrupting.calls = 0
        torch.manual_seed(0)
        net = net_class(LSTMNetwork, module__n_inputs=3, module__n_outputs=2,
                        module__hidden_size=6, criterion=Interrupting, batch_size=16,
                        max_epochs=2, train_split=None, verbose=0, iterator_train=BatchLoader,
                        iterator_train__shuffle=True, iterator_train__seed=0,
                        iterator_valid=BatchLoader)
        try:  # skorch swallows the interrupt
            net.fit(SequenceDataset(torch.from_numpy(X), torch.from_numpy((Y == "a") * 1)))
        except KeyError:  # fit's summary reads train_batch_count, absent here
            pass
        _strip_durations(net.history)
        nets.append(net)
    batches = nets[0].history[-1]["batches"]
    # six steps ran; the seventh opened its row and was interrupted
    assert [set(b) for b in batches] == [{"train_loss", "train_batch_size"}] * 6 + [set()]
    assert all(isinstance(b["train_loss"], float) for b in batches[:6])
    assert json.dumps(list(nets[0].history)) == json.dumps(list(nets[1].history))


def test_the_estimators_train_in_sklstms_loop():
    assert type(LSTMClassifier(**TINY).fit(X, Y).net_) is SequenceNet


class Experiment:
    """What skorch's SacredLogger logs to: the scalars, in order."""

    def __init__(self):
        self.logged = []

    def log_scalar(self, name, value):
        self.logged.append((name, value))


def test_a_logger_of_every_batch_logs_each_batchs_loss(monkeypatch):
    # skorch's loggers log the batch row as the batch ends: it had no loss yet there,
    # of a training batch nor of a validation batch
    params = dict(batch_size=16, early_stopping=True, callbacks=[("log", SacredLogger(
        Experiment(), log_on_batch_end=True, log_on_epoch_end=False))])
    fast = _fit(monkeypatch, SequenceNet, LSTMClassifier, params, X, Y)
    ref = _fit(monkeypatch, StockLoopNet, LSTMClassifier, params, X, Y)
    logged = dict(fast.net_.callbacks_)["log"].experiment.logged
    assert logged == dict(ref.net_.callbacks_)["log"].experiment.logged
    rows = [row for epoch in fast.history_ for row in epoch["batches"]]
    for key in ("train_loss", "valid_loss"):
        assert [value for name, value in logged if name == key] == [
            row[key] for row in rows if key in row]


class LossSeenAtBatchEnd(Callback):
    """skorch's idiom: a callback reads each batch's loss from the history row as the
    batch ends (it raised "Key 'train_loss' was not found in history"), beside the
    ``loss`` argument."""

    def initialize(self):
        self.seen_, self.argument_ = [], []
        return self

    def on_batch_end(self, net, loss=None, training=False, **kwargs):
        key = "train_loss" if training else "valid_loss"
        value = net.history[-1, "batches", -1, key]
        assert value <= 1e6 and f"{value:.3f}"  # (a number's comparison and format)
        self.seen_.append((key, float(value)))
        self.argument_.append((key, loss.item()))


def test_a_callback_reads_each_batchs_loss_from_its_row_as_the_batch_ends():
    est = LSTMClassifier(**{**TINY, "batch_size": 16}, early_stopping=True, device="cpu",
                         callbacks=[("seen", LossSeenAtBatchEnd())])
    est.fit(X, Y)
    seen = dict(est.net_.callbacks_)["seen"]
    rows = [(key, row[key]) for epoch in est.history_ for row in epoch["batches"]
            for key in ("train_loss", "valid_loss") if key in row]
    assert {key for key, _ in rows} == {"train_loss", "valid_loss"}
    assert seen.seen_ == seen.argument_ == rows
    # at the epoch's end the rows hold Python floats (json, checkpoints, pickles)
    assert all(type(value) is float for _, value in rows)
    json.dumps(list(est.history_))


def test_a_replaced_module_is_put_in_train_mode():
    """The per-epoch list of modules follows a module replaced outside a fit."""
    net = SequenceNet(LSTMNetwork, module__n_inputs=3, module__n_outputs=2,
                      module__hidden_size=4, module__dropout=0.5, criterion=nn.CrossEntropyLoss,
                      max_epochs=1, train_split=None, verbose=0).initialize()
    batch = (torch.zeros(4, 5, 3), torch.zeros(4, dtype=torch.int64))
    net.train_step(batch)
    assert net.in_training_mode(True)
    net.set_params(module__hidden_size=6)  # a new module, in eval mode
    net.module_.eval()
    net.train_step(batch)
    assert net.module_.training and net.module_.lstm.hidden_size == 6


def test_a_ctrl_c_between_a_batchs_row_and_its_loss_keeps_the_last_complete_epoch(
        monkeypatch):
    # the batch's row was counted and its loss not: reading the losses as the epoch broke
    # off failed with "zip() argument 2 is shorter than argument 1", a ValueError in
    # place of the interrupt, and the fit lost every epoch (where every press is noted,
    # sklstm's guard turned it back into the interrupt; under a handler of the user's
    # it did not)
    append = LossBuffer.append
    calls = []

    def interrupted_append(self, loss):
        calls.append(loss)
        if len(calls) == 17:  # batch 2 of epoch 2 (15 batches an epoch)
            raise KeyboardInterrupt
        return append(self, loss)

    monkeypatch.setattr(LossBuffer, "append", interrupted_append)
    with pytest.warns(FitInterruptedWarning, match="after epoch 1 of at most 3"):
        est = LSTMClassifier(**{**TINY, "max_epochs": 3}, device="cpu").fit(X, Y)
    assert est.interrupted_ and est.n_epochs_ == len(est.history_) == 1
    assert est.n_updates_ == 15
