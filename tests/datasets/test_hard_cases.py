"""Tests for the hard-case generators of sklstm.datasets (_hard_cases.py)."""

import pytest

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
