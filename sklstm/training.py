"""skorch net whose train step accumulates gradients over micro-batches."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import get_len
from skorch.history import History
from skorch.utils import TeeGenerator, to_tensor

__all__ = ["SequenceNet", "split_batch"]

# skorch notifies these once per batch; see SequenceNet.notify
_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")


_TRAIN = torch.nn.Module.train


def _mode_members(module):
    """``module`` and all its submodules, or None if one of them overrides
    ``train`` (then only calling ``train`` itself is exact)."""
    members = []
    stack = [module]
    while stack:
        m = stack.pop()
        if m is None:  # a submodule slot registered as None
            continue
        if type(m).train is not _TRAIN:
            return None
        members.append(m)
        stack.extend(m._modules.values())
    return members


def _in_mode(module, training):
    """True if ``module.train(training)`` would change nothing: every submodule
    already is in that mode and none overrides ``train``."""
    members = _mode_members(module)
    return members is not None and all(m.training is training for m in members)


def _hook_is_noop(obj, method_name, base):
    """Whether ``obj.<method_name>`` is ``base``'s empty hook, not overridden on
    the class or set on the instance."""
    return (method_name not in getattr(obj, "__dict__", {})
            and getattr(type(obj), method_name, None) is getattr(base, method_name))


def _batch_len(X):
    """Samples in a batch's ``X``, as skorch's ``get_len`` counts them."""
    if isinstance(X, torch.Tensor):
        return X.shape[0]  # len() on a tensor goes through Python-level checks
    if type(X) is dict and isinstance(X.get("x"), torch.Tensor):  # padded batch
        return len(X["x"])
    return get_len(X)


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

    # -- per-batch overhead ----------------------------------------------------
    # The overrides below do what skorch's methods do, minus the work that is
    # constant within an epoch. Each costs only microseconds, but skorch pays
    # them on every batch, and a small LSTM's whole step (forward, backward,
    # Adam) takes a few hundred microseconds on a CPU, so together they made a
    # fit several percent slower than a hand-written loop (see
    # benchmarks/bench_fit_speed.py).

    def notify(self, method_name, **cb_kwargs):
        """Call a hook on the net and its callbacks, as skorch does.

        For the per-batch hooks, the net's and callbacks' methods that are
        skorch's empty defaults are skipped. Which ones those are is looked up
        once per epoch, not on every batch: every other hook
        (``on_epoch_begin`` included) clears the lookup.
        """
        if method_name not in _BATCH_HOOKS:
            self.__dict__.pop("_per_epoch", None)
            return super().notify(method_name, **cb_kwargs)
        for hook in self._listeners(method_name):
            hook(self, **cb_kwargs)
        return None

    def _epoch_cache(self):
        """Per-epoch lookups; ``notify`` drops them at every non-batch hook."""
        cache = self.__dict__.get("_per_epoch")
        if cache is None:
            # written to __dict__ directly: skorch's __setattr__ is slow, and
            # this private cache is no net attribute
            cache = self.__dict__["_per_epoch"] = {}
        return cache

    def _listeners(self, method_name):
        """The bound methods a per-batch hook has to call, in skorch's order
        (the net first, then the callbacks)."""
        cache = self._epoch_cache()
        hooks = cache.get(method_name)
        if hooks is None:
            hooks = [] if _hook_is_noop(self, method_name, NeuralNet) else [
                getattr(self, method_name)]
            hooks += [getattr(cb, method_name) for _, cb in self.callbacks_
                      if not _hook_is_noop(cb, method_name, Callback)]
            cache[method_name] = hooks
        return hooks

    def _set_training(self, training=True):
        """Set train/eval mode on the modules and criteria, as skorch does, but
        skip ``nn.Module.train`` when every module already is in that mode.
        (Validation and prediction call this once per batch.)"""
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and not _in_mode(module, training):
                module.train(training)

    def _set_train_mode(self):
        """``self._set_training(True)`` for the train step, as skorch calls it
        once per batch; ``nn.Module.train`` (a walk through the slow
        ``nn.Module.__setattr__``) then only runs when some module is not in
        training mode. The modules to check are listed once per epoch."""
        cache = self._epoch_cache()
        members = cache.get("modes")
        if members is None:
            tops = [getattr(self, name + "_") for name in self._modules + self._criteria]
            lists = [_mode_members(m) for m in tops if isinstance(m, torch.nn.Module)]
            # None (some module overrides train): always take skorch's path
            members = cache["modes"] = (
                None if None in lists else tuple(m for ms in lists for m in ms))
        if members is None:
            self._set_training(True)
            return
        for m in members:
            if m.training is not True:
                self._set_training(True)
                return

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion on a batch, as in skorch; ``y_true`` skips ``to_tensor``
        when it already is a tensor on the net's device (as BatchLoader's
        batches are), where ``to_tensor`` would return it unchanged."""
        if not (isinstance(y_true, torch.Tensor) and (
                self.device is None or y_true.device == torch.device(self.device))):
            y_true = to_tensor(y_true, device=self.device)
        return self.criterion_(y_pred, y_true)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        """Open the batch's history row. ``History.new_batch`` reaches the row
        through ``History.__getitem__``, which copies the list of all epochs on
        every call; a plain ``History`` is indexed as the list it is."""
        if type(self.history) is History:
            list.__getitem__(self.history, -1)["batches"].append({})
        else:
            super().on_batch_begin(net, batch=batch, training=training, **kwargs)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch loop: the same hooks and history entries, in the same order.

        Per-batch costs cut: the batch size is read off the batch's tensor
        instead of through ``skorch.dataset.get_len``; values go straight into
        the history row; ``on_batch_end`` is skipped when nothing listens. When
        nothing at all can look at the history during the epoch (no per-batch
        hook but the net's own ``on_batch_begin``, which only opens the row),
        the row is opened in place, and the batch losses are read with one
        ``.tolist()`` when the epoch ends (or breaks off) instead of one
        ``.item()`` per batch, which on a GPU also saves a sync per batch.
        """
        if iterator is None:
            return
        fast_history = type(self.history) is History
        unobserved = fast_history and self._unobserved_batches()
        batches = list.__getitem__(self.history, -1)["batches"] if unobserved else None
        loss_key, size_key = prefix + "_loss", prefix + "_batch_size"
        rows, losses = [], []
        batch_count = 0
        try:
            for batch in iterator:
                if unobserved:  # what notify("on_batch_begin") would do
                    row = {}
                    batches.append(row)
                else:
                    self.notify("on_batch_begin", batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                batch_size = _batch_len(batch[0] if isinstance(batch, (tuple, list)) else batch)
                if unobserved:
                    row[loss_key] = None  # filled in below; keeps the key order
                    rows.append(row)
                    losses.append(step["loss"].detach())
                    row[size_key] = batch_size
                elif fast_history:  # History.record_batch, without History.__getitem__
                    row = list.__getitem__(self.history, -1)["batches"][-1]
                    row[loss_key] = step["loss"].item()
                    row[size_key] = batch_size
                else:
                    self.history.record_batch(loss_key, step["loss"].item())
                    self.history.record_batch(size_key, batch_size)
                if not unobserved and self._listeners("on_batch_end"):
                    self.notify("on_batch_end", batch=batch, training=training, **step)
                batch_count += 1
        finally:
            if losses:
                values = torch.cat([loss.reshape(1) for loss in losses]).tolist()
                for row, value in zip(rows, values, strict=True):
                    row[loss_key] = value
        self.history.record(prefix + "_batch_count", batch_count)

    def _unobserved_batches(self):
        """Whether no hook runs during an epoch but the net's own
        ``on_batch_begin`` (so nothing can read a batch's history row)."""
        begin = self._listeners("on_batch_begin")
        return (len(begin) == 1
                and getattr(begin[0], "__func__", None) is SequenceNet.on_batch_begin
                and not self._listeners("on_grad_computed")
                and not self._listeners("on_batch_end"))

    def infer(self, x, **fit_params):
        """Run the module. Batches already sit on the device, so skorch's
        ``to_tensor`` pass (which would also move the CPU lengths that
        ``pack_padded_sequence`` needs) is skipped."""
        if not isinstance(x, torch.Tensor) and isinstance(x, Mapping):
            return self.module_(**x, **fit_params)
        return self.module_(x, **fit_params)

    def train_step(self, batch, **fit_params):
        """One optimizer step over an effective batch, accumulated if needed."""
        self._set_train_mode()
        Xi, yi = batch
        n = yi.shape[0]
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
        # nobody listens by default (gradient clipping does): skip building the
        # parameter generator then
        if self._listeners("on_grad_computed"):
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        for name in self._optimizers:
            getattr(self, name + "_").step()
        return {"loss": loss, "y_pred": y_pred}
