"""Which sequences of a :class:`~sklstm.data.SequenceStore` a key or a pass names.

Positions only, never data: numpy-style sample indexing (an integer, a slice, an
integer array, a boolean mask) and the cuts of a streaming pass into chunks of a
bounded size. Kept apart from the store so the rules are read, and tested, in one
place.
"""

from __future__ import annotations

import numpy as np

from .._param_validation import integers, plain_value, validate_constraints

__all__ = ["byte_chunks", "checked_positions", "chunk_bytes", "key_positions"]


def key_positions(key, n):
    """The positions ``store[key]`` names among ``n`` sequences.

    Parameters
    ----------
    key : int, slice, array-like of int or bool, or ``(key, ...)``
        What numpy accepts along one axis; a tuple is scikit-learn's ``X[key, ...]``.
    n : int
        Sequences in the store (or view) indexed.

    Returns
    -------
    int or ndarray of int
        An int (in ``[0, n)``) for one sequence, else the positions of a view (negative
        ones still counted from the end: :func:`checked_positions` resolves them).

    Raises
    ------
    IndexError
        An index beyond either end, a bool, a mask of another length, an index of
        another kind, or a tuple along more than the sample axis.
    """
    if isinstance(key, tuple):  # scikit-learn indexes arrays as X[key, ...]
        if len(key) != 2 or key[1] is not Ellipsis:
            raise IndexError("a SequenceStore is indexed along its sample axis only.")
        key = key[0]
    if isinstance(key, (bool, np.bool_)):  # an int to Python: store[True] was sequence 1
        raise IndexError("a SequenceStore takes integer, slice, integer-array or "
                         f"boolean-mask indices; got the bool {bool(key)} (a mask is an array "
                         "of one bool per sequence).")
    if isinstance(key, (int, np.integer)):
        if not -n <= key < n:
            raise IndexError(f"index {key} is out of bounds for {n} sequences.")
        return int(key) % n
    if isinstance(key, slice):  # (not np.arange(n)[key]: n positions for a few)
        return np.arange(*key.indices(n))
    key = np.asarray(key)
    if key.ndim == 0 and key.dtype.kind in "iu":  # np.array(2), torch.tensor(2): as numpy
        return key_positions(key.item(), n)
    if key.size == 0 and key.ndim == 1:  # [] is float64 to numpy, an index to it
        key = key.astype(np.int64)
    if key.dtype == bool:
        if key.shape != (n,):
            raise IndexError(f"boolean index of shape {key.shape} for {n} sequences.")
        return np.flatnonzero(key)
    if key.dtype.kind in "iu" and key.ndim == 1:
        return key  # (uint64 kept: as int64, 2**64 - 1 would be -1, the last sequence)
    raise IndexError(f"a SequenceStore takes integer, slice, integer-array or "
                     f"boolean-mask indices; got {key.dtype} of shape {key.shape}.")


def checked_positions(positions, n):
    """``positions`` among ``n`` sequences, negative ones counted from the end.

    Unchecked, a negative position of a ragged store would read the steps between two
    wrong offsets; so beyond either end is an IndexError, as in numpy. So is what is no
    integer: a boolean mask read as positions 0 and 1 would read the first two
    sequences over and over.

    Parameters
    ----------
    positions : array-like of int
        Positions in a view of ``n`` sequences.
    n : int
        Sequences in the view.

    Returns
    -------
    ndarray of int64
        The positions, each in ``[0, n)``.
    """
    positions = np.asarray(positions)
    if positions.size and positions.dtype.kind not in "iu":  # ([] is float64 to numpy)
        raise IndexError(f"positions are integers; got {positions.dtype} values (select "
                         "with a boolean mask as store[mask]).")
    # checked before the int64 conversion, which wraps uint64 beyond it to negatives
    if positions.size and (positions.min() < -n or positions.max() >= n):
        bad = positions[(positions < -n) | (positions >= n)][0]
        raise IndexError(f"index {bad} is out of bounds for {n} sequences.")
    positions = positions.astype(np.int64, copy=False)
    return np.where(positions < 0, positions + n, positions)


def chunk_bytes(max_bytes, default, caller):
    """The ``max_bytes`` of a streaming pass (:meth:`SequenceStore.chunks
    <sklstm.data.store.SequenceStore.chunks>`), checked: a positive int, or None for
    ``default``.

    Unchecked, 0 or a negative number made chunks of one sequence each in silence, a
    float was taken for a byte count, and a string failed in Python's words ("unsupported
    operand type(s) for //").

    Parameters
    ----------
    max_bytes : int or None
        As given (a numpy integer too).
    default : int
        What None stands for.
    caller : str
        The method, for the error.

    Returns
    -------
    int
        The bytes a chunk holds at most.
    """
    max_bytes = plain_value(max_bytes)
    validate_constraints({"max_bytes": [integers(1), None]}, {"max_bytes": max_bytes}, caller)
    return default if max_bytes is None else int(max_bytes)


def byte_chunks(sequence_bytes, max_bytes):
    """Consecutive slices of sequences holding at most ``max_bytes`` each (one at least).

    Cut where the bytes of the sequences themselves add up, not by their mean: in a
    store sorted by length (as for bucketing) a chunk of the mean's rows at the long end
    held a large share of the store, for a pass meant to hold 8 MiB.

    Parameters
    ----------
    sequence_bytes : ndarray of int
        Bytes each sequence holds, in order.
    max_bytes : int
        Bytes a chunk holds at most, unless one sequence alone holds more.

    Yields
    ------
    slice
        Consecutive positions, ``step`` None, covering every sequence.

    Examples
    --------
    >>> list(byte_chunks([8, 8, 8, 30, 8], max_bytes=16))
    [slice(0, 2, None), slice(2, 3, None), slice(3, 4, None), slice(4, 5, None)]
    """
    ends = np.cumsum(sequence_bytes)
    start, n = 0, len(ends)
    while start < n:
        before = int(ends[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, before + max_bytes, side="right")))
        yield slice(start, stop)
        start = stop
