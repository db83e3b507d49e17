"""The torch module: optional token embedding, LSTM, a readout, dropout and a linear head.

Padded batches never change a result: every sequence is summarised by the LSTM
state at its own last step. How that state is reached matters for speed, not
for the result. ``pack_padded_sequence`` is the textbook way, but on the CPU
a packed LSTM falls back to an unfused step-by-step kernel whose backward pass
is roughly ten times slower than the fused dense kernel. So padded batches run
densely instead:

* forward direction: right padding only comes *after* a sequence's last step,
  so the dense output at step ``length - 1`` is exactly the packed result; the
  padded steps are computed and ignored (they receive no gradient);
* backward direction (``bidirectional=True``): each sequence is reversed within
  its own length, so the reverse pass also starts at the true last step. This
  needs the layers run one by one with :func:`torch.lstm`, which is done on the
  CPU; other devices keep packing, which cuDNN runs fused.

The same holds for every step's output, which the readouts of
:mod:`~sklstm.network.pooling` read (``pooling`` other than ``"last"``): padded
steps are masked out. Length bucketing (:class:`~sklstm.data.batching.BatchLoader`)
keeps the computed padding small.

Under an autocast to bfloat16 (``precision="bf16"``) the LSTM runs in bfloat16 by
the network's own cast (:class:`_Recurrence`), not by autocast's: autocast's rule for
cuDNN's RNNs (``_cudnn_rnn_cast_reflatten`` of torch's
``aten/src/ATen/cudnn/AutocastRNN.cpp``) casts them to float16 whatever the autocast
dtype, so on CUDA "bf16" would silently be float16 without a gradient scaler. On the
CPU the cast gives the very numbers autocast gave.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager, nullcontext

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from ..resources.device import copy_to
from .conv import ConvBranch
from .pooling import TimePooling

__all__ = ["LSTMNetwork", "last_steps", "reverse_padded"]

#: cuDNN's warning when an LSTM's weights are not its one flattened buffer (torch's
#: ``WEIGHT_FORMAT_WARN`` of ``aten/src/ATen/native/cudnn/RNN.cpp``).
_WEIGHT_FORMAT_WARNING = "RNN module weights are not part of single contiguous chunk"

def _autocast_dtype(device_type):
    """The dtype autocast computes in on ``device_type`` now, or None when it is off."""
    if hasattr(torch, "get_autocast_dtype"):  # torch >= 2.4
        on = torch.is_autocast_enabled(device_type)
        return torch.get_autocast_dtype(device_type) if on else None
    if device_type == "cpu":
        return torch.get_autocast_cpu_dtype() if torch.is_autocast_cpu_enabled() else None
    return torch.get_autocast_gpu_dtype() if torch.is_autocast_enabled() else None


class _Recurrence:
    """How one forward pass runs ``lstm``: as it is, or, under an autocast to bfloat16,
    in bfloat16 by an explicit cast.

    The cast is functional (:func:`torch.func.functional_call` with bfloat16 copies of
    the parameters, made once per forward pass): the float32 parameters stay what the
    optimizer steps and what is saved, and their gradients come back through the copies
    in float32. The LSTM runs with autocast off, so no autocast rule re-casts what it
    reads; its bfloat16 output goes on under autocast.

    Parameters
    ----------
    lstm : torch.nn.LSTM
        The network's LSTM.
    device_type : str
        The device type of the batch (``"cpu"``, ``"cuda"``...).
    """

    def __init__(self, lstm, device_type):
        self.lstm = lstm
        self.device_type = device_type
        self.cast = _autocast_dtype(device_type) == torch.bfloat16
        self.params = None if not self.cast else {
            name: p.to(torch.bfloat16) for name, p in lstm.named_parameters()}

    def input(self, x):
        """``x`` in the dtype the LSTM runs in."""
        return x.to(torch.bfloat16) if self.cast else x

    def __call__(self, inp):
        """``lstm(inp)`` (a tensor or a ``PackedSequence``)."""
        lstm = self.lstm
        if (self.device_type != "cpu" and lstm.training and lstm.num_layers > 1
                and lstm.dropout > 0):
            return self._stacked(inp)
        if not self.cast:
            return lstm(inp)
        with self._own_dtype():
            return functional_call(lstm, self.params, (inp,))

    def _stacked(self, inp):
        """``lstm(inp)`` in training, its layers run one at a time with the dropout between
        them drawn by :func:`torch.nn.functional.dropout`.

        cuDNN draws the dropout between stacked layers from a random state of its own,
        kept by torch per device and process and re-seeded only when the device's
        generator is (``get_dropout_state`` of ``aten/src/ATen/native/cudnn/RNN.cpp``):
        a fit resumed from a checkpoint could not draw the masks the uninterrupted fit
        drew. ``F.dropout`` draws from the device's generator, whose state the
        checkpoint carries. The layers run time-major, as ``nn.LSTM`` runs them, so on
        the CPU this is ``nn.LSTM``'s own computation, masks included
        (``tests/network/test_lstm.py``).
        """
        lstm = self.lstm
        packed = isinstance(inp, PackedSequence)
        x = inp.data if packed else inp.transpose(0, 1)  # (steps, batch, features)
        directions = ("", "_reverse") if lstm.bidirectional else ("",)
        batch = int(inp.batch_sizes[0]) if packed else x.shape[1]
        h0 = x.new_zeros(len(directions), batch, lstm.hidden_size)
        final_h, final_c = [], []
        for layer in range(lstm.num_layers):
            if layer:
                x = F.dropout(x, lstm.dropout, True)
            weights = self._weights(layer, directions)
            with self._own_dtype():
                if packed:
                    x, h, c = torch.lstm(x, inp.batch_sizes, (h0, h0), weights, True, 1, 0.0,
                                         True, lstm.bidirectional)
                else:
                    x, h, c = torch.lstm(x, (h0, h0), weights, True, 1, 0.0, True,
                                         lstm.bidirectional, False)
            final_h.append(h)
            final_c.append(c)
        h_n, c_n = torch.cat(final_h), torch.cat(final_c)
        if not packed:
            return x.transpose(0, 1), (h_n, c_n)
        if inp.unsorted_indices is not None:  # back in the batch's order, as nn.LSTM does
            h_n, c_n = (t.index_select(1, inp.unsorted_indices) for t in (h_n, c_n))
        return PackedSequence(x, inp.batch_sizes, inp.sorted_indices,
                              inp.unsorted_indices), (h_n, c_n)

    def _weights(self, layer, directions):
        """The weights of one layer, its directions in ``nn.LSTM``'s order, in the dtype
        the LSTM runs in."""
        names = [f"{name}_l{layer}{suffix}" for suffix in directions
                 for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        return ([self.params[name] for name in names] if self.cast
                else [getattr(self.lstm, name) for name in names])

    def layer(self, inp, layer, suffix, training):
        """One layer and direction of the LSTM over ``inp``, ``(batch, steps, hidden)``,
        by the fused kernel ``nn.LSTM`` itself calls."""
        weights = self._weights(layer, (suffix,))
        h0 = inp.new_zeros(1, len(inp), self.lstm.hidden_size)
        with self._own_dtype():
            return torch.lstm(inp, (h0, h0), weights, True, 1, 0.0, training, False,
                              True)[0]

    @contextmanager
    def _own_dtype(self):
        """Around the LSTM run with weights of the network's own (bfloat16 copies, or one
        layer's): autocast off while it runs in bfloat16, and cuDNN's note that such
        weights are gathered into one buffer per call left unsaid (they are, by design:
        torch copies them, a small cost beside the step). On the CPU, which has no such
        warning, the warning filters are left alone (``catch_warnings`` would make
        warnings shown once show again)."""
        quiet = self.device_type != "cpu"
        with warnings.catch_warnings() if quiet else nullcontext():
            if quiet:
                warnings.filterwarnings("ignore", message=_WEIGHT_FORMAT_WARNING)
            with (torch.autocast(self.device_type, enabled=False) if self.cast
                  else nullcontext()):
                yield


def _padded_lengths(lengths, n_steps):
    """``lengths`` as a CPU tensor, or None when no sequence is shorter than ``n_steps``
    (nothing is padded). A numpy array is read on the host, a tensor by one read."""
    if lengths is None or int(lengths.min()) >= n_steps:
        return None
    return torch.as_tensor(lengths)


def reverse_padded(x, lengths):
    """Reverse every right-padded sequence within its own length.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_timesteps, n_channels)
        Right-padded sequences.
    lengths : torch.Tensor of shape (batch,)
        True lengths, on ``x``'s device.

    Returns
    -------
    torch.Tensor
        Same shape; step ``t < length`` holds step ``length - 1 - t`` of ``x``
        and the padding stays where it was. Applying it twice restores ``x``.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])[:, :, None]
    >>> reverse_padded(x, torch.tensor([3, 2]))[:, :, 0]
    tensor([[3., 2., 1.],
            [5., 4., 0.]])
    """
    steps = torch.arange(x.shape[1], device=x.device)[None, :]
    last = lengths[:, None] - 1
    index = torch.where(steps <= last, last - steps, steps)
    return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))


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
        Dropout between stacked LSTM layers and before the head.
    vocab_size : int or None, default=None
        Number of token ids; set together with ``embedding_dim``.
    embedding_dim : int or None, default=None
        When set, inputs are token ids fed through ``nn.Embedding``.
    padding_idx : int or None, default=None
        Token id whose embedding stays zero and receives no gradient.
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
                 conv_channels=None, conv_kernel_sizes=(8, 5, 3), ar_window=None):
        super().__init__()
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
        self.head = nn.Linear(TimePooling.output_size(pooling, n_channels) + conv_size,
                              n_outputs)
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

    def forward(self, x, lengths=None):
        """Map a batch of sequences to outputs.

        Parameters
        ----------
        x : torch.Tensor
            ``(batch, n_timesteps, n_inputs)`` floats, or ``(batch, n_timesteps)``
            token ids; right-padded when ``lengths`` is given.
        lengths : torch.Tensor or ndarray of shape (batch,), or None, default=None
            CPU int64 true lengths (a numpy array, as the batches of
            :class:`~sklstm.data.SequenceDataset` carry them, is read with no
            tensor read into Python). Each sequence is read up to its own last
            step, so padding never changes a result. None means every sequence
            fills all ``n_timesteps``.

        Returns
        -------
        torch.Tensor of shape (batch, n_outputs)
            Output of the linear head (logits for classification, predicted
            targets for regression).
        """
        if self.embedding is not None:
            x = self.embedding(x)
        lengths = _padded_lengths(lengths, x.shape[1])
        recent = None if self.ar is None else last_steps(x, lengths, self.ar_window)
        run = _Recurrence(self.lstm, x.device.type)
        if self.readout is None:
            features = self._last_state(run, run.input(x), lengths)
        else:
            out = self._all_steps(run, run.input(x), lengths)
            last = self._last_of(out, lengths) if self.readout.mode == "concat" else None
            features = self.readout(out, lengths, last)
        if self.conv is not None:
            features = torch.cat([features, self.conv(x, lengths)], dim=1)
        features = self.dropout(features)
        out = self._linear(self.head, features)
        if recent is not None:
            out = out + self._linear(self.ar, recent)
        return out

    def _linear(self, layer, features):
        """``layer(features)``; in evaluation every row by itself: a matrix product's
        last bits depend on how many rows it multiplies at once (blocked kernels), and
        a prediction must not depend on the sequences predicted beside it (the LSTM's
        own outputs do not)."""
        if self.training:
            return layer(features)
        return (features[:, :, None] * layer.weight.T[None]).sum(dim=1) + layer.bias

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
        LSTM run by ``run`` (a :class:`_Recurrence`)."""
        if lengths is None:
            return self._final_state(run(x)[1][0])
        if not self.lstm.bidirectional:
            out, _ = run(x)
            steps = copy_to(lengths - 1, out.device)
            return out[torch.arange(len(out), device=out.device), steps]
        if x.device.type == "cpu":
            out = self._bidirectional_padded(run, x, lengths)
            size = self.lstm.hidden_size
            forward_last = out[torch.arange(len(out)), lengths - 1, :size]
            # the reverse pass ends at step 0 once its output is put back in order
            return torch.cat([forward_last, out[:, 0, size:]], dim=1)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return self._final_state(run(packed)[1][0])

    def _all_steps(self, run, x, lengths):
        """Top-layer outputs of every step, ``(batch, n_timesteps, channels)``, the LSTM
        run by ``run``; padded steps hold values the readouts mask out."""
        if lengths is None or not self.lstm.bidirectional:
            return run(x)[0]  # forward: padding comes after the real steps
        if x.device.type == "cpu":
            return self._bidirectional_padded(run, x, lengths)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(run(packed)[0], batch_first=True,
                                   total_length=x.shape[1])[0]

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
                inp = reverse_padded(x, lengths) if suffix else x
                out = run.layer(inp, layer, suffix, self.training)
                outputs.append(reverse_padded(out, lengths) if suffix else out)
            x = torch.cat(outputs, dim=2)
        return x
