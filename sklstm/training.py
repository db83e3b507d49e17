"""skorch net whose train step accumulates gradients over micro-batches."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from skorch import NeuralNet
from skorch.utils import TeeGenerator

__all__ = ["SequenceNet", "split_batch"]


def split_batch(X, size):
    """Cut a batch (tensor or ``{"x", "lengths"}`` dict) into micro-batches.

    Padded micro-batches are cut again to their own longest sequence.
    """
    if not isinstance(X, Mapping):
        return list(X.split(size))
    parts = []
    for x, lengths in zip(X["x"].split(size), X["lengths"].split(size), strict=True):
        parts.append({"x": x[:, : int(lengths.max())], "lengths": lengths})
    return parts


class SequenceNet(NeuralNet):
    """A :class:`skorch.NeuralNet` with gradient accumulation in its train step.

    The iterator hands over one *effective* batch of ``micro_batch_size *
    accumulation_steps`` samples per optimizer step (skorch's ``batch_size``).
    :meth:`train_step` cuts it into micro-batches of ``micro_batch_size``, runs
    forward and backward on each, and weights every micro-batch loss by its
    share of the effective batch. The summed gradient therefore equals the
    gradient of one batch of the effective size, including the last, smaller
    batch of an epoch. skorch's ``on_grad_computed`` callbacks (gradient
    clipping) and ``on_batch_*`` callbacks (per-batch LR schedules) run once per
    optimizer step, on the accumulated gradient.

    Parameters
    ----------
    micro_batch_size : int
        Samples per forward/backward pass, the estimator's ``batch_size``.
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(self, *args, micro_batch_size=None, **kwargs):
        self.micro_batch_size = micro_batch_size
        super().__init__(*args, **kwargs)

    def infer(self, x, **fit_params):
        """Run the module. Batches already sit on the device, so skorch's
        ``to_tensor`` pass (which would also move the CPU lengths that
        ``pack_padded_sequence`` needs) is skipped."""
        if isinstance(x, Mapping):
            return self.module_(**x, **fit_params)
        return self.module_(x, **fit_params)

    def train_step(self, batch, **fit_params):
        """One optimizer step over an effective batch, accumulated if needed."""
        self._set_training(True)
        Xi, yi = batch
        n = len(yi)
        self._zero_grad_optimizer()
        size = self.micro_batch_size or n
        if n <= size:  # no accumulation: the plain step, no extra work
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            loss.backward()
        else:
            preds, total = [], 0.0
            for Xm, ym in zip(split_batch(Xi, size), yi.split(size), strict=True):
                y_m = self.infer(Xm, **fit_params)
                loss_m = self.get_loss(y_m, ym, X=Xm, training=True)
                # mean loss of the micro-batch, weighted by its share of the batch
                (loss_m * (len(ym) / n)).backward()
                total = total + loss_m.detach() * len(ym)
                preds.append(y_m.detach())
            y_pred, loss = torch.cat(preds), total / n
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        for name in self._optimizers:
            getattr(self, name + "_").step()
        return {"loss": loss, "y_pred": y_pred}
