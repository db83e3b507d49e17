"""The words of input errors that several checks of :mod:`~sklstm.data.validation`
raise: no sample, another feature count, no sequence form, a whole sequence in a
table's cell, text, complex numbers, times (and targets of times, periods or
intervals), sparse data, NaN or infinity. Each names the problem and the fix."""

from __future__ import annotations

import sys

import numpy as np

from .._nullable import as_array
from .._series_values import signaling_nan_as_nan

__all__ = ["check_array_error", "complex_error", "feature_count_error", "no_samples_error",
           "non_finite_error", "non_numeric_columns", "sequence_cells_error", "sparse_error",
           "target_values_error", "time_values_error", "token_table_error", "wrong_form_error"]


def no_samples_error(estimator_name, shape=(0,)):
    """The error for input holding no sequence, worded as scikit-learn's ``check_array``."""
    return ValueError(
        f"Found array with 0 sample(s) (shape={tuple(shape)}) while a minimum of 1 is "
        f"required by {estimator_name}."
    )


def complex_error(exc, name="X"):
    """The error for complex numbers in ``name`` (``"X"`` or ``"y"``), for
    scikit-learn's ``exc`` ("Complex data not supported" and the whole array); None for
    another error. It starts as scikit-learn's does (its estimator checks match that).

    Examples
    --------
    >>> str(complex_error(ValueError("Complex data not supported [1.+1.j]")))[:51]
    'Complex data not supported: X holds complex numbers'
    >>> complex_error(ValueError("could not convert")) is None
    True
    """
    if "Complex data not supported" not in str(exc):
        return None
    reads, parts = ("reads", "features") if name == "X" else ("predicts", "outputs")
    return ValueError(
        f"Complex data not supported: {name} holds complex numbers; the network {reads} "
        f"real ones: pass their real and imaginary parts as two {parts} "
        f"(np.stack([{name}.real, {name}.imag], axis=-1)), or their magnitude "
        f"(np.abs({name})).")


def time_values_error(values, sequence=None):
    """The TypeError for datetimes, timedeltas, or pandas' periods or intervals in
    ``values`` (an array or DataFrame X, or with ``sequence`` its number, one sequence of
    a list); None for none of them.

    scikit-learn's ``check_array`` read a 2D or 3D array of datetimes as counts of their
    unit, silently: nanoseconds near 1.7e18, of which float32 keeps no day, let alone an
    hour; a list's sequences were "non-numeric" with a fix for categories. Periods and
    intervals were ``float()``'s bare TypeError ("not 'Period'").

    Examples
    --------
    >>> str(time_values_error(np.zeros((2, 3), dtype="datetime64[s]")))[:44]
    'X holds datetimes (datetime64[s]), where num'
    >>> time_values_error(np.zeros((2, 3))) is None
    True
    """
    columns = list(values.columns) if hasattr(values, "columns") else [None]
    dtypes = list(values.dtypes) if hasattr(values, "columns") else [
        getattr(values, "dtype", None)]
    found = [(c, d, kind) for j, (c, d) in enumerate(zip(columns, dtypes, strict=True))
             if (kind := _time_kind(d, values if c is None else values.iloc[:, j]))]
    if not found:
        return None
    column, dtype, what = found[0]
    where = "X" if sequence is None else f"Sequence {sequence} of X"
    return TypeError(
        f"{where} holds {what} ({dtype}"
        + ("" if column is None else f", in column {column!r}")
        + "), where numbers are expected"
        + (_SPANS[what] if what in _SPANS else
           ": read as numbers they are counts of their time unit"
           + (" since 1970, of which float32 keeps neither the day nor the hour"
              if what == "datetimes" else "")
           + ". Pass them as numbers in a unit that suits them: durations as "
           "X / np.timedelta64(1, 's'), times as the seconds since the sequence's start, "
           "or as calendar features (hour, weekday)."))


#: What to pass for pandas' periods and intervals, which no array of numbers holds.
_SPANS = {"periods": ". Pass them as numbers: their counts of the period's unit since "
                     "1970, column.astype('int64') (less the first, for small numbers), "
                     "or as calendar features (month, quarter).",
          "intervals": ". Pass them as numbers: their midpoints, pd.IntervalIndex(column)"
                       ".mid, or their left and right ends as two features."}


def _time_kind(dtype, values):
    """What ``values`` of ``dtype`` hold, "datetimes", "timedeltas", "periods" or
    "intervals"; None for anything else."""
    kind = getattr(dtype, "kind", None)
    if kind in ("M", "m"):
        return "datetimes" if kind == "M" else "timedeltas"
    pandas = sys.modules.get("pandas")  # (no periods exist where pandas is not imported)
    if pandas is None:
        return None
    if isinstance(dtype, pandas.PeriodDtype):
        return "periods"
    if isinstance(dtype, pandas.IntervalDtype):
        return "intervals"
    if not (isinstance(dtype, np.dtype) and dtype.kind == "O") or np.size(values) == 0:
        return None
    # (objects: a scan of their types, in pandas' C; numbers and text are left as they
    # are, to be converted or refused in their own words)
    inferred = pandas.api.types.infer_dtype(np.asarray(values, dtype=object).ravel())
    return {"period": "periods", "interval": "intervals"}.get(inferred)


#: What pandas reads in ``y`` (``infer_dtype``) that no estimator reads as targets, and
#: the numbers to pass for a regression. (Dates of numpy's or pandas' own dtypes are
#: the regressor's to refuse, and a classifier's labels.)
_NO_TARGETS = {
    "period": ("periods", "their counts of the period's unit since 1970, "
                          "pd.Series(y).astype('int64')"),
    "interval": ("intervals", "their midpoints, pd.IntervalIndex(y).mid"),
    **dict.fromkeys(("datetime", "datetime64", "date"), (
        "dates", "in a unit of your choice, e.g. (pd.to_datetime(y) - start) / "
                 "pd.Timedelta(hours=1) for hours since a date start")),
    **dict.fromkeys(("timedelta", "timedelta64"), (
        "durations", "in a unit of your choice, e.g. pd.to_timedelta(y) / "
                     "pd.Timedelta(hours=1) for hours")),
}


#: Dates and durations as Python objects in a classifier's ``y``: what they are, and
#: the numpy dtype and pandas call that make them labels.
_TIME_LABELS = {
    **dict.fromkeys(("datetime", "date"), ("dates", "datetime64", "pd.to_datetime(y)")),
    "timedelta": ("durations", "timedelta64", "pd.to_timedelta(y)"),
}


def target_values_error(y, labels=False):
    """The ValueError for pandas periods or intervals in the targets ``y`` (a column of
    their dtype, or an array of their objects), or dates or durations as objects; None
    for none. scikit-learn's checks raised a bare TypeError of ``float()`` for a
    regressor's, and called a classifier's "unknown", with the regressor as the fix.
    With ``labels`` (a classifier's ``y``), dates and durations as objects are told to
    become numpy's, which are labels (scikit-learn's ``type_of_target`` calls Python's
    "unknown", and its metrics and splitters refuse them).

    Examples
    --------
    >>> import pandas as pd
    >>> str(target_values_error(pd.Series(pd.period_range("2024-01", periods=3))))[:41]
    'y holds periods (dtype period[D]), which '
    >>> target_values_error(np.arange(3.0)) is None
    True
    """
    pandas = sys.modules.get("pandas")  # (no periods exist where pandas is not imported)
    if pandas is None:
        return None
    for column in ([y.iloc[:, j] for j in range(y.shape[1])] if hasattr(y, "columns")
                   else [y]):
        dtype = getattr(column, "dtype", None)
        if isinstance(dtype, (pandas.PeriodDtype, pandas.IntervalDtype)):
            kind = "period" if isinstance(dtype, pandas.PeriodDtype) else "interval"
        elif getattr(dtype, "kind", "O") != "O":
            continue  # (numbers, text, dates of numpy's or pandas' dtypes)
        else:  # (a list, an array of objects: a scan of their types, in pandas' C)
            kind = pandas.api.types.infer_dtype(np.asarray(column, dtype=object).ravel())
            dtype = "object"
        if labels and kind in _TIME_LABELS:
            what, numpy_dtype, pandas_call = _TIME_LABELS[kind]
            return ValueError(
                f"y holds {what} as Python objects (dtype {dtype}), which scikit-learn "
                "reads as no class labels (type_of_target: 'unknown'): pass them as "
                f"numpy's, np.asarray(y, dtype={numpy_dtype!r}) ({pandas_call} for "
                "pandas), which the classifier takes as labels and predicts as such, or "
                "their text, pd.Series(y).astype(str).")
        if kind in _NO_TARGETS:
            what, numbers = _NO_TARGETS[kind]
            return ValueError(
                f"y holds {what} (dtype {dtype}), which are neither numbers nor class "
                f"labels: pass numbers to regress on, {numbers}, or their text as class "
                "labels, pd.Series(y).astype(str).")
    return None


def non_numeric_columns(frame):
    """`` (in columns [...])``: the columns of the DataFrame ``frame`` that hold no
    numbers (nullable ones hold numbers), for an error about it; "" for no DataFrame."""
    if not hasattr(frame, "columns"):
        return ""
    names = [c for c, d in zip(frame.columns, frame.dtypes, strict=True)
             if getattr(getattr(d, "numpy_dtype", d), "kind", "O") not in tuple("biuf")]
    return f" (in columns {names})" if names else ""


def sparse_error(estimator_name, X):
    """The TypeError for sparse ``X``: a scipy sparse matrix, a list of them, or a
    DataFrame with sparse columns (scikit-learn's "fill value must be 0 when converting
    to COO matrix" for the NaN-filled ones, pandas' default); None for dense ``X``."""
    import scipy.sparse as sp

    why = "sparse matrices hold no time axis"
    # issparse asks of the type: asked of one sequence of each type, not of every one
    # (6% of a fit's setup on 100,000 token arrays)
    kinds = dict(zip(map(type, X), X, strict=True)) if isinstance(X, (list, tuple)) else {}
    if any(map(sp.issparse, kinds.values())):
        fix = "a list of 2D sequences ([s.toarray() for s in X])"
    elif sp.issparse(X):
        fix = "a dense array (X.toarray())"
    elif hasattr(X, "columns") and any(
            type(dtype).__name__ == "SparseDtype" for dtype in X.dtypes):  # (pandas')
        why, fix = "X has sparse columns", "a dense DataFrame (X.astype(float))"
    else:
        return None
    return TypeError(f"{estimator_name} does not accept sparse input: {why}. Pass {fix}.")


def non_finite_error(values, sequence=None):
    """The ValueError for NaN or infinity in ``values``, placed and with its fix.

    scikit-learn's words ("Input X contains NaN") are kept as the start; its advice
    (HistGradientBoosting, an imputer) reads no sequences. ``values`` is a 2D or 3D X,
    or with ``sequence`` its number, one sequence of a list; it holds a non-finite
    value.

    Examples
    --------
    >>> X = np.zeros((2, 3, 1)); X[1, 2, 0] = np.nan
    >>> str(non_finite_error(X))[:60]
    'Input X contains NaN at sample 1, timestep 2, feature 0: fil'
    """
    values = np.asarray(as_array(values))  # (pd.NA as NaN)
    if values.dtype.kind not in "fc":  # (objects: numbers as text, None; float32 stays)
        values = signaling_nan_as_nan(values).astype(np.float64)
    where = _first_non_finite(values)
    axes = ("sample", "timestep", "feature")[:values.ndim] if sequence is None else (
        "timestep", "feature")[:values.ndim]
    position = ", ".join(f"{axis} {i}" for axis, i in zip(axes, where, strict=True))
    if sequence is not None:
        position = f"sequence {sequence}, {position}"
    if np.isnan(values[where]):
        return ValueError(
            f"Input X contains NaN at {position}: fill missing values along time within "
            "each sequence (forward fill, interpolation), or drop the samples holding "
            "them. Sequences of different lengths are passed as a list of "
            "(n_timesteps, n_features) arrays, not padded with NaN.")
    return ValueError(
        f"Input X contains infinity at {position}; replace infinite values (often a "
        "division by zero upstream) with finite ones, or drop the samples holding them.")


#: Values of ``X`` :func:`_first_non_finite` looks at together (a mask of 4 MiB).
SCAN_BLOCK = 1 << 22


def _first_non_finite(values):
    """The index of the first value of the ndarray ``values`` that is not finite (it
    holds one), read a block of samples at a time.

    A mask of the whole, and ``np.argwhere``'s list of every such position, held 8
    times the memory of float32 ``X`` padded with NaN (191 MiB: 1.5 GiB) just to say
    where its first NaN is (and a float64 copy of it before that).
    """
    rows = max(1, SCAN_BLOCK // max(1, values.size // max(1, len(values))))
    for start in range(0, len(values), rows):
        bad = ~np.isfinite(values[start:start + rows])
        if bad.any():
            where = np.unravel_index(int(np.argmax(bad)), bad.shape)
            return (start + int(where[0]), *map(int, where[1:]))
    raise ValueError("values holds no value that is not finite")  # (a guard: the caller's)


def feature_count_error(n_features, estimator_name, expected, hint=""):
    """The error for data whose feature count differs from the fitted one.

    It starts with scikit-learn's words (its estimator checks match them), then says
    the fix: ``hint``, the likelier layout of the data and how to pass it, where one is
    known; else the fitted features per timestep, which scikit-learn's words leave
    unsaid as the fix for 3D and ragged X.

    Examples
    --------
    >>> str(feature_count_error(3, "LSTMClassifier", 2))
    'X has 3 features, but LSTMClassifier is expecting 2 features as input. Pass \
sequences with the 2 features per timestep of the fit, in its order.'
    """
    if not hint:
        features = "feature" if expected == 1 else "features"
        hint = (f" Pass sequences with the {expected} {features} per timestep of the fit, "
                "in its order.")
    return ValueError(
        f"X has {n_features} features, but {estimator_name} is expecting {expected} "
        f"features as input.{hint}"
    )


def _sequence_cell(X):
    """``(index, cell)`` of the first cell of the array or DataFrame ``X`` that holds a
    sequence (an array, list...) rather than a number; None when no cell does."""
    cells = X.to_numpy(dtype=object) if hasattr(X, "iloc") else np.asarray(X, dtype=object)
    for index, cell in np.ndenumerate(cells):
        if np.ndim(cell) > 0:
            return index, cell
    return None


def sequence_cells_error(X, cells=None):
    """The ValueError for a table ``X`` (a DataFrame or an array of objects) with a
    whole sequence in a cell, saying how to pass such sequences instead; None when no
    cell holds one.

    A column of per-sample arrays (``df["signal"]``) is a ragged form, but a DataFrame
    or 2D object array holding it is read as numbers, one per timestep: numpy's
    "setting an array element with a sequence" otherwise, naming neither the cell nor
    the fix. ``cells`` is ``X`` as an array, where the caller has made it already.
    """
    found = _sequence_cell(X if cells is None else cells)
    if found is None:
        return None
    index, cell = found
    where = f"X[{', '.join(map(str, index))}]"
    if hasattr(X, "columns") and len(index) == 2:
        where = f"row {index[0]} of column {X.columns[index[1]]!r}"
    return ValueError(
        f"X holds a sequence of shape {np.shape(cell)} in a cell ({where}), where a number "
        "is expected: a table's columns are read as timesteps. Pass the sequences as a "
        "list or a pandas Series of per-sample arrays instead: list(df[column]) for a "
        "column of (n_timesteps, n_features) arrays (or of 1D token ids), "
        "[np.column_stack(row) for row in df.to_numpy()] for one column per feature of "
        "1D arrays."
    )


def token_table_error(X, cells, padding_idx):
    """The ValueError for a table ``X`` of token ids (``cells``: it as an array) with a
    whole sequence in a cell (:func:`sequence_cells_error`) or NaN; None for neither.

    NaN is the padding pandas gives a table of id sequences of different lengths
    (``pd.DataFrame(list_of_id_lists)``), which no cast to int takes: refused as "not
    integers" before, with ``.astype(int)`` as the fix, which pandas then refused.
    """
    if cells.dtype == object:
        return sequence_cells_error(X, cells)
    if cells.dtype.kind != "f" or not np.isnan(cells).any():
        return None
    row, step = (int(i) for i in np.argwhere(np.isnan(cells))[0])
    pad = 0 if padding_idx is None else padding_idx
    cast = (f"X.fillna({pad}).astype(int)" if hasattr(X, "fillna") else
            f"np.nan_to_num(X, nan={pad}).astype(int)")
    fill = (f"set padding_idx to an id that is no token and fill the padding with it "
            f"(e.g. padding_idx=0 and {cast})" if padding_idx is None else
            f"fill the padding with padding_idx={pad}, which is removed ({cast})")
    return ValueError(
        f"X holds NaN at sequence {row}, timestep {step}, where token ids are expected: a "
        "table of id sequences of different lengths is padded with NaN. Either "
        f"{fill}, or pass the sequences as a list of 1D id arrays.")


def wrong_form_error(form, X):
    """The error for input of no sequence form (1D, 4D...), with a reshape for 1D; for
    an object that is no array at all (None, a dict, a string, a generator: numpy makes
    a 0D array of it), its type and what to pass."""
    if np.ndim(X) == 0 and not isinstance(X, (np.ndarray, np.generic)):
        # (any other iterable too: dict views, map, zip)
        hint = (" (pass list(X.values()) for its values)" if isinstance(X, dict) else
                " (pass list(X))" if hasattr(X, "__iter__") and not isinstance(X, str)
                else "")
        got = "None" if X is None else f"a {type(X).__name__}{hint}"
        return ValueError(
            "X must be an array of sequences, 2D (n_samples, n_timesteps) or 3D "
            "(n_samples, n_timesteps, n_features), or a list of 2D sequences; got "
            f"{got}.")
    return ValueError(
        f"X must be 2D (n_samples, n_timesteps), 3D (n_samples, n_timesteps, n_features) "
        f"or a list of 2D sequences; got {form[0]}D input with shape {np.shape(X)}."
        + (" Reshape your data: X.reshape(1, -1) for a single sequence, X.reshape(-1, 1) "
           "for a single timestep." if form == "1d" else "")
    )


def check_array_error(exc, X):
    """scikit-learn's ``check_array`` error ``exc`` about the values of ``X`` (a whole
    sequence in a cell, text, complex numbers, NaN or infinity) in words that name X
    and the fix; None for another error, raised as it is."""
    message = str(exc)
    if "setting an array element with a sequence" in message:
        error = sequence_cells_error(X)
        if error is not None:
            return error
    if message.startswith(("Input X contains NaN", "Input X contains infinity")) or (
            "signaling NaN" in message):  # (numpy's of a Decimal('sNaN'): a NaN too)
        return non_finite_error(X)
    if "could not convert" in message or "bytes/strings" in message:
        return ValueError(f"X holds non-numeric values ({exc}); sequences must hold numbers "
                          "(encode categories first, or use embedding_dim for token ids).")
    return complex_error(exc)
