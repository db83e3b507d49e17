"""Packing a padded batch without a host-device wait (sklstm.network.packing)."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import sklstm.network.lstm as lstm_module
from sklstm.network import LSTMNetwork
from sklstm.network.packing import pack, unpack
from sklstm.network.recurrence import Recurrence

#: Lengths out of order, with ties (torch sorts them its own way, here stably).
LENGTHS = torch.tensor([5, 7, 2, 5, 7, 3])


def _outputs_and_gradients(run, x, packed_input, padded_output):
    """The padded outputs, final states and every gradient of one training pass."""
    torch.manual_seed(1)  # (the same dropout masks for both ways of packing)
    x = x.detach().requires_grad_()
    out, (h_n, c_n) = run(packed_input(x))
    out = padded_output(out)
    loss = (out * torch.linspace(-1, 1, out.shape[-1])).sum() + h_n.sum() + c_n.pow(2).sum()
    grads = torch.autograd.grad(loss, [x, *run.lstm.parameters()])
    return [out, h_n, c_n, *grads]


@pytest.mark.parametrize("device_type", ["cpu", "cuda"], ids=["nn_lstm", "layer_by_layer"])
def test_the_same_outputs_states_and_gradients_as_torch_s_packing(device_type):
    # "cuda": the layers one at a time with the dropout between them, the path a
    # device other than the CPU takes (sklstm.network.recurrence), here on CPU tensors
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.3, batch_first=True, bidirectional=True)
    run = Recurrence(lstm, device_type)
    x = torch.randn(len(LENGTHS), 7, 3)
    got = _outputs_and_gradients(run, x, lambda x: pack(x, LENGTHS),
                                 lambda out: unpack(out, x.shape[1]))
    expected = _outputs_and_gradients(
        run, x, lambda x: pack_padded_sequence(x, LENGTHS, batch_first=True,
                                               enforce_sorted=False),
        lambda out: pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0])
    # (exact: the same sequences reach the same kernels, ties in another order at most;
    # the final states come back in the batch's order, as torch's packing returns them)
    for ours, torchs in zip(got, expected, strict=True):
        assert torch.equal(ours, torchs)


def test_the_order_is_the_host_s_and_goes_with_the_packed_sequence():
    packed = pack(torch.zeros(len(LENGTHS), 7, 1), LENGTHS)
    assert packed.sorted_indices.tolist() == [1, 4, 0, 3, 5, 2]  # stable: ties keep order
    assert packed.unsorted_indices[packed.sorted_indices].tolist() == list(range(6))
    assert packed.batch_sizes.tolist() == [6, 6, 5, 4, 4, 2, 2]


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention", "concat"])
def test_the_network_s_packed_path_gives_its_dense_path_s_outputs(monkeypatch, pooling):
    # The path another device takes (a bidirectional LSTM over padded batches, packed),
    # run here on the CPU, against the CPU's own (the layers run densely, each sequence
    # reversed within its length): the same outputs and gradients to float rounding
    # (another kernel), in training (no dropout: the two draw masks of other shapes).
    torch.manual_seed(0)
    net = LSTMNetwork(3, 2, hidden_size=4, num_layers=2, bidirectional=True,
                      pooling=pooling)
    x = torch.randn(len(LENGTHS), 7, 3)

    def outputs_and_gradients():
        out = net(x, LENGTHS)
        return [out, *torch.autograd.grad(out.pow(2).sum(), list(net.parameters()))]

    dense = outputs_and_gradients()
    monkeypatch.setattr(lstm_module, "runs_packed", lambda x: True)
    packed = outputs_and_gradients()
    for a, b in zip(packed, dense, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    monkeypatch.setattr(lstm_module, "unpack", lambda out, total_length: torch.flip(
        unpack(out, total_length), [0]))  # (the comparison can fail: rows out of order)
    if pooling != "last":
        assert not torch.allclose(outputs_and_gradients()[0], dense[0])
