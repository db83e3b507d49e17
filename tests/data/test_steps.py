"""Operations on the time axis (sklstm.data.steps)."""

import warnings

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data.steps import downsample_steps

OVERFLOW = r"^The sum of 2 consecutive steps of X, .* beyond the range of float64 .*divide X"


@pytest.mark.parametrize("axis", [0, 1])
def test_a_window_whose_float64_sum_overflows_is_refused(axis):
    # float64 steps were summed to infinity: a mean of inf, with numpy's RuntimeWarning
    seq = np.full((3, 4), 1e308)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(ValueError, match=OVERFLOW):
            downsample_steps(seq, 2, axis=axis)
        assert np.isfinite(downsample_steps(seq / 4, 2, axis=axis)).all()


@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
@pytest.mark.parametrize("form", ["3d", "ragged"])
def test_the_estimators_refuse_the_overflow_before_training(Estimator, form, tiny):
    X = np.full((4, 6, 1), 1e308)
    est = Estimator(**tiny, downsample=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one RuntimeWarning a sequence came before
        with pytest.raises(ValueError, match=OVERFLOW):
            est.fit(X if form == "3d" else list(X), np.arange(4) % 2)
    assert not hasattr(est, "net_")
