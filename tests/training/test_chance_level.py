"""The validation loss's chance level (early_stopping) and the luck margin below it."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.history import History
from torch.utils.data import Subset

from sklstm.data import SequenceDataset
from sklstm.training.chance_level import LUCK_Z
from sklstm.training.class_weights import ClassWeightedCrossEntropy
from sklstm.training.convergence import CHANCE_SHARE, stopping_callback
from sklstm.training.convergence_report import check_convergence


def _valid_run(y_train, y_valid, valid_losses, criterion=None, classifier=False):
    """An early_stopping stopper run on ``valid_losses`` (the training loss far below
    chance), its datasets holding ``y_train`` and ``y_valid``: (stopper, at_chance,
    the net it ran)."""
    y = np.concatenate([y_train, y_valid])
    data = SequenceDataset(np.zeros((len(y), 1, 1), np.float32), y)
    train = Subset(data, np.arange(len(y_train)))
    valid = Subset(data, np.arange(len(y_train), len(y)))
    _, stopper = stopping_callback(1e-3, 100, early_stopping=True, chance_loss=1.0)
    net = SimpleNamespace(history=History(), device="cpu", classifier=classifier,
                          module_=torch.nn.Linear(1, 1),
                          criterion_=criterion or torch.nn.MSELoss(),
                          callbacks_=[("convergence", stopper)])
    stopper.on_train_begin(net)
    for epoch, loss in enumerate(valid_losses, 1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("train_loss", 0.1)
        net.history.record("valid_loss", loss)
        stopper.on_epoch_end(net, dataset_train=train, dataset_valid=valid)
    return stopper, stopper.at_chance(net), net


def test_the_validation_chance_level_is_that_of_the_validation_targets():
    # a fit that learned nothing was at 0.75 of the training targets' chance level at
    # its first epoch: its 23 validation targets spread less than the training ones.
    # The chance level is the training mean's loss on the validation targets.
    r = np.random.default_rng(0)
    y_train = r.normal(size=(300, 1)).astype(np.float32)
    y_valid = (0.5 * r.normal(size=(2000, 1))).astype(np.float32)
    expected = float(np.mean((y_valid - y_train.mean()) ** 2))
    stopper, at_chance, _ = _valid_run(y_train, y_valid, [0.99 * expected] * 3)
    assert stopper.chance_level("valid_loss")[0] == pytest.approx(expected, rel=1e-5)
    assert at_chance == ("valid_loss", pytest.approx(0.99 * expected))  # < 0.95 of 1.0
    assert _valid_run(y_train, y_valid, [0.5 * expected])[1] is None  # it learned


def test_the_validation_chance_level_weighs_the_classes_as_the_criterion_does():
    # the best constant on the validation targets is their classes' shares of the
    # weight: 1 to 1 weighted 2/3 to 2 is 1/4 to 3/4, whose loss is below that of the
    # training classes' shares (1/2 each: 3 to 1 weighted 2/3 to 2), log 2 * 4/3
    weighted = ClassWeightedCrossEntropy(weight=torch.tensor([2 / 3, 2.0]))
    y_train, y_valid = np.array([0, 0, 0, 1] * 10), np.array([0, 1] * 500)
    stopper, at_chance, _ = _valid_run(y_train, y_valid, [0.8], weighted, classifier=True)
    chance = (2 / 3 * -np.log(0.25) + 2.0 * -np.log(0.75)) / 2
    assert stopper.chance_level("valid_loss")[0] == pytest.approx(chance, rel=1e-5)
    # outputs that only lean to class 1 reach 0.8, below 0.95 of log 2 * 4/3 = 0.92
    assert at_chance == ("valid_loss", pytest.approx(0.8))


def test_validation_samples_of_one_class_cannot_show_that_a_fit_learned():
    # 5 % of class 1 and class_weight="balanced": the 12 validation samples held none,
    # their chance level (the training shares, 1/2 each) was 0.39 and a fit on noise
    # reached 0.06, leaning to class 0 as networks that memorized noise do
    y_train, y_valid = np.array([0] * 103 + [1] * 5), np.zeros(12, int)
    weighted = ClassWeightedCrossEntropy(weight=torch.tensor([0.52, 12.0]))
    for criterion in (weighted, None):
        stopper, at_chance, net = _valid_run(
            y_train, y_valid, [0.06, 0.001], criterion or torch.nn.CrossEntropyLoss(),
            classifier=True)
        assert stopper.chance_level("valid_loss")[0] == 0
        assert at_chance == ("valid_loss", pytest.approx(0.001))
    with pytest.warns(ConvergenceWarning, match=r"did not show that it learned: "
                      r"early_stopping held out 12 validation samples of a single class "
                      r"after max_epochs=2: .* "
                      r"Raise validation_fraction so that every class is held out"):
        assert not check_convergence("LSTMClassifier", net, max_epochs=2, lr=0.05)


def test_a_lucky_best_validation_loss_on_few_samples_has_not_left_chance():
    # the best of ~60 noisy epochs of fits on noise reached 0.78-0.91 of the chance
    # level on 23 validation samples, and converged_ was True; on many samples that
    # share is a model that learned
    r = np.random.default_rng(1)
    y_train = r.normal(size=(300, 1)).astype(np.float32)
    few, many = (r.normal(size=(n, 1)).astype(np.float32) for n in (23, 5000))
    share = CHANCE_SHARE * 0.9
    for y_valid, learned in ((few, False), (many, True)):
        chance = float(np.mean((y_valid - y_train.mean()) ** 2))
        stopper, at_chance, net = _valid_run(y_train, y_valid, [chance, share * chance])
        assert (at_chance is None) is learned
        # a fit loaded from its checkpoint (no epoch run) reads the level in the history
        loaded = stopping_callback(1e-3, 100, early_stopping=True, chance_loss=1.0)[1]
        assert loaded.at_chance(net) == at_chance
        assert stopper.chance_level("valid_loss")[1] == pytest.approx(
            CHANCE_SHARE * (len(y_valid) - 2) / (len(y_valid) - 2 + LUCK_Z ** 2))
    # (the warning names the margin: the loss is below the chance level itself)
    lucky = share * float(np.mean((few - y_train.mean()) ** 2))
    net = _valid_run(y_train, few, [lucky] * 2)[2]
    # (not "did not learn": fits that learned were there too, benchmarks/
    # small_valid_convergence.py)
    with pytest.warns(ConvergenceWarning, match=r"did not show that it learned: its best "
                      r"validation loss \S+ is still at the chance level \S+ \(.*\) after "
                      r"max_epochs=2: not below 0\.665 of it, .* by luck on 23 validation "
                      r"samples\. Raise "
                      r"validation_fraction"):
        assert not check_convergence("LSTMRegressor", net, max_epochs=2, lr=0.05)
