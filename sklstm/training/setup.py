"""How a :class:`~sklstm.training.plan.FitPlan` becomes a skorch net and its callbacks.

The one place that speaks skorch's language (``module__*``, ``optimizer__*``,
``iterator_train__*``, named callbacks), so that the estimators speak their own. It
reads the plan and nothing else.
"""

from __future__ import annotations

import copy
import math
import sys

import numpy as np
from skorch.callbacks import (
    BatchScoring,
    EpochScoring,
    GradientNormClipping,
    LRScheduler,
    PassthroughScoring,
    ProgressBar,
)
from skorch.dataset import ValidSplit
from torch.optim.lr_scheduler import ReduceLROnPlateau

from .._param_validation import plain_label
from ..data.batching import BatchLoader
from ..network import LSTMNetwork
from .chance_level import VALID_CHANCE
from .checkpointing import CHECKPOINT_NAMES
from .class_weights import weight_tensor
from .convergence import STOPPER, stopping_callback
from .divergence import NAME as DIVERGENCE
from .divergence import DivergenceGuard
from .interrupts import SNAPSHOT, EpochSnapshot
from .lr_scaling import warmup_scheduler
from .net import SequenceNet
from .progress import PROGRESS_NAMES, progress_callbacks, stream_is_open

__all__ = ["RESERVED_CALLBACK_NAMES", "build_callbacks", "build_net", "check_kernels_fit",
           "check_validation_callbacks", "check_validation_split"]

GRADIENT_CLIP, WARMUP = "gradient_clip", "warmup"

#: The plan's fields that are :class:`~sklstm.network.LSTMNetwork`'s arguments of the
#: same name (the embedding's are set only for token input).
MODULE_FIELDS = ("n_inputs", "n_outputs", "hidden_size", "num_layers", "bidirectional",
                 "dropout", "pooling", "conv_channels", "conv_kernel_sizes", "ar_window",
                 "ar_scale", "split_level")

#: skorch's own callbacks of every net (``NeuralNet.get_default_callbacks()``, checked
#: against it in tests/estimators/test_fit_checks.py): a user callback of one of these names
#: would get skorch's "duplicate user-set callback name", naming no fix.
SKORCH_CALLBACK_NAMES = ("epoch_timer", "train_loss", "valid_loss", "print_log")

#: Names of the callbacks the estimator adds itself; user callbacks must not take them.
RESERVED_CALLBACK_NAMES = (*SKORCH_CALLBACK_NAMES, SNAPSHOT, DIVERGENCE, GRADIENT_CLIP,
                           WARMUP, STOPPER, *CHECKPOINT_NAMES, *PROGRESS_NAMES)


def build_callbacks(plan, checkpoint=None, ctrl_c=None):
    """The named skorch callbacks of a fit: sklstm's own, then the user's (copied).

    Parameters
    ----------
    plan : FitPlan
        The fit's plan.
    checkpoint : FitCheckpoint or None, default=None
        Adds the callbacks that write the fit's state after every epoch.
    ctrl_c : CtrlCGuard or None, default=None
        Checked every batch by the snapshot callback.

    Returns
    -------
    list of (str, skorch.callbacks.Callback)
    """
    # the snapshot first: it must see an epoch end before the stopper ends the fit
    callbacks = [(SNAPSHOT, EpochSnapshot(ctrl_c)),
                 (DIVERGENCE, DivergenceGuard(plan.name, plan.lr, plan.trivial_loss,
                                              plan.gradient_clip))]
    if plan.gradient_clip is not None:
        callbacks.append((GRADIENT_CLIP, GradientNormClipping(plan.gradient_clip)))
    if plan.warmup_epochs:
        callbacks.append((WARMUP, warmup_scheduler(plan.warmup_epochs)))
    # the state is written after the divergence check (a diverged epoch never is) and
    # after every other callback's epoch end, which belongs to the epoch; an epoch whose
    # end the stopper cut short (it raises at a converged fit's last epoch) is written
    # when the training ends, before the stopper puts the best epoch's weights in
    stopped, every_epoch = ([], []) if checkpoint is None else checkpoint.callbacks()
    callbacks += stopped
    stopper = stopping_callback(
        plan.tol, plan.n_iter_no_change, plan.early_stopping,
        best_weights=None if checkpoint is None else checkpoint.best_weights,
        chance_loss=plan.trivial_loss, adaptive=plan.lr_schedule == "adaptive")
    if stopper is not None:
        callbacks.append(stopper)
    # a ProgressBar of the user's (set as they want it) stands for ours: two bars would
    # redraw over each other every batch
    own_bar = not any(isinstance(cb[1] if isinstance(cb, tuple) else cb, ProgressBar)
                      for cb in plan.callbacks)
    callbacks += progress_callbacks(plan.name, plan.max_epochs, plan.verbose, bar=own_bar)
    # copies: fitting must not change the callbacks the user passed in
    for i, cb in enumerate(plan.callbacks):
        named = cb if isinstance(cb, tuple) else (f"user_{i}_{type(cb).__name__}", cb)
        callbacks.append((named[0], copy.deepcopy(named[1])))
    return callbacks + every_epoch


def build_net(plan, *, done=0, checkpoint=None, budget=None, ctrl_c=None, randomness=None):
    """The skorch net a fit trains, built from its plan.

    Parameters
    ----------
    plan : FitPlan
        The fit's plan (its ``batch_size`` resolved to a number).
    done : int, default=0
        Epochs already trained (a fit resumed from ``checkpoint``).
    checkpoint : FitCheckpoint or None, default=None
        Where the fit's state is written after every epoch.
    budget : MemoryBudget or None, default=None
        Checked by every training step.
    ctrl_c : CtrlCGuard or None, default=None
        Checked every batch, and when an exception ends the training.
    randomness : FitRandomness or None, default=None
        The fit's random state (:mod:`~sklstm.training.randomness`); None draws from
        torch's global generators as they are.

    Returns
    -------
    SequenceNet
        Not yet initialized; with ``classifier=True`` for a classifier (its
        ``predict`` gives classes, as skorch's scorers want).
    """
    train_split = None
    if plan.early_stopping:
        train_split = ValidSplit(plan.validation_fraction, stratified=plan.stratified,
                                 random_state=plan.seed)
    embedding = {}
    if plan.embedding_dim is not None:
        embedding = {"module__vocab_size": plan.vocab_size,
                     "module__embedding_dim": plan.embedding_dim,
                     "module__padding_idx": plan.padding_idx}
    return SequenceNet(
        module=LSTMNetwork,
        **{f"module__{field}": getattr(plan, field) for field in MODULE_FIELDS},
        **embedding,
        criterion=plan.criterion,
        **({} if plan.class_weights is None else
           {"criterion__weight": weight_tensor(plan.class_weights)}),
        optimizer=plan.optimizer,
        lr=plan.lr,
        **{f"optimizer__{k}": v for k, v in plan.optimizer_params.items()},
        max_epochs=plan.max_epochs - done,
        batch_size=plan.effective_batch_size,
        micro_batch_size=plan.batch_size,
        memory_budget=budget,
        on_oom=plan.on_oom,
        precision=plan.precision,
        randomness=randomness,
        classifier=plan.stratified,
        ctrl_c=ctrl_c,
        iterator_train=BatchLoader,
        iterator_train__shuffle=True,
        iterator_train__bucketing=plan.bucketing,
        iterator_train__seed=plan.seed,
        iterator_train__start_epoch=done,
        iterator_valid=BatchLoader,
        # predictions and validation in micro-batches: what fits a training step fits
        iterator_valid__batch_size=plan.batch_size,
        train_split=train_split,
        callbacks=build_callbacks(plan, checkpoint, ctrl_c),
        **_print_log(plan.verbose),
        device=plan.device,
        verbose=plan.verbose,
        # checkpoints are read with weights_only=True on every torch: skorch's default
        # follows torch's, which unpickles (and so may run code) before torch 2.6
        torch_load_kwargs={"weights_only": True},
    )


def _print_log(verbose):
    """skorch's ``print_log`` settings: the epoch table at ``verbose``, none without it.

    skorch's ``PrintLog`` prints nothing at ``verbose=0`` but still calls
    ``sys.stdout.flush()`` after every epoch: a quiet fit failed where there is no
    stdout (``pythonw``, a daemon: ``sys.stdout`` is None, or closed) with an
    ``AttributeError`` or "I/O operation on closed file". A quiet net drops the
    callback, and skorch refuses parameters of a callback it dropped; so does a net
    whose epoch table has no stdout to be printed on (at ``verbose=1`` it failed so too).
    """
    if not verbose or not stream_is_open(sys.stdout):
        return {"callbacks__print_log": None}
    # recorded in the first epoch only (the validation set's chance level): in the
    # log's table, the later rows' columns slid under the wrong headers
    return {"callbacks__print_log__keys_ignored": list(VALID_CHANCE)}


def _samples_needed(fraction, n_classes):
    """Fewest samples whose split has ``n_classes`` samples on either side."""
    # start near the answer: a fraction of 1e-6 or 0.999999 needs millions of samples
    n = max(2 * n_classes, int((n_classes - 1) / fraction) + 1,
            math.ceil(n_classes / (1 - fraction)))
    while math.ceil(fraction * n) < n_classes or n - math.ceil(fraction * n) < n_classes:
        n += 1
    return n


#: skorch's callbacks that score the validation batches unless ``on_train=True``
#: (``BatchScoring`` and ``PassthroughScoring`` are no ``EpochScoring``: a
#: ``BatchScoring("accuracy")`` of a fit without validation data recorded nothing)
SCORINGS = (EpochScoring, BatchScoring, PassthroughScoring)


def check_validation_split(plan, y, classes=None):
    """Raise a clear ValueError when ``early_stopping`` cannot split off its validation set
    (no check without ``early_stopping``).

    The split is scikit-learn's ``ShuffleSplit`` (``StratifiedShuffleSplit`` for
    classifiers, as skorch's ``ValidSplit`` draws it): ``ceil(fraction * n)`` samples
    are held out. With stratification each side needs a sample of every class, and
    every class needs two samples.

    Parameters
    ----------
    plan : FitPlan
        The fit's plan (``validation_fraction``, ``stratified``, the name).
    y : ndarray
        The encoded training targets (class indices for classifiers).
    classes : ndarray or None, default=None
        The class labels ``y`` indexes, for the message (classifiers).
    """
    if not plan.early_stopping:
        return
    name, fraction, stratified = plan.name, plan.validation_fraction, plan.stratified
    n = len(y)
    n_valid = math.ceil(fraction * n)
    n_train = n - n_valid
    held_out = (f"early_stopping=True holds out validation_fraction={fraction:g} of the {n} "
                f"training samples ({n_valid})")
    if not stratified:
        if n_train < 1:
            raise ValueError(f"{name}: {held_out}, which leaves no sample to train on; lower "
                             "validation_fraction, pass more samples or set "
                             "early_stopping=False.")
        return
    counts = np.bincount(y)
    k = len(counts)
    rare = int(np.argmin(counts))
    if counts[rare] < 2:
        raise ValueError(
            f"{name}: class {plain_label(classes[rare])!r} has only "
            f"{counts[rare]} sample in y, but early_stopping=True needs at least 2 of every "
            "class for its stratified validation split (one to train on, one to validate); "
            "add samples of that class or set early_stopping=False."
        )
    if n_valid < k or n_train < k:
        side, fix = (("validation", "raise validation_fraction") if n_valid < k else
                     ("training", "lower validation_fraction"))
        raise ValueError(
            f"{name}: {held_out}, so the stratified {side} side cannot hold a sample of each "
            f"of the {k} classes in y. At validation_fraction={fraction:g} this needs at "
            f"least {_samples_needed(fraction, k)} samples; pass more samples, {fix}, or set "
            "early_stopping=False."
        )


def check_validation_callbacks(plan):
    """Raise a clear ValueError where a callback of the user's reads the validation data
    of a fit that holds out none (no check with ``early_stopping``).

    skorch's ``EarlyStopping`` watches ``"valid_loss"`` by default and its
    ``Checkpoint`` ``"valid_loss_best"``, as may an ``LRScheduler``
    (``ReduceLROnPlateau``) or a :class:`BatchSizeSchedule`: the history has no such
    key without a validation split, and the fit failed after its first epoch
    (skorch's ``EarlyStopping``: a bare ``KeyError``). skorch's scoring callbacks
    (:data:`SCORINGS`) score the validation data by default, and without them recorded
    nothing, silently.

    Parameters
    ----------
    plan : FitPlan
        The fit's plan (``callbacks``, ``early_stopping``, the name).

    An ``LRScheduler`` stepping ``ReduceLROnPlateau`` every batch reads the training
    batch's row of the history, which never holds a validation score: it failed at the
    first batch, with or without ``early_stopping`` (so it does under skorch alone).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from skorch.callbacks import EarlyStopping
    >>> check_validation_callbacks(SimpleNamespace(
    ...     name="LSTMClassifier", early_stopping=False,
    ...     callbacks=[EarlyStopping(monitor="train_loss")]))
    """
    for i, item in enumerate(plan.callbacks):
        callback = item[1] if isinstance(item, tuple) else item
        if _plateau_on_validation_per_batch(callback):
            raise ValueError(
                f"{plan.name}: callbacks[{i}] ({type(callback).__name__}) steps "
                f"ReduceLROnPlateau every batch on monitor={callback.monitor!r}, which is "
                "recorded once per epoch, never per training batch; step it every epoch "
                "(step_every='epoch', with early_stopping=True) or watch "
                "monitor='train_loss' per batch.")
    if plan.early_stopping:
        return
    hold_out = ("set early_stopping=True (it holds out validation_fraction of the training "
                "data), or")
    for i, item in enumerate(plan.callbacks):
        callback = item[1] if isinstance(item, tuple) else item
        what = f"{plan.name}: callbacks[{i}] ({type(callback).__name__})"
        monitor = getattr(callback, "monitor", None)
        if monitor in ("valid_loss", "valid_loss_best"):
            raise ValueError(
                f"{what} watches monitor={monitor!r}, which only a fit that holds out "
                f"validation data records; {hold_out} watch "
                f"monitor={monitor.replace('valid', 'train')!r}.")
        if isinstance(callback, SCORINGS) and not callback.on_train:
            raise ValueError(
                f"{what} scores the validation data (on_train=False), which a fit without "
                f"early_stopping does not hold out: it would record nothing; {hold_out} "
                "score the training data with on_train=True.")


def _plateau_on_validation_per_batch(callback):
    """Whether ``callback`` is skorch's ``LRScheduler`` stepping ``ReduceLROnPlateau``
    every batch on a validation score (skorch checks its monitor only when it reads it)."""
    if not isinstance(callback, LRScheduler) or callback.step_every != "batch":
        return False
    policy = callback.policy
    plateau = policy == "ReduceLROnPlateau" or (isinstance(policy, type)
                                                and issubclass(policy, ReduceLROnPlateau))
    monitor = callback.monitor
    return plateau and isinstance(monitor, str) and monitor.startswith("valid_")


def check_kernels_fit(plan, seqs, check_conv=True):
    """Raise a clear ValueError when a convolution kernel or the autoregressive window
    is longer than the shortest sequence the net will see (no check without them).

    Parameters
    ----------
    plan : FitPlan
        The fit's plan (``conv_channels``, ``conv_kernel_sizes``, ``ar_window``, the
        name).
    seqs : Sequences
        The training sequences, after ``seq_len`` and ``downsample``.
    check_conv : bool, default=True
        Whether to check the kernels (False where ``conv_channels="auto"`` chose the
        branch: its kernels may read zeros past a short sequence's ends).
    """
    if plan.conv_channels is None and plan.ar_window is None:
        return
    shortest = seqs.shortest
    if plan.ar_window is not None and plan.ar_window > shortest:
        raise ValueError(
            f"{plan.name}: ar_window={plan.ar_window} reads the last {plan.ar_window} steps "
            f"of each sequence, but the shortest training sequence has {shortest} step(s) "
            "after seq_len and downsample; use a smaller ar_window, a larger seq_len or a "
            "smaller downsample (downsample=1 keeps every step).")
    if plan.conv_channels is None or not check_conv:
        return
    longest = max(plan.conv_kernel_sizes)
    if longest > shortest:
        raise ValueError(
            f"{plan.name}: conv_kernel_sizes={plan.conv_kernel_sizes} has a kernel of "
            f"{longest} steps, but the shortest training sequence has {shortest} step(s) "
            "after seq_len and downsample; use shorter kernels, a larger seq_len or a "
            "smaller downsample (downsample=1 keeps every step).")
