"""The training loop: a skorch net that accumulates gradients, and what it steps with.

* :class:`SequenceNet`: gradient accumulation on skorch's documented hooks
  (:mod:`sklstm.training.net`), trained in sklstm's one epoch loop
  (:mod:`sklstm.training.loop`: skorch's hooks and history, no tensor read per batch).
* :mod:`~sklstm.training.optimizers`: the optimizer names and sklstm's defaults.
* :mod:`~sklstm.training.lr_scaling`: learning rate against the effective batch.
* :class:`BatchSizeSchedule`: a callback that grows the effective batch (through
  gradient accumulation) on a loss plateau instead of decaying the learning rate.

The tensors the net trains on and the iterator that cuts them into batches live in
the data layer, :mod:`sklstm.data` (``SequenceDataset``, ``BatchLoader``).
"""

import warnings

from .._compat.skorch import verified as _skorch_verified
from ..data import BatchLoader as _BatchLoader
from ..data import SequenceDataset as _SequenceDataset
from .batch_schedule import BatchSizeSchedule
from .lr_scaling import LR_SCALING_RULES, scaled_learning_rate, warmup_scheduler
from .net import SequenceNet

__all__ = [
    "LR_SCALING_RULES",
    "BatchSizeSchedule",
    "SequenceNet",
    "scaled_learning_rate",
    "warmup_scheduler",
]


def _net_class():
    """The net class the estimators train with: :class:`SequenceNet` (deprecated)."""
    return SequenceNet


#: sklstm 0.2.0.dev's names of the second training loop (one loop is left:
#: SequenceNet's), what they stand for now, and what to use instead
_REMOVED_LOOP = {
    "FastSequenceNet": (SequenceNet, "use sklstm.training.SequenceNet, which trains "
                        "in sklstm's one epoch loop"),
    "net_class": (_net_class, "the estimators always train a sklstm.training.SequenceNet"),
    "fast_epoch_supported": (_skorch_verified, "the epoch loop is the same on every skorch"),
}


def __getattr__(name):
    # sklstm 0.2.0.dev published the data layer's two classes here as well
    if name in ("BatchLoader", "SequenceDataset"):
        warnings.warn(f"sklstm.training.{name} moved to sklstm.data.{name}; the old path "
                      "stops working in sklstm 0.3.", FutureWarning, stacklevel=2)
        return {"BatchLoader": _BatchLoader, "SequenceDataset": _SequenceDataset}[name]
    if name in _REMOVED_LOOP:
        value, advice = _REMOVED_LOOP[name]
        warnings.warn(f"sklstm.training.{name} was removed in sklstm 0.2 with the second "
                      f"training loop; {advice}. The old name stops working in sklstm 0.3.",
                      FutureWarning, stacklevel=2)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
