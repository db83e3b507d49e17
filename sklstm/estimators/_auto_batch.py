"""``batch_size="auto"``: the largest micro-batch that fits the memory budget.

Why by hand: skorch has no batch-size finder; Lightning's ``BatchSizeFinder`` and
accelerate's ``find_executable_batch_size`` double the batch until a step fails,
which costs steps up to the largest size and keeps no margin. A training step's
memory is an affine function of its micro-batch (weights, optimizer state and data
are fixed; activations grow with the samples), so two cheap trial steps on the
longest sequences give the line, and the largest micro-batch under the budget less
:data:`MARGIN` follows. The trial steps run on a throwaway net under a forked
random state, so the fit itself is the one ``batch_size=batch_size_`` would give;
its own steps are checked against the budget, and one that misses it is redone
with half the micro-batch (``on_oom="shrink"``).
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import torch

from ..resources.budget import OUT_OF_MEMORY, format_bytes
from ._net_setup import build_net

__all__ = ["MARGIN", "MARGIN_BYTES", "TRIAL_SIZES", "find_micro_batch", "warm_up"]

#: Share of the budget kept free, and at least :data:`MARGIN_BYTES`: later steps
#: need more than the trial steps (the allocator's fragmentation: on the CPU a fit's
#: resident set grew up to ~15 % above the trial steps' line over its first epoch,
#: benchmarks/results/memory.md).
MARGIN = 0.25

#: The least memory kept free, in bytes.
MARGIN_BYTES = 8 * 2**20

#: Micro-batches of the two trial steps (capped by the number of samples).
TRIAL_SIZES = (4, 64)


def find_micro_batch(estimator, p, seed, seqs, dataset, budget):
    """The micro-batch of ``batch_size="auto"`` for this model, data and budget.

    Parameters
    ----------
    estimator : BaseLSTM
        The estimator being fitted (its ``device_``, ``lr_`` are set).
    p : SimpleNamespace
        Its checked parameters.
    seed : int
        The fit's seed (the trial nets start from the fit's weights).
    seqs : Sequences
        The validated training sequences.
    dataset : SequenceDataset
        Their tensors.
    budget : MemoryBudget
        The fit's budget.

    Returns
    -------
    size : int
        At least 1, at most the number of samples.
    trials : dict
        Trial micro-batch -> peak bytes measured.

    Raises
    ------
    MemoryBudgetError
        If a step on one sample does not fit the budget.
    """
    n = len(dataset)
    limit = budget.search_limit()
    if limit is None:  # memory cannot be read here (no /proc): nothing to fit against
        return n, {}
    target = limit - max(int(limit * MARGIN), MARGIN_BYTES)
    order = (torch.arange(n) if dataset.lengths is None
             else torch.argsort(dataset.lengths, descending=True, stable=True))
    trials = {}

    def peak(size):
        if size not in trials:
            trials[size] = _trial_step(estimator, p, seed, seqs, dataset, order[:size],
                                       budget)
        return trials[size]

    small, large = (min(n, s) for s in TRIAL_SIZES)
    if target <= 0 or peak(small) > target:
        if target <= 0 or small == 1 or peak(1) > target:
            raise budget.error(1, f"{type(estimator).__name__}: batch_size='auto'") from None
        small, large = 1, small  # the line through 1 and the first trial
    elif small == large or (large == n and peak(large) <= target):
        return n, trials  # every sample fits in one step
    slope = (peak(large) - peak(small)) / (large - small)
    if slope <= 0:  # memory does not measurably grow with the batch
        return n, trials
    size = small + math.floor((target - peak(small)) / slope)
    return max(1, min(n, size)), trials


#: Kinds of fit this process has run a warm-up step for (see :func:`warm_up`).
_WARMED = set()


def _run_steps(estimator, p, seed, seqs, batch, n_steps):
    """``n_steps`` training steps of a throwaway net on ``batch``, RNG untouched."""
    device = estimator.device_
    p = copy.copy(p)
    p.callbacks, p.checkpoint, p.early_stopping = None, None, False
    p.batch_size, p.accumulation_steps = len(batch[1]), 1
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        net = build_net(estimator, p, seed, seqs, effective_batch_size=p.batch_size,
                        lr=p.lr, precision=estimator._precision)
        net.initialize()
        for _ in range(n_steps):
            net.train_step(batch)


def warm_up(estimator, p, seed, seqs, y_train):
    """One step on two short samples, once per process and kind of fit.

    The first step of a kind (CPU or CUDA, tokens or numbers, padded or not, the
    network's shape) loads torch's kernels: on the CPU ~90 MB of code pages and
    caches become resident, on CUDA the context and cuDNN's workspace. Done before
    the fit's memory is measured, that one-time cost is not charged to the fit's
    ``peak_memory_`` or its budget.
    """
    device = estimator.device_
    key = (str(device), seqs.form == "tokens", seqs.lengths is None, p.pooling,
           p.num_layers, p.bidirectional, p.hidden_size, estimator._precision)
    if key in _WARMED:
        return
    from .._data.tensors import SequenceDataset

    two = min(2, len(seqs))
    width = min(seqs.values.shape[1], 8)
    lengths = None if seqs.lengths is None else np.minimum(seqs.lengths[:two], width)
    small = dataclasses.replace(seqs, values=seqs.values[:two, :width], lengths=lengths)
    dataset = SequenceDataset.from_sequences(small, y_train[:two], device)
    _run_steps(estimator, p, seed, small, dataset.take(torch.arange(two)), n_steps=1)
    _WARMED.add(key)


def _trial_step(estimator, p, seed, seqs, dataset, idx, budget):
    """Peak bytes of training steps on the samples ``idx``; inf if they ran out.

    Two steps: the second one meets the first one's freed memory in the
    allocator, as every later step of the fit does.
    """
    budget.restart(keep=False)
    try:
        _run_steps(estimator, p, seed, seqs, dataset.take(idx), n_steps=2)
        return budget.used()
    except (OUT_OF_MEMORY, MemoryError):
        return math.inf
    finally:
        budget.restart(keep=False)


def describe(trials):
    """The trial steps, for messages: ``"4: 1.2 MiB, 64: 9.0 MiB"``."""
    return ", ".join(f"{size}: {format_bytes(used)}" for size, used in sorted(trials.items()))
