"""Stop a fit whose loss became NaN or infinite or blew up, and say where and why.

Without it a diverged fit "succeeds": the regressor then predicts NaN, the classifier
one class for everything, and a search can select the diverged configuration. A fit
has diverged when a batch loss is not finite, or when an epoch's training loss is
more than :data:`BLOW_UP` times the loss of a model that knows nothing but the
targets' distribution (the class frequencies, the mean): training never makes a model
that much worse than that, a too large learning rate does. The check reads the losses
skorch records, once per epoch, so it adds no synchronisation to the training steps.
"""

from __future__ import annotations

import math

from skorch.callbacks import Callback

from ..exceptions import DivergenceError

__all__ = ["BLOW_UP", "NAME", "DivergenceGuard"]

#: Name of the guard in a net's callbacks.
NAME = "divergence"

#: An epoch's training loss above this many times the trivial model's loss is divergence.
BLOW_UP = 100.0


class DivergenceGuard(Callback):
    """skorch callback: raise :class:`~sklstm.exceptions.DivergenceError` at the end of
    the first epoch with a non-finite batch loss.

    Parameters
    ----------
    estimator_name : str, default="the estimator"
        Named in the error.
    lr : float or None, default=None
        The learning rate in use, named in the error.
    trivial_loss : float or None, default=None
        The training loss of a model that predicts the targets' distribution (the
        entropy of the class frequencies; the targets' variance); None checks only for
        non-finite losses.

    Examples
    --------
    >>> DivergenceGuard("LSTMRegressor", lr=0.01, trivial_loss=1.0).trivial_loss
    1.0
    """

    def __init__(self, estimator_name="the estimator", lr=None, trivial_loss=None):
        self.estimator_name = estimator_name
        self.lr = lr
        self.trivial_loss = trivial_loss

    def on_epoch_end(self, net, **kwargs):
        """Check the epoch's batch losses (training, then validation) and its mean."""
        epoch = len(net.history)
        for prefix in ("train", "valid"):
            for batch, row in enumerate(net.history[-1]["batches"]):
                loss = row.get(prefix + "_loss")
                if loss is not None and not math.isfinite(loss):
                    raise DivergenceError(self._message(
                        f"the {'training' if prefix == 'train' else 'validation'} loss "
                        f"became {loss} in epoch {epoch}, batch {batch + 1}"))
        loss = net.history[-1].get("train_loss")
        if self.trivial_loss and loss is not None and loss > BLOW_UP * self.trivial_loss:
            raise DivergenceError(self._message(
                f"the training loss rose to {loss:.3g} in epoch {epoch}, over "
                f"{BLOW_UP:g} times the {self.trivial_loss:.3g} of a model that only knows "
                "the targets' distribution"))

    def _message(self, what):
        return (
            f"{self.estimator_name} diverged: {what}"
            + (f" (lr_={self.lr:g})" if self.lr is not None else "") + ". The learning "
            "rate is likely too high for this data, or the input is too large: lower lr, "
            "scale X (sklstm.preprocessing.SequenceScaler), or clip the gradient "
            "(gradient_clip=1.0). The estimator is left unfitted."
        )
