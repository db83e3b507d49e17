"""How an estimator's parameters become a skorch net and its callbacks.

The one place that speaks skorch's language (``module__*``, ``optimizer__*``,
``iterator_train__*``, named callbacks), so that :mod:`sklstm.estimators._base` speaks
the estimator's.
"""

from __future__ import annotations

import copy

from sklearn.base import is_classifier
from skorch.callbacks import GradientNormClipping
from skorch.dataset import ValidSplit

from .._data.batching import BatchLoader
from ..network import LSTMNetwork
from ..training import net_class, warmup_scheduler
from ..training.convergence import stopping_callback
from ..training.divergence import DivergenceGuard
from ..training.interrupts import EpochSnapshot
from ..training.optimizers import optimizer_defaults
from ..training.progress import progress_callbacks

__all__ = ["SNAPSHOT", "build_callbacks", "build_net"]

#: Name of the callback that keeps the last complete epoch's weights.
SNAPSHOT = "epoch_snapshot"


def build_callbacks(estimator, p, checkpoint, lr, ctrl_c=None):
    """The named skorch callbacks of a fit: sklstm's own, then the user's (copied)."""
    # the snapshot first: it must see an epoch end before the stopper ends the fit
    callbacks = [(SNAPSHOT, EpochSnapshot(ctrl_c)),
                 ("divergence", DivergenceGuard(type(estimator).__name__, lr,
                                                getattr(estimator, "_trivial", None)))]
    if p.gradient_clip is not None:
        callbacks.append(("gradient_clip", GradientNormClipping(p.gradient_clip)))
    if p.warmup_epochs:
        callbacks.append(("warmup", warmup_scheduler(p.warmup_epochs)))
    if checkpoint is not None:  # after the divergence check, before the stopper: the
        # stopper ends a converged fit by raising at its last epoch's end
        callbacks += checkpoint.callbacks()
    stopper = stopping_callback(
        p.tol, p.n_iter_no_change, p.early_stopping,
        best_weights=None if checkpoint is None else checkpoint.best_weights)
    if stopper is not None:
        callbacks.append(stopper)
    callbacks += progress_callbacks(type(estimator).__name__, p.max_epochs, p.verbose)
    # copies: fitting must not change the callbacks the user passed in
    for i, cb in enumerate(p.callbacks or []):
        named = cb if isinstance(cb, tuple) else (f"user_{i}_{type(cb).__name__}", cb)
        callbacks.append((named[0], copy.deepcopy(named[1])))
    return callbacks


def build_net(estimator, p, seed, seqs, checkpoint=None, done=0, *,
              effective_batch_size=None, lr=None, budget=None, precision=None, ctrl_c=None):
    """The skorch net a fit trains: the estimator's parameters ``p`` in skorch's terms.

    ``done`` epochs are already trained (a fit resumed from ``checkpoint``);
    ``effective_batch_size`` and ``lr`` default to the estimator's
    ``effective_batch_size_`` and ``lr_`` (trial steps give their own);
    ``budget`` (a :class:`~sklstm.resources.budget.MemoryBudget`) is checked by
    every step; ``precision`` is the forward pass's
    :class:`~sklstm.training.precision.Precision`; ``ctrl_c`` (a
    :class:`~sklstm.training.interrupts.CtrlCGuard`) is checked every batch.
    """
    bucketing = seqs.lengths is not None if p.bucketing == "auto" else bool(p.bucketing)
    opt_params = {**optimizer_defaults(p.optimizer, estimator.device_, p.optimizer_params),
                  **(p.optimizer_params or {})}
    opt_kwargs = {f"optimizer__{k}": v for k, v in opt_params.items()}
    if p.weight_decay:
        opt_kwargs["optimizer__weight_decay"] = p.weight_decay
    train_split = None
    if p.early_stopping:
        train_split = ValidSplit(
            p.validation_fraction, stratified=is_classifier(estimator), random_state=seed
        )
    embedding = {}
    if p.embedding_dim is not None:
        embedding = {"module__vocab_size": estimator.vocab_size_,
                     "module__embedding_dim": p.embedding_dim,
                     "module__padding_idx": p.padding_idx}
    return net_class()(
        module=LSTMNetwork,
        module__n_inputs=seqs.n_features,
        module__n_outputs=estimator._n_outputs(),
        module__hidden_size=p.hidden_size,
        module__num_layers=p.num_layers,
        module__bidirectional=p.bidirectional,
        module__dropout=p.dropout,
        module__pooling=p.pooling,
        **embedding,
        criterion=estimator._loss,
        optimizer=p.optimizer,
        lr=estimator.lr_ if lr is None else lr,
        **opt_kwargs,
        max_epochs=p.max_epochs - done,
        batch_size=effective_batch_size or estimator.effective_batch_size_,
        micro_batch_size=p.batch_size,
        memory_budget=budget,
        on_oom=p.on_oom,
        precision=precision,
        iterator_train=BatchLoader,
        iterator_train__shuffle=True,
        iterator_train__bucketing=bucketing,
        iterator_train__seed=seed,
        iterator_train__start_epoch=done,
        iterator_valid=BatchLoader,
        # predictions and validation in micro-batches: what fits a training step fits
        iterator_valid__batch_size=p.batch_size,
        train_split=train_split,
        callbacks=build_callbacks(estimator, p, checkpoint,
                                  estimator.lr_ if lr is None else lr, ctrl_c),
        device=estimator.device_,
        verbose=p.verbose,
        # checkpoints are read with weights_only=True on every torch: skorch's default
        # follows torch's, which unpickles (and so may run code) before torch 2.6
        torch_load_kwargs={"weights_only": True},
    )
