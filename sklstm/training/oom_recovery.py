"""Recovering a training step that ran out of memory: the micro-batch is halved.

A step over ``max_memory``, out of CUDA memory or of the CPU allocator's is redone with
half the micro-batch and twice the accumulation steps (``on_oom="shrink"``), so the
effective batch, and with it the update, stays the same; or it raises a
:class:`~sklstm.exceptions.MemoryBudgetError` that says what to change
(``on_oom="raise"``, one sample, or an optimizer that already moved the weights).
A step whose optimizer update (not its forward or backward pass) ran out of memory
always raises: that update may be partly applied, so a redo stepped twice (Adam's
moments and step count), and its memory is the model's, which no smaller batch frees.
:class:`MicroBatchShrinking` is the part of :class:`~sklstm.training.SequenceNet`
that does this; its ``train_step`` decides when.

A validation step (skorch's, at every epoch's end under ``early_stopping``) that runs out
of memory is evaluated in halves instead (:meth:`MicroBatchShrinking.validation_step`):
it computes no gradients, so the halves give the same loss and predictions and nothing
needs redoing; only one sample that does not fit raises.
"""

from __future__ import annotations

import math

import torch

from .._compat.python import warn_at_caller
from ..data.batching import split_batch
from ..exceptions import MemoryBudgetError, MicroBatchShrunkWarning
from ..resources.device import empty_cache
from ..resources.memory_budget import OUT_OF_MEMORY, MemoryBudgetExceeded, format_bytes

__all__ = ["MicroBatchShrinking", "batch_samples", "has_batch_norm", "kept_weights",
           "out_of_memory", "weigh", "weighted_parts"]


class MicroBatchShrinking:
    """Net mixin: halve the micro-batch after a step ran out of memory, or say why not.

    Reads the net's ``micro_batch_size``, ``memory_budget``, ``on_oom``, ``device``,
    ``batch_size``, ``history``, ``module_``, ``criterion_``, ``memory_events_``,
    ``precision`` and ``grad_scaler_``.
    """

    def validation_step(self, batch, **fit_params):
        """skorch's validation step; a batch that runs out of memory is evaluated in halves.

        skorch's step raised torch's bare out-of-memory error at the epoch's end, after
        the epoch's training. A validation step keeps no gradients and changes no
        weights, so halving it is exact: the halves' losses, weighted by their share of
        the batch (a summed loss: added), are the batch's mean loss and their
        predictions the batch's (up to float rounding), and the history's rows stay
        those of the whole batch. The size that fits is kept for the rest of the fit's
        validation and for later predictions (``iterator_valid__batch_size``).
        ``on_oom`` does not apply: nothing is approximated, so there is nothing to refuse.

        Parameters
        ----------
        batch : tuple
            ``(X, y)`` of a validation batch.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        dict
            ``{"loss": the batch's loss, "y_pred": its predictions}``.

        Raises
        ------
        MemoryBudgetError
            Where even one sample does not fit.
        """
        chunk = self.__dict__.get("_valid_chunk")  # (None: the whole batch)
        while True:
            try:
                return self._validate_in_chunks(batch, chunk, **fit_params)
            except (OUT_OF_MEMORY, MemoryBudgetExceeded, RuntimeError) as exc:
                reason = out_of_memory(exc)
                if reason is None:
                    raise
                size = min(chunk or math.inf, batch_samples(batch))
                if size <= 1:
                    raise self._validation_memory_error(reason) from exc
            # outside the except block, so the failed pass's tensors can be freed
            # (in __dict__: no parameter of the net, and skorch's __setattr__ is slow)
            chunk = self.__dict__["_valid_chunk"] = math.ceil(size / 2)
            # (never above a micro-batch that a training step's recovery set)
            valid = getattr(self, "iterator_valid__batch_size", None)
            self.iterator_valid__batch_size = chunk if valid is None else min(valid, chunk)
            self._free_memory()

    def _validate_in_chunks(self, batch, chunk, **fit_params):
        if chunk is None or batch_samples(batch) <= chunk:
            return super().validation_step(batch, **fit_params)
        total, preds = 0.0, []
        for part, share in weighted_parts(self.criterion_, batch, chunk):
            step = super().validation_step(part, **fit_params)
            total = total + weigh(step["loss"], share)
            preds.append(step["y_pred"])
        return {"loss": total, "y_pred": torch.cat(preds)}

    def _validation_memory_error(self, reason):
        first = self._remedy()
        return MemoryBudgetError(
            f"A validation step of one sample {self._what_ran_out(reason)}: an "
            "evaluation that does not fit is halved down to one sample, and even that "
            f"did not fit. To fit: {first}, shorten the sequences (seq_len, downsample), "
            "or use a smaller model (hidden_size, num_layers).")

    def _free_memory(self):
        """Free what a pass that ran out of memory left cached, and restart the peak."""
        if self.memory_budget is not None:
            self.memory_budget.restart(keep=True)
        else:  # the fit's device, not whichever CUDA device this machine has
            empty_cache(self.device)

    def shrink_micro_batch(self, size, reason):
        """Halve the micro-batch after a step of ``size`` samples ran out of memory.

        The effective batch (``batch_size``) is kept: twice the micro-batches are
        accumulated, so the redone step computes the same update. The event is
        logged in ``memory_events_`` and warned about.

        Parameters
        ----------
        size : int
            The micro-batch that did not fit.
        reason : str
            What ran out ("CUDA out of memory", "over max_memory"...).
        """
        new = self._halve(size, reason)
        self._free_memory()
        warn_at_caller(
            f"A training step with a micro-batch of {size} ran out of memory ({reason}); "
            f"it was redone with {self._kept(new)} to skip the failed step next time.",
            MicroBatchShrunkWarning)

    def start_micro_batch(self, start, reason):
        """Start an initialized net's training at the halving ``start`` of its micro-batch
        (:func:`~sklstm.training.budget_start.start_within_budget`), each halving logged
        as ``on_oom="shrink"`` logs it (at batch 0 of the epochs done); warned once.

        Parameters
        ----------
        start : int
            The micro-batch to start at.
        reason : str
            Why, in words.
        """
        size = first = min(int(self.micro_batch_size), int(self.batch_size))
        while size > start:  # (batch 0: a resumed fit's history ends in a whole epoch)
            size = self._halve(size, reason, batch=0)
        warn_at_caller(
            f"A training step with a micro-batch of {first} is {reason}; the fit starts "
            f"with {self._kept(size)} for this fit without the trial steps' halvings.",
            MicroBatchShrunkWarning)

    def _halve(self, size, reason, batch=None):
        """Halve the micro-batch ``size``, logged at ``batch`` (None: the epoch's so far)."""
        new, history = math.ceil(size / 2), self.history
        if batch is None:
            batch = len(history[-1]["batches"]) if history else 0
        self.micro_batch_size = new
        # later predictions go in micro-batches too (during this fit, validation
        # batches keep the first micro-batch: inference needs less than a step)
        self.iterator_valid__batch_size = new
        self.memory_events_.append({"epoch": len(history), "batch": batch, "from": size,
                                    "to": new, "reason": reason})
        return new

    def _kept(self, new):
        """What a micro-batch of ``new`` samples keeps, and the settings that give it."""
        # batch normalization (the convolutional branch) takes its statistics per
        # micro-batch: with it, the updates follow the smaller micro-batch's statistics
        same = ("the updates are unchanged" if not has_batch_norm(self.module_) else
                "the gradients add up as before, but batch normalization now takes its "
                f"statistics over {new} samples")
        steps = math.ceil(self.batch_size / new)
        # both: batch_size alone would train on a smaller effective batch (other
        # updates; another lr_ under lr_scaling) than the one this fit kept
        return (f"{new} samples and {steps} accumulation steps: the effective batch of "
                f"{self.batch_size} is kept and {same}. Set batch_size={new} and "
                f"accumulation_steps={steps}")

    def _renew_grad_scaler(self):
        """Give a step about to be redone a new gradient scaler, at the old one's scale.

        ``GradScaler`` refuses to unscale the gradients of one step twice ("unscale_()
        has already been called on this optimizer since the last update()"): a step that
        ran out of memory after they were unscaled (in gradient clipping, or in the
        optimizer's step) ended the fit with that error instead of being redone.
        """
        scaler = self.grad_scaler_
        if scaler is not None:
            self.grad_scaler_ = self.precision.grad_scaler()
            self.grad_scaler_.load_state_dict(scaler.state_dict())

    def _what_ran_out(self, reason):
        """What a step took the fit's memory to and the bound it hit, and whose bound
        that is, in words: ``"brought the fit's memory (model, optimizer state, cached
        buffers and the step's own) to 4.8 MiB on cpu, more than max_memory=1.9 MiB, the
        memory budget set for this fit"``, ``"ran out of memory (CUDA out of memory) on
        cuda"``.

        The budget measures everything the fit holds at the step's peak, not what the
        step's samples need: "a micro-batch of 1 sample(s) needed 4.8 MiB" read as the
        cost of one sample. (The reason and the budget were put side by side, "(over
        max_memory, 4.8 MiB used) (memory budget 1.9 MiB)"; and a CUDA fit without
        max_memory, bounded by the device's free memory, was said to be over max_memory.)
        """
        budget = self.memory_budget
        # (a budget the user set: on CUDA without one, budget.limit is the free memory)
        set_by_user = budget is not None and budget.max_memory is not None
        whose = (f"max_memory={format_bytes(budget.max_memory)}, the memory budget set "
                 "for this fit" if set_by_user else None)
        used = None if budget is None else _used(reason)
        if used is None:  # the allocator's failure: what it needed is not known
            return (f"ran out of memory ({reason}) on {self.device}"
                    + ("" if whose is None else f" under {whose}"))
        if whose is None:  # a CUDA fit bounded by the device's free memory
            whose = f"the {format_bytes(budget.limit)} free on {self.device} as the fit began"
        return (f"brought the fit's memory (model, optimizer state, cached buffers and the "
                f"step's own) to {used} on {self.device}, more than {whose}")

    def _remedy(self):
        """The first thing to do about a step that does not fit, in words."""
        budget = self.memory_budget
        return (f"free memory on {self.device} (other processes or tensors)"
                if budget is None else budget.remedy())

    def _memory_error(self, size, reason):
        advice = ("on_oom='shrink' would have retried it with half the micro-batch"
                  if self.on_oom == "raise" else
                  f"{self._remedy()}, shorten the sequences (seq_len, downsample), or use a "
                  "smaller model (hidden_size, num_layers)")
        return MemoryBudgetError(
            f"A training step with a micro-batch of {size} sample(s) "
            f"{self._what_ran_out(reason)}; {advice}.")

    def _optimizer_memory_error(self, size, reason):
        """The error for a step whose optimizer update ran out of memory.

        The gradients were computed; the optimizer (its state made on the first step,
        its update's temporaries: memory of the model's size, not the batch's) did not
        fit. Its update may be partly applied (Adam counts the step before it moves
        anything), so the step is not redone (that stepped twice), whatever ``on_oom`` says.
        """
        first = self._remedy()
        name = type(self.optimizer_).__name__
        return MemoryBudgetError(
            f"The {name} optimizer's update {self._what_ran_out(reason)}, after the "
            f"gradients of a micro-batch of {size} sample(s) "
            "were computed. The update may have been partly applied, so the step was not "
            "redone, and a smaller batch would not help: the optimizer's state and "
            "update need memory in proportion to the model's parameters. To fit: "
            f"{first}, use a smaller model (hidden_size, num_layers), or an optimizer "
            "with less state (optimizer='sgd' keeps at most one buffer per parameter, "
            "Adam two).")


def batch_samples(batch):
    """Samples in ``batch`` (``(X, y)``)."""
    y = batch[1]
    return int(y.shape[0])


def weighted_parts(criterion, batch, size):
    """``batch`` (``(X, y)``) in parts of ``size`` samples, each with the weight of its
    loss in the whole batch's, so that the weighted losses (and their gradients) add up
    to the whole batch's.

    The weight is the part's share of the loss's denominator: of the samples for a mean
    loss; of the summed weights of the targets kept for torch's own
    ``CrossEntropyLoss``/``NLLLoss`` with class-index targets (their mean divides by
    those: ``weight``, ``ignore_index``); 1 for a criterion that sums over the samples
    (``reduction="sum"``: with the share, k parts added up to about 1/k of the whole
    batch's loss and update).

    Yields
    ------
    part : tuple
        ``(X, y)`` of the part.
    share : float or torch.Tensor
        The weight of its loss; a 0-dim tensor on the device for torch's weighted
        mean (not read into Python: a read per batch makes the host wait for a GPU),
        0 for a part with no weight (see :func:`weigh`).
    """
    X, y = batch
    n = batch_samples(batch)
    kept = kept_weights(criterion, y)
    if getattr(criterion, "reduction", "mean") == "sum":
        shares = [1.0] * -(-n // size)
    elif kept is None:  # a mean over the samples
        shares = [len(part) / n for part in y.split(size)]
    else:
        total = kept.sum()
        shares = [part.sum() / total for part in kept.split(size)]
    for Xm, ym, share in zip(split_batch(X, size), y.split(size), shares, strict=True):
        yield (Xm, ym), share


#: torch's criteria whose mean over class-index targets divides by the summed weights of
#: the targets it keeps: their class ``weight`` and ``ignore_index``
_MEAN_OVER_WEIGHTS = (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss)


def kept_weights(criterion, y):
    """The weight of each target of ``y`` in ``criterion``'s mean, for a mean that
    divides by their sum: torch's own ``CrossEntropyLoss`` and ``NLLLoss`` with
    ``reduction="mean"`` and class-index targets, with a ``weight`` or an
    ``ignore_index`` that is a class (>= 0; a target of the default -100 is not looked
    for). None for any other loss, a mean over the samples (a subclass with its own
    ``forward`` may average otherwise:
    :class:`~sklstm.training.class_weights.ClassWeightedCrossEntropy` does).

    Returns
    -------
    torch.Tensor of shape (len(y), ...) or None
        The class weight of each target (1 without ``weight``), 0 where it is ignored.
    """
    if (not isinstance(criterion, _MEAN_OVER_WEIGHTS)
            or type(criterion).forward not in {c.forward for c in _MEAN_OVER_WEIGHTS}
            or criterion.reduction != "mean" or y.is_floating_point()):
        return None
    if criterion.weight is None and criterion.ignore_index < 0:
        # no class weights and no class index ignored (torch's default, -100, is no
        # class): the mean over the samples. Which is the classifier's criterion
        # without class_weight, whose steps then launch no kernels for their shares
        return None
    kept = y != criterion.ignore_index
    weight = criterion.weight
    if weight is None:
        return kept.float()
    # (an ignored index may lie outside the classes; one that is kept but outside, the
    # criterion itself refuses)
    classes = torch.where(kept, y, 0).clamp(0, len(weight) - 1)
    return torch.where(kept, weight.to(y.device, torch.float32)[classes], 0.0)


def weigh(loss, share, y_pred=None):
    """``loss`` weighted by its ``share`` of the whole batch's, from :func:`weighted_parts`.

    A part whose share is 0 (every target ignored, or of classes weighted 0) has a mean
    of 0/0: torch's loss for it is NaN, and its gradient too where a class weight is 0.
    It adds 0 instead, and no gradient through ``y_pred`` (what the loss was computed
    from). Skipping its backward pass would need its share read into Python (the host
    waits for a GPU), so this is done on the device. A share that is NaN (the whole
    batch has no weight: torch's loss is NaN too) stays NaN.
    """
    if not isinstance(share, torch.Tensor):
        return loss if share == 1.0 else loss * share
    share = share.to(loss.device)  # (y may be on the CPU; a no-op where it is not)
    counts = share != 0
    if y_pred is not None and y_pred.requires_grad:
        y_pred.register_hook(lambda grad: torch.where(counts, grad, 0.0))
    return torch.where(counts, loss, 0.0) * share


#: The start and end of :func:`out_of_memory`'s reason for a step over the budget
#: (``memory_events_``' "reason"), around the bytes it used.
_OVER_BUDGET = ("over max_memory, ", " used")


#: How torch's CPU allocator words its failure, after "DefaultCPUAllocator: ".
_CPU_ALLOCATOR = ("can't allocate memory", "not enough memory")


def out_of_memory(exc):
    """What ran out, when ``exc`` is an out-of-memory error; None otherwise."""
    if isinstance(exc, MemoryBudgetExceeded):
        return format_bytes(exc.args[0]).join(_OVER_BUDGET)
    if isinstance(exc, OUT_OF_MEMORY):
        return "CUDA out of memory"
    # the CPU allocator: "can't allocate memory" (Linux), "not enough memory" (Windows,
    # and older torch), both "DefaultCPUAllocator: ...: you tried to allocate N bytes"
    if any(f"DefaultCPUAllocator: {words}" in str(exc) for words in _CPU_ALLOCATOR):
        return "CPU out of memory"
    return None


def _used(reason):
    """The bytes a step over the budget used, as :func:`out_of_memory` wrote them in
    ``reason`` (``"4.8 MiB"``); None for another reason."""
    start, end = _OVER_BUDGET
    if reason.startswith(start) and reason.endswith(end):
        return reason[len(start):-len(end)]
    return None


#: The normalizations by batch statistics (a module's output then depends on the
#: micro-batch).
BATCH_NORMS = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d,
               torch.nn.SyncBatchNorm)


def has_batch_norm(module):
    """Whether ``module`` normalizes with batch statistics (its output then depends on
    the micro-batch)."""
    return any(isinstance(m, BATCH_NORMS) for m in module.modules())
