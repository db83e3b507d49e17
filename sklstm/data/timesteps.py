"""The time axis: resample sequences, cut them to ``seq_len`` steps, pad them.

:func:`to_sequences` is the estimators' way from user input to the arrays that
become tensors: validate once (:mod:`~sklstm.data.validation`), resample
(``downsample``), cut (``seq_len``), pad.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from sklearn import get_config

from .level import checked_rows
from .relative import anchors_of
from .steps import (
    AUTO_STEPS,
    OUTLIER_RATIO,
    downsample_sequences,
    downsample_steps,
    keep_steps,
    pad_sequences,
    resolve_ar_window,
    resolve_downsample,
    warn_if_an_outlier_sets_the_factor,
)
from .store import SequenceStore
from .store_scan import root_mean_squares
from .streaming import StreamedRows, downsample_rows, iter_row_chunks, scan_store
from .validation import as_streamed, validate_sequences

__all__ = [
    "AUTO_STEPS",
    "OUTLIER_RATIO",
    "PAD_BYTES_FLOOR",
    "PAD_INFLATION",
    "Sequences",
    "downsample_steps",
    "keep_steps",
    "pad_sequences",
    "resolve_ar_window",
    "resolve_downsample",
    "to_sequences",
]

@dataclass(frozen=True)
class Sequences:
    """Validated sequence data, right-padded to a common length.

    Attributes
    ----------
    downsample : int
        The averaging factor applied (``"auto"`` resolved).
    values : ndarray or StreamedRows
        ``float32`` array ``(n_samples, n_timesteps, n_features)`` for numeric
        input (float64 where input other than float32 was validated ``precise``), ``int64``
        array ``(n_samples, n_timesteps)`` for token ids; for a
        :class:`~sklstm.data.store.SequenceStore`, the
        :class:`~sklstm.data.streaming.StreamedRows` that make such rows per batch.
    lengths : ndarray of int64 or None
        True length of every sequence; ``None`` when no sequence is padded.
    n_features : int
        Features per timestep (1 for token ids).
    form : {"2d", "3d", "list", "object", "tokens", "store"}
        The form the input arrived in ("tokens" also for a store of token ids).
    """

    values: np.ndarray
    lengths: np.ndarray | None
    n_features: int
    form: str
    downsample: int = 1
    # feature_rms of these very values, found by the scan of a store (set by _streamed):
    # not an __init__ argument, so dataclasses.replace (a subset, relative rows) drops it
    _rms: np.ndarray | None = dataclasses.field(default=None, init=False, repr=False,
                                                compare=False)
    # (positions, means): means of these very values at those positions, found by the
    # same scan for split_level="auto" (set by _streamed; dropped by replace too)
    _means: tuple | None = dataclasses.field(default=None, init=False, repr=False,
                                             compare=False)

    def __len__(self):
        return len(self.values)

    def subset(self, positions):
        """The sequences at ``positions``: for a store, a view that reads only them.

        Parameters
        ----------
        positions : ndarray of int
            Rows to keep.

        Returns
        -------
        Sequences
        """
        values = (self.values.subset(positions) if isinstance(self.values, StreamedRows)
                  else self.values[positions])
        lengths = None if self.lengths is None else self.lengths[positions]
        return dataclasses.replace(self, values=values, lengths=lengths)

    def means(self, positions=None):
        """Every feature's mean over the valid steps of the sequences at ``positions``.

        Parameters
        ----------
        positions : ndarray of int or None, default=None
            Sorted rows; None for all of them.

        Returns
        -------
        ndarray of shape (n_positions, n_features)
            float64.
        """
        if self._means is not None and np.array_equal(
                self._means[0], np.arange(len(self)) if positions is None else positions):
            return self._means[1].copy()  # a store's, from the scan that validated it
        return anchors_of(self if positions is None else self.subset(positions), "mean")

    @property
    def shortest(self):
        """Timesteps of the shortest sequence."""
        return int(self.values.shape[1] if self.lengths is None else self.lengths.min())

    def feature_rms(self):
        """Every feature's root mean square over the valid steps of all sequences.

        Returns
        -------
        ndarray of shape (n_features,)
            float64; 1 for a feature that is zero throughout.
        """
        if self._rms is not None:  # a store's, from the scan that validated it
            return self._rms.copy()
        total, count = np.zeros(self.n_features), 0
        # trimmed: each chunk as wide as its own longest row (the padding is masked by
        # the lengths); padded to the longest of all, one sequence of 100,000 steps
        # among 20,000 of 50 made this pass compute over 15 GiB of padding (a minute)
        for start, rows in iter_row_chunks(self.values, trim=True):
            rows = np.asarray(rows, dtype=np.float64)
            if self.lengths is None:
                count += rows.shape[0] * rows.shape[1]
            else:  # the padding is not read
                lengths = self.lengths[start:start + len(rows)]
                rows = rows * (np.arange(rows.shape[1]) < lengths[:, None])[:, :, None]
                count += int(lengths.sum())
            total += np.einsum("ntf,ntf->f", rows, rows)
        return root_mean_squares(total, count)


#: Ragged sequences in memory are padded into one array while that array takes at most
#: ``PAD_INFLATION`` times their own size, or at most ``PAD_BYTES_FLOOR`` bytes.
#: Beyond, a few long sequences among short ones would pad every other to their
#: length (2,000 token sequences of ~100 ids and one of 20,000: 1.7 MiB of ids grew
#: the fit by 3 GiB), so their rows are padded per batch from one flat copy of the
#: steps, as a store's are (:class:`~sklstm.data.streaming.StreamedRows`).
PAD_INFLATION = 4
PAD_BYTES_FLOOR = 256 * 2**20


def _pad(items, pad_value, dtype, *, tokens=False, padding_idx=None, check=None):
    """Stack variable-length sequences, right-padded, or, where padding would take
    far more memory than the steps, keep them flat and pad each batch's rows.

    ``check(array, sequence_of)`` is called on the padded array (``sequence_of``
    None) or the flat steps (``sequence_of`` maps a step to its sequence), for
    checks of the converted values that name the sequence.

    Returns
    -------
    values : ndarray or StreamedRows
        ``(n_samples, width[, n_features])`` of ``dtype``; StreamedRows over an
        in-memory flat copy where the padded array would be too large.
    lengths : ndarray of int64 or None
        True lengths; None if all are equal.
    """
    lengths = np.fromiter((len(s) for s in items), dtype=np.int64, count=len(items))
    if lengths.min() == lengths.max():
        # checked too: a list of equal-length sequences went unchecked, and a value beyond
        # float32 trained as infinity (a DivergenceError blaming lr) or predicted silently
        values = pad_sequences(items, value=pad_value, dtype=dtype)
        return (values if check is None else check(values, None)), None
    n_features = 1 if items[0].ndim == 1 else items[0].shape[1]
    step_bytes = np.dtype(dtype).itemsize * n_features
    padded_bytes = len(items) * int(lengths.max()) * step_bytes
    if padded_bytes <= max(PAD_INFLATION * int(lengths.sum()) * step_bytes, PAD_BYTES_FLOOR):
        values = pad_sequences(items, value=pad_value, dtype=dtype)
        return (values if check is None else check(values, None)), lengths
    flat = np.concatenate(items, dtype=dtype)  # (float64 steps: no float64 copy first)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    if check is not None:
        check(flat, lambda step: int(np.searchsorted(offsets, step, side="right")) - 1)
    store = SequenceStore(flat, offsets)
    # float64 steps (kept precise for a relative fit) stay float64 until the anchors are
    # subtracted, as in the padded array: rows rounded to float32 first lost the steps of
    # a large level (0.06 apart at 1e6), and the model differed from the padded one
    rows = StreamedRows(store, lengths, int(lengths.max()), n_features, tokens,
                        padding_idx=padding_idx, max_id=int(flat.max()) if tokens else None,
                        float64=flat.dtype == np.float64)
    return rows, lengths


def to_sequences(X, estimator, *, reset, seq_len=None, keep="last", downsample=1,
                 tokens=False, padding_idx=None, precise=False):
    """Validate ``X`` once, resample and cut every sequence, and pad.

    Parameters
    ----------
    X : array-like or list of array-like
        Sequence input (see :mod:`sklstm.data.containers`), or token ids.
    estimator : BaseEstimator
        The estimator being fitted or used; receives or is checked against the
        fitted feature bookkeeping (:func:`~sklstm.data.validation.validate_sequences`).
    reset : bool
        True in ``fit``, False at prediction time.
    seq_len : int or None, default=None
        Keep at most this many timesteps of every sequence.
    keep : {"last", "first"}, default="last"
        Which timesteps ``seq_len`` keeps.
    downsample : int or "auto", default=1
        Average every ``downsample`` timesteps into one first
        (:func:`downsample_steps`); ``seq_len`` then counts the averaged steps.
        ``"auto"`` is resolved from the longest sequence (:func:`resolve_downsample`);
        token ids are never averaged.
    tokens : bool, default=False
        Whether ``X`` holds integer token ids.
    padding_idx : int or None, default=None
        Token id that marks padding: removed from every token sequence.
    precise : bool, default=False
        Keep float64 input in float64, and read integers as float64 (still checked to
        fit float32; float32 input stays float32): for sequences
        made relative to an anchor (:func:`~sklstm.data.relative.relative_sequences`),
        which must subtract a large level before the rounding to float32 (a level of
        1e6 in float32 keeps steps of 0.06 only).

    Returns
    -------
    Sequences
        The validated data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMRegressor
    >>> seqs = to_sequences([np.ones((3, 2)), np.ones((5, 2))], LSTMRegressor(),
    ...                     reset=True, seq_len=4)
    >>> seqs.values.shape, seqs.lengths.tolist()
    ((2, 4, 2), [3, 4])
    """
    # precise: integers (anything but float32) are read as float64, which holds them
    # exactly (float32 only up to 2**24: counts near 1e8 became multiples of 8, each
    # sequence relative to its last step all zeros, where float64 input kept its steps)
    dtype = [np.float64, np.float32] if precise else [np.float32, np.float64]
    data, form = validate_sequences(  # a memory-mapped array is read by the batch too
        estimator, as_streamed(X, tokens), reset=reset, tokens=tokens, padding_idx=padding_idx,
        dtype=dtype, stream=True,
    )
    if form == "store":
        # a fit's root mean squares (warn_unscaled, ar_window) come from the store's scan
        return _streamed(data, tokens=tokens, seq_len=seq_len, keep=keep,
                         downsample=downsample, padding_idx=padding_idx,
                         precise=precise and data.dtype != np.float32, rms=reset)
    if form == "tokens":
        items = [keep_steps(s, seq_len, keep) for s in data]
        values, lengths = _pad(items, 0 if padding_idx is None else padding_idx, np.int64,
                               tokens=True, padding_idx=padding_idx)
        return Sequences(values, lengths, 1, form)
    if form in ("2d", "3d"):
        values = data[:, :, None] if form == "2d" else data
        factor = resolve_downsample(downsample, values.shape[1])
        values = downsample_rows(values, factor)  # (a chunk at a time)
        values = keep_steps(values, seq_len, keep, axis=1)
        # one copy at most: float32, C order, writable (inputs may be read-only memmaps)
        with np.errstate(over="ignore"):  # an overflow is reported below, in words
            values = np.require(values, dtype=_float_dtype(precise, [values]),
                                requirements=["C", "W"])
        values = _finite_float32(values)
        return Sequences(values, None, values.shape[2], form, factor)
    lengths = np.fromiter((len(s) for s in data), dtype=np.int64, count=len(data))
    factor = resolve_downsample(downsample, int(lengths.max()))
    if downsample == "auto":  # (prediction gets the fit's factor)
        warn_if_an_outlier_sets_the_factor(lengths, factor)
    items = [keep_steps(s, seq_len, keep) for s in downsample_sequences(data, factor)]
    with np.errstate(over="ignore"):
        values, lengths = _pad(items, 0.0, _float_dtype(precise, items),
                               check=_finite_float32)
    return Sequences(values, lengths, values.shape[2], form, factor)


def _float_dtype(precise, arrays):
    """float64 for ``precise`` validation of float64 data, else float32."""
    return np.float64 if precise and any(a.dtype == np.float64 for a in arrays) else np.float32


def _streamed(store, *, tokens, seq_len, keep, downsample, padding_idx, precise=False,
              rms=False):
    """The :class:`Sequences` of a store: checked in one pass, rows made per batch;
    with ``rms``, :meth:`Sequences.feature_rms` found in that pass too."""
    # (the factor from the stored lengths alone: the scan's root mean squares are of the
    # averaged steps)
    factor = 1 if tokens else resolve_downsample(downsample, int(store.lengths.max()))
    # a fit's levels for split_level="auto" too: of the sample it checks, in this pass
    # (read afterwards, the sample was up to 20,000 sequences read from disk again)
    level_rows = None
    if rms and not tokens:
        level_rows = checked_rows(len(store))
        level_rows = np.arange(len(store)) if level_rows is None else level_rows
    scan = scan_store(store, tokens=tokens, padding_idx=padding_idx, seq_len=seq_len,
                      keep=keep, factor=factor, rms=rms and not tokens, float64=precise,
                      level_rows=level_rows)
    if tokens:
        lengths = scan.token_lengths
    else:
        raw = store.lengths
        if downsample == "auto":
            warn_if_an_outlier_sets_the_factor(raw, factor)
        lengths = -(-raw // factor)
        if seq_len is not None:
            lengths = np.minimum(lengths, seq_len)
    n_features = 1 if tokens else store.n_features
    rows = StreamedRows(store, lengths, int(lengths.max()), n_features, tokens, factor,
                        seq_len, keep, padding_idx, scan.max_id, float64=precise)
    padded = lengths.min() != lengths.max()
    seqs = Sequences(rows, lengths if padded else None, n_features,
                     "tokens" if tokens else "store", factor)
    if scan.rms is not None:  # (frozen; fields no copy of seqs carries over)
        object.__setattr__(seqs, "_rms", scan.rms)
        object.__setattr__(seqs, "_means", (level_rows, scan.levels))
    return seqs


def _finite_float32(values, sequence_of=None):
    """``values``, after checking that the conversion to float32 overflowed nowhere.

    ``sequence_of`` maps the first axis's index to the sequence it belongs to, for
    the message (flat steps); None: the first axis counts sequences.

    The input was checked to be finite, so an infinity here is a float64 value beyond
    float32's range (about 3.4e38); unless scikit-learn's ``assume_finite`` skipped that
    check, when a NaN or an infinity may come from the input itself.
    """
    limit = np.finfo(np.float32).max  # (float64 is kept precise: it must still fit)
    # the usual case in two passes that copy nothing (a NaN makes both false, an
    # infinity one): np.abs(values) was a float64 copy of the whole data set
    if not values.size or (-limit <= values.min() and values.max() <= limit):
        return values
    bad = ~np.isfinite(values)
    if values.dtype == np.float64:
        bad |= np.abs(values) > limit
    if bad.any():
        where = np.argwhere(bad)[0]
        sequence = where[0] if sequence_of is None else sequence_of(where[0])
        if np.isnan(values[tuple(where)]):
            raise ValueError(
                f"X has NaN in sequence {sequence} (sklearn.set_config(assume_finite=True) "
                "skipped the check of the input); impute or drop the missing values.")
        unchecked = " or is infinite" if get_config()["assume_finite"] else ""
        raise ValueError(
            f"X has a value beyond float32's range (+-3.4e38){unchecked} in sequence "
            f"{sequence}, which the network computes in; rescale X "
            "(sklstm.preprocessing.SequenceScaler)."
        )
    return values
