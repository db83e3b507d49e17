"""A long ``(id, time, features...)`` table as ragged per-id sequences:
:func:`from_long_format`, public as :func:`sklstm.windows.from_long_format`."""

from collections.abc import Hashable
from numbers import Real

import numpy as np

from ._nullable import pandas_na_as_nan
from ._param_validation import validate_plain_params
from ._series_values import (  # (make_windows' rules: decimals, categories of numbers)
    categories_as_numbers,
    decimal_columns_as_floats,
    decimal_values,
    dtype_hint,
    not_numbers_hint,
    numeric_categories,
    short_integer,
)
from ._time_order import check_time_column  # (beside the other checks of time order)

__all__ = ["from_long_format"]


@validate_plain_params({
    "df": "no_validation",  # a DataFrame; checked below with the columns it needs
    # one column name each (a tuple for MultiIndex columns); a list raised "unhashable"
    "id_col": [Hashable],
    "time_col": [Hashable],
    "feature_cols": ["array-like", None],
    "target_col": [Hashable, None],
    "target_agg": [str, callable],
    "dtype": "no_validation",
})
def from_long_format(
    df, id_col, time_col, feature_cols=None, target_col=None, target_agg="last", dtype=np.float64
):
    """Convert a long table of ``(id, time, features...)`` rows into ragged sequences.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per (id, time) pair; convert a polars or pyarrow table, df.to_pandas().
    id_col, time_col : str
        Columns identifying the sequence and ordering its timesteps. The time column
        holds numbers or times (or categories in their order, declared for text:
        ``ordered=True``), not text, which would sort as text ("10" before "2").
    feature_cols : list of str, default=None
        Feature columns; None uses every column except ``id_col``, ``time_col`` and
        ``target_col``. ``target_col`` among them is refused: the target is taken from
        the same rows, so the sequences would hold it. ``decimal.Decimal`` values (a
        database's NUMERIC column) are numbers, read as float64 as ``make_windows`` and
        the estimators read them; so are categories of numbers, as those numbers.
    target_col : str, default=None
        Column holding the target, with a value on every row; None returns ``y=None``
        (and refuses a ``target_agg`` other than the default, which would have nothing
        to aggregate).
    target_agg : str or callable, default="last"
        How the per-id target is taken from ``target_col`` after sorting by time: any
        pandas aggregation (``"last"``, ``"first"``, ``"mean"``, ``"max"``...) or a function
        of the per-id Series, giving one value per id (a transform such as ``"cumsum"``
        is refused, and so is a NaN or infinite target, e.g. ``"std"`` of an id with
        one row). ``"last"`` suits both per-id labels repeated on every row and
        "value at the end of the sequence" targets.
    dtype : numpy dtype, default=np.float64
        dtype of the feature arrays, a float, integer or bool one. Values it cannot
        hold (beyond float16's range, integers beyond float64's ``2**53`` whole numbers,
        fractions or values beyond int8's...) are
        refused with a ValueError naming their columns, not rounded or wrapped.

    Returns
    -------
    X : list of ndarray of shape (n_timesteps_i, n_features)
        One array per id, rows sorted by time.
    y : ndarray of shape (n_ids,) or None
        Per-id target, aligned with ``ids``.
    ids : ndarray of shape (n_ids,)
        Ids in sorted order.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklstm.windows import from_long_format
    >>> df = pd.DataFrame({"id": ["b", "a", "a"], "t": [0, 1, 0],
    ...                    "x": [5.0, 2.0, 1.0], "label": [0, 1, 1]})
    >>> X, y, ids = from_long_format(df, "id", "t", target_col="label")
    >>> [seq.ravel().tolist() for seq in X], y.tolist(), ids.tolist()
    ([[1.0, 2.0], [5.0]], [1, 0], ['a', 'b'])
    """
    if not (hasattr(df, "columns") and hasattr(df, "iloc")):  # (polars': no pandas API)
        fix = "df.to_pandas()" if hasattr(df, "to_pandas") else "pd.DataFrame(df)"
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}; convert "
                        f"it, {fix}.")
    keys = [id_col, time_col]
    if feature_cols is None:
        feature_cols = [c for c in df.columns if c not in (id_col, time_col, target_col)]
    feature_cols = list(feature_cols)
    dtype = _feature_dtype(dtype)
    if target_col is None and not (isinstance(target_agg, str) and target_agg == "last"):
        # (a target_agg without a column to aggregate would be ignored in silence)
        raise ValueError(f"target_agg={target_agg!r} needs target_col, the column it "
                         "aggregates; pass target_col, or leave target_agg out.")
    _check_long_columns(df, keys, feature_cols, target_col)
    df = decimal_columns_as_floats(df, feature_cols)
    _check_long_values(df, keys, feature_cols, target_col)
    # A stable sort makes each id one contiguous block of rows ordered by time.
    order, new_id = _sorted(df, keys)
    starts = np.flatnonzero(new_id)
    ids = df[id_col].to_numpy()[order[starts]]  # (each block's first row's id)
    # the rows taken by position: a new array, writable (pandas 3's to_numpy gives a
    # read-only view, and "assignment destination is read-only" met X[i][...] = v)
    # (categories of numbers as those numbers here, not in df: a time column among the
    # features keeps its categories' declared order, which sorts the rows)
    features = categories_as_numbers(df[feature_cols])
    X = np.split(_feature_values(features, dtype)[order], starts[1:])
    y = None
    if target_col is not None:
        # grouped by block number, not by id: aligned with X whatever the ids' dtype (a
        # categorical id would add its unused categories as groups on pandas 2)
        block = np.cumsum(new_id) - 1
        targets = df[target_col].iloc[order].reset_index(drop=True)
        y = _aggregate_target(targets, block, target_agg, ids, target_col)
    return X, y, ids


def _feature_dtype(dtype):
    """``dtype`` as a numpy dtype of numbers, refused in words otherwise."""
    try:
        numpy_dtype = np.dtype(dtype)
    except TypeError:  # numpy's "data type 'x' not understood" names no parameter
        numpy_dtype = None
    if numpy_dtype is None or numpy_dtype.kind not in "biuf":
        raise TypeError(f"dtype={dtype!r} is not a dtype of numbers; pass a float, integer "
                        "or bool dtype such as np.float32 or np.float64.")
    return numpy_dtype


def _feature_values(features, dtype):
    """The ``features`` table as a ``dtype`` array, refused where ``dtype`` cannot hold
    its values: the cast rounds floats to the nearest (as it should) but turns values
    beyond a float range into infinity and wraps or truncates integers, silently."""
    with np.errstate(over="ignore", invalid="ignore"):  # (the lost values are named below)
        values = features.to_numpy(dtype=dtype)
    if dtype.kind == "f":
        kept = np.isfinite(values).all(axis=0)  # the input was checked finite
        what = "beyond its range"
        # integers beyond the float's whole numbers (2**53 for float64: nanosecond times,
        # ids) were rounded, silently: cast back, they differ
        kinds = [getattr(d, "numpy_dtype", d) for d in features.dtypes]
        for j in (j for j, kind in enumerate(kinds) if kind.kind in "iu" and kept[j]):
            with np.errstate(invalid="ignore"):
                back = values[:, j].astype(kinds[j])
            if not (back == features.iloc[:, j].to_numpy(dtype=kinds[j])).all():
                kept[j], what = False, "beyond its range, or integers it would round"
                _refuse_integers_no_float_holds(features.iloc[:, j], kinds[j],
                                                features.columns[j])
    else:
        kept = (values == features.to_numpy(dtype=np.float64)).all(axis=0)
        what = "fractions or beyond its range"
    if not kept.all():
        lost = [c for c, ok in zip(features.columns, kept, strict=True) if not ok]
        raise ValueError(f"feature columns {lost} hold values that dtype={dtype} cannot hold "
                         f"({what}); pass a wider dtype (e.g. np.float64).")
    return values


def _refuse_integers_no_float_holds(column, kind, name):
    """Refuse the integer ``column`` where float64 too rounds its values (beyond 2**53):
    "pass a wider dtype (e.g. np.float64)" was said of dtype=float64 itself, and of
    float32 where float64 would have rounded them as well."""
    integers = column.to_numpy(dtype=kind)
    with np.errstate(invalid="ignore"):
        back = integers.astype(np.float64).astype(kind)
    beyond = np.flatnonzero(back != integers)
    if len(beyond):
        raise ValueError(
            f"feature column {name!r} holds the integer {short_integer(int(integers[beyond[0]]))}"
            ", beyond 2**53, which no float dtype holds exactly (float64 rounds it); "
            "subtract a reference first (df[c] - df[c].min()), or convert the column to "
            f"accept the rounding, df[{name!r}].astype(float).")


def _check_long_columns(df, keys, feature_cols, target_col):
    """Refuse column choices that :func:`from_long_format` cannot read unambiguously."""
    if keys[0] == keys[1]:
        raise ValueError(f"id_col and time_col are both {keys[0]!r}; pass two columns.")
    wanted = [*keys, *feature_cols, *([] if target_col is None else [target_col])]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        # (an unnamed index has the name None: not a level that id_col=None meant)
        in_index = [c for c in missing if c is not None and c in df.index.names]
        raise ValueError(
            f"Columns {missing} not found in df; it has {list(df.columns)}."
            # the usual pandas form of a long table: (id, time) as a MultiIndex
            + (f" {in_index} are levels of its index: pass df.reset_index()."
               if in_index else ""))
    # the names found twice, once: counting each wanted name in the columns took
    # seconds on a table of a few thousand feature columns (quadratic)
    repeated_names = set(df.columns[df.columns.duplicated()])
    repeated = sorted({c for c in wanted if c in repeated_names}, key=str)
    if repeated:
        raise ValueError(
            f"df has several columns named {repeated}; rename them so that every column "
            "from_long_format reads has a unique name."
        )
    if not feature_cols:
        raise ValueError("No feature columns: pass feature_cols or add feature columns to df.")
    if target_col is not None and target_col in feature_cols:
        # the per-id target is an aggregate of the very rows X holds: every sequence
        # would carry its own answer ("last": y is X's last row in that column)
        raise ValueError(
            f"target_col {target_col!r} is also in feature_cols: its per-id target is "
            "taken from the same rows, so each sequence would hold its own answer. Drop "
            "it from feature_cols (or leave feature_cols=None, which leaves it out); to "
            "forecast its next values from its past, use make_windows.")
    non_numeric = [c for c in feature_cols if df[c].dtype.kind not in "biuf"
                   and not numeric_categories(df[c].dtype) and decimal_values(df[c]) is None]
    if non_numeric:
        raise ValueError(f"Feature columns {non_numeric} are not numeric; encode or drop them."
                         + _objects_hint(df[non_numeric[0]], non_numeric[0]))


def _objects_hint(column, name):
    """What the feature column ``name`` of objects (text, categories) holds where no
    number is, and how to convert it (numbers among None or ``pd.NA``, decimals, numbers
    as text: "not numeric" alone named no fix); ``""`` for a column of another dtype."""
    if column.dtype.kind != "O" or str(column.dtype) == "category":
        return dtype_hint(column.dtype, f"df[{name!r}]", f"Column {name!r}")  # (times...)
    values = pandas_na_as_nan(column.to_numpy(dtype=object))
    if all(v is None or isinstance(v, Real) for v in values):
        return (f" Column {name!r} holds numbers as Python objects (with None or pd.NA for "
                f"missing ones, say): convert it, pd.to_numeric(df[{name!r}]).")
    return not_numbers_hint(values, f"df[{name!r}]", "row", f"Column {name!r}",
                            decimals=True)


def _check_long_values(df, keys, feature_cols, target_col):
    """Refuse an empty table and missing or infinite values (repeated rows: _sorted)."""
    if len(df) == 0:
        raise ValueError("df has no rows; pass a table with at least one (id, time) row.")
    targets = [] if target_col is None else [target_col]
    for name, cols in (("id/time", keys), ("feature", feature_cols), ("target", targets)):
        # a missing target would be skipped by "last" (or become a NaN target) silently
        with_nan = [c for c in cols if df[c].isna().any()]
        if with_nan:
            raise ValueError(
                f"{name} columns {with_nan} contain missing values; fill or drop them."
                # a label on some rows of an id only (its last, say): dropping the rows
                # without one would drop their features, each sequence cut to a row
                + ("" if name != "target" else
                   " For a label given on some rows of an id only, fill it per id, "
                   f"df[{target_col!r}] = df.groupby({keys[0]!r})[{target_col!r}]"
                   ".transform('last'); dropping those rows would drop their features."))
    _check_id_types(df[keys[0]], keys[0])
    check_time_column(df[keys[1]], keys[1])
    infinite = [c for c in feature_cols if not np.isfinite(df[c].to_numpy(dtype=float)).all()]
    if infinite:
        raise ValueError(f"feature columns {infinite} contain infinite values; fill or drop them.")


def _check_id_types(ids, name):
    """Refuse ids that are a number and a text written alike (``1`` and ``"1"``, of
    ``pd.concat`` of tables read with integer and text ids): two ids, silently."""
    import pandas as pd  # (a DataFrame was given: pandas is installed)

    if not pd.api.types.infer_dtype(ids, skipna=True).startswith("mixed"):
        return
    seen = {}  # the ids by how they are written (a whole float as its int: 1.0 as "1")
    for value in ids.unique():
        whole = isinstance(value, Real) and not isinstance(value, bool) \
            and float(value).is_integer()
        other = seen.setdefault(str(int(value)) if whole else str(value), value)
        if isinstance(other, str) != isinstance(value, str):
            raise ValueError(
                f"id column {name!r} holds {other!r} and {value!r}, a number and a text "
                "written alike: two ids, each one's rows a sequence of its own. Give the "
                f"ids one type first, pd.to_numeric(df[{name!r}]) or .astype(str) (whole "
                "floats first as ints: 1.0 is written '1.0').")


def _sorted(df, keys):
    """The positions of ``df``'s rows (not labels: its index may repeat) in the order of
    ``df.sort_values(keys, kind="mergesort")``, and where each id's rows start there;
    repeated (id, time) rows (neighbours there) refused, and values of no order, naming
    their column (pandas' "'values' is not ordered, please explicitly specify..." does not)."""
    import pandas as pd  # (a DataFrame was given: pandas is installed)

    try:  # sort_values' keys, once (it, duplicated and != of the sorted ids hashed text
        # ids thrice): numbers, else codes of the sorted values (TypeError: no order)
        id_key, time_key = (df[c].to_numpy() if isinstance(df[c].dtype, np.dtype) and
                            df[c].dtype.kind in "biuf" else
                            pd.Categorical(df[c], ordered=True).codes for c in keys)
    except TypeError as exc:
        _check_repeated_pairs(df, keys, df.duplicated(keys, keep=False).to_numpy())
        unordered = [c for c in keys if not _can_sort(df[c])] or keys
        raise ValueError(
            f"columns {unordered} hold values of several kinds that cannot be ordered "
            "(e.g. times with and without a time zone, or times beside numbers); convert "
            f"them to one kind first, e.g. df[{unordered[-1]!r}] = "
            f"pd.to_datetime(df[{unordered[-1]!r}], utc=True)."
        ) from exc
    order = np.lexsort((time_key, id_key))  # (stable, as mergesort)
    id_key, time_key = id_key[order], time_key[order]
    new_id = np.r_[True, id_key[1:] != id_key[:-1]]
    # the rows of a pair are neighbours in that order; both named, in df's order
    repeated = np.r_[False, ~new_id[1:] & (time_key[1:] == time_key[:-1]), False]
    if repeated.any():
        _check_repeated_pairs(df, keys, (repeated[1:] | repeated[:-1])[np.argsort(order)])
    return order, new_id


def _check_repeated_pairs(df, keys, duplicated):
    """Refuse repeated (id, time) pairs, the ``duplicated`` rows (a bool array) of ``df``."""
    if duplicated.any():
        examples = df.loc[duplicated, keys].drop_duplicates().head(3).to_numpy().tolist()
        raise ValueError(
            f"df has several rows for the same ({keys[0]}, {keys[1]}) pair, e.g. {examples}; "
            # ("aggregate them first" alone named no way: rows read twice are the usual case)
            "drop rows repeated whole, df.drop_duplicates(), or aggregate them first, "
            f"df.groupby({keys!r}, as_index=False).mean()."
        )


def _can_sort(column):
    """Whether ``column``'s values can be put in order."""
    try:
        column.sort_values()
    except TypeError:
        return False
    return True


def _aggregate_target(targets, block, target_agg, ids, target_col):
    """The per-id target: ``target_agg`` of the ``targets`` of every ``block`` (of rows),
    as an array of one value per id (a transform, such as ``"cumsum"``, gave one per
    row: a ``y`` out of step with ``X`` and the ids, silently), each a value (an
    aggregation such as ``"std"`` of an id's one row gave NaN, silently; a function
    returning an array gave a ``y`` of arrays, silently)."""
    import pandas as pd  # (a DataFrame was given: pandas is installed)

    n_ids = len(ids)
    try:
        y = targets.groupby(block).agg(target_agg).to_numpy(copy=True)  # (writable: see X)
    except (AttributeError, TypeError, ValueError) as exc:
        if not isinstance(target_agg, str):  # raised by the user's function: theirs to see
            raise
        # pandas' word for an unknown aggregation name; TypeError and ValueError: one of
        # numbers over text, categories or times, pandas' "agg function failed
        # [how->mean,dtype->str]" (or "could not convert string to float"), no column named
        raise ValueError(
            f"target_agg={target_agg!r} is not a pandas aggregation; pass one such as "
            "'last', 'first', 'mean' or 'max', or a function of the per-id Series."
            if isinstance(exc, AttributeError) else
            f"target_agg={target_agg!r} cannot aggregate target column {target_col!r} of "
            f"dtype {targets.dtype} ({exc}); pass 'last' or 'first' for labels, or convert "
            "the column to numbers first."
        ) from exc
    if y.shape != (n_ids,):
        raise ValueError(
            f"target_agg={target_agg!r} gave targets of shape {y.shape}, not one per id "
            f"({n_ids}); pass an aggregation such as 'last' or 'mean', or a function that "
            "returns one value from the per-id Series."
        )
    # a sequence per id (a function returning s.to_numpy()[-3:]): y an array of arrays
    nested = [i for i, v in enumerate(y) if np.ndim(v)] if y.dtype == object else []
    if nested:
        raise ValueError(
            f"target_agg={target_agg!r} gave a sequence ({type(y[nested[0]]).__name__}) for id "
            f"{ids[nested[0]]!r}, not one value; pass a function that returns one value "
            "from the per-id Series, e.g. lambda s: s.iloc[-1] (to forecast several "
            "future values of a series, use make_windows(..., horizon=...)).")
    # (pd.isna: a nullable target's aggregate holds pd.NA, not NaN)
    missing = pd.isna(y) | (np.isinf(y) if y.dtype.kind == "f" else False)
    if missing.any():
        raise ValueError(
            f"target_agg={target_agg!r} gave NaN or infinite targets for ids "
            f"{ids[missing][:3].tolist()} ({int(missing.sum())} of {n_ids}): e.g. 'std' of "
            f"an id with one row, or infinite values in {target_col!r}. Pass another "
            "aggregation, or drop those ids or rows."
        )
    return y
