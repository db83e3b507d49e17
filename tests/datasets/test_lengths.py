"""Tests for the generators' ``length_range`` (sklstm/datasets/_lengths.py): an unordered
container is no (low, high) pair."""

import pytest

from sklstm.datasets import (
    make_sequence_classification,
    make_sequence_regression,
    make_token_sentiment,
)

GENERATORS = {
    make_sequence_classification: {"n_timesteps": 20, "variable_length": True},
    make_sequence_regression: {"n_timesteps": 20, "variable_length": True},
    make_token_sentiment: {},
}


@pytest.mark.parametrize("generator", list(GENERATORS), ids=lambda f: f.__name__)
@pytest.mark.parametrize(("length_range", "match"), [
    # taken in hash order: {5, 12} iterates as (12, 5), refused as not "low <= high";
    # {5, 14} as (5, 14), accepted
    ({5, 12}, r"got \{12, 5\}, a set, which has no order: pass a tuple, "
              r"length_range=\(5, 12\)\."),
    (frozenset({5, 14}), r"got frozenset\(\{5, 14\}\), a set, which has no order: pass "
                         r"a tuple, length_range=\(5, 14\)\."),
    # a dict was read as its keys, its values ignored silently
    ({5: 1, 12: 2}, r"got \{5: 1, 12: 2\}, a dict, read as its keys: pass the pair as a "
                    r"tuple \(low, high\)\."),
], ids=["set", "frozenset", "dict"])
def test_length_range_of_no_order_is_refused_with_the_pair(generator, length_range, match):
    with pytest.raises(ValueError, match=r"length_range must be an ordered \(low, high\) "
                                         r"pair, a tuple, list or 1D array; " + match):
        generator(n_samples=5, length_range=length_range, random_state=0,
                  **GENERATORS[generator])
    fixed = tuple(sorted(length_range))  # as told: the lengths asked for
    X, _ = generator(n_samples=20, length_range=fixed, random_state=0,
                     **GENERATORS[generator])
    assert {len(x) for x in X} <= set(range(fixed[0], fixed[1] + 1))
