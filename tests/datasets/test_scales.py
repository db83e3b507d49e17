"""Tests for the generators' scale parameters (sklstm/datasets/_scales.py): a scale whose
float32 data would overflow to inf is refused before anything is drawn, and the largest
one taken keeps the data finite."""

import numpy as np
import pytest

from sklstm import datasets
from sklstm.datasets._scales import LARGEST_SCALE

#: Every generator's scale parameters, and sizes that keep it tiny (make_sensor_series:
#: many drivers, each of which adds its filtered noise to the target).
SCALES = [
    ("make_sequence_classification", "noise", {"n_samples": 4, "n_timesteps": 10}),
    ("make_sequence_regression", "noise", {"n_samples": 4, "n_timesteps": 10}),
    ("make_sensor_series", "noise", {"n_timesteps": 50, "n_features": 40}),
    ("make_shape_in_series", "noise", {"n_samples": 4, "n_timesteps": 30}),
    ("make_motion_recordings", "noise", {"n_samples": 4, "n_timesteps": 30}),
    ("make_drift_regression", "noise", {"n_samples": 4, "n_timesteps": 30}),
    ("make_subtle_shape", "noise", {"n_samples": 4, "n_timesteps": 30}),
    ("make_subtle_shape", "height", {"n_samples": 4, "n_timesteps": 30}),
    ("make_trending_series", "noise", {"n_timesteps": 30}),
    ("make_trending_series", "rise", {"n_timesteps": 30}),
    ("make_trending_series", "rise", {"n_timesteps": 30, "trend": "exponential"}),
    ("make_trending_series", "seasonal_amplitude", {"n_timesteps": 30}),
]
IDS = [f"{name}-{param}" + "-exponential" * ("trend" in kwargs) for name, param, kwargs in SCALES]


def _arrays(output):
    """Every array of a generator's output (a tuple, a ragged list, one array)."""
    if isinstance(output, np.ndarray):
        return [output]
    return [array for item in output for array in _arrays(item)]


@pytest.mark.parametrize(("name", "param", "kwargs"), SCALES, ids=IDS)
def test_a_scale_that_overflows_float32_is_refused_untouched_random_state(name, param,
                                                                           kwargs):
    # noise=1e39 gave data of inf (numpy's overflow warning alone), returned as data
    rng = np.random.RandomState(0)
    with pytest.raises(ValueError, match=rf"'{param}' parameter of {name} must be "
                       r"a float in the range [\[(]0\.0, 1e\+30\], so that the float32 data "
                       r"stays finite\. Got 1e\+39"):
        getattr(datasets, name)(**{param: 1e39}, random_state=rng, **kwargs)
    assert rng.randint(2**31) == np.random.RandomState(0).randint(2**31)  # refused first


@pytest.mark.filterwarnings("error")  # numpy's overflow warning too
@pytest.mark.parametrize(("name", "param", "kwargs"), SCALES, ids=IDS)
def test_the_largest_scale_keeps_the_data_finite(name, param, kwargs):
    for seed in range(3):
        output = getattr(datasets, name)(**{param: LARGEST_SCALE}, random_state=seed,
                                         **kwargs)
        assert all(np.isfinite(array).all() for array in _arrays(output))
