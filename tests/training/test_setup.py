"""How a fit's plan becomes its skorch net: the checks on its callbacks."""

import os
import sys

import numpy as np
import pytest
from skorch.callbacks import (
    BatchScoring,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    LRScheduler,
    PassthroughScoring,
)
from torch.optim.lr_scheduler import ReduceLROnPlateau

from sklstm import LSTMClassifier

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 6, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int)
PARAMS = dict(hidden_size=4, max_epochs=2, conv_channels=None, device="cpu", random_state=0,
              n_threads=1)


@pytest.mark.parametrize("callback, key", [
    (EarlyStopping(), "valid_loss"),  # skorch's default monitors
    (Checkpoint(f_params=None, f_optimizer=None, f_criterion=None, f_history=None),
     "valid_loss_best"),  # (writing nothing)
    (("plateau", LRScheduler("ReduceLROnPlateau", monitor="valid_loss")), "valid_loss"),
])
def test_a_callback_watching_the_validation_loss_needs_early_stopping(callback, key,
                                                                     tmp_path):
    # without a validation split skorch's EarlyStopping failed after the first epoch with
    # a bare KeyError: "Key 'valid_loss' was not found in history."
    clf = LSTMClassifier(**PARAMS, callbacks=[callback], checkpoint=tmp_path / "fit")
    with pytest.raises(ValueError, match=rf"callbacks\[0\] \(\w+\) watches monitor='{key}', "
                                         r".* set early_stopping=True .* or watch "
                                         rf"monitor='{key.replace('valid', 'train')}'"):
        clf.fit(X, Y)
    assert not hasattr(clf, "net_") and not (tmp_path / "fit").exists()  # before training
    clf.set_params(early_stopping=True, checkpoint=None).fit(X, Y)
    assert "valid_loss" in clf.history_[-1]


def test_scoring_the_validation_data_needs_early_stopping():
    # skorch's EpochScoring scores the validation data by default: without them it
    # recorded nothing, and said nothing
    clf = LSTMClassifier(**PARAMS, callbacks=[("acc", EpochScoring("accuracy"))])
    with pytest.raises(ValueError, match=r"callbacks\[0\] \(EpochScoring\) scores the "
                                         r"validation data \(on_train=False\), .* record "
                                         r"nothing; set early_stopping=True .* on_train=True"):
        clf.fit(X, Y)
    on_train = EpochScoring("accuracy", on_train=True)
    clf.set_params(callbacks=[("acc", on_train)]).fit(X, Y)
    assert "accuracy" in clf.history_[-1]


@pytest.mark.parametrize("make", [
    lambda on_train: BatchScoring("accuracy", name="acc", on_train=on_train),
    # (the classifier's training batches' loss, passed through as the epoch's average)
    lambda on_train: PassthroughScoring("train_loss" if on_train else "valid_loss",
                                        on_train=on_train)],
    ids=["BatchScoring", "PassthroughScoring"])
def test_every_scoring_of_the_validation_data_needs_early_stopping(make):
    # skorch's BatchScoring and PassthroughScoring are no EpochScoring: without
    # validation data a BatchScoring("accuracy") recorded nothing, and said nothing
    scoring = make(on_train=False)
    clf = LSTMClassifier(**PARAMS, callbacks=[scoring])
    with pytest.raises(ValueError, match=rf"callbacks\[0\] \({type(scoring).__name__}\) "
                                         r"scores the validation data \(on_train=False\)"):
        clf.fit(X, Y)
    assert not hasattr(clf, "net_")  # before training
    clf.set_params(early_stopping=True).fit(X, Y)
    assert scoring.name in clf.history_[-1]
    clf.set_params(early_stopping=False, callbacks=[("score", make(on_train=True))]).fit(X, Y)
    assert make(on_train=True).name in clf.history_[-1]


@pytest.mark.parametrize("verbose", [0, 1])
@pytest.mark.parametrize("stdout", ["none", "closed"])
def test_a_fit_needs_no_stdout(stdout, verbose, monkeypatch):
    # skorch's PrintLog flushed sys.stdout after every epoch even at verbose=0: where
    # there is none (pythonw, a daemon) the fit failed with "'NoneType' object has no
    # attribute 'flush'", or with "I/O operation on closed file"; at verbose=1 the epoch
    # table has nowhere to go either
    with open(os.devnull, "w") as closed:
        pass
    monkeypatch.setattr(sys, "stdout", None if stdout == "none" else closed)  # (undone after)
    clf = LSTMClassifier(**PARAMS, verbose=verbose,
                         callbacks=[("acc", EpochScoring("accuracy", on_train=True))])
    clf.fit(X, Y)
    assert clf.predict(X).shape == Y.shape
    assert len(clf.history_) == 2 and "accuracy" in clf.history_[-1]  # (the user's callback ran)


@pytest.mark.parametrize("early_stopping", [True, False])
@pytest.mark.parametrize("policy", ["ReduceLROnPlateau", ReduceLROnPlateau])
def test_a_plateau_scheduler_stepping_every_batch_on_the_validation_loss_is_refused(
        policy, early_stopping, tmp_path):
    # a training batch's row of the history never holds valid_loss: skorch's LRScheduler
    # failed at the first batch ("'valid_loss' was not found in history"), mid-fit
    plateau = LRScheduler(policy, monitor="valid_loss", step_every="batch")
    clf = LSTMClassifier(**PARAMS, early_stopping=early_stopping,
                         callbacks=[("plateau", plateau)], checkpoint=tmp_path / "fit")
    with pytest.raises(ValueError, match=r"callbacks\[0\] \(LRScheduler\) steps "
                                         r"ReduceLROnPlateau every batch on "
                                         r"monitor='valid_loss', .* never per training batch; "
                                         r"step it every epoch .* or watch "
                                         r"monitor='train_loss' per batch"):
        clf.fit(X, Y)
    assert not hasattr(clf, "net_") and not (tmp_path / "fit").exists()  # before training
    plateau.set_params(monitor="train_loss")
    clf.set_params(checkpoint=None).fit(X, Y)  # what it names trains
    assert clf.n_epochs_ == 2
