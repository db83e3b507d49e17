"""sklstm's epoch loop: skorch's hooks and history, with no tensor read per batch.

skorch's ``NeuralNet.run_single_epoch`` reads every batch's loss with ``.item()``. On
a GPU that makes the host wait for the device at every batch, so none of the loop's
Python work overlaps the GPU's (the H200 run of 2026-12-04 found this sync and the data
layer's in every batch of fits that took 1.3-1.4x a hand-written loop).
:class:`EpochLoopNet` overrides that public method with one that keeps the batch
losses on the device and reads them with one ``.tolist()`` when the epoch ends (or
breaks off); nothing else of the loop converts a tensor to a Python value during the
batches (``tests/training/test_host_sync.py`` counts them).

What stays skorch's: every hook is notified at the same point, with the same
arguments (``on_batch_end`` gets the step's ``loss`` and ``y_pred`` as tensors), and
the history ends each epoch with the same rows, keys, key order and values as under
skorch's loop (``tests/training/test_loop.py`` compares history and weights). What
differs during an epoch: a batch row's ``<prefix>_loss`` is a 0-d tensor on the net's
device (a copy of the loss, detached) until the epoch ends, when the Python float
replaces it. skorch's idiom ``net.history[-1, "batches", -1, "train_loss"]`` in
``on_batch_end`` works (``float()``, ``.item()``, comparisons and formatting read it,
waiting for the device then, as skorch's loop does at every batch); a fit whose
callbacks read no loss waits for none (it raised "Key 'train_loss' was not found in
history" while the row had no loss yet). Keep ``float(loss)``, not the tensor, past
the batch (a CUDA tensor is no number to numpy). Two kinds of epoch get each loss as a
float as the batch ends, as skorch writes it: those of the only history that is not
skorch's plain :class:`skorch.history.History` (skorch's distributed one, which keeps
its own store), and those of a net with a callback of skorch's that reads the batch
row's loss in ``on_batch_end`` and hands it on: a logger with
``log_on_batch_end=True``, a ``ProgressBar`` of the user's that shows the loss (the tensor
showed as ``tensor(0.6931)``), a ``BatchScoring`` (a score of the tensor went into the
history as a tensor), and in training epochs an ``LRScheduler`` stepping a
``ReduceLROnPlateau`` every batch. All of them read the value on the host anyway.
sklstm's own bar (:class:`~sklstm.training.progress.EpochBar`) leaves a loss still on
the device off the bar.

The loop also does once per epoch what skorch does once per batch although it cannot
change within an epoch: finding the callbacks that implement a per-batch hook
(:meth:`EpochLoopNet.notify`) and listing the modules whose train mode a training
step sets (:meth:`EpochLoopNet.in_training_mode`). A small LSTM's step takes a few
hundred microseconds on a CPU, so these few microseconds per batch are measurable
(``benchmarks/bench_fit_speed.py``). All of it uses skorch's public API: ``notify``
and ``run_single_epoch`` are skorch's documented methods, callbacks are
``callbacks_``, and :class:`~skorch.history.History` is a ``list`` of epoch dicts;
the names of the net's modules and criteria are skorch's internals, read through
:func:`sklstm._compat.skorch.modules_and_criteria`.
"""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.callbacks import (
    BatchScoring,
    Callback,
    LRScheduler,
    MlflowLogger,
    NeptuneLogger,
    ProgressBar,
    SacredLogger,
)
from skorch.dataset import get_len
from skorch.history import History
from skorch.utils import to_tensor
from torch.optim.lr_scheduler import ReduceLROnPlateau

from .._compat.skorch import modules_and_criteria
from .batch_losses import LossBuffer, write_losses
from .progress import EpochBar

__all__ = ["BATCH_HOOKS", "EpochLoopNet"]

#: The hooks skorch notifies once per batch; the others end the per-epoch caches.
BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")

#: skorch's loggers that, with ``log_on_batch_end=True``, log each batch's history row
#: as the batch ends (its ``TensorBoard`` and ``WandbLogger`` log epochs only).
BATCH_ROW_LOGGERS = (MlflowLogger, NeptuneLogger, SacredLogger)

_TRAIN = torch.nn.Module.train


def _overrides(obj, method_name, base):
    """Whether ``obj.<method_name>`` does something: ``base``'s empty hook is not
    overridden on the class nor set on the instance."""
    return (method_name in getattr(obj, "__dict__", {})
            or getattr(type(obj), method_name, None) is not getattr(base, method_name))


def _reads_batch_loss(callback, training):
    """Whether ``callback`` reads the loss of a batch's history row in its
    ``on_batch_end`` (a training batch's, or a validation batch's) and hands it on, so
    that the row gets a float as the batch ends: skorch's loggers that log every
    batch's row (``log_on_batch_end=True``), a ``ProgressBar`` of the user's whose
    ``postfix_keys`` hold the loss (it showed ``tensor(0.6931)``; sklstm's
    :class:`~sklstm.training.progress.EpochBar` leaves it off), a ``BatchScoring`` of
    the batch's phase (its scoring may read the row, as skorch's ``train_loss_score``
    does, and it records the score in the row, where a tensor outlived the epoch and
    kept the history from json; its predictions go to the host anyway), and, of a
    training batch, skorch's ``LRScheduler`` stepping a ``ReduceLROnPlateau`` every batch (on a
    history key, or on what a callable ``monitor`` reads, the row as likely as not; the
    check is skorch's own, on the scheduler its ``on_train_begin`` built before the
    first epoch)."""
    if isinstance(callback, BATCH_ROW_LOGGERS):
        return bool(callback.log_on_batch_end)
    if isinstance(callback, BatchScoring):
        return callback.on_train == training
    if isinstance(callback, ProgressBar) and not isinstance(callback, EpochBar):
        return ("train_loss" if training else "valid_loss") in (callback.postfix_keys or ())
    return (training and isinstance(callback, LRScheduler) and callback.step_every == "batch"
            and isinstance(getattr(callback, "lr_scheduler_", None), ReduceLROnPlateau))


def _batch_len(X):
    """Samples in a batch's ``X``, as skorch's ``get_len`` counts them."""
    if isinstance(X, torch.Tensor):
        return X.shape[0]  # (get_len's checks cost more than the answer)
    if type(X) is dict and isinstance(X.get("x"), torch.Tensor):  # a padded batch
        return X["x"].shape[0]
    return get_len(X)


class EpochLoopNet(NeuralNet):
    """A :class:`skorch.NeuralNet` whose epoch loop reads the batch losses once per epoch.

    The base of :class:`~sklstm.training.SequenceNet`; the module docstring says what
    differs from skorch's loop (only when a batch row gets its loss) and why.

    Parameters
    ----------
    *args
        Passed to :class:`skorch.NeuralNet`.
    ctrl_c : CtrlCGuard or None, default=None
        The fit's Ctrl-C guard (:mod:`sklstm.training.interrupts`): an exception that
        ends the loop after a press whose ``KeyboardInterrupt`` it replaced ends it as
        that interrupt instead, which skorch's ``partial_fit`` ends the training on (the
        fit keeps its last complete epoch).
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(self, *args, ctrl_c=None, **kwargs):
        self.ctrl_c = ctrl_c
        super().__init__(*args, **kwargs)

    def fit_loop(self, X, y=None, *args, **kwargs):
        """skorch's ``fit_loop``, with a Ctrl-C that another exception replaced delivered
        as the interrupt it was (:meth:`CtrlCGuard.check
        <sklstm.training.interrupts.CtrlCGuard.check>`).

        Parameters
        ----------
        X, y, *args, **kwargs
            As for :meth:`skorch.NeuralNet.fit_loop`.

        Returns
        -------
        self : EpochLoopNet
        """
        try:
            return super().fit_loop(X, y, *args, **kwargs)
        except Exception as exc:
            if self.__dict__.get("ctrl_c") is not None:
                self.ctrl_c.check(replaced=exc)
            raise

    # -- per-epoch caches ---------------------------------------------------------------
    def _epoch_cache(self):
        # dropped by notify at every hook that is not a batch's, and here when the
        # callbacks, module or criterion were replaced since (initialize, set_params,
        # train steps run by hand outside a fit)
        state = self.__dict__
        key = (state.get("callbacks_"), state.get("module_"), state.get("criterion_"))
        cache = state.get("_per_epoch")
        if cache is None or any(a is not b for a, b in zip(cache["key"], key, strict=True)):
            # in __dict__ directly: skorch's __setattr__ is slow, and this cache is no
            # parameter or fitted attribute of the net
            cache = state["_per_epoch"] = {"key": key}
        return cache

    def listeners(self, method_name):
        """The bound methods a per-batch hook calls, in skorch's order (the net first).

        Looked up once per epoch: callbacks are only added or replaced between fits,
        :meth:`notify` drops the list at every hook that is not a batch's, and a net
        whose callbacks, module or criterion were replaced looks them up afresh.

        Parameters
        ----------
        method_name : str
            One of :data:`BATCH_HOOKS`.

        Returns
        -------
        list of callable
            The hooks that do something (skorch's empty defaults left out).
        """
        cache = self._epoch_cache()
        hooks = cache.get(method_name)
        if hooks is None:
            hooks = [getattr(self, method_name)] if _overrides(self, method_name,
                                                               NeuralNet) else []
            hooks += [getattr(cb, method_name) for _, cb in self.callbacks_
                      if _overrides(cb, method_name, Callback)]
            cache[method_name] = hooks
        return hooks

    def batch_loss_read(self, training=True):
        """Whether a hook of ``on_batch_end`` reads the batch's loss from its history
        row (:func:`_reads_batch_loss`); looked up once per epoch.

        Parameters
        ----------
        training : bool, default=True
            Of a training batch, or a validation batch.

        Returns
        -------
        bool
        """
        cache = self._epoch_cache()
        key = ("loss_read", bool(training))
        if key not in cache:
            cache[key] = any(_reads_batch_loss(getattr(hook, "__self__", None), training)
                             for hook in self.listeners("on_batch_end"))
        return cache[key]

    def notify(self, method_name, **cb_kwargs):
        """skorch's ``notify``; a per-batch hook calls only the methods that do something.

        Parameters
        ----------
        method_name : str
            The hook (``"on_batch_end"``...).
        **cb_kwargs : dict
            The hook's arguments.
        """
        if method_name not in BATCH_HOOKS:
            self.__dict__.pop("_per_epoch", None)
            return super().notify(method_name, **cb_kwargs)
        for hook in self.listeners(method_name):
            hook(self, **cb_kwargs)
        return None

    def in_training_mode(self, training=True):
        """Whether every module and criterion (with their submodules) is in that mode.

        A training step sets train mode every batch, as skorch's does;
        ``nn.Module.train`` walks the module tree through the slow ``__setattr__``,
        so the step skips it when nothing changed the mode. The modules are listed
        once per epoch; a module class that overrides ``train`` (which may do more
        than set the flag) makes this False, so the step always calls it.

        Parameters
        ----------
        training : bool, default=True
            The mode asked for.

        Returns
        -------
        bool
        """
        cache = self._epoch_cache()
        members = cache.get("modes", False)
        if members is False:
            members = tuple(m for top in modules_and_criteria(self)
                            if isinstance(top, torch.nn.Module) for m in top.modules())
            if any(type(m).train is not _TRAIN for m in members):
                members = None
            cache["modes"] = members
        return members is not None and all(m.training is training for m in members)

    # -- the loop -----------------------------------------------------------------------
    def get_loss(self, y_pred, y_true, X=None, training=False):
        """skorch's ``get_loss``, without ``to_tensor`` for a target already on the
        net's device (``BatchLoader``'s batches are), which it would return unchanged.

        Parameters
        ----------
        y_pred : torch.Tensor
            The module's output.
        y_true : torch.Tensor or array-like
            The targets.
        X : object, default=None
            The batch's input (unused, as in skorch).
        training : bool, default=False
            Whether the loss is a training step's (unused, as in skorch).

        Returns
        -------
        torch.Tensor
            The criterion's loss.
        """
        if not (isinstance(y_true, torch.Tensor) and (
                self.device is None or y_true.device == torch.device(self.device))):
            y_true = to_tensor(y_true, device=self.device)
        return self.criterion_(y_pred, y_true)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        """Open the batch's history row, as skorch does (``History.new_batch`` would
        reach the epoch through ``History.__getitem__``, which copies every epoch).

        Parameters
        ----------
        net : EpochLoopNet
            This net (skorch's hook signature).
        batch : tuple, default=None
            The batch.
        training : bool, default=False
            Whether it is a training batch.
        **kwargs : dict
            skorch's hook arguments.
        """
        if type(self.history) is History:
            list.__getitem__(self.history, -1)["batches"].append({})
        else:
            super().on_batch_begin(net, batch=batch, training=training, **kwargs)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One epoch of training or validation: skorch's loop, the losses read once.

        The same hooks as skorch's, in the same order, and at the epoch's end the same
        history: per batch ``<prefix>_loss`` and ``<prefix>_batch_size``, then
        ``<prefix>_batch_count``. During the epoch a row's loss is a 0-d tensor on the
        device (:class:`~sklstm.training.batch_losses.LossBuffer`); one ``.tolist()``
        puts the floats in its place when the epoch ends, also when it breaks off
        (Ctrl-C, an error): the rows of the batches that ran keep them.

        Parameters
        ----------
        iterator : Iterable or None
            The batches; None skips the phase, as in skorch.
        training : bool
            Whether the batches are training batches (passed to the hooks).
        prefix : str
            ``"train"`` or ``"valid"``: the history keys' prefix.
        step_fn : callable
            ``train_step`` or ``validation_step``: returns ``{"loss": tensor, ...}``.
        **fit_params : dict
            Passed to ``step_fn``.
        """
        if iterator is None:
            return
        loss_key, size_key = prefix + "_loss", prefix + "_batch_size"
        # a row read and handed on as its batch ends gets a float then, as skorch writes it
        plain = type(self.history) is History and not self.batch_loss_read(training)
        rows, losses = [], LossBuffer()
        batch_count = 0
        try:
            for batch in iterator:
                self.notify("on_batch_begin", batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                size = _batch_len(batch[0] if isinstance(batch, (tuple, list)) else batch)
                if plain:  # the row on_batch_begin opened: the loss stays on the device
                    row = list.__getitem__(self.history, -1)["batches"][-1]
                    rows.append(row)  # (first: an interrupt leaves no tensor unlisted)
                    row[loss_key] = losses.append(step["loss"])
                    row[size_key] = size
                else:  # a history with a store of its own: skorch's way, and its .item()
                    self.history.record_batch(loss_key, step["loss"].item())
                    self.history.record_batch(size_key, size)
                self.notify("on_batch_end", batch=batch, training=training, **step)
                batch_count += 1
        finally:
            write_losses(rows, losses, loss_key)
        self.history.record(prefix + "_batch_count", batch_count)
