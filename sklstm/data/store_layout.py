"""What the arrays of a :class:`~sklstm.data.store.SequenceStore` must be, whether
read from its files (:mod:`~sklstm.data.store_files`) or given by hand: values of a
number dtype and, for ragged data, offsets that cut them into whole sequences."""

from __future__ import annotations

import numpy as np

__all__ = ["NUMBER_KINDS", "check_offsets", "number_dtype", "offsets_problem"]

#: dtype kinds a store holds: booleans, integers, floats. Any other kind is refused
#: when writing and opening: object values would be raw pointers in the file
#: (mapping them back dereferences them), strings are not numbers.
NUMBER_KINDS = "biuf"


def number_dtype(dtype):
    """``dtype`` as a numpy dtype, if a store can hold it (its kind in b, i, u, f).

    The one check of stored values, written, opened or wrapped in memory
    (:meth:`SequenceStore.from_array <sklstm.data.store.SequenceStore.from_array>`).

    Parameters
    ----------
    dtype : dtype-like
        What a store would hold.

    Returns
    -------
    numpy.dtype
        ``dtype`` as a numpy dtype.

    Raises
    ------
    TypeError
        ``dtype`` is no dtype.
    ValueError
        A dtype of another kind (object, strings, complex, dates), with the kinds a store
        holds.
    """
    dtype = np.dtype(dtype)  # a TypeError for what is no dtype
    if dtype.kind not in NUMBER_KINDS:
        raise ValueError(f"dtype {dtype} cannot be stored; a store holds booleans, integers "
                         "or floats (numpy kinds b, i, u, f), e.g. int32 token ids or "
                         "float32 values.")
    return dtype


def check_offsets(values, offsets):
    """A ValueError or TypeError unless ``offsets`` are ragged offsets into ``values``
    (for a :class:`~sklstm.data.SequenceStore` made by hand, which would otherwise read
    other sequences' steps, or past its data, without a word)."""
    if not hasattr(values, "ndim") or values.ndim not in (1, 2):
        raise TypeError(
            "A ragged SequenceStore's values are one array of every timestep, "
            f"(n_steps,) or (n_steps, n_features); got {getattr(values, 'shape', type(values))}. "
            "Pass offsets=None for dense data, or make the store with SequenceStore.write.")
    problem = offsets_problem(np.asarray(offsets), len(values))
    if problem:
        raise ValueError(f"The offsets array given to SequenceStore {problem}. Sequence i "
                         "is values[offsets[i]:offsets[i + 1]]; SequenceStore.write makes "
                         "the offsets for you.")


def offsets_problem(offsets, n_steps):
    """What is wrong with ragged offsets into ``n_steps`` stored steps, or None.

    Offsets are integers, one per sequence and one more, from 0 up to ``n_steps``,
    increasing (every sequence holds a step at least). Vectorized: millions are cheap.
    """
    if not isinstance(offsets, np.ndarray) or offsets.dtype.kind not in "iu":
        return f"holds {getattr(offsets, 'dtype', type(offsets))} values, not integers"
    if offsets.ndim != 1 or offsets.size < 2:
        return (f"has shape {offsets.shape}; offsets hold where every sequence starts "
                "and where the last one ends, (n_samples + 1,)")
    if offsets[0] != 0 or offsets[-1] != n_steps:
        return (f"runs from {offsets[0]} to {offsets[-1]}; it runs from 0 to the "
                f"{n_steps} steps stored")
    short = np.flatnonzero(offsets[1:] <= offsets[:-1])
    if short.size:
        # write refuses empty sequences; an offset that goes back would read another's
        i = int(short[0])
        return (f"gives sequence {i} the steps {offsets[i]} to {offsets[i + 1]}; offsets "
                "increase, as every sequence holds at least one step")
    return None
