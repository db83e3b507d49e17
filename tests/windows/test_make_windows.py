"""make_windows: what the windows and their targets hold, from arrays, lists and
DataFrames, and the memory they take."""

import tracemalloc
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklstm.exceptions import TimeGapWarning
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


@pytest.mark.parametrize("make", [list, pd.Series, lambda values: pd.DataFrame({"a": values})],
                         ids=["list", "Series", "DataFrame"])
def test_decimal_series_are_windowed_as_floats(make):
    # a database's NUMERIC column: "must be numeric" where the estimators take decimals
    values = [Decimal(t) / 4 for t in range(8)] + [None]  # (None: a gap, refused as such)
    X, y = make_windows(make(values[:8]), lookback=3)
    expected = make_windows(np.arange(8) / 4, lookback=3)
    assert (X.dtype, y.dtype) == (np.float64, np.float64)
    assert_array_equal(X, expected[0])
    assert_array_equal(y, expected[1])
    with pytest.raises(ValueError, match=r"^series contains NaN .*timestep 8\)"):
        make_windows(make(values), lookback=3)



@pytest.mark.parametrize("as_frame", [False, True], ids=["Series", "DataFrame"])
def test_categories_of_numbers_are_windowed_as_those_numbers(categories_of_numbers, as_frame):
    # pandas (to_numpy), scikit-learn's check_array and so the estimators read a column of
    # categories of numbers as its numbers; make_windows refused it as labels
    column, plain = categories_of_numbers([3, 1, 2, 2, 1, 3, 1, 2])

    def table(c):
        return pd.DataFrame({"c": c, "x": np.arange(8.0)}) if as_frame else c

    X, y = make_windows(table(column), lookback=3, target=0)
    expected = make_windows(table(plain), lookback=3, target=0)
    assert (X.dtype, y.dtype) == (expected[0].dtype, expected[1].dtype)
    assert_array_equal(X, expected[0])
    assert_array_equal(y, expected[1])
    # a missing category: NaN, refused as a gap, placed (as the estimators refuse it)
    with pytest.raises(ValueError, match=r"^series contains NaN .*timestep 2\)"):
        make_windows(table(column.where(np.arange(8) != 2)), lookback=3)

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


def _peak_bytes(function):
    """The bytes numpy and Python held at ``function``'s peak, beyond those held before."""
    tracemalloc.start()
    try:
        result = function()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("several", [False, True], ids=["one series", "several series"])
def test_windows_are_copied_once(several):
    # the windows taken by a list of starts and then joined by np.concatenate were two
    # copies at once: the peak twice X (16 GB for the 8 GB of 10M steps x 100)
    series = np.random.default_rng(0).normal(size=20_000)
    peak, (X, _) = _peak_bytes(lambda: make_windows(
        [series[:9_000], series[9_000:]] if several else series, lookback=50))
    assert X.shape == ((19_900,) if several else (19_950,)) + (50, 1)
    assert peak < 1.2 * X.nbytes
    assert_array_equal(X[-1, :, 0], series[-51:-1])
    assert X.flags.writeable


@pytest.mark.parametrize("index", [
    pd.date_range("2024-01-01", periods=100_000, freq="s", tz="Europe/Berlin"),
    pd.period_range("2024-01-01", periods=100_000, freq="s"),
], ids=["tz-aware", "periods"])
def test_time_labels_are_made_for_the_windows_only(index):
    # every label of a tz-aware or period index was made a Python object, index or no
    # index asked: 140 MiB and 7 s for 1M steps, 30 times the series' own 8 MiB
    series = pd.Series(np.arange(100_000.0), index=index)
    peak, (X, _) = _peak_bytes(lambda: make_windows(series, lookback=4, step=1_000))
    assert len(X) == 100 and peak < 2 * series.nbytes
    _, _, labels = make_windows(series, lookback=4, step=1_000, return_index=True)
    assert list(labels) == list(index[4::1_000])


@pytest.mark.parametrize("make", [np.asarray, pd.DataFrame], ids=["array", "DataFrame"])
def test_a_float64_series_is_not_copied_whole(make):
    # the series was copied into float64 although it was float64 already, a second
    # copy of a long series beside the windows, which are taken from it
    data = make(np.random.default_rng(0).normal(size=(50_000, 4)))
    peak, (X, _) = _peak_bytes(lambda: make_windows(data, lookback=4, step=1_000))
    assert len(X) == 50 and peak < 0.5 * np.asarray(data).nbytes


@pytest.mark.parametrize("step", [1, 3])
def test_copy_false_windows_one_series_as_a_view(step):
    # 10M steps in windows of 100 were 1e9 floats (8 GB) with no way to window a series
    # too long for that; copy=False takes none of the windows' bytes
    series = np.random.default_rng(0).normal(size=(20_000, 2))
    peak, (X, y, index) = _peak_bytes(lambda: make_windows(
        series, lookback=50, horizon=2, step=step, copy=False, return_index=True))
    expected = make_windows(series, lookback=50, horizon=2, step=step, return_index=True)
    assert_array_equal(X, expected[0])
    assert_array_equal(y, expected[1])
    assert_array_equal(index, expected[2])
    assert peak < 0.1 * X.nbytes and not X.flags.writeable
    X, _ = make_windows([series[:100], series[100:200]], lookback=50, copy=False)
    assert len(X) == 100 and X.flags.writeable  # several series: one array, copied


def test_series_in_an_iterator_or_a_dict(series):
    # a generator of a groupby's frames, a dict of them and the groupby itself were read
    # as one object: "series must be numeric, got dtype object", no fix named
    df = pd.DataFrame(series, columns=["a", "b", "c"]).assign(id=np.arange(20) // 10)
    frames = {key: group.drop(columns="id") for key, group in df.groupby("id")}
    expected = make_windows(list(frames.values()), lookback=3, return_groups=True)
    for given in [(frame for frame in frames.values()), frames.values(),
                  map(np.asarray, frames.values())]:
        for got, want in zip(make_windows(given, lookback=3, return_groups=True), expected,
                             strict=True):
            assert_array_equal(got, want)
    with pytest.raises(TypeError, match=r"series is a dict; .* list\(series.values\(\)\)"):
        make_windows(frames, lookback=3)
    with pytest.raises(TypeError, match=r"series is a DataFrameGroupBy; .* \[group for _, "):
        make_windows(df.groupby("id"), lookback=3)
    assert len(make_windows(iter(range(10)), lookback=3)[0]) == 7  # numbers: one series


HOURS = pd.date_range("2024-01-01", periods=120, freq="h")
#: hourly readings missing a day (24 steps), and without their index's freq
MISSING_DAY = HOURS[HOURS.day != 3]


@pytest.mark.parametrize(("times", "step", "missing"), [
    (MISSING_DAY, "h", 24),
    (pd.date_range("2024-01-01", periods=60, freq="D").delete([5, 6]), "D", 2),
    (pd.period_range("2020-01", periods=40, freq="M").delete(7), "M", 1),
    (pd.timedelta_range(0, periods=50, freq="s").delete(9), "s", 1),
    (MISSING_DAY.strftime("%Y-%m-%dT%H:%M"), "h", 24),  # (ISO text, read_csv's)
])
def test_steps_missing_from_a_regular_index_are_warned_about_once(times, step, missing):
    # windowed silently: a window across the gap held a day's steps apart as neighbours
    series = pd.Series(np.arange(len(times), dtype=float), index=times)
    with pytest.warns(TimeGapWarning, match=rf"^series has a regular time step of '{step}' but "
                      rf"1 gap\(s\), {missing} timestamp\(s\) missing.*\(series\."
                      r"(resample|reindex)") as caught:
        X, _ = make_windows(series, lookback=3)
    assert len(caught) == 1
    assert caught[0].filename == __file__  # (not scikit-learn's validate_params wrapper)
    assert_array_equal(X[:, 0, 0], np.arange(len(times) - 3))  # (windows as before)
    with pytest.warns(UserWarning, match=r"^series 0 .*\(and 1 more series with gaps\)") as two:
        make_windows([series, series], lookback=3)
    assert len(two) == 1
    if isinstance(times, (pd.DatetimeIndex, pd.TimedeltaIndex, pd.PeriodIndex)):
        fixed = (series.reindex(pd.period_range(times[0], times[-1], freq=step))
                 if isinstance(times, pd.PeriodIndex) else series.resample(step).mean())
        with warnings.catch_warnings():  # the fix named
            warnings.simplefilter("error")
            make_windows(fixed.interpolate(), lookback=3)


@pytest.mark.parametrize("times", [
    pd.DatetimeIndex(list(HOURS)),  # regular, without a freq
    pd.bdate_range("2024-01-01", "2024-12-31").delete([10, 50, 100]),  # trading days
    pd.DatetimeIndex(np.sort(pd.Timestamp("2024-01-01")  # events
                             + pd.to_timedelta(np.random.default_rng(0).integers(0, 10**6, 300),
                                               unit="s"))),
    pd.DatetimeIndex([*HOURS[:50], *HOURS[49:99]]),  # equal times: ticks
])
def test_irregular_or_complete_times_are_not_warned_about(times):
    series = pd.Series(np.arange(len(times), dtype=float), index=times)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_windows(series, lookback=3)
    with warnings.catch_warnings():  # the filter the warning names silences it
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=TimeGapWarning)
        make_windows(pd.Series(np.arange(96.0), index=MISSING_DAY), lookback=3)
