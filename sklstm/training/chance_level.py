"""The chance level of the validation loss (``early_stopping``), which
:class:`~sklstm.training.convergence.ConvergenceStopping` judges a fit against.

The training loss's chance level is the estimator's: the loss of predicting the
training targets' distribution on those targets (their variance; the entropy of the
class frequencies). The validation loss's is that of a constant prediction on the
validation targets (:func:`split_chance`; the training mean, the validation classes'
shares): on a few dozen samples their spread differs from the training targets', and a
fit that learned nothing was at 0.75 of the training targets' chance level, and called
converged, at its first epoch. Its best epoch must besides fall below a share of it
that shrinks with the validation set (:func:`valid_share`): the best of many noisy
epochs dips below the chance level by luck.
"""

from __future__ import annotations

import torch
from torch.utils.data import Subset

__all__ = ["LUCK_Z", "VALID_CHANCE", "record_valid_chance", "recorded_valid_chance",
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
#: from its checkpoint (which may run no epoch).
VALID_CHANCE = ("valid_chance", "valid_size")


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


def record_valid_chance(history, valid_chance):
    """Record ``valid_chance`` (loss, n_valid) in the last epoch of ``history``."""
    for key, value in zip(VALID_CHANCE, valid_chance, strict=True):
        history.record(key, value)


def recorded_valid_chance(history):
    """The ``(loss, n_valid)`` a fit's first epoch recorded in ``history``, or None."""
    row = next((row for row in history if VALID_CHANCE[0] in row), None)
    return None if row is None else tuple(row[key] for key in VALID_CHANCE)


def _targets(dataset):
    """The targets of a :class:`~sklstm.data.SequenceDataset` or of skorch's split of
    one (a ``Subset``); None where the dataset keeps them otherwise."""
    if isinstance(dataset, Subset):
        y = _targets(dataset.dataset)
        return None if y is None else y[torch.as_tensor(dataset.indices)]
    y = getattr(dataset, "y", None)
    return y if isinstance(y, torch.Tensor) else None


def split_chance(net, dataset_train, dataset_valid):
    """``(loss, n_valid)``: the net's criterion of a constant prediction of the training
    split's targets' distribution, on the validation split's targets (None where the
    targets cannot be read).

    That prediction is the training mean for regression (of the standardized targets
    the network fits). For classification it is the validation classes' own shares of
    the weight (``criterion.weight``), the constant that minimizes the criterion on the
    validation split: no output that ignores X does better there. The training classes'
    shares were beaten by outputs that merely lean to the majority class, which a
    network that memorized noise does on new samples: with ``class_weight="balanced"``
    (training constant 1/2 each) on 5 % of one class, the 12 validation samples held
    none of it, their chance level was 0.39 and a fit on noise reached 0.06. A
    validation split of one class thus has a chance level of 0: its loss cannot show
    that the fit learned. The criterion itself computes the loss, so the validation
    loss and its chance level are averaged and weighted alike.

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
        else:
            constant = y_train.float().mean(dim=0).expand_as(y_valid)
        # (one class: exactly 0, which the log of 1 + 1e-12 would round to or not)
        loss = 0.0 if getattr(net, "classifier", False) and bool(
            (y_valid == y_valid[0]).all()) else float(net.criterion_(constant, y_valid))
    return loss, len(y_valid)
