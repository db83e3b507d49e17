"""Sequences relative to an anchor of their own (reversible instance normalization).

A network fed windows of a trending series in absolute units cannot output a level it
never saw in training. Read relative to each window's own level, the same windows
look alike wherever the series has got to, and the level is added back to the
prediction: the idea of RevIN (Kim et al., 2022, "Reversible instance normalization
for accurate time-series forecasting against distribution shift"), here without the
division by the window's spread.

:func:`relative_sequences` computes every sequence's anchor per feature, once per
call, from the validated :class:`~sklstm.data.timesteps.Sequences` (after
``downsample`` and ``seq_len``: the steps the network reads), and subtracts it from
the valid timesteps of each batch as the batch is made, never from the whole data
set at once; the padding stays padding.
``LSTMRegressor(relative=...)`` trains on the targets minus the anchor of the
target's column and adds it back to its predictions.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._compat.python import warn_at_caller
from . import store as store_module
from .streaming import StreamedRows, iter_row_chunks, minus_anchors

__all__ = ["ANCHORS", "RelativeArray", "anchors_of", "check_relative_has_steps",
           "relative_sequences", "sequence_anchors", "warn_if_targets_in_other_units"]

#: What a sequence is taken relative to: its last valid timestep, or the mean of its
#: valid timesteps.
ANCHORS = ("last", "mean")


def sequence_anchors(values, lengths, how):
    """Every sequence's anchor per feature.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_timesteps, n_features)
        Right-padded numeric sequences.
    lengths : ndarray of shape (n_samples,) or None
        True lengths; None when no sequence is padded.
    how : {"last", "mean"}
        The value at each sequence's last valid timestep, or the mean over its
        valid timesteps.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        The anchors, float64.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[[1.0], [3.0], [0.0]], [[2.0], [4.0], [9.0]]])
    >>> sequence_anchors(values, np.array([2, 3]), "last").ravel()
    array([3., 9.])
    >>> sequence_anchors(values, np.array([2, 3]), "mean").ravel()
    array([2., 5.])
    """
    if how not in ANCHORS:
        raise ValueError(f"how must be one of {ANCHORS}; got {how!r}.")
    n, n_steps = values.shape[:2]
    if lengths is None:
        lengths = np.full(n, n_steps, dtype=np.int64)
    if how == "last":  # (picked before the cast: a float64 copy of one step, not all)
        return np.asarray(values[np.arange(n), lengths - 1], dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    valid = np.arange(n_steps)[None, :] < lengths[:, None]
    sums = np.einsum("nt,ntf->nf", valid.astype(np.float64), values)
    return sums / lengths[:, None]


def anchors_of(seqs, how):
    """:func:`sequence_anchors` of validated sequences, in one pass of row chunks: a
    float64 copy of one chunk at a time, never of all rows (nor, streamed, all rows).

    Parameters
    ----------
    seqs : Sequences
        Validated numeric sequences.
    how : {"last", "mean"}
        The anchor.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        float64.
    """
    # trimmed: each chunk as wide as its own longest row (the padding is masked by
    # the lengths); padded to the longest of all, one sequence of 100,000 steps
    # among 20,000 of 50 made this pass compute over 15 GiB of padding (a minute)
    return np.concatenate([
        sequence_anchors(rows, None if seqs.lengths is None
                         else seqs.lengths[start:start + len(rows)], how)
        for start, rows in iter_row_chunks(seqs.values, trim=True)])


def relative_sequences(seqs, how):
    """``seqs`` minus every sequence's anchor per feature, and the anchors.

    Parameters
    ----------
    seqs : Sequences
        Validated numeric sequences (:func:`~sklstm.data.timesteps.to_sequences`).
    how : {"last", "mean"}
        The anchor (:func:`sequence_anchors`).

    Returns
    -------
    relative : Sequences
        The same sequences with the anchor subtracted from every valid timestep
        (float32; padded steps stay 0), made per batch: a :class:`RelativeArray`
        over the validated array (no copy of it), or a store's streamed rows.
    anchors : ndarray of shape (n_samples, n_features)
        The anchors subtracted, float64; add them back to undo.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm.data.timesteps import Sequences
    >>> seqs = Sequences(np.array([[[1.0], [3.0], [0.0]]], np.float32), np.array([2]), 1,
    ...                  "list")
    >>> relative, anchors = relative_sequences(seqs, "last")
    >>> relative.values[:].ravel(), anchors.ravel()
    (array([-2.,  0.,  0.], dtype=float32), array([3.]))
    """
    if seqs.form == "tokens":
        raise ValueError("token ids have no level to be relative to; relative sequences "
                         "need numeric input.")
    anchors = anchors_of(seqs, how)
    if isinstance(seqs.values, StreamedRows):  # rows made relative per batch
        return dataclasses.replace(seqs, values=seqs.values.relative(anchors)), anchors
    return dataclasses.replace(seqs, values=RelativeArray(seqs.values, anchors,
                                                          seqs.lengths)), anchors


class RelativeArray:
    """Validated padded rows in memory and the anchors to subtract from them: the lazy
    ``Sequences.values`` of :func:`relative_sequences`, made relative by the rows taken.

    Why not one relative array: a float32 copy of the rows, even filled a chunk at a
    time, took 2.1 times a float32 ``X`` in extra memory at predict's peak (20,000 x 50
    x 4; 1.3 times at 80,000 rows). :class:`~sklstm.data.tensors.SequenceDataset`
    subtracts the anchors from each batch as it is taken, in the same arithmetic (the
    same numbers); indexing the first axis here does it in numpy for other readers (a
    chunk of rows, a subset).

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_timesteps, n_features)
        The validated rows, float32 or float64 (not copied).
    anchors : ndarray of shape (n_samples, n_features)
        float64.
    lengths : ndarray of int64 or None
        True lengths; None when no row is padded.

    Examples
    --------
    >>> import numpy as np
    >>> rows = RelativeArray(np.array([[[1.0], [3.0], [0.0]]]), np.array([[3.0]]),
    ...                      np.array([2]))
    >>> rows.shape, rows.dtype, rows[:1].ravel()
    ((1, 3, 1), dtype('float32'), array([-2.,  0.,  0.], dtype=float32))
    """

    #: What the rows are made in (the anchors subtracted in float64, rounded once).
    dtype = np.dtype(np.float32)

    def __init__(self, values, anchors, lengths):
        self.values = values
        self.anchors = anchors
        self.lengths = lengths

    @property
    def shape(self):
        """The rows' shape, ``(n_samples, n_timesteps, n_features)``."""
        return self.values.shape

    @property
    def ndim(self):
        """3."""
        return self.values.ndim

    def __len__(self):
        return len(self.values)

    def __getitem__(self, key):
        """The relative rows at ``key``, as numpy indexes an array: only the rows the
        first axis picks are made."""
        key = key if isinstance(key, tuple) else (key,)
        first, rest = key[0], key[1:]
        if first is Ellipsis or first is None:
            return np.asarray(self)[key]
        if isinstance(first, slice):  # (a slice keeps the rows' axis where it is)
            return self._rows(first)[(slice(None), *rest)]
        first = np.asarray(first)
        if first.dtype == bool:
            first = np.flatnonzero(first)
        rows = self._rows(first.ravel())
        if first.ndim == 0:
            return rows[0][rest]
        # the rows made, picked by their own positions: numpy then pairs (broadcasts)
        # the first axis's index with any other index array of the key as it would have
        return rows if not rest and first.ndim == 1 else rows[
            (np.arange(len(rows)).reshape(first.shape), *rest)]

    def _rows(self, key):
        """The rows at ``key`` (a slice or integer array) minus their anchors, made a
        few rows at a time: a reader of chunks of rows (:func:`iter_row_chunks`) holds
        what it made of the chunk before while the next is made, and the float64
        difference of a whole chunk beside that took 2.4 times a float32 X at the peak
        of ``feature_rms`` (1.6 times so; 2.1 times with the one float32 copy of X
        that relative rows were before)."""
        index = range(len(self))[key] if isinstance(key, slice) else np.asarray(key)
        out = np.empty((len(index), *self.shape[1:]), dtype=np.float32)
        # (an eighth of a chunk of float64 values at a time)
        step = max(1, store_module.CHUNK_BYTES // 64 // max(1, int(np.prod(self.shape[1:]))))
        for start in range(0, len(index), step):
            part = index[start:start + step]
            if isinstance(part, range):  # a view where the rows are in order
                part = (slice(part.start, part.stop, part.step) if part.step > 0
                        else np.asarray(part))
            out[start:start + step] = minus_anchors(
                self.values[part], self.anchors[part],
                None if self.lengths is None else self.lengths[part])
        return out

    def __array__(self, dtype=None, copy=None):
        """All rows at once (made a chunk at a time): for numpy functions given these."""
        out = np.concatenate([rows for _, rows in iter_row_chunks(self)])
        return out if dtype is None else out.astype(dtype, copy=False)


def check_relative_has_steps(name, how, seqs, classifier):
    """Refuse ``relative`` for a classifier whose training sequences all have one step.

    Such a sequence minus its own last value or mean is 0: the network would read zeros
    only and learn the class prior, said by nothing but a "did not learn" warning. (A
    regressor still forecasts relative to the anchor, a last value plus what it learns.)

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    how : {"last", "mean"} or None
        The estimator's ``relative``.
    seqs : Sequences
        The training sequences, after ``seq_len`` and ``downsample``.
    classifier : bool
        Whether the estimator is a classifier.

    Raises
    ------
    ValueError
        For a classifier with ``relative`` set and no training sequence longer than a
        step.
    """
    if how is None or not classifier or seqs.form == "tokens":
        return
    longest = int(seqs.values.shape[1] if seqs.lengths is None else seqs.lengths.max())
    if longest == 1:
        raise ValueError(
            f"{name}: relative={how!r} subtracts from every sequence its {how} value, and "
            "every training sequence has a single step (after seq_len and downsample): "
            "the network would read zeros only. Leave relative=None for one-step "
            "sequences, or keep more steps (a larger seq_len, a smaller downsample).")


def warn_if_targets_in_other_units(name, how, column, y, anchors):
    """Warn when most targets lie far from the values of the column they are taken
    relative to: ``y`` is then in other units than that column, and the relative
    targets, ``y`` minus the anchors, mean nothing (a fit and its forecasts still run).

    The usual causes: a scaler fitted on ``X`` alone before the regressor (a
    ``SequenceScaler`` in a pipeline puts the column in standard units, ``y`` stays in
    its own: measured on a trending series at a level of 100, R^2 -25 against 0.99
    without the scaler), or ``relative_target`` naming another series than the
    target's. "Far" is more than the anchors' whole range beyond it: the future values
    of the column, even of a trending series, lie within that. Means of windows
    (``how="mean"``) are smoother than the values they average: a season or noise
    that the windows span puts most targets beyond the range of the means (hourly
    load over two-day windows: 93% of the targets, and the warning said the forecasts
    would be wrong). There the targets' median must be far too: beyond that range
    widened by half the targets' own interquartile range. Targets in the column's
    units are centred where its means are; targets in other units, off level, as a
    scaler fitted on ``X`` alone leaves them.

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    how : {"last", "mean"}
        The estimator's ``relative``.
    column : int
        The estimator's ``relative_target``.
    y : ndarray of shape (n_samples, n_outputs)
        The training targets, before the anchors are subtracted.
    anchors : ndarray of shape (n_samples,)
        Every training sequence's anchor of column ``column``.

    Examples
    --------
    >>> import warnings
    >>> anchors = np.arange(10.0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_targets_in_other_units("Est", "last", 0, anchors[:, None] + 1, anchors)
    ...     warn_if_targets_in_other_units("Est", "last", 0, anchors[:, None] + 100, anchors)
    >>> len(caught)
    1
    """
    low, high = float(anchors.min()), float(anchors.max())
    width = high - low
    if not width > 0:  # one sequence, or a constant column: no scale to compare with
        return
    near = float(np.mean((y >= low - width) & (y <= high + width)))
    if near >= 0.5:
        return
    if how == "mean":
        q1, median, q3 = np.percentile(y, [25, 50, 75])
        margin = width + (q3 - q1) / 2
        if low - margin <= median <= high + margin:
            return
    warn_at_caller(
        f"{name}: relative='{how}' subtracts from y the anchor of column "
        f"relative_target={column} of X, whose {'window means' if how == 'mean' else 'values'}"
        f" run from {low:.4g} to {high:.4g}, but {1 - near:.0%} of the targets lie further "
        "from them than that whole range: y "
        "seems to be in other units than the column, and the forecasts will be wrong. "
        "A scaler fitted on X alone (a SequenceScaler before the regressor in a pipeline) "
        "changes the column's units but not y's: scale the series before make_windows "
        "instead, or leave it unscaled. Or relative_target names another column than the "
        "target's own series: make_windows(..., target=t) keeps it at column t.")
