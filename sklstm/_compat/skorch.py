"""skorch's internals that sklstm uses, in one module, gated by version.

What is private here:

* :class:`FastEpochMixin` overrides skorch's ``run_single_epoch``, ``notify`` and
  ``_set_training`` and reads ``History`` and callback internals, to do skorch's
  per-batch bookkeeping once per epoch (why: :mod:`sklstm.training._fast_epoch`);
* :func:`set_training`, :func:`zero_grad` and :func:`step_optimizer` call skorch's
  protected train-step helpers (``_set_training``, ``_zero_grad_optimizer``,
  ``_step_optimizer``), as skorch's own ``train_step`` does, so that sklstm's
  accumulating train step stays skorch's.

On a skorch outside :data:`VERIFIED` the estimators train with the stock
:class:`~sklstm.training.SequenceNet` (no mixin, :func:`verified` is False), and the
three helpers do the same work through skorch's public attributes (``module_``,
``criterion_``, ``optimizer_``: sklstm's nets have one of each).
``tests/training/test_fast_epoch.py`` checks that the mixin gives the same history and
weights as skorch's own loop; ``tests/_compat/test_skorch.py`` fails in CI as soon as
a skorch outside :data:`VERIFIED` is installed.
"""

from __future__ import annotations

import functools

import skorch
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import get_len
from skorch.history import History
from skorch.utils import to_tensor

from . import within

__all__ = ["VERIFIED", "FastEpochMixin", "set_training", "step_optimizer", "verified",
           "zero_grad"]

#: skorch (major, minor) versions these uses were verified on, inclusive.
VERIFIED = ((1, 1), (1, 4))

# skorch notifies these once per batch
_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")
_TRAIN = torch.nn.Module.train


def verified(version=None):
    """Whether the installed (or given) skorch lies within :data:`VERIFIED`.

    Parameters
    ----------
    version : str or None, default=None
        A skorch version string such as ``"1.2.0"``; None: the installed skorch.

    Returns
    -------
    bool
        True where the mixin and the helpers may use skorch's internals.

    Examples
    --------
    >>> verified("1.2.0"), verified("2.0.0")
    (True, False)
    """
    return _within_verified(version or skorch.__version__)


@functools.lru_cache(maxsize=8)
def _within_verified(version):
    # cached: the train-step helpers below ask for every batch
    return within(version, VERIFIED)


def set_training(net, training=True):
    """Put the net's module and criterion in training (or evaluation) mode.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized net.
    training : bool, default=True
        The mode.
    """
    if verified():
        net._set_training(training)  # FastEpochMixin's, or skorch's
        return
    for member in (net.module_, net.criterion_):
        if isinstance(member, torch.nn.Module):
            member.train(training)


def zero_grad(net):
    """Zero the gradients of the net's optimizer, as skorch's train step does.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized net.
    """
    if verified():
        net._zero_grad_optimizer()
    else:
        net.optimizer_.zero_grad()


def step_optimizer(net, step_fn):
    """Step the net's optimizer with the closure ``step_fn``, as skorch's train step does.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized net.
    step_fn : callable
        The closure that computes the loss and gradients (LBFGS calls it repeatedly).
    """
    if verified():
        net._step_optimizer(step_fn)
    else:
        net.optimizer_.step(step_fn)


def _mode_members(module):
    """``module`` and all its submodules, or None if one of them overrides ``train``
    (then only calling ``train`` itself is exact)."""
    members, stack = [], [module]
    while stack:
        m = stack.pop()
        if m is None:  # a submodule slot registered as None
            continue
        if type(m).train is not _TRAIN:
            return None
        members.append(m)
        stack.extend(m._modules.values())
    return members


def _hook_is_noop(obj, method_name, base):
    """Whether ``obj.<method_name>`` is ``base``'s empty hook, not overridden on the
    class or set on the instance."""
    return (method_name not in getattr(obj, "__dict__", {})
            and getattr(type(obj), method_name, None) is getattr(base, method_name))


def _batch_len(X):
    """Samples in a batch's ``X``, as skorch's ``get_len`` counts them."""
    if isinstance(X, torch.Tensor):
        return X.shape[0]  # len() on a tensor goes through Python-level checks
    if type(X) is dict and isinstance(X.get("x"), torch.Tensor):  # padded batch
        return len(X["x"])
    return get_len(X)


class FastEpochMixin:
    """skorch's per-batch bookkeeping, done once per epoch where it cannot change.

    Every lookup is cached for the current epoch only: skorch calls a non-batch hook
    (``on_epoch_begin``, ``on_epoch_end``...) between epochs, and :meth:`notify`
    drops the cache at every one of them.
    """

    def notify(self, method_name, **cb_kwargs):
        """skorch's ``notify``; per-batch hooks skip the empty default methods."""
        if method_name not in _BATCH_HOOKS:
            self.__dict__.pop("_per_epoch", None)
            return super().notify(method_name, **cb_kwargs)
        for hook in self._listeners(method_name):
            hook(self, **cb_kwargs)
        return None

    def _epoch_cache(self):
        cache = self.__dict__.get("_per_epoch")
        if cache is None:
            # written to __dict__ directly: skorch's __setattr__ is slow, and this
            # private cache is no net attribute
            cache = self.__dict__["_per_epoch"] = {}
        return cache

    def _listeners(self, method_name):
        """The bound methods a per-batch hook calls, in skorch's order (net first)."""
        cache = self._epoch_cache()
        hooks = cache.get(method_name)
        if hooks is None:
            hooks = [] if _hook_is_noop(self, method_name, NeuralNet) else [
                getattr(self, method_name)]
            hooks += [getattr(cb, method_name) for _, cb in self.callbacks_
                      if not _hook_is_noop(cb, method_name, Callback)]
            cache[method_name] = hooks
        return hooks

    def _mode_modules(self):
        """Every module and criterion (with submodules), or None if one overrides
        ``train``; listed once per epoch during training, afresh otherwise."""
        cache = self.__dict__.get("_per_epoch")
        if cache is not None and "modes" in cache:
            return cache["modes"]
        tops = [getattr(self, name + "_") for name in self._modules + self._criteria]
        lists = [_mode_members(m) for m in tops if isinstance(m, torch.nn.Module)]
        members = None if None in lists else tuple(m for ms in lists for m in ms)
        if cache is not None:
            cache["modes"] = members
        return members

    def _set_training(self, training=True):
        """skorch's ``_set_training``, skipped when every module already is in that
        mode (``nn.Module.train`` walks the tree through the slow ``__setattr__``)."""
        members = self._mode_modules()
        if members is not None and all(m.training is training for m in members):
            return
        super()._set_training(training)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """skorch's ``get_loss``; ``to_tensor`` skipped for a tensor already on the
        net's device (BatchLoader's batches are), which it would return unchanged."""
        if not (isinstance(y_true, torch.Tensor) and (
                self.device is None or y_true.device == torch.device(self.device))):
            y_true = to_tensor(y_true, device=self.device)
        return self.criterion_(y_pred, y_true)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        """Open the batch's history row; ``History.new_batch`` reaches it through
        ``History.__getitem__``, which copies the list of all epochs on every call."""
        if type(self.history) is History:
            list.__getitem__(self.history, -1)["batches"].append({})
        else:
            super().on_batch_begin(net, batch=batch, training=training, **kwargs)

    def _notify_grad_computed(self, batch):
        if self._listeners("on_grad_computed"):  # gradient clipping listens
            super()._notify_grad_computed(batch)

    def _unobserved_batches(self):
        """Whether no hook runs during an epoch but the net's own ``on_batch_begin``
        (so nothing can read a batch's history row)."""
        begin = self._listeners("on_batch_begin")
        return (len(begin) == 1
                and getattr(begin[0], "__func__", None) is FastEpochMixin.on_batch_begin
                and not self._listeners("on_grad_computed")
                and not self._listeners("on_batch_end"))

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch loop: the same hooks and history entries, in the same order.

        When nothing can look at the history during the epoch, the batch losses are
        read with one ``.tolist()`` when the epoch ends (or breaks off) instead of
        one ``.item()`` per batch, which on a GPU also saves a sync per batch.
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
