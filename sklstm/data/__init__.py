"""The data layer: what every estimator and transformer does with sequence input.

One way through, in this order (each module one stage)::

    X (array, DataFrame, ragged list, token ids)
      -> validation.py  validate_sequences: checks, fitted feature bookkeeping
      -> containers.py  the container form, and back to it for transformers
      -> timesteps.py   cut (seq_len), resample (downsample), pad: Sequences
      -> tensors.py     SequenceDataset: torch tensors, built once per call
      -> batching.py    BatchLoader: batches by index; split_batch: micro-batches

Nothing after ``validation.py`` looks at the user's container again.

Public here, for reusing the training loop with your own skorch setup:
:class:`SequenceDataset` (the tensors a net trains on) and :class:`BatchLoader` (the
iterator that cuts them into batches). The stage modules are internal.
"""

from .batching import BatchLoader
from .tensors import SequenceDataset

__all__ = ["BatchLoader", "SequenceDataset"]
