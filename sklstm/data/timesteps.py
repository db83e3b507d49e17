"""The time axis: resample sequences, cut them to ``seq_len`` steps, pad them.

:func:`to_sequences` is the estimators' way from user input to the arrays that
become tensors: validate once (:mod:`~sklstm.data.validation`), resample
(``downsample``), cut (``seq_len``), pad.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .validation import validate_sequences

__all__ = [
    "AUTO_STEPS",
    "Sequences",
    "downsample_steps",
    "keep_steps",
    "pad_sequences",
    "resolve_downsample",
    "to_sequences",
]

#: ``downsample="auto"`` averages the longest training sequence down to at most this
#: many steps. Measured on benchmarks/bench_small_data.py: an LSTM learns faster and
#: more reliably from ~100 steps than from 300-500 (see docs/performance.rst).
AUTO_STEPS = 100


def resolve_downsample(downsample, longest):
    """The averaging factor ``downsample`` stands for, given the longest sequence.

    Parameters
    ----------
    downsample : int or "auto"
        A factor, or ``"auto"``: ``ceil(longest / AUTO_STEPS)`` (1 up to 100 steps).
    longest : int
        Timesteps of the longest training sequence.

    Returns
    -------
    int
        The factor.

    Examples
    --------
    >>> resolve_downsample("auto", 500), resolve_downsample("auto", 80), resolve_downsample(3, 80)
    (5, 1, 3)
    """
    if downsample == "auto":
        return max(1, -(-longest // AUTO_STEPS))
    return downsample


def downsample_steps(seq, factor, axis=0):
    """Average every ``factor`` consecutive timesteps into one.

    Windows start at the first timestep; the last window averages what is left, so a
    sequence of ``T`` steps becomes ``ceil(T / factor)`` steps long and no step is
    dropped. ``factor=1`` returns ``seq`` itself.

    Parameters
    ----------
    seq : ndarray
        Float sequence(s) with time on ``axis``.
    factor : int
        Timesteps per window.
    axis : int, default=0
        The time axis.

    Returns
    -------
    ndarray
        The window means, same dtype as ``seq``.

    Examples
    --------
    >>> import numpy as np
    >>> downsample_steps(np.array([1.0, 3.0, 5.0, 7.0, 9.0]), 2)
    array([2., 6., 9.])
    """
    if factor == 1:
        return seq
    n_steps = seq.shape[axis]
    starts = np.arange(0, n_steps, factor)
    sums = np.add.reduceat(seq, starts, axis=axis)
    counts = np.diff(np.append(starts, n_steps)).astype(seq.dtype)
    shape = [1] * seq.ndim
    shape[axis] = len(counts)
    return sums / counts.reshape(shape)


def keep_steps(seq, n_steps, which="last", axis=0):
    """Keep at most ``n_steps`` timesteps along ``axis``: the last or the first ones.

    Returns a view; ``n_steps=None`` keeps everything.

    Examples
    --------
    >>> import numpy as np
    >>> keep_steps(np.arange(5), 2), keep_steps(np.arange(5), 2, "first")
    (array([3, 4]), array([0, 1]))
    """
    if n_steps is None or seq.shape[axis] <= n_steps:
        return seq
    cut = slice(-n_steps, None) if which == "last" else slice(None, n_steps)
    return seq[(slice(None),) * axis + (cut,)]


def pad_sequences(items, length=None, *, value=0, dtype=None, padding="post", keep="last"):
    """Stack sequences into one array of ``length`` timesteps.

    Parameters
    ----------
    items : list of ndarray
        Sequences with equal trailing shape, time on axis 0.
    length : int or None, default=None
        Output length; None is the longest sequence.
    value : scalar, default=0
        Fill value of the padding.
    dtype : dtype or None, default=None
        Output dtype; None is the common dtype of ``items`` and ``value``.
    padding : {"post", "pre"}, default="post"
        Pad after or before each sequence.
    keep : {"last", "first"}, default="last"
        Which timesteps of longer sequences to keep.

    Returns
    -------
    ndarray of shape (n_samples, length, ...)
        The padded sequences.

    Examples
    --------
    >>> import numpy as np
    >>> pad_sequences([np.array([1, 2, 3]), np.array([4])], 2, padding="pre")
    array([[2, 3],
           [0, 4]])
    """
    if length is None:
        length = max(len(seq) for seq in items)
    if dtype is None:
        # unique dtypes only: numpy < 2 takes at most 32 arguments in result_type
        dtype = np.result_type(*{seq.dtype for seq in items}, value)
    out = np.full((len(items), length, *items[0].shape[1:]), value, dtype=dtype)
    for row, seq in zip(out, items, strict=True):
        seq = keep_steps(seq, length, keep)
        if padding == "post":
            row[: len(seq)] = seq
        else:
            row[length - len(seq):] = seq
    return out


@dataclass(frozen=True)
class Sequences:
    """Validated sequence data, right-padded to a common length.

    Attributes
    ----------
    downsample : int
        The averaging factor applied (``"auto"`` resolved).
    values : ndarray
        ``float32`` array ``(n_samples, n_timesteps, n_features)`` for numeric
        input, ``int64`` array ``(n_samples, n_timesteps)`` for token ids.
    lengths : ndarray of int64 or None
        True length of every sequence; ``None`` when no sequence is padded.
    n_features : int
        Features per timestep (1 for token ids).
    form : {"2d", "3d", "list", "object", "tokens"}
        The form the input arrived in.
    """

    values: np.ndarray
    lengths: np.ndarray | None
    n_features: int
    form: str
    downsample: int = 1

    def __len__(self):
        return len(self.values)


def _pad(items, pad_value, dtype):
    """Stack variable-length sequences, right-padded; lengths None if all equal."""
    lengths = np.fromiter((len(s) for s in items), dtype=np.int64, count=len(items))
    values = pad_sequences(items, value=pad_value, dtype=dtype)
    return values, (None if lengths.min() == lengths.max() else lengths)


def to_sequences(X, estimator, *, reset, seq_len=None, keep="last", downsample=1,
                 tokens=False, padding_idx=None):
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
        Token id that marks padding in padded token input.

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
    data, form = validate_sequences(
        estimator, X, reset=reset, tokens=tokens, padding_idx=padding_idx,
        dtype=[np.float32, np.float64],
    )
    if form == "tokens":
        items = [keep_steps(s, seq_len, keep) for s in data]
        values, lengths = _pad(items, 0 if padding_idx is None else padding_idx, np.int64)
        return Sequences(values, lengths, 1, form)
    if form in ("2d", "3d"):
        values = data[:, :, None] if form == "2d" else data
        factor = resolve_downsample(downsample, values.shape[1])
        values = downsample_steps(values, factor, axis=1)
        values = keep_steps(values, seq_len, keep, axis=1)
        # one copy at most: float32, C order, writable (inputs may be read-only memmaps)
        with np.errstate(over="ignore"):  # an overflow is reported below, in words
            values = np.require(values, dtype=np.float32, requirements=["C", "W"])
        values = _finite_float32(values)
        return Sequences(values, None, values.shape[2], form, factor)
    factor = resolve_downsample(downsample, max(len(s) for s in data))
    items = [keep_steps(downsample_steps(s, factor), seq_len, keep) for s in data]
    with np.errstate(over="ignore"):
        values, lengths = _pad(items, 0.0, np.float32)
    return Sequences(_finite_float32(values), lengths, values.shape[2], form, factor)


def _finite_float32(values):
    """``values``, after checking that the conversion to float32 overflowed nowhere.

    The input was checked to be finite, so an infinity here is a float64 value beyond
    float32's range (about 3.4e38).
    """
    if not np.isfinite(values).all():
        where = np.argwhere(~np.isfinite(values))[0]
        raise ValueError(
            f"X has a value beyond float32's range (+-3.4e38) in sequence {where[0]}, which "
            "the network computes in; rescale X (sklstm.preprocessing.SequenceScaler)."
        )
    return values
