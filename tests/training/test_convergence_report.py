"""What a finished fit says of its convergence (convergence_report)."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.training.convergence_report import check_convergence

from .stopper_runs import valid_run


def _run(valid_losses):
    """The net of an early_stopping run on 6 validation samples (chance level 1)."""
    return valid_run(np.linspace(-2.0, 2.0, 40), np.array([-1.0, 1.0] * 3), valid_losses,
                     patience=3)[2]


def test_max_epochs_that_cut_a_falling_validation_loss_short_says_to_raise_it():
    # seen: validation losses 0.65, 0.51, 0.31 in max_epochs=3, on 6 validation samples:
    # told only to raise validation_fraction, add samples or regularize
    net = _run([0.9, 0.7, 0.5])
    with pytest.warns(ConvergenceWarning, match=r"did not show that it learned: .* after "
                      r"max_epochs=3: .*\. Raise max_epochs \(the validation loss still "
                      r"improved at epoch 3, within n_iter_no_change=3 epochs of the end\), "
                      r"or raise validation_fraction"):
        assert not check_convergence("LSTMRegressor", net, max_epochs=3, lr=0.05)
    # a validation loss flat since the first epoch: more epochs are not the advice
    net = _run([0.5, 0.5, 0.5])
    with pytest.warns(ConvergenceWarning, match=r"did not show that it learned") as record:
        assert not check_convergence("LSTMRegressor", net, max_epochs=3, lr=0.05)
    assert not [w for w in record if "max_epochs (" in str(w.message)]


def test_a_stop_by_a_tol_as_large_as_the_chance_level_is_not_convergence():
    # scale_target=False on targets of 1e-2: the default tol=1e-4 is their whole chance
    # level (their variance), the rule cannot see the loss fall, and a fit stopped at
    # epoch 16 at a training R^2 of 0.49 (0.998 standardized) was called converged
    X = np.random.default_rng(0).normal(size=(60, 6, 2)).astype(np.float32)
    y = 1e-2 * X[:, -1, 0] * X[:, -2, 1]
    params = dict(hidden_size=8, batch_size=16, max_epochs=100, lr_schedule="constant",
                  random_state=0, n_threads=1, device="cpu")
    est = LSTMRegressor(**params, scale_target=False)
    with pytest.warns(ConvergenceWarning, match=r"did not converge: the rule stopped the fit "
                      r"after \d+ epochs, but tol=0\.0001 is .* times the chance level .* of "
                      r"the training loss .* Lower tol below .*, or standardize y "
                      r"\(LSTMRegressor's scale_target=True"):
        est.fit(X, y)
    assert not est.converged_ and est.n_epochs_ < params["max_epochs"]
    # standardized (a level of 1), a tol small against it: the stop is convergence
    est = LSTMRegressor(**params, tol=1e-2).fit(X, y)
    assert est.converged_ and est.n_epochs_ < params["max_epochs"]
    assert est.score(X, y) > 0.9


def test_max_epochs_that_end_a_fit_whose_loss_overshot_its_start_do_not_say_raise_lr():
    # lr=1: the first epoch lost 6.9 against a start of 1 (standardized targets), the
    # last epoch's loss was above the best, training R^2 0.24 (0.95 at lr=0.1); the
    # warning advised "raise lr (now 1)"
    rng = np.random.default_rng(1)
    X = rng.normal(size=(48, 8, 3)).astype(np.float32)
    y = X[:, -1, 0] + 0.5 * X[:, 2, 1]
    est = LSTMRegressor(hidden_size=4, batch_size=16, max_epochs=15, lr=1.0, random_state=0,
                        n_threads=1, device="cpu")
    with pytest.warns(ConvergenceWarning, match=r"did not converge: max_epochs=15 was "
                      r"reached .*\. Lower lr \(now 1\): the training loss rose to \d.* at "
                      r"epoch \d+, above where the untrained network started") as record:
        est.fit(X, y)
    assert not [w for w in record if "raise lr" in str(w.message)]


@pytest.mark.parametrize(("params", "branch"), [
    ({"max_epochs": 2, "lr": 1e-6}, "its best training loss"),  # never left the chance level
    ({"max_epochs": 15, "lr": 0.02, "n_iter_no_change": 3, "early_stopping": True,
      "embedding_dim": 8, "hidden_size": 16}, "its best validation loss"),  # labels are noise
])
def test_a_fit_on_token_ids_that_did_not_learn_is_not_told_to_scale_x(params, branch):
    # seen: make_token_sentiment at defaults (embedding_dim=32, early_stopping=True), held
    # out at chance, told to "scale X (sklstm.preprocessing.SequenceScaler)": a scaled
    # token id is no longer the id of its word (and the embedding refuses floats)
    rng = np.random.default_rng(0)
    X, y = rng.integers(1, 50, size=(80, 6)), rng.integers(0, 2, size=80)
    clf = LSTMClassifier(**{"embedding_dim": 2, "hidden_size": 2, "device": "cpu",
                            "random_state": 0, **params})
    with pytest.warns(ConvergenceWarning, match="did not") as record:
        clf.fit(X, y)
    assert not clf.converged_
    said = " ".join(str(w.message) for w in record if w.category is ConvergenceWarning)
    assert branch in said
    assert "scale X" not in said and "SequenceScaler" not in said


@pytest.mark.parametrize("params", [
    {"max_epochs": 40, "tol": 1e-2, "n_iter_no_change": 2},  # the rule stops it
    {"max_epochs": 40, "tol": 1e-2, "n_iter_no_change": 2, "scale_target": False,
     "early_stopping": True},
    {"max_epochs": 3},  # max_epochs ends it (was told: "Lower lr ... started (0)")
])
def test_a_constant_target_is_never_converged(params):
    # the chance level of a constant y is 0, which turned the chance gate off: a fit the
    # rule stopped after 3 epochs was converged_ without a word
    X = np.random.default_rng(0).normal(size=(40, 5, 2)).astype(np.float32)
    est = LSTMRegressor(hidden_size=4, batch_size=16, lr_schedule="constant", random_state=0,
                        n_threads=1, device="cpu", **params)
    with pytest.warns(ConvergenceWarning, match=r"did not learn: every target it trains on "
                      r"is the same value .* Check y") as record:
        est.fit(X, np.full(40, 3.0))
    assert not est.converged_
    assert len([w for w in record if w.category is ConvergenceWarning]) == 1


def test_max_epochs_within_n_iter_no_change_says_the_rule_could_not_stop_the_fit():
    # max_epochs=1 at n_iter_no_change=10 was told to "raise lr": no rate lets the rule,
    # which stops a fit n_iter_no_change epochs after its best, end a fit that short
    X = np.random.default_rng(0).normal(size=(64, 6, 2)).astype(np.float32)
    # (a loss that left the chance level in its one epoch: not "did not learn")
    est = LSTMClassifier(hidden_size=8, batch_size=16, max_epochs=1, random_state=0,
                         n_threads=1, device="cpu")
    with pytest.warns(ConvergenceWarning, match=r"did not converge: max_epochs=1 was reached "
                      r"before the rule could stop the fit, which it does after "
                      r"n_iter_no_change=10 epochs .*\. Raise max_epochs above "
                      r"n_iter_no_change=10, or lower it\.$") as record:
        est.fit(X, (X[:, -1, 0] > 0).astype(int))
    assert not any("raise lr" in str(w.message) for w in record)
