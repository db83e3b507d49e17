"""make_windows on series as downloads and pipelines hand them over: MultiIndex columns,
gaps, series of arrays, transposed series (tests/test_windows.py has the rest)."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklstm.windows import make_windows


def _prices():
    """Business-day prices of two tickers with MultiIndex columns, as price downloads of
    several tickers have them."""
    columns = pd.MultiIndex.from_product([["Close", "Volume"], ["AAPL", "MSFT"]])
    values = 100.0 * np.arange(30)[:, None] + np.arange(4)[None, :]
    return pd.DataFrame(values, columns=columns,
                        index=pd.date_range("2024-01-01", periods=30, freq="B"))


def test_a_multiindex_column_is_a_target_by_its_tuple():
    prices = _prices()
    X, y = make_windows(prices, 5, horizon=2, target=("Close", "MSFT"))
    assert X.shape == (24, 5, 4)
    assert_array_equal(y, np.c_[prices[("Close", "MSFT")].to_numpy()[5:-1],
                                prices[("Close", "MSFT")].to_numpy()[6:]])
    with pytest.raises(ValueError, match=r"target=\('Close',\) is not a column.*'MSFT'"):
        make_windows(prices, 5, target=("Close",))


def test_a_nan_gap_is_to_be_filled_or_cut_not_dropped():
    # dropping the NaN rows would pair the steps before the gap with those after it
    series = pd.Series(np.r_[np.arange(10.0), np.nan, np.arange(11.0, 20.0)])
    with pytest.raises(ValueError, match=r"timestep 10\); fill them.*interpolate.*pieces as "
                                         r"a list.*Dropping the rows alone"):
        make_windows(series, 3)


def test_an_array_of_series_is_told_to_be_a_list():
    several = pd.Series([np.arange(10.0), np.arange(12.0)])  # e.g. a groupby's apply
    with pytest.raises(ValueError, match=r"must be numeric.*pass several series as a list"):
        make_windows(several, 3)
    X, _ = make_windows(list(several), 3)
    assert len(X) == 7 + 9


def test_a_series_with_its_timesteps_in_columns_is_told_to_be_transposed():
    row = np.arange(20.0)[None, :]  # one feature over 20 timesteps, as a row
    with pytest.raises(ValueError, match=r"has 1 timesteps.*pass series\.T"):
        make_windows(row, 5)
    with pytest.raises(ValueError, match=r"has 3 timesteps") as info:
        make_windows(np.zeros((3, 2)), 5)  # short, and no wider: nothing to transpose
    assert "series.T" not in str(info.value)
