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
