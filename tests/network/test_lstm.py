"""The LSTM as the network runs it (sklstm.network.lstm._Recurrence)."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from sklstm.network.lstm import _Recurrence

LENGTHS = torch.tensor([7, 3, 5, 2])


def _run(run, inp, seed):
    torch.manual_seed(seed)
    out, (h_n, c_n) = run(inp)
    loss = (out.data if isinstance(out, nn.utils.rnn.PackedSequence) else out).sum()
    grads = torch.autograd.grad(loss + h_n.sum() + c_n.sum(), list(run.lstm.parameters()))
    return [out.data if hasattr(out, "data") else out, h_n, c_n, *grads]


@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["forward", "bidirectional"])
def test_stacked_layers_with_dropout_run_one_at_a_time_as_nn_lstm_runs_them(bidirectional,
                                                                           packed):
    # Off the CPU, a training pass of stacked layers with dropout runs them one at a
    # time, the masks drawn by F.dropout from the device's generator (which a checkpoint
    # carries) instead of cuDNN's own dropout state. On the CPU, where nn.LSTM draws its
    # masks the same way, the two are the very same computation, masks included.
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, num_layers=3, dropout=0.4, batch_first=True,
                   bidirectional=bidirectional)
    x = torch.randn(4, 7, 3)
    inp = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False) if packed \
        else x
    stacked = _Recurrence(lstm, "cuda")  # the path a device other than the CPU takes
    own = _run(_Recurrence(lstm, "cpu"), inp, seed=1)  # nn.LSTM itself
    for got, expected in zip(_run(stacked, inp, seed=1), own, strict=True):
        assert torch.equal(got, expected)
    # the comparison can fail: other masks give other outputs
    assert not torch.equal(_run(stacked, inp, seed=2)[0], own[0])


def test_evaluation_and_a_single_layer_keep_nn_lstm_s_own_call(monkeypatch):
    def stacked(self, inp):
        raise AssertionError("ran the layers one at a time")

    monkeypatch.setattr(_Recurrence, "_stacked", stacked)
    x = torch.randn(4, 7, 3)
    for lstm in (nn.LSTM(3, 5, num_layers=2, dropout=0.4, batch_first=True).eval(),
                 nn.LSTM(3, 5, batch_first=True)):  # no dropout between layers to draw
        assert torch.equal(_Recurrence(lstm, "cuda")(x)[0], lstm(x)[0])
    with pytest.raises(AssertionError, match="one at a time"):  # (the check can fail)
        _Recurrence(nn.LSTM(3, 5, num_layers=2, dropout=0.4, batch_first=True), "cuda")(x)
