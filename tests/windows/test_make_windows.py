"""make_windows: what the windows and their targets hold, from arrays, lists and
DataFrames."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklstm.windows import make_windows


def test_make_windows_small_example():
    X, y = make_windows(np.arange(8.0), lookback=2, horizon=2, step=2)
    assert_array_equal(X[:, :, 0], [[0, 1], [2, 3], [4, 5]])
    assert_array_equal(y, [[2, 3], [4, 5], [6, 7]])


@pytest.mark.parametrize(
    ("lookback", "horizon", "step", "target"),
    [(3, 1, 1, None), (5, 4, 2, 2), (1, 3, 3, -1), (16, 4, 1, 1)],
)
def test_windows_hold_past_inputs_and_future_targets(series, lookback, horizon, step, target):
    X, y, index = make_windows(series, lookback, horizon, step, target, return_index=True)
    column = 0 if target is None else target % 3
    expected_starts = np.arange(0, 20 - lookback - horizon + 1, step)
    assert_array_equal(index, expected_starts + lookback)
    assert X.shape == (len(expected_starts), lookback, 3)
    assert y.shape == ((len(expected_starts),) if horizon == 1 else (len(expected_starts), horizon))
    y = y.reshape(len(X), horizon)
    for window, targets, first in zip(X, y, index, strict=True):
        assert_array_equal(window, series[first - lookback : first])
        assert_array_equal(targets, series[first : first + horizon, column])


def test_dataframe_target_by_name_and_time_index(series):
    times = pd.date_range("2024-01-01", periods=20, freq="D")
    df = pd.DataFrame(series, index=times, columns=["load", "temp", "wind"])
    X, y, index = make_windows(df, lookback=4, target="temp", return_index=True)
    assert_array_equal(y, series[4:, 1])
    assert_array_equal(index, times[4:])
    assert X.dtype == np.float64


def test_dataframe_of_numbers_of_several_kinds(series):
    # pandas gives an object array for a bool column beside float ones, and for a
    # nullable column with pd.NA: "series must be numeric, got dtype object"
    df = pd.DataFrame({"load": series[:, 0], "holiday": np.arange(20) % 7 == 0})
    X, y = make_windows(df, lookback=3)
    assert X.dtype == np.float64
    assert_array_equal(X[:, :, 1], (np.arange(20) % 7 == 0)[np.arange(17)[:, None]
                                                           + np.arange(3)])
    assert_array_equal(y, series[3:, 0])
    df["count"] = pd.array([1] * 5 + [None] + [1] * 14, dtype="Int64")
    with pytest.raises(ValueError, match=r"contains NaN or infinite values \(first at "
                                         r"timestep 5\)"):
        make_windows(df, lookback=3)


def test_windows_never_cross_series_boundaries(series):
    parts = [series[:9], series[9:], series[3:8]]
    X, y, groups = make_windows(parts, lookback=3, horizon=2, return_groups=True)
    assert_array_equal(np.bincount(groups), [5, 7, 1])
    for window, targets, group in zip(X, y, groups, strict=True):
        values = parts[group]
        # Each window plus its targets is a contiguous stretch of its own series.
        start = np.flatnonzero(values[:, 0] == window[0, 0])[0]
        assert_array_equal(window, values[start : start + 3])
        assert_array_equal(targets, values[start + 3 : start + 5, 0])


@pytest.mark.parametrize("make", [
    lambda values: values,
    lambda values: pd.DataFrame(values, columns=["a", "b", "c"]).astype("Float32"),
    lambda values: pd.Series(values[:, 0]).astype("Float32"),
], ids=["array", "nullable DataFrame", "nullable Series"])
def test_float32_series_stay_float32(series, make):
    # a DataFrame of several nullable Float32 columns became float64 (pandas' objects)
    X, y = make_windows(make(series.astype(np.float32)), lookback=2)
    assert (X.dtype, y.dtype) == (np.float32, np.float32)
    assert_array_equal(X[:, :, 0], make_windows(series[:, 0], lookback=2)[0][:, :, 0])


@pytest.mark.parametrize(
    ("data", "n_windows"),
    [([1.0, 2.0, 3.0, 4.0, 5.0], 3), ((1, 2, 3, 4), 2), ([[1.0, 2, 3, 4], [5.0, 6, 7]], 3)],
    ids=["list of numbers", "tuple of ints", "list of lists"],
)
def test_plain_python_series_are_windowed(data, n_windows):
    # a list's .index method was taken for index labels: IndexError
    X, y, index = make_windows(data, lookback=2, return_index=True)
    assert (X.shape, y.shape, index.shape) == ((n_windows, 2, 1), (n_windows,), (n_windows,))
    assert_array_equal(X[0, :, 0], [1.0, 2.0])
    assert y[0] == 3.0 and index[0] == 2


def test_int_target_agreeing_with_its_name(series):
    _, y = make_windows(pd.DataFrame(series), lookback=2, target=2)  # RangeIndex columns
    assert_array_equal(y, series[2:, 2])
    _, y = make_windows(pd.DataFrame(series, columns=[5, 6, 7]), lookback=2, target=1)
    assert_array_equal(y, series[2:, 1])


def test_a_named_series_is_its_own_target_column(series):
    # df["load"] with target="load" was "not a column of series ... (columns: None)"
    load = pd.DataFrame(series, columns=["load", "temp", "wind"])["load"]
    _, y = make_windows(load, lookback=3, target="load")
    assert_array_equal(y, series[3:, 0])
    _, y = make_windows([load, load.rename("other")], lookback=3, target=0)
    assert len(y) == 34  # series of one feature under several names are not refused
    with pytest.raises(ValueError, match="target=5 is out of range"):  # an int: a position
        make_windows(load.rename(5), lookback=3, target=5)
    with pytest.raises(ValueError, match=r"target='temp' is not a column of series 0; .* "
                                         r"\(columns: \['load'\]\)"):
        make_windows([load, load], lookback=3, target="temp")
