"""The container forms sequence data arrives in, and the way back to them.

Sequence data is a 3D array ``(n_samples, n_timesteps, n_features)``, a 2D array or
DataFrame ``(n_samples, n_timesteps)`` of univariate sequences, or a ragged list (or
1D object array) of per-sample ``(n_timesteps_i, n_features)`` arrays (1D arrays for
token ids). Transformers return the form they were given: :func:`restore_container`
and :func:`map_sequences` rebuild it.
"""

from __future__ import annotations

import numpy as np

from .store import SequenceStore

__all__ = ["DENSE_FORMS", "RAGGED_FORMS", "map_sequences", "ragged_lengths", "restore_container",
           "sequence_form"]

DENSE_FORMS = ("3d", "2d")
RAGGED_FORMS = ("list", "object")


def sequence_form(X):
    """Name the container form of ``X``.

    Returns "3d", "2d" (also DataFrames and sparse matrices), "list" (a list or tuple
    of sequences that do not stack to one array, or that are arrays themselves),
    "object" (a 1D object array) or "<k>d" for other dimensions.

    Examples
    --------
    >>> import numpy as np
    >>> sequence_form(np.zeros((2, 3))), sequence_form([np.zeros((2, 1)), np.zeros((3, 1))])
    ('2d', 'list')
    """
    if isinstance(X, (list, tuple)):
        if not X or any(isinstance(x, np.ndarray) or hasattr(x, "iloc") for x in X):
            return "list"
        try:
            X = np.asarray(X)
        except ValueError:  # nested lists of unequal lengths are ragged sequences
            return "list"
        # rectangular objects are a table of cells (None or pd.NA among numbers: missing
        # values), not its rows as sequences, refused as 1D or read as token ids
        if X.dtype == object and X.ndim < 2:
            return "list"
    ndim = getattr(X, "ndim", None)
    if ndim is None:
        X = np.asarray(X)
        ndim = X.ndim
    if ndim == 1 and getattr(X, "dtype", None) is np.dtype(object):
        return "object"
    return f"{ndim}d"


def restore_container(sequences, form):
    """Rebuild the container form named by ``form`` from per-sample arrays.

    ``"3d"`` stacks to a 3D array, ``"2d"`` to a 2D array of univariate sequences,
    ``"object"`` to a 1D object array and ``"list"`` to a list. Ragged input is never
    densified.

    Examples
    --------
    >>> import numpy as np
    >>> restore_container([np.ones((2, 1)), np.ones((2, 1))], "2d")
    array([[1., 1.],
           [1., 1.]])
    """
    if form == "3d":
        return np.stack(sequences)
    if form == "2d":
        return np.stack([seq[:, 0] for seq in sequences])
    if form == "object":
        out = np.empty(len(sequences), dtype=object)
        for i, seq in enumerate(sequences):  # slice assignment would broadcast equal shapes
            out[i] = seq
        return out
    return list(sequences)


def map_sequences(func, data, form):
    """Apply ``func`` (acting on the last, feature axis) to validated sequence data.

    ``data`` is what :func:`~sklstm.data.validation.validate_sequences` returned for
    ``form``; the result has the same form.
    """
    if form == "3d":
        return func(data)
    if form == "2d":
        return func(data[:, :, None])[:, :, 0]
    return restore_container([func(seq) for seq in data], form)


def ragged_lengths(X):
    """Every sample's length where ``X`` is ragged (a list or object array of
    sequences, or a ragged :class:`~sklstm.data.store.SequenceStore`), else None.

    Examples
    --------
    >>> ragged_lengths([np.zeros((2, 1)), np.zeros((5, 1))]), ragged_lengths(np.zeros((2, 3)))
    (array([2, 5]), None)
    """
    if isinstance(X, SequenceStore):
        # the store's offsets tell the lengths: reading every sequence from its file
        # to measure it would page the whole data set through memory
        return X.lengths if X.ragged else None
    if isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.dtype == object):
        return np.array([len(x) for x in X])
    return None
