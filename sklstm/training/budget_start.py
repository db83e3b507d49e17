"""Where a fixed ``batch_size`` starts under ``max_memory`` on the CPU: the trial steps
of :mod:`~sklstm.training.auto_batch` predict its first step, so that a step far over
the budget is not run to find out (:func:`start_within_budget`).

Split from :mod:`~sklstm.training.auto_batch` (``batch_size="auto"``'s search), whose
trial steps and line it uses.
"""

from __future__ import annotations

import math

from ..exceptions import MemoryBudgetError
from ..resources.memory_budget import format_bytes
from .auto_batch import _line_size, _margin

__all__ = ["start_within_budget"]


def start_within_budget(plan, dataset, budget):
    """The micro-batch a fixed ``batch_size`` starts at under ``max_memory`` on the CPU.

    There the budget is a check after each step, not a cap: a step over it took the
    memory first (``batch_size=512`` under ``max_memory="64MiB"``: 380 MiB, then four
    halvings to 32). The trial steps' line predicts the step: over the budget less
    :data:`~sklstm.training.auto_batch.MARGIN`, the fit starts at the halving
    ``on_oom="shrink"`` would reach (the same updates); ``on_oom="raise"`` refuses it
    where a trial step of no more samples went over the budget. No trial step runs
    without ``max_memory``, on CUDA (its allocator is capped) or where the first trial
    shows the step to fit.

    Parameters
    ----------
    plan : FitPlan
        The fit's plan, its ``batch_size`` a number.
    dataset : SequenceDataset
        The training tensors.
    budget : MemoryBudget
        The fit's budget.

    Returns
    -------
    tuple or None
        ``(start, reason)`` for the net's ``start_micro_batch``; None: it fits.

    Raises
    ------
    MemoryBudgetError
        With ``on_oom="raise"``, where a trial step went over.
    """
    if budget.max_memory is None or not budget.enforced or plan.device.type != "cpu":
        return None
    # shrink: the budget less its margin, as batch_size="auto"'s; the line is an
    # estimate that runs low as well as high (against the budget itself, a fixed 512
    # under 64 MiB started at 64, whose first step took 76.7 MiB: benchmarks/
    # bench_cpu_budget.py). Its halvings keep the updates; a fit that would have fit
    # may run in smaller micro-batches. raise: the budget itself, and a measurement
    raising = plan.on_oom == "raise"
    target = budget.limit - (0 if raising else _margin(budget.limit))
    held = min(int(plan.batch_size), plan.effective_batch_size)  # a first step's samples
    if target <= 0 or held <= 1:  # nothing to predict, or to halve: the check decides
        return None
    line, trials = _line_size(plan, dataset, budget, target, wanted=held)
    if held <= line:
        return None
    start = held
    while start > max(line, 1):  # on_oom="shrink"'s halvings (shrink_micro_batch)
        start = math.ceil(start / 2)
    reason = (f"predicted over max_memory: trial steps keep {line or 'not even one'} sample(s)"
              f" within {format_bytes(target)}{'' if raising else ' (less its margin)'}")
    if not raising:
        return start, reason
    # refused on a measurement only (a trial step of no more samples went over): on the
    # line's estimate, fits that ran within the budget were refused; else the check
    # after the first step decides, as without trial steps
    over = sorted(size for size, used in trials.items() if size <= held and used > budget.limit)
    if not over:
        return None
    if not line:  # (no smaller batch_size to advise)
        raise budget.error(1, f"{plan.name} (measured by a trial step)")
    raise MemoryBudgetError(
        f"{plan.name}: a training step with a micro-batch of {held} sample(s) is {reason} "
        f"(a trial step of {over[0]} took {format_bytes(trials[over[0]])}). Set "
        f"batch_size={start}, or on_oom='shrink' to start at {start} (the same updates), "
        "or raise max_memory.")
