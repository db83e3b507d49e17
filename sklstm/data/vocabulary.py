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

__all__ = ["ID_BLOCK", "MAX_INFERRED_VOCAB", "check_token_ids", "check_token_sequence",
           "fitted_vocab_size", "negative_id_error", "object_ids", "padding_inside",
           "warn_padding_inside", "without_padding"]

#: Largest vocabulary a fit infers (``vocab_size=None``): 2**20 = 1,048,576 ids.
MAX_INFERRED_VOCAB = 2**20

#: Ids of token sequences read together (copied into one array) by :func:`without_padding`.
ID_BLOCK = 1 << 16


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
        raise negative_id_error(seq, name)


def negative_id_error(seq, name):
    """The error for the sequence ``seq`` of integer ids, number ``name`` in X, holding a
    negative one (:func:`check_token_sequence`; a fit checks many sequences' signs at once).

    Returns
    -------
    ValueError
    """
    # (a padding value of -1, as SequencePadder(value=-1) gives, is the common one)
    return ValueError(
        f"Sequence {name} of X contains the negative token id {seq.min()}; token ids "
        "must be >= 0: pad with padding_idx (0 by default), not a negative value, and "
        "map the other ids to 1..n_tokens (np.unique(ids, return_inverse=True)[1] + 1 "
        "does).")


def without_padding(rows, padding_idx, reset, name=None):
    """The token sequences ``rows`` as int64 ids without ``padding_idx`` (wherever it
    is: a sequence's prediction never depends on the others it comes with); a fit
    (``reset``) warns of padding ids between tokens.

    Parameters
    ----------
    rows : list of ndarray
        1D non-empty sequences of non-negative integer ids (:func:`check_token_sequence`).
    padding_idx : int or None
        The padding id; None removes nothing.
    reset : bool
        True in a fit, which warns of padding between tokens.
    name : callable or None, default=None
        How the errors and the warning name the sequence at a position (with its index
        label: :func:`~sklstm.data.ragged.sequence_name`); None: by the position.

    Returns
    -------
    list of ndarray of int64
        Views of one array per block of sequences.

    Raises
    ------
    ValueError
        A sequence of padding only, or a uint64 id beyond int64; the first such sequence
        is named.
    """
    # (the sequences are read a block of ID_BLOCK ids at a time, copied into one array:
    # read one at a time, as before, their checks took 20 us a sentence, most of a token
    # fit's setup; a block bounds the copies of a large X)
    name = name or (lambda i: i)
    bounds = np.zeros(len(rows) + 1, dtype=np.int64)  # (where each sequence starts)
    np.cumsum(np.fromiter(map(len, rows), dtype=np.int64, count=len(rows)), out=bounds[1:])
    out, inside, start = [], [], 0
    while start < len(rows):
        stop = max(int(np.searchsorted(bounds, bounds[start] + ID_BLOCK, side="right")) - 1,
                   start + 1)  # (a longer sequence alone)
        out += _block_without_padding(rows[start:stop], bounds[start:stop + 1] - bounds[start],
                                      padding_idx, start, reset, inside, name)
        start = stop
    warn_padding_inside(inside, len(out), padding_idx, name)
    return out


def _block_without_padding(block, bounds, padding_idx, start, reset, inside, name):
    """:func:`without_padding` of the sequences ``block``, from number ``start`` of X,
    each from ``bounds[j]`` to ``bounds[j + 1]`` of their ids; appends to ``inside``
    the numbers of those with padding between tokens, if ``reset``."""
    wide = any(row.dtype == np.uint64 for row in block)
    # (all ids are >= 0, checked: exact in uint64 where a sequence is uint64, else in
    # int64; numpy's common type of the two, float64, would round large ids)
    flat = np.concatenate(block, dtype=np.uint64 if wide else np.int64, casting="unsafe")
    is_token = None if padding_idx is None else flat != padding_idx
    kept = flat if is_token is None else flat[is_token]
    cuts = bounds if is_token is None else np.concatenate([[0], np.cumsum(is_token)])[bounds]
    empty = np.flatnonzero(cuts[1:] == cuts[:-1])
    beyond = np.flatnonzero(kept > np.iinfo(np.int64).max) if wide else empty[:0]
    if empty.size or beyond.size:
        # (the first sequence wrong either way, as when each was checked in turn)
        owner = np.searchsorted(cuts, beyond[:1], side="right") - 1
        i = int(min(empty[:1].tolist() + owner.tolist()))
        if empty.size and empty[0] == i:
            raise ValueError(
                f"Sequence {name(start + i)} of X is empty (only padding id {padding_idx}); "
                "every sequence needs at least one token. Remove it together with its target.")
        # as int64 (what the embedding reads) such an id wraps to a negative one, which
        # no later check sees: torch's bare "index out of range in self"
        raise token_id_beyond_int64_error(name(start + i), kept[cuts[i]:cuts[i + 1]].max())
    if reset and is_token is not None:
        inside += (start + np.flatnonzero(padding_inside(is_token, bounds))).tolist()
    kept = kept.astype(np.int64, copy=False)
    return [kept[a:b] for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)]


def padding_inside(is_token, bounds):
    """Which sequences hold a padding id between two tokens, where no padding scheme
    puts one (Keras pads before or after, a padded table after).

    Parameters
    ----------
    is_token : ndarray of bool of shape (n_steps,)
        The ids of the sequences, one after the other, that are no padding.
    bounds : ndarray of int of shape (n_sequences + 1,)
        Where each sequence starts in ``is_token``, then where the last one ends.

    Returns
    -------
    ndarray of bool of shape (n_sequences,)

    Examples
    --------
    >>> padding_inside(np.array([True, False, True, False, True]), np.array([0, 3, 5]))
    array([ True, False])
    """
    # the tokens of a sequence span more steps than their count: padding between them
    seen = np.concatenate([[0], np.cumsum(is_token)])[bounds]  # (tokens before each)
    count = np.diff(seen)
    positions = np.flatnonzero(is_token)
    span = np.zeros_like(count)
    some = count > 0
    span[some] = positions[seen[1:][some] - 1] - positions[seen[:-1][some]] + 1
    return span != count


def warn_padding_inside(inside, n_sequences, padding_idx, name=None):
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
    name : callable or None, default=None
        How the warning names the sequence at a position (:func:`without_padding`).
    """
    if not inside:
        return
    first = inside[0] if name is None else name(inside[0])
    warn_at_caller(
        f"{len(inside)} of the {n_sequences} sequences of X hold the padding id "
        f"{padding_idx} between other ids (sequence {first} first), where padding never "
        f"goes. It is removed wherever it appears, so if {padding_idx} is a real token "
        "(ids counted from 0, as np.unique(words, return_inverse=True) and CountVectorizer's "
        "vocabulary_ give them) every occurrence is lost: shift the ids by one (ids + 1), "
        "or set padding_idx=None for sequences without padding.")
