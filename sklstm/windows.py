"""Turn long time series into supervised sequence data.

:func:`make_windows` cuts one or several series into ``(lookback, n_features)`` input
windows with the following ``horizon`` values of a target column as labels,
:func:`make_window_splitter` builds a time-ordered cross-validation splitter that keeps
overlapping targets out of the training folds, and :func:`from_long_format` converts a
long ``(id, time, features...)`` table into ragged per-id sequences.
"""

from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from numbers import Integral

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._compat.sklearn import Hidden, InvalidParameterError
from ._long_format import from_long_format  # (its own module: another conversion)
from ._param_validation import integers, validate_plain_params
from ._series_values import series_values  # (its own module: what a series holds)
from ._time_order import (  # (make_window_splitter: beside the splitter it makes)
    check_time_order,
    concatenate_index,
    make_window_splitter,
    time_labels,
    warn_time_gaps,
)

__all__ = ["from_long_format", "make_window_splitter", "make_windows"]


def _listed(series):
    """Several series in a container numpy reads as one object ("series must be numeric,
    got dtype object", no fix named): an iterator (the frames of a groupby) or a dict's
    values as a list; a dict (whose keys would be lost) or a GroupBy refused with the fix."""
    if isinstance(series, ItemsView):  # (a dict's items: read as one object too)
        raise TypeError("series is a dict's items, (key, series) pairs; pass its series "
                        "as a list, list(d.values()).")
    if isinstance(series, (Iterator, ValuesView)):
        series = list(series)
    if isinstance(series, Mapping) or hasattr(series, "ngroups"):
        fix = ("list(series.values())" if isinstance(series, Mapping)
               else "[group for _, group in series]")
        raise TypeError(f"series is a {type(series).__name__}; pass its series as a list, "
                        f"{fix}.")
    _check_no_pairs(series)
    return series


def _check_no_pairs(series):
    """Refuse ``(key, series)`` pairs, what iterating a groupby gives (``list(groups)``,
    ``iter(groups)``): each pair was read as one series, and numpy's "inhomogeneous
    shape" error named neither the pair nor the fix."""
    if not isinstance(series, (list, tuple)):
        return
    for number, item in enumerate(series):
        # (a key and an array: ragged, never one series; a key of several columns is
        # a tuple)
        if isinstance(item, tuple) and len(item) == 2 \
                and (hasattr(item[1], "iloc") or isinstance(item[1], np.ndarray)) \
                and np.ndim(item[1]) > 0 \
                and (isinstance(item[0], tuple) or np.ndim(item[0]) == 0):
            raise TypeError(
                f"series {number} is a (key, series) pair, {type(item[1]).__name__} "
                f"keyed {item[0]!r}, as iterating a groupby gives; pass the series alone, "
                "[group for _, group in groups].")


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


def _parse_series(series, name):
    """Return ``(values (T, F) float, pandas index or None, column names or None)``."""
    # only pandas objects carry index labels and column names (a list has an .index method)
    is_pandas = hasattr(series, "iloc")
    columns = list(series.columns) if is_pandas and hasattr(series, "columns") else None
    values = series_values(series, name)
    if is_pandas:
        check_time_order(time_labels(series.index, name), name)
    return values, series.index if is_pandas else None, columns


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
            # (a tuple of column names: several targets, where a tuple names one column
            # of MultiIndex columns)
            + (_several_targets_hint() if isinstance(target, tuple) and columns is not None
               and all(t in columns for t in target) else "")
        )
    if columns.count(target) > 1:
        raise ValueError(
            f"target={target!r} names {columns.count(target)} columns of {name}; rename the "
            "columns so that the target's name is unique, or pass its column index."
        )
    return columns.index(target)


def _several_targets_hint():
    """How to get the targets of several columns, which ``target`` cannot name at once."""
    return (" For several target columns, window once per column and put their targets "
            "side by side (the windows X are the same): np.column_stack([make_windows("
            "series, lookback, horizon, target=c)[1] for c in columns]).")


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


@validate_plain_params({
    "series": "no_validation",  # checked series by series, naming the bad one
    "lookback": [integers(1)],
    "horizon": [integers(1)],
    "step": [integers(1)],
    # a tuple: a column of a DataFrame with MultiIndex columns (("Close", "AAPL"), as
    # price downloads of several tickers have); a list of several columns: refused below
    # with the way, as an array or an Index of them (df.columns[[0, 2]]) is (Hidden: the
    # refusals of other types do not offer them)
    "target": [Integral, str, tuple, Hidden("array-like"), None],
    "return_index": ["boolean"],
    "return_groups": ["boolean"],
    "copy": ["boolean"],
})
def make_windows(
    series, lookback, horizon=1, step=1, target=None, return_index=False, return_groups=False,
    copy=True,
):
    """Cut time series into input windows and the values that follow them.

    Window ``i`` starting at timestep ``a`` holds ``series[a : a + lookback]`` (all columns)
    and its target is ``series[a + lookback : a + lookback + horizon, target]``.
    Windows never cross the boundary between two series. Windows overlap: a window's
    targets are inputs (and targets) of the windows after it, so a shuffled split
    would train on the test targets; split in time, :func:`make_window_splitter`.

    Parameters
    ----------
    series : array-like of shape (T,) or (T, n_features), DataFrame, or list of these
        One long series, or a list of several series with the same columns (the same
        names in the same order for DataFrames: windows are stacked by position).
        A list is one series only when it holds numbers: a list of lists is several
        series, so pass one multi-column series as an ndarray or a DataFrame. Windows
        follow the rows: a pandas index of times (datetimes, periods, timedeltas, or
        ISO 8601 dates as text) must not decrease (equal times stay in row order), else
        a ValueError says to sort it. A regular index of times with steps missing (hourly
        readings missing a day) is warned about, once: its windows span the gaps. A
        MultiIndex of rows is one series when all its levels but the innermost, or but
        one of times, hold one key (a group of ``groupby(level=0)``, or of
        ``(date, ticker)`` rows by ticker); a long table of several keys is refused:
        pass one series per key.
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
        ambiguous. One column: for several, window once per column and stack the
        targets, ``np.column_stack([make_windows(..., target=c)[1] for c in columns])``.
    return_index : bool, default=False
        Also return the index label (DataFrame/Series index, else the position) of each
        window's first target, to split in time order; several series need the same
        kind of index.
    return_groups : bool, default=False
        Also return the number of the series each window comes from.
    copy : bool, default=True
        False returns the windows of one series as a read-only view, no copy: for a
        series too long to copy ``lookback`` times over. It views the series itself
        when that is a float64 or float32 array, and changes with it. Several series
        are always copied into one array.

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
    # a list, an array or an Index of columns (a tuple may name a MultiIndex column):
    # "must be an instance of int, str..." named no way
    if not isinstance(target, (str, bytes, tuple)) and np.ndim(target) > 0:
        raise InvalidParameterError(f"target={target!r}: make_windows takes one target "
                                    "column." + _several_targets_hint())
    series = _listed(series)
    single = _is_single_series(series)
    if not single and len(series) == 0:
        raise ValueError("series is an empty list; pass at least one series.")
    parsed = []  # (values, index, target column) of every series
    named = None  # (number, columns) of the first series with column names
    for number, item in enumerate([series] if single else series):
        name = "series" if single else f"series {number}"
        values, index, columns = _parse_series(item, name)
        if parsed and values.shape[1] != parsed[0][0].shape[1]:
            raise ValueError(
                f"{name} has {values.shape[1]} columns but series 0 has "
                f"{parsed[0][0].shape[1]}; all series need the same columns.")
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
        parsed.append((values, index, column))
    warn_time_gaps([("series" if single else f"series {number}", index)
                    for number, (_, index, _) in enumerate(parsed)])
    return _cut(parsed, lookback, horizon, step, return_index, return_groups, copy)


def _cut(parsed, lookback, horizon, step, return_index, return_groups, copy):
    """What :func:`make_windows` returns for its ``(values, index, column)`` series."""
    counts = [len(range(0, len(v) - lookback - horizon + 1, step)) for v, _, _ in parsed]
    # One array filled series by series: windows taken by a list of starts and then
    # joined by np.concatenate were two copies at once, the peak twice X (16 GB for the
    # 8 GB of windows of 100 steps over 10M).
    view = not copy and len(parsed) == 1
    X = None if view else np.empty((sum(counts), lookback, parsed[0][0].shape[1]),
                                   dtype=np.result_type(*(v.dtype for v, _, _ in parsed)))
    ys, indices, groups, end = [], [], [], 0
    for number, ((values, index, column), count) in enumerate(zip(parsed, counts,
                                                                  strict=True)):
        # a read-only view (a write would change many windows), the window axis last:
        # moved back to (time, feature)
        windows = sliding_window_view(values, lookback, axis=0)[::step][:count]
        if not view:
            X[end:end + count] = windows.transpose(0, 2, 1)
        end += count
        first = np.arange(count) * step + lookback  # (the position of the first target)
        ys.append(values[first[:, None] + np.arange(horizon), column])
        # the labels of the windows only: np.asarray of a whole tz-aware or period index
        # made every label a Python object (142 MiB and 3.9 s for 1M steps, asked or not:
        # benchmarks/bench_windows_memory.py)
        if return_index:
            indices.append(first if index is None else np.asarray(index[first]))
        if return_groups:
            groups.append(np.full(count, number))
    y = np.concatenate(ys)
    out = [windows.transpose(0, 2, 1) if view else X, y[:, 0] if horizon == 1 else y]
    if return_index:
        out.append(concatenate_index(indices))
    if return_groups:
        out.append(np.concatenate(groups))
    return tuple(out)
