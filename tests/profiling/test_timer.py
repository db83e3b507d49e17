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


def _told(call, match):
    """The messages of the warnings holding ``match`` that ``call()`` shows, each shown."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if match in str(w.message)]


def test_the_profile_s_settings_are_not_blamed_on_the_estimator_s_parameters(data):
    # the profiled fits' early_stopping=False, tol=None and seq_len=None switch off
    # validation_fraction, n_iter_no_change, lr_schedule and keep_steps: every fit told
    # the user that theirs had no effect and to set early_stopping=True, which they had
    X, y = data
    est = LSTMClassifier(early_stopping=True, validation_fraction=0.2, n_iter_no_change=5,
                         lr_schedule="constant", keep_steps="first", seq_len=10, **FAST)
    assert _told(lambda: profile_batch_sizes(est, X, y, batch_sizes=[4, 8],
                                             seq_lens=[None, 5], n_steps=1),
                 "has no effect") == []
    # one the estimator's own parameters switch off is the user's to mend: told, once
    assert len(_told(lambda: profile_batch_sizes(
        LSTMClassifier(base_batch_size=32, **FAST), X, y, batch_sizes=[4, 8], n_steps=1),
        "base_batch_size=32 has no effect")) == 1


def _relative_in_other_units(rng):
    X = rng.normal(size=(40, 30, 3)).astype(np.float32)
    return LSTMRegressor(relative="last", **FAST), X, rng.normal(size=40) * 1000


def _padding_ids_inside(rng):
    return LSTMClassifier(embedding_dim=4, **FAST), rng.integers(0, 50, (40, 20)), np.arange(40) % 2


@pytest.mark.parametrize("make, match", [
    (_relative_in_other_units, "subtracts from y the anchor"),
    (_padding_ids_inside, "hold the padding id 0"),
], ids=["relative", "padding"])
def test_the_data_s_warnings_are_told_once_with_the_whole_data_s_figures(make, match):
    # each fit told them of its own samples, in their figures and places among them
    # ("2 of the 8 sequences of X ... (sequence 1 first)"): 8 warnings for 6 pairs
    est, X, y = make(np.random.default_rng(0))
    told = _told(lambda: profile_batch_sizes(est, X, y, batch_sizes=[4, 8, 16],
                                             seq_lens=[None, 5], n_steps=1), match)
    assert len(told) == 1 and told[0].filename == __file__  # at the profile's caller
    fitted = _told(lambda: est.set_params(max_epochs=1).fit(X, y), match)  # a fit on X
    assert [str(w.message) for w in told] == [str(w.message) for w in fitted]
