"""Streamed sequences: store data checked in one pass and padded one batch at a time.

In memory, :func:`~sklstm.data.timesteps.to_sequences` turns the input into one padded
array. For a :class:`~sklstm.data.store.SequenceStore` that array would be the whole
data set in memory, so the same steps (token padding removed, ``downsample``,
``seq_len``, padding, the float32 or int64 conversion) run per batch instead:
:class:`StreamedRows` stands where the padded array stands in
:class:`~sklstm.data.timesteps.Sequences` and makes the rows a batch asks for. What
must look at every value (finite numbers, token ids >= 0, the largest id, each token
row's length, a fit's root mean squares) is checked once, by
:func:`~sklstm.data.store_scan.scan_store`, reading one chunk at a time.

Memory: per sample only its length (and an anchor for relative forecasts) is held;
values exist in memory for one chunk or a few batches at a time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from . import store as store_module
from .steps import downsample_steps, pad_sequences, step_positions
from .store import SequenceStore
from .store_scan import (
    check_finite,
    kept_sequences,
    kept_steps,
    kept_token_steps,
    scan_store,
    token_id_beyond_int64_error,
    token_row,
)

__all__ = ["StreamedRows", "check_finite", "downsample_rows", "iter_row_chunks", "minus_anchors",
           "scan_store", "take_rows", "token_id_beyond_int64_error"]

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
    float64 : bool, default=False
        Numeric rows in float64 (for a float64 store) until :meth:`relative` has
        subtracted the anchors, so that the anchor of a large level is subtracted
        before the rounding to float32, not after it.
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
    float64: bool = False

    @property
    def shape(self):
        """``(n_samples, width, n_features)``, or ``(n_samples, width)`` for token ids."""
        return (len(self), self.width) + (() if self.tokens else (self.n_features,))

    @property
    def dtype(self):
        """int64 for token ids, else float32 (float64 before :meth:`relative`, with
        ``float64``)."""
        if self.tokens:
            return np.dtype(np.int64)
        return np.dtype(np.float64 if self.float64 and self.anchors is None else np.float32)

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

    def subset(self, positions):
        """The rows at ``positions`` (a view of the store: nothing is read), as wide."""
        return dataclasses.replace(
            self, store=self.store[positions], lengths=self.lengths[positions],
            anchors=None if self.anchors is None else self.anchors[positions])

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
            ``(len(positions), width, n_features)`` of :attr:`dtype`, or ``(len(positions),
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
        return minus_anchors(out, self.anchors[positions], self.lengths[positions]).astype(
            np.float32)

    def _gathered(self, positions, width):
        """Rows of a ragged store in one gather (:meth:`SequenceStore.read_steps`)."""
        if self.tokens and self.padding_idx is not None:
            # whole rows: seq_len counts the tokens that are not padding
            steps, counts = self.store.read_steps(positions)
            steps, counts = kept_token_steps(steps, counts, positions, self.padding_idx,
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
            out = np.zeros((len(positions), width, self.n_features), dtype=self._float)
            steps = steps.reshape(len(steps), self.n_features)
        # rows are right-padded: the first `count` places of row i take its steps
        out[np.arange(width)[None, :] < counts[:, None]] = steps
        return out

    def _one_by_one(self, positions, width):
        """Rows read sequence by sequence: padding removed, or averaged steps."""
        data = self.store.read(positions)
        if self.tokens:
            items = [token_row(seq, self.padding_idx, self.seq_len, self.keep)
                     for seq in data]
            pad = 0 if self.padding_idx is None else self.padding_idx
            if not items:
                return np.empty((0, width), np.int64)
            return pad_sequences(items, width, value=pad, dtype=np.int64, keep="first")
        if isinstance(data, list):  # ragged: averaged all at once
            items = kept_sequences([seq if seq.ndim == 2 else seq[:, None] for seq in data],
                                   self.factor, self.seq_len, self.keep, self._float)
            return (pad_sequences(items, width, value=0.0, dtype=self._float, keep="first")
                    if items else np.empty((0, width, self.n_features), self._float))
        values = data if data.ndim == 3 else data[:, :, None]
        return np.ascontiguousarray(self._steps(values, axis=1)[:, :width], dtype=self._float)

    @property
    def _float(self):
        """The dtype numeric rows are made in (anchors are subtracted from them)."""
        return np.float64 if self.float64 else np.float32

    def _steps(self, values, axis):
        """``downsample`` then ``seq_len`` of dense rows, in the float dtype the
        in-memory path uses (as the scan's root mean squares take them:
        :func:`kept_steps`)."""
        return kept_steps(values, self.factor, self.seq_len, self.keep, self._float, axis)


def downsample_rows(data, factor):
    """:func:`~sklstm.data.steps.downsample_steps` of a 2D or 3D array (time on axis 1),
    a chunk of rows at a time into the output (floats keep their dtype, other numbers
    are averaged into float64); ``data`` itself where ``factor`` is 1.

    Averaged whole, ``np.add.reduceat(dtype=float64)`` cast all of ``data`` to float64
    first: 3 times a float32 X at the peak (downsample="auto", every fit on more than
    100 steps), 6 times the output for the resampler. The rows of a chunk are about
    ``CHUNK_BYTES`` in float64, in which their steps are summed.
    """
    if factor == 1:
        return data
    dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float64)
    out = np.empty((len(data), -(-data.shape[1] // factor), *data.shape[2:]), dtype=dtype)
    row_values = max(1, int(np.prod(data.shape[1:])))
    max_rows = max(1, store_module.CHUNK_BYTES // (8 * row_values))
    for start, rows in iter_row_chunks(data, max_rows):
        out[start:start + len(rows)] = downsample_steps(rows, factor, axis=1)
    return out


def iter_row_chunks(values, max_rows=None, *, trim=False):
    """Padded rows of ``values`` (an array or :class:`StreamedRows`), a chunk at a time.

    Parameters
    ----------
    values : ndarray or StreamedRows
        Padded sequences.
    max_rows : int or None, default=None
        Rows per chunk at most; None picks about ``CHUNK_BYTES`` of padded rows (the
        store's chunk, 8 MiB: what its validation reads at a time). Streamed rows are
        also read at most a chunk of the store's stored values at a time.
    trim : bool, default=False
        Streamed rows only: cut each chunk's rows to its own longest row (None
        picks the rows by that width too). For passes that mask the padding by the
        lengths: padded to the longest row of all, one sequence of 100,000 steps among
        20,000 of 50 made a pass over 8 MB of steps compute over 15 GiB of padding
        (a minute). Off, every chunk is :attr:`StreamedRows.width` wide, as the padded
        array in memory is (what a fingerprint of the rows must see).

    Yields
    ------
    start : int
        The chunk's first row.
    rows : ndarray
        The rows, as :meth:`StreamedRows.rows` makes them.
    """
    n = len(values)
    per_step = max(1, int(np.prod(values.shape[2:])) * values.dtype.itemsize)
    if not isinstance(values, StreamedRows):
        max_rows = max_rows or _rows_in_a_chunk(values.shape[1], per_step)
        for start in range(0, n, max_rows):
            yield start, values[start:start + max_rows]
        return
    # a row is made from its whole stored sequence (read, then averaged and cut to
    # seq_len), so a chunk is bounded by the stored values it reads as well: counted in
    # padded rows alone, a few kept steps of long sequences made one chunk of the store
    for part in values.store.chunk_slices():
        width = int(values.lengths[part].max()) if trim else values.width
        step = max_rows or _rows_in_a_chunk(width, per_step)
        for start in range(part.start, part.stop, step):
            positions = np.arange(start, min(start + step, part.stop))
            yield start, values.rows(positions, int(values.lengths[positions].max())
                                     if trim else None)


def _rows_in_a_chunk(width, step_bytes):
    """Padded rows of ``width`` steps in about ``CHUNK_BYTES`` (one at least)."""
    return max(1, store_module.CHUNK_BYTES // max(1, width * step_bytes))


def take_rows(values, positions, width):
    """``values[positions, :width]`` for an array or :class:`StreamedRows`."""
    if isinstance(values, StreamedRows):
        return values.rows(positions, width)
    return values[np.asarray(positions)][:, :width]


def minus_anchors(rows, anchors, lengths):
    """Padded ``rows`` minus their ``anchors`` in float64, the padding left 0.

    In float64, to be rounded to float32 once (streamed rows and those of
    :func:`~sklstm.data.relative.relative_sequences` alike): a mean anchor has no
    float32 value, and a large level subtracted after the rounding would take its steps
    with it (a level of 1e6 in float32 keeps steps of 0.06).
    """
    relative = rows - anchors[:, None, :]
    if lengths is not None:  # padding stays padding
        relative[np.arange(rows.shape[1])[None, :] >= lengths[:, None]] = 0.0
    return relative
