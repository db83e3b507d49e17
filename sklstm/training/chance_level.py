"""The chance level of the validation loss (``early_stopping``), which
:class:`~sklstm.training.convergence.ConvergenceStopping` judges a fit against.

The training loss's chance level is the estimator's: the loss of predicting the training
targets' distribution on those targets (their variance; the entropy of the class
frequencies); with ``early_stopping``, that of the training split's own targets
(recorded with the validation loss's at the first epoch). The validation loss's is that
of a constant prediction on the validation targets (:func:`split_chance`; the best one
there: the validation targets' mean, the validation classes' shares): on a few dozen
samples their spread differs from the training targets', and a fit that learned nothing
was at 0.75 of the training targets' chance level, and called converged, at its first
epoch. Its best epoch must besides fall below a share of it that shrinks with the
validation set (:func:`valid_share`): the best of many noisy epochs dips below the
chance level by luck. A multi-output regression is judged per output as well
(:class:`OutputLosses`).
"""

from __future__ import annotations

import torch
from torch.utils.data import Subset

__all__ = ["LUCK_Z", "VALID_CHANCE", "OutputLosses", "best_value", "output_losses",
           "record_valid_chance", "recorded_chances", "recorded_valid_chance",
           "split_chance", "valid_share"]

#: How far luck reaches, as Student's ``t`` of the correlation of outputs that carry
#: nothing about the targets with them (:func:`valid_share`). Strict on few validation
#: samples, and kept so (``benchmarks/small_valid_convergence.py 5``): of 29 fits on 40
#: to 200 samples that learned (held-out balanced accuracy 0.7 or more), 14 were not
#: converged (7 of 8 on 12 validation samples, 1 of 10 on 20), but their best validation
#: losses, 0.03 to 1.0 of the chance level on 4 to 12 samples, overlap those of fits on
#: noise: one reached 0.28 on 8 samples, below even this margin (1 of 20 fits on noise
#: converged). A smaller ``t`` calls more fits on noise converged; the warning advises
#: raising ``validation_fraction`` instead.
LUCK_Z = 3.0

#: History keys of the validation loss's chance level and of the validation samples it
#: was computed on: recorded at a fit's first epoch, read by a fit resumed or loaded
#: from its checkpoint (which may run no epoch). Then those of :class:`OutputLosses`:
#: each output's chance level (first epoch) and loss (every epoch). Then the training
#: split's own chance level (first epoch, with the validation loss's). The log's table
#: leaves all of them out (``sklstm.training.setup``).
VALID_CHANCE = ("valid_chance", "valid_size", "output_chance", "output_losses",
                "train_chance")


def valid_share(n_valid):
    """The share of its chance level that the best validation loss of a model that
    learned nothing reaches by luck on ``n_valid`` samples:
    ``(n - 2) / (n - 2 + LUCK_Z ** 2)``.

    Why: outputs ``m + g``, ``g`` unrelated to the targets, lose
    ``chance * (1 - r ** 2)`` at the best scale of ``g`` (squared error; the
    cross-entropy near the class shares alike, to second order), ``r`` the sample
    correlation of ``g`` with the targets. Over ``n`` samples
    ``r ** 2 = t ** 2 / (t ** 2 + n - 2)``, ``t`` Student's with ``n - 2`` degrees of
    freedom. Picking the best of many epochs picks the luckiest ``g``: ``t = LUCK_Z``
    (fits on noise reached 0.78-0.91 of the chance level on 23 samples, ``t`` up to
    2.5; this share is 0.70 there, 0.92 on 100, 0.99 on 1,000). With 2 samples or
    fewer nothing can be told from luck: 0.

    Parameters
    ----------
    n_valid : int
        Validation samples.

    Returns
    -------
    float

    Examples
    --------
    >>> round(valid_share(23), 3)
    0.7
    """
    return max(n_valid - 2, 0) / (n_valid - 2 + LUCK_Z ** 2)


def best_value(history, key):
    """The lowest ``key`` of the history's epochs (inf where none has it)."""
    return min((row[key] for row in history if key in row), default=float("inf"))


def record_valid_chance(history, valid_chance, train_chance=None):
    """Record ``valid_chance`` (loss, n_valid) and ``train_chance`` (the training
    split's chance level; None: not recorded) in the last epoch of ``history``."""
    for key, value in zip(VALID_CHANCE[:2], valid_chance, strict=True):
        history.record(key, value)
    if train_chance is not None:
        history.record(VALID_CHANCE[4], train_chance)


def recorded_valid_chance(history):
    """The ``(loss, n_valid)`` a fit's first epoch recorded in ``history``, or None."""
    row = next((row for row in history if VALID_CHANCE[0] in row), None)
    return None if row is None else tuple(row[key] for key in VALID_CHANCE[:2])


def recorded_chances(history):
    """``(valid_chance, train_chance)`` as a fit's first epoch recorded them in
    ``history`` (:func:`record_valid_chance`); None for each not recorded (no
    validation split; a train_chance of a fit checkpointed before it was recorded)."""
    train = next((row[VALID_CHANCE[4]] for row in history if VALID_CHANCE[4] in row), None)
    return recorded_valid_chance(history), train


def _targets(dataset):
    """The targets of a :class:`~sklstm.data.SequenceDataset` or of skorch's split of
    one (a ``Subset``); None where the dataset keeps them otherwise."""
    if isinstance(dataset, Subset):
        y = _targets(dataset.dataset)
        return None if y is None else y[torch.as_tensor(dataset.indices)]
    y = getattr(dataset, "y", None)
    return y if isinstance(y, torch.Tensor) else None


def split_chance(net, dataset_train, dataset_valid):
    """``(loss, n_valid)``: the net's criterion of the best constant prediction on the
    validation split's targets (None where the targets cannot be read).

    That constant minimizes the criterion on the validation split: no output that
    ignores X does better there. For regression it is each output's validation mean (of
    the standardized targets the network fits). The training mean was beaten by luck: a
    network's outputs drift from epoch to epoch, and the best epoch's mean may sit
    nearer the validation mean, whose distance to the training mean is no learning (on
    heavy-tailed noise targets, 200 samples of Student's t with 2 degrees of freedom,
    the training mean lost 1.13 times the best constant on the 20 validation samples,
    and a fit that learned nothing was called converged at 0.66 of the best constant's
    loss; up to 2.5 times on log-normal targets). For classification it is the
    validation classes' own shares of the weight (``criterion.weight``). The training
    classes' shares were beaten by outputs that merely lean to the majority class, which a
    network that memorized noise does on new samples: with ``class_weight="balanced"``
    (training constant 1/2 each) on 5 % of one class, the 12 validation samples held
    none of it, their chance level was 0.39 and a fit on noise reached 0.06. A
    validation split of one class (or of equal real-valued targets, one sample among
    them) thus has a chance level of 0: its loss cannot show that the fit learned. The
    criterion itself computes the loss, so the validation loss and its chance level are
    averaged and weighted alike.

    Parameters
    ----------
    net : skorch.NeuralNet
        The net being trained (``criterion_``, ``device``, ``classifier``).
    dataset_train, dataset_valid : torch.utils.data.Dataset
        skorch's split of the training data.

    Returns
    -------
    tuple of (float, int) or None
    """
    y_train, y_valid = _targets(dataset_train), _targets(dataset_valid)
    if y_train is None or y_valid is None or not len(y_valid):
        return None
    y_train, y_valid = y_train.to(net.device), y_valid.to(net.device)
    with torch.no_grad():
        if getattr(net, "classifier", False):
            n_classes = int(max(y_train.max(), y_valid.max())) + 1
            # (the validation classes' own shares, see the docstring)
            share = torch.bincount(y_valid, minlength=n_classes).double()
            weight = getattr(net.criterion_, "weight", None)
            if weight is not None:
                share[:len(weight)] *= weight.double()
            # (a class the validation split lacks gets a vanishing share, not log 0)
            logits = torch.log(share / share.sum() + 1e-12).float()
            constant = logits.expand(len(y_valid), n_classes)
        else:  # (each output's own validation mean, as for the classes above)
            constant = y_valid.float().mean(dim=0).expand_as(y_valid)
        # (one class, or equal targets: exactly 0, which the log of 1 + 1e-12, or a mean
        # of equal floats, would round to or not)
        loss = 0.0 if bool((y_valid == y_valid[0]).all()) else float(
            net.criterion_(constant, y_valid))
    return loss, len(y_valid)


class OutputLosses:
    """Each output's loss, and its chance level, in the phase the stopping rule
    watches, of a multi-output regression.

    The losses the history holds are means over the outputs: a fit that learned one of
    two standardized outputs and nothing of the other is at half the chance level, and
    was called converged without a word (one output pure noise, early_stopping: its
    held-out R^2 near 0). The squared errors of each output are summed on the device as
    the batches end (no tensor is read per batch), read once at the epoch's end and
    recorded in the history (:data:`VALID_CHANCE`), where a fit resumed or loaded from
    its checkpoint finds those of its earlier epochs.

    Parameters
    ----------
    training : bool
        Judge the training batches (else the validation batches).
    """

    def __init__(self, training):
        self.training = training
        self._sums, self._count, self._chance_recorded = None, 0, False

    @classmethod
    def of_fit(cls, net, y, training):
        """The instance for a fit of ``net`` on targets ``y``; None for a classifier or
        one output (``y`` None: told by the batches)."""
        single = y is not None and (getattr(y, "ndim", 1) < 2 or y.shape[1] < 2)
        return None if single or getattr(net, "classifier", False) else cls(training)

    def add(self, training, batch, y_pred):
        """Add a batch's squared errors, if of the watched phase and of several outputs
        (a classifier's several outputs are its classes: not given here)."""
        if training != self.training or y_pred is None or y_pred.ndim != 2 \
                or y_pred.shape[1] < 2 or not isinstance(batch, (tuple, list)):
            return
        # (the batches are on the net's device already, BatchLoader: no copy then)
        y_true = torch.as_tensor(batch[1]).to(y_pred.device, non_blocking=True)
        errors = (y_pred.detach().float() - y_true.float()).square().sum(dim=0)
        self._sums = errors if self._sums is None else self._sums + errors
        self._count += len(y_true)

    def end_epoch(self, history, dataset_train, dataset_valid):
        """Record the epoch's losses in ``history`` (and, once, each output's chance
        level: the variance of the watched split's targets, its best constant's loss
        as :func:`split_chance`'s)."""
        sums, count, self._sums, self._count = self._sums, self._count, None, 0
        if sums is None:
            return
        # (a resumed fit's history holds it already; looked for once, not every epoch)
        if not self._chance_recorded and _chance_row(history) is None:
            y = _targets(dataset_train if self.training else dataset_valid)
            if y is None or y.ndim != 2 or y.shape[1] != len(sums):
                return
            history.record(VALID_CHANCE[2], y.double().var(dim=0, unbiased=False).tolist())
        self._chance_recorded = True
        history.record(VALID_CHANCE[3], (sums / count).tolist())

    def __getstate__(self):
        # (an epoch broken off leaves its sums on the device: not pickled with the fit)
        return {**self.__dict__, "_sums": None, "_count": 0}


def _chance_row(history):
    return next((row for row in history if VALID_CHANCE[2] in row), None)


def output_losses(history, epoch=None):
    """``[(loss, chance level)]`` of each output at ``epoch`` (None: the last), as
    :class:`OutputLosses` recorded them in ``history``; None where it did not."""
    first = _chance_row(history)
    row = next((row for row in history if row.get("epoch") == epoch), None) \
        if epoch is not None else (history[-1] if len(history) else None)
    if first is None or row is None or VALID_CHANCE[3] not in row:
        return None
    return list(zip(row[VALID_CHANCE[3]], first[VALID_CHANCE[2]], strict=True))
