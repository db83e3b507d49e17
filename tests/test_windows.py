"""Tests for sklstm.windows: windowing, leakage-free time splits, long-format input."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklstm.datasets import make_sensor_series
from sklstm.windows import from_long_format, make_window_splitter, make_windows


@pytest.fixture
def series():
    """A (20, 3) series whose value encodes (timestep, column): 10 * t + column."""
    return 10.0 * np.arange(20)[:, None] + np.arange(3)[None, :]


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


@pytest.mark.parametrize("times", [
    pd.date_range("2024-01-01", periods=20, freq="D"),
    pd.date_range("2024-01-01", periods=20, freq="h", tz="UTC"),
    pd.period_range("2024-01", periods=20, freq="M"),
    pd.timedelta_range(0, periods=20, freq="s"),
    # ISO dates as text, as read_csv leaves a date column without parse_dates
    pd.date_range("2024-01-01", periods=20, freq="D").strftime("%Y-%m-%d"),
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


def test_float32_series_stay_float32(series):
    X, y = make_windows(series.astype(np.float32), lookback=2)
    assert (X.dtype, y.dtype) == (np.float32, np.float32)


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
        ([], "empty list"),
        (np.ones((2, 10, 3)), r"got shape \(2, 10, 3\)\. For several series stacked in a 3D "
                              r"array, pass list\(series\)\."),
    ],
)
def test_make_windows_names_the_bad_series(data, match):
    with pytest.raises(ValueError, match=match):
        make_windows(data, lookback=4, horizon=2)


@pytest.mark.parametrize(("horizon", "step", "gap"), [(1, 1, 0), (5, 1, 4), (5, 2, 2), (4, 4, 0)])
def test_splitter_gap(horizon, step, gap):
    cv = make_window_splitter(3, horizon=horizon, step=step)
    assert isinstance(cv, TimeSeriesSplit)
    assert cv.gap == gap


def _target_overlap(cv, index, horizon):
    """Number of target timesteps shared by training and validation windows, per split."""
    overlaps = []
    for train, test in cv.split(index):
        train_steps = {t for first in index[train] for t in range(first, first + horizon)}
        test_steps = {t for first in index[test] for t in range(first, first + horizon)}
        overlaps.append(len(train_steps & test_steps))
    return overlaps


@pytest.mark.parametrize(("horizon", "step"), [(1, 1), (6, 1), (6, 4), (3, 5)])
def test_splitter_keeps_overlapping_targets_out_of_training(horizon, step):
    _, _, index = make_windows(np.arange(300.0), 10, horizon, step, return_index=True)
    cv = make_window_splitter(4, horizon=horizon, step=step)
    assert _target_overlap(cv, index, horizon) == [0, 0, 0, 0]


def test_plain_time_series_split_leaks_multi_step_targets():
    # Why the gap matters: without it, the last training windows share targets.
    _, _, index = make_windows(np.arange(300.0), 10, horizon=6, return_index=True)
    assert all(overlap > 0 for overlap in _target_overlap(TimeSeriesSplit(4), index, 6))


def test_grid_search_over_windows_learns_the_sensor_series():
    X, y = make_windows(make_sensor_series(n_timesteps=400, random_state=0), lookback=4)
    flatten = FunctionTransformer(lambda X: X.reshape(len(X), -1))
    search = GridSearchCV(
        make_pipeline(flatten, Ridge()),
        {"ridge__alpha": [0.1, 1000.0]},
        cv=make_window_splitter(3),
    ).fit(X, y)
    assert search.best_params_ == {"ridge__alpha": 0.1}
    assert search.best_score_ > 0.9


@pytest.fixture
def long_df():
    return pd.DataFrame(
        {
            "id": ["b", "a", "b", "a", "a", "c"],
            "t": [1, 2, 0, 0, 1, 5],
            "x1": [11.0, 2.0, 10.0, 0.0, 1.0, 20.0],
            "x2": [1, 1, 1, 0, 0, 3],
            "label": [0.0, 5.0, 2.0, 1.0, 3.0, 7.0],
        }
    )


@pytest.mark.parametrize(
    ("target_agg", "expected"),
    [("last", [5.0, 0.0, 7.0]), ("mean", [3.0, 1.0, 7.0]), (lambda s: s.iloc[0], [1.0, 2.0, 7.0])],
)
def test_from_long_format_sorts_by_id_and_time(long_df, target_agg, expected):
    X, y, ids = from_long_format(long_df, "id", "t", target_col="label", target_agg=target_agg)
    assert_array_equal(ids, ["a", "b", "c"])
    assert_array_equal(X[0], [[0.0, 0.0], [1.0, 0.0], [2.0, 1.0]])
    assert_array_equal(X[1], [[10.0, 1.0], [11.0, 1.0]])
    assert_array_equal(X[2], [[20.0, 3.0]])
    assert_array_equal(y, expected)


def test_from_long_format_feature_selection_without_target(long_df):
    X, y, _ = from_long_format(long_df, "id", "t", feature_cols=["x2", "label"])
    assert y is None
    assert_array_equal(X[1], [[1.0, 2.0], [1.0, 0.0]])


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (None, {"feature_cols": ["x1", "x9"]}, r"Columns \['x9'\] not found"),
        (None, {"target_col": "y"}, r"Columns \['y'\] not found"),
        ({"t": [1, 2, 0, 2, 1, 5]}, {}, r"same \(id, t\) pair, e.g. \[\['a', 2\]\]"),
        ({"x2": list("pqrstu")}, {}, r"Feature columns \['x2'\] are not numeric"),
        ({"x1": [1.0, np.nan, 1, 1, 1, 1]}, {}, r"feature columns \['x1'\] contain missing"),
        ({"id": ["a", None, "b", "a", "a", "c"]}, {}, r"id/time columns \['id'\] contain"),
    ],
)
def test_from_long_format_errors(long_df, change, kwargs, match):
    df = long_df.assign(**(change or {}))
    with pytest.raises(ValueError, match=match):
        from_long_format(df, "id", "t", **kwargs)


def test_from_long_format_requires_a_dataframe():
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        from_long_format(np.ones((3, 3)), 0, 1)


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


def test_int_target_agreeing_with_its_name(series):
    _, y = make_windows(pd.DataFrame(series), lookback=2, target=2)  # RangeIndex columns
    assert_array_equal(y, series[2:, 2])
    _, y = make_windows(pd.DataFrame(series, columns=[5, 6, 7]), lookback=2, target=1)
    assert_array_equal(y, series[2:, 1])


def test_index_of_several_series_needs_one_kind(series):
    dated = pd.DataFrame(series, index=pd.date_range("2024-01-01", periods=20, freq="h"))
    with pytest.raises(ValueError, match="return_index needs index labels of one kind"):
        make_windows([dated, series], lookback=3, return_index=True)
    _, _, index = make_windows([dated, dated], lookback=3, return_index=True)
    assert index.dtype.kind == "M" and len(index) == 34


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (None, {"id_col": "t"}, "id_col and time_col are both 't'"),
        ("empty", {}, "df has no rows"),
        ("duplicate", {}, r"df has several columns named \['x1'\]"),
        # "last" skipped a missing last label and took an earlier row's silently
        ({"label": [0.0, np.nan, 2.0, 1.0, 3.0, 7.0]}, {"target_col": "label"},
         r"target columns \['label'\] contain missing values"),
        ({"x1": [1.0, np.inf, 1, 1, 1, 1]}, {}, r"feature columns \['x1'\] contain infinite"),
        (None, {"target_col": "label", "target_agg": "average"},
         "target_agg='average' is not a pandas aggregation"),
        # sorted as text, id a's steps "2", "0", "10" came out as 0, 10, 2, silently
        ({"t": ["1", "2", "0", "0", "10", "5"]}, {},
         r"time column 't' holds text \(e.g. '1'\), which sorts as text: '10' before '2'. "
         r"Convert it"),
        ({"t": [1, 2, 0, 0, "1", 5]}, {}, r"time column 't' holds text \(e.g. '1'\)"),
        # a transform gave a target per row, out of step with X and the ids, silently
        (None, {"target_col": "label", "target_agg": "cumsum"},
         r"target_agg='cumsum' gave targets of shape \(6,\), not one per id \(3\)"),
        # pandas' "'values' is not ordered, please ... specify the categories order"
        ({"t": [pd.Timestamp(0, tz="UTC"), *pd.to_datetime(range(1, 6))]}, {},
         r"columns \['t'\] hold values of several kinds that cannot be ordered"),
        (None, {"target_col": ["label"]}, "'target_col' parameter"),  # "unhashable type"
    ],
)
def test_from_long_format_refuses_unreadable_tables(long_df, change, kwargs, match):
    if change == "empty":
        df = long_df.iloc[:0]
    elif change == "duplicate":
        df = pd.concat([long_df, long_df[["x1"]]], axis=1)
    else:
        df = long_df.assign(**(change or {}))
    kwargs = {"id_col": "id", "time_col": "t", **kwargs}
    with pytest.raises(ValueError, match=match):
        from_long_format(df, **kwargs)


@pytest.mark.parametrize(
    ("dtype", "x1", "match"),
    [
        # the cast turned 1e6 into inf, wrapped 1000 to -24 and cut 2.5 to 2, silently
        (np.float16, 1e6, r"feature columns \['x1'\] hold values that dtype=float16 cannot "
                          r"hold \(beyond its range\); pass a wider dtype"),
        (np.int8, 1000.0, r"\['x1'\] hold values that dtype=int8 cannot hold \(fractions"),
        (np.int64, 2.5, r"\['x1'\] hold values that dtype=int64 cannot hold"),
    ],
)
def test_from_long_format_refuses_a_dtype_that_loses_values(long_df, dtype, x1, match):
    df = long_df.assign(x1=[1.0, 2.0, 3.0, 4.0, 5.0, x1])
    with pytest.raises(ValueError, match=match):
        from_long_format(df, "id", "t", dtype=dtype)
    X, _, _ = from_long_format(long_df, "id", "t", feature_cols=["x2"], dtype=np.int8)
    assert X[0].dtype == np.int8 and X[0].ravel().tolist() == [0, 0, 1]


@pytest.mark.parametrize("dtype", ["floot32", object, "U5"])
def test_from_long_format_dtype_must_be_one_of_numbers(long_df, dtype):
    # numpy's "data type 'floot32' not understood" named no parameter; object arrays
    # came back, for the estimators to refuse later
    with pytest.raises(TypeError, match=r"^dtype=.* is not a dtype of numbers; pass a float"):
        from_long_format(long_df, "id", "t", dtype=dtype)


def test_from_long_format_names_ids_and_times_in_the_index(long_df):
    indexed = long_df.set_index(["id", "t"])
    with pytest.raises(ValueError, match=r"\['id', 't'\] are levels of its index: pass "
                                         r"df.reset_index\(\)"):
        from_long_format(indexed, "id", "t")
    X, _, ids = from_long_format(indexed.reset_index(), "id", "t")
    assert ids.tolist() == ["a", "b", "c"] and len(X) == 3


def test_from_long_format_passes_on_errors_of_a_target_function(long_df):
    def broken(values):
        return values.no_such_method()

    with pytest.raises(AttributeError, match="no_such_method"):
        from_long_format(long_df, "id", "t", target_col="label", target_agg=broken)


def test_from_long_format_categorical_ids_with_unused_categories(long_df):
    # grouped by id, pandas 2 gave the unused category a target of its own: y longer than X
    ids = pd.Categorical(long_df["id"], categories=["z", "c", "b", "a"])
    X, y, found = from_long_format(long_df.assign(id=ids), "id", "t", target_col="label")
    assert_array_equal(found, ["c", "b", "a"])
    assert_array_equal(y, [7.0, 0.0, 5.0])
    assert [len(seq) for seq in X] == [1, 2, 3]


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
