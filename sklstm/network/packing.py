"""Packing a padded batch for the LSTM without making the host wait for the device.

torch's ``pack_padded_sequence(..., enforce_sorted=False)`` sorts the lengths on the
host and copies the order to the device by a blocking copy, and
``pad_packed_sequence`` copies the inverse order back to the host to reorder the
lengths it returns: two host-device synchronizations per batch on a GPU, where the
bidirectional LSTM runs padded batches packed (:mod:`sklstm.network.lstm`). Here the
order is sorted on the host, where the lengths are, and copied to the device without
waiting (:func:`~sklstm.resources.device.copy_to`); packing and unpacking themselves
are torch's.
"""

from __future__ import annotations

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from ..resources.device import copy_to

__all__ = ["pack", "runs_packed", "unpack"]


def runs_packed(x):
    """Whether a bidirectional LSTM runs the padded batch ``x`` packed: off the CPU, where
    cuDNN runs packed sequences fused (on the CPU the packed kernel is unfused and its
    backward pass took 19x the dense one's in ``benchmarks/bench_step_costs.py``, so the
    network runs padded batches densely there, :mod:`sklstm.network.lstm`)."""
    return x.device.type != "cpu"


def pack(x, lengths):
    """``pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)``,
    with the batch's order copied to the device without a wait.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_timesteps, n_features)
        Right-padded sequences.
    lengths : torch.Tensor of shape (batch,)
        Their lengths, on the CPU.

    Returns
    -------
    torch.nn.utils.rnn.PackedSequence
        Carrying both permutations (on ``x``'s device), so that ``nn.LSTM`` returns its
        final states in the batch's order, as for torch's own packing.

    Examples
    --------
    >>> import torch
    >>> packed = pack(torch.zeros(3, 4, 1), torch.tensor([2, 4, 3]))
    >>> packed.batch_sizes.tolist(), packed.sorted_indices.tolist()
    ([3, 3, 2, 1], [1, 2, 0])
    """
    order = torch.argsort(lengths, descending=True, stable=True)
    sorted_indices = copy_to(order, x.device)
    unsorted_indices = copy_to(torch.argsort(order), x.device)
    packed = pack_padded_sequence(x.index_select(0, sorted_indices), lengths[order],
                                  batch_first=True)
    return PackedSequence(packed.data, packed.batch_sizes, sorted_indices,
                          unsorted_indices)


def unpack(packed, total_length):
    """``pad_packed_sequence(packed, batch_first=True, total_length=...)[0]``: the padded
    outputs in the batch's order, reordered on the device (torch's reads the order
    back to the host to reorder the lengths, which are not needed here).

    Parameters
    ----------
    packed : torch.nn.utils.rnn.PackedSequence
        An LSTM's output over :func:`pack`'s sequence.
    total_length : int
        The padded width to return.

    Returns
    -------
    torch.Tensor of shape (batch, total_length, n_channels)
    """
    out, _ = pad_packed_sequence(PackedSequence(packed.data, packed.batch_sizes),
                                 batch_first=True, total_length=total_length)
    return out.index_select(0, packed.unsorted_indices)
