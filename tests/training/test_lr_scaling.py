"""Learning-rate scaling with the effective batch, and the warm-up."""

import warnings

import numpy as np
import pytest

from sklstm import LSTMRegressor
from sklstm.exceptions import WarmupOutlastsFitWarning

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
