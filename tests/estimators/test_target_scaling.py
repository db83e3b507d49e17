"""LSTMRegressor learns targets of any scale: they are standardized for training."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklstm import LSTMRegressor

from ..settings import ON_CUDA

rng = np.random.default_rng(0)
X = rng.normal(size=(120, 8, 2)).astype(np.float32)
Y = X[:, -2:, 0].sum(axis=1) + 0.5 * X[:, :, 1].mean(axis=1)
COMMON = dict(hidden_size=8, lr=0.01, max_epochs=60, tol=None, random_state=0, n_threads=1)


@pytest.mark.parametrize(("scale", "offset"), [(1e3, 5e3), (1e-3, 0.0), (2.0, -7.0)])
def test_an_affine_target_gives_the_same_model(scale, offset):
    # a positive scale and any offset standardize to the very same training target
    base = LSTMRegressor(**COMMON).fit(X, Y)
    moved = LSTMRegressor(**COMMON).fit(X, scale * Y + offset)
    # the same model up to rounding, which 60 epochs amplify: on CUDA (1e-3 measured on an
    # H200) more than on the CPU (tests/settings.py)
    rtol = 1e-2 if ON_CUDA else 1e-4
    assert_allclose(moved.predict(X), scale * base.predict(X) + offset,
                    rtol=rtol, atol=rtol / 10 * abs(scale))
    assert moved.score(X, scale * Y + offset) == pytest.approx(base.score(X, Y), abs=rtol)
    assert base.score(X, Y) > 0.8


def test_without_scaling_targets_far_from_unit_scale_train_poorly():
    scaled = LSTMRegressor(**COMMON).fit(X, 1e3 * Y + 5e3).score(X, 1e3 * Y + 5e3)
    raw = LSTMRegressor(**COMMON, scale_target=False).fit(X, 1e3 * Y + 5e3)
    assert (raw.target_mean_, raw.target_scale_) == (0.0, 1.0)
    assert raw.score(X, 1e3 * Y + 5e3) < scaled - 0.5


def test_multi_output_targets_are_scaled_per_output():
    Y2 = np.c_[Y * 1e3, Y * 1e-3]
    est = LSTMRegressor(**COMMON).fit(X, Y2)
    assert_allclose(est.target_scale_, Y2.std(axis=0))
    assert est.predict(X).shape == (120, 2)


def test_a_constant_target_keeps_scale_one():
    est = LSTMRegressor(**{**COMMON, "max_epochs": 2}).fit(X, np.full(120, 3.0))
    assert est.target_scale_[0] == 1.0
    assert_allclose(est.predict(X[:5]), 3.0, atol=0.5)


@pytest.mark.parametrize("scale", [1e-16, 1e200])
def test_targets_of_extreme_scale_are_standardized_too(scale):
    # around 1e-16 the spread was taken for rounding (a constant target: left unscaled,
    # the fit diverged); beyond 1e154 its square overflowed (every prediction inf)
    y = Y.astype(np.float64)
    short = {**COMMON, "max_epochs": 2}
    base = LSTMRegressor(**short).fit(X, y)
    est = LSTMRegressor(**short).fit(X, scale * y)
    assert_allclose(est.target_scale_, scale * y.std())
    rtol = 1e-2 if ON_CUDA else 1e-4
    assert_allclose(est.predict(X[:5]), scale * base.predict(X[:5]), rtol=rtol)


def test_unscaled_targets_beyond_float32_are_refused_naming_the_largest():
    # the check ran on the targets cast to float32, so it named inf
    y = 1e39 * Y.astype(np.float64) / np.abs(Y).max()
    est = LSTMRegressor(**COMMON, scale_target=False)
    with pytest.raises(ValueError, match=r"y has values up to 1e\+39, .*scale_target=True"):
        est.fit(X, y)
    assert not hasattr(est, "net_")
