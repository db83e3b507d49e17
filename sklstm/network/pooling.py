"""Readouts: how the LSTM's outputs over all timesteps become one vector per sequence.

``"last"`` (the final hidden state) is what :class:`~sklstm.network.LSTMNetwork`
computes without this module. The others read every step, so a pattern in the
middle of a long sequence need not survive all later steps: ``"mean"`` and
``"max"`` pool the outputs over time, ``"attention"`` weighs the steps by a learned
score (softmax over time), and ``"concat"`` joins the last state, the maximum and the
mean (ULMFiT's concat pooling, Howard & Ruder 2018), so the head can use what is at
the end as well as what is anywhere. All of them ignore the padding of right-padded
batches.
"""

from __future__ import annotations

import torch
from torch import nn

from ..resources.device import copy_to
from .lengths import padded_lengths

__all__ = ["POOLINGS", "TimePooling", "mean_over_steps", "sum_over_steps", "valid_steps"]

#: Readouts of :class:`TimePooling` (``"last"`` is LSTMNetwork's own).
POOLINGS = ("mean", "max", "attention", "concat")


def valid_steps(out, lengths):
    """Which steps of right-padded ``out`` are real (not padding).

    Parameters
    ----------
    out : torch.Tensor of shape (batch, n_timesteps, ...)
        Right-padded sequences.
    lengths : torch.Tensor of shape (batch,) or None
        True lengths (on the CPU or ``out``'s device); None when nothing is padded.

    Returns
    -------
    torch.Tensor of shape (batch, n_timesteps, 1) or None
        True at the real steps, on ``out``'s device; None where ``lengths`` is.
    """
    if lengths is None:
        return None
    steps = torch.arange(out.shape[1], device=out.device)
    return (steps[None, :] < copy_to(lengths, out.device)[:, None])[:, :, None]


class TimePooling(nn.Module):
    """Pool ``(batch, n_timesteps, n_channels)`` outputs over time, padding-aware.

    Parameters
    ----------
    n_channels : int
        Output channels per timestep (hidden size times directions).
    mode : {"mean", "max", "attention", "concat"}
        The readout.

    Examples
    --------
    >>> import torch
    >>> out = torch.tensor([[[1.0], [3.0], [100.0]]])  # the last step is padding
    >>> TimePooling(1, "mean")(out, torch.tensor([2]))
    tensor([[2.]])
    """

    def __init__(self, n_channels, mode):
        super().__init__()
        if mode not in POOLINGS:
            raise ValueError(f"mode must be one of {POOLINGS}, got {mode!r}")
        self.mode = mode
        # one learned query: the score of a step is a linear function of its output
        self.score = nn.Linear(n_channels, 1) if mode == "attention" else None

    def extra_repr(self):
        """The readout, which ``"mean"``, ``"max"`` and ``"concat"`` show nowhere else.

        Returns
        -------
        str
            ``mode='...'``.
        """
        return f"mode={self.mode!r}"

    @staticmethod
    def output_size(mode, n_channels):
        """Size of the vector readout ``mode`` makes of ``n_channels`` per step.

        Parameters
        ----------
        mode : {"last", "mean", "max", "attention", "concat"}
            The readout.
        n_channels : int
            Output channels per timestep.

        Returns
        -------
        int
            Three times ``n_channels`` for ``"concat"``, else ``n_channels``.
        """
        return 3 * n_channels if mode == "concat" else n_channels

    def forward(self, out, lengths=None, last=None, *, checked=False):
        """Pool over time.

        Parameters
        ----------
        out : torch.Tensor of shape (batch, n_timesteps, n_channels)
            Outputs of every step; right-padded when ``lengths`` is given.
        lengths : torch.Tensor, ndarray or list of shape (batch,), or None, default=None
            Integer true lengths, each within ``1..n_timesteps``, on the host (a tensor
            on the device is copied there); None when no sequence is padded.
        last : torch.Tensor of shape (batch, n_channels) or None, default=None
            The state at each sequence's last step; needed by ``"concat"`` only.
        checked : bool, default=False
            ``lengths`` are :func:`~sklstm.network.lengths.padded_lengths`'s already, as
            the network passes them: not checked again.

        Returns
        -------
        torch.Tensor of shape (batch, n_channels) or (batch, 3 * n_channels)
            One vector per sequence (three joined for ``"concat"``).

        Raises
        ------
        TypeError
            If the lengths are not integers.
        ValueError
            If ``"concat"`` is given no ``last``, or ``lengths`` are not one per sequence
            within ``1..n_timesteps``.
        """
        if self.mode == "concat" and last is None:
            raise ValueError("TimePooling('concat') joins the last state too: pass last.")
        # (a sequence of no step read as NaN, -inf, or, in evaluation, the sum of the
        # padding read at step -1; a length past the end as the padded width)
        if not checked:
            lengths = padded_lengths(lengths, len(out), out.shape[1], of="out")
        valid = valid_steps(out, lengths)
        exact = not self.training  # (a prediction: whatever the padding, sum_over_steps)
        if self.mode == "concat":
            return torch.cat([last, _max(out, valid), mean_over_steps(out, valid, exact)],
                             dim=1)
        if self.mode == "mean":
            return mean_over_steps(out, valid, exact)
        if self.mode == "max":
            return _max(out, valid)
        # in float32 at least, every step's score by itself: a (bfloat16) matrix
        # product's rounding depends on how many rows it multiplies at once, and a
        # bfloat16 softmax or sum on how many steps there are, so padding and the
        # batch's neighbours would change the result (as for mean_over_steps)
        out = out.to(torch.promote_types(out.dtype, torch.float32))
        scores = ((out * self.score.weight[0].to(out.dtype)).sum(dim=2, keepdim=True)
                  + self.score.bias.to(out.dtype))
        if valid is not None:
            scores = scores.masked_fill(~valid, float("-inf"))
            out = _zero_padding(out, valid)  # a weight of 0 times inf or NaN is NaN
        if not self.training:
            # softmax over time by hand: torch.softmax's sum of the exponentials, as
            # any sum over time, rounds by how many steps there are (sum_over_steps)
            weights = torch.exp(scores - scores.amax(dim=1, keepdim=True))
            return (sum_over_steps(weights * out, valid, exact=True)
                    / sum_over_steps(weights, valid, exact=True))
        return (torch.softmax(scores, dim=1) * out).sum(dim=1)


def sum_over_steps(out, valid, exact=False):
    """Each sequence's sum over its real steps, in float32 at least.

    torch's sum over time groups its additions by how many steps it sums (and, where the
    steps are apart in memory, by the batch's size): zero padding moved a sum's last
    bit, so a sequence's mean, and its prediction, depended on the lengths of the
    sequences beside it (by 6e-8: 7 steps padded to 16). ``exact`` sums by a running sum
    over time read at each sequence's last step instead: one addition after another from
    its first step, whatever follows. It is about five times as slow as torch's sum, so
    the network asks for it in evaluation only (as for its head,
    :meth:`~sklstm.network.LSTMNetwork._linear`); it accumulates in float64 (float32 on
    Apple's MPS, which has none), rounded once, as one addition after another loses more
    than torch's pairwise sum in a narrower dtype.

    Parameters
    ----------
    out : torch.Tensor of shape (batch, n_timesteps, n_channels)
        Values of every step; what the padded steps hold (NaN included) is never read.
    valid : torch.Tensor of shape (batch, n_timesteps, 1) or None
        Which steps are real, each sequence's first ones; None when every step is.
    exact : bool, default=False
        Sum the same way whatever the padding and the batch.

    Returns
    -------
    torch.Tensor of shape (batch, n_channels)
        In float32, or ``out``'s dtype where it is wider.

    Examples
    --------
    >>> import torch
    >>> out = torch.tensor([[[1.0], [2.0], [float("nan")]]])  # the last step is padding
    >>> valid = torch.tensor([[[True], [True], [False]]])
    >>> sum_over_steps(out, valid), sum_over_steps(out, valid, exact=True)
    (tensor([[3.]]), tensor([[3.]]))
    """
    dtype = torch.promote_types(out.dtype, torch.float32)
    if not exact:
        if out.stride(0) < out.stride(1):
            # time-major in memory, as nn.LSTM's batch-first output is: there torch's
            # order of summing over time depends on the batch's size too
            out = out.contiguous()
        return (out if valid is None else _zero_padding(out, valid)).sum(dim=1, dtype=dtype)
    running = out.cumsum(dim=1, dtype=torch.float32 if out.device.type == "mps"
                         else torch.promote_types(dtype, torch.float64))
    if valid is None:
        return running[:, -1].to(dtype)
    last = valid.sum(dim=(1, 2)) - 1  # on the device: no wait
    # (indexed, not gathered: gather's backward keeps the running sums until then)
    return running[torch.arange(len(out), device=out.device), last].to(dtype)


def mean_over_steps(out, valid, exact=False):
    """Each sequence's mean over its real steps, summed in float32 at least
    (:func:`sum_over_steps`; a bfloat16 sum, of outputs computed under a bfloat16
    autocast, keeps a few bits and rounds by how many steps it sums).

    Parameters
    ----------
    out : torch.Tensor of shape (batch, n_timesteps, n_channels)
        Outputs of every step.
    valid : torch.Tensor of shape (batch, n_timesteps, 1) or None
        Which steps are real, each sequence's first ones; None when every step is.
    exact : bool, default=False
        Sum the same way whatever the padding and the batch (:func:`sum_over_steps`).

    Returns
    -------
    torch.Tensor of shape (batch, n_channels)
        In float32, or ``out``'s dtype where it is wider.
    """
    count = out.shape[1] if valid is None else valid.sum(dim=1)
    return sum_over_steps(out, valid, exact) / count


def _zero_padding(out, valid):
    """``out`` with its padded steps (not ``valid``) set to zero: by a selection, not a
    product, which would keep an infinite or NaN padding's value (``0 * inf`` is NaN).
    """
    return out.masked_fill(~valid, 0.0)


def _max(out, valid):
    if valid is not None:
        out = out.masked_fill(~valid, float("-inf"))
    return out.max(dim=1).values
