"""The training loop: a skorch net that accumulates gradients, and what it steps with.

* :class:`SequenceNet`: gradient accumulation on skorch's documented hooks
  (:mod:`sklstm.training.net`); the estimators use :func:`net_class`, which adds the
  per-batch speed-ups of :mod:`sklstm.training._fast_epoch` on verified skorch
  versions.
* :mod:`~sklstm.training.optimizers`: the optimizer names and sklstm's defaults.
* :mod:`~sklstm.training.lr_scaling`: learning rate against the effective batch.
* :class:`BatchSizeSchedule`: a callback that grows the effective batch (through
  gradient accumulation) on a loss plateau instead of decaying the learning rate.
* :class:`SequenceDataset` and :class:`BatchLoader`: the tensors the net trains on and
  the iterator that cuts them into batches (from the data layer, ``sklstm._data``),
  for reusing the loop with your own skorch setup.
"""

from .._data.batching import BatchLoader
from .._data.tensors import SequenceDataset
from ._fast_epoch import FastSequenceNet, fast_epoch_supported, net_class
from .batch_schedule import BatchSizeSchedule
from .lr_scaling import LR_SCALING_RULES, scaled_learning_rate, warmup_scheduler
from .net import SequenceNet

__all__ = [
    "LR_SCALING_RULES",
    "BatchLoader",
    "BatchSizeSchedule",
    "FastSequenceNet",
    "SequenceDataset",
    "SequenceNet",
    "fast_epoch_supported",
    "net_class",
    "scaled_learning_rate",
    "warmup_scheduler",
]
