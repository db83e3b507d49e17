"""A diverged fit raises, says where and why, and leaves nothing fitted."""

from types import SimpleNamespace

import numpy as np
import optuna
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback
from skorch.history import History

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.exceptions import DivergenceError
from sklstm.search import make_objective
from sklstm.training.class_weights import weighted_chance_loss
from sklstm.training.divergence import DivergenceGuard

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 6, 2)).astype(np.float32)
Y_REG = X[:, -1, 0]
Y_CLS = (Y_REG > 0).astype(int)
COMMON = dict(hidden_size=8, batch_size=16, max_epochs=5, tol=None, random_state=0,
              n_threads=1)


@pytest.mark.parametrize(("Estimator", "y"), [(LSTMClassifier, Y_CLS), (LSTMRegressor, Y_REG)])
@pytest.mark.parametrize("lr", [1e3, 1e7])
def test_a_huge_learning_rate_diverges_loudly(Estimator, y, lr):
    est = Estimator(**COMMON, lr=lr)
    with pytest.raises(DivergenceError, match=rf"{Estimator.__name__} diverged: the "
                       r"training loss .* in epoch 1.*\(lr_=.*\)\. The learning rate is "
                       r"likely too high"):
        est.fit(X, y)
    with pytest.raises(NotFittedError):  # never NaN or one-class predictions
        est.predict(X)


def test_a_last_update_that_blows_the_model_up_diverges_loudly():
    """The epochs' losses predate their updates: one step at a huge rate (one batch, one
    epoch) left a fit that succeeded, whose every prediction then failed blaming X."""
    # (on the CPU: where float32 overflows is a matter of the kernels' arithmetic)
    est = LSTMClassifier(**{**COMMON, "max_epochs": 1, "batch_size": len(X)}, lr=1e6,
                         device="cpu")
    with pytest.raises(DivergenceError, match=r"diverged: the last update of epoch 1 made "
                       r"the network's outputs non-finite .*\(lr_=1e\+06\)"):
        est.fit(X, Y_CLS)
    with pytest.raises(NotFittedError):
        est.predict(X)


class _BlowUpTokenRow(Callback):
    """After the last training step of epoch ``epoch`` (batch ``batch``), put an infinity in
    the embedding row of ``token``: what an update that blew up one token's row leaves."""

    def __init__(self, epoch, batch, token):
        self.epoch, self.batch, self.token = epoch, batch, token

    def on_batch_end(self, net, training=False, **kwargs):
        if training and (len(net.history), len(net.history[-1]["batches"])) == (
                self.epoch, self.batch):
            embedding = next(m for m in net.module_.modules()
                             if isinstance(m, torch.nn.Embedding))
            with torch.no_grad():
                embedding.weight[self.token] = float("inf")


def test_a_weight_that_the_first_samples_do_not_use_is_checked_too():
    # the final check ran the first training samples only: an embedding row of a token
    # they lack, blown up by the last update, left a fit that succeeded and predicted
    # NaN for the sequences holding the token (refused at predict, blaming X)
    tokens = rng.integers(1, 5, size=(40, 6))
    tokens[-4:, 2] = 7  # in the last batch only
    est = LSTMClassifier(**{**COMMON, "max_epochs": 2, "batch_size": 8}, vocab_size=8,
                         embedding_dim=3, device="cpu", callbacks=[_BlowUpTokenRow(2, 5, 7)])
    with pytest.raises(DivergenceError, match=r"diverged: the last update of epoch 2 made "
                       r"the network's weights non-finite \(embedding\.weight holds a NaN "
                       r"or an infinity\) \(lr_=0\.001\)"):
        est.fit(tokens, (tokens[:, 0] > 2).astype(int))
    with pytest.raises(NotFittedError):
        est.predict(tokens)


def test_a_clipped_fit_that_diverges_is_told_to_clip_harder():
    # the advice was "clip the gradient (gradient_clip=1.0)", the clipping it had
    est = LSTMClassifier(**COMMON, lr=1e7, gradient_clip=1.0)
    with pytest.raises(DivergenceError, match=r"or clip the gradient harder \(gradient_clip "
                                              r"below 1\)\. The estimator is left unfitted"):
        est.fit(X, Y_CLS)


def test_a_clipped_lbfgs_that_diverges_is_told_not_to_clip_or_to_search_its_line():
    # clipping broke LBFGS's curvature (each iteration clipped by another factor): it
    # diverged clipped at 0.5 where unclipped it trained, and was told to clip harder.
    # Which rates do is the CPU's rounding's (on an AMD EPYC, at lr 0.3 and 3-10 but
    # not 0.1 or 1; at 0.1 on an Intel CPU): lr=10 diverges clipped by a wide margin
    data = np.random.default_rng(1).normal(size=(53, 6, 2)).astype(np.float32)
    labels = (data[:, -1, 0] > 0).astype(int) + (data[:, -1, 1] > 0.5)
    params = dict(hidden_size=6, max_epochs=3, tol=None, dropout=0.0, pooling="last",
                  downsample=1, random_state=0, device="cpu", conv_channels=None,
                  batch_size=12, optimizer=torch.optim.LBFGS, lr=10.0,
                  optimizer_params={"max_iter": 3}, ar_window=None, split_level=False)
    with pytest.raises(DivergenceError, match=r"or train LBFGS unclipped \(gradient_clip=None\) "
                                              r"or with its line search"):
        LSTMClassifier(**params, gradient_clip=0.5).fit(data, labels)


@pytest.mark.parametrize("lr", [1e-2, 1e7])
def test_extreme_class_weights_are_measured_from_where_the_fit_starts(lr):
    """Weights of 1000 and 1e-4 (scikit-learn's check_class_weight_classifiers) put
    the chance loss at 2e-6, while every fit starts near log(2): measured from the
    chance loss a sound fit was called diverged; a huge rate still is."""
    est = LSTMClassifier(**COMMON, lr=lr, class_weight={0: 1000, 1: 1e-4})
    if lr > 1:
        with pytest.raises(DivergenceError, match=r"0\.693 of outputs of zero"):
            est.fit(X, Y_CLS)
    else:
        est.fit(X, Y_CLS)
        assert np.mean(est.predict(X) == 0) > 0.9  # the weighted class


@pytest.mark.parametrize(("loss", "diverged"), [(0.46, False), (70.0, True)])
def test_rare_classes_are_measured_from_where_the_fit_starts(loss, diverged):
    """2 samples of a class in 20000 put the chance loss at 0.001, while every fit starts
    at log(2): a sound first epoch at 0.46 (a fit with batch_size=1024 on them) was
    called diverged, blaming the learning rate; a loss 100 times log(2) still is."""
    y = np.zeros(20000, dtype=np.int64)
    y[:2] = 1
    chance = weighted_chance_loss(y, None, 2)
    history = History()
    history.new_epoch()
    history.record("train_loss", loss)
    net = SimpleNamespace(history=history, criterion_=torch.nn.CrossEntropyLoss(),
                          optimizer_=SimpleNamespace(param_groups=[{"lr": 1e-3}]))
    guard = DivergenceGuard("LSTMClassifier", lr=1e-3, trivial_loss=chance)
    guard.on_train_begin(net, y=y)
    assert guard.start_loss_ == pytest.approx(np.log(2))
    if diverged:
        with pytest.raises(DivergenceError, match=r"0\.693 of outputs of zero"):
            guard.on_epoch_end(net)
    else:
        guard.on_epoch_end(net)


def test_a_refit_that_diverges_discards_the_earlier_fit_too():
    est = LSTMRegressor(**COMMON, lr=0.01).fit(X, Y_REG)
    with pytest.raises(DivergenceError):
        est.set_params(lr=1e7).fit(X, Y_REG)
    assert not [name for name in vars(est) if name.endswith("_")]


def test_nan_losses_name_the_batch():
    est = LSTMRegressor(**{**COMMON, "optimizer": "sgd", "scale_target": False}, lr=1e7)
    with pytest.raises(DivergenceError, match=r"loss became (nan|inf) in epoch 1, batch \d"):
        est.fit(X, 1e3 * Y_REG)


def test_a_nan_validation_loss_names_the_validation_batch_and_the_rate_in_use():
    # the validation batches follow the training ones in the epoch's rows: the NaN was
    # in validation batch 1, not "batch 5"; a schedule had moved the rate from lr_
    history = History()
    history.new_epoch()
    for _ in range(4):
        history.new_batch()
        history.record_batch("train_loss", 0.5)
    history.new_batch()
    history.record_batch("valid_loss", float("nan"))
    net = SimpleNamespace(history=history,
                          optimizer_=SimpleNamespace(param_groups=[{"lr": 0.5}]))
    guard = DivergenceGuard("LSTMRegressor", lr=0.01, trivial_loss=1.0)
    with pytest.raises(DivergenceError, match=r"the validation loss became nan in epoch 1, "
                       r"batch 1 \(lr_=0\.01; the epoch trained at 0\.5\)\. The learning"):
        guard.on_epoch_end(net)


def test_grid_search_records_the_diverged_candidate_and_picks_a_sane_one():
    search = GridSearchCV(LSTMClassifier(**COMMON), {"lr": [0.05, 1e7]}, cv=2)
    with pytest.warns(FitFailedWarning, match="DivergenceError"):
        search.fit(X, Y_CLS)
    assert np.isnan(search.cv_results_["mean_test_score"][1])
    assert search.best_params_ == {"lr": 0.05}


def test_optuna_marks_the_diverged_trial_failed_with_the_reason():
    objective = make_objective(LSTMClassifier(**COMMON), X, Y_CLS, cv=2, space={"lr": [1e7]})
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1, catch=(Exception,))
    (trial,) = study.trials
    assert trial.state.name == "FAIL"
    assert trial.user_attrs["fail_reason"].startswith("DivergenceError: LSTMClassifier diverged")


@pytest.mark.parametrize("lr", [float("inf"), float("nan"), 0.0, -1.0])
def test_non_finite_or_non_positive_learning_rates_are_refused(lr):
    with pytest.raises(ValueError, match=r"'lr' parameter of LSTMClassifier must be a float "
                                         r"in the range \(0.0, inf\)"):
        LSTMClassifier(**COMMON, lr=lr).fit(X, Y_CLS)


def test_input_beyond_float32_is_refused():
    big = X.astype(np.float64)
    big[3, 2, 1] = 1e39
    with pytest.raises(ValueError, match=r"X has a value beyond float32's range .* in "
                                         r"sequence 3.*SequenceScaler"):
        LSTMRegressor(**COMMON).fit(big, Y_REG)


def test_targets_whose_squared_errors_overflow_float32_are_refused_before_training(
        monkeypatch):
    # every loss would be inf from the first batch on: it was reported as divergence,
    # blaming the learning rate and X
    from sklstm.training import fit
    est = LSTMRegressor(**COMMON, scale_target=False, device="cpu")
    with monkeypatch.context() as patch:
        patch.setattr(fit, "warm_up", lambda *args: pytest.fail("trained"))
        with pytest.raises(ValueError, match=r"LSTMRegressor: y has values up to .*e\+20, "
                           r"whose squared errors overflow float32 .* Rescale y "
                           r"\(scale_target=True"):
            est.fit(X, 1e20 * Y_REG)
    assert not hasattr(est, "net_")
    est.set_params(scale_target=True).fit(X, 1e20 * Y_REG)  # standardized: it trains


@pytest.mark.parametrize(("Estimator", "y"), [(LSTMClassifier, Y_CLS), (LSTMRegressor, Y_REG)])
def test_non_finite_predictions_are_refused_not_returned(Estimator, y):
    # a corrupted model (weights edited by hand, say): the guard names the sequence
    est = Estimator(**{**COMMON, "max_epochs": 1}).fit(X, y)
    with torch.no_grad():
        est.net_.module_.head.bias.fill_(float("nan"))
    with pytest.raises(ValueError, match="produced non-finite outputs for sequence 0 of X"):
        est.predict(X)


def test_unscaled_targets_far_from_zero_start_high_and_are_not_called_diverged():
    # scale_target=False, targets around 20 with a spread of ~0.5: the untrained
    # network's outputs of zero lose ~400, over 100 times the targets' variance. That
    # is where every fit starts, not a blow-up: it was refused as divergence in epoch
    # 1 (blaming the learning rate) although more epochs learn it
    y = 20.0 + 0.5 * Y_REG
    est = LSTMRegressor(**COMMON, scale_target=False).fit(X, y)
    assert est.n_epochs_ == COMMON["max_epochs"]
    assert dict(est.net_.callbacks_)["divergence"].start_loss_ == pytest.approx(
        np.mean(y.astype(np.float32) ** 2), rel=1e-4)
    # a real blow-up from there is still one
    with pytest.raises(DivergenceError, match=r"over 100 times the [34]\d\d of outputs of "
                       r"zero, where the untrained network starts"):
        LSTMRegressor(**COMMON, scale_target=False, lr=1e7).fit(X, y)


@pytest.mark.parametrize("scale", [1e-3, 1e-6])
def test_unscaled_targets_far_below_the_untrained_outputs_are_not_called_diverged(scale):
    # scale_target=False, targets of 1e-3: outputs of zero lose 1.3e-6, but the untrained
    # network's outputs are not zero and its first batch lost 0.002. An ordinary first
    # epoch (0.0028) was refused as divergence "over 100 times the 1.31e-06 of outputs
    # of zero", blaming the learning rate
    est = LSTMRegressor(**COMMON, scale_target=False, device="cpu").fit(X, scale * Y_REG)
    assert est.n_epochs_ == COMMON["max_epochs"]
    # a real blow-up from there is still one
    with pytest.raises(DivergenceError, match=r"in epoch 1, over 100 times the 0\.00\d+ of "
                       r"the untrained network's first training batch, before any update"):
        LSTMRegressor(**COMMON, scale_target=False, lr=1e7, device="cpu").fit(
            X, scale * Y_REG)


def test_a_fit_that_stays_far_above_chance_names_the_unscaled_targets():
    # targets around 1e6 (scale_target=False): the loss stays near 1e12, far *above*
    # the chance level (the variance); the warning said "still at the chance level"
    # and advised only lr, epochs and scaling X
    est = LSTMRegressor(**{**COMMON, "tol": 1e-4}, scale_target=False)
    with pytest.warns(ConvergenceWarning, match=r"did not learn: .* best training loss "
                      r".* is above the chance level .* The targets lie far from zero for "
                      r"their spread .* scale_target=True"):
        est.fit(X, 1e6 + Y_REG)
    assert not est.converged_


def test_a_first_batch_loss_that_overflows_does_not_blame_the_learning_rate():
    # half the targets near 1e19 pass the squared-error check (1e38 fits float32), and
    # a micro-batch of the small half would fit, but a batch's mean sums 16 squares in
    # float32: the first loss, before any update, was inf and the message said "The
    # learning rate is likely too high"
    est = LSTMRegressor(**COMMON, scale_target=False, device="cpu")
    y = np.where(np.arange(len(X)) % 2, 1e19, 0.0) + Y_REG
    with pytest.raises(DivergenceError, match=r"the training loss of the first batch became "
                       r"inf, before any update, so the learning rate is not the cause: .* "
                       r"rescale y \(LSTMRegressor's scale_target=True"):
        est.fit(X, y)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("batch_size", [16, "auto"])
def test_targets_whose_every_batch_loss_overflows_are_refused_before_training(
        batch_size, monkeypatch):
    # targets of 1e19: each square fits float32, but every micro-batch of 16 sums 16 of
    # them in float32 and its loss was inf before any update (a DivergenceError once
    # the first epoch had run); a micro-batch of 3 fits
    from sklstm.training import fit
    est = LSTMRegressor(**{**COMMON, "batch_size": batch_size}, scale_target=False,
                        device="cpu")
    y = np.full(len(X), 1e19) + Y_REG
    with monkeypatch.context() as patch:
        patch.setattr(fit, "build_net", lambda *args, **kwargs: pytest.fail("trained"))
        with pytest.raises(ValueError, match=r"LSTMRegressor: y is so large that the loss of "
                           r"every micro-batch of \d+ samples overflows float32 .* before any "
                           r"update.* Rescale y \(scale_target=True, the default.*\), or "
                           r"lower batch_size to 3 or fewer\."):
            est.fit(X, y)
    assert not hasattr(est, "net_")
    est.set_params(batch_size=2, max_epochs=1).fit(X, y)  # (what it names trains)
    assert est.n_epochs_ == 1


TOKENS = rng.integers(1, 20, size=(64, 6))


def test_a_token_fit_that_diverges_is_not_told_to_scale_its_token_ids():
    # X holds token ids, which are embedded: "scale X (SequenceScaler)" turned them
    # into other ids, or floats the embedding refuses
    est = LSTMRegressor(**{**COMMON, "max_epochs": 2, "optimizer": "sgd"}, lr=1e6,
                        vocab_size=20, embedding_dim=3, device="cpu")
    with pytest.raises(DivergenceError, match=r"diverged: .* The learning rate is likely too "
                       r"high for this data: lower lr, or clip the gradient") as error:
        est.fit(TOKENS, Y_REG)
    assert "scale X" not in str(error.value) and "SequenceScaler" not in str(error.value)


def test_a_token_fit_whose_first_batch_loss_overflows_blames_y_not_x():
    # (as test_a_first_batch_loss_that_overflows_does_not_blame_the_learning_rate, with
    # token ids, which cannot be too large: "Scale X" was no fix)
    est = LSTMRegressor(**COMMON, scale_target=False, vocab_size=20, embedding_dim=3,
                        device="cpu")
    y = np.where(np.arange(len(X)) % 2, 1e19, 0.0) + Y_REG
    with pytest.raises(DivergenceError, match=r"first batch became inf, before any update, "
                       r"so the learning rate is not the cause: X holds token ids, so most "
                       r"likely y holds values so large") as error:
        est.fit(TOKENS, y)
    assert "Scale X" not in str(error.value)


@pytest.mark.parametrize("criterion", [
    torch.nn.CrossEntropyLoss(),
    torch.nn.CrossEntropyLoss(weight=torch.linspace(0.1, 5.0, 1000)),
    torch.nn.CrossEntropyLoss(ignore_index=3),
])
def test_the_start_loss_of_many_samples_and_classes_is_measured_in_bounded_parts(criterion):
    # the outputs of zero were made for every training sample at once, (samples, classes)
    # float32 and as much again for the softmax: 1.5 GB for 200000 targets of 1000
    # classes, before the first batch (here 5000 targets: 5e6 outputs)
    y = (np.arange(5000) * 7) % 1000
    seen = []
    hook = criterion.register_forward_pre_hook(lambda _, args: seen.append(args[0].numel()))
    guard = DivergenceGuard("LSTMClassifier", lr=0.01, trivial_loss=1.0)
    try:
        guard.on_train_begin(SimpleNamespace(criterion_=criterion), y=y)
    finally:
        hook.remove()
    assert max(seen) <= 2**22 < len(y) * 1000
    # outputs of zero lose log(n_classes) on every sample, however weighted
    assert guard.start_loss_ == pytest.approx(np.log(1000), rel=1e-6)


@pytest.mark.parametrize(("lr", "loss"), [(1e4, r"\d\.\d+e\+\d+, over 100 times the 1 of"),
                                          (1e18, r"inf")])
def test_a_last_update_that_sends_finite_outputs_far_off_diverges_loudly(lr, loss):
    # the outputs were checked for being finite only: one step at lr=1e4 left a regressor
    # that "succeeded" predicting -3e4 for targets within 1 (R^2 -1e9), silently; at
    # 1e18 outputs of 3e18 were finite, their squared errors (the loss) not
    est = LSTMRegressor(**{**COMMON, "max_epochs": 1, "batch_size": len(X),
                           "optimizer": "sgd"}, lr=lr, device="cpu")
    with pytest.raises(DivergenceError, match=r"diverged: the last update of epoch 1 made "
                       rf"the network's loss on the first training samples {loss}"):
        est.fit(X, Y_REG)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_a_batch_normalized_network_whose_last_update_sends_it_far_off_diverges_loudly():
    # with batch normalization (the convolutional branch, the classifier's default) the
    # rule above reads the loss with the batch's own statistics too: one step at lr=1e4
    # left a classifier whose loss on its first samples was 1.6e16, silently
    est = LSTMClassifier(**{**COMMON, "max_epochs": 1, "batch_size": len(X),
                            "optimizer": "sgd"}, lr=1e4, conv_channels=(4, 4),
                         conv_kernel_sizes=(3, 3), device="cpu")
    with pytest.raises(DivergenceError, match=r"the last update of epoch 1 made the "
                       r"network's loss on the first training samples \d\.\d+e\+\d+, over "
                       r"100 times the 0\.69\d* of"):
        est.fit(X, Y_CLS)


class _RunningMeanAstray(Callback):
    """Shift every batch normalization's running mean when training ends: a fitted
    network far off by its running statistics alone, its weights sound."""

    def on_train_end(self, net, **kwargs):
        for module in net.module_.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean -= 1e5


@pytest.mark.parametrize("ragged", [False, True])
def test_running_statistics_far_off_are_no_divergence_and_are_left_as_they_are(ragged):
    # the check normalizes by the batch's statistics without reading or updating the
    # running ones (check_convergence warns of those, naming batch normalization); a
    # padded batch's (ragged) normalization moved them all the same
    data = [x[: 6 - 2 * (i % 2)] for i, x in enumerate(X)] if ragged else X
    est = LSTMClassifier(**{**COMMON, "max_epochs": 2}, lr=0.05, conv_channels=(4, 4),
                         conv_kernel_sizes=(3, 3), device="cpu",
                         callbacks=[("astray", _RunningMeanAstray())])
    est.fit(data, Y_CLS)
    guard = dict(est.net_.callbacks_)["divergence"]
    assert guard.final_loss_ > 100 * np.log(2)  # far off, and yet no DivergenceError
    norms = [m for m in est.net_.module_.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert all(m.track_running_stats and not m.training for m in norms)
    assert all(int(m.num_batches_tracked) == 2 * 4 for m in norms)  # 4 batches, 2 epochs
    assert all(float(m.running_mean.max()) < -9e4 for m in norms)
