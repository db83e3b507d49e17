"""Which samples a profiled fit of :func:`~sklstm.profile_batch_sizes` trains on.

For ragged data two needs pull apart: the peak memory is set by the longest batch
the estimator will meet, while the throughput of a real epoch is that of the data's
mix of lengths. The longest sequences alone (the draw before) timed every batch size
on a length mix longer than the data's, and a different one per batch size (a larger
batch reached further down the lengths), so their samples per second did not
compare. So the warm-up steps run the longest sequences (the memory peak, and the
kernels of the largest shapes set up before timing) and the timed steps a
length-stratified sample of the data, cut into batches as the estimator's loader
would: of neighbouring lengths with ``bucketing``, of mixed lengths without.
"""

from __future__ import annotations

from inspect import signature

import numpy as np

from .._compat.sklearn import num_samples
from ..data.batching import BatchLoader
from ..data.containers import ragged_lengths

__all__ = ["draw"]

#: Seed of the generator that draws the profiled samples.
_SEED = 0

#: Batches per sorted chunk of the estimator's bucketing (BatchLoader's default, which
#: the fit keeps): a bucketed batch spans about 1/_BUCKET_BATCHES of the lengths
_BUCKET_BATCHES = signature(BatchLoader).parameters["bucket_batches"].default


def _timed_ragged(ascending, batch_size, n_steps, count, bucketing, rng):
    """``count`` samples for the timed steps, from the indices sorted by length: their
    lengths the data's (strata of equal share, one sample each, so that a few steps of
    a small batch get the mix too), in batches as the loader would cut them."""
    n = len(ascending)
    if not bucketing:  # mixed batches: the stratified sample in random order
        ranks = (np.arange(count) + rng.random(count)) * n / count
        return rng.permutation(ascending[ranks.astype(np.intp)])
    # bucketing: each timed batch of neighbouring lengths, as a chunk of the loader's
    # sorted shuffle cuts them (``batch_size`` ranks of a window of max(b, n / chunks)),
    # the batches at the midpoints of n_steps strata of the lengths
    width = max(batch_size, n / _BUCKET_BATCHES)
    centers = (np.arange(n_steps) + 0.5) * n / n_steps
    spread = (np.arange(batch_size) + 0.5) / batch_size - 0.5
    ranks = np.clip(centers[:, None] + width * spread[None, :], 0, n - 1)
    idx = ascending[ranks.astype(np.intp).ravel()]
    return np.concatenate([idx, ascending[rng.choice(n, count - len(idx))]])


def draw(X, y, batch_size, warmup_steps, n_steps, classifier, bucketing):
    """Indices of the samples one profiled fit trains on, in the order of its steps
    (the fit runs them unshuffled, see ``_StepTimer.on_train_begin``)."""
    # a classifier needs two samples (of two classes) even for one step of one sample
    needed = max(batch_size * (warmup_steps + n_steps), 2 if classifier else 1)
    if needed * np.dtype(np.intp).itemsize > np.iinfo(np.intp).max:
        # numpy refuses indices past the address space with a ValueError, which ended
        # the profile: as any copy of samples that does not fit, this pair runs out
        raise MemoryError(f"the indices of {needed} samples are more than memory can hold")
    n = num_samples(X)
    rng = np.random.default_rng([_SEED, needed])
    perm = rng.permutation(n)
    lengths = ragged_lengths(X)
    if lengths is not None:
        # longest first, ties shuffled: the warm-up's (cycled where there are fewer)
        order = perm[np.argsort(-np.asarray(lengths)[perm], kind="stable")]
        warm = order[np.arange(batch_size * warmup_steps) % n]
        timed = _timed_ragged(order[::-1], batch_size, n_steps, needed - len(warm),
                              bucketing, rng)
        idx, order = np.concatenate([warm, timed]), perm
    elif needed <= n:
        idx, order = perm[:needed].copy(), perm
    else:  # every sample once, the rest drawn with replacement
        idx, order = np.concatenate([perm, rng.choice(n, needed - n)]), perm
    if classifier and needed >= 2:
        labels = np.asarray(y, dtype=object) if not isinstance(y, np.ndarray) else y
        if labels.ndim == 2 and labels.shape[1] == 1:  # one column: fit takes it as 1D
            labels = labels[:, 0]
        if labels.ndim == 1:
            first = labels[idx[0]]
            if not np.any(labels[idx] != first):  # the classifier needs two classes
                others = [i for i in order if labels[i] != first]
                if others:
                    idx[-1] = others[0]
    return idx
