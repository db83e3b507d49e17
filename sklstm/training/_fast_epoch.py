"""The per-batch speed-ups of the training loop, kept apart from the loop itself.

Why this exists: skorch pays a few microseconds per batch for work that is constant
within an epoch (looking up every callback's hooks, walking the module tree to set
train mode, ``History.__getitem__`` copying the list of epochs, one ``.item()`` per
batch). A small LSTM's whole step takes a few hundred microseconds on a CPU, so
together they cost a measurable share of a fit (docs/performance.rst has the
figure). :class:`FastEpochMixin` does the same work once per epoch.

It overrides skorch internals (``run_single_epoch``, ``notify``, ``_set_training``),
so it lives with sklstm's other uses of skorch internals in
:mod:`sklstm._compat.skorch` and is used only on the skorch versions they were
verified against (:data:`VERIFIED_SKORCH`; ``tests/training/test_fast_epoch.py``
checks that it gives the same history and weights as skorch's own methods); on any
other version the estimators train with the plain :class:`~sklstm.training.SequenceNet`.
"""
from __future__ import annotations

from .._compat.skorch import VERIFIED as VERIFIED_SKORCH
from .._compat.skorch import FastEpochMixin, verified
from .net import SequenceNet

__all__ = ["VERIFIED_SKORCH", "FastSequenceNet", "fast_epoch_supported", "net_class"]


#: Whether the installed (or given) skorch is one the mixin was verified on.
fast_epoch_supported = verified


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
