"""Tests for the hard-case generators of sklstm.datasets (_hard_cases.py)."""

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from sklstm import LSTMClassifier
from sklstm.datasets import _hard_cases as hard_cases
from sklstm.datasets import make_motion_recordings, make_shape_in_series, make_subtle_shape


@pytest.mark.parametrize(
    ("generator", "kwargs", "match"),
    [
        (make_shape_in_series, {"n_samples": 2, "n_classes": 3}, "n_samples=2 cannot hold "
         "n_classes=3 classes; ask for at least 3 samples"),
        (make_motion_recordings, {"n_samples": 3, "n_classes": 4}, "n_samples=3 cannot hold "
         "n_classes=4"),
        (make_subtle_shape, {"n_samples": 1}, "n_samples=1 cannot hold n_classes=2"),
    ],
)
def test_fewer_samples_than_classes_are_refused(generator, kwargs, match):
    # the balanced labels left classes out of y silently (make_sequence_classification
    # refused it already): a classifier fitted on them never knew those classes
    with pytest.raises(ValueError, match=match):
        generator(n_timesteps=24, random_state=0, **kwargs)


@pytest.mark.parametrize(
    ("generator", "kwargs"),
    [(make_shape_in_series, {"n_classes": 3}), (make_motion_recordings, {"n_classes": 4}),
     (make_subtle_shape, {})],
)
def test_as_many_samples_as_classes_hold_every_class(generator, kwargs):
    n_classes = kwargs.get("n_classes", 2)
    _, y = generator(n_samples=n_classes, n_timesteps=24, random_state=0, **kwargs)
    assert sorted(y.tolist()) == list(range(n_classes))


def test_a_shape_longer_than_the_series_is_refused_with_the_fix():
    # the message named the problem only, not what to pass instead
    with pytest.raises(ValueError, match=r"shape_length=30 is longer than the series "
                                         r"\(n_timesteps=24\); pass a shape_length of at most 24"):
        make_shape_in_series(n_timesteps=24, shape_length=30, random_state=0)


@pytest.mark.parametrize("position", ["middle", "end", "anywhere"])
def test_a_shape_one_step_shorter_than_the_series_is_placed(position):
    # one step of room (last start 1): 20 % to 60 % of it holds no whole step, and numpy
    # refused to draw from the empty range ("low >= high")
    X, _ = make_shape_in_series(n_samples=3, n_timesteps=24, shape_length=23,
                                position=position, random_state=0)
    assert X.shape == (3, 24)


def test_variable_recordings_are_at_least_40_percent_of_n_timesteps():
    # int(0.4 * 24) = 9 made recordings of 37.5 % of n_timesteps; the docstring says 40-100 %
    X, _ = make_motion_recordings(n_samples=200, n_timesteps=24, n_channels=1,
                                  variable_length=True, random_state=0)
    lengths = [len(x) for x in X]
    assert min(lengths) == 10 and max(lengths) == 24  # ceil(9.6), n_timesteps


@pytest.mark.parametrize(("position", "lowest", "highest"),
                         [("middle", 0.2, 0.6), ("end", 1.0, 1.0), ("anywhere", 0.0, 1.0)])
def test_the_shape_starts_where_the_docstring_says(position, lowest, highest, monkeypatch):
    # a "middle" shape started at int(0.2 * 27) = 5 of 27 possible starts: 18.5 %, not 20
    monkeypatch.setattr(hard_cases, "_shape", lambda kind, length: np.full(length, 1e6))
    X, _ = make_shape_in_series(n_samples=300, n_timesteps=31, shape_length=4,
                                position=position, random_state=0)
    starts = np.argmax(X > 1e5, axis=1) / 27  # the share of the way to the last start
    assert starts.min() >= lowest and starts.max() <= highest
    if position == "middle":  # every whole step of that range is drawn
        assert len(np.unique(starts)) == 11  # 6..16 of 27


def test_default_classifier_learns_the_default_motion_recordings():
    # what users get: LSTMClassifier() at its defaults (device pinned, one thread) on the
    # generator's defaults learns the gestures (held-out balanced accuracy 1.0 against
    # 0.25 by chance, 120 epochs, about 9 s on one core) and says it converged
    X, y = make_motion_recordings(random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    clf = LSTMClassifier(device="cpu", n_threads=1, random_state=0).fit(X_train, y_train)
    assert clf.converged_
    assert balanced_accuracy_score(y_test, clf.predict(X_test)) >= 0.75


def test_motion_recordings_refuse_a_gesture_that_repeats_another():
    # class 36's pattern was class 0's (0.063 RMS apart; a 1-NN told them apart at
    # 0.55): 37 classes made two the same, silently
    with pytest.raises(ValueError, match=r"'n_classes' parameter of make_motion_recordings "
                                         r"must be an int in the range \[2, 36\]"):
        make_motion_recordings(n_samples=37, n_timesteps=24, n_classes=37, random_state=0)
    _, y = make_motion_recordings(n_samples=36, n_timesteps=24, n_classes=36, random_state=0)
    assert sorted(y.tolist()) == list(range(36))
