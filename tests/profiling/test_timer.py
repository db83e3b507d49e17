"""The step timer: n_steps timed steps after the warm-up, and the timesteps they ran."""

import warnings

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor, profile_batch_sizes
from sklstm.exceptions import UnscaledInputWarning, WarmupOutlastsFitWarning

from . import FAST

pytest.importorskip("pandas")


def test_the_steps_are_timed_by_the_callback(data, monkeypatch):
    """n_steps timed steps after warmup_steps: the figures are those steps' times."""
    import sklstm.profiling._timer as profiling  # the step timer's clock

    readings = []

    def clock():  # begin, end, begin, end...: the k-th step takes k + 1 seconds
        k = len(readings)
        last = readings[-1] if readings else 0.0
        readings.append(last + (0.25 if k % 2 == 0 else k // 2 + 1))
        return readings[-1]

    monkeypatch.setattr(profiling, "_now", clock)
    X, y = data
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[5], n_steps=3,
                              warmup_steps=2)
    steps = np.subtract(readings[1::2], readings[::2])
    assert len(steps) >= 5  # (an unrecorded fit first, then) 2 warm-up and 3 timed steps
    timed = steps[-3:]  # the warm-up steps, the two before them, do not count
    assert out["step_time_s"].tolist() == [timed.mean()]
    assert out["samples_per_s"].tolist() == [15 / timed.sum()]


def test_timesteps_follow_downsample_and_seq_len():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 300, 2)).astype(np.float32)
    y = rng.normal(size=16)
    # "auto" averages 300 steps to 100; 2 halves them; seq_len then cuts averaged steps
    auto = profile_batch_sizes(LSTMRegressor(**FAST), X, y, batch_sizes=[4],
                               seq_lens=[None, 40], n_steps=1)
    assert list(auto["timesteps"]) == [100, 40]
    halved = profile_batch_sizes(LSTMRegressor(downsample=2, **FAST), X, y, batch_sizes=[4],
                                 seq_lens=[None, 500, 20], n_steps=1)
    assert list(halved["timesteps"]) == [150, 150, 20]
    assert list(halved["seq_len"]) == [None, 500, 20]


def test_the_profile_s_one_epoch_is_not_blamed_on_the_estimator_s_warm_up(data, monkeypatch):
    # every profiled fit runs max_epochs=1: a UserWarning told the user that their
    # warmup_epochs=2 outlast it, and to lower warmup_epochs or raise max_epochs. It was
    # silenced by a regex of its wording, which a reworded message slipped past: now by
    # its class, whatever it says
    import sklstm.training.lr_scaling as lr_scaling

    say = lr_scaling.warn_at_caller

    def reworded(message, category):
        return say(message.replace("ramps the learning rate", "warms the rate"), category)

    monkeypatch.setattr(lr_scaling, "warn_at_caller", reworded)
    X, y = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = profile_batch_sizes(LSTMClassifier(warmup_epochs=2, **FAST), X, y,
                                  batch_sizes=[4], n_steps=1)
    assert [str(w.message) for w in caught if "warmup_epochs" in str(w.message)] == []
    assert out["samples_per_s"].gt(0).all()
    # outside a profile the warning stands, of its own class (a UserWarning still)
    with pytest.warns(WarmupOutlastsFitWarning, match="warmup_epochs=2 warms the rate up"):
        LSTMClassifier(warmup_epochs=2, max_epochs=1, **FAST).fit(X[:8], y[:8])
    assert issubclass(WarmupOutlastsFitWarning, UserWarning)


def test_unscaled_data_is_told_once_with_the_whole_data_s_figures(data):
    # each profiled fit warned of its own samples' root mean squares: figures of its
    # own, so Python's default filter showed a warning per fit (15 for 12 pairs)
    X, y = data
    X = X * np.array([1e4, 1.0, 1.0], dtype=np.float32)
    est = LSTMClassifier(**FAST)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        profile_batch_sizes(est, X, y, batch_sizes=[1, 2, 3], seq_lens=[None, 10],
                            n_steps=1, warmup_steps=0)
    told = [w for w in caught if issubclass(w.category, UnscaledInputWarning)]
    assert len(told) == 1 and told[0].filename == __file__  # at the profile's caller
    with pytest.warns(UnscaledInputWarning) as fitted:  # what a fit on the data says
        LSTMClassifier(max_epochs=1, **FAST).fit(X, y)
    assert str(told[0].message) == str(fitted[0].message)
    # the user's filters still decide: "error" stops the profile at the first
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnscaledInputWarning)
        with pytest.raises(UnscaledInputWarning, match="Scale X first"):
            profile_batch_sizes(est, X, y, batch_sizes=[1], n_steps=1)
