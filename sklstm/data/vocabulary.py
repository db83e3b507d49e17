"""Token ids against the vocabulary: the size a fit infers, and the ids it accepts.

A vocabulary of ``V`` ids is an embedding of ``V`` rows, allocated when the network is
built. When ``vocab_size`` is None it is inferred as the largest id + 1, so one stray
id of ``10**9`` would ask for a billion rows (24 GiB at ``embedding_dim=6``, more with
the optimizer's state). The inferred size is therefore capped at
:data:`MAX_INFERRED_VOCAB`; a larger vocabulary must be asked for with ``vocab_size``.
Both checks run on the validated ids, before anything is allocated.
"""

from __future__ import annotations

import numpy as np

from .._compat.python import warn_at_caller
from .._nullable import object_numbers
from .store_scan import token_id_beyond_int64_error
from .streaming import iter_row_chunks

__all__ = ["MAX_INFERRED_VOCAB", "check_token_ids", "check_token_sequence",
           "fitted_vocab_size", "object_ids", "padding_inside", "warn_padding_inside"]

#: Largest vocabulary a fit infers (``vocab_size=None``): 2**20 = 1,048,576 ids.
MAX_INFERRED_VOCAB = 2**20


def check_token_ids(values, limit, advice):
    """Raise a ValueError naming the first sequence holding an id ``>= limit``.

    Parameters
    ----------
    values : ndarray of int64 of shape (n_samples, n_timesteps) or StreamedRows
        Padded token ids.
    limit : int
        Number of ids of the vocabulary.
    advice : str
        What the user can do, appended to the message.
    """
    if int(values.max()) < limit:
        return
    row, largest = _first_row_from(values, limit)
    raise ValueError(
        f"Sequence {row} of X contains token id {largest}, but the "
        f"vocabulary has {limit} ids (0..{limit - 1}); {advice}"
    )


def fitted_vocab_size(values, vocab_size, padding_idx):
    """The vocabulary of a fit on ``values``: ``vocab_size``, or inferred and capped.

    Parameters
    ----------
    values : ndarray of int64 of shape (n_samples, n_timesteps) or StreamedRows
        Padded training token ids.
    vocab_size : int or None
        The estimator's parameter; None infers ``max(largest id, padding_idx) + 1``.
    padding_idx : int or None
        The padding id, which needs a row of its own.

    Returns
    -------
    int
        The number of embedding rows.

    Raises
    ------
    ValueError
        An id is ``>= vocab_size``, or the inferred size exceeds
        :data:`MAX_INFERRED_VOCAB`.

    Examples
    --------
    >>> import numpy as np
    >>> fitted_vocab_size(np.array([[3, 1], [2, 0]]), None, 0)
    4
    >>> fitted_vocab_size(np.array([[3, 10**9]]), None, 0)
    Traceback (most recent call last):
    ...
    ValueError: Sequence 0 of X contains token id 1000000000: with vocab_size=None ...
    """
    if vocab_size is not None:
        check_token_ids(values, vocab_size, "raise vocab_size.")
        return vocab_size
    floor = 0 if padding_idx is None else padding_idx + 1
    size = max(int(values.max()) + 1, floor)
    if size <= MAX_INFERRED_VOCAB:
        return size
    fix = (f"With vocab_size=None sklstm infers at most {MAX_INFERRED_VOCAB} ids "
           "(MAX_INFERRED_VOCAB); set vocab_size to build a larger embedding on purpose.")
    if size == floor:
        raise ValueError(
            f"padding_idx={padding_idx} needs an embedding of {floor} rows: use a padding id "
            f"below {MAX_INFERRED_VOCAB}, e.g. 0. {fix}"
        )
    row, largest = _first_row_from(values, MAX_INFERRED_VOCAB)
    raise ValueError(
        f"Sequence {row} of X contains token id {largest}: with "
        f"vocab_size=None the vocabulary is the largest id + 1, an embedding of "
        f"{size} rows. Map the ids to 1..n_tokens first (np.unique(ids, "
        f"return_inverse=True)[1] + 1 does; 0 stays the padding id). {fix}"
    )


def _first_row_from(values, limit):
    """``(row, its largest id)`` of the first row holding an id ``>= limit``; read a
    chunk at a time (the rows may be streamed from a store)."""
    for start, chunk in iter_row_chunks(values):
        hits = np.flatnonzero((chunk >= limit).any(axis=1))
        if hits.size:
            return start + int(hits[0]), int(chunk[hits[0]].max())
    raise AssertionError("no row holds an id >= limit")  # the callers checked the maximum


def object_ids(seq):
    """The ndarray ``seq`` of dtype object as int64 when it holds only integers (Python
    ints: ``np.array(id_lists, dtype=object)``), else as :func:`object_numbers` reads it.

    :func:`object_numbers` reads numbers as float64, as ``check_array`` does, and
    integer ids read so were refused as "dtype float64", a dtype the user never had.

    Examples
    --------
    >>> object_ids(np.array([3, 1], dtype=object)).dtype
    dtype('int64')
    >>> object_ids(np.array([3, None], dtype=object)).dtype
    dtype('float64')
    """
    if seq.dtype == object and seq.size and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
            for v in seq.flat):
        for dtype in (np.int64, np.uint64):  # (uint64 beyond int64: refused by the caller)
            try:
                return seq.astype(dtype)
            except OverflowError:
                pass
    return object_numbers(seq)


def check_token_sequence(seq, name):
    """Raise unless the sequence ``seq`` holds 1D non-negative integer ids.

    Parameters
    ----------
    seq : ndarray
        One sequence of X, as :func:`object_ids` read it.
    name : int or str
        Its number in X (and index label), which the errors name.

    Raises
    ------
    ValueError
        Not 1D, a missing id (NaN), an infinite one, an id beyond int64, or a negative id.
    TypeError
        Ids that are not integers; for numbers that are not whole, the message names
        what likely made them (a scaler or a resampler before the estimator).
    """
    if seq.ndim != 1:
        raise ValueError(
            f"Sequence {name} of X has shape {seq.shape}; token sequences must be 1D lists "
            "of integer ids.")
    if seq.dtype.kind == "f" and np.isnan(seq).any():
        # (.astype(int), the fix for whole numbers, makes a NaN a large negative id)
        raise ValueError(
            f"Sequence {name} of X holds a missing token id (NaN, None or pd.NA) at timestep "
            f"{int(np.flatnonzero(np.isnan(seq))[0])}; token ids are integers: drop the "
            "missing tokens, or map them to an id of their own (an unknown-token id).")
    if seq.dtype.kind == "f" and np.isinf(seq).any():
        # (+inf failed in int() with a bare OverflowError; -inf was to be cast with
        # .astype(int), which makes it a large negative id)
        step = int(np.flatnonzero(np.isinf(seq))[0])
        raise ValueError(
            f"Sequence {name} of X holds an infinite token id ({seq[step]}) at timestep {step}; "
            "token ids are whole numbers from 0: map what it stands for to an id of its own (an "
            "unknown-token id), or drop it.")
    if seq.dtype.kind == "f" and seq.max() > np.iinfo(np.int64).max:
        raise token_id_beyond_int64_error(name, int(seq.max()))
    if seq.dtype.kind == "f" and (fraction := np.flatnonzero(seq != np.floor(seq))).size:
        # ids averaged or scaled into magnitudes: .astype(int) would train on the wrong
        # tokens, so the fix is to remove the step that made them
        step = int(fraction[0])
        raise TypeError(
            f"Sequence {name} of X has dtype {seq.dtype} and holds {float(seq[step]):g} at "
            f"timestep {step}; token ids must be integers, and that is no whole number: a "
            "step before the estimator (a scaler or a resampler in the pipeline) probably "
            "turned the ids into magnitudes. Remove that step: token ids are categories, to "
            "be padded (sklstm.preprocessing.SequencePadder), never scaled or resampled.")
    if seq.dtype.kind == "b":
        # (told to cast with .astype(int), False became id 0, the default padding id,
        # which is removed: its tokens lost, an all-False sequence refused as empty)
        raise TypeError(
            f"Sequence {name} of X has dtype bool; token ids must be integers, and "
            ".astype(int) makes False id 0, the padding id by default (padding_idx=0), which "
            "is removed. If True and False are two tokens, give both an id of their own "
            "(.astype(int) + 1); to read them as a feature, leave embedding_dim None.")
    if seq.dtype.kind not in "iu":
        raise TypeError(
            f"Sequence {name} of X has dtype {seq.dtype}; token ids must be integers "
            "(cast with .astype(int) if they are whole numbers).")
    if seq.min() < 0:
        # (a padding value of -1, as SequencePadder(value=-1) gives, is the common one)
        raise ValueError(
            f"Sequence {name} of X contains the negative token id {seq.min()}; token ids "
            "must be >= 0: pad with padding_idx (0 by default), not a negative value, and "
            "map the other ids to 1..n_tokens (np.unique(ids, return_inverse=True)[1] + 1 "
            "does).")


def padding_inside(is_token):
    """Whether a padding id sits between two tokens of a sequence, where no padding
    scheme puts one (Keras pads before or after, a padded table after).

    Parameters
    ----------
    is_token : ndarray of bool of shape (n_timesteps,)
        The sequence's ids that are no padding.

    Returns
    -------
    bool

    Examples
    --------
    >>> padding_inside(np.array([True, False, True])), padding_inside(np.array([False, True]))
    (True, False)
    """
    # (a fit calls it once a sequence: a count, and where some ids are padding, whether
    # the `count` steps from the first token are all tokens; the array of the tokens'
    # positions took 5 times as long where no id is padding, as in ragged lists)
    count = int(np.count_nonzero(is_token))
    if count in (0, is_token.size):
        return False
    first = int(is_token.argmax())
    return int(np.count_nonzero(is_token[first:first + count])) != count


def warn_padding_inside(inside, n_sequences, padding_idx):
    """Warn that sequences hold ``padding_idx`` between tokens: likely a real token (ids
    counted from 0), which its removal as padding loses, silently otherwise.

    Parameters
    ----------
    inside : list of int
        The numbers of those sequences in X; nothing is said for none.
    n_sequences : int
        The number of sequences of X.
    padding_idx : int
        The padding id.
    """
    if not inside:
        return
    warn_at_caller(
        f"{len(inside)} of the {n_sequences} sequences of X hold the padding id "
        f"{padding_idx} between other ids (sequence {inside[0]} first), where padding never "
        f"goes. It is removed wherever it appears, so if {padding_idx} is a real token "
        "(ids counted from 0, as np.unique(words, return_inverse=True) and CountVectorizer's "
        "vocabulary_ give them) every occurrence is lost: shift the ids by one (ids + 1), "
        "or set padding_idx=None for sequences without padding.")
