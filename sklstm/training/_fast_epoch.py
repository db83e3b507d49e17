"""The per-batch speed-ups of the training loop, kept apart from the loop itself.

Why this exists: skorch pays a few microseconds per batch for work that is constant
within an epoch (looking up every callback's hooks, walking the module tree to set
train mode, ``History.__getitem__`` copying the list of epochs, one ``.item()`` per
batch). A small LSTM's whole step takes a few hundred microseconds on a CPU, so
together they cost a measurable share of a fit (docs/performance.rst has the
figure). :class:`FastEpochMixin` does the same work once per epoch.

It overrides skorch internals (``run_single_epoch``, ``notify``, ``_set_training``),
so it is used only on the skorch versions it was verified against
(:data:`VERIFIED_SKORCH`; ``tests/test_training_hooks.py`` checks that it gives the
same history and weights as skorch's own methods), and on any other version the
estimators train with the plain :class:`~sklstm.training.SequenceNet`.
"""

from __future__ import annotations

import skorch
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import get_len
from skorch.history import History
from skorch.utils import to_tensor

from .net import SequenceNet

__all__ = ["VERIFIED_SKORCH", "FastSequenceNet", "fast_epoch_supported", "net_class"]

#: skorch (major, minor) versions whose loop the mixin was verified against, inclusive.
VERIFIED_SKORCH = ((1, 1), (1, 4))

# skorch notifies these once per batch
_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")
_TRAIN = torch.nn.Module.train


def fast_epoch_supported(version=None):
    """Whether the installed (or given) skorch version is one the mixin was verified on.

    Parameters
    ----------
    version : str or None, default=None
        A skorch version string such as ``"1.2.0"``; None checks the installed
        skorch.

    Returns
    -------
    bool
        True if the version's ``(major, minor)`` lies within
        :data:`VERIFIED_SKORCH`; False otherwise, also for a version string that
        does not start with two integers.

    Examples
    --------
    >>> fast_epoch_supported("1.2.0"), fast_epoch_supported("2.0.0")
    (True, False)
    """
    parts = (version or skorch.__version__).split(".")
    try:
        major_minor = (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        return False
    return VERIFIED_SKORCH[0] <= major_minor <= VERIFIED_SKORCH[1]


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


class FastSequenceNet(FastEpochMixin, SequenceNet):
    """:class:`~sklstm.training.SequenceNet` with the per-batch speed-ups.

    Trains exactly as :class:`~sklstm.training.SequenceNet` (the same history and
    weights), but does skorch's per-batch bookkeeping (callback hook lookups, train
    mode, history access, one ``.item()`` per batch) once per epoch. It overrides
    skorch internals, so use it only where :func:`fast_epoch_supported` is True;
    :func:`net_class` chooses.

    """


# the same constructor as SequenceNet: its Parameters section is this class's too
FastSequenceNet.__doc__ += SequenceNet.__doc__[SequenceNet.__doc__.index("    Parameters"):]


def net_class():
    """The net class the estimators train with on the installed skorch.

    Returns
    -------
    type
        :class:`FastSequenceNet` if :func:`fast_epoch_supported`, else
        :class:`~sklstm.training.SequenceNet`.

    Examples
    --------
    >>> net_class().__name__ in ("FastSequenceNet", "SequenceNet")
    True
    """
    return FastSequenceNet if fast_epoch_supported() else SequenceNet
