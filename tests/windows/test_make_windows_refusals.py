"""make_windows: series, arguments and indexes it refuses, each naming the problem and
the fix."""

import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklstm.windows import make_windows


@pytest.mark.parametrize("times", [
    pd.date_range("2024-01-01", periods=20, freq="D"),
    pd.date_range("2024-01-01", periods=20, freq="h", tz="UTC"),
    pd.period_range("2024-01", periods=20, freq="M"),
    pd.timedelta_range(0, periods=20, freq="s"),
    # ISO dates as text, as read_csv leaves a date column without parse_dates
    pd.date_range("2024-01-01", periods=20, freq="D").strftime("%Y-%m-%d"),
    # local times as text across a daylight saving change: their UTC offsets differ
    # ("+01:00", then "+02:00"), which pandas parses only as UTC instants; unchecked
    pd.date_range("2024-03-31", periods=20, freq="h", tz="Europe/Paris").map(
        lambda t: t.isoformat()),
])
def test_series_newest_first_is_refused(series, times):
    # a download sorted newest first was windowed in row order, silently: every window's
    # target was its own past
    df = pd.DataFrame(series, index=times)[::-1]
    with pytest.raises(ValueError, match=r"series is not in time order: timestep 1 .*"
                                         r"sort it first \(series.sort_index\(\)\)"):
        make_windows(df, lookback=3)
    with pytest.raises(ValueError, match="series 1 is not in time order"):
        make_windows([df.sort_index(), df[0]], lookback=3)
    X, _ = make_windows(df.sort_index(), lookback=3)
    assert_array_equal(X[0], series[:3])


def test_time_index_with_equal_or_missing_times(series):
    ticks = pd.DatetimeIndex(["2024-01-01"] * 10 + ["2024-01-02"] * 10)
    _, y = make_windows(pd.DataFrame(series, index=ticks), lookback=3)
    assert_array_equal(y, series[3:, 0])  # equal times: row order, as given
    with pytest.raises(ValueError, match=r"series has missing timestamps \(NaT\)"):
        make_windows(pd.DataFrame(series, index=ticks.insert(3, pd.NaT)[:20]), lookback=3)
    # labels that are no times say nothing of the order
    # (four digits as text are ids too, not years)
    for ids in (np.arange(20)[::-1], [f"id{i}" for i in range(20)][::-1],
                [str(1000 + i) for i in range(20)][::-1]):
        _, y = make_windows(pd.DataFrame(series, index=ids), lookback=3)
        assert_array_equal(y, series[3:, 0])


def test_series_need_the_same_columns_in_the_same_order(series):
    # windows are stacked by position: a DataFrame with its columns in another order put
    # temp under load in its windows, silently (only the number of columns was checked)
    df = pd.DataFrame(series, columns=["load", "temp", "wind"])
    with pytest.raises(ValueError, match=r"series 1 has columns \['temp', 'load', 'wind'\] "
                                         r"but series 0 has \['load', 'temp', 'wind'\]; all "
                                         r"series need the same columns in the same order"):
        make_windows([df, df[["temp", "load", "wind"]]], lookback=3, target="load")
    with pytest.raises(ValueError, match=r"series 2 has columns .* but series 1 has .*; "
                                         r"all series need the same columns\.$"):
        make_windows([series, df, df.rename(columns={"wind": "rain"})], lookback=3)
    X, _ = make_windows([series, df, df], lookback=3)  # arrays have no names to compare
    assert len(X) == 51


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lookback": 0}, ValueError,
         r"'lookback' parameter of make_windows must be an int in the range \[1, inf\)\. Got 0"),
        ({"lookback": 2.5}, TypeError, r"'lookback' .* must be an int .* Got 2\.5"),
        ({"lookback": 2, "horizon": True}, TypeError, "'horizon' .* must be an int .* Got True"),
        ({"lookback": 2, "step": -1}, ValueError, r"'step' .* range \[1, inf\)\. Got -1"),
        ({"lookback": 18, "horizon": 3}, ValueError, "series has 20 timesteps, fewer than"),
        ({"lookback": 2, "target": 3}, ValueError, "target=3 is out of range"),
        ({"lookback": 2, "target": "load"}, ValueError, "not a column"),
    ],
)
def test_make_windows_rejects_bad_arguments(series, kwargs, error, match):
    with pytest.raises(error, match=match):
        make_windows(series, **kwargs)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([np.ones((10, 2)), np.ones((4, 2))], r"series 1 has 4 timesteps.*this series\.$"),
        # the rows of one series as lists: "reduce lookback" windowed each row silently
        ([[1.0, 2.0, 3.0]] * 10, r"series 0 has 3 timesteps.* A list of lists is several "
                                 r"series; .* pass np\.asarray\(series\)\."),
        ([np.ones((10, 2)), np.ones((10, 3))], "series 1 has 3 columns"),
        ([np.ones(10), np.r_[np.ones(7), np.nan, 1.0, 1.0]], "series 1 contains NaN.*timestep 7"),
        # None (a JSON null) in a list of numbers: "series 0 must be numeric" before
        ([[1.0] * 7 + [None, 1.0, 1.0]], r"series 0 contains NaN.*timestep 7\); fill them"),
        (np.array([1.0, 2.0, None, 4.0, 5.0, 6.0], dtype=object), r"series contains NaN"),
        (pd.DataFrame({"a": np.ones(10), "b": ["x"] * 10}), r"non-numeric columns \['b'\]"),
        # pd.NA among numbers (a list, a column of objects): "must be numeric" (a list's),
        # "non-numeric columns" (a DataFrame's), neither naming the gap nor a fix
        ([1.0] * 6 + [pd.NA, 1.0, 1.0], r"^series contains NaN.*timestep 6\); fill them"),
        (pd.DataFrame({"a": pd.Series([1.0] * 6 + [pd.NA, 1.0, 1.0], dtype=object)}),
         r"^series contains NaN.*timestep 6\); fill them"),
        # numbers as text: "must be numeric, got dtype object" alone (decimals among them
        # are numbers: the hint names the text)
        (np.array([["1", "2"]] * 10, dtype=object), r"It holds str values \('1' at timestep 0, "
                                                    r"column 0\) .*pd\.to_numeric\(series\)"),
        ([Decimal("1.5")] * 5 + ["2.5"] * 5, r"It holds str values \('2\.5' at timestep 5\)"),
        (pd.DataFrame({"a": [1.0] * 10, "b": [Decimal("1.5")] * 5 + ["x"] * 5}),
         r"non-numeric columns \['b'\]; drop or encode them\. It holds str values \('x' at "
         r"timestep 5\)"),
        # a signaling NaN, which float() refuses ("cannot convert signaling NaN to float")
        ([Decimal("1.5")] * 7 + [Decimal("sNaN"), Decimal(1), Decimal(2)],
         r"^series contains NaN.*timestep 7\); fill them"),
        # (of a pandas Series too: decimal's bare InvalidOperation of pandas' dropna)
        (pd.Series([Decimal("1.5")] * 7 + [Decimal("sNaN"), Decimal(1), Decimal(2)]),
         r"^series contains NaN.*timestep 7\); fill them"),
        # a time column beside the values (a table read from a file): "drop or encode" it
        (pd.DataFrame({"date": pd.date_range("2024", periods=10), "x": np.ones(10)}),
         r"columns \['date'\]; drop or encode them\. Column 'date' holds times: make it the "
         r"index, df\.set_index\('date'\)"),
        # categories (of text: labels), times and complex numbers: "drop or encode them"
        # or "must be numeric" alone, or pd.to_numeric for categories of text, which
        # cannot read them (categories of numbers are those numbers: test_make_windows)
        (pd.DataFrame({"a": np.ones(10), "c": pd.Categorical(list("pq") * 5)}),
         r"columns \['c'\]; drop or encode them\. Column 'c' is categorical: encode its "
         r"categories as numbers, df\['c'\]\.cat\.codes"),
        (pd.Series(pd.Categorical(list("pq") * 5)), r"got dtype category\. It is categorical: "
                                                    r"encode .* series\.cat\.codes"),
        (pd.Series(pd.date_range("2024", periods=10)), r"got dtype datetime64\[.*\]\. It "
                                                       r"holds times: .* as their index"),
        (np.arange(10).astype("timedelta64[s]"), r"It holds durations: convert them to "
                                                 r"numbers, e\.g\. seconds, series / "
                                                 r"pd\.Timedelta\('1s'\)\.$"),
        (np.arange(10) + 1j, r"complex128\. It holds complex numbers: .*np\.abs\(series\)"),
        ([], "empty list"),
        (np.ones((2, 10, 3)), r"got shape \(2, 10, 3\)\. For several series stacked in a 3D "
                              r"array, pass list\(series\)\."),
    ],
)
def test_make_windows_names_the_bad_series(data, match):
    with pytest.raises(ValueError, match=match):
        make_windows(data, lookback=4, horizon=2)


@pytest.mark.parametrize("target", [[0, 2], ["a", "c"], ("a", "c"), np.array([0, 2]),
                                    np.array(["a", "c"]), pd.Index(["a", "c"])])
def test_several_target_columns_are_told_how(series, target):
    # "must be an instance of 'int', ... or None" (a list, an array, df.columns[[0, 2]]),
    # "not a column" (a tuple, which names one column of MultiIndex columns), neither
    # naming a way to several targets
    df = pd.DataFrame(series, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"For several target columns, window once per "
                                         r"column .* np\.column_stack\(\[make_windows\("):
        make_windows(df, lookback=2, target=target)
    # (the way it names)
    both = np.column_stack([make_windows(df, 2, 3, target=c)[1] for c in ["a", "c"]])
    assert_array_equal(both[0], [20.0, 30.0, 40.0, 22.0, 32.0, 42.0])


def test_series_without_columns_is_refused():
    with pytest.raises(ValueError, match=r"series has no columns \(shape \(10, 0\)\)"):
        make_windows(np.ones((10, 0)), lookback=2)


def test_duplicated_column_names(series):
    df = pd.DataFrame(series, columns=["a", "a", "b"])
    _, y = make_windows(df, lookback=2, target=1)  # an AttributeError before
    assert_array_equal(y, series[2:, 1])
    with pytest.raises(ValueError, match="target='a' names 2 columns of series"):
        make_windows(df, lookback=2, target="a")


@pytest.mark.parametrize("target", [0, 7])
def test_int_target_naming_another_column_is_ambiguous(series, target):
    # column 0 is named 7, column 1 is named 0: position or name cannot be told apart
    df = pd.DataFrame(series, columns=[7, 0, 2])
    with pytest.raises(ValueError, match=f"target={target} is ambiguous"):
        make_windows(df, lookback=2, target=target)


def test_index_of_several_series_needs_one_kind(series):
    dated = pd.DataFrame(series, index=pd.date_range("2024-01-01", periods=20, freq="h"))
    with pytest.raises(ValueError, match="return_index needs index labels of one kind"):
        make_windows([dated, series], lookback=3, return_index=True)
    _, _, index = make_windows([dated, dated], lookback=3, return_index=True)
    assert index.dtype.kind == "M" and len(index) == 34


@pytest.mark.parametrize("labels", [
    pd.date_range("2024-01-01", periods=20, freq="h", tz="UTC"),
    pd.period_range("2024-01-01", periods=20, freq="D"),
    [f"t{i}" for i in range(20)],
])
def test_index_of_several_series_needs_one_kind_also_for_object_labels(series, labels):
    """Labels numpy holds as objects (tz-aware times, periods, strings) are refused
    beside positions too, not put together into one array of both kinds."""
    labelled = pd.DataFrame(series, index=labels)
    with pytest.raises(ValueError, match="return_index needs index labels of one kind"):
        make_windows([labelled, series], lookback=3, return_index=True)
    _, _, index = make_windows([labelled, labelled], lookback=3, return_index=True)
    assert list(index) == [*labels[3:], *labels[3:]]


BEYOND = 2**53 + 1  # the first integer float64 rounds (to 2**53)


@pytest.mark.parametrize(("series", "where"), [
    (np.array([BEYOND, 1, 2, 3]), ""),
    (np.array([1, 2, 3, 2**64 - 1], dtype=np.uint64), ""),
    ([1, BEYOND, None, 3], ""),  # a list of numbers, a JSON null among them
    (pd.DataFrame({"x": [0.5, 1.0, 2.0, 3.0], "t": [1, 2, 3, BEYOND]}), " (column 't')"),
    (pd.DataFrame({"t": pd.array([BEYOND, None, 2, 3], dtype="Int64")}), " (column 't')"),
    (pd.Series([1, 2, -BEYOND, 3]), ""),
    # (decimals are read as float64, as the estimators read them: a whole one rounded too)
    ([Decimal(1), Decimal(BEYOND), Decimal("2.5"), Decimal(3)], ""),
], ids=["int64", "uint64", "list", "DataFrame", "nullable", "Series", "decimals"])
def test_integers_float64_would_round_are_refused(series, where):
    # windowed as float64: 2**53 + 1 became 2**53, silently (a column of nanosecond
    # timestamps beside a float one in a DataFrame too, rounded by pandas' conversion)
    with pytest.raises(ValueError, match=rf"^series holds the integer -?\d+{re.escape(where)}, "
                                         r"beyond 2\*\*53: .*series.astype\(float\)"):
        make_windows(series, lookback=2)
    with pytest.raises(ValueError, match=r"^series 1 holds the integer"):
        make_windows([np.arange(4), series], lookback=2)


@pytest.mark.parametrize(("value", "shown"), [(Decimal("1E+400"), "1E+400"),
                                              (-3**900, "-2.56525E+429")],
                         ids=["Decimal", "int"])
def test_integers_float64_would_round_are_shown_short(value, shown):
    # Decimal('1E+400') was shown as its 401 digits (an int of 4300 digits or more made
    # str() fail on the way)
    with pytest.raises(ValueError, match=rf"^series holds the integer {re.escape(shown)}, "):
        make_windows([value, 1, 2, 3], lookback=2)


def test_integers_float64_holds_are_windowed_exactly():
    series = np.array([2**53, -2**53, 7, 2**53 - 1])
    X, y = make_windows(series, lookback=2)
    assert_array_equal(X[:, :, 0].astype(np.int64), [[2**53, -2**53], [-2**53, 7]])
    assert_array_equal(y.astype(np.int64), [7, 2**53 - 1])
    X, _ = make_windows(series.astype(float) + 1, lookback=2)  # floats: the user's rounding
    assert X.dtype == np.float64


def test_masked_values_are_gaps():
    # the values under the mask were windowed, silently
    series = np.ma.masked_array(np.arange(8.0), mask=np.arange(8) == 5)
    with pytest.raises(ValueError, match=r"series contains NaN or infinite values \(first "
                                         r"at timestep 5\)"):
        make_windows(series, lookback=2)
    X, _ = make_windows(np.ma.masked_array(np.arange(8.0)), lookback=2)
    assert type(X) is np.ndarray and X.shape == (6, 2, 1)


def test_date_ticker_rows_are_one_series_per_ticker():
    # (date, ticker) rows, as a stacked price download has them: a group by ticker was
    # refused as "several series" (its dates taken for keys), and the table was told to
    # be grouped by level 0, the dates: one series per date, across the tickers
    index = pd.MultiIndex.from_product([pd.date_range("2024-01-01", periods=6), ["A", "B"]],
                                       names=["date", "ticker"])
    table = pd.DataFrame({"close": np.arange(12.0)}, index=index)
    with pytest.raises(ValueError, match=r"several series .* series\.groupby\(level=1\)\]"):
        make_windows(table, 3)
    X, y, times = make_windows([g for _, g in table.groupby(level="ticker")], 3,
                               return_index=True)
    assert_array_equal(X[:, :, 0], [[0, 2, 4], [2, 4, 6], [4, 6, 8],
                                    [1, 3, 5], [3, 5, 7], [5, 7, 9]])
    assert_array_equal(y, [6, 8, 10, 7, 9, 11])
    assert times[0] == (pd.Timestamp("2024-01-04"), "A")
    # one date of each ticker: one step of several series, not one series of tickers
    with pytest.raises(ValueError, match=r"2 keys in its outer levels \('A', 'B'\.\.\.\)"):
        make_windows(table.swaplevel().loc[(slice(None), "2024-01-01"), :], 1)
    # its dates are still checked for their order
    with pytest.raises(ValueError, match=r"series 0 is not in time order: timestep 1 "):
        make_windows([table.xs("A", level=1, drop_level=False)[::-1]], 3)


def test_key_series_pairs_of_a_groupby_or_dict_are_refused_with_the_fix():
    # iterating a groupby gives (key, frame) pairs: each pair was read as one series and
    # numpy's "inhomogeneous shape" error (a dict's items: "must be numeric") named
    # neither the pair nor the fix
    table = pd.DataFrame({"id": np.arange(22) // 11, "name": np.repeat(["a", "b"], 11),
                          "x": np.arange(22.0)})
    for by, key in [("id", "0"), ("name", "'a'"), (["name", "id"], r"\('a', 0\)")]:
        groups = table.groupby(by)[["x"]]
        for given in (list(groups), iter(groups)):
            with pytest.raises(TypeError, match=rf"series 0 is a \(key, series\) pair, "
                                                rf"DataFrame keyed {key}, .* \[group for _, "):
                make_windows(given, 3)
    frames = {key: group[["x"]] for key, group in table.groupby("id")}
    with pytest.raises(TypeError, match=r"dict's items.* list\(d\.values\(\)\)"):
        make_windows(frames.items(), 3)
    # the frames alone are windowed; pairs of numbers stay series of two steps
    assert len(make_windows([group for _, group in table.groupby("id")[["x"]]], 3)[0]) == 16
    assert len(make_windows([(1.0, 2.0), (3.0, 4.0)], 1)[0]) == 2


def test_local_clock_times_repeating_an_hour_are_not_told_to_sort():
    # naive local times across the end of daylight saving time (as many meters log
    # them) go back an hour: the refusal said to sort, which interleaves the two passes
    # through that hour, each window a mix of both
    utc = pd.date_range("2024-10-26 22:00", periods=12, freq="30min", tz="UTC")
    local = utc.tz_convert("Europe/Berlin").tz_localize(None)
    series = pd.Series(np.arange(12.0), index=local)
    for given in (series, series.set_axis(local.strftime("%Y-%m-%d %H:%M"))):
        with pytest.raises(ValueError, match=r"timestep 6 .* local clock times that repeat "
                                             r"an hour .* do not sort them .*tz_localize\("):
            make_windows(given, 3)
    _, y = make_windows(series.tz_localize("Europe/Berlin", ambiguous="infer"), 3)
    assert_array_equal(y, np.arange(3.0, 12.0))  # the rows in the order they were
    # hourly times newest first go back an hour at every step: to be sorted, as said
    newest_first = pd.Series(np.arange(12.0),
                             index=pd.date_range("2024-10-27", periods=12, freq="h")[::-1])
    with pytest.raises(ValueError, match=r"timestep 1 .*\. Windows follow the rows, so sort"):
        make_windows(newest_first, 3)
