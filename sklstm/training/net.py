"""The skorch net of the estimators: gradient accumulation on skorch's documented hooks.

The iterator hands over one *effective* batch of ``micro_batch_size *
accumulation_steps`` samples per optimizer step (skorch's ``batch_size``).
:meth:`SequenceNet.train_step` is skorch's own ``train_step`` (a closure passed to
every optimizer, so LBFGS works), except that the closure runs
:meth:`~SequenceNet.train_step_single` once per micro-batch, weighting each
micro-batch loss by its share of the effective batch. The summed gradient
therefore equals the gradient of one batch of the effective size, including the
last, smaller batch of an epoch; ``on_grad_computed`` callbacks (gradient
clipping) and ``on_batch_*`` callbacks (per-batch LR schedules) run once per
optimizer step, on the accumulated gradient.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from skorch import NeuralNet
from skorch.utils import TeeGenerator

from .._data.batching import split_batch

__all__ = ["SequenceNet"]


class SequenceNet(NeuralNet):
    """A :class:`skorch.NeuralNet` with gradient accumulation in its train step.

    Parameters
    ----------
    *args
        Passed to :class:`skorch.NeuralNet`.
    micro_batch_size : int or None, default=None
        Samples per forward/backward pass, the estimator's ``batch_size``; None
        runs every effective batch in one pass.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.

    Examples
    --------
    >>> import torch
    >>> from sklstm.network import LSTMNetwork
    >>> net = SequenceNet(LSTMNetwork, module__n_inputs=2, module__n_outputs=1,
    ...                   criterion=torch.nn.MSELoss, batch_size=8, micro_batch_size=4,
    ...                   max_epochs=1, train_split=None, verbose=0)
    >>> X, y = torch.zeros(10, 5, 2), torch.zeros(10, 1)
    >>> len(net.fit(X, y).history[-1]["batches"])  # two optimizer steps of 8 and 2
    2
    """

    def __init__(self, *args, micro_batch_size=None, **kwargs):
        self.micro_batch_size = micro_batch_size
        super().__init__(*args, **kwargs)

    def get_iterator(self, dataset, training=False):
        """skorch's ``get_iterator``; the training iterator is also kept as
        ``train_iterator_`` so that callbacks can change its ``batch_size`` (the
        effective batch) between epochs, as :class:`BatchSizeSchedule` does.

        Parameters
        ----------
        dataset : torch.utils.data.Dataset
            The data to iterate over.
        training : bool, default=False
            Whether the iterator is the training one.

        Returns
        -------
        Iterable
            skorch's ``iterator_train`` or ``iterator_valid`` over ``dataset``.
        """
        iterator = super().get_iterator(dataset, training=training)
        if training:
            self.__dict__["_train_iterator"] = iterator
        return iterator

    @property
    def train_iterator_(self):
        """The training iterator of the fit in progress (None outside a fit)."""
        return self.__dict__.get("_train_iterator")

    def on_train_end(self, net, **kwargs):
        """skorch's hook; the training iterator (it holds the data) is let go."""
        self.__dict__.pop("_train_iterator", None)
        super().on_train_end(net, **kwargs)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_train_iterator", None)  # a pickled net must not carry the data
        return state

    def infer(self, x, **fit_params):
        """Run the module on a batch that already sits on the device.

        skorch's ``infer`` would first pass the batch through ``to_tensor``, which
        also moves the CPU ``lengths`` of a padded batch to the GPU, while
        ``pack_padded_sequence`` and the module's indexing want them on the CPU.

        Parameters
        ----------
        x : torch.Tensor or dict
            The batch's input; a dict (such as ``{"x": tensor, "lengths": tensor}``
            of a padded batch) is passed to the module as keyword arguments.
        **fit_params : dict
            Further keyword arguments for the module's ``forward``.

        Returns
        -------
        torch.Tensor
            The module's output for the batch.
        """
        if isinstance(x, Mapping):
            return self.module_(**x, **fit_params)
        return self.module_(x, **fit_params)

    def train_step_single(self, batch, loss_weight=1.0, **fit_params):
        """Forward and backward pass over one micro-batch, as skorch's ``train_step_single``.

        Parameters
        ----------
        batch : tuple
            ``(X_micro, y_micro)``.
        loss_weight : float, default=1.0
            The micro-batch's share of its effective batch: its mean loss is
            scaled by it before ``backward``, so the gradients of the micro-batches
            add up to that of the whole effective batch.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        dict
            ``{"loss": unweighted mean loss, "y_pred": predictions}``.
        """
        self._set_training(True)
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        (loss if loss_weight == 1.0 else loss * loss_weight).backward()
        return {"loss": loss, "y_pred": y_pred}

    def _effective_batch_step(self, batch, **fit_params):
        """Forward and backward over every micro-batch of one effective batch."""
        Xi, yi = batch
        n = yi.shape[0]
        size = self.micro_batch_size or n
        if n <= size:  # no accumulation: skorch's single step, no extra work
            return self.train_step_single(batch, **fit_params)
        preds, total = [], 0.0
        for Xm, ym in zip(split_batch(Xi, size), yi.split(size), strict=True):
            step = self.train_step_single((Xm, ym), loss_weight=len(ym) / n, **fit_params)
            total = total + step["loss"].detach() * len(ym)
            preds.append(step["y_pred"].detach())
        return {"loss": total / n, "y_pred": torch.cat(preds)}

    def _notify_grad_computed(self, batch):
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )

    def train_step(self, batch, **fit_params):
        """One optimizer step over an effective batch, accumulated over micro-batches.

        As skorch's ``train_step``: the gradient computation is a closure handed to
        every optimizer (``_step_optimizer``), which may call it several times
        (LBFGS); the first call's loss and predictions are returned.

        Parameters
        ----------
        batch : tuple
            ``(X, y)`` of one effective batch.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        dict
            ``{"loss": mean loss over the effective batch, "y_pred": predictions}``.
        """
        step_accumulator = self.get_train_step_accumulator()

        def step_fn():
            self._zero_grad_optimizer()
            step = self._effective_batch_step(batch, **fit_params)
            step_accumulator.store_step(step)
            self._notify_grad_computed(batch)
            return step["loss"]

        self._step_optimizer(step_fn)
        return step_accumulator.get_step()
