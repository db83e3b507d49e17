"""The column names of sequences given as DataFrames, one per sample.

A 2D DataFrame's columns are scikit-learn's ``feature_names_in_`` (``validate_data``
records and checks them); a list of per-sequence DataFrames gets the same here
(scikit-learn's warnings of input with and without names, its TypeError for names of
mixed types), and sequences whose columns come in another order are refused rather
than read with their features in the wrong places.
"""

from __future__ import annotations

from sklearn.utils.validation import validate_data

__all__ = ["check_same_columns", "first_of_same_columns", "frame_columns",
           "record_or_check_columns"]


def first_of_same_columns(X):
    """Sequence 0 of the list ``X``, after checking that every DataFrame sequence of
    ``X`` has its columns: what :func:`record_or_check_columns` reads the feature names
    of.

    Columns in another order or with other names in one sequence are a ValueError: the
    network would read its features in the wrong places.

    Examples
    --------
    >>> import pandas as pd
    >>> first_of_same_columns([pd.DataFrame({"a": [1.0], "b": [2.0]})] * 2).columns.tolist()
    ['a', 'b']
    """
    # the first by position: X may be a Series of sequences (a groupby's apply), whose
    # X[0] is the label 0, a KeyError where its index is the groups' ids
    first = next(iter(X))
    columns = frame_columns(first)
    for i, seq in enumerate(X):  # (arrays too: a DataFrame among them is refused)
        check_same_columns(seq, i, columns)
    return first


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


def record_or_check_columns(estimator, reset, X):
    """scikit-learn's ``feature_names_in_`` bookkeeping of 2D data, for sequences:
    recorded at fit from the columns of a list of DataFrames (removed after a fit on
    unnamed ones), afterwards checked as scikit-learn checks a 2D DataFrame's.

    After a fit with names, sequences without them warn "X does not have valid feature
    names", and the reverse "X has feature names"; column names of mixed types are a
    TypeError. Only the columns are read, never the values.

    Parameters
    ----------
    estimator : BaseEstimator
        Receives (or holds) ``feature_names_in_`` and ``_fitted_form``.
    reset : bool
        True in fit.
    X : DataFrame or object
        Sequence 0 of a list of DataFrames, whose columns name the features; anything
        without ``columns`` (an array, a store) for sequences without names.
    """
    if not reset and getattr(estimator, "_fitted_form", None) == "2d":
        # after a fit on a 2D DataFrame the names are its timesteps' columns, not features
        # of a sequence: a univariate sequence's one column was refused as "not those
        # fitted", and sequences without names warned of names they need not have
        return
    fitted = None if reset else getattr(estimator, "feature_names_in_", None)
    names = frame_columns(X)
    if (names is not None and fitted is not None and all(isinstance(c, str) for c in names)
            and list(fitted) != list(names)):
        # (before scikit-learn's own "The feature names should match", which names no fix)
        raise ValueError(
            f"The columns of X's sequences, {list(names)}, are not those {type(estimator).__name__}"
            f" was fitted with, {list(fitted)}: select them in that order "
            "([seq[list(est.feature_names_in_)] for seq in X]).")
    # scikit-learn's check of feature names (its warnings, its TypeError for names of
    # mixed types), on sequence 0 alone: skip_check_array reads its columns, no values,
    # and ensure_2d=False skips the count of columns, which are features per timestep
    validate_data(estimator, X, reset=reset, skip_check_array=True, ensure_2d=False)
