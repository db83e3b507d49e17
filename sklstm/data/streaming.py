"""Streamed sequences: store data checked in one pass and padded one batch at a time.

In memory, :func:`~sklstm.data.timesteps.to_sequences` turns the input into one padded
array. For a :class:`~sklstm.data.store.SequenceStore` that array would be the whole
data set in memory, so the same steps (token padding removed, ``downsample``,
``seq_len``, padding, the float32 or int64 conversion) run per batch instead:
:class:`StreamedRows` stands where the padded array stands in
:class:`~sklstm.data.timesteps.Sequences` and makes the rows a batch asks for. What
must look at every value (finite numbers, token ids >= 0, the largest id, each token
row's length) is checked once, by :func:`scan_store`, reading one chunk at a time.

Memory: per sample only its length (and an anchor for relative forecasts) is held;
values exist in memory for one chunk or a few batches at a time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from . import store as store_module
from .steps import downsample_steps, keep_steps, pad_sequences, step_positions
from .store import SequenceStore

__all__ = ["StreamedRows", "check_finite", "iter_row_chunks", "scan_store", "take_rows",
           "token_id_beyond_int64_error"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class StoreScan:
    """What one pass over a store found: per-row token lengths and the largest id."""

    token_lengths: np.ndarray | None = None
    max_id: int | None = None


def _token_row(seq, padding_idx, seq_len, keep):
    """One token row as the in-memory path makes it (a batch's rows, one by one)."""
    if padding_idx is not None:
        seq = seq[seq != padding_idx]
    return keep_steps(seq, seq_len, keep)


def scan_store(store, *, tokens, padding_idx=None, seq_len=None, keep="last"):
    """Check every value of ``store`` in one pass, a chunk at a time.

    Parameters
    ----------
    store : SequenceStore
        The data.
    tokens : bool
        Token ids (integers >= 0, one per timestep) rather than numbers.
    padding_idx, seq_len, keep
        As for :func:`~sklstm.data.timesteps.to_sequences` (token rows only: they
        decide the lengths and the ids kept).

    Returns
    -------
    StoreScan
        Token rows' lengths and largest kept id (None for numbers).

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
        if kind == "f":
            for start, chunk in store.chunks():
                check_finite(chunk, start)
        return StoreScan()
    lengths = np.empty(len(store), dtype=np.int64)
    max_id = -1
    for part in store.chunk_slices():
        positions = np.arange(part.start, part.stop)
        steps, counts = _steps_of(store, positions)
        _check_ids(steps, counts, positions)
        steps, lengths[part] = _kept_token_steps(steps, counts, positions,
                                                 padding_idx, seq_len, keep)
        max_id = max(max_id, int(steps.max()))
    return StoreScan(lengths, max_id)


def _kept_token_steps(steps, counts, positions, padding_idx, seq_len, keep):
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
        at, n = step_positions(counts), np.repeat(counts, counts)
        steps = steps[at >= n - seq_len] if keep == "last" else steps[at < seq_len]
        counts = np.minimum(counts, seq_len)
    return steps, counts


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
    sequence : int
        The sequence's position in ``X``.
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


def check_finite(chunk, start):
    """Raise a ValueError naming the first sequence of a store's chunk that holds NaN,
    infinity or a value beyond float32's range.

    Parameters
    ----------
    chunk : ndarray or list of ndarray
        What :meth:`SequenceStore.chunks` yields.
    start : int
        Position of the chunk's first sequence.
    """
    # every step of the chunk at once (a check per sequence, in Python, took ~3 s per
    # million sequences); a ragged chunk's steps are its sequences one after the other
    ragged = isinstance(chunk, list)
    steps = (np.concatenate(chunk) if chunk else np.empty(0)) if ragged else chunk
    bad = _beyond_float32(steps)
    if not bad.any():
        return
    first = int(np.argmax(bad.reshape(len(steps), -1).any(axis=1)))
    if ragged:  # the step's sequence: how many sequences end at or before it
        first = int(np.searchsorted(np.cumsum([len(seq) for seq in chunk]), first,
                                    side="right"))
    raise ValueError(
        f"Input X contains NaN, infinity or a value beyond float32's range "
        f"(+-3.4e38, which the network computes in) in sequence {start + first}; clean "
        "or rescale it (sklstm.preprocessing.SequenceScaler).")


@dataclass(frozen=True)
class StreamedRows:
    """Padded rows of a validated store, made per batch: the lazy ``Sequences.values``.

    Parameters
    ----------
    store : SequenceStore
        The validated data (a view, with the maps of any transformer before).
    lengths : ndarray of int64
        Every row's length after ``downsample`` and ``seq_len``.
    width : int
        The padded width: the longest row.
    n_features : int
        Features per timestep (1 for token ids).
    tokens : bool
        Rows of int64 token ids, else float32 values.
    factor : int, default=1
        The ``downsample`` factor.
    seq_len : int or None, default=None
        Steps kept of every sequence.
    keep : {"last", "first"}, default="last"
        Which steps ``seq_len`` keeps.
    padding_idx : int or None, default=None
        Token rows: the padding id (removed from padded rows, used to pad).
    max_id : int or None, default=None
        Token rows: the largest id kept.
    anchors : ndarray of shape (n_samples, n_features) or None, default=None
        Subtracted from every valid step of each row (relative forecasts).
    """

    store: SequenceStore
    lengths: np.ndarray
    width: int
    n_features: int
    tokens: bool
    factor: int = 1
    seq_len: int | None = None
    keep: str = "last"
    padding_idx: int | None = None
    max_id: int | None = None
    anchors: np.ndarray | None = None

    @property
    def shape(self):
        """``(n_samples, width, n_features)``, or ``(n_samples, width)`` for token ids."""
        return (len(self), self.width) + (() if self.tokens else (self.n_features,))

    @property
    def dtype(self):
        """int64 for token ids, else float32."""
        return np.dtype(np.int64 if self.tokens else np.float32)

    def __len__(self):
        return len(self.lengths)

    def max(self):
        """The largest value: the largest token id kept (token rows only)."""
        if not self.tokens:
            raise TypeError("max() of streamed rows is known for token ids only.")
        pads = self.padding_idx is not None and bool((self.lengths < self.width).any())
        return max(self.max_id, self.padding_idx if pads else -1)

    def relative(self, anchors):
        """These rows with ``anchors`` subtracted from every valid step."""
        return dataclasses.replace(self, anchors=np.asarray(anchors, dtype=np.float64))

    def rows(self, positions, width=None):
        """The padded rows at ``positions``, ``width`` steps wide (at most :attr:`width`).

        Parameters
        ----------
        positions : array-like of int
            Rows to make.
        width : int or None, default=None
            Steps per row, the first ones (as ``array[:, :width]``); None is
            :attr:`width`.

        Returns
        -------
        ndarray
            ``(len(positions), width, n_features)`` float32, or ``(len(positions),
            width)`` int64 token ids, right-padded.
        """
        positions = np.asarray(positions, dtype=np.int64)
        width = self.width if width is None else min(width, self.width)
        if self.store.ragged and self.factor == 1:
            out = self._gathered(positions, width)
        else:
            out = self._one_by_one(positions, width)
        if self.anchors is not None:
            out = self._relative(out, positions)
        return out

    def _relative(self, out, positions):
        """Padded rows minus their anchors, the padding left 0.

        The difference is taken in float64 and rounded to float32 once, as
        :func:`~sklstm.data.relative.relative_sequences` does in memory: a mean anchor
        has no float32 value, and rounding it first would change the rows (and the
        model) by a last bit.
        """
        relative = out - self.anchors[positions][:, None, :]
        relative[np.arange(out.shape[1])[None, :] >= self.lengths[positions][:, None]] = 0.0
        return relative.astype(np.float32)

    def _gathered(self, positions, width):
        """Rows of a ragged store in one gather (:meth:`SequenceStore.read_steps`)."""
        if self.tokens and self.padding_idx is not None:
            # whole rows: seq_len counts the tokens that are not padding
            steps, counts = self.store.read_steps(positions)
            steps, counts = _kept_token_steps(steps, counts, positions, self.padding_idx,
                                              self.seq_len, self.keep)
        else:
            steps, counts = self.store.read_steps(positions, self.seq_len, self.keep)
        if counts.size and counts.max() > width:  # a narrower batch: its first steps
            within = step_positions(counts)
            steps, counts = steps[within < width], np.minimum(counts, width)
        if self.tokens:
            pad = 0 if self.padding_idx is None else self.padding_idx
            out = np.full((len(positions), width), pad, dtype=np.int64)
        else:
            out = np.zeros((len(positions), width, self.n_features), dtype=np.float32)
            steps = steps.reshape(len(steps), self.n_features)
        # rows are right-padded: the first `count` places of row i take its steps
        out[np.arange(width)[None, :] < counts[:, None]] = steps
        return out

    def _one_by_one(self, positions, width):
        """Rows read sequence by sequence: padding removed, or averaged steps."""
        data = self.store.read(positions)
        if self.tokens:
            items = [_token_row(seq, self.padding_idx, self.seq_len, self.keep)
                     for seq in data]
            pad = 0 if self.padding_idx is None else self.padding_idx
            if not items:
                return np.empty((0, width), np.int64)
            return pad_sequences(items, width, value=pad, dtype=np.int64, keep="first")
        if isinstance(data, list):  # ragged
            items = [self._steps(seq if seq.ndim == 2 else seq[:, None], axis=0)
                     for seq in data]
            return (pad_sequences(items, width, value=0.0, dtype=np.float32, keep="first")
                    if items else np.empty((0, width, self.n_features), np.float32))
        values = data if data.ndim == 3 else data[:, :, None]
        return np.ascontiguousarray(self._steps(values, axis=1)[:, :width], dtype=np.float32)

    def _steps(self, values, axis):
        """``downsample`` then ``seq_len``, in the float dtype the in-memory path uses."""
        if values.dtype not in (np.float32, np.float64):
            values = values.astype(np.float32)
        values = downsample_steps(values, self.factor, axis=axis)
        return keep_steps(values, self.seq_len, self.keep, axis=axis)


def iter_row_chunks(values, max_rows=None):
    """Padded rows of ``values`` (an array or :class:`StreamedRows`), a chunk at a time.

    Parameters
    ----------
    values : ndarray or StreamedRows
        Padded sequences.
    max_rows : int or None, default=None
        Rows per chunk at most; None picks about ``CHUNK_BYTES`` of padded rows (the
        store's chunk, 8 MiB: what its validation reads at a time). Streamed rows are
        also read at most a chunk of the store's stored values at a time.

    Yields
    ------
    start : int
        The chunk's first row.
    rows : ndarray
        The rows, as :meth:`StreamedRows.rows` makes them.
    """
    n = len(values)
    if max_rows is None:
        per_row = max(1, int(np.prod(values.shape[1:])) * values.dtype.itemsize)
        max_rows = max(1, store_module.CHUNK_BYTES // per_row)
    if not isinstance(values, StreamedRows):
        for start in range(0, n, max_rows):
            yield start, values[start:start + max_rows]
        return
    # a row is made from its whole stored sequence (read, then averaged and cut to
    # seq_len), so a chunk is bounded by the stored values it reads as well: counted in
    # padded rows alone, a few kept steps of long sequences made one chunk of the store
    for part in values.store.chunk_slices():
        for start in range(part.start, part.stop, max_rows):
            yield start, values.rows(np.arange(start, min(start + max_rows, part.stop)))


def take_rows(values, positions, width):
    """``values[positions, :width]`` for an array or :class:`StreamedRows`."""
    if isinstance(values, StreamedRows):
        return values.rows(positions, width)
    return values[np.asarray(positions)][:, :width]
