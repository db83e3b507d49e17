"""The network under an autocast to bfloat16: the LSTM runs in bfloat16 by its own cast
(autocast's rule for cuDNN's RNNs would cast to float16), with the numbers autocast gave
on the CPU."""

import pytest
import torch

from sklstm.network import LSTMNetwork
from sklstm.network.recurrence import Recurrence, autocast_dtype

X = torch.randn(3, 6, 3, generator=torch.Generator().manual_seed(0))
LENGTHS = torch.tensor([6, 4, 2])
#: oneDNN's error where the CPU has no bfloat16 LSTM kernel
_NO_BF16_LSTM_PRIMITIVE = "could not create a primitive descriptor for the LSTM forward"


def test_the_padded_bidirectional_layers_run_on_bfloat16_weights_outside_autocast(
        monkeypatch):
    # the CPU's padded bidirectional path calls torch.lstm layer by layer itself
    calls, real = [], torch.lstm

    def spy(inp, hx, weights, *args):
        calls.append((inp.dtype, hx[0].dtype, frozenset(w.dtype for w in weights),
                      autocast_dtype("cpu")))
        return real(inp, hx, weights, *args)

    monkeypatch.setattr(torch, "lstm", spy)
    net = LSTMNetwork(3, 2, hidden_size=4, num_layers=2, bidirectional=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(X, LENGTHS)
    assert len(calls) == 4  # two layers, two directions
    assert set(calls) == {(torch.bfloat16, torch.bfloat16, frozenset({torch.bfloat16}), None)}
    out.float().sum().backward()
    assert {p.grad.dtype for p in net.lstm.parameters()} == {torch.float32}


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_the_cast_computes_what_autocast_computed_on_the_cpu(bidirectional, num_layers):
    # on the CPU autocast ran the LSTM in bfloat16 too: the cast changes nothing there
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(3, 5, num_layers=num_layers, bidirectional=bidirectional,
                         batch_first=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        run = Recurrence(lstm, "cpu")
        ours = run(run.input(X))[0]
        assert ours.dtype == torch.bfloat16
        try:
            autocasts = lstm(X)[0]
        except RuntimeError as error:
            # a CPU without oneDNN's bfloat16 kernels (AVX2, no AVX-512) cannot run
            # autocast's own LSTM at all; sklstm's cast runs there, with nothing to match
            if _NO_BF16_LSTM_PRIMITIVE not in str(error):
                raise
            pytest.skip(f"torch's autocast LSTM does not run on this CPU: {error}")
    assert autocasts.dtype == torch.bfloat16
    assert torch.equal(ours, autocasts)
    ours_grad = torch.autograd.grad(ours.float().sum(), list(lstm.parameters()))
    autocast_grad = torch.autograd.grad(autocasts.float().sum(), list(lstm.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(ours_grad, autocast_grad, strict=True))


def test_without_a_bfloat16_autocast_the_lstm_runs_as_it_is():
    lstm = torch.nn.LSTM(3, 5, batch_first=True)
    assert not Recurrence(lstm, "cpu").cast
    with torch.autocast("cpu", dtype=torch.float16):
        assert not Recurrence(lstm, "cpu").cast
    assert torch.equal(Recurrence(lstm, "cpu")(X)[0], lstm(X)[0])


@pytest.mark.parametrize("params", [{"pooling": "mean"}, {"pooling": "attention"},
                                    {"conv_channels": (3, 4), "conv_kernel_sizes": (3, 3)},
                                    {"pooling": "mean", "bidirectional": True}],
                         ids=["mean", "attention", "conv_branch", "bidirectional"])
def test_under_bfloat16_padding_and_neighbours_still_change_no_prediction(params):
    # the means over time were summed in bfloat16, rounded where the number of steps
    # summed (padding included) put the rounding: 1e-4 apart in a batch and alone;
    # attention's scores were a bfloat16 matrix product, rounded by the batch's rows;
    # without oneDNN's bfloat16 kernels (AVX2) torch's LSTM rounded a strided batch's
    # input projection twice, one sequence's once: 3e-4 apart (Recurrence._time_major)
    torch.manual_seed(0)
    net = LSTMNetwork(2, 2, hidden_size=3, **params).eval()
    seqs = [torch.randn(n, 2) for n in (1, 50, 3, 7)]
    padded = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        together = net(padded, torch.tensor([len(s) for s in seqs])).float()
        alone = torch.cat([net(s[None]) for s in seqs]).float()
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)
