"""Where batches are cut: batches by index slicing (with length bucketing), micro-batches.

skorch's default ``DataLoader`` fetches and collates samples one at a time,
which costs more than a small LSTM's forward pass. :class:`BatchLoader` draws
one permutation per epoch and slices the tensors of a
:class:`~sklstm.data.tensors.SequenceDataset` directly. :func:`split_batch` cuts
one effective batch into the micro-batches of gradient accumulation.
"""

from __future__ import annotations

import itertools
import math
import operator
import os
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from torch.utils.data import Subset

__all__ = ["READ_AHEAD", "BatchLoader", "split_batch"]

#: Batches a loader over a store (:attr:`SequenceDataset.streamed`) reads ahead of
#: the one training. Two keep the reader busy while a step runs without holding more
#: than a few batches in memory.
READ_AHEAD = 2
#: Positions a Subset's order is gathered in at a time (:func:`_gathered`): 8 MiB of int64.
GATHER_CHUNK = 2**20


def _unwrap(dataset):
    """Base dataset and CPU indices into it (skorch's ValidSplit yields Subsets)."""
    if isinstance(dataset, Subset):
        base, indices = _unwrap(dataset.dataset)
        sub = torch.as_tensor(dataset.indices, dtype=torch.int64)
        return base, (sub if indices is None else indices[sub])
    return dataset, None


class BatchLoader:
    """Iterable over the batches of a :class:`~sklstm.data.tensors.SequenceDataset`.

    Used by skorch as ``iterator_train`` / ``iterator_valid``. Each pass
    (epoch) draws a fresh permutation from the loader's own generator, so
    shuffling is reproducible under a seed and does not touch torch's global
    random state. The order of samples does not depend on ``batch_size``, which
    is what makes ``batch_size=B*k`` and ``batch_size=B`` with ``k``
    accumulation steps see exactly the same samples per update.

    Parameters
    ----------
    dataset : SequenceDataset or torch.utils.data.Subset
        The data to cut into batches: a dataset or a (possibly nested) ``Subset``
        of one, as skorch's ``ValidSplit`` makes; batches are sliced from the
        underlying dataset.
    batch_size : int
        Samples per batch (the effective batch size: one optimizer step).
    shuffle : bool, default=False
        Draw a new random order every epoch.
    bucketing : bool, default=False
        Group sequences of similar length: the shuffled order is cut into
        chunks of ``bucket_batches`` batches, each chunk is sorted by length and
        cut into batches, and the batches are shuffled. Padding waste then
        shrinks while every epoch still sees a different random order. The sort
        is jittered (each sample may move by up to one batch in the sorted
        order), so the batches themselves, not only their order, change from
        epoch to epoch even when one chunk holds the whole dataset. Has no
        effect for data without padding.
    bucket_batches : int, default=50
        Batches per sorted chunk when bucketing.
    seed : int or None, default=None
        Seed of the shuffling generator (drawn from torch's global generator
        when None).
    start_epoch : int or sequence of int, default=0
        Epochs already trained (a fit resumed from a checkpoint): their orders are
        drawn and dropped, so the next epoch gets the order it would have had. Or the
        effective batch size of each of them, where it changed between epochs (a
        :class:`~sklstm.training.BatchSizeSchedule`): bucketed orders depend on it, so
        they are replayed with the size each epoch had.
    """

    def __init__(self, dataset, batch_size, shuffle=False, bucketing=False,
                 bucket_batches=50, seed=None, start_epoch=0):
        self.dataset = dataset
        self.batch_size = _count(batch_size, "batch_size")
        self.shuffle = shuffle
        self.bucketing = bucketing
        self.bucket_batches = _count(bucket_batches, "bucket_batches")
        self._base, self._indices = _unwrap(dataset)
        self._generator = None
        if shuffle:  # sequential loaders (prediction) must not touch any RNG
            self._generator = torch.Generator()
            if seed is None:
                seed = int(torch.randint(2**62, (1,)))
            self._generator.manual_seed(int(seed))  # (torch refuses a numpy integer)
            self._replay(start_epoch)

    def _replay(self, start_epoch):
        """Draw and drop the orders of the epochs done (``start_epoch``: their number,
        or each one's batch size)."""
        batch_size = self.batch_size
        sizes = ([batch_size] * int(start_epoch) if np.ndim(start_epoch) == 0
                 else list(start_epoch))
        try:
            for size in sizes:  # (bucketing draws a shuffle of the epoch's batches)
                self.batch_size = _count(size, "start_epoch's batch sizes")
                self._epoch_batches()
        finally:
            self.batch_size = batch_size

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return None if self._indices is None else self._indices
        # int32 positions where they fit: an epoch's order is held while it trains, and
        # int64 made it 8 bytes a sample (randperm draws the same order in either dtype)
        dtype = _index_dtype(len(self._base))
        perm = torch.randperm(n, generator=self._generator, dtype=dtype)
        return perm if self._indices is None else _gathered(self._indices, perm)

    def _bucketed(self, order):
        """The epoch's order cut into batches of similar length, in shuffled order."""
        chunk = self.batch_size * self.bucket_batches
        batches = []
        for start in range(0, len(order), chunk):
            part = order[start:start + chunk]
            # rank by length (ties in shuffled order), then add up to one batch of
            # random rank: neighbours in length trade places, so batch contents
            # vary between epochs while a batch still spans a narrow length range
            # (lengths gathered a chunk at a time: the epoch's were 8 bytes a sample)
            rank = torch.argsort(torch.argsort(self._base.lengths[part], stable=True))
            jitter = torch.rand(len(part), generator=self._generator) * self.batch_size
            batches.extend(part[torch.argsort(rank + jitter)].split(self.batch_size))
        shuffled = torch.randperm(len(batches), generator=self._generator).tolist()
        return _joined([batches[i] for i in shuffled], order)

    def _epoch_batches(self):
        """One epoch's ``(order, batches)``: the order as one index tensor, the batches
        views of it; None for sequential, unshuffled passes."""
        order = self._order()
        if order is None:
            return None
        if self.bucketing and self.shuffle and self._base.lengths is not None:
            return self._bucketed(order)
        return order, order.split(self.batch_size)

    def __iter__(self):
        epoch = self._epoch_batches()
        if epoch is None:  # sequential over the whole dataset: slices are views
            order, batches = None, [slice(start, start + self.batch_size)
                                    for start in range(0, len(self.dataset), self.batch_size)]
        else:
            order, batches = epoch
        if getattr(self._base, "streamed", False):  # (read from a store: numpy anyway)
            yield from _read_ahead(self._base.take, batches)
            return
        lengths = _batch_lengths(self._base, order, batches)
        for idx, batch_lengths in zip(_where_the_data_live(self._base, order, batches),
                                      lengths, strict=True):
            yield self._base.take(idx, batch_lengths)


def _index_dtype(n_samples):
    """The dtype of positions into ``n_samples`` samples: int32 where they fit."""
    return torch.int32 if n_samples <= np.iinfo(np.int32).max else torch.int64


def _gathered(indices, positions):
    """``indices[positions]`` in the dtype of ``positions``, a chunk at a time.

    A Subset's indices are int64 (scikit-learn's split); gathered whole, the epoch's
    order was first an int64 copy of them, 8 bytes a sample, then cut to int32.
    """
    if indices.dtype == positions.dtype:
        return indices[positions]
    out = torch.empty(len(positions), dtype=positions.dtype)
    for start in range(0, len(positions), GATHER_CHUNK):
        part = positions[start:start + GATHER_CHUNK]
        out[start:start + len(part)] = indices[part]
    return out


def _joined(batches, order):
    """``batches`` as views of one order tensor (their concatenation): one array of the
    epoch's positions, not one per bucket and another for :func:`_batch_lengths`."""
    if not batches:
        return order, []
    joined = torch.cat(batches)
    return joined, joined.split([len(idx) for idx in batches])


def _count(value, name):
    """``value`` as the positive Python int it must be (what torch's ``split`` takes).

    A numpy integer, as a grid of ``np.arange`` or skorch passes on a net's
    ``batch_size``, failed at the first shuffled epoch in torch's words
    ("split_with_sizes(): ... must be tuple of ints"), and 0 in range()'s.
    """
    try:
        count = operator.index(value)
    except TypeError:
        count = None
    if count is None or isinstance(value, bool) or count < 1:
        raise ValueError(f"BatchLoader: {name} must be a positive integer; got {value!r}. "
                         "Pass a whole number (int(value)), at least 1.")
    return count


def _batch_lengths(base, order, batches):
    """Each batch's true lengths as a numpy array (None for data without padding).

    The epoch's order is read on the host once (a view of it, no copy), and each
    batch's lengths are gathered from it as the batch is taken: a batch then cuts its
    width, and the network decides whether it is padded, from numpy values, without
    reading an index or length tensor into Python per batch (on an accelerator such
    a read of device data would make the host wait for the device). Gathered for the
    whole epoch at once, they were another 8 bytes a sample, held all epoch.
    """
    host = getattr(base, "host_lengths", None)
    if host is None:
        return itertools.repeat(None, len(batches))
    if order is None:  # sequential: views
        return (host[idx] for idx in batches)
    positions = order.numpy()  # (the epoch's one read of its order)
    ends = np.cumsum([len(idx) for idx in batches], dtype=np.int64)
    return (host[positions[end - len(idx):end]] for idx, end in zip(batches, ends, strict=True))


def _where_the_data_live(base, order, batches):
    """An epoch's index tensors, on the accelerator that holds the data.

    The order is drawn on the host (the loader's generator is a CPU generator, so a
    seed gives the same order on every device); copying each batch's indices to the
    device would make every batch wait for a host-to-device copy, so the epoch's
    indices go in one pinned, non-blocking copy. Padded data alike: their batches'
    lengths come from the host's order (:func:`_batch_lengths`), so no batch needs
    its indices on the host.
    """
    if order is None or not batches or not getattr(base, "on_accelerator", False):
        return batches
    device = base.X.device
    order = order.pin_memory().to(device, non_blocking=True)
    return order.split([len(idx) for idx in batches])


_READER = {}  # process id -> its one reading thread, made on first use


def _reader():
    """The one thread every loader over a store reads on, for the life of the process.

    One thread, not one per pass: glibc gives each new thread a malloc arena of its
    own and keeps what is freed there, so a thread per epoch or per prediction left a
    search's process holding several batches' worth of memory per pass (measured at
    8ebf232: 3-fold cross-validation on a 120 MiB store grew the resident set by
    324 MiB with a thread per pass, the fits alone by 56 MiB; not reproduced
    2026-12-07 by ``python benchmarks/bench_store_cv_memory.py --before DIR``, DIR
    holding 8ebf232's parent: 217 MiB with a thread per pass, 225 MiB with the one
    reading thread).
    """
    pid = os.getpid()  # a forked child has the executor but not its thread: a new one
    if pid not in _READER:
        _READER[pid] = ThreadPoolExecutor(1, thread_name_prefix="sklstm-read-ahead")
    return _READER[pid]


def _read_ahead(take, keys):
    """``take(key)`` for every key, :data:`READ_AHEAD` batches ahead, on a thread.

    Why a thread and not torch's ``DataLoader(num_workers=...)``: worker processes
    send every batch back through a pipe (a copy, plus pickling), while a thread
    shares the memory mapping; reading a batch is numpy copying and padding, which
    releases the GIL, so it overlaps the training step. The order of batches is
    decided before (the loader's generator is only used in this thread's caller).
    """
    keys = iter(keys)
    pool = _reader()
    pending = deque(pool.submit(take, key) for key in itertools.islice(keys, READ_AHEAD))
    try:
        while pending:
            batch = pending.popleft().result()
            for key in itertools.islice(keys, 1):
                pending.append(pool.submit(take, key))
            yield batch
    finally:  # a pass that stops early leaves no read of its own queued
        for future in pending:
            future.cancel()


def split_batch(X, size):
    """Cut a batch (tensor or dict) into micro-batches of ``size``.

    Every value of a dict (``{"x", "lengths"}`` of padded data, or the inputs of a
    custom module's ``forward``) is cut along its first axis: a key left out would
    reach the module only with the whole batch, not with its micro-batches. Padded
    micro-batches (those with ``"lengths"``) are cut again to their own longest
    sequence.

    Examples
    --------
    >>> import torch
    >>> [part.shape[0] for part in split_batch(torch.zeros(5, 3, 1), 2)]
    [2, 2, 1]
    """
    if not isinstance(X, Mapping):
        return list(X.split(size))
    parts = []
    # (samples counted on any value: a custom module's inputs need not hold an "x")
    n_samples = len(X["x"] if "x" in X else next(iter(X.values())))
    for start in range(0, n_samples, size):
        part = {key: value[start:start + size] for key, value in X.items()}
        if "lengths" in part:
            # (a batch's lengths are a numpy array: its longest is read with no tensor read)
            part["x"] = part["x"][:, : int(part["lengths"].max())]
        parts.append(part)
    return parts
