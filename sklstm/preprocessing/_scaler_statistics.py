"""The statistics :class:`~sklstm.preprocessing.SequenceScaler` fits: per feature,
pooled over every timestep, of in-memory sequences or of a store, read in chunks
(merged with Chan et al.'s update), checked finite, with the scales of constant features
set to 1 as scikit-learn's scalers set them."""

import numpy as np

from ..data import store as store_module
from ..data.containers import DENSE_FORMS
from ..data.store_positions import byte_chunks
from ..data.streaming import check_finite

__all__ = ["check_finite_input", "check_finite_statistics", "constant_features",
           "handle_zeros_in_scale", "in_memory_statistics", "streamed_statistics"]


def handle_zeros_in_scale(scale, constant=None):
    """Replace the scales of the ``constant`` features by 1, so they are left unscaled.

    ``constant`` is a mask (``method="standard"``: :func:`constant_features`); None
    takes the (near-)zero scales as scikit-learn does for a range (``"minmax"``). With a
    mask, a small scale alone does not mark a feature constant: values of 1e-16 that vary
    are standardized, as ``StandardScaler`` does, not left on their tiny scale.
    """
    scale = scale.copy()
    if constant is None:
        constant = scale < 10 * np.finfo(scale.dtype).eps
    scale[constant] = 1.0
    return scale


def constant_features(n, mean, var):
    """Features whose variance is no more than the rounding error of a constant one.

    The mean of ``n`` equal values is off by up to about ``n * eps * |value|``, which
    leaves a variance of that error squared, about 1e-19 for 5e6 pooled over 700 steps,
    whose square root, as a scale, blew the rounding noise up to values of several
    units. The bound is scikit-learn's (``StandardScaler``).
    """
    eps = np.finfo(np.float64).eps
    return var <= n * eps * var + (n * mean * eps) ** 2


def check_finite_statistics(n_features, **statistics):
    """Refuse statistics that overflowed float64 (values beyond about 1e154 square to
    infinity): they would scale every value to NaN or to one number."""
    overflowed = {name: np.flatnonzero(~np.isfinite(values))
                  for name, values in statistics.items()}
    overflowed = {name: where for name, where in overflowed.items() if where.size}
    if overflowed:
        bad = sorted({int(j) for where in overflowed.values() for j in where})
        raise ValueError(
            f"SequenceScaler cannot compute the statistics of feature(s) {bad} (of "
            f"{n_features}): their values are too large for float64 arithmetic "
            f"({', '.join(overflowed)} overflowed). Divide X by a constant first."
        )


def check_finite_input(data, form, data_min, data_max):
    """Refuse NaN or infinity in in-memory ``X``, which scikit-learn's validation lets
    through under ``assume_finite``: the statistics they give would be reported by
    :func:`check_finite_statistics` as an overflow, with a remedy (divide X) that does
    not help. NaN and infinity show in the extremes, so the data are searched only then.
    """
    if np.isfinite(data_min).all() and np.isfinite(data_max).all():
        return
    rows = data.reshape(len(data), -1) if form in DENSE_FORMS else data
    first = next(i for i, seq in enumerate(rows) if not np.isfinite(seq).all())
    raise ValueError(
        f"SequenceScaler: X has NaN or infinity in sequence {first} "
        "(sklearn.set_config(assume_finite=True) skipped the check of the input); impute "
        "or drop the missing values, and replace infinite ones."
    )


def _merged_statistics(chunks, n_features):
    """``(n, mean, var, min, max)`` per feature of ``chunks`` of values of shape
    ``(k, n_features)``, in float64.

    Chunk means and squared deviations are merged with Chan et al.'s pairwise update,
    which stays accurate where a running sum of squares would cancel.
    """
    n, mean, m2 = 0, np.zeros(n_features), np.zeros(n_features)
    low, high = np.full(n_features, np.inf), np.full(n_features, -np.inf)
    for values in chunks:
        values = values.astype(np.float64, copy=False)
        k, chunk_mean = len(values), values.mean(axis=0)
        delta = chunk_mean - mean
        m2 += ((values - chunk_mean) ** 2).sum(axis=0) + delta**2 * n * k / (n + k)
        mean += delta * k / (n + k)
        n += k
        low, high = np.minimum(low, values.min(axis=0)), np.maximum(high, values.max(axis=0))
    return n, mean, m2 / n, low, high


def streamed_statistics(store, n_features):
    """``(n, mean, var, min, max)`` per feature of a store, in one pass of chunks."""
    def chunks():
        for start, chunk in store.chunks():
            check_finite(chunk, start)
            parts = chunk if isinstance(chunk, list) else [chunk]
            yield np.concatenate([p.reshape(-1, n_features) for p in parts])

    return _merged_statistics(chunks(), n_features)


def in_memory_statistics(data, form, n_features):
    """``(n, mean, var, min, max)`` per feature of validated in-memory sequence data,
    computed a chunk of sequences (about ``CHUNK_BYTES`` in float64) at a time, as a
    store's are: the whole data set as one float64 array, with the squared deviations
    beside it, took 4 times the memory of float32 data (122 MiB for 20000 x 50 x 8)."""
    if form in DENSE_FORMS:
        rows = max(1, store_module.CHUNK_BYTES // (8 * data[0].size))
        chunks = (data[start:start + rows].reshape(-1, n_features)
                  for start in range(0, len(data), rows))
    else:
        lengths = np.fromiter((len(seq) for seq in data), dtype=np.int64, count=len(data))
        chunks = (np.concatenate(data[part])
                  for part in byte_chunks(lengths * n_features * 8, store_module.CHUNK_BYTES))
    return _merged_statistics(chunks, n_features)
