"""The convergence rule (tol, n_iter_no_change) and its ConvergenceWarning."""

import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback
from skorch.history import History

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.training.convergence import stopping_callback
from sklstm.training.convergence_report import check_convergence

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 6, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int)

FAST = dict(hidden_size=8, lr=0.05, batch_size=16, random_state=0, n_threads=1)


def test_a_fit_stops_once_the_loss_stops_improving(recwarn):
    est = LSTMClassifier(**FAST, tol=1e-2, n_iter_no_change=3).fit(X, Y)
    assert est.converged_ and est.n_epochs_ < est.max_epochs
    losses = est.history_[:, "train_loss"]
    best = int(np.argmin(losses))
    # the rule: the last 3 epochs did not beat the best loss before them by tol
    assert min(losses[-3:]) > min(losses[:-3]) - 1e-2
    assert best < len(losses) - 1 or losses[-1] > losses[-4] - 1e-2
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]


def test_reaching_max_epochs_first_warns_what_to_change():
    # (more epochs than n_iter_no_change: the rule could have stopped the fit)
    est = LSTMClassifier(**FAST, max_epochs=3, n_iter_no_change=2)
    with pytest.warns(ConvergenceWarning, match=r"LSTMClassifier did not converge: "
                      r"max_epochs=3 .* Raise max_epochs, raise lr \(now 0\.05\), or "
                      r"shorten long sequences with downsample"):
        est.fit(X, Y)
    assert not est.converged_ and est.n_epochs_ == 3


def test_the_advice_names_lr_and_the_rate_lr_scaling_made_of_it():
    # "raise lr (now 0.2)": the scaled lr_, read as the value of lr (scaled to 0.05: at
    # 0.2 the first epoch overshoots where the fit started, and raising lr is not advised)
    est = LSTMClassifier(**{**FAST, "lr": 0.0125}, max_epochs=3, n_iter_no_change=2,
                         lr_scaling="linear", base_batch_size=4)
    with pytest.warns(ConvergenceWarning, match=r"raise lr \(now 0\.0125, scaled to "
                                                r"lr_=0\.05 by lr_scaling\)"):
        est.fit(X, Y)
    assert est.lr_ == pytest.approx(0.05)


def test_tol_none_runs_every_epoch_without_a_warning(recwarn):
    est = LSTMRegressor(**FAST, max_epochs=4, tol=None).fit(X, X[:, -1, 0])
    assert est.n_epochs_ == 4 and not est.converged_
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]


class _WeightsPerEpoch(Callback):
    """The network's weights as each epoch ended."""

    def initialize(self):
        self.weights_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.weights_.append([p.detach().clone() for p in net.module_.parameters()])


def _same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


def test_early_stopping_applies_the_rule_to_the_validation_loss():
    est = LSTMClassifier(**FAST, early_stopping=True, tol=0.0, n_iter_no_change=2,
                         max_epochs=60, callbacks=[("weights", _WeightsPerEpoch())]).fit(X, Y)
    valid = est.history_[:, "valid_loss"]
    assert est.converged_ and est.n_epochs_ < 60
    assert min(valid[-2:]) >= min(valid[:-2])  # 2 epochs without a better valid loss
    stopper = dict(est.net_.callbacks_)["convergence"]
    assert stopper.monitor == "valid_loss" and stopper.best_epoch_ == int(np.argmin(valid)) + 1
    # the best epoch's weights are restored: the last epochs' weights are not kept
    per_epoch = dict(est.net_.callbacks_)["weights"].weights_
    kept = list(est.net_.module_.parameters())
    assert _same_weights(kept, per_epoch[stopper.best_epoch_ - 1])
    assert not _same_weights(kept, per_epoch[-1])


def test_patience_is_a_deprecated_alias_of_n_iter_no_change():
    est = LSTMClassifier(**FAST, early_stopping=True, patience=2, max_epochs=60)
    with pytest.warns(FutureWarning, match="patience was renamed n_iter_no_change"):
        est.fit(X, Y)
    assert dict(est.net_.callbacks_)["convergence"].patience == 2


@pytest.mark.parametrize(("params", "message"), [
    ({"tol": -1e-3}, r"'tol' parameter of LSTMClassifier must be a float in the range "
                     r"\[0.0, inf\) or None"),
    ({"n_iter_no_change": 0}, r"'n_iter_no_change' .* an int in the range \[1, inf\)"),
    ({"n_iter_no_change": 2.0}, r"'n_iter_no_change' .* must be an int"),
    ({"lr_schedule": "invscaling"}, r"'lr_schedule' .* must be a str among"),
])
def test_bad_convergence_settings_are_refused_before_training(params, message):
    est = LSTMClassifier(**FAST, **params)
    with pytest.raises(ValueError, match=message):
        est.fit(X, Y)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
def test_a_fit_at_chance_is_never_converged_and_says_it_did_not_learn(Estimator):
    # at defaults: X carries nothing about y, so the loss stays at the chance level
    # (ln 2; the variance of the standardized target). Before the chance gate the rule
    # stopped such a fit after ~11 flat epochs and called it converged.
    X0 = np.zeros((40, 8, 1), np.float32)
    y = np.arange(40) % 2 if Estimator is LSTMClassifier else rng.normal(size=40)
    est = Estimator(random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"did not learn: after max_epochs=200 .* "
                      r"still at the chance level"):
        est.fit(X0, y)
    assert not est.converged_ and est.n_epochs_ == est.max_epochs


def test_rare_classes_far_above_chance_are_not_told_to_standardize_y():
    # outputs of zero lose log 2, over twice the chance level of 1 positive in 10: the
    # advice for real-valued targets far from zero (scale_target) is no classifier's
    y = (np.arange(60) % 10 == 0).astype(int)
    est = LSTMClassifier(**{**FAST, "lr": 1e-6}, max_epochs=2)
    with pytest.warns(ConvergenceWarning, match=r"did not learn: .* above the chance "
                      r"level") as record:
        est.fit(X, y)
    assert not [w for w in record if "scale_target" in str(w.message)]


def _stopper(lr_schedule):
    return dict(LSTMClassifier(**FAST, tol=1e-2, n_iter_no_change=3, lr_schedule=lr_schedule)
                .fit(X, Y).net_.callbacks_)["convergence"]


def _run(stopper, losses, lr=0.05, net=None, rate_set_anew=False):
    """The rule alone, on a history of training losses: (stopped?, epochs, last rate);
    ``net``, if given, an empty namespace that becomes the net it ran;
    ``rate_set_anew``: a schedule puts the rate back to ``lr`` every epoch."""
    net = SimpleNamespace() if net is None else net
    net.__dict__.update(history=History(), verbose=0, callbacks_=[("convergence", stopper)],
                        lr=lr, optimizer_=SimpleNamespace(param_groups=[{"lr": lr}]))
    stopper.on_train_begin(net)
    for epoch, loss in enumerate(losses, 1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("train_loss", loss)
        try:
            stopper.on_epoch_end(net)
        except KeyboardInterrupt:
            return True, epoch, net.optimizer_.param_groups[0]["lr"]
        if rate_set_anew:
            net.optimizer_.param_groups[0]["lr"] = lr
    return False, len(losses), net.optimizer_.param_groups[0]["lr"]


def test_early_stopping_at_chance_on_the_held_out_data_is_not_converged():
    # the training loss leaves chance (the net learns the training labels by heart), the
    # validation loss does not: the rule may end the fit, but it did not learn
    y = np.random.default_rng(1).integers(0, 2, len(X))  # labels X says nothing about
    est = LSTMClassifier(**FAST, early_stopping=True, tol=1e-3, n_iter_no_change=2,
                         lr_schedule="constant", max_epochs=60)
    # (its best validation loss may be above the chance level, not only at it)
    with pytest.warns(ConvergenceWarning, match=r"did not learn: its best validation loss "
                      r".* (still at|above) the chance level .* when early_stopping ended "
                      r"the fit after \d+ epochs, although the training loss left it"):
        est.fit(X, y)
    assert not est.converged_ and not est.interrupted_ and est.n_epochs_ < 60


def test_a_plateau_at_chance_is_not_counted_but_a_learned_one_is():
    stopper = _stopper("constant")
    chance = stopper.chance_loss
    assert chance == pytest.approx(np.log(2), abs=0.01)  # Y is balanced
    assert _run(stopper, [chance] * 30) == (False, 30, 0.05)  # flat at chance: never stops
    # flat below chance: stops after 3 misses
    assert _run(stopper, [0.5 * chance] * 30) == (True, 4, 0.05)


def test_the_adaptive_rate_falls_where_the_rule_would_stop_and_stops_only_when_tiny():
    stopper = _stopper("adaptive")  # the default
    chance = stopper.chance_loss
    assert _run(stopper, [chance] * 30) == (False, 30, 0.05)  # at chance: no fall, no stop
    # 0.05 falls by 5 after every 3 flat epochs: 0.01, ..., 6.4e-7 <= 1e-6 after 7
    # falls; the 8th run of 3 flat epochs stops the fit
    stopped, epochs, rate = _run(stopper, [0.5 * chance] * 60)
    assert stopped and epochs == 1 + 8 * 3 and rate == pytest.approx(0.05 * 0.2 ** 7)
    # a new best (epoch 4) restarts the count: the fall comes after 3 flat epochs
    # after it (epoch 7), not at the 3rd flat epoch in all (epoch 6)
    assert _run(stopper, [0.5 * chance] * 3 + [0.3 * chance] * 3)[2] == 0.05
    assert _run(stopper, [0.5 * chance] * 3 + [0.3 * chance] * 4)[2] == pytest.approx(0.01)


def test_a_schedule_that_sets_the_rate_anew_does_not_keep_the_adaptive_rate_from_stopping():
    # skorch's LRScheduler around CyclicLR or OneCycleLR sets the rate every step: each
    # fall was undone, the rate never reached the floor, and a fit on a plateau ran to
    # max_epochs (a CyclicLR fit: 60 of 60 epochs, not converged; 26 without it)
    stopper = _stopper("adaptive")
    chance = stopper.chance_loss
    stopped, epochs, _ = _run(stopper, [0.5 * chance] * 60, rate_set_anew=True)
    assert stopped and epochs == 1 + 8 * 3  # as where the falls hold
    assert stopper.falls_ == 7


def test_the_adaptive_rate_trains_at_least_as_long_as_the_constant_one():
    # the same fit up to the constant rate's stop; the adaptive rate goes on, smaller
    constant = LSTMClassifier(**FAST, tol=1e-2, n_iter_no_change=3,
                              lr_schedule="constant").fit(X, Y)
    adaptive = LSTMClassifier(**FAST, tol=1e-2, n_iter_no_change=3).fit(X, Y)
    n = constant.n_epochs_
    assert adaptive.n_epochs_ > n
    assert adaptive.history_[:n, "train_loss"] == constant.history_[:, "train_loss"]
    assert adaptive.net_.optimizer_.param_groups[0]["lr"] <= 1e-6 < 0.05
    assert adaptive.converged_ and constant.converged_
    # max_epochs before the rate reached its floor: the warning says where it stood
    short = LSTMClassifier(**FAST, tol=1e-2, n_iter_no_change=3, max_epochs=n + 1)
    with pytest.warns(ConvergenceWarning, match=r"the adaptive learning rate, lowered to "
                      r"0\.01 at its plateaus, was still above 1e-06\. Raise max_epochs, "
                      r"or set lr_schedule='constant' to stop at the first plateau\.$"):
        short.fit(X, Y)
    # (not "raise lr (now 0.05)": the fit had found that rate too large at a plateau)


def test_max_epochs_at_the_adaptive_rates_floor_does_not_say_it_was_above_it():
    # the rate reached its floor (0.05 * 0.2**7 = 6.4e-7 <= 1e-6) and max_epochs ended
    # the fit before n_iter_no_change flat epochs there: the warning said the rate "was
    # still above 1e-06" while naming 6.4e-07 (on the CPU, where two fits are the same)
    same = dict(FAST, tol=1e-2, n_iter_no_change=3, device="cpu")
    full = LSTMClassifier(**same).fit(X, Y)
    short = LSTMClassifier(**same, max_epochs=full.n_epochs_ - 1)
    with pytest.warns(ConvergenceWarning) as record:
        short.fit(X, Y)
    assert short.net_.optimizer_.param_groups[0]["lr"] <= 1e-6
    message = " ".join(str(w.message) for w in record
                       if issubclass(w.category, ConvergenceWarning))
    assert "still above" not in message
    assert re.search(r"the adaptive learning rate reached its floor \(6\.4e-07, at or "
                     r"below 1e-06\) .*, and 3 epochs \(n_iter_no_change\) without "
                     r"improvement there end the fit", message)
    assert not short.converged_


def test_a_fit_whose_loss_rose_back_to_chance_is_not_converged(recwarn):
    # without early_stopping the fit keeps its last epoch's weights; the rule judged
    # the best loss, which had left the chance level: a loss that rose back to it was
    # stopped and called converged (seen at defaults: best 0.545, last 0.689 against
    # ln 2, training accuracy 0.56)
    stopper = _stopper("constant")
    chance = stopper.chance_loss
    net = SimpleNamespace()
    assert _run(stopper, [chance, 0.5 * chance] + [chance] * 3, net=net)[:2] == (True, 5)
    # (the advice lowers the weight decay where there is one; at weight_decay=0, the
    # default, it was told to lower weight_decay all the same)
    for decay, advice in ((0.1, r"Lower weight_decay \(.*; now 0\.1\)"),
                          (0.0, r"Lower lr \(now 0\.05: .*\)")):
        net.optimizer_.param_groups[0]["weight_decay"] = decay
        with pytest.warns(ConvergenceWarning, match=r"LSTMClassifier did not learn: the rule "
                          r"ended the fit after 5 epochs with the last epoch's weights, whose "
                          r"training loss 0\.69\d* is back at the chance level .* although its "
                          r"best epoch's, 0\.34\d*, had left it\. " + advice + r", or set "
                          r"early_stopping=True"):
            assert not check_convergence("LSTMClassifier", net, max_epochs=200, lr=0.05)
    # a last loss still below the chance level is a converged fit, and says nothing
    _run(stopper, [chance, 0.5 * chance] + [0.6 * chance] * 3, net=net)
    recwarn.clear()
    assert check_convergence("LSTMClassifier", net, max_epochs=200, lr=0.05)
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]


class _RunningStatsAstray(Callback):
    """Moves batch normalization's running means far off as the training ends: the
    fitted network then predicts one class for all (accuracy at chance), as the running
    averages made it do on small micro-batches (seen: batch_size=8, lr=0.01, training
    loss 0.003, the fitted network's accuracy on its own training samples 0.51)."""

    def on_train_end(self, net, **kwargs):
        for module in net.module_.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean -= 1e3


def test_a_fitted_network_at_chance_is_not_converged_though_its_training_loss_left_it():
    # the rule judges the training-mode losses; the network predicting at chance once
    # fitted was called converged (with early_stopping the validation loss shows it)
    est = LSTMClassifier(**FAST, tol=1e-2, n_iter_no_change=3,
                         callbacks=[("astray", _RunningStatsAstray())])
    with pytest.warns(ConvergenceWarning, match=r"LSTMClassifier did not learn: its training "
                      r"loss fell to \d\.\d+, but the fitted network's loss on the first "
                      r"training samples is \d+\.?\d*(e\+\d+)?, above the chance level "
                      r"0\.69\d* .* raise batch_size, or set conv_channels=None\."):
        est.fit(X, Y)
    assert not est.converged_ and est.score(X, Y) < 0.7
    assert dict(est.net_.callbacks_)["convergence"].misses_ >= 3  # the rule had stopped it


def test_a_fit_worse_than_its_start_at_every_epoch_is_told_to_lower_lr():
    # lr=10: the training loss stayed at 12-26 against ln 2 (below the divergence
    # guard's 100 times), and the warning advised to "raise lr (now 10)"
    est = LSTMClassifier(**{**FAST, "lr": 10.0}, conv_channels=None, max_epochs=5)
    with pytest.warns(ConvergenceWarning) as record:
        est.fit(X, Y)
    message = " ".join(str(w.message) for w in record
                       if issubclass(w.category, ConvergenceWarning))
    assert re.search(r"did not learn: after max_epochs=5 its best training loss \d+\.?\d* "
                     r"is above the chance level .* It never came back down to where the "
                     r"untrained network started \(a loss of 0\.69\d*\): the learning rate "
                     r"is likely too high .* Lower lr \(now 10\)", message)
    assert "raise lr" not in message and not est.converged_


def test_a_regression_that_learned_one_output_and_not_the_other_is_not_converged():
    # the rule judges the mean loss over the outputs: y[:, 0] learned, y[:, 1] noise
    # of scale 100 (standardized: the same weight) at chance on the held-out samples
    # was half the chance level, converged_ True and no word (held-out R^2 0.08)
    r = np.random.default_rng(0)
    X2 = r.normal(size=(120, 4, 2)).astype(np.float32)
    y = np.c_[2 * X2[:, -1, 0], 100 * r.normal(size=120)]
    est = LSTMRegressor(**{**FAST, "hidden_size": 16}, early_stopping=True, device="cpu",
                        max_epochs=150)
    with pytest.warns(ConvergenceWarning, match=r"LSTMRegressor did not learn y\[:, 1\]: "
                      r"the mean validation loss over the outputs left the chance level, "
                      r"but .* of its own chance level, the loss of predicting its mean "
                      r"\(each output's loss .*: y\[:, 0\] 0\.0\d+, y\[:, 1\] 1\.\d+\)\. "
                      r"If X carries no signal about those outputs"):
        est.fit(X2, y)
    assert not est.converged_
    stopper = dict(est.net_.callbacks_)["convergence"]
    assert stopper.misses_ >= stopper.patience  # the rule stopped it
    (loss0, chance0), (loss1, chance1) = stopper.output_losses(est.net_)
    assert loss0 < 0.1 * chance0 and loss1 > 0.9 * chance1


def test_early_stopping_judges_the_epoch_whose_weights_it_keeps():
    # a fall by less than tol does not move the bar, so the epoch whose weights are
    # restored need not be the one of the lowest validation loss: with tol=0.3 a real
    # fit kept epoch 1 (0.930 against a chance level of 1.119) while the warning named
    # epoch 4's 0.866, and a fit whose later epochs alone left chance was converged
    _, stopper = stopping_callback(0.2, 3, early_stopping=True, chance_loss=1.0)
    net = SimpleNamespace(history=History(), verbose=0, callbacks_=[("convergence", stopper)],
                          lr=0.05, module_=torch.nn.Linear(1, 1))
    stopper.on_train_begin(net)
    # (the level of many validation samples; tol=0.2 small against it: a tol above a
    # tenth of it is warned of before this, check_convergence)
    stopper.valid_chance_ = (10.0, 5000)
    with pytest.raises(KeyboardInterrupt):  # (skorch's rule ends the fit so)
        for epoch, loss in enumerate([9.6, 9.45, 9.45, 9.45], 1):
            net.history.new_epoch()
            net.history.record("epoch", epoch)
            net.history.record("train_loss", 0.1)
            net.history.record("valid_loss", loss)
            stopper.on_epoch_end(net)
    assert stopper.best_epoch_ == 1  # the weights restored: at chance
    assert stopper.at_chance(net) == ("valid_loss", pytest.approx(9.6))
    with pytest.warns(ConvergenceWarning, match=r"its best validation loss 9\.6 is still "
                      r"at the chance level 10 .* after 4 epochs"):
        assert not check_convergence("LSTMRegressor", net, max_epochs=100, lr=0.05)


class _HeldOut(Callback):
    """The indices of the samples early_stopping held out."""

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        self.indices_ = list(dataset_valid.indices)


def test_early_stopping_judges_the_training_loss_against_the_training_splits_level():
    # the gate judged the training loss against the chance level of all the targets:
    # where the held-out samples took the outliers, the training split's own mean
    # predictor was far below it at the first epoch, and the rule stopped a fit on X
    # of zeros after 3 epochs, "although the training loss left it" (which it had not)
    X0 = np.zeros((40, 6, 1), np.float32)
    y = np.random.default_rng(0).normal(size=40)
    params = dict(FAST, lr=1e-3, device="cpu", early_stopping=True, lr_schedule="constant",
                  tol=1e-2, n_iter_no_change=2)
    with pytest.warns(ConvergenceWarning):  # (one epoch: only to see what is held out)
        probe = LSTMRegressor(**params, max_epochs=1, callbacks=[_HeldOut()]).fit(X0, y)
    held_out = next(cb for _, cb in probe.net_.callbacks_ if isinstance(cb, _HeldOut)).indices_
    y[held_out[:2]] = [8.0, -8.0]
    est = LSTMRegressor(**params, max_epochs=12)
    with pytest.warns(ConvergenceWarning, match=r"did not learn: after max_epochs=12 its "
                      r"best training loss .* still at the chance level") as record:
        est.fit(X0, y)
    assert not est.converged_ and est.n_epochs_ == 12  # the gate held the rule
    assert not [w for w in record if "training loss left it" in str(w.message)]
    stopper = dict(est.net_.callbacks_)["convergence"]
    held_in = np.delete(y, held_out)
    # (the chance level of the standardized targets it trains on)
    assert stopper.train_level() == pytest.approx(held_in.var() / y.var(), rel=1e-3)
