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

from .streaming import iter_row_chunks

__all__ = ["MAX_INFERRED_VOCAB", "check_token_ids", "fitted_vocab_size"]

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
