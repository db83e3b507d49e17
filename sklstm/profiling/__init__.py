"""Profiling training steps: throughput and peak memory over batch sizes and lengths.

:func:`profile_batch_sizes` trains a copy of an estimator for a few real steps at
every pair of batch size and sequence length asked for, and returns what they took:
samples per second, mean step time, peak memory and whether that fits a memory
budget. :func:`plot_batch_profile` (also the ``plot()`` method of the returned
table) draws throughput and peak memory against the batch size.

Why measured rather than computed: an LSTM step's time depends on the kernels the
device picks for each shape (oneDNN on the CPU, cuDNN on the GPU), and its memory
on what the allocator keeps; neither follows a formula closely enough to choose a
batch size by.
"""

from ._plot import plot_batch_profile
from ._profile import COLUMNS, TIMER, profile_batch_sizes

# BatchSizeProfile is public too, but made on first use (it needs pandas), so it is
# left out of __all__: a star import must work without pandas
__all__ = ["COLUMNS", "TIMER", "plot_batch_profile", "profile_batch_sizes"]


def __getattr__(name):
    if name == "BatchSizeProfile":
        from ._table import _profile_class

        return _profile_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
