"""Training data held as tensors, built once per ``fit`` and sliced by index."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from ..resources.device import fits_on_device
from .relative import RelativeArray
from .streaming import StreamedRows, iter_row_chunks

__all__ = ["SequenceDataset", "padded_widths"]

#: Padded batches are cut to their longest sequence rounded up to a multiple of this.
#: The LSTM kernels (oneDNN on the CPU, cuDNN on the GPU) build a plan for every new
#: batch shape, ~9 ms on the CPU for a small LSTM (benchmarks/bench_step_costs.py), as
#: much as ~170 timesteps of compute. Cut to the exact longest length, batches of
#: varying length keep meeting new shapes; rounded, at most ``max_len / 8`` shapes
#: exist, for ~4 padded steps a batch.
LENGTH_MULTIPLE = 8


class SequenceDataset(Dataset):
    """Padded sequences, their lengths and targets as tensors.

    Built once from validated :class:`~sklstm.data.timesteps.Sequences`; batches are
    taken with :meth:`take` by index slicing instead of collating samples one by
    one, which is what keeps the per-batch overhead of small models low. Data from a
    :class:`~sklstm.data.store.SequenceStore` stay where they are: ``X`` is then the
    :class:`~sklstm.data.streaming.StreamedRows` that :meth:`take` reads a batch from
    (:attr:`streamed`), and only the targets and lengths are tensors.

    Parameters
    ----------
    X : torch.Tensor, ndarray or StreamedRows
        ``(n_samples, n_timesteps, n_features)`` float or ``(n_samples,
        n_timesteps)`` token ids, right-padded; or the streamed rows of a store.
    y : torch.Tensor, ndarray or None, default=None
        Targets, first axis ``n_samples``; None at prediction time.
    lengths : torch.Tensor, array-like or None, default=None
        True lengths, kept as an int64 CPU tensor (``pack_padded_sequence`` wants them
        on the CPU); None when no sequence is padded. Batches carry theirs as numpy
        arrays (:attr:`host_lengths`): their longest and shortest are read on the
        host without reading a tensor into Python.
    device : torch.device, str or None, default=None
        Where batches must end up; ``X`` and ``y`` may already live there. None
        means the CPU.
    anchors : torch.Tensor, ndarray or None, default=None
        ``(n_samples, n_features)`` float64, subtracted from the valid steps of every
        batch's rows as it is taken, in float64, the result rounded to float32 (the
        padding stays 0): the rows of ``relative`` estimators
        (:func:`~sklstm.data.relative.relative_sequences`), never made relative all at
        once. ``X`` then holds float rows on the CPU.
    """

    def __init__(self, X, y=None, lengths=None, device=None, anchors=None):
        # numpy arrays and lengths of any integer dtype or device accepted too (the class
        # is public): they failed at the first batch, in torch's or numpy's words
        self.X = torch.from_numpy(X) if isinstance(X, np.ndarray) else X
        self.y = torch.from_numpy(y) if isinstance(y, np.ndarray) else y
        self.lengths = (None if lengths is None
                        else torch.as_tensor(lengths, dtype=torch.int64).cpu())
        # (a view of the same memory: the one read of the lengths into numpy)
        self.host_lengths = None if lengths is None else self.lengths.numpy()
        # (a name too, as skorch's device="cuda": its .type was an AttributeError)
        self.device = torch.device("cpu" if device is None else device)
        self.anchors = (None if anchors is None
                        else torch.as_tensor(anchors, dtype=torch.float64).cpu())

    @classmethod
    def from_sequences(cls, sequences, y=None, device=None, memory_limit=None):
        """Build tensors from validated sequences, on ``device`` when they fit.

        Parameters
        ----------
        sequences : Sequences
            Output of :func:`~sklstm.data.timesteps.to_sequences`.
        y : ndarray or None
            Encoded targets (int64 class indices or float32 values).
        device : torch.device, str or None, default=None
            None means the CPU.
        memory_limit : int or None, default=None
            The fit's memory budget in bytes: on an accelerator the data stay in
            (pinned) host memory unless they take at most half of it (and of the
            device's free memory).
        """
        device = torch.device("cpu" if device is None else device)
        y_t = None if y is None else torch.from_numpy(np.ascontiguousarray(y))
        lengths = None if sequences.lengths is None else torch.from_numpy(sequences.lengths)
        if isinstance(sequences.values, StreamedRows):  # read by the batch, never whole
            return cls(sequences.values, y_t, lengths, device)
        if isinstance(sequences.values, RelativeArray):
            return cls._relative(sequences.values, y_t, lengths, device, memory_limit)
        X = torch.from_numpy(sequences.values)
        n_bytes = X.nbytes + (0 if y_t is None else y_t.nbytes)
        if device.type != "cpu":
            if fits_on_device(n_bytes, device, limit=memory_limit):
                X = X.to(device)
                y_t = None if y_t is None else y_t.to(device)
            else:  # batches are copied one by one; pinned memory makes that async
                X = X.pin_memory()
                y_t = None if y_t is None else y_t.pin_memory()
        return cls(X, y_t, lengths, device)

    @classmethod
    def _relative(cls, rows, y, lengths, device, memory_limit):
        """The dataset of relative rows (:class:`~sklstm.data.relative.RelativeArray`):
        on an accelerator where they fit, made once onto it, a chunk at a time (as
        other rows are copied there whole); elsewhere the validated rows, made relative
        by each batch (:meth:`take`), never all at once."""
        n_bytes = int(np.prod(rows.shape)) * 4 + (0 if y is None else y.nbytes)
        if device.type != "cpu" and fits_on_device(n_bytes, device, limit=memory_limit):
            return cls(_onto(rows, device), None if y is None else y.to(device), lengths,
                       device)
        return cls(rows.values, y, lengths, device, anchors=rows.anchors)

    @property
    def on_accelerator(self):
        """Whether the whole data set was copied to an accelerator (and counts there)."""
        return not self.streamed and self.X.device.type != "cpu"

    @property
    def streamed(self):
        """Whether batches are read from a store (worth reading ahead of the training)."""
        return isinstance(self.X, StreamedRows)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        """Sample ``i``, as torch's ``DataLoader`` (and so skorch's default iterators)
        collates it: ``(x, y)`` without a batch axis, ``x`` a dict ``{"x", "lengths"}``
        for padded data, a ``y`` of 0 (skorch's placeholder) where there are no targets.

        A batch of one here made a ``DataLoader``'s batches ``(B, 1, T, F)``, which the
        network refused in torch's words. Training takes batches with :meth:`take`.
        """
        x = (torch.from_numpy(self.X.rows(np.array([i]))[0]) if self.streamed
             else self.X[i])  # (full width: a DataLoader stacks samples of one width)
        if self.anchors is not None:
            x = _minus_anchors(x[None], self.anchors[i][None],
                               None if self.lengths is None else self.host_lengths[[i]])[0]
        y = torch.zeros(1) if self.y is None else self.y[i]
        return (x if self.lengths is None else {"x": x, "lengths": self.lengths[i]}), y

    def take(self, idx, lengths=None):
        """One batch: ``(X_batch, y_batch)`` for the samples at ``idx``.

        ``X_batch`` is a tensor, or ``{"x": tensor, "lengths": ndarray}`` when the
        data are padded; padded batches are cut to their longest member (rounded
        up to a multiple of :data:`LENGTH_MULTIPLE`) so short batches cost less.

        Parameters
        ----------
        idx : torch.Tensor or slice
            CPU int64 indices (or on the device that holds ``X``), or a slice for
            sequential batches (a view, no copy).
        lengths : ndarray or None, default=None
            The batch's true lengths, ``host_lengths`` at ``idx``, when the caller
            has them (:class:`~sklstm.data.batching.BatchLoader` reads an epoch's in
            one go, so that no batch reads an index tensor into Python); None reads
            them here. Ignored for data without padding.

        Returns
        -------
        X_batch : torch.Tensor or dict
            The batch's sequences on ``device``, or ``{"x": tensor, "lengths":
            ndarray}`` for padded data, with the lengths an int64 array on the host.
        y_batch : torch.Tensor or None
            The batch's targets on ``device``; None when the dataset has no
            targets.
        """
        if self.lengths is None:
            lengths = None
        elif lengths is None:
            lengths = self.host_lengths[idx if isinstance(idx, slice) else idx.cpu().numpy()]
        if self.streamed:
            return self._read(idx, lengths)
        # cut to the batch's longest sequence *before* gathering, so the padding
        # beyond it is never copied (and gathered batches come out contiguous)
        if lengths is None:
            X = self.X
        else:
            # (beyond the stored width a slice just stops)
            X = self.X[:, :_rounded(int(lengths.max()))]  # (numpy: no tensor read)
        if isinstance(idx, slice):
            X, y = X[idx], (None if self.y is None else self.y[idx])
        elif self.X.device != self.device and self.X.is_pinned():
            # gathered into pinned memory, or the copy below could not be asynchronous
            X, y = _pinned_gather(X, idx), (None if self.y is None
                                           else _pinned_gather(self.y, idx))
        else:
            dev_idx = idx if self.X.device == idx.device else idx.to(self.X.device)
            X = X.index_select(0, dev_idx)
            y = None if self.y is None else self.y.index_select(0, dev_idx)
        if self.anchors is not None:  # relative rows: made so per batch, where gathered
            # (X and idx on the host: the rows of an accelerator's data are made there once)
            X = _minus_anchors(X, self.anchors[idx] if isinstance(idx, slice)
                               else self.anchors.index_select(0, idx), lengths)
        if X.device != self.device:
            X = X.to(self.device, non_blocking=True)
            y = None if y is None else y.to(self.device, non_blocking=True)
        if lengths is None:
            return X, y
        return {"x": X, "lengths": lengths}, y


    def _read(self, idx, lengths):
        """A batch of a streamed dataset, read from its store."""
        positions = (np.arange(*idx.indices(len(self))) if isinstance(idx, slice)
                     else idx.numpy())
        width = None if lengths is None else _rounded(int(lengths.max()))
        X = torch.from_numpy(self.X.rows(positions, width))
        y = None if self.y is None else self.y[idx]
        if self.device.type != "cpu":  # pinned, so the copy need not wait
            X = X.pin_memory().to(self.device, non_blocking=True)
            y = None if y is None else y.pin_memory().to(self.device, non_blocking=True)
        if lengths is None:
            return X, y
        return {"x": X, "lengths": lengths}, y


def _rounded(longest):
    """``longest`` rounded up to a multiple of :data:`LENGTH_MULTIPLE` (an int or an
    array of them)."""
    return -(-longest // LENGTH_MULTIPLE) * LENGTH_MULTIPLE


def padded_widths(lengths):
    """How many padded widths batches of sequences of ``lengths`` can take: their
    longest lengths rounded as :meth:`SequenceDataset.take` rounds them.

    Parameters
    ----------
    lengths : array-like of int or None
        The sequences' lengths; None where none is padded.

    Returns
    -------
    int
        Distinct widths (1 where no sequence is padded).

    Examples
    --------
    >>> padded_widths([3, 7, 8, 9, 20])
    3
    >>> padded_widths(None)
    1
    """
    if lengths is None:
        return 1
    return max(1, len(np.unique(_rounded(np.asarray(lengths, dtype=np.int64)))))


def _pinned_gather(tensor, idx):
    """``tensor[idx]`` gathered into page-locked memory (torch's pinned host cache)."""
    out = torch.empty((len(idx), *tensor.shape[1:]), dtype=tensor.dtype, pin_memory=True)
    return torch.index_select(tensor, 0, idx, out=out)


def _onto(rows, device):
    """All of ``rows`` (a :class:`~sklstm.data.relative.RelativeArray`) as one float32
    tensor on ``device``, made and copied there a chunk of rows at a time."""
    out = torch.empty(rows.shape, dtype=torch.float32, device=device)
    for start, chunk in iter_row_chunks(rows):
        out[start:start + len(chunk)] = torch.from_numpy(chunk)
    return out


def _minus_anchors(rows, anchors, lengths):
    """A batch's ``rows`` minus their ``anchors`` in float64, rounded to float32 once,
    the padding (beyond ``lengths``, a numpy array or None) left 0.

    The arithmetic of :func:`~sklstm.data.streaming.minus_anchors` (IEEE float64
    subtraction and rounding: the same numbers), in torch: a batch's tensors read into
    numpy for it would be a conversion per batch, which the training loop has none of
    (tests/training/test_host_sync.py).
    """
    out = rows.to(torch.float64) - anchors[:, None, :]  # (a new tensor: rows untouched)
    if lengths is not None:
        steps = torch.arange(out.shape[1])
        out.masked_fill_((steps[None, :] >= torch.as_tensor(lengths)[:, None])[:, :, None],
                         0.0)
    return out.to(torch.float32)
