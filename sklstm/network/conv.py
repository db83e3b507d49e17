"""The convolutional branch of LSTM-FCN: temporal convolutions beside the LSTM.

Karim et al. (2017, "LSTM Fully Convolutional Networks for Time Series
Classification") put a fully convolutional branch next to the LSTM: three blocks of
a 1-D convolution, batch normalization and ReLU, then global average pooling over
time; the head reads the LSTM's readout and the pooled channels joined. Where a class
is a shape (a bump, a dip, a motif at any position) rather than an order of events,
the convolutions find it directly. :class:`ConvBranch` is that branch.

Padding never changes a result: the convolutions are "same"-padded with zeros, and
after every block the padded steps of a right-padded batch are set back to zero, so
a sequence sees zeros past its end whatever the batch's length; the average pools
over its own steps only. (Batch normalization's statistics in training mode are
those of the batch's real and padded steps alike, as batch statistics always depend
on the batch; in evaluation the running statistics make every prediction a function
of its own sequence.)
"""

from __future__ import annotations

import torch
from torch import nn

from ..resources.device import copy_to

__all__ = ["AUTO_CONV_CHANNELS", "ConvBranch", "resolve_conv_channels"]

#: ``conv_channels="auto"`` (``LSTMClassifier``'s default, with ``lr=1e-3``) is
#: LSTM-FCN's branch at ``(64, 128, 64)`` channels. Measured on
#: benchmarks/bench_small_data.py (issue 17, four seeds): the shapes in long series rise
#: from 0.605 to 0.958 (subtle_plateau) and from 0.826 to 0.979 (shape_random_position)
#: against the LSTM alone; 128 channels score alike at twice the time.
AUTO_CONV_CHANNELS = (64, 128, 64)


def resolve_conv_channels(conv_channels, kernel_sizes, shortest):
    """The branch ``conv_channels`` stands for, given the training data.

    Parameters
    ----------
    conv_channels : tuple of int, "auto" or None
        The channels (already checked), no branch, or ``"auto"``:
        :data:`AUTO_CONV_CHANNELS` for three blocks (for another number of blocks the
        first and last get 64 channels, the others 128), and no branch for sequences
        of one step (batch normalization needs two values per channel).
    kernel_sizes : tuple of int
        The blocks' kernel sizes.
    shortest : int
        Timesteps of the shortest training sequence, as the network reads it.

    Returns
    -------
    tuple of int or None

    Examples
    --------
    >>> resolve_conv_channels("auto", (8, 5, 3), 100), resolve_conv_channels("auto", (8, 5, 3), 1)
    ((64, 128, 64), None)
    >>> resolve_conv_channels("auto", (5, 3), 50), resolve_conv_channels((16, 16), (3, 3), 2)
    ((64, 64), (16, 16))
    """
    if conv_channels != "auto":
        return conv_channels
    if shortest < 2:
        return None
    if len(kernel_sizes) == len(AUTO_CONV_CHANNELS):
        return AUTO_CONV_CHANNELS
    # other numbers of blocks: the outer ones narrow, the inner ones wide, as LSTM-FCN's
    n = len(kernel_sizes)
    return tuple(AUTO_CONV_CHANNELS[0 if i in (0, n - 1) else 1] for i in range(n))


class ConvBranch(nn.Module):
    """Conv1d -> BatchNorm -> ReLU blocks and a padding-aware global average pool.

    Parameters
    ----------
    n_inputs : int
        Channels per timestep of the input.
    channels : sequence of int
        Output channels of each block (LSTM-FCN: ``(128, 256, 128)``).
    kernel_sizes : sequence of int
        Kernel size of each block (LSTM-FCN: ``(8, 5, 3)``); as long as
        ``channels``.

    Examples
    --------
    >>> import torch
    >>> branch = ConvBranch(2, channels=(8, 16, 8), kernel_sizes=(5, 3, 3)).eval()
    >>> branch(torch.zeros(4, 20, 2)).shape
    torch.Size([4, 8])
    """

    def __init__(self, n_inputs, channels, kernel_sizes):
        super().__init__()
        if len(channels) != len(kernel_sizes):
            raise ValueError(f"channels {tuple(channels)} and kernel_sizes "
                             f"{tuple(kernel_sizes)} must have one entry per block")
        blocks, width = [], n_inputs
        for out, kernel in zip(channels, kernel_sizes, strict=True):
            blocks.append(nn.Sequential(
                # "same" padding by hand: torch's padding="same" warns for even kernels
                nn.ConstantPad1d(((kernel - 1) // 2, kernel // 2), 0.0),
                # bias off: batch normalization's shift takes its place
                nn.Conv1d(width, out, kernel, bias=False),
                nn.BatchNorm1d(out), nn.ReLU()))
            width = out
        self.blocks = nn.ModuleList(blocks)
        self.output_size = width

    def forward(self, x, lengths=None):
        """Pool the convolutions' channels over each sequence's own steps.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_timesteps, n_inputs)
            Right-padded (with zeros) when ``lengths`` is given.
        lengths : torch.Tensor of shape (batch,) or None, default=None
            True lengths; None when no sequence is padded.

        Returns
        -------
        torch.Tensor of shape (batch, output_size)
            The last block's channels, averaged over each sequence's real steps.
        """
        h = x.transpose(1, 2)  # (batch, channels, time): what Conv1d takes
        valid = None
        if lengths is not None:
            steps = torch.arange(h.shape[2], device=h.device)
            valid = (steps[None, :] < copy_to(lengths, h.device)[:, None])[:, None, :]
            h = h * valid
        for block in self.blocks:
            h = block(h)
            if valid is not None:
                h = h * valid  # padding stays zero for the next block's kernel
        if valid is None:
            return h.mean(dim=2)
        return h.sum(dim=2) / valid.sum(dim=2)
