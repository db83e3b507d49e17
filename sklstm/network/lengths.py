"""The lengths of a right-padded batch: checked once for every part that reads them
(:func:`padded_lengths`), and each sequence reversed within its own
(:func:`reverse_padded`, which the bidirectional LSTM reads on the CPU).

:class:`~sklstm.network.LSTMNetwork`, its readouts
(:class:`~sklstm.network.pooling.TimePooling`), :func:`~sklstm.network.split_level` and
:func:`reverse_padded` are public each, and each indexes by the lengths: a length of 0
or one past the padded width read the wrong steps (a mean or an attention readout of no
step was NaN, or the whole padding's sum by index -1) or failed in torch's indexing,
naming no length. A module of its own, below the readouts and the checks of the
network's input, so that all of them can import it.

Each takes ``checked=True`` from :class:`~sklstm.network.LSTMNetwork`, which checks a
batch's lengths once: a check converts them to a numpy array (a tensor read into Python,
which ``tests/training/test_host_sync.py`` counts per batch), and the parts would check
them again and again (the reversal once per layer and direction).
"""

from __future__ import annotations

import numpy as np
import torch

from ..resources.device import copy_to

__all__ = ["padded_lengths", "reverse_padded"]


def padded_lengths(lengths, batch, n_steps, of="x"):
    """``lengths`` as a CPU int64 tensor, or None when no sequence is shorter than
    ``n_steps`` (nothing is padded).

    Read on the host as a numpy array (as the batches of
    :class:`~sklstm.data.SequenceDataset` carry them; a list alike), so that no
    tensor is read into Python per batch; a tensor is copied to the host once (torch
    packs with CPU lengths).

    Parameters
    ----------
    lengths : torch.Tensor, ndarray, sequence of int or None
        True lengths, one per sequence.
    batch : int
        Sequences in the padded batch.
    n_steps : int
        Its padded width (timesteps).
    of : str, default="x"
        The padded batch's name, for the messages.

    Returns
    -------
    torch.Tensor of shape (batch,) or None

    Raises
    ------
    TypeError
        If the lengths are not integers.
    ValueError
        If there is not one length per sequence, or one is not within 1..``n_steps``
        (indexing would fail in torch, or a sequence of no step read as NaN).
    """
    if lengths is None:
        return None
    host = np.asarray(lengths.cpu() if isinstance(lengths, torch.Tensor) else lengths)
    if host.shape != (batch,):
        raise ValueError(f"lengths must hold one length per sequence of {of}, shape "
                         f"({batch},); got shape {host.shape}.")
    if not batch:  # (before the dtype: numpy reads an empty list as float64)
        return None
    if not np.issubdtype(host.dtype, np.integer):
        raise TypeError(f"lengths must be integers, got {host.dtype}: pass each sequence's "
                        "number of real timesteps as an int.")
    shortest, longest = host.min(), host.max()
    if shortest < 1 or longest > n_steps:
        raise ValueError(f"lengths must be within 1..{n_steps} ({of}'s timesteps); got "
                         f"{shortest if shortest < 1 else longest}: a sequence needs at least "
                         "one step, and the padded batch holds every step.")
    if shortest == n_steps:
        return None
    # a copy (a batch's few ints): torch.as_tensor shares a numpy array's memory, and so
    # refused one of negative strides (``lengths[::-1]``) and warned of a read-only one
    # (a memory-mapped or broadcast array)
    return torch.from_numpy(host.astype(np.int64))


def reverse_padded(x, lengths, *, checked=False):
    """Reverse every right-padded sequence within its own length.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_timesteps, n_channels)
        Right-padded sequences.
    lengths : torch.Tensor, ndarray or list of shape (batch,)
        Integer true lengths, each within ``1..n_timesteps``, on the host (a tensor on
        the device is copied there).
    checked : bool, default=False
        ``lengths`` are :func:`padded_lengths`'s already, as the network passes them:
        not checked again.

    Returns
    -------
    torch.Tensor
        Same shape; step ``t < length`` holds step ``length - 1 - t`` of ``x``
        and the padding stays where it was. Applying it twice restores ``x``.

    Raises
    ------
    TypeError
        If the lengths are not integers.
    ValueError
        If ``lengths`` are not one per sequence within ``1..n_timesteps`` (one past the
        end failed in torch's gather, a length of 0 left its sequence as it was).

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])[:, :, None]
    >>> reverse_padded(x, torch.tensor([3, 2]))[:, :, 0]
    tensor([[3., 2., 1.],
            [5., 4., 0.]])
    """
    if not checked:
        lengths = padded_lengths(lengths, x.shape[0], x.shape[1])
    if lengths is None:  # (no sequence is padded)
        return x.flip(1)
    steps = torch.arange(x.shape[1], device=x.device)[None, :]
    last = copy_to(lengths, x.device)[:, None] - 1
    index = torch.where(steps <= last, last - steps, steps)
    return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))
