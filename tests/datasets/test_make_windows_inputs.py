"""make_windows on series as downloads and pipelines hand them over: MultiIndex columns
and rows, gaps, series of arrays, transposed series, series stacked by pd.concat
(tests/windows/ has the rest)."""

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


def test_a_long_table_with_a_multiindex_of_rows_is_one_series_per_key():
    # rows (id, time) of two ids were windowed as one series: windows joined the end of
    # "a" to the start of "b", the last of "a" the inputs of "b"'s first targets, silently
    index = pd.MultiIndex.from_product([["a", "b"], pd.date_range("2024-01-01", periods=6)],
                                       names=["id", "time"])
    long = pd.DataFrame({"load": np.arange(12.0)}, index=index)
    for table in (long, long["load"]):
        with pytest.raises(ValueError, match=r"series has a MultiIndex of rows with 2 keys "
                                             r"in its outer levels \('a', 'b'\.\.\.\).*"
                                             r"groupby\(level=0\)"):
            make_windows(table, 3)
    X, y, times = make_windows([g for _, g in long.groupby(level=0)], 3, return_index=True)
    assert_array_equal(y, [3, 4, 5, 9, 10, 11])
    assert_array_equal(X[:, 0, 0], [0, 1, 2, 6, 7, 8])
    assert times[0] == ("a", pd.Timestamp("2024-01-04"))
    # stack() of a frame gives (time, column) rows: its columns one after another
    with pytest.raises(ValueError, match=r"6 keys .*series\.unstack\(\) for the \(time, "):
        make_windows(long["load"].unstack("id").stack(), 3)
    # one key: the times, its inner level, are checked for their order
    with pytest.raises(ValueError, match=r"series 0 is not in time order: timestep 1 "):
        make_windows([long.loc[["a"]][::-1]], 3)


def test_series_stacked_over_the_same_times_are_told_to_be_a_list():
    # the time-order error said only "sort it": sorted, two stacked series interleave
    times = pd.date_range("2024-01-01", periods=6)
    stacked = pd.concat([pd.Series(np.arange(6.0), times), pd.Series(np.arange(4.0), times[2:])])
    with pytest.raises(ValueError, match=r"timestep 6 .* several series one after another, "
                                         r"pass them as a list"):
        make_windows(stacked, 3)
    with pytest.raises(ValueError, match=r"timestep 1 .*order they are\.$"):
        make_windows(stacked[:6][::-1], 3)  # newest first: one series, to sort
