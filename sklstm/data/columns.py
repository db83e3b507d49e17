"""The column names of sequences given as DataFrames, one per sample.

A 2D DataFrame's columns are scikit-learn's ``feature_names_in_`` (``validate_data``
records and checks them); a list of per-sequence DataFrames gets the same here, so
that sequences whose columns come in another order are refused rather than read
with their features in the wrong places.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_same_columns", "frame_columns", "record_or_check_columns",
           "sequence_columns"]


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
    columns = frame_columns(next(iter(X)))
    for i, seq in enumerate(X):  # (arrays too: a DataFrame among them is refused)
        check_same_columns(seq, i, columns)
    if columns is None:
        return None
    return columns if all(isinstance(c, str) for c in columns) else None


def frame_columns(seq):
    """The columns of the DataFrame ``seq`` as a tuple; None for any other sequence."""
    columns = getattr(seq, "columns", None)
    return None if columns is None else tuple(columns)


def check_same_columns(seq, i, columns, of="X"):
    """Raise a ValueError unless sequence ``i`` of ``of`` has the ``columns`` of its
    sequence 0, in their order, or neither is a DataFrame (a mix of DataFrames and
    arrays is refused as such).

    Also what :meth:`SequenceStore.write <sklstm.data.store.SequenceStore.write>` checks
    of DataFrames: it writes their values only, so columns in another order would be
    stored as features in the wrong places.

    Parameters
    ----------
    seq : DataFrame or array-like
        Sequence ``i``.
    i : int
        Its position, for the message.
    columns : tuple or None
        The columns of sequence 0 (:func:`frame_columns`); None: it is no DataFrame.
    of : str, default="X"
        What holds the sequences, for the message.
    """
    own = frame_columns(seq)
    if own == columns:
        return
    if own is None or columns is None:
        # (an array's columns, compared as [], said nothing of the mix or its fix)
        frame, other = (0, i) if own is None else (i, 0)
        raise ValueError(
            f"Sequence {frame} of {of} is a DataFrame and sequence {other} is not: a mix of "
            "DataFrames and arrays. Pass every sequence as a DataFrame with the same "
            "columns, or every one as an array ([np.asarray(seq) for seq in sequences]).")
    raise ValueError(
        f"Sequence {i} of {of} has the columns {list(own)}, sequence 0 {list(columns)}: "
        f"every DataFrame of {of} must have the same columns in the same order (select "
        "them as seq[columns]).")


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

