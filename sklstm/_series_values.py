"""The values of one series given to :func:`~sklstm.windows.make_windows`, as the
``(T, n_features)`` float array the windows are cut from, or an error that names what is
wrong and the fix: text, dates or other objects where numbers are expected, integers
float64 would round, missing or infinite values, and shapes of no series. Decimals are
numbers, read as float64 as the estimators read them; categories of numbers are those
numbers, as pandas and the estimators read them. (The feature columns of
:func:`~sklstm.windows.from_long_format` are read by the same rules, from here.)
(Its own module: the windows are cut in :mod:`sklstm.windows`, from these values.)
"""

from decimal import Context, Decimal
from numbers import Integral, Real

import numpy as np

from ._nullable import as_array, pandas_na_as_nan

__all__ = ["EXACT_INTEGERS", "categories_as_numbers", "decimal_columns_as_floats",
           "decimal_values", "dtype_hint", "is_whole_number", "not_numbers_hint",
           "numeric_categories", "series_values", "short_integer", "signaling_nan_as_nan"]


def series_values(series, name):
    """``series`` (an array-like of shape ``(T,)`` or ``(T, n_features)``, a pandas
    Series or DataFrame) as a float64 (float32 for float32) array of shape
    ``(T, n_features)``; ``name`` names it in the errors.

    Missing values (None, ``pd.NA``, NaN) among numbers are refused as such, placed, with
    the fix; objects that are no numbers (text, dates) with how to convert them.
    ``decimal.Decimal`` values (of a database's NUMERIC column) are numbers, as float64;
    categories of numbers (:func:`numeric_categories`) are those numbers, a missing one
    NaN (refused as such); categories of text are labels, refused with how to encode them.

    Examples
    --------
    >>> series_values([1, 2, None], "series")
    Traceback (most recent call last):
    ...
    ValueError: series contains NaN or infinite values (first at timestep 2); ...
    """
    # only pandas objects carry index labels and column names (a list has an .index method)
    is_pandas = hasattr(series, "iloc")
    series = categories_as_numbers(series)  # (as the estimators read them: one rule)
    columns = list(series.columns) if is_pandas and hasattr(series, "columns") else None
    if columns is not None:
        # dtypes, not series[c]: a duplicated name selects a DataFrame, which has no dtype.
        # A column of objects holding numbers with pd.NA or None (one built from a list)
        # holds numbers with missing values, refused as such below
        non_numeric = [j for j, dtype in enumerate(series.dtypes) if dtype.kind not in "biuf"
                       and not _numbers(_objects(series.iloc[:, j], dtype))]
        if non_numeric:
            first, label = series.iloc[:, non_numeric[0]], columns[non_numeric[0]]
            # a time column (a table read from a file) orders the rows: the index's place
            times = first.dtype.kind in "mM" or str(first.dtype).startswith("period")
            raise ValueError(
                f"{name} has non-numeric columns {[columns[j] for j in non_numeric]}; drop "
                "or encode them." + (
                    f" Column {label!r} holds times: make it the index, df.set_index("
                    f"{label!r}), which orders the windows (its order is checked)." if times
                    else dtype_hint(first.dtype, f"df[{label!r}]", f"Column {label!r}")
                    or not_numbers_hint(  # (text too: numbers written as text?)
                        first.to_numpy(dtype=object) if first.dtype.kind == "O" else None,
                        f"df[{label!r}]", decimals=True)))
    _check_exact_integers(series, name)
    values = as_array(series)  # (nullable columns as their numbers: Float32 as float32)
    # (a DataFrame's columns are numbers, as checked above; a Series has one dtype)
    numeric = all(d.kind in "biuf" for d in series.dtypes) if columns is not None else (
        is_pandas and series.dtype.kind in "biuf")
    if values.dtype == object and numeric:
        # pandas' own conversion gives objects for numbers of several kinds (a bool
        # column beside float ones) and for nullable columns with pd.NA, numbers all
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    elif values.dtype == object:
        # numbers with None (a JSON null) or pd.NA in a list: missing values, named as
        # such by the check below, where the objects were refused as "must be numeric"
        values = pandas_na_as_nan(values)
        if _numbers(values):
            # (None becomes NaN, a Decimal its float, as the estimators read both; a
            # signaling NaN, which float() refuses, a NaN too: both refused below)
            values = signaling_nan_as_nan(values).astype(np.float64)
    # the categories left are no numbers' (of numbers: read above): labels, refused as
    # a DataFrame's column is (objects of numbers in values, Decimals say, passed)
    categorical = is_pandas and columns is None and str(series.dtype) == "category"
    if values.dtype.kind not in "biuf" or categorical:
        # (a pandas Series' dtype: categories of text are objects in values)
        dtype = series.dtype if is_pandas and columns is None else values.dtype
        raise ValueError(f"{name} must be numeric, got dtype {dtype}."
                         + (dtype_hint(dtype, "series", times_hint=_TIMES_AS_INDEX)
                            or not_numbers_hint(values, decimals=True)))
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
    # (copy=False: the windows are copied from it, and a float64 series was copied twice)
    values = values.astype(np.float32 if values.dtype == np.float32 else np.float64,
                           copy=False)
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
    return values


def numeric_categories(dtype):
    """Whether ``dtype`` is pandas' categorical dtype with categories of numbers (ints,
    floats, bools, nullable ones): its column holds those numbers, as pandas reads it
    (``to_numpy``), and scikit-learn's ``check_array``, so the estimators."""
    categories = getattr(getattr(dtype, "categories", None), "dtype", None)
    return str(dtype) == "category" and categories is not None and getattr(
        categories, "numpy_dtype", categories).kind in "biuf"


def categories_as_numbers(table):
    """The pandas Series or DataFrame ``table`` with its columns of categories of numbers
    (:func:`numeric_categories`) as the numbers they hold, a missing one as NaN (refused
    as missing by the caller, as by the estimators); anything else as it is. Categories
    of text are labels, left to be refused with the way to encode them.

    Examples
    --------
    >>> import pandas as pd
    >>> categories_as_numbers(pd.Series(pd.Categorical([2, None, 2]))).tolist()
    [2.0, nan, 2.0]
    """
    if not hasattr(table, "iloc"):
        return table
    if table.ndim == 1:
        import pandas as pd  # (a pandas object was given: pandas is installed)

        return pd.Series(table.to_numpy(), index=table.index, name=table.name) \
            if numeric_categories(table.dtype) else table
    numeric = [j for j, dtype in enumerate(table.dtypes) if numeric_categories(dtype)]
    if not numeric:
        return table
    table = table.copy(deep=False)  # (the user's table keeps its categories)
    for j in numeric:  # (by position: a repeated column name selects several)
        table.isetitem(j, table.iloc[:, j].to_numpy())
    return table


def decimal_values(column):
    """The values of the pandas ``column`` as an array of objects where they are
    ``decimal.Decimal`` numbers (a database's NUMERIC column), with other numbers, None or
    ``pd.NA`` beside them; else None."""
    # (categories of numbers are objects to pandas' kind: not read one by one, which took
    # five times from_long_format's time)
    if column.dtype.kind != "O" or numeric_categories(column.dtype):
        return None
    values = pandas_na_as_nan(column.to_numpy(dtype=object))
    if not any(isinstance(v, Decimal) for v in values) or not all(
            v is None or isinstance(v, (Real, Decimal)) for v in values):
        return None
    return values


def decimal_columns_as_floats(df, columns):
    """The DataFrame ``df`` with those of its ``columns`` (names) that hold decimals as
    float64, as make_windows and the estimators read them (a signaling NaN as NaN,
    refused as missing with the rest); whole numbers float64 would round are refused,
    as integers are."""
    converted = {}
    for c in columns:
        values = decimal_values(df[c])
        if values is None:
            continue
        beyond = next((v for v in values if is_whole_number(v) and abs(v) > EXACT_INTEGERS),
                      None)
        if beyond is not None:
            raise ValueError(
                f"feature column {c!r} holds the whole number {short_integer(beyond)}, beyond "
                "2**53, which float64 would round silently; subtract a reference first, or "
                f"convert the column to accept the rounding, df[{c!r}].astype(float).")
        converted[c] = signaling_nan_as_nan(values).astype(np.float64)
    if not converted:
        return df
    df = df.copy(deep=False)  # (the user's table keeps its decimals)
    for c, values in converted.items():
        df[c] = values
    return df


def _objects(column, dtype):
    """The pandas ``column`` as an array of objects, ``pd.NA`` as NaN; None for a column
    of another dtype (text, dates, categories: their dtype says what they hold)."""
    if not (isinstance(dtype, np.dtype) and dtype.kind == "O"):
        return None
    return pandas_na_as_nan(column.to_numpy())


def _numbers(values):
    """Whether the object array ``values`` holds numbers (decimals too) and None only."""
    return values is not None and all(v is None or isinstance(v, (Real, Decimal))
                                      for v in values.ravel())


def signaling_nan_as_nan(values):
    """The ndarray ``values`` of dtype object with its ``decimal.Decimal`` signaling NaNs
    as NaN, which ``float()`` reads (numpy's "cannot convert signaling NaN to float"
    otherwise, where a NaN is refused as a missing value, placed); anything else as it is.

    Examples
    --------
    >>> from decimal import Decimal
    >>> signaling_nan_as_nan(np.array([Decimal("1.5"), Decimal("sNaN")], dtype=object))
    array([Decimal('1.5'), nan], dtype=object)
    """
    if not isinstance(values, np.ndarray) or values.dtype != object:
        return values
    signaling = np.asarray(np.frompyfunc(
        lambda v: isinstance(v, Decimal) and v.is_snan(), 1, 1)(values), dtype=bool)
    return np.where(signaling, np.nan, values) if signaling.any() else values


def not_numbers_hint(values, name="series", rows="timestep", subject="It", decimals=False):
    """What the first value of the object array ``values`` that is no number is, where,
    and how to convert it: ``name``, the thing to convert, ``rows``, what its rows are,
    ``subject``, what the hint calls it, ``decimals``, whether ``decimal.Decimal`` values
    count as numbers (:func:`series_values` reads them); ``""`` for no array of objects.

    Examples
    --------
    >>> from decimal import Decimal
    >>> print(not_numbers_hint(np.array([1.5, Decimal("2.5")], dtype=object)))
     It holds Decimal values (Decimal('2.5') at timestep 1) where numbers are expected: \
convert them to floats, np.asarray(series, dtype=float) (series.astype(float) for pandas).
    """
    if values is None or values.dtype != object:
        return ""
    # an object array (or pandas Series) of arrays: several series, one per item
    if any(np.ndim(v) > 0 for v in values.ravel()):
        return f" {subject} holds arrays: pass several series as a list, list(series)."
    numbers = (Real, Decimal) if decimals else Real
    found = next(((at, v) for at, v in np.ndenumerate(values)
                  if not (v is None or isinstance(v, numbers))), None)
    if found is None:  # (categories of numbers: their dtype is no number's)
        return ""
    at, value = found
    where = f"{rows} {at[0]}" + ("" if len(at) == 1 else f", column {at[1]}")
    # (Decimal: no Real, as numbers sees it, and float() of it rounds: the user's call)
    fix = (f"convert them to floats, np.asarray({name}, dtype=float) ({name}.astype(float) "
           "for pandas)" if isinstance(value, Decimal) else
           f"if they are numbers written as text, convert them, pd.to_numeric({name}) "
           "(errors='coerce' makes the rest NaN, to fill)"
           if isinstance(value, (str, bytes)) else
           "drop or encode the values that are no numbers")
    return (f" {subject} holds {type(value).__name__} values ({value!r} at {where}) where numbers "
            f"are expected: {fix}.")


#: What :func:`dtype_hint` says of times in a series to window: the values measured at
#: them are the series (the times of a table's column given alone, ``df["date"]``).
_TIMES_AS_INDEX = ("pass the values measured at these times, with the times as their "
                   "index (df.set_index(time_column), pd.Series(values, index=times)), "
                   "which orders the windows")


def dtype_hint(dtype, name="series", subject="It", times_hint=None):
    """How to make numbers of values of ``dtype`` whose values alone do not say it:
    categories (of text that ``pd.to_numeric``, the fix for text, cannot read), times
    (``times_hint``, else encode them) and complex numbers; ``""`` for other dtypes.
    ``name``: the thing to convert; ``subject``: what the hint calls it.

    Examples
    --------
    >>> print(dtype_hint(np.dtype("complex128")))
     It holds complex numbers: pass their real and imaginary parts as two columns, \
np.c_[series.real, series.imag], or their magnitude, np.abs(series).
    """
    kind = getattr(dtype, "kind", "")
    if str(dtype) == "category":
        return (f" {subject} is categorical: encode its categories as numbers, "
                f"{name}.cat.codes (or one column each, pd.get_dummies), or "
                f"{name}.astype(float) where they are numbers.")
    if kind == "m":  # (durations: values to read as numbers, not times to order by)
        return (f" {subject} holds durations: convert them to numbers, e.g. seconds, "
                f"{name} / pd.Timedelta('1s').")
    if kind == "M" or str(dtype).startswith("period"):
        return f" {subject} holds times: " + (times_hint or (
            f"encode them as numbers, e.g. seconds since the first, ({name} - "
            f"{name}.min()) / pd.Timedelta('1s'), or calendar features ({name}.dt.hour), "
            "or drop them")) + "."
    if kind == "c":
        return (f" {subject} holds complex numbers: pass their real and imaginary parts "
                f"as two columns, np.c_[{name}.real, {name}.imag], or their magnitude, "
                f"np.abs({name}).")
    return ""


#: Integers beyond this magnitude are not all exact in float64, the windows' dtype.
EXACT_INTEGERS = 2**53


def _check_exact_integers(series, name):
    """Refuse integers that float64 would round (nanosecond timestamps, ids, counters:
    ``2**53 + 1`` came out as ``2**53``, silently; whole decimals too), naming the first
    and the fix."""
    if hasattr(series, "iloc"):
        frame = series.to_frame() if series.ndim == 1 else series
        labels = [f" (column {c!r})" for c in frame.columns] if series.ndim == 2 else [""]
        columns = [frame.iloc[:, j] for j in range(frame.shape[1])]
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
        # (pandas' dropna of a nullable column's pd.NA; not of objects, whose
        # Decimal('sNaN') it fails on with decimal's bare InvalidOperation)
        column = column.dropna() if kind in "iu" and hasattr(column, "dropna") else column
        if kind not in "iuO" or not len(column):
            continue
        whole = [int(v) for v in (column.min(), column.max())] if kind != "O" else [
            v for v in column if is_whole_number(v)]
        beyond = [v for v in whole if abs(v) > EXACT_INTEGERS]
        if beyond:
            raise ValueError(
                f"{name} holds the integer {short_integer(beyond[0])}{label}, beyond 2**53: "
                "the windows are float64, which would round it silently. Subtract a "
                "reference first (series - series.min(); timestamps as differences, "
                "series.diff()), or cast to float yourself to accept the rounding "
                "(series.astype(float)).")


def is_whole_number(value):
    """Whether ``value`` is an int (no bool) or a finite whole ``decimal.Decimal``."""
    return (isinstance(value, Integral) and not isinstance(value, bool)) or (
        isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value())


def short_integer(integer):
    """The whole number ``integer`` (an int or Decimal) as written where it has at most
    20 digits, else to 6 significant digits: ``Decimal('1E+400')`` was printed as its
    401 digits (and an int of over 4300 digits is a ValueError of ``str()``).

    Examples
    --------
    >>> short_integer(2**53 + 1), short_integer(Decimal("1E+400")), short_integer(-3**900)
    ('9007199254740993', '1E+400', '-2.56525E+429')
    """
    value = Decimal(integer)
    if value.adjusted() < 20:
        return str(int(value))
    return str(value.normalize(Context(prec=6)))
