"""Numbers that numpy reads as objects, as numpy numbers: pandas' nullable columns
(``Float64``, ``Int64``, ``boolean``) and object arrays of numbers, missing values
(``pd.NA``, None, the masked values of a masked array) as NaN.

The sequence checks refused such arrays as non-numeric (and ``float()`` refuses
``pd.NA``), where scikit-learn's ``check_array`` converts a 2D or 3D X of them itself.
The sequences of a list, token ids and the values a NaN error places are converted
here the same way, so NaN is then placed and refused as a missing value.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["as_array", "masked_as_nan", "nullable_as_numpy", "object_numbers",
           "pandas_na_as_nan"]


def masked_as_nan(values):
    """A numpy masked array as an ndarray with NaN where it is masked (its numbers in
    float64 for integers and booleans, floats in their own dtype); anything else as it is.

    ``np.asarray`` (and so scikit-learn's ``check_array``) reads a masked array as the
    values under its mask, silently: a masked gap trained (or was windowed) as whatever
    number was left there. As NaN it is refused as a missing value, placed.

    Examples
    --------
    >>> masked_as_nan(np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]))
    array([ 1., nan,  3.])
    """
    if not isinstance(values, np.ma.MaskedArray):
        return values
    if not np.ma.getmaskarray(values).any() or values.dtype.kind not in "biufc":
        return np.asarray(values.data)  # (text and the like: refused as such later)
    kind = values.dtype.kind
    return values.astype(values.dtype if kind in "fc" else np.float64).filled(np.nan)


def as_array(values):
    """``values`` as an ndarray: a pandas object whose columns hold numbers (nullable
    ones too) as those numbers, ``pd.NA`` as NaN; anything else as ``np.asarray``
    reads it (a pandas object's ``pd.NA`` among objects, and a masked array's masked
    values, as NaN).

    Examples
    --------
    >>> import pandas as pd
    >>> as_array(pd.Series([1, 2], dtype="Int64"))
    array([1, 2])
    >>> as_array(pd.DataFrame({"a": [1.5, None]}, dtype="Float64"))
    array([[1.5],
           [nan]])
    >>> as_array(pd.Series(["a", None], dtype="string")).dtype
    dtype('O')
    """
    if not hasattr(values, "iloc"):
        return np.asarray(masked_as_nan(values))
    dtypes = list(values.dtypes) if hasattr(values, "columns") else [values.dtype]
    # (a nullable dtype names the numpy dtype of its numbers; text and dates have none)
    numbers = [d if isinstance(d, np.dtype) else getattr(d, "numpy_dtype", None)
               for d in dtypes]
    if all(isinstance(d, np.dtype) for d in dtypes) or any(
            d is None or d.kind not in "biuf" for d in numbers):
        # (objects: pd.NA as NaN, of a nullable column beside them too)
        return pandas_na_as_nan(np.asarray(values))
    dtype = np.result_type(*numbers)
    if values.isna().to_numpy().any():
        # NaN for pd.NA: in the floats' own dtype (Float32 stays float32, as float32
        # input does), integers and booleans in float64, which holds them exactly
        dtype = dtype if dtype.kind == "f" else np.result_type(dtype, np.float64)
        return values.to_numpy(dtype=dtype, na_value=np.nan)
    return values.to_numpy(dtype=dtype)


def nullable_as_numpy(values):
    """A pandas Series or DataFrame with a column of pandas' nullable numbers (``Int64``,
    ``boolean``, ``Float32``) as the ndarray of those numbers (:func:`as_array`: their own
    numpy dtype, ``pd.NA`` as NaN); anything else as it is.

    For targets: scikit-learn's checks convert such a column to float64 (a ``boolean``
    ``y`` gave ``classes_`` ``[0., 1.]`` and predictions of 1.0 for True, an ``Int64``
    one 3.0 for 3), and read one with ``pd.NA`` as objects ("Input y contains NaN",
    neither placed nor with a fix).

    Examples
    --------
    >>> import pandas as pd
    >>> nullable_as_numpy(pd.Series([True, False], dtype="boolean"))
    array([ True, False])
    >>> nullable_as_numpy(pd.Series([3, None], dtype="Int8"))
    array([ 3., nan])
    >>> type(nullable_as_numpy(pd.Series(["a"], dtype="string"))).__name__  # (text)
    'Series'
    """
    if not hasattr(values, "iloc"):
        return values
    dtypes = list(values.dtypes) if hasattr(values, "columns") else [values.dtype]
    return as_array(values) if any(map(_nullable_numbers, dtypes)) else values


def object_numbers(seq):
    """The ndarray ``seq`` of dtype object as float64 when it holds numbers (None and
    ``pd.NA`` as NaN), as ``check_array`` converts a 2D or 3D X; else as it is (text, a
    whole sequence in a cell: refused as such by the caller).

    Examples
    --------
    >>> object_numbers(np.array([[1, None], [2.5, True]], dtype=object))
    array([[1. , nan],
           [2.5, 1. ]])
    >>> object_numbers(np.array([["a", 1]], dtype=object)).dtype
    dtype('O')
    """
    if seq.dtype != object:
        return seq
    try:
        return seq.astype(np.float64)
    except (TypeError, ValueError):
        pass
    try:
        return pandas_na_as_nan(seq).astype(np.float64)
    except (TypeError, ValueError):
        return seq


def pandas_na_as_nan(values):
    """``values`` with ``pd.NA`` as NaN where numpy reads them as objects: an ndarray,
    list or tuple of dtype object as such an ndarray; anything else as it is.

    ``DataFrame.to_numpy()`` of a nullable column gives such an array, and ``float()``
    refuses ``pd.NA`` (a bare TypeError, or "non-numeric dtype object" for a sequence of
    a list) where it takes None for NaN. A list comes back an array (when of objects):
    ``check_array(dtype="numeric")`` converts an array of objects to numbers, but leaves
    a list of them objects (None, text and all).

    Examples
    --------
    >>> import pandas as pd
    >>> pandas_na_as_nan(np.array([1, pd.NA, None], dtype=object))
    array([1, nan, None], dtype=object)
    >>> pandas_na_as_nan([[1.0, None]]), pandas_na_as_nan([[1.0, 2.0]])
    (array([[1.0, None]], dtype=object), [[1.0, 2.0]])
    """
    if isinstance(values, (list, tuple)):
        array = np.asarray(values)
        if array.dtype != object:
            return values
        values = array
    pandas = sys.modules.get("pandas")  # (no pd.NA exists where pandas is not imported)
    if pandas is not None and isinstance(values, pandas.DataFrame):
        return _frame_na_as_nan(values)
    if (pandas is None or not isinstance(values, np.ndarray) or values.dtype != object
            or values.size == 0):
        return values
    # `is`, per value: np.equal or pd.isna would compare (or look into) what the cells
    # hold, a whole sequence in a cell among them
    # (np.asarray: a 0D array's result is a bare bool)
    missing = np.asarray(np.frompyfunc(lambda value: value is pandas.NA, 1, 1)(values),
                         dtype=bool)
    if not missing.any():
        return values
    values = values.copy()
    values[missing] = np.nan
    return values


def _nullable_numbers(dtype):
    """Whether ``dtype`` is one of pandas' nullable dtypes of numbers (``Float32``,
    ``Int64``, ``boolean``): it names the numpy dtype of its numbers; numpy's do not."""
    return getattr(getattr(dtype, "numpy_dtype", None), "kind", None) in tuple("biuf")


def _text_with_pd_na(dtype):
    """Whether ``dtype`` is pandas' ``"string"`` dtype, whose missing value is ``pd.NA``
    (that of pandas 3's default ``"str"`` is NaN, which numpy reads as NaN already)."""
    pandas = sys.modules["pandas"]
    return isinstance(dtype, pandas.StringDtype) and dtype.na_value is pandas.NA


def _frame_na_as_nan(frame):
    """The DataFrame ``frame`` with ``pd.NA`` as NaN in its columns of dtype object and
    of text (numpy refuses ``pd.NA`` among objects: a bare "float() argument must be ...
    not 'NAType'"), and its nullable columns of numbers as numpy columns (:func:`as_array`):
    scikit-learn converts them itself, but to the first dtype it is given (a ``Float32``
    column became float64 where a float32 one stays float32)."""
    if len(frame.columns) and all(map(_nullable_numbers, frame.dtypes)):
        # (nullable all: one conversion, not one per column)
        return type(frame)(as_array(frame), index=frame.index, columns=frame.columns)
    converted = {}
    for j, dtype in enumerate(frame.dtypes):
        if isinstance(dtype, np.dtype) and dtype.kind == "O":
            column = frame.iloc[:, j].to_numpy()
            fixed = pandas_na_as_nan(column)
            if fixed is not column:  # (a copy only where pd.NA was)
                converted[j] = fixed
        elif _nullable_numbers(dtype):
            converted[j] = as_array(frame.iloc[:, j])
        elif _text_with_pd_na(dtype) and frame.iloc[:, j].isna().any():
            # numbers as text ("string" columns, which scikit-learn converts) beside
            # pd.NA, which its float() refused in a bare TypeError: NaN, placed as such
            converted[j] = frame.iloc[:, j].to_numpy(dtype=object, na_value=np.nan)
    if not converted:
        return frame
    frame = frame.copy(deep=False)
    # by position (names may repeat), all at once (one column at a time, 5,000 Float32
    # columns took 2 s)
    frame.isetitem(list(converted), type(frame)(converted, index=frame.index))
    return frame
