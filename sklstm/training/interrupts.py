"""What Ctrl-C leaves behind: the model of the last complete epoch.

skorch stops a fit on ``KeyboardInterrupt`` and returns, keeping whatever state the
net was in, possibly in the middle of an epoch. :class:`EpochSnapshot` keeps a copy of
the module's weights at the end of every epoch, so the estimator can go back to the
last complete one; :func:`finish_interrupted` does that and says so.
"""

from __future__ import annotations

import warnings

import torch
from skorch.callbacks import Callback

from ..exceptions import FitInterruptedWarning

__all__ = ["EpochSnapshot", "finish_interrupted"]


class EpochSnapshot(Callback):
    """skorch callback: the module's weights after each complete epoch.

    Attributes
    ----------
    in_epoch_ : bool
        Whether an epoch began and has not ended (an interrupt came during it).
    complete_ : int
        Epochs completed.
    state_ : dict or None
        The module's ``state_dict`` (copies) after the last complete epoch.

    Examples
    --------
    >>> EpochSnapshot().initialize().complete_
    0
    """

    def initialize(self):
        """Reset the record (skorch calls this when the net is initialized)."""
        self.in_epoch_, self.complete_, self.state_ = False, 0, None
        return self

    def on_train_begin(self, net, **kwargs):
        """Start from the epochs a resumed fit already has."""
        self.complete_ = len(net.history)
        if self.complete_:
            self.state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}

    def on_epoch_begin(self, net, **kwargs):
        """Mark an epoch as running."""
        self.in_epoch_ = True

    def on_epoch_end(self, net, **kwargs):
        """Keep the weights of the epoch that just ended."""
        self.in_epoch_ = False
        self.complete_ = len(net.history)
        self.state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}


def finish_interrupted(estimator, net, snapshot):
    """Put ``net`` back to its last complete epoch after an interrupt, and warn.

    Parameters
    ----------
    estimator : BaseEstimator
        Named in the warning.
    net : skorch.NeuralNet
        The net whose fit was interrupted.
    snapshot : EpochSnapshot
        The net's snapshot callback.

    Returns
    -------
    bool
        False when no epoch was complete (nothing to keep: the caller discards the
        fit), True otherwise.
    """
    if snapshot.complete_ == 0:
        return False
    if snapshot.in_epoch_:  # the weights are half an epoch further: go back
        with torch.no_grad():
            net.module_.load_state_dict(snapshot.state_)
        del net.history[snapshot.complete_:]
    warnings.warn(
        f"{type(estimator).__name__}.fit was interrupted: the estimator keeps the model "
        f"after epoch {snapshot.complete_} of at most {net.max_epochs} (n_epochs_, "
        "history_); fit again to train it to the end.",
        FitInterruptedWarning,
        stacklevel=3,
    )
    return True
