"""Series and tables the tests of sklstm.windows cut up."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def series():
    """A (20, 3) series whose value encodes (timestep, column): 10 * t + column."""
    return 10.0 * np.arange(20)[:, None] + np.arange(3)[None, :]


@pytest.fixture
def long_df():
    """A long table of three ids (a, b, c), unsorted, with two features and a label."""
    return pd.DataFrame(
        {
            "id": ["b", "a", "b", "a", "a", "c"],
            "t": [1, 2, 0, 0, 1, 5],
            "x1": [11.0, 2.0, 10.0, 0.0, 1.0, 20.0],
            "x2": [1, 1, 1, 0, 0, 3],
            "label": [0.0, 5.0, 2.0, 1.0, 3.0, 7.0],
        }
    )


@pytest.fixture(params=[("int64", False), ("float64", False), ("int64", True),
                        ("float32", True), ("Int64", False)],
                ids=["int", "float", "int-ordered", "float32-ordered", "Int64"])
def categories_of_numbers(request):
    """A function of some numbers: them as a Series of categories of numbers (ints,
    floats, nullable ints; the ordered ones in a declared order, largest first, not
    theirs), and as the plain numeric Series they stand for."""
    dtype, ordered = request.param

    def make(values):
        plain = pd.Series(values, dtype=dtype)
        categories = sorted(plain.unique(), reverse=ordered)
        return plain.astype(pd.CategoricalDtype(categories, ordered=ordered)), plain

    return make
