"""Validation of ragged sequence input, a list (or 1D object array, or pandas Series) of
per-sample arrays: :func:`check_ragged`, whose every error names the bad sequence.
(Its own module: :mod:`sklstm.data.validation` hands ragged input here.)
"""

from __future__ import annotations

import numpy as np

from .._nullable import as_array, object_numbers
from .._series_values import signaling_nan_as_nan
from .input_errors import non_finite_error, non_numeric_columns, time_values_error
from .store_files import empty_sequences_error
from .vocabulary import check_token_sequence, negative_id_error, object_ids

__all__ = ["FINITE_BLOCK", "check_ragged", "index_labels", "sequence_name"]

#: Values of float sequences checked for NaN and infinity together (copied into one
#: array), or of token ids for negative ones: one check of each took a third of a
#: scaler's transform of 100k short sequences.
FINITE_BLOCK = 1 << 16


def index_labels(items):
    """The index labels of the pandas Series ``items``, where they are not its
    positions (a filtered or shuffled column: ``X[3]`` is another sequence than the
    position an error names, or none); else None."""
    index = getattr(items, "index", None) if hasattr(items, "iloc") else None
    if index is None or np.array_equal(np.asarray(index, dtype=object),
                                       np.arange(len(index), dtype=object)):
        return None
    return list(index)


def sequence_name(i, labels):
    """How the errors name sequence ``i``: with its index label, where ``labels`` has one."""
    return i if labels is None else f"{i} (index label {labels[i]!r})"


def check_ragged(items, *, allow_1d=False, ensure_all_finite=True, token_ids=False,
                 labels=None):
    """Validate per-sample sequences; every error names the bad sequence.

    Parameters
    ----------
    items : iterable of array-like
        One ``(n_timesteps_i, n_features)`` array per sample, or 1D arrays when
        ``allow_1d`` (token ids). The errors about a pandas Series name the bad
        sequence's index label beside its position.
    allow_1d : bool, default=False
        Accept 1D sequences; all sequences must still have the same ``ndim``.
    ensure_all_finite : bool, default=True
        Reject NaN and infinity.
    token_ids : bool, default=False
        Every sequence must be a 1D array of non-negative integer ids.
    labels : list or None, default=None
        Index labels to name beside the positions; None: those of a Series ``items``.

    Returns
    -------
    list of ndarray
        The sequences as arrays, dtypes untouched (object arrays of numbers become float64).
    """
    checked = []
    labels = index_labels(items) if labels is None else labels
    # (positions of the sequences whose values are not yet checked, a block at a time:
    # float ones for NaN and infinity, or token ids for negative ones)
    unchecked = []
    size = 0
    for i, item in enumerate(items):
        ids = _id_list(item) if token_ids and type(item) in (list, tuple) else item
        if token_ids and _plain_ids(ids):
            seq = ids
            # 1D integer ids, the common token input: all that _sequence checks of them
            # is left their sign (its checks took 10 us a sentence, a token fit's setup;
            # a list's, 22 us beside np.asarray's 8: 2.2 s of the 3.1 s setup of 100k
            # sentences of 5-200 ids, benchmarks/results/setup_ragged.md)
            deferred = seq.dtype.kind == "i"
        else:
            try:
                seq = _sequence(item, sequence_name(i, labels), checked[0] if checked else None,
                                allow_1d, token_ids)
            except Exception:
                # (the first bad sequence is named whatever is wrong with it: an earlier
                # one's NaN before this one's shape, as when each was checked in turn)
                error = _unchecked_error(checked, unchecked, labels, token_ids)
                if error is not None:
                    raise error from None
                raise
            deferred = ensure_all_finite and seq.dtype.kind == "f"
        checked.append(seq)
        if deferred:
            if size + seq.size > FINITE_BLOCK:  # (a copy of at most a block, beside a
                _check_values(checked, unchecked, labels, token_ids)  # longer one alone)
                unchecked, size = [], 0
            unchecked.append(i)
            size += seq.size
    _check_values(checked, unchecked, labels, token_ids)
    return checked


def _plain_ids(item):
    """Whether ``item`` is an ndarray of 1D integer ids, at least one: accepted as token
    ids whatever the other sequences, if its ids are >= 0."""
    return (type(item) is np.ndarray and item.ndim == 1 and item.dtype.kind in "iu"
            and item.size > 0)


def _id_list(item):
    """The list (or tuple) ``item`` as the array ``np.asarray`` reads it, which is what
    :func:`_sequence` converts it to first; ``item`` itself where that fails (for
    :func:`_sequence` to refuse it in its words, naming the sequence)."""
    try:
        return np.asarray(item)
    except Exception:  # (a ragged nested list, say)
        return item


def _check_values(checked, unchecked, labels, token_ids):
    """Refuse the first of the sequences ``checked[i]``, ``i`` in ``unchecked``, whose
    values are refused (:func:`_unchecked_error`)."""
    error = _unchecked_error(checked, unchecked, labels, token_ids)
    if error is not None:
        raise error


def _unchecked_error(checked, unchecked, labels, token_ids):
    """The error for NaN or infinity in the sequences ``checked[i]`` for ``i`` in
    ``unchecked`` (floats all), or with ``token_ids`` for a negative id (signed integers
    all), naming the first that holds one; None for none. One check of them all
    together, then one of each where it failed."""
    if not unchecked:
        return None
    bad = (lambda values: values.min() < 0) if token_ids else (
        lambda values: not np.isfinite(values).all())
    if not bad(checked[unchecked[0]] if len(unchecked) == 1 else
               np.concatenate([checked[i] for i in unchecked], axis=None)):
        return None
    i = next(i for i in unchecked if bad(checked[i]))
    if token_ids:
        return negative_id_error(checked[i], sequence_name(i, labels))
    return non_finite_error(checked[i], sequence=sequence_name(i, labels))


def _sequence(item, name, first, allow_1d, token_ids):
    """The sequence ``item`` as an array (``first``: sequence 0's, None for sequence 0
    itself), or the error naming sequence ``name`` and what is wrong with it."""
    # an ndarray of numbers is what _as_numbers makes of it (its conversions and
    # checks took half the time of a scaler's transform of many short sequences)
    seq = item if type(item) is np.ndarray and item.dtype.kind in "biuf" else (
        _as_numbers(item, name, token_ids))
    if seq.ndim == 0:
        raise _not_a_sequence_error(name, item, seq)
    if seq.shape[0] == 0:  # ([] too, of shape (0,): not "not 2D")
        raise ValueError(
            f"Sequence {name} of X is empty (0 timesteps); every sequence needs at "
            "least one timestep. Remove it together with its target."
        )
    if seq.ndim not in ((1, 2) if allow_1d or token_ids else (2,)):
        raise ValueError(
            f"Sequence {name} of X has shape {seq.shape}; each sequence in a list must "
            "be 2D (n_timesteps, n_features)"
            + (" or 1D token ids" if allow_1d or token_ids else "")
            # (np.asarray: a pandas Series, a list of which is common, has no reshape)
            + ". Reshape a univariate sequence with np.asarray(seq).reshape(-1, 1)"
            # (reshaped, token ids train as magnitudes: a model that fits, of nothing)
            + ("; token ids are not reshaped but read by an estimator with "
               "embedding_dim set." if seq.ndim == 1 and seq.dtype.kind in "iu" else ".")
        )
    if seq.ndim == 2 and seq.shape[1] == 0:  # torch refused it mid-fit, a scaler not
        raise empty_sequences_error(f"Sequence {name} of X", seq.shape)
    if token_ids:
        check_token_sequence(seq, name)
    first = seq if first is None else first
    if seq.ndim != first.ndim:
        raise ValueError(
            f"Sequence {name} of X has shape {seq.shape} but sequence 0 has shape "
            f"{first.shape}; all sequences must have the same number of dimensions."
        )
    if seq.shape[1:] != first.shape[1:]:
        # equal rows, other columns: likely (n_features, n_timesteps) arrays
        transposed = seq.shape[0] == first.shape[0] and seq.ndim == 2
        raise ValueError(
            f"Sequence {name} of X has {seq.shape[1]} features but sequence 0 has "
            f"{first.shape[1]}; all sequences must have the same number of features."
            + (f" Both have {seq.shape[0]} rows: if the sequences are laid out "
               "(n_features, n_timesteps), pass [seq.T for seq in X]."
               if transposed else "")
        )
    return seq


def _as_numbers(item, name, token_ids):
    """The sequence ``item`` as an ndarray of numbers, or the error naming sequence
    ``name`` and what it holds instead."""
    try:
        seq = as_array(item)  # (object arrays of numbers too; of integer ids as int64)
        # (a Decimal signaling NaN, which float() refuses, as the NaN refused as such)
        seq = object_ids(seq) if token_ids else object_numbers(signaling_nan_as_nan(seq))
    except ValueError as exc:  # numpy's "inhomogeneous shape", naming no sequence
        raise ValueError(
            f"Sequence {name} of X is not a rectangular array ({exc}); every timestep of "
            "a sequence must have the same number of features (fill a missing value "
            "in, or drop the sequence together with its target)."
        ) from exc
    if seq.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: sequence {name} of X holds complex numbers; the "
            "network reads real ones: pass their real and imaginary parts as two features "
            "([np.stack([s.real, s.imag], axis=-1) for s in X]), or their magnitude "
            "([np.abs(s) for s in X]).")
    # (a DataFrame's columns first: the error names the column, a time column of
    # a table per sequence became objects beside the numbers)
    error = time_values_error(item, name) or time_values_error(seq, name)
    if error is not None:
        raise error
    if seq.dtype.kind not in "biuf":
        # (with embedding_dim set already, the words are what is left to encode)
        fix = ("token ids are integers: map the words to ids first, with a vocabulary "
               "or a tokenizer" if token_ids else
               "encode categories first, or use embedding_dim for token ids")
        raise TypeError(
            f"Sequence {name} of X has non-numeric dtype {seq.dtype}"
            f"{non_numeric_columns(item)}; sequences must hold numbers ({fix}).")
    return seq


def _not_a_sequence_error(name, item, seq):
    """The error for the single value ``item`` (None, NaN, pd.NA, a number; ``seq`` as
    the 0D array it became) as sequence ``name``: "has shape (); ... reshape" before,
    the fix for a 1D sequence."""
    missing = seq.dtype.kind == "f" and np.isnan(seq)
    value = item.item() if isinstance(item, np.generic) else item  # (no "np.float64(")
    return ValueError(
        f"Sequence {name} of X is {value!r}, not a sequence of timesteps"
        + ("; a missing sequence (what pandas leaves for a row without one, after a "
           "merge or reindex): drop it together with its target (X.dropna() of a Series)."
           if missing else "; pass every sequence as a 2D (n_timesteps, n_features) array."))
