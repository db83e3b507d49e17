"""When a fit stops: the convergence rule (``tol``, ``n_iter_no_change``); its warning is
:mod:`~sklstm.training.convergence_report`'s.

The rule is skorch's :class:`~skorch.callbacks.EarlyStopping` with an absolute
threshold, plus one gate of sklstm's:

* an epoch *improves* when its monitored loss is below the best loss so far by more
  than ``tol``; only such an epoch becomes the new best (a fall by less than ``tol``
  does not move the bar, so a slow, steady fall still adds up to an improvement);
* the fit stops once ``n_iter_no_change`` epochs in a row did not improve;
* **but never while the training loss has not left the chance level**: until the best
  training loss is below :data:`CHANCE_SHARE` times the loss of a model that only knows
  the targets' distribution (the entropy of the class frequencies; the targets'
  variance), epochs without improvement are not counted. A loss resting on its
  starting plateau is not convergence: it is a model that has learned nothing yet,
  which is what a stop after a few flat epochs took it for (seen on real data: a fit
  stopped at epoch 24 at a loss of 0.695 = ln 2, and the same model trained to 0.97
  accuracy with more epochs). Such a fit trains on to ``max_epochs`` and then warns
  that it did not learn.

With ``early_stopping`` the validation loss must leave the chance level as well (its
own: :meth:`ConvergenceStopping.chance_level`, with a margin for the luck of its best
epoch on few samples, :func:`~sklstm.training.chance_level.valid_share`): a fit
whose training loss left it and whose validation loss did not is stopped by the rule
all the same (more epochs would learn the training samples, not what carries over to
new ones), but it is not converged: it warns that it did not learn
(:func:`~sklstm.training.convergence_report.check_convergence`). Nor is a fit without
``early_stopping`` (which keeps its last epoch's weights) whose last training loss rose
back to the chance level that its best had left (:meth:`ConvergenceStopping.fell_back`),
nor one whose fitted network, in evaluation mode, loses far more on its first training
samples than its training loss said (batch normalization on small micro-batches).

It watches the training loss, or the validation loss with ``early_stopping=True``
(then the best epoch's weights are restored). This differs from scikit-learn's MLP,
whose best loss follows every fall, however small, so that a fall by less than
``tol`` per epoch counts as no change.

With ``lr_schedule="adaptive"`` (the default) the rule is scikit-learn MLP's
``learning_rate="adaptive"``: where the rule would stop, the learning rate is instead
divided by 5 (``ADAPTIVE_FACTOR``) and the count starts again; the fit stops only at a
plateau reached with a rate at or below :data:`ADAPTIVE_MIN_LR` (1e-6), so it never
stops earlier than with a constant rate (chosen by the small-data benchmark,
``docs/performance.rst``). The rate judged against the floor is the optimizer's, but no
higher than ``lr`` times the falls so far: a schedule of the user's that sets the rate
anew every step (``CyclicLR``) undid each fall, and the fit was never stopped.
"""

from __future__ import annotations

import copy
import os

import torch
from skorch.callbacks import EarlyStopping

from .._compat.skorch import replay_early_stopping, score_improves
from .chance_level import (
    OutputLosses,
    best_value,
    output_losses,
    record_valid_chance,
    recorded_chances,
    split_chance,
    valid_share,
)

__all__ = ["ADAPTIVE_FACTOR", "ADAPTIVE_MIN_LR", "CHANCE_SHARE", "ENDED", "STOPPER",
           "ConvergenceStopping", "best_value", "stopped_by_rule", "stopping_callback"]

#: A fit has left the chance level once its best training loss is below this share of
#: the chance loss (that of predicting the targets' distribution).
CHANCE_SHARE = 0.95

#: Name of the stopping callback in the net's callbacks.
STOPPER = "convergence"
#: History key: the stop that ended a fit at a checkpointed epoch, "rule" or "callback".
ENDED = "fit_ended_by"

#: ``lr_schedule="adaptive"``: where the rule would stop, the rate is multiplied by this
#: (scikit-learn MLP's 1/5)...
ADAPTIVE_FACTOR = 0.2
#: ...unless it is already at or below this (MLP's floor), when the fit stops.
ADAPTIVE_MIN_LR = 1e-6


def _quiet(*args, **kwargs):
    """A sink that prints nothing: the estimator reports convergence itself."""


class ConvergenceStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` that does not stop a fit at the chance level, and on
    a resumed fit continues from the history.

    skorch starts the rule afresh at every ``on_train_begin``; a fit resumed from a
    checkpoint (:mod:`~sklstm.training.checkpointing`) already has epochs, whose
    scores are replayed here, so it stops exactly where one uninterrupted fit would.

    Parameters
    ----------
    *args
        Passed to :class:`skorch.callbacks.EarlyStopping`.
    best_weights : str or None, default=None
        File holding the best epoch's weights of a fit being resumed (written with
        the checkpoint's state, :mod:`~sklstm.training.checkpointing`).
    chance_loss : float or None, default=None
        The training loss of predicting the targets' distribution; None (or 0: a
        constant target) turns the chance gate off.
    adaptive : bool, default=False
        Lower the learning rate (by :data:`ADAPTIVE_FACTOR`) where the rule would stop,
        and stop only once it is at or below :data:`ADAPTIVE_MIN_LR`.
    **kwargs
        Passed to :class:`skorch.callbacks.EarlyStopping`.
    """

    def __init__(self, *args, best_weights=None, chance_loss=None, adaptive=False,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.best_weights = best_weights
        self.chance_loss = chance_loss
        self.adaptive = adaptive

    def left_chance(self, net):
        """Whether the fit's best training loss so far is below the chance level.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.

        Returns
        -------
        bool
            Always True without a chance loss.
        """
        return self._below_chance(best_value(net.history, "train_loss"))

    def at_chance(self, net):
        """The loss the fit has not brought below the chance level, if any: the
        training loss, else the monitored validation loss (``early_stopping``).

        A validation loss at chance ends the fit all the same (the training loss left
        it: more epochs learn the training samples, not what carries over), but the
        fit did not learn.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.

        Returns
        -------
        tuple of (str, float) or None
            The history key and its best value (with ``early_stopping`` the monitored
            loss of the epoch whose weights are kept: a fall by less than ``tol`` does
            not move the bar, and a lower loss of a later epoch is not the fit's); None
            when every loss left the chance level (always without a chance loss).
        """
        if getattr(self, "valid_chance_", None) is None:
            # a fit loaded from its checkpoint began no training here: its history has it
            self.valid_chance_, self.train_chance_ = recorded_chances(net.history)
        for key in dict.fromkeys(("train_loss", self.monitor)):
            kept = self.load_best and key == self.monitor and getattr(self, "best_epoch_", 0)
            best = next((row[key] for row in net.history if row["epoch"] == kept and key in row),
                        None) if kept else None
            best = best_value(net.history, key) if best is None else best
            chance, share = self.chance_level(key)
            # (a validation chance level of 0, a held-out split of one class, cannot be
            # left: its loss shows nothing of what the fit learned)
            judged = chance or (chance == 0 and key == "valid_loss"
                                and self.valid_chance_ is not None)
            if judged and not best < share * chance:
                return key, best
        return None

    def chance_level(self, key):
        """The chance level of the loss ``key`` and the share of it the loss must fall
        below to have left it.

        The training loss's is ``chance_loss`` (with ``early_stopping`` the training
        split's own, :meth:`train_level`) and :data:`CHANCE_SHARE`. The validation
        loss's is the loss of the best constant prediction on the validation targets
        themselves (:func:`~sklstm.training.chance_level.split_chance`: their mean;
        the validation classes' shares), and its share is lowered by the luck of its
        best epoch (:func:`~sklstm.training.chance_level.valid_share`).

        Parameters
        ----------
        key : str
            ``"train_loss"`` or ``"valid_loss"``.

        Returns
        -------
        tuple of (float or None, float)
        """
        valid = getattr(self, "valid_chance_", None)
        if key != "valid_loss" or valid is None:
            return self.train_level(), CHANCE_SHARE
        chance, n_valid = valid
        return chance, CHANCE_SHARE * valid_share(n_valid)

    def fell_back(self, net):
        """The last epoch's training loss where the fit ends with that epoch's weights
        (no ``early_stopping`` restores a best one) and it is back at the chance level
        its best epoch had left; else None.

        The rule judges the best loss so far, which a loss that rose again keeps below
        the chance level: the fit may stop on it having learned nothing (seen: best
        0.545, last 0.689 against ln 2, training accuracy 0.56, converged_ True).

        Parameters
        ----------
        net : skorch.NeuralNet
            The fitted net.

        Returns
        -------
        float or None
        """
        if self.load_best or not len(net.history):
            return None
        last = net.history[-1].get("train_loss")
        return None if last is None or self._below_chance(last) else last

    def adaptive_rate(self, net):
        """The learning rate that ``lr_schedule="adaptive"`` judges against its floor.

        The optimizer's rate, but no higher than ``lr`` times :data:`ADAPTIVE_FACTOR`
        for each fall so far: a schedule that sets it anew every step (``CyclicLR``)
        undid every fall, and the fit ran to ``max_epochs`` at each plateau.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.

        Returns
        -------
        float
        """
        rate = max(group["lr"] for group in net.optimizer_.param_groups)
        return min(rate, net.lr * ADAPTIVE_FACTOR ** getattr(self, "falls_", 0))

    def output_losses(self, net):
        """Each output's ``(loss, chance level)`` of a multi-output regression, in the
        loss the rule watches, at the epoch whose weights the fit keeps (its last, or its
        best with ``early_stopping``); None where not measured (one output, a classifier).

        Parameters
        ----------
        net : skorch.NeuralNet
            The fitted net.

        Returns
        -------
        list of tuple of (float, float) or None
        """
        return output_losses(net.history, getattr(self, "best_epoch_", None)
                             if self.load_best else None)

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        """Sum each output's squared errors (a multi-output regression's)."""
        if getattr(self, "outputs_", None) is not None:
            self.outputs_.add(training, batch, y_pred)

    def train_level(self):
        """The training loss's chance level: the training split's (first epoch) where
        ``early_stopping`` holds samples out, else ``chance_loss``, all the targets' (the
        held-out ones took the outliers: a mean predictor was below it, and the rule
        stopped a fit on X of zeros "although the training loss left it")."""
        level = getattr(self, "train_chance_", None)
        return self.chance_loss if level is None else level

    def _below_chance(self, best_loss):
        level = self.train_level()
        return not level or best_loss < CHANCE_SHARE * level

    def on_train_begin(self, net, **kwargs):
        """Reset the rule, then replay the epochs the history holds (and a stop, :data:`ENDED`)."""
        super().on_train_begin(net, **kwargs)
        # (loss, n_valid): a resumed fit's from its history, else at the first epoch's end
        self.valid_chance_, self.train_chance_ = recorded_chances(net.history)
        self.falls_ = 0  # of the adaptive rate
        self.outputs_ = None if not self.chance_loss else OutputLosses.of_fit(
            net, kwargs.get("y"), training=self.monitor == "train_loss")
        best_train_loss = float("inf")
        for row in net.history:
            best_train_loss = min(best_train_loss, row.get("train_loss", float("inf")))
            score = row.get(self.monitor)
            if score is None:
                continue
            replay_early_stopping(self, score, row["epoch"])
            if row.get(ENDED) == "rule":  # the rule stopped the fit here (no fall of the rate)
                self.misses_ = self.patience
            elif not self._below_chance(best_train_loss):
                self.misses_ = 0  # the gate, as in on_epoch_end
            elif self.adaptive and self.misses_ >= self.patience:
                # the fit went on, so the rate fell here (the restored optimizer holds it)
                self.misses_, self.falls_ = 0, self.falls_ + 1
        if not (self.load_best and len(net.history)):
            return
        if self.best_epoch_ == net.history[-1, "epoch"]:  # the weights just restored
            self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())
        elif self.best_weights is not None and os.path.exists(self.best_weights):
            # (onto this fit's device: a fit resumed on the CPU that a CUDA fit wrote)
            self.best_model_weights_ = torch.load(self.best_weights, map_location=net.device,
                                                  weights_only=True)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """skorch's rule, which cannot stop the fit before it left the chance level (a
        checkpointed fit writes a new best epoch's weights to ``best_weights`` with the
        epoch's state, :mod:`~sklstm.training.checkpointing`)."""
        if self.chance_loss and self.monitor == "valid_loss" and dataset_valid is not None \
                and getattr(self, "valid_chance_", None) is None:
            self.valid_chance_ = split_chance(net, dataset_train, dataset_valid)
            if self.valid_chance_ is not None:  # kept with the history (checkpoints)
                self.train_chance_ = split_chance(net, dataset_train, dataset_train)[0]
                record_valid_chance(net.history, self.valid_chance_, self.train_chance_)
        if getattr(self, "outputs_", None) is not None:
            self.outputs_.end_epoch(net.history, dataset_train, dataset_valid)
        if not self.left_chance(net):
            # skorch's rule adds one miss (or resets to 0 on an improvement): from -1
            # it cannot reach the patience, so a fit at chance is never stopped here
            self.misses_ = -1
        elif (self.adaptive and self.misses_ + 1 >= self.patience
              and not score_improves(self, net.history[-1, self.monitor])):
            if self.adaptive_rate(net) > ADAPTIVE_MIN_LR:
                for group in net.optimizer_.param_groups:  # a smaller step, not the stop
                    group["lr"] *= ADAPTIVE_FACTOR
                self.falls_ += 1
                self.misses_ = -1  # skorch's rule counts this epoch: the count restarts
        super().on_epoch_end(net, dataset_train=dataset_train, dataset_valid=dataset_valid,
                             **kwargs)


def stopping_callback(tol, n_iter_no_change, early_stopping, best_weights=None,
                      chance_loss=None, adaptive=False):
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
    chance_loss : float or None, default=None
        The training loss of predicting the targets' distribution: the rule does not
        stop a fit whose training loss has not gone below :data:`CHANCE_SHARE` of it.
    adaptive : bool, default=False
        ``lr_schedule="adaptive"``: lower the learning rate where the rule would stop,
        and stop only at a plateau with a rate at or below :data:`ADAPTIVE_MIN_LR`.

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
        chance_loss=chance_loss,
        adaptive=adaptive,
    )


def stopped_by_rule(net):
    """Whether the stopping rule ended ``net``'s fit (however much it learned).

    Parameters
    ----------
    net : skorch.NeuralNet
        The fitted net.

    Returns
    -------
    bool
    """
    stopper = dict(net.callbacks_).get(STOPPER)
    return stopper is not None and stopper.misses_ >= stopper.patience
