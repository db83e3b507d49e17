"""The column names of sequences given as DataFrames, one per sample.

A 2D DataFrame's columns are scikit-learn's ``feature_names_in_`` (``validate_data``
records and checks them); a list of per-sequence DataFrames gets the same here, so
that sequences whose columns come in another order are refused rather than read
with their features in the wrong places.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_same_columns", "record_or_check_columns", "sequence_columns"]


def sequence_columns(X):
    """The column names every DataFrame sequence of the list ``X`` shares, if they are
    all strings (scikit-learn's rule for ``feature_names_in_``); None otherwise.

    Columns in another order or with other names in one sequence are a ValueError: the
    network would read its features in the wrong places.

    Examples
    --------
    >>> import pandas as pd
    >>> sequence_columns([pd.DataFrame({"a": [1.0], "b": [2.0]})] * 2)
    ('a', 'b')
    """
    # the first by position: X may be a Series of sequences (a groupby's apply), whose
    # X[0] is the label 0, a KeyError where its index is the groups' ids
    first = next(iter(X))
    if not hasattr(first, "columns"):
        return None
    columns = tuple(first.columns)
    for i, seq in enumerate(X):
        check_same_columns(seq, i, columns)
    return columns if all(isinstance(c, str) for c in columns) else None


def check_same_columns(seq, i, columns, of="X"):
    """Raise a ValueError unless sequence ``i`` of ``of`` has the ``columns`` of its
    sequence 0, in their order (a sequence that is no DataFrame has none).

    Also what :meth:`SequenceStore.write <sklstm.data.store.SequenceStore.write>` checks
    of DataFrames: it writes their values only, so columns in another order would be
    stored as features in the wrong places.

    Parameters
    ----------
    seq : DataFrame or array-like
        Sequence ``i``.
    i : int
        Its position, for the message.
    columns : tuple
        The columns of sequence 0.
    of : str, default="X"
        What holds the sequences, for the message.
    """
    if tuple(getattr(seq, "columns", ())) != columns:
        raise ValueError(
            f"Sequence {i} of {of} has the columns {list(getattr(seq, 'columns', []))}, "
            f"sequence 0 {list(columns)}: every DataFrame of {of} must have the same "
            "columns in the same order (select them as seq[columns]).")


def record_or_check_columns(estimator, reset, names):
    """``feature_names_in_`` from the columns of a list of DataFrames at fit; afterwards
    the same columns, in the same order, where the fit had and X has them."""
    if reset:
        if names is not None:
            estimator.feature_names_in_ = np.asarray(names, dtype=object)
        return
    # after a fit on a 2D DataFrame the names are its timesteps' columns, not features
    # of a sequence: a univariate sequence's one column was refused as "not those fitted"
    fitted = (None if getattr(estimator, "_fitted_form", None) == "2d"
              else getattr(estimator, "feature_names_in_", None))
    if names is not None and fitted is not None and list(fitted) != list(names):
        raise ValueError(
            f"The columns of X's sequences, {list(names)}, are not those {type(estimator).__name__}"
            f" was fitted with, {list(fitted)}: select them in that order "
            "([seq[list(est.feature_names_in_)] for seq in X]).")

