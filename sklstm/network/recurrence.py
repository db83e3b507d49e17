"""How the network runs its ``nn.LSTM``: :class:`Recurrence`.

Under an autocast to bfloat16 (``precision="bf16"``) the LSTM runs in bfloat16 by
the network's own cast (:class:`Recurrence`), not by autocast's: autocast's rule for
cuDNN's RNNs (``_cudnn_rnn_cast_reflatten`` of torch's
``aten/src/ATen/cudnn/AutocastRNN.cpp``) casts them to float16 whatever the autocast
dtype, so on CUDA "bf16" would silently be float16 without a gradient scaler. On the
CPU the cast gives the very numbers autocast gave.

Off the CPU, a training step's stacked layers run one at a time with ``F.dropout``
between them, which draws from the device's generator (saved by a checkpoint, swapped
per fit by :mod:`sklstm.training.randomness`) instead of cuDNN's own dropout state.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager, nullcontext

import torch
from torch.func import functional_call
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence

from ..resources.concurrency import fits_run_concurrently

__all__ = ["Recurrence", "autocast_dtype", "weight_note_unsaid"]

#: cuDNN's warning when an LSTM's weights are not its one flattened buffer (torch's
#: ``WEIGHT_FORMAT_WARN`` of ``aten/src/ATen/native/cudnn/RNN.cpp``).
_WEIGHT_FORMAT_WARNING = "RNN module weights are not part of single contiguous chunk"

def autocast_dtype(device_type):
    """The dtype autocast computes in on ``device_type`` now, or None when it is off."""
    if hasattr(torch, "get_autocast_dtype"):  # torch >= 2.4
        on = torch.is_autocast_enabled(device_type)
        return torch.get_autocast_dtype(device_type) if on else None
    if device_type == "cpu":
        return torch.get_autocast_cpu_dtype() if torch.is_autocast_cpu_enabled() else None
    return torch.get_autocast_gpu_dtype() if torch.is_autocast_enabled() else None


class Recurrence:
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
        self.cast = autocast_dtype(device_type) == torch.bfloat16
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
            return functional_call(lstm, self.params, (self._time_major(inp),))

    def _time_major(self, inp):
        """The batch-first tensor ``inp`` laid out time-major in memory (same shape), for
        the CPU's bfloat16 LSTM.

        Without oneDNN's bfloat16 kernels (AVX2, no AVX-512) torch's CPU LSTM projects
        the inputs by a bfloat16 ``linear`` of its time-major view of a batch-first input:
        for several sequences (a strided view) the product is rounded, then the bias
        added, two roundings; for one (contiguous) one ``addmm`` rounds once, so a
        sequence's prediction moved with the batch beside it (~3e-4). On this layout the
        time-major view is contiguous: every batch's projection is one ``addmm``.
        """
        if self.device_type != "cpu" or isinstance(inp, PackedSequence):
            return inp  # a packed sequence's data is time-major already
        return inp.transpose(0, 1).contiguous().transpose(0, 1)

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
        (``tests/network/test_recurrence.py``).
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
        if self.cast:
            inp = self._time_major(inp)
        with self._own_dtype():
            return torch.lstm(inp, (h0, h0), weights, True, 1, 0.0, training, False,
                              True)[0]

    @contextmanager
    def _own_dtype(self):
        """Around the LSTM run with weights of the network's own (bfloat16 copies, or one
        layer's): autocast off while it runs in bfloat16, and cuDNN's note that such
        weights are gathered into one buffer per call left unsaid (they are, by design:
        torch copies them, a small cost beside the step; :func:`weight_note_unsaid`).
        On the CPU, which has no such warning, the warning filters are left alone
        (``catch_warnings`` would make warnings shown once show again). Neither while
        fits run in threads: the filters are the process's, and threads entering and
        leaving ``catch_warnings`` in turn restore each other's (the search's block
        leaves the note unsaid instead, :func:`sklstm.search.concurrent_fits`)."""
        quiet = self.device_type != "cpu" and not fits_run_concurrently()
        with weight_note_unsaid() if quiet else nullcontext():
            with (torch.autocast(self.device_type, enabled=False) if self.cast
                  else nullcontext()):
                yield


@contextmanager
def weight_note_unsaid():
    """Leave cuDNN's note on an LSTM's weights that are not its one flattened buffer
    ("RNN module weights are not part of single contiguous chunk...") unsaid in the
    block; other warnings are shown as before.

    Yields
    ------
    None
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_WEIGHT_FORMAT_WARNING)
        yield
