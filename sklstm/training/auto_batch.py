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
with half the micro-batch (``on_oom="shrink"``). A trial step runs no micro-batch that an
earlier trial of the process ran for the same kind of step (:func:`_fresh_size`), and
the micro-batch chosen leaves room for the fit's partial one (:func:`_with_tail`).
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import torch

from ..data.batching import split_batch
from ..data.streaming import take_rows
from ..data.tensors import SequenceDataset
from ..exceptions import MemoryBudgetError
from ..resources.memory_budget import format_bytes
from .oom_recovery import out_of_memory
from .randomness import global_draws
from .setup import build_net

__all__ = ["MARGIN", "MARGIN_BYTES", "TRIAL_SIZES", "choose_batch", "find_micro_batch",
           "warm_up"]

#: Share of the budget kept free, and at least :data:`MARGIN_BYTES`: later steps
#: need more than the trial steps (the allocator's fragmentation: on the CPU a fit's
#: resident set grew up to ~15 % above the trial steps' line over its first epoch,
#: benchmarks/results/memory.md).
MARGIN = 0.25

#: The least memory kept free, in bytes.
MARGIN_BYTES = 8 * 2**20

#: Micro-batches of the two trial steps (capped by the number of samples, and with
#: accumulation_steps by the micro-batch whose steps hold every sample), or the nearest
#: ones that no earlier trial of the process ran for that kind of step (_fresh_size).
TRIAL_SIZES = (4, 64)


def choose_batch(plan, dataset, budget):
    """Check the data against the budget and resolve ``batch_size="auto"``.

    Parameters
    ----------
    plan : FitPlan
        The fit's plan; its ``batch_size`` may be ``"auto"``.
    dataset : SequenceDataset
        The training tensors, already where the fit keeps them.
    budget : MemoryBudget
        The fit's ``max_memory``, measured from the fit's start.

    Returns
    -------
    plan : FitPlan
        ``plan`` with its micro-batch a number.
    search : dict
        ``batch_size_search_time_`` and ``batch_size_trials_`` of an automatic
        choice; empty otherwise.
    """
    # only data copied to an accelerator count here: on the CPU the tensors share
    # the arrays' memory, and the resident set's growth so far is noise
    if budget.enforced and dataset.on_accelerator and budget.used() > budget.limit:
        # (without max_memory the bound is the device's free memory: no budget to raise)
        fix = "raise max_memory" if budget.max_memory is not None else "free memory there"
        raise MemoryBudgetError(
            f"{plan.name}: the training data alone take {format_bytes(budget.used())}, "
            f"more than {budget.describe()}; {fix} or shorten the sequences (seq_len, "
            "downsample).")
    if plan.batch_size != "auto":
        return plan, {}
    start = time.perf_counter()
    size, trials = find_micro_batch(plan, dataset, budget)
    return dataclasses.replace(plan, batch_size=size), {
        "batch_size_search_time_": time.perf_counter() - start,
        "batch_size_trials_": [{"batch_size": s, "peak_memory": used}
                               for s, used in sorted(trials.items())]}


def find_micro_batch(plan, dataset, budget):
    """The micro-batch of ``batch_size="auto"`` for this model, data and budget.

    Parameters
    ----------
    plan : FitPlan
        The fit's plan (the trial nets start from the fit's weights).
    dataset : SequenceDataset
        The training tensors.
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
    n, limit = len(dataset), budget.search_limit()
    if limit is None:  # memory cannot be read here (no /proc): nothing to fit against
        return n, {}
    line, trials = _line_size(plan, dataset, budget, limit - (margin := _margin(limit)))
    if line < 1:
        raise budget.error(1, f"{plan.name}: batch_size='auto'", margin)
    return _with_tail(min(n, line), n, plan.accumulation_steps), trials


def _margin(limit):
    """Bytes of ``limit`` kept free (:data:`MARGIN`, at least :data:`MARGIN_BYTES`)."""
    return max(int(limit * MARGIN), MARGIN_BYTES)


def _line_size(plan, dataset, budget, target, wanted=None):
    """``(line, trials)``: the largest micro-batch whose step the trial steps' line
    keeps within ``target`` bytes (all the samples where one step of them fits; 0 where
    one sample's does not), trial micro-batch -> peak bytes. ``wanted`` is returned once
    the first trial shows a step of ``wanted`` samples to fit."""
    n = len(dataset)
    order = (torch.arange(n) if dataset.lengths is None
             else torch.argsort(dataset.lengths, descending=True, stable=True))
    trials = {}

    # a fit's step holds the copy of its whole effective batch, min(size *
    # accumulation_steps, n) samples, while it steps on micro-batches of size: without
    # it the line missed that copy (accumulation_steps=8 chose the micro-batch of 1,
    # whose steps then took 66 MiB of max_memory="48MiB"). The memory bends at `bend`,
    # where a step holds every sample: a line through two trials up to there bounds
    # the steps past it from above (through one on either side it fell below those
    # in between)
    bend = -(-n // plan.accumulation_steps)
    tried = _TRIED.setdefault(_step_kind(plan, dataset.X.shape[1:], dataset.X.dtype), set())

    def peak(size):
        if size not in trials:
            held = order[:min(size * plan.accumulation_steps, n)]
            trials[size] = _trial_step(plan, dataset, held, size, budget)
            tried.add(size)
        return trials[size]

    small, large = (min(n, s) for s in TRIAL_SIZES)
    if small < bend < large:
        large = bend
    if small < large:  # (as near as may be; not past the bend or the samples)
        small = _fresh_size(small, 1, large - 1, tried)
        large = _fresh_size(large, small + 1, min(n, bend) if small < bend else n, tried)
    if target <= 0 or peak(small) > target:
        if target <= 0 or small == 1 or peak(1) > target:
            return 0, trials
        small, large = 1, (bend if 1 < bend < small else small)  # the line from 1 on
    else:
        within = _within_target(small, peak(small), target)
        if wanted is not None and wanted <= within:  # (the first trial's bound)
            return wanted, trials
        if large > within:  # (a fresh size as above, and at least small + 1)
            large = _fresh_size(within, small + 1, within, tried)
        if small == large or (large == n and peak(large) <= target):
            return n, trials  # every sample fits in one step
    slope = (peak(large) - peak(small)) / (large - small)
    if slope <= 0:  # memory does not measurably grow with the batch
        return n, trials
    return max(1, small + math.floor((target - peak(small)) / slope)), trials


def _tail(size, n, accumulation_steps):
    """Samples of the fit's partial micro-batch at ``size`` (0 where every micro-batch
    is whole): the last of an effective batch of ``min(size * accumulation_steps, n)``
    samples, or of the epoch's last, partial effective batch."""
    effective = np.minimum(size * accumulation_steps, n)
    return (n % effective + (n % effective == 0) * effective) % size


def _with_tail(line, n, accumulation_steps):
    """The largest micro-batch ``size <= line`` whose steps and partial micro-batch
    together, ``size + tail``, stay within ``line`` samples.

    The trial steps run one shape of step; a fit with a partial micro-batch runs two,
    and on the CPU the second one's memory comes on top of the first's: oneDNN's LSTM
    kernels keep buffers per shape of step, and the heap, holding the freed blocks of
    the full micro-batch, places the partial one's beside them. Measured (4000
    sequences of 200 steps, 8 features, ``hidden_size=64``, 2 layers, a fresh process
    a fit: ``benchmarks/bench_cpu_budget.py --processes 2 --process-budget None
    --process-fits 61:3965 61:4000``): a fit with ``batch_size=61`` peaked at 59.8-61.2
    MiB on 3965 samples and at 70.1-86.5 MiB on 4000 (a last batch of 35); before this
    was counted, ``batch_size="auto"`` under ``max_memory="64MiB"`` chose micro-batches
    whose partial last batch went over the budget (050c906's text, unscripted; 0 of 10
    over now, ``--processes 10``). Counted at the line's
    slope (more than it measurably takes), the partial micro-batch is a share of the
    line: a size of at least half of it always qualifies (its tail is smaller than
    itself), and one that divides the samples has no tail to count.
    """
    if line >= n:  # one step holds every sample
        return n
    # a few thousand sizes at a time, largest first: all of them at once took memory
    # that grows with the line (40 MB for a line of ten million), and counts in the budget
    for top in range(line, line // 2, -_SIZES_AT_ONCE):
        sizes = np.arange(top, max(line // 2, top - _SIZES_AT_ONCE), -1, dtype=np.int64)
        fits = sizes + _tail(sizes, n, accumulation_steps) <= line
        if fits.any():
            return int(sizes[np.argmax(fits)])
    return max(1, line // 2)


#: Candidate micro-batches :func:`_with_tail` weighs at once.
_SIZES_AT_ONCE = 4096


#: Kinds of fit this process has run a warm-up step for (see :func:`warm_up`).
_WARMED = set()

def _within_target(small, used, target):
    """The largest trial micro-batch whose step the one of ``small`` samples, which used
    ``used`` bytes, shows to stay within ``target`` (and at least ``small + 1``).

    A step's memory is a fixed part (the weights, the optimizer's state: not less than
    nothing) plus its samples', so ``size / small`` times the step of ``small`` samples
    estimates the step of ``size`` samples from above; an estimate, not a bound (the
    allocator's heap: 40 samples that 6 showed within 48.0 MiB took 52.3 MiB, in
    ``benchmarks/bench_cpu_budget.py`` at 64 MiB). (The second trial, of 64 samples,
    ran whatever the budget: under ``max_memory="16MiB"`` it took 68 MiB, for a
    micro-batch of 5 chosen.)
    """
    return max(small + 1, math.floor(small * target / used)) if used > 0 else math.inf


#: Kind of step -> the micro-batches this process's trial steps ran for it.
_TRIED = {}


def _step_kind(plan, *shape):
    """What a step's kernels and their caches depend on, but for the batch: the device,
    the network's shape and precision, and ``shape`` (the data's, where given)."""
    return (str(plan.device), plan.pooling, plan.num_layers, plan.bidirectional,
            plan.hidden_size, plan.precision, plan.conv_channels, plan.conv_kernel_sizes,
            plan.ar_window, plan.split_level, *shape)


def _fresh_size(size, low, high, tried):
    """The size in ``[low, high]`` nearest ``size`` that is not in ``tried`` (``size``
    itself where all are).

    The CPU's LSTM kernels (oneDNN) keep a cache per shape of step, resident for the
    process's life: a trial at a micro-batch an earlier fit's trial ran reuses it and
    reads less memory than the fit's own steps, of a micro-batch new to the process,
    then take. Measured once, unscripted, before 13024df (hidden_size=4, 2 layers,
    600 sequences of 100 steps, max_memory="40MB", accumulation_steps=3): the first
    fit's trials read 1.0 and 9.8 MB at 4 and 64 samples and chose 197, a second
    identical fit's read 0.3 and 5.5 MB and chose 338, whose steps took 53 MiB and were
    halved mid-fit; at 5 and 65 samples the second fit read 0.9 and 10.1 MB, as the
    first.
    """
    for offset in range(max(size - low, high - size) + 1):
        for candidate in (size + offset, size - offset):
            if low <= candidate <= high and candidate not in tried:
                return candidate
    return size


def _run_steps(plan, size, batches):
    """A training step of a throwaway net on each micro-batch of ``size`` samples that
    ``batches`` yields, RNG untouched."""
    trial = dataclasses.replace(
        plan, callbacks=(), checkpoint=None, early_stopping=False,
        batch_size=size, accumulation_steps=1, lr_scaling=None)
    with global_draws(plan.device, plan.seed):  # (a lock beside other fits)
        net = build_net(trial)
        net.initialize()
        for batch in batches:
            net.train_step(batch)


def warm_up(plan, seqs, y_train):
    """One step on two short samples, once per process and kind of fit.

    The first step of a kind (CPU or CUDA, tokens or numbers, padded or not, the
    network's shape) loads torch's kernels: on the CPU ~90 MB of code pages and
    caches become resident, on CUDA the context and cuDNN's workspace. Done before
    the fit's memory is measured, that one-time cost is not charged to the fit's
    ``peak_memory_`` or its budget.

    Parameters
    ----------
    plan : FitPlan
        The fit's plan.
    seqs : Sequences
        The validated training sequences.
    y_train : ndarray
        The encoded training targets.
    """
    key = _step_kind(plan, seqs.form == "tokens", seqs.lengths is None)
    if key in _WARMED:
        return
    two = min(2, len(seqs))
    width = min(seqs.values.shape[1], 8)
    lengths = None if seqs.lengths is None else np.minimum(seqs.lengths[:two], width)
    small = dataclasses.replace(seqs, values=take_rows(seqs.values, np.arange(two), width),
                                lengths=lengths)
    dataset = SequenceDataset.from_sequences(small, y_train[:two], plan.device)
    _run_steps(plan, two, [dataset.take(torch.arange(two))])
    _WARMED.add(key)


def _trial_step(plan, dataset, idx, size, budget):
    """Peak bytes of training steps on micro-batches of ``size`` samples of the batch
    ``idx`` (an effective batch, held whole); inf if they ran out.

    As in the fit: each step's batch is taken after the budget's restart (its copy is
    part of a step's memory), and the micro-batch is a view of it. Two steps: the
    second one's batch is taken while the first one's is still held (a fit's loop
    takes the next batch so), and meets the first step's freed memory in the
    allocator, as every later step of the fit does. (One batch for both steps missed
    that second copy, with accumulation_steps a whole effective batch.)
    """
    def batches():
        for _ in range(2):
            X, y = dataset.take(idx)
            yield split_batch(X, size)[0], y[:size]

    budget.restart(keep=False)
    try:
        _run_steps(plan, size, batches())
        return budget.used()
    except MemoryError:
        return math.inf
    except RuntimeError as exc:  # CUDA's OutOfMemoryError is one
        # as a training step tells them (out_of_memory): the CPU allocator's failure is
        # a plain RuntimeError, which ended batch_size="auto" where a step of fewer
        # samples fits
        if out_of_memory(exc) is None:
            raise
        return math.inf
    finally:
        budget.restart(keep=False)

