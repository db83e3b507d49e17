"""A store's values checked in one pass, one chunk at a time (:func:`scan_store`), and
the rows it and :class:`~sklstm.data.streaming.StreamedRows` make alike.

What must look at every value of a :class:`~sklstm.data.store.SequenceStore` before a fit
(finite numbers, token ids >= 0 and within int64, the largest id, each token row's
length, every feature's root mean square, the levels ``split_level="auto"`` checks) is
read here once, so that no batch of the fit and no other pass has to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .input_errors import non_finite_error
from .steps import downsample_sequences, downsample_steps, keep_steps, step_positions

__all__ = [
    "StoreScan",
    "check_finite",
    "kept_sequences",
    "kept_steps",
    "kept_token_steps",
    "root_mean_squares",
    "scan_store",
    "token_id_beyond_int64_error",
    "token_row",
]

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class StoreScan:
    """What one pass over a store found: per-row token lengths and the largest id, or
    every feature's root mean square (:func:`root_mean_squares`) over the steps its rows
    keep, and the means per feature of the rows at ``level_rows``."""

    token_lengths: np.ndarray | None = None
    max_id: int | None = None
    rms: np.ndarray | None = None
    levels: np.ndarray | None = None


def root_mean_squares(total, count):
    """Every feature's root mean square from its sum of squares ``total`` over ``count``
    steps; 1 for a feature of zeros (it has no scale to tell of)."""
    rms = np.sqrt(total / max(count, 1))
    return np.where(rms > 0, rms, 1.0)


def kept_steps(values, factor, seq_len, keep, dtype, axis):
    """``values`` (numbers, time on ``axis``) averaged by ``factor`` and cut to
    ``seq_len``, as a numeric row holds them: integers are averaged in ``dtype``, the
    rows' float dtype, floats in their own dtype."""
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(dtype)
    values = downsample_steps(values, factor, axis=axis)
    return keep_steps(values, seq_len, keep, axis=axis)


def kept_sequences(sequences, factor, seq_len, keep, dtype):
    """:func:`kept_steps` of every sequence (time on axis 0), value for value, the
    windows of all averaged at once (:func:`~sklstm.data.steps.downsample_sequences`).

    Averaged one call per sequence, the ragged rows of a batch took 1.1 s of a 9 s epoch
    (12%; 20,000 sequences of 10-300 steps, ``downsample=4``; 0.6 s of 7.6 s, 8%, now)
    and the store's scan 1.4 s (0.3 s now): medians of 3 runs,
    ``python benchmarks/bench_ragged_averaging.py --before DIR``
    (``benchmarks/results/ragged_averaging.md``).

    Parameters
    ----------
    sequences : list of ndarray
        Sequences of numbers.
    factor : int
        The ``downsample`` factor.
    seq_len : int or None
        Steps kept of every averaged sequence.
    keep : {"last", "first"}
        Which steps ``seq_len`` keeps.
    dtype : dtype
        The rows' float dtype, in which other numbers than float32 and float64 are
        averaged.

    Returns
    -------
    list of ndarray
        The kept steps of every sequence.
    """
    # cast before averaging, as kept_steps does (integers rounded to dtype first)
    sequences = [seq if seq.dtype in (np.float32, np.float64) else seq.astype(dtype)
                 for seq in sequences]
    averaged = downsample_sequences(sequences, factor)
    if seq_len is None:
        return averaged
    return [keep_steps(seq, seq_len, keep) for seq in averaged]


def token_row(seq, padding_idx, seq_len, keep):
    """One token row as the in-memory path makes it (a batch's rows, one by one)."""
    if padding_idx is not None:
        seq = seq[seq != padding_idx]
    return keep_steps(seq, seq_len, keep)


def scan_store(store, *, tokens, padding_idx=None, seq_len=None, keep="last", factor=1,
               rms=False, float64=False, level_rows=None):
    """Check every value of ``store`` in one pass, a chunk at a time.

    Parameters
    ----------
    store : SequenceStore
        The data.
    tokens : bool
        Token ids (integers >= 0, one per timestep) rather than numbers.
    padding_idx, seq_len, keep
        As for :func:`~sklstm.data.timesteps.to_sequences` (token rows: they decide
        the lengths and the ids kept; numbers: the steps ``rms`` is taken over).
    factor : int, default=1
        Numbers: the ``downsample`` factor of the rows ``rms`` is taken over.
    rms : bool, default=False
        Numbers: also every feature's root mean square over the steps the rows hold
        (averaged, cut to ``seq_len``, rounded to the rows' dtype), what a fit asks of
        them (:meth:`~sklstm.data.timesteps.Sequences.feature_rms`), in this pass
        rather than in a second one over the store.
    float64 : bool, default=False
        Numbers: the rows are float64 (else float32), for ``rms`` and ``level_rows``.
    level_rows : ndarray of int or None, default=None
        Numbers: also the mean per feature of each row at these positions (sorted), in
        float64 over the steps the row holds: the levels of
        :func:`~sklstm.data.level.resolve_split_level`'s sample, found in this pass
        rather than by reading the sample again.

    Returns
    -------
    StoreScan
        Token rows' lengths and largest kept id (None for numbers); with ``rms``, the
        root mean squares; with ``level_rows``, the means, shape
        ``(len(level_rows), n_features)``.

    Raises
    ------
    TypeError, ValueError
        Non-numeric or non-integer ids, NaN or infinity, a value beyond float32, a
        negative id, a token row of padding only; each names the sequence.
    """
    kind = store.dtype.kind
    if kind not in ("iu" if tokens else "biuf"):
        raise TypeError(
            f"X is a SequenceStore of dtype {store.dtype}; "
            + ("token ids must be integers (write the store with an integer dtype)."
               if tokens else "sequences must hold numbers."))
    if tokens and store.sequence_ndim != 1:
        raise ValueError("Token input must hold one id per timestep: a ragged store of 1D "
                         "sequences or a dense 2D store (n_samples, n_timesteps).")
    if not tokens:
        if store.ragged and store.sequence_ndim == 1:  # the rule of a list in memory
            raise ValueError(
                "X is a SequenceStore of 1D sequences; sequences of numbers must be 2D "
                "(n_timesteps, n_features): write each univariate sequence as "
                "seq.reshape(-1, 1), or set embedding_dim if they are token ids.")
        if kind != "f" and not rms and level_rows is None:
            return StoreScan()
        dtype = np.float64 if float64 else np.float32
        total, count = np.zeros(store.n_features), 0
        means = None if level_rows is None else []
        lengths = store.lengths  # (once: a view computes them afresh each time)
        for start, chunk in store.chunks():
            steps = _flat_steps(chunk)
            if kind == "f":
                _check_finite_steps(chunk, steps, start, float32=True)
            if not (rms or means is not None) or not len(chunk):
                continue
            values, counts = _kept_values(chunk, steps, lengths[start:start + len(chunk)],
                                          factor, seq_len, keep, dtype)
            total += np.einsum("nf,nf->f", values, values)
            count += len(values)
            if means is not None:  # the chunk's rows among level_rows
                at = level_rows[np.searchsorted(level_rows, start):
                                np.searchsorted(level_rows, start + len(counts))]
                means.append(_row_means(values, counts, at - start))
        return StoreScan(rms=root_mean_squares(total, count) if rms else None,
                         levels=None if means is None else np.concatenate(
                             [np.empty((0, store.n_features)), *means]))
    lengths = np.empty(len(store), dtype=np.int64)
    max_id = -1
    for part in store.chunk_slices():
        positions = np.arange(part.start, part.stop)
        steps, counts = _steps_of(store, positions)
        _check_ids(steps, counts, positions)
        steps, lengths[part] = kept_token_steps(steps, counts, positions,
                                                 padding_idx, seq_len, keep)
        max_id = max(max_id, int(steps.max()))
    return StoreScan(lengths, max_id)


def kept_token_steps(steps, counts, positions, padding_idx, seq_len, keep):
    """``(steps, counts)`` of token rows without their padding ids, then cut to
    ``seq_len`` (which counts real tokens), as the in-memory path makes them.

    All rows of a chunk at once (numpy over all its ids), not one sequence at a time: a
    Python loop per sequence took ~1 s per million sequences. ``positions`` name the
    rows in the error for a row of padding only.
    """
    if padding_idx is not None:
        real = steps != padding_idx
        row = np.repeat(np.arange(len(counts)), counts)
        counts = np.bincount(row[real], minlength=len(counts))
        if (counts == 0).any():
            raise ValueError(
                f"Sequence {int(positions[np.argmin(counts)])} of X is empty (only padding "
                f"id {padding_idx}); every sequence needs at least one token. Remove it "
                "together with its target.")
        steps = steps[real]
    if seq_len is not None and counts.max() > seq_len:
        steps = steps[_kept_step_mask(counts, seq_len, keep)]
        counts = np.minimum(counts, seq_len)
    return steps, counts


def _kept_step_mask(counts, seq_len, keep):
    """Which of the steps of sequences of ``counts`` steps, laid one after the other,
    ``seq_len`` keeps (the last or the first ones of each)."""
    at, n = step_positions(counts), np.repeat(counts, counts)
    return at >= n - seq_len if keep == "last" else at < seq_len


def _kept_values(chunk, steps, lengths, factor, seq_len, keep, dtype):
    """``(values, counts)``: the steps the rows of a chunk of numbers hold (``steps``:
    :func:`_flat_steps`; ``lengths``: its sequences' stored lengths), one row after the
    other, float64 of shape ``(n_steps, n_features)``, and each row's number of them.

    The values are rounded to the rows' ``dtype`` first, as the rows' are: the same root
    mean squares and means as the rows give, without making them (padded, a chunk at a
    time, they took a second pass over the store)."""
    if isinstance(chunk, list):  # ragged: 2D sequences (1D numbers were refused)
        if factor > 1:  # averaged as the rows are made (StreamedRows._one_by_one)
            kept = np.concatenate(kept_sequences(chunk, factor, seq_len, keep, dtype))
            counts = -(-lengths // factor)
            counts = counts if seq_len is None else np.minimum(counts, seq_len)
        else:
            counts, kept = lengths, steps
            if seq_len is not None:
                kept = steps[_kept_step_mask(counts, seq_len, keep)]
                counts = np.minimum(counts, seq_len)
    else:
        kept = kept_steps(chunk if chunk.ndim == 3 else chunk[:, :, None],
                          factor, seq_len, keep, dtype, axis=1)
        counts = np.full(len(kept), kept.shape[1])
    values = kept.astype(dtype, copy=False).astype(np.float64).reshape(-1, kept.shape[-1])
    return values, counts


def _row_means(values, counts, rows):
    """The mean per feature of each of the ``rows`` (positions in the chunk) of steps
    ``values`` laid one row after the other, ``counts`` steps each (one at least)."""
    if not len(rows):
        return np.empty((0, values.shape[1]))
    if len(rows) < len(counts):  # the chosen rows' steps alone
        chosen = np.zeros(len(counts), dtype=bool)
        chosen[rows] = True
        values, counts = values[np.repeat(chosen, counts)], counts[rows]
    # summed per row: a segment of the steps each
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.add.reduceat(values, starts, axis=0) / counts[:, None]


def _steps_of(store, positions):
    """``(steps, counts)`` of the rows at ``positions``: their ids one after the other,
    dense or ragged."""
    if store.ragged:
        return store.read_steps(positions)
    rows = store.read(positions)
    return rows.reshape(-1), np.full(len(positions), rows.shape[1])


def _check_ids(steps, counts, positions):
    """Token ids >= 0 (and within int64) and no empty row; errors name the sequence."""
    if counts.size and counts.min() == 0:
        raise ValueError(f"Sequence {int(positions[np.argmin(counts)])} of X is empty; every "
                         "sequence needs at least one token. Remove it together with its "
                         "target.")
    if steps.size and steps.min() < 0:
        at = int(np.argmin(steps))
        row = int(np.searchsorted(np.cumsum(counts), at, side="right"))
        raise ValueError(f"Sequence {int(positions[row])} of X contains the negative token "
                         f"id {steps[at]}; token ids must be >= 0.")
    if steps.dtype == np.uint64 and steps.size and steps.max() > _INT64_MAX:
        # rows are int64 tensors: such an id would wrap to a negative one there, and
        # the vocabulary check, which reads the rows, would find no id too large
        at = int(np.argmax(steps))
        row = int(np.searchsorted(np.cumsum(counts), at, side="right"))
        raise token_id_beyond_int64_error(int(positions[row]), steps[at])


def token_id_beyond_int64_error(sequence, token_id):
    """The error for a uint64 token id that int64, the embedding's index type, cannot
    hold (it would wrap to a negative id, which no later check sees).

    Parameters
    ----------
    sequence : int or str
        The sequence's position in ``X``, or its name there (with its index label).
    token_id : int
        The id.

    Returns
    -------
    ValueError
    """
    return ValueError(f"Sequence {sequence} of X contains token id {token_id}, beyond int64 "
                      "(the ids the embedding reads); map the ids to 1..n_tokens first "
                      "(np.unique(ids, return_inverse=True)[1] + 1 does).")


def _beyond_float32(values):
    """Where ``values`` hold NaN, infinity or a value beyond float32's range.

    Only wider numbers are compared with float32's largest value: numpy compares a
    narrower array with a Python float in the array's dtype, where that value is
    infinite (float16), so infinity would pass as within range.
    """
    if values.dtype.itemsize < 8:  # (no float16 or float32 value is beyond float32)
        return ~np.isfinite(values)
    with np.errstate(invalid="ignore"):
        return ~(np.abs(values) <= _FLOAT32_MAX)


def check_finite(chunk, start, float32=False):
    """Raise a ValueError naming the first sequence of a store's chunk that holds NaN or
    infinity (placed, with its fix, in the words of the same data in memory) or, with
    ``float32``, a value beyond float32's range.

    Parameters
    ----------
    chunk : ndarray or list of ndarray
        What :meth:`SequenceStore.chunks` yields.
    start : int
        Position of the chunk's first sequence.
    float32 : bool, default=False
        Refuse values beyond float32's range too: what the network reads (the
        estimators' check), not what :class:`~sklstm.preprocessing.SequenceScaler`
        reads, which scales such values into range as it does in memory.
    """
    _check_finite_steps(chunk, _flat_steps(chunk), start, float32)


def _flat_steps(chunk):
    """A chunk's values at once: a ragged chunk's steps, its sequences one after the
    other; a dense chunk as it is."""
    if isinstance(chunk, list):
        return np.concatenate(chunk) if chunk else np.empty(0)
    return chunk


def _check_finite_steps(chunk, steps, start, float32):
    """:func:`check_finite` of a chunk whose ``steps`` (:func:`_flat_steps`) are made."""
    # every step of the chunk at once (a check per sequence, in Python, took ~3 s per
    # million sequences)
    bad = _beyond_float32(steps) if float32 else ~np.isfinite(steps)
    if not bad.any():
        return
    first = int(np.argmax(bad.reshape(len(steps), -1).any(axis=1)))
    if isinstance(chunk, list):  # the step's sequence: how many sequences end at or before it
        first = int(np.searchsorted(np.cumsum([len(seq) for seq in chunk]), first,
                                    side="right"))
    if not np.isfinite(chunk[first]).all():
        # (not "NaN, infinity or beyond float32, rescale it with SequenceScaler": a
        # memory-mapped .npy said so where the array in memory said where and how to fill)
        raise non_finite_error(chunk[first], sequence=start + first)
    raise ValueError(
        f"Input X contains a value beyond float32's range (+-3.4e38, which the network "
        f"computes in) in sequence {start + first}; rescale it "
        "(sklstm.preprocessing.SequenceScaler).")
