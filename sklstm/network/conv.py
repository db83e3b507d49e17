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
over its own steps only (in evaluation summed the same way whatever the padding,
:func:`~sklstm.network.pooling.mean_over_steps`). Batch normalization's statistics in
training mode (and so its running statistics) are those of the batch's real steps
only: counting the padding would pull them towards what the convolutions make of
zeros, by as much as a batch is padded, so that evaluation would normalize real steps
by statistics they were never trained with. (In evaluation the running statistics
make every prediction a function of its own sequence.)
"""

from __future__ import annotations

import functools

import torch
from torch import nn
from torch.nn import functional as F

from ..resources.device import copy_to
from .lengths import padded_lengths
from .pooling import mean_over_steps
from .recurrence import autocast_dtype

__all__ = ["AUTO_CONV_CHANNELS", "ConvBranch", "resolve_conv_channels"]

#: ``conv_channels="auto"`` (``LSTMClassifier``'s default, with ``lr=1e-3``) is
#: LSTM-FCN's branch at ``(64, 128, 64)`` channels. Measured on
#: benchmarks/bench_small_data.py (issue 17, four seeds): the shapes in long series rise
#: from 0.605 to 0.958 (subtle_plateau) and from 0.826 to 0.979 (shape_random_position)
#: against the LSTM alone; 128 channels score alike at twice the time. Token ids get no
#: branch (see :func:`resolve_conv_channels`).
AUTO_CONV_CHANNELS = (64, 128, 64)


def resolve_conv_channels(conv_channels, kernel_sizes, shortest, tokens=False):
    """The branch ``conv_channels`` stands for, given the training data.

    Parameters
    ----------
    conv_channels : tuple of int, "auto" or None
        The channels (already checked), no branch, or ``"auto"``:
        :data:`AUTO_CONV_CHANNELS` for three blocks (for another number of blocks the
        first and last get 64 channels, the others 128), and no branch for sequences
        of one step (batch normalization needs two values per channel) or token ids.
    kernel_sizes : tuple of int
        The blocks' kernel sizes.
    shortest : int
        Timesteps of the shortest training sequence, as the network reads it.
    tokens : bool, default=False
        Whether the input is token ids (``embedding_dim`` set).

    Returns
    -------
    tuple of int or None

    Examples
    --------
    >>> resolve_conv_channels("auto", (8, 5, 3), 100), resolve_conv_channels("auto", (8, 5, 3), 1)
    ((64, 128, 64), None)
    >>> resolve_conv_channels("auto", (5, 3), 50), resolve_conv_channels((16, 16), (3, 3), 2)
    ((64, 64), (16, 16))
    >>> resolve_conv_channels("auto", (8, 5, 3), 100, tokens=True)
    """
    if conv_channels != "auto":
        return conv_channels
    # token ids: on make_token_sentiment's sentences the branch cost 3-4x the fit's time
    # and lost held-out accuracy (0.82, 0.97 against 0.95, 1.00: bench_token_conv.py)
    if shortest < 2 or tokens:
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

    def forward(self, x, lengths=None, *, checked=False):
        """Pool the convolutions' channels over each sequence's own steps.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_timesteps, n_inputs)
            Right-padded (with zeros) when ``lengths`` is given.
        lengths : torch.Tensor, ndarray or list of shape (batch,), or None, default=None
            Integer true lengths, each within ``1..n_timesteps`` (a tensor on the device
            is copied to the host); None when no sequence is padded.
        checked : bool, default=False
            ``lengths`` are :func:`~sklstm.network.lengths.padded_lengths`'s already, as
            the network passes them: not checked again.

        Returns
        -------
        torch.Tensor of shape (batch, output_size)
            The last block's channels, averaged over each sequence's real steps.

        Raises
        ------
        TypeError
            If the lengths are not integers.
        ValueError
            If ``lengths`` are not one per sequence within ``1..n_timesteps``.
        """
        # (a sequence of no step read as NaN; a length past the end as the padded width)
        if not checked:
            lengths = padded_lengths(lengths, len(x), x.shape[1])
        h = x.transpose(1, 2)  # (batch, channels, time): what Conv1d takes
        if h.device.type == "cpu" and autocast_dtype("cpu") == torch.bfloat16 and (
                bf16_conv_is_wrong()):
            with torch.autocast("cpu", enabled=False):  # float32 here, bfloat16 after
                return self.forward(x.float(), lengths, checked=True)
        valid = None
        if lengths is not None:
            steps = torch.arange(h.shape[2], device=h.device)
            valid = (steps[None, :] < copy_to(lengths, h.device)[:, None])[:, None, :]
            h = h.masked_fill(~valid, 0.0)  # (a product keeps an infinite or NaN padding)
        for pad, conv, norm, relu in self.blocks:
            h = relu(_normalize(norm, conv(pad(h)), valid))
            if valid is not None:
                h = h * valid  # padding stays zero for the next block's kernel
        # (in evaluation summed the same way whatever the padding: a prediction)
        return mean_over_steps(h.transpose(1, 2),
                               None if valid is None else valid.transpose(1, 2),
                               exact=not self.training)


@functools.cache
def bf16_conv_is_wrong():
    """Whether this CPU's bfloat16 ``conv1d`` is far from its float32 result.

    oneDNN's bfloat16 convolution on some CPUs (torch 2.13 on an AMX Xeon: a max error
    of 3.4 on outputs of 3, beyond 8 output steps) is wrong, not rounded: under
    ``precision="bf16"`` the branch then runs in float32 on the CPU. One small
    convolution, as the branch's first, is compared once per process.

    Returns
    -------
    bool
    """
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 8, 40, generator=generator)
    w = torch.randn(16, 8, 8, generator=generator) * 0.1
    # (autocast off: the first forward pass under precision="bf16" asks)
    with torch.no_grad(), torch.autocast("cpu", enabled=False):
        exact = F.conv1d(x, w)
        rounded = F.conv1d(x.bfloat16(), w.bfloat16()).float()
    # bfloat16 keeps 8 bits: a few hundredths of the outputs' scale, not their size
    return bool((rounded - exact).abs().max() > 0.1 * exact.abs().max())


def _normalize(norm, h, valid):
    """``norm(h)`` for ``h`` of shape (batch, channels, time), a training batch's
    statistics taken over its real steps (``valid``; None: every step) only.

    A training batch with a single value per channel (one sequence of one step) has no
    variance to normalize by, and torch refuses it: it is normalized by the running
    statistics, which it leaves as they are.
    """
    if not norm.training:
        return norm(h)  # running statistics: every step by itself
    if valid is not None:
        return _masked_batch_norm(norm, h, valid)
    if h.shape[0] * h.shape[2] > 1:
        return norm(h)
    return F.batch_norm(h, norm.running_mean, norm.running_var, norm.weight, norm.bias,
                        training=False, eps=norm.eps)


def _masked_batch_norm(norm, h, valid):
    """``norm``'s training pass over the steps where ``valid`` (batch, 1, time) is true:
    its statistics and their running averages (as torch keeps them: the unbiased
    variance, ``momentum`` or, where None, the cumulative average; none without
    ``track_running_stats``, as in torch).

    How many steps are real is a tensor on ``h``'s device, never read into Python (that
    would make the host wait for the device every batch): a batch of one real step per
    channel is told apart by ``torch.where``, and normalized by the running statistics.
    """
    # (statistics in float32 at least, as torch's kernels keep them)
    x = h.to(torch.promote_types(h.dtype, torch.float32))
    count = valid.sum(dtype=x.dtype)
    mean = (x * valid).sum(dim=(0, 2)) / count
    var = ((x - mean[:, None]) * valid).square().sum(dim=(0, 2)) / count
    several = count > 1
    mean = torch.where(several, mean, norm.running_mean)
    var = torch.where(several, var, norm.running_var)
    # (without track_running_stats torch's own pass leaves them: here it was ignored, and
    # a pass meant to read a batch's statistics only moved them)
    if norm.track_running_stats:
        with torch.no_grad():
            norm.num_batches_tracked.add_(several.to(norm.num_batches_tracked.dtype))
            factor = several * (norm.momentum if norm.momentum is not None
                                else 1.0 / norm.num_batches_tracked.clamp(min=1))
            # (kept in the running statistics' dtype: narrower where the weights are)
            stats = norm.running_mean.dtype
            norm.running_mean.lerp_(mean.to(stats), factor)
            norm.running_var.lerp_((var * count / (count - 1).clamp(min=1)).to(stats),
                                   factor)
    scale = norm.weight * torch.rsqrt(var + norm.eps)
    return ((x - mean[:, None]) * scale[:, None] + norm.bias[:, None]).to(h.dtype)
