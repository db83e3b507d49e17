"""The data layer: what every estimator and transformer does with sequence input.

One way through, in this order (each module one stage)::

    X (array, DataFrame, ragged list, token ids, SequenceStore, memory-mapped array)
      -> validation.py  validate_sequences: checks, fitted feature bookkeeping
      -> containers.py  the container form, and back to it for transformers
      -> timesteps.py   resample (downsample), cut (seq_len), pad: Sequences
                        (steps.py: the cutting and padding of one sequence or batch;
                        streaming.py: the same per batch for a store, its values
                        checked in one pass, and an array's averaging by chunks)
      -> tensors.py     SequenceDataset: torch tensors, built once per call (a
                        store's rows are read per batch instead)
      -> batching.py    BatchLoader: batches by index (a store's read ahead on a
                        thread); split_batch: micro-batches

Nothing after ``validation.py`` looks at the user's container again.

Public here: :class:`SequenceStore` (sequences kept on disk, read by the batch: data
larger than memory) and :func:`csv_to_store` (a CSV file written into one a chunk of
rows at a time), and, for reusing the training loop with your own skorch setup,
:class:`SequenceDataset` (the tensors a net trains on) and :class:`BatchLoader` (the
iterator that cuts them into batches). The stage modules are internal.
"""

from .batching import BatchLoader
from .store import SequenceStore
from .store_csv import csv_to_store
from .tensors import SequenceDataset

__all__ = ["BatchLoader", "SequenceDataset", "SequenceStore", "csv_to_store"]
