"""Tests for sklstm.datasets._seeding: how every generator takes ``random_state``."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklstm import datasets
from sklstm.datasets._seeding import generator as make_rng

# every generator of the package, at a tiny size
GENERATORS = {
    "make_sequence_classification": {"n_samples": 4, "n_timesteps": 6},
    "make_sequence_regression": {"n_samples": 4, "n_timesteps": 6},
    "make_token_sentiment": {"n_samples": 4},
    "make_sensor_series": {"n_timesteps": 20},
    "make_shape_in_series": {"n_samples": 3, "n_timesteps": 30},
    "make_motion_recordings": {"n_samples": 4, "n_timesteps": 24},
    "make_drift_regression": {"n_samples": 3, "n_timesteps": 24},
    "make_subtle_shape": {"n_samples": 2, "n_timesteps": 60},
    "make_trending_series": {"n_timesteps": 30},
}


def _make(name, random_state):
    """Every array a generator returns (a ragged list flattened) for ``random_state``."""
    def arrays(output):
        if isinstance(output, np.ndarray):
            return [output]
        return [array for item in output for array in arrays(item)]
    return arrays(getattr(datasets, name)(**GENERATORS[name], random_state=random_state))


def _same(first, second):
    return len(first) == len(second) and all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_every_generator_is_listed():
    assert set(GENERATORS) == {name for name in datasets.__all__ if name.startswith("make_")}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_seeds_that_collided_give_distinct_data(name):
    # both seeds drew the same first int under 2**31 of their RandomState, which
    # seeded the data's Generator: the same data for two seeds
    assert not _same(_make(name, 4963), _make(name, 25569))


def test_distinct_seeds_give_distinct_streams():
    draws = {make_rng(seed).integers(2**63) for seed in range(30_000)}
    assert len(draws) == 30_000


@pytest.mark.parametrize("name", list(GENERATORS))
def test_a_numpy_int_seed_is_the_python_int(name):
    assert _same(_make(name, np.int64(3)), _make(name, 3))
    assert _same(_make(name, 2**32 - 1), _make(name, np.uint32(2**32 - 1)))


@pytest.mark.parametrize("name", list(GENERATORS))
def test_a_shared_random_state_advances(name):
    random_state = np.random.RandomState(0)
    first, second = _make(name, random_state), _make(name, random_state)
    assert not _same(first, second)
    # the same instance state gives the same data again
    assert _same(first, _make(name, np.random.RandomState(0)))


def test_none_draws_from_numpys_global_random_state():
    # as scikit-learn's make_* do: numpy's global state (np.random.seed) fixes the data
    # of random_state=None, and it advances
    state = np.random.get_state()  # noqa: NPY002 (numpy's global state is what is tested)
    try:
        first = _make("make_sequence_regression", None)
        np.random.set_state(state)  # noqa: NPY002
        assert _same(first, _make("make_sequence_regression", None))
        assert not _same(first, _make("make_sequence_regression", None))
    finally:
        np.random.set_state(state)  # noqa: NPY002 (left as the test found it)


@pytest.mark.parametrize(
    ("random_state", "match"),
    [
        (-1, r"must be an int in the range \[0, 4294967295\]"),
        (2**32, r"must be an int in the range \[0, 4294967295\]"),
        (1.5, "Got 1.5 instead"),
        ("0", "Got '0' instead"),
        (np.random.default_rng(0), r"pass a seed drawn from it, "
                                   r"random_state=int\(rng.integers\(2\*\*32\)\)"),
    ],
    ids=["negative", "too-large", "float", "string", "Generator"],
)
def test_refused_random_states_name_what_is_taken(random_state, match):
    # refused as scikit-learn's check_random_state refuses them, before any draw
    with pytest.raises(ValueError, match=match):
        datasets.make_sequence_classification(n_samples=4, random_state=random_state)


def test_generator_seeds_from_words_of_a_random_state():
    assert_array_equal(make_rng(np.random.RandomState(5)).random(3),
                       make_rng(np.random.RandomState(5)).random(3))
