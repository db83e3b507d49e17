"""A convergence stopper run by hand on given validation losses (no training)."""

from types import SimpleNamespace

import numpy as np
import torch
from skorch.history import History
from torch.utils.data import Subset

from sklstm.data import SequenceDataset
from sklstm.training.convergence import stopping_callback


def valid_run(y_train, y_valid, valid_losses, criterion=None, classifier=False, patience=100):
    """An early_stopping stopper run on ``valid_losses`` (the training loss far below
    chance), its datasets holding ``y_train`` and ``y_valid``: (stopper, at_chance,
    the net it ran)."""
    y = np.concatenate([y_train, y_valid])
    data = SequenceDataset(np.zeros((len(y), 1, 1), np.float32), y)
    train = Subset(data, np.arange(len(y_train)))
    valid = Subset(data, np.arange(len(y_train), len(y)))
    _, stopper = stopping_callback(1e-3, patience, early_stopping=True, chance_loss=1.0)
    net = SimpleNamespace(history=History(), device="cpu", classifier=classifier, verbose=0,
                          module_=torch.nn.Linear(1, 1),
                          criterion_=criterion or torch.nn.MSELoss(),
                          callbacks_=[("convergence", stopper)])
    stopper.on_train_begin(net)
    for epoch, loss in enumerate(valid_losses, 1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("train_loss", 0.1)
        net.history.record("valid_loss", loss)
        stopper.on_epoch_end(net, dataset_train=train, dataset_valid=valid)
    return stopper, stopper.at_chance(net), net
