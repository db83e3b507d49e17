"""Operations on the time axis of one sequence or a batch: resample, cut, pad.

The primitives shared by the in-memory path (:mod:`~sklstm.data.timesteps`) and the
streamed one (:mod:`~sklstm.data.streaming`), so both cut and pad alike.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from .._compat.python import warn_at_caller

__all__ = ["AUTO_AR_SAMPLES_PER_WEIGHT", "AUTO_STEPS", "OUTLIER_RATIO",
           "downsample_sequences", "downsample_steps", "keep_steps", "pad_sequences",
           "resolve_ar_window", "resolve_downsample", "step_positions",
           "warn_if_an_outlier_sets_the_factor"]

#: ``downsample="auto"`` averages the longest training sequence down to at most this
#: many steps. Measured on benchmarks/bench_small_data.py: an LSTM learns faster and
#: more reliably from ~100 steps than from 300-500 (see docs/performance.rst).
AUTO_STEPS = 100

#: ``ar_window="auto"`` puts the linear highway over every step of the shortest
#: sequence when the training set has at least this many sequences per weight of the
#: linear map (per output), and has none otherwise. Measured on
#: benchmarks/bench_small_data.py (issue 17): over the whole window the highway matches
#: a ridge regression on the lags where there are 4 to 8 sequences per weight (the
#: trend forecast, 48 steps x 1 feature and 400 windows; 24 x 3 and 300 on
#: lags_large_scale), and costs 1 to 2 points of R^2 at 1 and at 2 (drift_small_scale:
#: 100 x 2 and 200 sequences; 50 x 2 after downsample=4: 0.975 against 0.987 without,
#: four fits). A search's folds hold fewer sequences than its refit (2/3 of them with
#: 3 folds), so near this threshold "auto" can choose no highway in every fold and one
#: in the refit: 2 let tune() pick a configuration on drift_small_scale that its refit
#: turned into another.
AUTO_AR_SAMPLES_PER_WEIGHT = 4


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


#: ``downsample="auto"`` warns when the longest training sequence, which sets its
#: factor, is more than this many times as long as the median one, and the factor
#: shortens the median one to fewer than ``AUTO_STEPS // 10`` steps.
OUTLIER_RATIO = 10


def warn_if_an_outlier_sets_the_factor(lengths, factor):
    """Warn when ``downsample="auto"``'s ``factor``, set by the longest of the raw
    ``lengths``, averages the typical sequence down to a few steps.

    One recording far longer than the others (a sensor left running) would otherwise
    make every other sequence a handful of averaged steps, and nothing would say why
    the fit learns little from their shapes.

    Parameters
    ----------
    lengths : ndarray of int
        Timesteps of every training sequence, before averaging.
    factor : int
        The factor ``"auto"`` chose (:func:`resolve_downsample`).
    """
    median = int(np.median(lengths))
    longest = int(lengths.max())
    averaged = -(-median // factor)
    if (factor == 1 or longest <= OUTLIER_RATIO * median
            or averaged >= min(median, AUTO_STEPS // 10)):
        return
    warn_at_caller(
        f"downsample='auto' averages every {factor} timesteps into one, to bring the "
        f"longest training sequence (sequence {int(np.argmax(lengths))}, {longest} steps) "
        f"down to at most {AUTO_STEPS}; that leaves the median sequence ({median} steps) "
        f"{averaged} step(s). Set downsample yourself (downsample=1 keeps every step, "
        "and a seq_len cuts the long sequences, which would otherwise pad every other to "
        "their length), or leave the outlying sequences out.",
        UserWarning)


def resolve_ar_window(ar_window, shortest, n_features, n_samples):
    """The window ``ar_window`` stands for, given the training data.

    Parameters
    ----------
    ar_window : int, "auto" or None
        A window, none, or ``"auto"``: every step of the shortest sequence when
        ``AUTO_AR_SAMPLES_PER_WEIGHT * shortest * n_features <= n_samples`` (at least
        that many training sequences per weight of the linear map), else None.
    shortest : int
        Timesteps of the shortest training sequence, as the network reads it.
    n_features : int
        Features per timestep the network reads.
    n_samples : int
        Training sequences.

    Returns
    -------
    int or None
        The window, or None for no highway.

    Examples
    --------
    >>> resolve_ar_window("auto", 48, 1, 400), resolve_ar_window("auto", 100, 2, 200)
    (48, None)
    >>> resolve_ar_window(3, 100, 2, 200), resolve_ar_window(None, 48, 1, 400)
    (3, None)
    """
    if ar_window != "auto":
        return ar_window
    weights = shortest * n_features
    return shortest if AUTO_AR_SAMPLES_PER_WEIGHT * weights <= n_samples else None


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
        The window means, in ``seq``'s float dtype (float64 for integers).

    Raises
    ------
    ValueError
        If the sum of a window is beyond float64's range (its mean would be infinity).

    Examples
    --------
    >>> import numpy as np
    >>> downsample_steps(np.array([1.0, 3.0, 5.0, 7.0, 9.0]), 2)
    array([2., 6., 9.])
    """
    if factor == 1:
        return seq
    return _window_means(seq, np.arange(0, seq.shape[axis], factor), factor, axis)


#: :func:`downsample_sequences` averages sequences together up to this many values
#: (8 MiB in float64): one copy of a chunk at a time, not of all the data.
CHUNK_VALUES = 2**20


def downsample_sequences(sequences, factor):
    """:func:`downsample_steps` of every sequence (time on axis 0), the windows of many
    sequences averaged at once.

    The result equals ``[downsample_steps(s, factor) for s in sequences]`` value for
    value; apart, the calls around numpy's reduction took more than twice as long as
    the reduction itself (20,000 sequences of ~150 steps: a fit's setup 1.0 s -> 0.6 s;
    benchmarks/results/setup_ragged.md).

    Parameters
    ----------
    sequences : list of ndarray
        Sequences, 1D or 2D; those of one dtype and trailing shape one after the other
        are averaged together.
    factor : int
        Timesteps per window.

    Returns
    -------
    list of ndarray
        The window means of every sequence (views of a chunk's means); ``sequences``
        as they are for ``factor=1``.

    Raises
    ------
    ValueError
        If the sum of a window is beyond float64's range (see :func:`downsample_steps`).

    Examples
    --------
    >>> import numpy as np
    >>> downsample_sequences([np.array([1.0, 3.0, 5.0]), np.array([2.0, 4.0])], 2)
    [array([2., 5.]), array([3.])]
    """
    if factor == 1:
        return list(sequences)
    out = []
    for chunk in _chunks(sequences):
        lengths = np.fromiter(map(len, chunk), dtype=np.int64, count=len(chunk))
        windows = -(-lengths // factor)
        # every window's first step in the chunk's steps laid one after the other: the
        # windows of one sequence as downsample_steps makes them, none across two
        offsets = np.cumsum(lengths) - lengths
        starts = np.repeat(offsets, windows) + step_positions(windows) * factor
        steps = chunk[0] if len(chunk) == 1 else np.concatenate(chunk)
        means = _window_means(steps, starts, factor, 0)
        bounds = np.concatenate([[0], np.cumsum(windows)]).tolist()
        out.extend(means[a:b] for a, b in pairwise(bounds))
    return out


def _chunks(sequences):
    """``sequences`` in runs of one dtype and trailing shape (what one concatenation
    holds), each of at most :data:`CHUNK_VALUES` values unless one sequence has more."""
    chunk, key, size = [], None, 0
    for seq in sequences:
        seq_key = (seq.dtype, seq.shape[1:])
        if chunk and (seq_key != key or size + seq.size > CHUNK_VALUES):
            yield chunk
            chunk, size = [], 0
        chunk.append(seq)
        key, size = seq_key, size + seq.size
    if chunk:
        yield chunk


def _window_means(seq, starts, factor, axis):
    """The means of ``seq``'s windows that start at ``starts`` on ``axis`` (each up to
    the next start, the last to the end), in ``seq``'s float dtype (float64 for
    integers); ``factor`` is named by the overflow's error."""
    # summed in float64: a float32 (or float16) sum of factor steps can overflow to
    # infinity where their mean, within the values' own range, cannot
    if seq.dtype.kind == "f" and seq.dtype.itemsize >= 8:
        sums = _float64_sums(seq, starts, axis, factor)
    else:  # (integers and narrower floats: no sum of them reaches float64's limit)
        sums = np.add.reduceat(seq, starts, axis=axis, dtype=np.float64)
    counts = np.diff(np.append(starts, seq.shape[axis])).astype(np.float64)
    shape = [1] * seq.ndim
    shape[axis] = len(counts)
    means = sums / counts.reshape(shape)
    return means.astype(seq.dtype, copy=False) if seq.dtype.kind == "f" else means


def _float64_sums(seq, starts, axis, factor):
    """``np.add.reduceat`` of float64 steps, refusing a sum beyond float64's range: its
    mean was infinity, with only numpy's RuntimeWarning (as in SequenceResampler)."""
    try:
        with np.errstate(over="raise"):
            return np.add.reduceat(seq, starts, axis=axis, dtype=np.float64)
    except FloatingPointError:
        raise ValueError(
            f"The sum of {factor} consecutive steps of X, averaged into one (downsample or "
            f"SequenceResampler's factor={factor}), is beyond the range of float64 (largest "
            f"{float(np.finfo(np.float64).max):g}), which would make their mean infinity; "
            "divide X by a constant first."
        ) from None


def step_positions(counts):
    """Each step's position within its sequence, for sequences of ``counts`` steps laid
    one after the other (what a gather of ragged rows indexes with).

    Examples
    --------
    >>> import numpy as np
    >>> step_positions(np.array([3, 0, 2]))
    array([0, 1, 2, 0, 1])
    """
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum())) - np.repeat(starts, counts)


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
