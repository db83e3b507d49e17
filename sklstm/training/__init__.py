"""The training loop: a skorch net that accumulates gradients, and what it steps with.

* :class:`SequenceNet`: gradient accumulation on skorch's documented hooks
  (:mod:`sklstm.training.net`); the estimators use :func:`net_class`, which adds the
  per-batch speed-ups of :mod:`sklstm.training._fast_epoch` on verified skorch
  versions.
* :mod:`~sklstm.training.optimizers`: the optimizer names and sklstm's defaults.
* :mod:`~sklstm.training.lr_scaling`: learning rate against the effective batch.
* :class:`BatchSizeSchedule`: a callback that grows the effective batch (through
  gradient accumulation) on a loss plateau instead of decaying the learning rate.

The tensors the net trains on and the iterator that cuts them into batches live in
the data layer, :mod:`sklstm.data` (``SequenceDataset``, ``BatchLoader``).
"""

import warnings

from ..data import BatchLoader as _BatchLoader
from ..data import SequenceDataset as _SequenceDataset
from ._fast_epoch import FastSequenceNet, fast_epoch_supported, net_class
from .batch_schedule import BatchSizeSchedule
from .lr_scaling import LR_SCALING_RULES, scaled_learning_rate, warmup_scheduler
from .net import SequenceNet

__all__ = [
    "LR_SCALING_RULES",
    "BatchSizeSchedule",
    "FastSequenceNet",
    "SequenceNet",
    "fast_epoch_supported",
    "net_class",
    "scaled_learning_rate",
    "warmup_scheduler",
]


def __getattr__(name):
    # sklstm 0.2.0.dev published the data layer's two classes here as well
    if name in ("BatchLoader", "SequenceDataset"):
        warnings.warn(f"sklstm.training.{name} moved to sklstm.data.{name}; the old path "
                      "stops working in sklstm 0.3.", FutureWarning, stacklevel=2)
        return {"BatchLoader": _BatchLoader, "SequenceDataset": _SequenceDataset}[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
