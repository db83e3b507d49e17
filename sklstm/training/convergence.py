"""When a fit stops: the convergence rule (``tol``, ``n_iter_no_change``) and its warning.

The rule is scikit-learn's MLP rule: stop once the monitored loss has not improved by
at least ``tol`` for ``n_iter_no_change`` epochs in a row. It watches the training
loss, or the validation loss with ``early_stopping=True`` (then the best epoch's
weights are restored). skorch's own :class:`~skorch.callbacks.EarlyStopping` applies
it; this module only configures it and reads the outcome.
"""

from __future__ import annotations

import copy
import os
import warnings

import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import EarlyStopping

__all__ = ["STOPPER", "ConvergenceStopping", "check_convergence", "stopping_callback"]

#: Name of the stopping callback in the net's callbacks.
STOPPER = "convergence"


def _quiet(*args, **kwargs):
    """A sink that prints nothing: the estimator reports convergence itself."""


class ConvergenceStopping(EarlyStopping):
    """skorch's ``EarlyStopping``, which on a resumed fit continues from the history.

    skorch starts the rule afresh at every ``on_train_begin``; a fit resumed from a
    checkpoint (:mod:`~sklstm.training.checkpointing`) already has epochs, whose
    scores are replayed here, so it stops exactly where one uninterrupted fit would.
    """

    def __init__(self, *args, best_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.best_weights = best_weights

    def on_train_begin(self, net, **kwargs):
        """Reset the rule, then replay the epochs the history already holds."""
        super().on_train_begin(net, **kwargs)
        for row in net.history:
            score = row.get(self.monitor)
            if score is None:
                continue
            if self._is_score_improved(score):
                self.misses_ = 0
                self.dynamic_threshold_ = self._calc_new_threshold(score)
                self.best_epoch_ = row["epoch"]
            else:
                self.misses_ += 1
        if not (self.load_best and len(net.history)):
            return
        if self.best_epoch_ == net.history[-1, "epoch"]:  # the weights just restored
            self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())
        elif self.best_weights is not None and os.path.exists(self.best_weights):
            self.best_model_weights_ = torch.load(self.best_weights, weights_only=True)

    def on_epoch_end(self, net, **kwargs):
        """skorch's rule; a new best epoch's weights are also written to
        ``best_weights`` (a checkpointed fit), before the fit may stop."""
        best = self.best_epoch_
        try:
            super().on_epoch_end(net, **kwargs)
        finally:
            if self.load_best and self.best_weights is not None and self.best_epoch_ != best:
                torch.save(self.best_model_weights_, self.best_weights)


def stopping_callback(tol, n_iter_no_change, early_stopping, best_weights=None):
    """The skorch callback that ends a fit once the loss stops improving.

    Parameters
    ----------
    tol : float or None
        Smallest improvement of the loss that counts; None: no rule on the training
        loss (every epoch up to ``max_epochs`` runs), and with ``early_stopping`` any
        improvement of the validation loss counts.
    n_iter_no_change : int
        Epochs without such an improvement before the fit stops.
    early_stopping : bool
        Watch the validation loss (and restore the best epoch) instead of the
        training loss.
    best_weights : str or None, default=None
        File holding the best epoch's weights of a fit being resumed (a checkpoint).

    Returns
    -------
    tuple of (str, skorch.callbacks.EarlyStopping) or None
        The named callback, or None when nothing stops the fit early.

    Examples
    --------
    >>> name, callback = stopping_callback(1e-4, 10, early_stopping=False)
    >>> name, callback.monitor, callback.patience
    ('convergence', 'train_loss', 10)
    """
    if tol is None and not early_stopping:
        return None
    return STOPPER, ConvergenceStopping(
        monitor="valid_loss" if early_stopping else "train_loss",
        patience=n_iter_no_change,
        threshold=tol or 0.0,
        threshold_mode="abs",
        load_best=early_stopping,
        sink=_quiet,
        best_weights=best_weights,
    )


def check_convergence(name, net, max_epochs, lr):
    """Whether the stopping rule ended ``net``'s fit; warn if ``max_epochs`` did instead.

    Parameters
    ----------
    name : str
        The estimator's class name, for the warning.
    net : skorch.NeuralNet
        The fitted net.
    max_epochs : int
        The epoch budget of the fit.
    lr : float
        The learning rate used, named in the warning.

    Returns
    -------
    bool
        True when the rule stopped the fit; False when it was off or the fit ran
        all ``max_epochs`` (which, with the rule on, warns).
    """
    stopper = dict(net.callbacks_).get(STOPPER)
    if stopper is None:
        return False
    if stopper.misses_ >= stopper.patience:
        return True
    if len(net.history) >= max_epochs:
        warnings.warn(
            f"{name} did not converge: max_epochs={max_epochs} was reached while the "
            f"{stopper.monitor.replace('_', ' ')} still improved by more than "
            f"tol={stopper.threshold:g} within {stopper.patience} epochs "
            "(n_iter_no_change). Raise max_epochs, raise lr (now "
            f"{lr:g}), or shorten long sequences with downsample or seq_len.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return False
