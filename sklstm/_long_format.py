"""A long ``(id, time, features...)`` table as ragged per-id sequences:
:func:`from_long_format`, public as :func:`sklstm.windows.from_long_format`."""

import numpy as np

from ._param_validation import validate_plain_params

__all__ = ["from_long_format"]


@validate_plain_params({
    "df": "no_validation",  # a DataFrame; checked below with the columns it needs
    "id_col": "no_validation",
    "time_col": "no_validation",
    "feature_cols": ["array-like", None],
    "target_col": "no_validation",
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
        One row per (id, time) pair.
    id_col, time_col : str
        Columns identifying the sequence and ordering its timesteps.
    feature_cols : list of str, default=None
        Feature columns; None uses every column except ``id_col``, ``time_col`` and
        ``target_col``.
    target_col : str, default=None
        Column holding the target, with a value on every row; None returns ``y=None``.
    target_agg : str or callable, default="last"
        How the per-id target is taken from ``target_col`` after sorting by time: any
        pandas aggregation (``"last"``, ``"first"``, ``"mean"``, ``"max"``...) or a function
        of the per-id Series. ``"last"`` suits both per-id labels repeated on every row and
        "value at the end of the sequence" targets.
    dtype : numpy dtype, default=np.float64
        dtype of the feature arrays.

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
    if not hasattr(df, "columns"):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}.")
    keys = [id_col, time_col]
    if feature_cols is None:
        feature_cols = [c for c in df.columns if c not in (id_col, time_col, target_col)]
    feature_cols = list(feature_cols)
    _check_long_columns(df, keys, feature_cols, target_col)
    _check_long_values(df, keys, feature_cols, target_col)
    # A stable sort makes each id one contiguous block of rows ordered by time.
    data = df.sort_values(keys, kind="mergesort")
    id_values = data[id_col].to_numpy()
    new_id = np.r_[True, id_values[1:] != id_values[:-1]]
    starts = np.flatnonzero(new_id)
    X = np.split(data[feature_cols].to_numpy(dtype=dtype), starts[1:])
    y = None
    if target_col is not None:
        # grouped by block number, not by id: aligned with X whatever the ids' dtype (a
        # categorical id would add its unused categories as groups on pandas 2)
        block = np.cumsum(new_id) - 1
        y = _aggregate_target(data[target_col].groupby(block), target_agg)
    return X, y, id_values[starts]


def _check_long_columns(df, keys, feature_cols, target_col):
    """Refuse column choices that :func:`from_long_format` cannot read unambiguously."""
    if keys[0] == keys[1]:
        raise ValueError(f"id_col and time_col are both {keys[0]!r}; pass two columns.")
    wanted = [*keys, *feature_cols, *([] if target_col is None else [target_col])]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise ValueError(f"Columns {missing} not found in df; it has {list(df.columns)}.")
    repeated = sorted({c for c in wanted if list(df.columns).count(c) > 1}, key=str)
    if repeated:
        raise ValueError(
            f"df has several columns named {repeated}; rename them so that every column "
            "from_long_format reads has a unique name."
        )
    if not feature_cols:
        raise ValueError("No feature columns: pass feature_cols or add feature columns to df.")
    non_numeric = [c for c in feature_cols if df[c].dtype.kind not in "biuf"]
    if non_numeric:
        raise ValueError(f"Feature columns {non_numeric} are not numeric; encode or drop them.")


def _check_long_values(df, keys, feature_cols, target_col):
    """Refuse an empty table, missing or infinite values and repeated (id, time) rows."""
    if len(df) == 0:
        raise ValueError("df has no rows; pass a table with at least one (id, time) row.")
    targets = [] if target_col is None else [target_col]
    for name, cols in (("id/time", keys), ("feature", feature_cols), ("target", targets)):
        # a missing target would be skipped by "last" (or become a NaN target) silently
        with_nan = [c for c in cols if df[c].isna().any()]
        if with_nan:
            raise ValueError(
                f"{name} columns {with_nan} contain missing values; fill or drop them."
            )
    infinite = [c for c in feature_cols if not np.isfinite(df[c].to_numpy(dtype=float)).all()]
    if infinite:
        raise ValueError(f"feature columns {infinite} contain infinite values; fill or drop them.")
    duplicated = df.duplicated(keys, keep=False)
    if duplicated.any():
        examples = df.loc[duplicated, keys].drop_duplicates().head(3).to_numpy().tolist()
        raise ValueError(
            f"df has several rows for the same ({keys[0]}, {keys[1]}) pair, e.g. {examples}; "
            "aggregate them first."
        )


def _aggregate_target(groups, target_agg):
    """The per-id target: ``target_agg`` of every group, as an array."""
    try:
        return groups.agg(target_agg).to_numpy()
    except AttributeError as exc:
        if not isinstance(target_agg, str):  # raised by the user's function: theirs to see
            raise
        # pandas' word for an unknown aggregation name
        raise ValueError(
            f"target_agg={target_agg!r} is not a pandas aggregation; pass one such as "
            "'last', 'first', 'mean' or 'max', or a function of the per-id Series."
        ) from exc
