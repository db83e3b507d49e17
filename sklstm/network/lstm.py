"""The torch module: optional token embedding, LSTM, a readout, dropout and a linear head.

Padded batches never change a result: every sequence is summarised by the LSTM
state at its own last step. How that state is reached matters for speed, not
for the result. ``pack_padded_sequence`` is the textbook way, but on the CPU
a packed LSTM falls back to an unfused step-by-step kernel whose backward pass
took 19x the fused dense kernel's (forward and backward 11x; 32 sequences of
150-300 steps: ``benchmarks/bench_step_costs.py``). So padded batches run
densely instead:

* forward direction: right padding only comes *after* a sequence's last step,
  so the dense output at step ``length - 1`` is exactly the packed result; the
  padded steps are computed and ignored (they receive no gradient);
* backward direction (``bidirectional=True``): each sequence is reversed within
  its own length, so the reverse pass also starts at the true last step. This
  needs the layers run one by one with :func:`torch.lstm`, which is done on the
  CPU; other devices keep packing, which cuDNN runs fused
  (:mod:`~sklstm.network.packing`: packed without a host-device wait).

The same holds for every step's output, which the readouts of
:mod:`~sklstm.network.pooling` read (``pooling`` other than ``"last"``): padded
steps are masked out. Length bucketing (:class:`~sklstm.data.batching.BatchLoader`)
keeps the computed padding small.

How the LSTM itself runs (bfloat16 by the network's own cast, stacked layers on an
accelerator) is :mod:`sklstm.network.recurrence`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..resources.device import copy_to
from .conv import ConvBranch
from .inputs import as_size, check_arguments, checked_input, conv_sizes, options
from .lengths import padded_lengths, reverse_padded
from .level import split_level
from .packing import pack, runs_packed, unpack
from .pooling import TimePooling
from .recurrence import Recurrence

__all__ = ["LSTMNetwork", "last_steps"]

#: Most products an evaluation pass of the head or highway holds at once (16 MiB in
#: float32), :meth:`LSTMNetwork._linear`.
_EVAL_PRODUCTS = 2**22


def last_steps(x, lengths, k):
    """The last ``k`` steps of every right-padded sequence, flattened.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_timesteps, n_channels)
        Right-padded sequences.
    lengths : torch.Tensor of shape (batch,) or None
        True lengths; None when every sequence fills ``n_timesteps``.
    k : int
        Steps to take.

    Returns
    -------
    torch.Tensor of shape (batch, k * n_channels)
        Steps ``length - k .. length - 1`` of each sequence, oldest first, channels
        innermost; steps before a sequence's start are zeros.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])[:, :, None]
    >>> last_steps(x, torch.tensor([3, 2]), 2)
    tensor([[2., 3.],
            [4., 5.]])
    >>> last_steps(x, torch.tensor([3, 1]), 2)
    tensor([[2., 3.],
            [0., 4.]])
    """
    n = x.shape[1]
    if lengths is None:
        window = x[:, max(n - k, 0):]
        if n < k:  # zeros before the start, as for a short padded sequence
            window = F.pad(window, (0, 0, k - n, 0))
        return window.flatten(1)
    steps = copy_to(lengths, x.device)[:, None] - k + torch.arange(k, device=x.device)[None, :]
    window = x.gather(1, steps.clamp(min=0)[:, :, None].expand(-1, -1, x.shape[2]))
    return (window * (steps >= 0)[:, :, None]).flatten(1)


class LSTMNetwork(nn.Module):
    """Sequence-to-one LSTM: a readout of the LSTM's outputs feeds a linear layer.

    Parameters
    ----------
    n_inputs : int
        Features per timestep (ignored when ``embedding_dim`` is set).
    n_outputs : int
        Output units: classes for classification, targets for regression.
    hidden_size : int, default=64
        LSTM hidden units per direction.
    num_layers : int, default=1
        Stacked LSTM layers.
    bidirectional : bool, default=False
        Also read sequences backwards; the head sees both directions.
    dropout : float, default=0.0
        Dropout between stacked LSTM layers and before the head, in [0, 1).
    vocab_size : int or None, default=None
        Number of token ids; set together with ``embedding_dim``.
    embedding_dim : int or None, default=None
        When set, inputs are token ids fed through ``nn.Embedding``.
    padding_idx : int or None, default=None
        Token id whose embedding stays zero and receives no gradient (with token ids only).
    pooling : {"last", "mean", "max", "attention", "concat"}, default="last"
        What the head sees: the final hidden state of each sequence; the mean,
        maximum or attention-weighted sum of its outputs over all timesteps; or
        the final state, maximum and mean joined
        (:class:`~sklstm.network.pooling.TimePooling`).
    conv_channels : sequence of int or None, default=None
        When set, a convolutional branch beside the LSTM (LSTM-FCN,
        :class:`~sklstm.network.conv.ConvBranch`): one Conv1d/BatchNorm/ReLU block
        per entry, with that many output channels, globally average-pooled; the
        head reads the LSTM's readout and the pooled channels joined.
    conv_kernel_sizes : sequence of int, default=(8, 5, 3)
        Kernel size of each block of the convolutional branch.
    ar_window : int or None, default=None
        When set, a linear autoregressive "highway" (LSTNet, Lai et al. 2018): a
        linear map of the last ``ar_window`` input steps of each sequence (every
        feature; steps before the start of a shorter sequence count as zeros) added
        to the head's output, so the network contains a linear model of its recent
        input. Its weights start at zero: the network starts as without it.
    ar_scale : sequence of float or None, default=None
        What the highway divides each feature by (one positive value per feature; the
        estimators pass the root mean square of the training values), so that its
        weights learn at the same pace on values of any magnitude; None divides by 1.
    split_level : bool, default=False
        Read every sequence centred on its own mean per feature (the LSTM and the
        convolutional branch see its shape) and give the head the means as well (its
        level), :func:`~sklstm.network.level.split_level`. The highway reads the
        input as it is.

    Examples
    --------
    >>> import torch
    >>> net = LSTMNetwork(n_inputs=3, n_outputs=2, hidden_size=8)
    >>> net(torch.zeros(4, 10, 3)).shape
    torch.Size([4, 2])
    """

    def __init__(self, n_inputs, n_outputs, hidden_size=64, num_layers=1,
                 bidirectional=False, dropout=0.0, vocab_size=None,
                 embedding_dim=None, padding_idx=None, pooling="last",
                 conv_channels=None, conv_kernel_sizes=(8, 5, 3), ar_window=None,
                 ar_scale=None, split_level=False):
        super().__init__()
        # nn.LSTM takes Python ints only ("hidden_size should be of type int, got:
        # int64"), and its forward pass a Python bool only (a numpy bool
        # ``bidirectional`` failed there); numpy scalars and 0-d arrays, as a grid, a
        # config or a DataFrame's row passes them, are Python values too
        (n_inputs, n_outputs, hidden_size, num_layers, vocab_size, embedding_dim,
         padding_idx, ar_window) = (as_size(value, name) for name, value in dict(
            n_inputs=n_inputs, n_outputs=n_outputs, hidden_size=hidden_size,
            num_layers=num_layers, vocab_size=vocab_size, embedding_dim=embedding_dim,
            padding_idx=padding_idx, ar_window=ar_window).items())
        bidirectional, dropout, pooling, split_level = options(
            bidirectional, dropout, pooling, split_level)
        conv_channels, conv_kernel_sizes = conv_sizes(conv_channels, conv_kernel_sizes)
        check_arguments(n_inputs, n_outputs, vocab_size, embedding_dim, padding_idx, pooling,
                        ar_window, ar_scale)
        self.embedding = None
        if embedding_dim is not None:
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
            n_inputs = embedding_dim
        self.lstm = nn.LSTM(
            n_inputs, hidden_size, num_layers=num_layers, batch_first=True,
            bidirectional=bidirectional,
            # torch applies LSTM dropout between layers only (and warns for one layer)
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        n_channels = hidden_size * (2 if bidirectional else 1)
        conv_size = 0 if conv_channels is None else conv_channels[-1]
        if split_level and embedding_dim is not None:
            raise ValueError("split_level=True: token ids have no level to split off; "
                             "use split_level=False with embedding_dim.")
        self.split_level = split_level
        level_size = n_inputs if split_level else 0
        self.head = nn.Linear(
            TimePooling.output_size(pooling, n_channels) + conv_size + level_size, n_outputs)
        # created after the head, so "last" initializes exactly as before readouts
        self.readout = None if pooling == "last" else TimePooling(n_channels, pooling)
        # (and the branch after both: without it, every weight is drawn as before)
        self.conv = None if conv_channels is None else ConvBranch(
            n_inputs, conv_channels, conv_kernel_sizes)
        # (the highway last; zero weights: the output starts as the network's alone)
        self.ar_window = ar_window
        self.ar = None
        if ar_window is not None:
            self.ar = nn.Linear(ar_window * n_inputs, n_outputs)
            nn.init.zeros_(self.ar.weight)
            nn.init.zeros_(self.ar.bias)
            # per feature, repeated for each step of the flattened window (not saved
            # with the weights: the estimators keep it, so earlier files still load)
            scale = torch.ones(n_inputs) if ar_scale is None else torch.tensor(
                [float(s) for s in ar_scale])
            self.register_buffer("ar_divisor", scale.repeat(ar_window), persistent=False)

    def extra_repr(self):
        """The readout and the options its children do not show.

        Returns
        -------
        str
            The text between the parentheses of the module's first line.
        """
        pooling = "last" if self.readout is None else self.readout.mode
        options = [f"pooling={pooling!r}"]
        if self.ar_window is not None:
            options.append(f"ar_window={self.ar_window}")
        if self.split_level:
            options.append("split_level=True")
        return ", ".join(options)

    def forward(self, x, lengths=None):
        """Map a batch of sequences to outputs.

        Parameters
        ----------
        x : torch.Tensor
            ``(batch, n_timesteps, n_inputs)`` numbers (read in the dtype of the
            weights), or ``(batch, n_timesteps)`` integer token ids; right-padded when
            ``lengths`` is given. The padding never changes an output, NaN included;
            to train, it must be finite (the estimators pad with zeros): the LSTM's
            backward pass multiplies the padded steps' zero gradients by their
            derivatives, NaN at a NaN step. (Not zeroed here: that would cost every
            batch a pass over the input.)
        lengths : torch.Tensor, ndarray or list of shape (batch,), or None, default=None
            Integer true lengths, each within ``1..n_timesteps``, on the host (a numpy
            array, as the batches of :class:`~sklstm.data.SequenceDataset` carry them,
            is read with no tensor read into Python). Each sequence is read up to its
            own last step, so padding never changes a result. None means every sequence
            fills all ``n_timesteps``.

        Returns
        -------
        torch.Tensor of shape (batch, n_outputs)
            Output of the linear head (logits for classification, predicted
            targets for regression).

        Raises
        ------
        TypeError
            If token ids or lengths are not integers.
        ValueError
            If ``x`` does not have the network's shape, holds token ids outside the
            vocabulary (on a GPU: a device-side assert), or ``lengths`` are not one per
            sequence within ``1..n_timesteps``.
        """
        x = checked_input(self, x)
        lengths = padded_lengths(lengths, x.shape[0], x.shape[1])
        recent = None if self.ar is None else (
            last_steps(x, lengths, self.ar_window) / self.ar_divisor)
        level = None
        if self.split_level:
            x, level = split_level(x, lengths, exact=not self.training, checked=True)
        run = Recurrence(self.lstm, x.device.type)
        if self.readout is None:
            features = self._last_state(run, run.input(x), lengths)
        else:
            out = self._all_steps(run, run.input(x), lengths)
            last = self._last_of(out, lengths) if self.readout.mode == "concat" else None
            features = self.readout(out, lengths, last, checked=True)
        if self.conv is not None:
            features = torch.cat([features, self.conv(x, lengths, checked=True)], dim=1)
        if level is not None:
            features = torch.cat([features, level], dim=1)
        features = self.dropout(features)
        out = self._linear(self.head, features)
        if recent is not None:
            out = out + self._linear(self.ar, recent)
        return out

    def _linear(self, layer, features):
        """``layer(features)``; in evaluation every row by itself: a matrix product's
        last bits depend on how many rows it multiplies at once (blocked kernels), and
        a prediction should not depend on the sequences predicted beside it. (torch's
        LSTM itself is not exempt: its products over the batch can move a state's last
        bit, ~3e-8, with the batch's size, stacked layers most; padding never does.)"""
        # in the weights' dtype: the means over time are float32 at least, which weights
        # of a narrower dtype refuse (a bfloat16 autocast casts them again, exactly)
        features = features.to(layer.weight.dtype)
        if self.training:
            return layer(features)
        # the (rows, in, out) products by blocks of rows, each row's sum as before: a
        # whole batch's took more memory and time than its training step (a highway of
        # 1000 inputs and 100 outputs, 512 rows: 200 MB)
        rows = max(1, _EVAL_PRODUCTS // layer.weight.numel())
        weight = layer.weight.T[None]
        return torch.cat([(block[:, :, None] * weight).sum(dim=1)
                          for block in features.split(rows)]) + layer.bias

    def _last_of(self, out, lengths):
        """The state at each sequence's last step, read off all steps' outputs."""
        if lengths is None:
            forward_last = out[:, -1]
        else:
            forward_last = out[torch.arange(len(out), device=out.device),
                               copy_to(lengths - 1, out.device)]
        if not self.lstm.bidirectional:
            return forward_last
        size = self.lstm.hidden_size
        # the reverse direction ends at step 0
        return torch.cat([forward_last[:, :size], out[:, 0, size:]], dim=1)

    def _last_state(self, run, x, lengths):
        """Top-layer hidden state at each sequence's last step (both directions), the
        LSTM run by ``run`` (a :class:`~sklstm.network.recurrence.Recurrence`)."""
        if lengths is None:
            return self._final_state(run(x)[1][0])
        if not self.lstm.bidirectional:
            out, _ = run(x)
            steps = copy_to(lengths - 1, out.device)
            return out[torch.arange(len(out), device=out.device), steps]
        if not runs_packed(x):
            out = self._bidirectional_padded(run, x, lengths)
            size = self.lstm.hidden_size
            forward_last = out[torch.arange(len(out)), lengths - 1, :size]
            # the reverse pass ends at step 0 once its output is put back in order
            return torch.cat([forward_last, out[:, 0, size:]], dim=1)
        return self._final_state(run(pack(x, lengths))[1][0])

    def _all_steps(self, run, x, lengths):
        """Top-layer outputs of every step, ``(batch, n_timesteps, channels)``, the LSTM
        run by ``run``; padded steps hold values the readouts mask out."""
        if lengths is None or not self.lstm.bidirectional:
            return run(x)[0]  # forward: padding comes after the real steps
        if not runs_packed(x):
            return self._bidirectional_padded(run, x, lengths)
        return unpack(run(pack(x, lengths))[0], x.shape[1])

    def _final_state(self, h_n):
        """Top-layer final hidden state(s) from ``h_n`` (layers * directions, batch, hidden)."""
        if self.lstm.bidirectional:
            return torch.cat([h_n[-2], h_n[-1]], dim=1)
        return h_n[-1]

    def _bidirectional_padded(self, run, x, lengths):
        """Bidirectional outputs of right-padded ``x`` at every step, layer by layer.

        Equal to the packed result at the real steps: the reverse direction reads
        every sequence reversed within its length, so it starts at the true last step.
        """
        lstm = self.lstm
        for layer in range(lstm.num_layers):
            if layer:  # nn.LSTM's dropout sits between layers
                x = F.dropout(x, lstm.dropout, self.training)
            outputs = []
            for suffix in ("", "_reverse"):
                inp = reverse_padded(x, lengths, checked=True) if suffix else x
                out = run.layer(inp, layer, suffix, self.training)
                outputs.append(reverse_padded(out, lengths, checked=True) if suffix else out)
            x = torch.cat(outputs, dim=2)
        return x
