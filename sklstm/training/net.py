"""The skorch net of the estimators: gradient accumulation on skorch's documented hooks.

The iterator hands over one *effective* batch of ``micro_batch_size *
accumulation_steps`` samples per optimizer step (skorch's ``batch_size``).
:meth:`SequenceNet.train_step` is skorch's own ``train_step`` (a closure passed to
every optimizer, so LBFGS works), except that the closure runs
:meth:`~SequenceNet.train_step_single` once per micro-batch, weighting each
micro-batch loss by its share of the effective batch's
(:func:`~sklstm.training.oom_recovery.weighted_parts`): of the samples, or for torch's
own ``CrossEntropyLoss``/``NLLLoss``, whose mean divides by the summed ``weight`` of the
targets not ignored (``ignore_index``), of those (a micro-batch with none adds nothing,
not its 0/0 NaN); unweighted for ``reduction="sum"``. The summed gradient equals that of
one batch of the effective size, an epoch's last, smaller batch included (a custom loss
that averages otherwise is weighted by its samples). ``on_grad_computed`` (gradient
clipping) and ``on_batch_*`` callbacks (per-batch LR schedules) run once per optimizer
step, on the accumulated gradient.

The epoch loop around the steps is :class:`~sklstm.training.loop.EpochLoopNet`'s
(skorch's hooks and history, the batch losses read once per epoch); a step reads no
tensor into Python either: the accumulated loss stays a tensor on the device.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from sklearn.utils import ClassifierTags
from skorch.utils import TeeGenerator

from .._compat.sklearn import StrOptions
from .._compat.skorch import set_training, step_optimizer, zero_grad
from .._param_validation import integers, plain_value, validate_constraints
from ..resources.memory_budget import OUT_OF_MEMORY, MemoryBudgetExceeded
from .loop import EpochLoopNet
from .oom_recovery import MicroBatchShrinking, batch_samples, out_of_memory, weigh, weighted_parts
from .randomness import NO_DRAWS

__all__ = ["SequenceNet"]

#: checked in initialize, as skorch checks its own (0 ran every batch in one pass, -1 and a
#: numpy int failed in torch mid-step, a misspelt on_oom was ignored)
_CONSTRAINTS = {"micro_batch_size": [integers(1), None],
                "on_oom": [StrOptions({"shrink", "raise"})]}


class SequenceNet(MicroBatchShrinking, EpochLoopNet):
    """A :class:`skorch.NeuralNet` with gradient accumulation in its train step.

    Trains in sklstm's epoch loop (:class:`~sklstm.training.loop.EpochLoopNet`):
    skorch's hooks and history, with the batch losses read once per epoch.

    Parameters
    ----------
    *args
        Passed to :class:`skorch.NeuralNet`.
    micro_batch_size : int or None, default=None
        Samples per forward/backward pass, the estimator's ``batch_size``; None
        runs every effective batch in one pass.
    memory_budget : MemoryBudget or None, default=None
        Checked after every micro-batch's backward pass; a step over it counts as
        out of memory.
    on_oom : {"shrink", "raise"}, default="shrink"
        What a step whose forward or backward pass runs out of memory (CUDA, the CPU
        allocator, over ``memory_budget``) does: redo it with half the micro-batch (same
        effective batch and update), or raise ``MemoryBudgetError`` (:meth:`train_step`).
    precision : Precision or None, default=None
        The autocast of the forward pass (:mod:`sklstm.training.precision`);
        None computes in float32.
    randomness : FitRandomness or None, default=None
        The fit's random state (:mod:`sklstm.training.randomness`): initialization,
        and the forward pass of every training step, draw in its
        :meth:`~sklstm.training.randomness.FitRandomness.draws` blocks, so that fits in
        threads beside each other draw what they draw alone. None draws from torch's
        global generators as they are.
    classifier : bool, default=False
        A classifier's net, as skorch's ``NeuralNetClassifier``: a scikit-learn
        classifier whose ``predict`` gives the most probable class and whose
        ``classes_`` are the class indices the targets are encoded as. skorch's
        scorers call the net itself with those targets: an ``EpochScoring("accuracy")``
        got the class probabilities from ``predict`` ("Classification metrics can't
        handle a mix of binary and continuous-multioutput targets"), and scorers of
        probabilities (``"roc_auc"``, ``"neg_log_loss"``) refused a net that was no
        classifier.
    **kwargs
        Passed to :class:`~sklstm.training.loop.EpochLoopNet` (``ctrl_c``) and
        :class:`skorch.NeuralNet`.

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

    def __init__(self, *args, micro_batch_size=None, memory_budget=None, on_oom="shrink",
                 precision=None, randomness=None, classifier=False, **kwargs):
        self.micro_batch_size = micro_batch_size
        self.memory_budget = memory_budget
        self.on_oom = on_oom
        self.precision = precision
        self.randomness = randomness
        self.classifier = classifier
        super().__init__(*args, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.classifier:  # (what scikit-learn's is_classifier reads)
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        return tags

    @property
    def classes_(self):
        """A classifier's class indices, ``0 .. module__n_outputs - 1``."""
        if not self.classifier:
            raise AttributeError("a net that is no classifier has no classes_")
        return np.arange(self.module__n_outputs)

    def predict(self, X):
        """Predict as skorch does; a classifier's net gives the most probable class index.

        Parameters
        ----------
        X : input data
            As :meth:`skorch.NeuralNet.predict_proba` takes it.

        Returns
        -------
        ndarray
            The outputs (a regressor), or the classes of shape (n_samples,).
        """
        proba = self.predict_proba(X)
        return proba.argmax(axis=1) if self.classifier else proba

    def random_draws(self, step=False):
        """The context in which the net draws from torch's generators.

        Parameters
        ----------
        step : bool, default=False
            For the forward pass of a training step (nothing to do when the network
            draws nothing there).

        Returns
        -------
        contextlib.AbstractContextManager
            :meth:`FitRandomness.draws <sklstm.training.randomness.FitRandomness.draws>`
            (or ``step_draws``) of :attr:`randomness`; nothing without one.
        """
        randomness = self.__dict__.get("randomness")
        if randomness is None:
            return NO_DRAWS
        return randomness.step_draws() if step else randomness.draws()

    def initialize(self):
        """Initialize as skorch does, plus the float16 gradient scaler and an empty
        log of out-of-memory recoveries (``memory_events_``).

        Returns
        -------
        self : SequenceNet
            The initialized net.
        """
        validate_constraints(_CONSTRAINTS, {name: plain_value(getattr(self, name))
                                            for name in _CONSTRAINTS}, type(self).__name__)
        with self.random_draws():  # (the weights' initialization draws)
            super().initialize()
        self.grad_scaler_ = None if self.precision is None else self.precision.grad_scaler()
        self.memory_events_ = []
        return self

    def get_iterator(self, dataset, training=False):
        """Return skorch's iterator; the training iterator is also kept as
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
        """Let go of the training iterator (it holds the data), then skorch's hook.

        Parameters
        ----------
        net : SequenceNet
            This net (skorch's hook signature).
        **kwargs : dict
            skorch's hook arguments.
        """
        self.__dict__.pop("_train_iterator", None)
        super().on_train_end(net, **kwargs)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_train_iterator", None)  # a pickled net must not carry the data
        # nor the live state of a running fit (skorch's Checkpoint(f_pickle=...) pickles
        # the net as every epoch ends): the fit's random state holds torch's forked
        # generators ("cannot pickle 'generator' object" ended the fit) and the per-epoch
        # hook cache bound methods of it; unpickled, a net is as a fit leaves it
        state.pop("_per_epoch", None)
        state.update(randomness=None, ctrl_c=None)
        return state

    def infer(self, x, **fit_params):
        """Run the module on a batch, its sequences moved to the net's device.

        skorch's ``infer`` would first pass the batch through ``to_tensor``, which
        also moves the CPU ``lengths`` of a padded batch to the GPU, while
        ``pack_padded_sequence`` and the module's indexing want them on the CPU. So
        only the sequences are moved, and only when they are elsewhere (a batch of a
        :class:`~sklstm.data.SequenceDataset` already sits on the device; one that a
        callback builds on the CPU to predict mid-fit does not).

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
        if self.precision is None or self.precision.dtype is None:  # float32: no
            return self._module_forward(x, **fit_params)  # autocast, nothing to cast
        with self.precision.autocast():
            out = self._module_forward(x, **fit_params)
        # float32 outside the autocast region: the loss, and every prediction, is
        # computed from float32 outputs
        return out.float()

    def _module_forward(self, x, **fit_params):
        if isinstance(x, Mapping):
            return self.module_(**{**x, "x": x["x"].to(self.device)}, **fit_params)
        if isinstance(x, torch.Tensor):
            x = x.to(self.device)  # (no copy when it is there already)
        return self.module_(x, **fit_params)

    def train_step_single(self, batch, loss_weight=1.0, **fit_params):
        """Forward and backward pass over one micro-batch, as skorch's ``train_step_single``.

        Parameters
        ----------
        batch : tuple
            ``(X_micro, y_micro)``.
        loss_weight : float or torch.Tensor, default=1.0
            The micro-batch's share of its effective batch (1 for a summed loss; a
            tensor for torch's weighted mean): its loss is scaled by it before
            ``backward`` (:func:`~.oom_recovery.weigh`), so the micro-batches'
            gradients add up to that of the whole effective batch.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        dict
            ``{"loss": the criterion's unweighted loss, "y_pred": predictions}``.
        """
        if not self.in_training_mode(True):  # (skorch sets it every batch)
            set_training(self, True)
        Xi, yi = batch
        with self.random_draws(step=True):  # (dropout draws)
            y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        weighted = weigh(loss, loss_weight, y_pred)
        scaler = self.__dict__.get("grad_scaler_")
        (weighted if scaler is None else scaler.scale(weighted)).backward()
        if self.memory_budget is not None:  # the backward pass is a step's peak
            self.memory_budget.check()
        return {"loss": loss, "y_pred": y_pred}

    def _effective_batch_step(self, batch, **fit_params):
        """Forward and backward over every micro-batch of one effective batch."""
        n = batch_samples(batch)
        size = n if self.micro_batch_size is None else int(self.micro_batch_size)  # (numpy)
        if n <= size:  # no accumulation: skorch's single step, no extra work
            return self.train_step_single(batch, **fit_params)
        preds, total = [], 0.0
        for part, share in weighted_parts(self.criterion_, batch, size):
            step = self.train_step_single(part, loss_weight=share, **fit_params)
            total = total + weigh(step["loss"].detach(), share)
            preds.append(step["y_pred"].detach())
        return {"loss": total, "y_pred": torch.cat(preds)}

    def _notify_grad_computed(self, batch):
        if not self.listeners("on_grad_computed"):  # (gradient clipping listens)
            return
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )

    def train_step(self, batch, **fit_params):
        """One optimizer step over an effective batch, accumulated over micro-batches.

        As skorch's ``train_step``: the gradient computation is a closure handed to
        every optimizer (skorch's ``_step_optimizer``), which may call it several times
        (LBFGS); the first call's loss and predictions are returned. A step that
        runs out of memory in its forward or backward pass is redone with half the
        micro-batch (``on_oom="shrink"``; :meth:`shrink_micro_batch`); in the
        optimizer's own update it raises ``MemoryBudgetError`` (a redo stepped twice).

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
        while True:
            calls = []
            try:
                return self._train_step_once(batch, calls, **fit_params)
            except (OUT_OF_MEMORY, MemoryBudgetExceeded, RuntimeError) as exc:
                reason = out_of_memory(exc)
                if reason is None:
                    raise
                # the samples a pass held: a micro_batch_size above the effective batch
                # (batch_size=256 on 96 samples) ran the batch in one pass, and halving
                # it redid that same pass, out of memory again, until it was below
                size = min(self.micro_batch_size or math.inf, batch_samples(batch))
                if calls and calls[-1] == "computed":  # in the optimizer's update
                    raise self._optimizer_memory_error(size, reason) from exc
                if self.on_oom == "raise" or size <= 1 or len(calls) > 1:
                    # (an optimizer that evaluated the closure more than once has
                    # already moved the weights: the step cannot be redone)
                    raise self._memory_error(size, reason) from exc
            # outside the except block, so the failed step's tensors can be freed
            self.shrink_micro_batch(size, reason)
            self._renew_grad_scaler()

    def _train_step_once(self, batch, calls, **fit_params):
        step_accumulator = self.get_train_step_accumulator()
        scaler = self.grad_scaler_

        def step_fn():
            calls.append("computing")
            zero_grad(self)
            step = self._effective_batch_step(batch, **fit_params)
            step_accumulator.store_step(step)
            if scaler is not None:  # clipping callbacks must see true gradients
                scaler.unscale_(self.optimizer_)
            self._notify_grad_computed(batch)
            calls[-1] = "computed"  # (what runs until the next call is the optimizer's)
            return step["loss"]

        if scaler is None:
            step_optimizer(self, step_fn)
        else:  # GradScaler takes no closure: compute, then step and update once
            step_fn()
            scaler.step(self.optimizer_)
            scaler.update()
        return step_accumulator.get_step()
