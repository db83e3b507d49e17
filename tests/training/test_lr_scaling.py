"""Learning-rate scaling with the effective batch, and the warm-up."""

import warnings

import numpy as np
import pytest

from sklstm import LSTMRegressor
from sklstm.exceptions import WarmupOutlastsFitWarning
from sklstm.training import scaled_learning_rate, warmup_scheduler

rng = np.random.default_rng(0)
X = rng.normal(size=(24, 5, 2)).astype(np.float32)
Y = X[:, :, 0].sum(axis=1)
PARAMS = dict(hidden_size=4, lr=0.01, tol=None, device="cpu", random_state=0, n_threads=1)


@pytest.mark.parametrize("batch_size", [8, "auto"])
def test_a_warmup_longer_than_the_fit_is_warned_about(batch_size):
    """The rate ramps up over warmup_epochs; a fit with no more epochs never trains at
    lr_ (it did so in silence, its ConvergenceWarning advising to raise lr)."""
    # a class of its own (a UserWarning, which users' filters of those still catch), so
    # that it is filtered by category, not by its wording (profile_batch_sizes does)
    with pytest.warns(WarmupOutlastsFitWarning,
                      match=r"warmup_epochs=3 .* max_epochs=3 ends the fit first: it never "
                            r"trains at lr_ \(its last epoch at 75% of it\)") as caught:
        reg = LSTMRegressor(**PARAMS, warmup_epochs=3, max_epochs=3,
                            batch_size=batch_size, lr_scaling="sqrt").fit(X, Y)
    assert reg.history_[:, "event_lr"][-1] == pytest.approx(0.75 * reg.lr_)
    assert any(w.filename == __file__ for w in caught)  # where fit was called
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = LSTMRegressor(**PARAMS, warmup_epochs=3, max_epochs=4).fit(X, Y)
    assert reg.history_[:, "event_lr"][-1] == pytest.approx(reg.lr_)


def test_numpy_scalars_scale_as_the_numbers_they_hold():
    """np.float32(0.01) is the 0.01 written, as the estimators read their lr: scaled
    from its float32 bits the rate was 0.0399999991 for 0.04, a numpy float64."""
    lr = scaled_learning_rate(np.float32(0.01), np.int64(64), np.int32(16), np.str_("linear"))
    assert lr == 0.04 and type(lr) is float
    assert scaled_learning_rate(0.01, np.int64(128), 32, "sqrt") == pytest.approx(0.02)
    assert warmup_scheduler(np.int64(3)).kwargs["total_iters"] == 3


@pytest.mark.parametrize(("call", "match"), [
    # a bare KeyError: 'Linear'
    (lambda: scaled_learning_rate(0.01, 64, 16, "Linear"),
     r"'rule' parameter of scaled_learning_rate must be a str among .* or None\. "
     r"Got 'Linear'"),
    # a ZeroDivisionError
    (lambda: scaled_learning_rate(0.01, 64, 0, "linear"),
     r"'base_batch_size' parameter .* must be an int in the range \[1, inf\)\. Got 0"),
    # a complex learning rate, (1.2e-18+0.02j)
    (lambda: scaled_learning_rate(0.01, -64, 16, "sqrt"),
     r"'effective_batch_size' parameter .* Got -64"),
    (lambda: scaled_learning_rate(0.01, 64.0, 16, "sqrt"), r"64\.0 is a float; pass the int 64"),
    (lambda: scaled_learning_rate(0.0, 64, 16, None), r"'lr' parameter"),
    # a ZeroDivisionError
    (lambda: warmup_scheduler(-1),
     r"'warmup_epochs' parameter of warmup_scheduler must be an int in the range \[0, inf\)"),
], ids=["rule", "base", "negative", "float", "lr", "warmup"])
def test_bad_arguments_of_the_public_helpers_are_refused_naming_what_to_pass(call, match):
    with pytest.raises(ValueError, match=match):
        call()
