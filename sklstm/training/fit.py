"""One fit, from its plan to a trained net: checkpoint, warm-up, tensors, batch, net.

:func:`train` is what the estimators' ``fit`` runs once the parameters and data are
validated and planned (:mod:`~sklstm.training.plan`): it builds everything else from
the plan, trains, and returns the fitted attributes, so the estimator sets its state
in one place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

from sklearn.exceptions import ConvergenceWarning

from .._compat.python import warn_at_caller
from ..data.tensors import SequenceDataset, padded_widths
from ..resources import PeakMemory, limit_threads
from ..resources.concurrency import fit_stream, fits_run_concurrently
from ..resources.cudnn import deterministic_convolutions
from ..resources.device import memory_cap
from ..resources.host_malloc import step_buffers_on_heap
from ..resources.memory_budget import MemoryBudget
from ..resources.onednn import native_kernels_for_ragged_steps
from .auto_batch import choose_batch, warm_up
from .batch_schedule import epoch_batch_sizes
from .budget_start import start_within_budget
from .checkpoint_stops import stop_recorded
from .checkpointing import FitCheckpoint
from .convergence import stopped_by_rule
from .convergence_report import check_convergence, judges
from .divergence import NAME as DIVERGENCE
from .interrupts import SNAPSHOT, CtrlCGuard, finish_interrupted
from .lr_scaling import check_warmup
from .randomness import FitRandomness
from .setup import build_net, check_validation_callbacks
from .target_range import check_batch_losses_in_range, check_targets_in_range

__all__ = ["train"]


def train(plan, seqs, y_train, on_net=None):
    """Train the net of ``plan`` on the sequences; return the fitted attributes.

    Parameters
    ----------
    plan : FitPlan
        What to train, on which device, with which batch (``"auto"`` is resolved here).
    seqs : Sequences
        The training sequences, validated, cut and padded.
    y_train : ndarray
        The targets as the loss takes them (class indices, standardized values).
    on_net : callable or None, default=None
        Called with the net once it is built, before its first epoch (the estimator
        sets it as ``net_`` there, so callbacks may already predict).

    Returns
    -------
    dict
        The fitted attributes of the outcome (``fit_time_``, ``converged_``,
        ``batch_size_``, ...).

    Raises
    ------
    ValueError
        Targets so large that every loss would overflow float32 (each squared error,
        or every micro-batch's sum of them); a callback that
        reads the validation data of a fit without ``early_stopping``; a checkpoint
        directory that another fit running now holds.
    KeyboardInterrupt
        Ctrl-C before the first epoch was complete (nothing to keep).
    """
    check_targets_in_range(plan.name, y_train)  # before any work
    if plan.batch_size != "auto":  # ("auto" is checked once resolved)
        check_batch_losses_in_range(plan.name, y_train, plan.batch_size,
                                    plan.n_train_samples)
    check_warmup(plan.name, plan.warmup_epochs, plan.max_epochs)
    check_validation_callbacks(plan)
    checkpoint = None if plan.checkpoint is None else FitCheckpoint(
        plan.checkpoint, plan.params, seqs, y_train, plan.param_defaults, plan.name)
    # the directory is this fit's from before its state is read until it is marked
    # finished: another fit on it is refused, not mixed in
    with contextlib.nullcontext() if checkpoint is None else checkpoint.in_use():
        return _train_checkpointed(plan, seqs, y_train, on_net, checkpoint)


def _train_checkpointed(plan, seqs, y_train, on_net, checkpoint):
    """:func:`train` once its checkpoint directory (if any) is this fit's."""
    done = 0 if checkpoint is None else checkpoint.epochs_done()
    if checkpoint is not None:  # (a fit resumed with the seed of the fit it continues)
        plan = dataclasses.replace(plan, seed=checkpoint.fit_seed(plan.seed))
    # a checkpointed fit that a rule ended (it converged; early_stopping at chance; a
    # callback's stop), or that has all max_epochs, is only loaded
    ended = checkpoint.finished() if done else None
    loaded_only = bool(done) and (done >= plan.max_epochs or bool(ended and ended["stopped"]))
    # a stop whose end was not recorded (a failure after it): resumed, the fit ends as
    # it begins and is judged; loaded, it was said not to converge (unjudged)
    loaded_only = loaded_only and not (ended is None and stop_recorded(checkpoint))
    if fits_run_concurrently() and (plan.memory_limit is not None or plan.batch_size == "auto"):
        warn_at_caller(
            f"{plan.name}: beside other fits (concurrent_fits), max_memory and "
            "batch_size='auto' measure the memory of the whole process, so of the other "
            "fits too: the micro-batch chosen, or shrunk, may differ from the fit alone.",
            UserWarning)
    # on the CPU, glibc keeps the step's workspace on its heap instead of mapping it
    # afresh every step (see host_malloc); on CUDA, cuDNN's convolutions are the
    # deterministic ones, so random_state makes the fit reproducible (see cudnn)
    # oneDNN's cache holds buffers for every padded width: a fit of ragged data under
    # max_memory runs torch's native kernels, so its batches bound its memory (onednn)
    with step_buffers_on_heap(plan.device), deterministic_convolutions(plan.device), \
            fit_stream(plan.device), native_kernels_for_ragged_steps(
                plan.device, padded_widths(seqs.lengths),
                budget=plan.memory_limit is not None):
        with limit_threads(plan.n_threads):  # torch's one-time costs, not the fit's
            warm_up(plan, seqs, y_train)
        plan, net, memory, fit_time, search, ctrl_c = _train(
            plan, on_net, checkpoint, done, loaded_only, seqs, y_train)
    if loaded_only:
        converged, stopped, judged = (bool(ended and ended[key])
                                      for key in ("converged", "stopped", "judged"))
        interrupted = False
        # (said by the fit that trained it only where it warned: a rerun was silent; one
        # it did not judge, without the rule or stopped by a callback, said nothing)
        if not converged and judged:
            warn_at_caller(
                f"{plan.name}: the fit in checkpoint {checkpoint.directory!r} was loaded, "
                "not trained; it did not converge (its first run warned why). Change what "
                "that warning said and fit with another checkpoint directory"
                + ("." if stopped else ", or raise max_epochs to train it further."),
                ConvergenceWarning)
    else:
        converged, interrupted, stopped, judged = _end_of_training(plan, net, ctrl_c)
    if checkpoint is not None and not interrupted:
        checkpoint.finish(converged, stopped, judged)
    net.memory_budget = None  # the fit's, measured from its start
    # what the fit ended with: out-of-memory recoveries shrink the micro-batch,
    # a BatchSizeSchedule grows the effective batch; a step holds at most every
    # training sample (a schedule's max_batch_size may ask for more)
    effective = min(int(net.batch_size), plan.n_train_samples)
    micro = min(int(net.micro_batch_size or net.batch_size), effective)
    return {**search, "fit_time_": fit_time, "peak_memory_": memory.peak,
            "converged_": converged, "interrupted_": interrupted,
            "n_epochs_": len(net.history),
            "n_updates_": sum("train_loss" in row for epoch in net.history
                              for row in epoch["batches"]),
            "effective_batch_size_": effective, "batch_size_": micro,
            "accumulation_steps_": -(-effective // micro), "lr_": plan.lr,
            "memory_events_": list(net.memory_events_)}


def _train(plan, on_net, checkpoint, done, loaded_only, seqs, y_train):
    """The fit itself: ``(plan, net, memory, fit_time, search, ctrl_c)``, the plan with
    its batch resolved, ``ctrl_c`` the fit's :class:`CtrlCGuard` (whether Ctrl-C was
    pressed during it, whether every press was noted); see :func:`train`."""
    # on CUDA, max_memory also caps torch's allocator for the fit: a step that would go
    # over fails at its allocation (and is shrunk) instead of taking the memory first;
    # not beside other fits of the process (the cap is process-wide)
    cap = None if fits_run_concurrently() else plan.memory_limit
    with limit_threads(plan.n_threads), \
            FitRandomness(plan.seed, plan.device, steps_draw=plan.dropout > 0) as randomness, \
            memory_cap(plan.device, cap), PeakMemory(plan.device) as memory, \
            CtrlCGuard() as ctrl_c:
        start = time.perf_counter()
        budget = MemoryBudget(plan.memory_limit, memory)
        # the data go to the device only within what the budget has left: on CUDA what
        # the process already holds there counts (and a copy over the cap would fail)
        dataset = SequenceDataset.from_sequences(seqs, y_train, plan.device,
                                                 memory_limit=budget.headroom())
        auto = plan.batch_size == "auto"
        plan, search = choose_batch(plan, dataset, budget)
        if auto:
            check_batch_losses_in_range(plan.name, y_train, plan.batch_size,
                                        plan.n_train_samples)
        # a fixed micro-batch that the trial steps predict over max_memory on the CPU
        # starts at the halving on_oom="shrink" would reach (None: it fits; no budget)
        shrunk = None if auto or loaded_only else start_within_budget(plan, dataset, budget)
        # (a fit that is only loaded from its checkpoint trains no epoch)
        net = build_net(plan, done=min(done, plan.max_epochs - 1), checkpoint=checkpoint,
                        budget=budget, ctrl_c=ctrl_c, randomness=randomness)
        if on_net is not None:
            on_net(net)
        if done:  # a resumed fit: continue with the state it left
            with randomness.draws():  # (its random state is the fit's)
                checkpoint.restore(net)
            # the epochs done are replayed with the batch each had: a BatchSizeSchedule
            # grows it, and bucketed orders depend on it (set as skorch's set_params
            # sets a prefixed parameter, without its checks of an initialized net)
            net.iterator_train__start_epoch = epoch_batch_sizes(net, plan.effective_batch_size)
            if not loaded_only:
                if shrunk is not None:
                    net.start_micro_batch(*shrunk)
                net.partial_fit(dataset, y_train)
            else:  # it ended with its stoppers' best epochs' weights
                checkpoint.restore_best(net)
        else:
            if checkpoint is not None:
                checkpoint.start()
            if shrunk is None:
                net.fit(dataset, y_train)
            else:  # skorch's fit (initialize, partial_fit), the micro-batch set between
                net.initialize()
                net.start_micro_batch(*shrunk)
                net.partial_fit(dataset, y_train)
        # the epochs checked their losses, which predate their updates: the weights the
        # fit ends with (or loads from its checkpoint) are checked here
        first = min(len(dataset), int(net.micro_batch_size or net.batch_size))
        dict(net.callbacks_)[DIVERGENCE].check_final_outputs(net, dataset.take(slice(0, first)))
        fit_time = time.perf_counter() - start
    net.randomness = None  # the fit's: a later partial_fit draws as a fit alone does
    net.ctrl_c = None  # (the fit's guard, whose block has ended)
    return plan, net, memory, fit_time, search, ctrl_c


def _end_of_training(plan, net, ctrl_c):
    """``(converged, interrupted, stopped, judged)``: ``stopped`` whether a rule ended
    the fit before ``max_epochs`` (sklstm's, or a callback's such as skorch's
    ``EarlyStopping``), ``judged`` whether the convergence rule judged it (and warned if
    it did not converge); an interrupted fit is back at its last complete epoch
    (:class:`~sklstm.training.interrupts.EpochSnapshot` put it there)."""
    # skorch ends a fit quietly on KeyboardInterrupt: neither converged nor done. A
    # press in the last epoch's end (a callback after the snapshot's) leaves every
    # epoch complete: only the guard saw it, and a search must hear of it. The rule
    # judges only a fit that ran to its end (nothing to say of one cut short: a press
    # in the last epoch is no "max_epochs reached", one in the first leaves no loss).
    # (noted: a press the guard delivered again is no longer pending, but was pressed)
    snapshot = dict(net.callbacks_)[SNAPSHOT]
    cut = ctrl_c.noted or snapshot.in_epoch_
    converged = not cut and check_convergence(plan.name, net, plan.max_epochs, plan.lr,
                                                plan.base_lr)
    early = not cut and len(net.history) < plan.max_epochs and not stopped_by_rule(net)
    # every epoch complete and no press, where every press is noted: a callback ended
    # the fit with its KeyboardInterrupt, as skorch's EarlyStopping does (at an epoch's
    # end, or as the next began); no Ctrl-C
    by_callback = early and ctrl_c.watching
    interrupted = cut or (early and not by_callback)
    if (interrupted or not snapshot.complete_) and not finish_interrupted(
            plan.name, snapshot, plan.max_epochs):
        raise KeyboardInterrupt  # no epoch was complete: nothing to keep
    judged = not cut and judges(net, plan.max_epochs)
    return converged, interrupted, by_callback or stopped_by_rule(net), judged
