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

A fit's memory also grows with the shapes of step it runs, one per padded width of
its batches: oneDNN caches buffers per shape (see ``resources.onednn``), and the heap
keeps room for each. A few steps of a few widths read 23 MiB where a fit's epoch on
the same data (4000 sequences of 50 to 500 steps, 57 widths, batch 32, hidden 16)
took 31 MiB with torch's native kernels and 45 to 116 MiB with oneDNN. So the warm-up
adds a batch for each padded width the longest batches leave out (the longest
sequences of that width first): 31 and 36 MiB, at 57 more steps (untimed; measured by
``benchmarks/bench_profile_warmup.py``).
"""

from __future__ import annotations

from inspect import signature

import numpy as np

from .._compat.sklearn import num_samples
from .._param_validation import plain_value
from ..data.batching import BatchLoader
from ..data.containers import ragged_lengths
from ..data.steps import resolve_downsample
from ..data.tensors import LENGTH_MULTIPLE

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


def _width_batches(descending, lengths, batch_size, skip):
    """Indices of a batch for every padded width of ``lengths`` (the width a batch is
    padded to: its longest sequence rounded up to :data:`LENGTH_MULTIPLE`) but the
    ``skip`` widest: the longest ``batch_size`` sequences from the first of that width
    on (the shortest repeated where fewer are left), widest first."""
    widths = -(-lengths[descending] // LENGTH_MULTIPLE)
    starts = np.flatnonzero(np.r_[True, widths[1:] != widths[:-1]])[skip:]
    ranks = np.minimum(starts[:, None] + np.arange(batch_size), len(descending) - 1)
    return descending[ranks.ravel()]


def _fit_steps(lengths, fit):
    """The timesteps a fit of ``fit`` (an sklstm estimator) reads of sequences of
    ``lengths``: downsampled (numbers, not token ids), then cut at ``seq_len``. Their
    padded widths, not the lengths', are the fit's shapes of step: a width per 8 raw
    steps ran 625 warm-up steps for sequences of 5,000 steps that "auto" averages to 100."""
    if fit is None:
        return lengths
    steps = lengths if fit.embedding_dim is not None else -(-lengths // resolve_downsample(
        plain_value(fit.downsample), int(lengths.max())))
    seq_len = plain_value(fit.seq_len)
    return steps if seq_len is None else np.minimum(steps, seq_len)


def draw(X, y, batch_size, warmup_steps, n_steps, classifier, bucketing, fit=None):
    """Indices of the samples one profiled fit trains on, in the order of its steps
    (the fit runs them unshuffled, see ``_StepTimer.on_train_begin``), and the number
    of warm-up steps among them (more than ``warmup_steps`` on ragged data of several
    padded widths, see the module's docstring; ``fit``: the profiled estimator, whose
    ``downsample`` and ``seq_len`` set the widths)."""
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
        lengths = np.asarray(lengths, dtype=np.int64)
        order = perm[np.argsort(-lengths[perm], kind="stable")]
        warm = order[np.arange(batch_size * warmup_steps) % n]
        timed = _timed_ragged(order[::-1], batch_size, n_steps, needed - len(warm),
                              bucketing, rng)
        if warmup_steps:  # a step of every other padded width too (the peak's shapes)
            steps = _fit_steps(lengths, fit)  # (in the order of the lengths: descending)
            covered = len(np.unique(-(-steps[warm] // LENGTH_MULTIPLE)))
            warm = np.concatenate([warm, _width_batches(order, steps, batch_size, covered)])
            warmup_steps = len(warm) // batch_size
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
    return idx, warmup_steps
