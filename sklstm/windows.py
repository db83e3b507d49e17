"""Turn long time series into supervised sequence data.

:func:`make_windows` cuts one or several series into ``(lookback, n_features)`` input
windows with the following ``horizon`` values of a target column as labels,
:func:`make_window_splitter` builds a time-ordered cross-validation splitter that keeps
overlapping targets out of the training folds, and :func:`from_long_format` converts a
long ``(id, time, features...)`` table into ragged per-id sequences.
"""

from numbers import Integral, Real

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._long_format import from_long_format  # (its own module: another conversion)
from ._nullable import as_array
from ._param_validation import integers, validate_plain_params
from ._time_order import WindowSplit, check_time_order, time_labels

__all__ = ["from_long_format", "make_window_splitter", "make_windows"]


def _is_single_series(series):
    """A list/tuple holds several series unless all its items are scalars."""
    if isinstance(series, (list, tuple)):
        return len(series) > 0 and all(np.ndim(item) == 0 for item in series)
    return True


def _rows_hint(series):
    """The likelier fix when several series are all lists: the rows of one multi-column
    series (``df.values.tolist()``), each read as a series of ``n_features`` steps, whose
    shortness the error blamed on lookback: reduced, the rows were windowed silently."""
    if not all(isinstance(item, (list, tuple)) for item in series):
        return ""
    return (" A list of lists is several series; if it holds the rows of one series "
            "(n_timesteps, n_features), pass np.asarray(series).")


def _transposed_hint(values, needed):
    """The likelier fix when a series is short but wide: its rows are features and its
    columns timesteps (a ``(1, T)`` row), where rows are timesteps."""
    if values.shape[1] < needed:
        return ""
    return (f" Rows are timesteps and columns features: if its {values.shape[0]} row(s) "
            f"are features over {values.shape[1]} timesteps, pass series.T.")


#: Integers beyond this magnitude are not all exact in float64, the windows' dtype.
EXACT_INTEGERS = 2**53


def _check_exact_integers(series, name):
    """Refuse integers that float64 would round (nanosecond timestamps, ids, counters:
    ``2**53 + 1`` came out as ``2**53``, silently), naming the first and the fix."""
    if hasattr(series, "iloc"):
        frame = series.to_frame() if series.ndim == 1 else series
        labels = [f" (column {c!r})" for c in frame.columns] if series.ndim == 2 else [""]
        columns = [frame.iloc[:, j].dropna() for j in range(frame.shape[1])]
    else:
        try:
            values = np.asarray(series)
        except ValueError:
            return  # (ragged: refused as such later)
        if values.ndim not in (1, 2):
            return
        labels = [""] if values.ndim == 1 else [f" (column {j})" for j in range(values.shape[1])]
        values = values[:, None] if values.ndim == 1 else values
        columns = list(values.T)
    for label, column in zip(labels, columns, strict=True):
        kind = getattr(column.dtype, "numpy_dtype", column.dtype).kind
        if kind not in "iuO" or not len(column):
            continue
        whole = [int(v) for v in (column.min(), column.max())] if kind != "O" else [
            int(v) for v in column if isinstance(v, Integral) and not isinstance(v, bool)]
        beyond = [v for v in whole if abs(v) > EXACT_INTEGERS]
        if beyond:
            raise ValueError(
                f"{name} holds the integer {beyond[0]}{label}, beyond 2**53: the windows "
                "are float64, which would round it silently. Subtract a reference first "
                "(series - series.min(); timestamps as differences, series.diff()), or "
                "cast to float yourself to accept the rounding (series.astype(float)).")


def _parse_series(series, name):
    """Return ``(values (T, F) float, index labels (T,), column names or None)``."""
    # only pandas objects carry index labels and column names (a list has an .index method)
    is_pandas = hasattr(series, "iloc")
    columns = list(series.columns) if is_pandas and hasattr(series, "columns") else None
    index = np.asarray(series.index) if is_pandas else None
    if columns is not None:
        # dtypes, not series[c]: a duplicated name selects a DataFrame, which has no dtype
        non_numeric = [c for c, dtype in zip(columns, series.dtypes, strict=True)
                       if dtype.kind not in "biuf"]
        if non_numeric:
            raise ValueError(f"{name} has non-numeric columns {non_numeric}; drop or encode them.")
    _check_exact_integers(series, name)
    values = as_array(series)  # (nullable columns as their numbers: Float32 as float32)
    # (a DataFrame's columns are numbers, as checked above; a Series has one dtype)
    numeric = columns is not None or (is_pandas and series.dtype.kind in "biuf")
    if values.dtype == object and numeric:
        # pandas' own conversion gives objects for numbers of several kinds (a bool
        # column beside float ones) and for nullable columns with pd.NA, numbers all
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    elif values.dtype == object and all(v is None or isinstance(v, Real)
                                        for v in values.ravel()):
        # numbers with None (a JSON null) in a list: a missing value, named as one by the
        # check below, where the objects were refused as "must be numeric"
        values = values.astype(np.float64)  # (None becomes NaN)
    if values.dtype.kind not in "biuf":
        # an object array (or pandas Series) of arrays: several series, one per item
        several = values.dtype == object and any(np.ndim(v) > 0 for v in values.ravel())
        raise ValueError(f"{name} must be numeric, got dtype {values.dtype}."
                         + (" It holds arrays: pass several series as a list, "
                            "list(series)." if several else ""))
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(
            f"{name} must be 1D (T,) or 2D (T, n_features), got shape {values.shape}."
            # (n_series, T, n_features): several series of one length, stacked
            + (" For several series stacked in a 3D array, pass list(series)."
               if values.ndim == 3 else ""))
    if values.shape[1] == 0:
        raise ValueError(f"{name} has no columns (shape {values.shape}); pass at least one.")
    values = values.astype(np.float32 if values.dtype == np.float32 else np.float64)
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if bad.size:
        # (not "drop": windows follow the rows, so the rows around a dropped gap would
        # join into windows that span it, each target paired with the wrong past)
        raise ValueError(
            f"{name} contains NaN or infinite values (first at timestep {bad[0]}); fill "
            "them before windowing (series.interpolate() or .ffill()), or cut the series "
            "at each gap and pass the pieces as a list (windows never cross from one "
            "series into the next). Dropping the rows alone would join the steps on "
            "either side of a gap into windows that span it."
        )
    if is_pandas:
        check_time_order(time_labels(series.index, name), name)
    return values, np.arange(len(values)) if index is None else index, columns


def _target_position(target, columns, n_features, name):
    """The column number of ``target``: an int is a position, a str (or the tuple of a
    MultiIndex) a column name."""
    if target is None:
        return 0
    if isinstance(target, Integral) and not isinstance(target, bool):
        _check_not_an_integer_name(target, columns, n_features, name)
        if not -n_features <= target < n_features:
            raise ValueError(
                f"target={target} is out of range for {name} with {n_features} columns."
            )
        return int(target) % n_features
    if columns is None or target not in columns:
        raise ValueError(
            f"target={target!r} is not a column of {name}; pass a column index, or a column "
            f"name of a DataFrame (columns: {columns})."
        )
    if columns.count(target) > 1:
        raise ValueError(
            f"target={target!r} names {columns.count(target)} columns of {name}; rename the "
            "columns so that the target's name is unique, or pass its column index."
        )
    return columns.index(target)


def _column_names(series, columns):
    """The column names ``target`` may name: a DataFrame's, or the name of a pandas
    Series named by a str or tuple (its one column; ``target="load"`` of ``df["load"]``
    was "not a column"; an int stays a position). Not used to compare the columns of
    several series: Series of one table's columns (``[df[c] for c in df]``) are series
    of one feature under several names."""
    if columns is None and hasattr(series, "iloc") \
            and isinstance(getattr(series, "name", None), (str, tuple)):
        return [series.name]
    return columns


def _check_not_an_integer_name(target, columns, n_features, name):
    """Refuse an int ``target`` that names a column at another position: whether the
    user meant the name or the position cannot be told, and either guess could pick the
    wrong column silently."""
    if columns is None or target not in columns:
        return
    at = columns.index(target)
    if -n_features <= target < n_features and at == target % n_features:
        return  # the name and the position agree (e.g. a RangeIndex of columns)
    raise ValueError(
        f"target={target} is ambiguous: an int target is a column position, but {name} "
        f"also has a column named {target} (at position {at}). Give the columns string "
        "names (df.rename(columns=str)) and pass the target's name."
    )


def _check_same_columns(columns, name, number, expected):
    """Refuse a DataFrame whose columns differ from those of series ``number``: windows
    are stacked by column position, so columns in another order (or other columns) would
    put one feature under another's, silently."""
    if columns == expected:
        return
    reorder = (f" in the same order: reorder them, df[{expected!r}]"
               if sorted(map(str, columns)) == sorted(map(str, expected)) else "")
    raise ValueError(f"{name} has columns {columns} but series {number} has {expected}; "
                     f"all series need the same columns{reorder}.")


def _index_kind(index):
    """The kind of labels ``index`` holds: its dtype, or for an object array (a
    tz-aware DatetimeIndex, periods, strings) the types of its labels."""
    if index.dtype != object:
        return str(index.dtype)
    return "/".join(sorted({type(label).__name__ for label in index}))


def _concatenate_index(indices):
    """The windows' index labels of every series, as one array."""
    try:
        index = np.concatenate(indices)
    except (TypeError, ValueError) as exc:  # e.g. datetimes and positions: no common dtype
        raise _mixed_index_error(indices) from exc
    # numpy puts an object array together with any other without complaint (tz-aware
    # times with positions, periods with strings): labels that cannot be ordered
    if index.dtype == object and len({_index_kind(part) for part in indices}) > 1:
        raise _mixed_index_error(indices)
    return index


def _mixed_index_error(indices):
    """The error for index labels of several kinds, naming the kinds."""
    kinds = sorted({_index_kind(index) for index in indices})
    return ValueError(
        f"return_index needs index labels of one kind in every series, got {kinds}; "
        "give every series the same kind of index (e.g. all DataFrames with a "
        "DatetimeIndex, or all arrays, whose labels are positions)."
    )


@validate_plain_params({
    "series": "no_validation",  # checked series by series, naming the bad one
    "lookback": [integers(1)],
    "horizon": [integers(1)],
    "step": [integers(1)],
    # a tuple: a column of a DataFrame with MultiIndex columns (("Close", "AAPL"), as
    # price downloads of several tickers have)
    "target": [Integral, str, tuple, None],
    "return_index": ["boolean"],
    "return_groups": ["boolean"],
})
def make_windows(
    series, lookback, horizon=1, step=1, target=None, return_index=False, return_groups=False
):
    """Cut time series into input windows and the values that follow them.

    Window ``i`` starting at timestep ``a`` holds ``series[a : a + lookback]`` (all columns)
    and its target is ``series[a + lookback : a + lookback + horizon, target]``.
    Windows never cross the boundary between two series.

    Parameters
    ----------
    series : array-like of shape (T,) or (T, n_features), DataFrame, or list of these
        One long series, or a list of several series with the same columns (the same
        names in the same order for DataFrames: windows are stacked by position).
        A list is one series only when it holds numbers: a list of lists is several
        series, so pass one multi-column series as an ndarray or a DataFrame. Windows
        follow the rows: a pandas index of times (datetimes, periods, timedeltas, or
        ISO 8601 dates as text) must not decrease (equal times stay in row order), else
        a ValueError says to sort it. A MultiIndex of rows is one series when all its
        levels but the innermost, or but one of times, hold one key (a group of
        ``groupby(level=0)``, or of ``(date, ticker)`` rows by ticker); a long table of
        several keys is refused: pass one series per key.
    lookback : int
        Number of timesteps in each input window.
    horizon : int, default=1
        Number of future target values per window.
    step : int, default=1
        Distance between the starts of consecutive windows.
    target : int, str or tuple, default=None
        Target column index, or column name for DataFrames (a tuple for MultiIndex
        columns, e.g. ``("Close", "AAPL")``) and the name of a named Series; None means
        column 0. An int that also names another column of a DataFrame is refused as
        ambiguous.
    return_index : bool, default=False
        Also return the index label (DataFrame/Series index, else the position) of each
        window's first target, to split in time order; several series need the same
        kind of index.
    return_groups : bool, default=False
        Also return the number of the series each window comes from.

    Returns
    -------
    X : ndarray of shape (n_windows, lookback, n_features)
        Input windows, float64 (float32 for float32 input), series after series. To
        predict from one window, keep its first axis, ``X[-1:]``: ``X[-1]`` of a
        univariate series, 2D ``(lookback, 1)``, is read as ``lookback`` one-step
        sequences, giving ``lookback`` predictions.
    y : ndarray of shape (n_windows,) or (n_windows, horizon)
        Targets; 1D when ``horizon == 1``.
    index : ndarray of shape (n_windows,)
        Only with ``return_index=True``.
    groups : ndarray of shape (n_windows,)
        Only with ``return_groups=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm.windows import make_windows
    >>> X, y, index = make_windows(np.arange(6.0), lookback=3, return_index=True)
    >>> X[:, :, 0]
    array([[0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    >>> y, index
    (array([3., 4., 5.]), array([3, 4, 5]))
    """
    single = _is_single_series(series)
    if not single and len(series) == 0:
        raise ValueError("series is an empty list; pass at least one series.")
    Xs, ys, indices, groups = [], [], [], []
    named = None  # (number, columns) of the first series with column names
    for number, item in enumerate([series] if single else series):
        name = "series" if single else f"series {number}"
        values, index, columns = _parse_series(item, name)
        if Xs and values.shape[1] != Xs[0].shape[2]:
            raise ValueError(
                f"{name} has {values.shape[1]} columns but series 0 has {Xs[0].shape[2]}; "
                "all series need the same columns."
            )
        if columns is not None:
            named = named or (number, columns)
            _check_same_columns(columns, name, *named)
        if len(values) < lookback + horizon:
            raise ValueError(
                f"{name} has {len(values)} timesteps, fewer than lookback + horizon = "
                f"{lookback + horizon}; reduce lookback or horizon, or drop this series."
                + ("" if single else _rows_hint(series))
                + _transposed_hint(values, lookback + horizon))
        column = _target_position(target, _column_names(item, columns), values.shape[1], name)
        starts = np.arange(0, len(values) - lookback - horizon + 1, step)
        # sliding_window_view puts the window axis last: move it back to (time, feature).
        Xs.append(sliding_window_view(values, lookback, axis=0)[starts].transpose(0, 2, 1))
        ys.append(values[starts[:, None] + lookback + np.arange(horizon), column])
        indices.append(index[starts + lookback])
        groups.append(np.full(len(starts), number))
    y = np.concatenate(ys)
    out = [np.concatenate(Xs), y[:, 0] if horizon == 1 else y]
    if return_index:
        out.append(_concatenate_index(indices))
    if return_groups:
        out.append(np.concatenate(groups))
    return tuple(out)


@validate_plain_params({
    "n_splits": [integers(2)],
    "horizon": [integers(1)],
    "step": [integers(1)],
    "max_train_size": [integers(1), None],
    "test_size": [integers(1), None],
})
def make_window_splitter(n_splits=5, *, horizon=1, step=1, max_train_size=None, test_size=None):
    """Time-ordered CV splitter for windows built from one series by :func:`make_windows`.

    Returns a :class:`sklearn.model_selection.TimeSeriesSplit` whose ``gap`` drops the
    last training windows whose target ranges would overlap the first validation
    window's targets: with ``step`` between window starts, consecutive windows share
    targets unless ``ceil(horizon / step)`` windows apart, hence
    ``gap = ceil(horizon / step) - 1`` (``horizon - 1`` for ``step=1``). Validation windows
    may still see training targets as inputs, which is legitimate history.

    Only valid when windows are in time order, i.e. built from a single series; for several
    series use a group-aware splitter with the ``groups`` from :func:`make_windows`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of splits.
    horizon : int, default=1
        ``horizon`` used in :func:`make_windows`.
    step : int, default=1
        ``step`` used in :func:`make_windows`.
    max_train_size, test_size : int, default=None
        Passed to :class:`~sklearn.model_selection.TimeSeriesSplit`.

    Returns
    -------
    cv : TimeSeriesSplit
        Splitter for ``cross_validate``, ``GridSearchCV`` and friends; its ``split``
        refuses a ``y`` of more than ``horizon`` columns, for which the gap is short.

    Examples
    --------
    >>> from sklstm.windows import make_window_splitter
    >>> make_window_splitter(3, horizon=4)
    WindowSplit(gap=3, horizon=4, max_train_size=None, n_splits=3, test_size=None)
    """
    gap = -(-horizon // step) - 1
    return WindowSplit(n_splits, horizon=horizon, gap=gap, max_train_size=max_train_size,
                       test_size=test_size)
