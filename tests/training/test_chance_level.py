"""The validation loss's chance level (early_stopping) and the luck margin below it."""

import pickle
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.history import History
from torch.utils.data import Subset

from sklstm.data import SequenceDataset
from sklstm.training.chance_level import LUCK_Z, OutputLosses
from sklstm.training.class_weights import ClassWeightedCrossEntropy
from sklstm.training.convergence import CHANCE_SHARE, stopping_callback
from sklstm.training.convergence_report import check_convergence

from .stopper_runs import valid_run


def test_the_validation_chance_level_is_that_of_the_validation_targets():
    # a fit that learned nothing was at 0.75 of the training targets' chance level at
    # its first epoch: its 23 validation targets spread less than the training ones.
    # The chance level is the best constant's loss on the validation targets.
    r = np.random.default_rng(0)
    y_train = r.normal(size=(300, 1)).astype(np.float32)
    y_valid = (0.5 * r.normal(size=(2000, 1))).astype(np.float32)
    expected = float(np.mean((y_valid - y_valid.mean()) ** 2))
    stopper, at_chance, _ = valid_run(y_train, y_valid, [0.99 * expected] * 3)
    assert stopper.chance_level("valid_loss")[0] == pytest.approx(expected, rel=1e-5)
    assert at_chance == ("valid_loss", pytest.approx(0.99 * expected))  # < 0.95 of 1.0
    assert valid_run(y_train, y_valid, [0.5 * expected])[1] is None  # it learned


def test_a_regressor_does_not_leave_chance_by_the_validation_means_distance():
    # the training mean lost its distance to the validation mean on top of their
    # spread: outputs whose best epoch drifted towards the validation mean beat it and
    # were called converged (Student's t targets: a fit on noise at 0.58 of the training
    # mean's loss, 0.66 of the best constant's). Per output: one shifted, one not.
    r = np.random.default_rng(2)
    y_train = r.normal(size=(300, 2)).astype(np.float32)
    y_valid = (0.5 * r.normal(size=(2000, 2)) + [2.0, 0.0]).astype(np.float32)
    best = float(np.mean((y_valid - y_valid.mean(axis=0)) ** 2))  # ~0.25
    assert float(np.mean((y_valid - y_train.mean(axis=0)) ** 2)) > 8 * best
    stopper, at_chance, _ = valid_run(y_train, y_valid, [3 * best, 0.99 * best])
    assert stopper.chance_level("valid_loss")[0] == pytest.approx(best, rel=1e-5)
    assert at_chance == ("valid_loss", pytest.approx(0.99 * best))


def test_equal_real_valued_validation_targets_cannot_show_that_a_fit_learned():
    # (one validation sample among them): the best constant loses nothing on them
    y_train = np.arange(20, dtype=np.float32)[:, None]
    for y_valid, held in ((np.full((5, 1), 3.1, np.float32),
                           "5 validation samples of a single value"),
                          (np.ones((1, 1), np.float32), "1 validation sample")):
        stopper, at_chance, net = valid_run(y_train, y_valid, [0.5, 0.01])
        assert stopper.chance_level("valid_loss")[0] == 0
        assert at_chance == ("valid_loss", pytest.approx(0.01))
        with pytest.warns(ConvergenceWarning, match=r"did not show that it learned: "
                          rf"early_stopping held out {held} after max_epochs=2: predicting "
                          r"its value loses nothing on it, .* Raise validation_fraction, or "
                          r"set early_stopping=False"):
            assert not check_convergence("LSTMRegressor", net, max_epochs=2, lr=0.05)


def test_the_validation_chance_level_weighs_the_classes_as_the_criterion_does():
    # the best constant on the validation targets is their classes' shares of the
    # weight: 1 to 1 weighted 2/3 to 2 is 1/4 to 3/4, whose loss is below that of the
    # training classes' shares (1/2 each: 3 to 1 weighted 2/3 to 2), log 2 * 4/3
    weighted = ClassWeightedCrossEntropy(weight=torch.tensor([2 / 3, 2.0]))
    y_train, y_valid = np.array([0, 0, 0, 1] * 10), np.array([0, 1] * 500)
    stopper, at_chance, _ = valid_run(y_train, y_valid, [0.8], weighted, classifier=True)
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
        stopper, at_chance, net = valid_run(
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
        stopper, at_chance, net = valid_run(y_train, y_valid, [chance, share * chance])
        assert (at_chance is None) is learned
        # a fit loaded from its checkpoint (no epoch run) reads the level in the history
        loaded = stopping_callback(1e-3, 100, early_stopping=True, chance_loss=1.0)[1]
        assert loaded.at_chance(net) == at_chance
        assert stopper.chance_level("valid_loss")[1] == pytest.approx(
            CHANCE_SHARE * (len(y_valid) - 2) / (len(y_valid) - 2 + LUCK_Z ** 2))
    # (the warning names the margin: the loss is below the chance level itself)
    lucky = share * float(np.mean((few - y_train.mean()) ** 2))
    net = valid_run(y_train, few, [lucky] * 2)[2]
    # (not "did not learn": fits that learned were there too, benchmarks/
    # small_valid_convergence.py)
    with pytest.warns(ConvergenceWarning, match=r"did not show that it learned: its best "
                      r"validation loss \S+ is still at the chance level \S+ \(.*\) after "
                      r"max_epochs=2: not below 0\.665 of it, .* by luck on 23 validation "
                      r"samples\. Raise "
                      r"validation_fraction"):
        assert not check_convergence("LSTMRegressor", net, max_epochs=2, lr=0.05)


def _outputs_run(y, preds, early_stopping):
    """A stopper run on two-output targets ``y`` (all of the watched split) whose
    network predicts ``preds[e]`` at epoch ``e``, in two batches: the net it ran."""
    data = SequenceDataset(np.zeros((2 * len(y), 1, 1), np.float32), np.r_[y, y])
    train, valid = Subset(data, np.arange(len(y))), Subset(data, np.arange(len(y), 2 * len(y)))
    _, stopper = stopping_callback(1e-3, 1, early_stopping=early_stopping,
                                   chance_loss=float(y.var(axis=0).mean()))
    net = SimpleNamespace(history=History(), device="cpu", classifier=False, verbose=0,
                          module_=torch.nn.Linear(1, 1), criterion_=torch.nn.MSELoss(),
                          callbacks_=[("convergence", stopper)])
    stopper.on_train_begin(net, y=np.r_[y, y])
    target = torch.as_tensor(y)
    for epoch, pred in enumerate(preds, 1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        pred = torch.as_tensor(pred, dtype=torch.float32)
        for part in np.array_split(np.arange(len(y)), 2):  # (the other phase: ignored)
            for training in (True, False):
                stopper.on_batch_end(net, batch=(None, target[part]), training=training,
                                     y_pred=pred[part] if training != early_stopping
                                     else torch.zeros_like(pred[part]))
        loss = float(torch.nn.functional.mse_loss(pred, target))
        net.history.record("train_loss", loss if not early_stopping else 0.1)
        net.history.record("valid_loss", loss)
        try:
            stopper.on_epoch_end(net, dataset_train=train, dataset_valid=valid)
        except KeyboardInterrupt:  # (skorch's EarlyStopping ends the fit so)
            break
    return net


@pytest.mark.parametrize("early_stopping", [True, False])
def test_each_output_of_a_regression_must_leave_its_own_chance_level(early_stopping):
    # y[:, 0] learned, y[:, 1] at its mean: the mean loss over the outputs, half the
    # chance level, was called converged without a word
    r = np.random.default_rng(3)
    y = np.c_[r.normal(size=400), 3 + r.normal(size=400)].astype(np.float32)
    learned = np.c_[y[:, 0], np.full(400, y[:, 1].mean())]
    both = np.c_[y[:, 0] + 0.1, y[:, 1] + 0.1 * r.normal(size=400)]
    net = _outputs_run(y, [learned, learned + np.array([0.0, 0.5])], early_stopping)
    stopper = net.callbacks_[0][1]
    assert stopper.at_chance(net) is None  # the mean left the chance level
    # the epoch whose weights the fit keeps: the best (early_stopping) or the last
    kept = 0 if early_stopping else 0.25
    (loss0, chance0), (loss1, chance1) = stopper.output_losses(net)
    assert loss0 == pytest.approx(0, abs=1e-6) and chance0 == pytest.approx(
        float(y[:, 0].var()), rel=1e-5)
    assert chance1 == pytest.approx(float(y[:, 1].var()), rel=1e-5)
    assert loss1 == pytest.approx(chance1 + kept, rel=1e-4)
    # kept with the history: a fit resumed from its checkpoint (a new stopper that
    # replays it) judges the same epoch
    resumed = stopping_callback(1e-3, 1, early_stopping=early_stopping, chance_loss=1.0)[1]
    resumed.on_train_begin(net)
    assert resumed.output_losses(net) == stopper.output_losses(net)
    with pytest.warns(ConvergenceWarning, match=r"LSTMRegressor did not learn y\[:, 1\]: "
                      r"the mean (training|validation) loss over the outputs left the "
                      r"chance level, but .* y\[:, 0\] 0, y\[:, 1\] 1(\.\d+)?\)"):
        assert not check_convergence("LSTMRegressor", net, max_epochs=10, lr=0.05)
    # every output below its own chance level: converged, without a word
    net = _outputs_run(y, [both, both], early_stopping)
    assert all(loss < 0.1 * chance for loss, chance in
               net.callbacks_[0][1].output_losses(net))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert check_convergence("LSTMRegressor", net, max_epochs=10, lr=0.05)


def test_a_regression_at_chance_names_the_outputs_it_learned():
    # unstandardized, an output of scale 100 at chance held the mean loss at chance
    # while y[:, 0] was learned: the warning said only that the fit did not learn
    r = np.random.default_rng(4)
    y = np.c_[r.normal(size=400), 100 * r.normal(size=400)].astype(np.float32)
    learned = np.c_[y[:, 0], np.full(400, y[:, 1].mean())]
    net = _outputs_run(y, [learned, learned], early_stopping=True)
    with pytest.warns(ConvergenceWarning, match=r"did not (learn|show that it learned): its "
                      r"best validation loss .* \(each output's loss over its own chance level, "
                      r"at the weights the fit keeps: y\[:, 0\] 0, y\[:, 1\] 1(\.\d+)?\)\. "):
        assert not check_convergence("LSTMRegressor", net, max_epochs=10, lr=0.05)
    # (an epoch broken off leaves no device sums in the pickled fit)
    outputs = net.callbacks_[0][1].outputs_
    outputs.add(False, (None, torch.as_tensor(y)), torch.as_tensor(learned))
    assert pickle.loads(pickle.dumps(outputs))._sums is None and outputs._sums is not None
    # a single-output regression, or a classifier, records nothing
    for classifier, y_fit in ((False, y[:, :1]), (True, None)):
        assert OutputLosses.of_fit(SimpleNamespace(classifier=classifier), y_fit, True) is None


def test_the_training_splits_own_chance_level_is_measured_and_kept_with_the_history():
    # the training loss is judged against the targets it trains on: all of them had
    # an outlier the validation split took, and a mean predictor was below their level
    y_train = np.linspace(-1.0, 1.0, 20)
    stopper, _, net = valid_run(y_train, np.array([-9.0, 9.0, 0.0]), [5.0, 5.0])
    assert stopper.chance_loss == 1.0
    assert stopper.train_level() == pytest.approx(y_train.var(), rel=1e-5)
    assert stopper.chance_level("train_loss")[0] == stopper.train_level()
    # a fit resumed from its checkpoint reads it from the history, as the validation's
    _, resumed = stopping_callback(1e-3, 100, early_stopping=True, chance_loss=1.0)
    resumed.on_train_begin(net)
    assert resumed.train_level() == stopper.train_level()
