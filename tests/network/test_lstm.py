"""The network as a whole (sklstm.network.lstm): every parameter learns, whatever the
options."""

import pytest
import torch

from sklstm.network import LSTMNetwork

POOLINGS = ["last", "mean", "max", "attention", "concat"]

#: Parameters that get no gradient by design. The attention score's bias shifts every
#: step's score alike, which the softmax over time cancels (its gradient is rounding
#: noise, ~1e-9); it stays for the files saved with it (loaded strictly, by name).
NO_GRADIENT = {"readout.score.bias"}


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("tokens", [False, True])
def test_every_parameter_gets_a_gradient(pooling, bidirectional, num_layers, padded, tokens):
    # an option that builds weights the forward pass never reads would show here
    torch.manual_seed(0)
    inputs = ({"vocab_size": 7, "embedding_dim": 3, "padding_idx": 0} if tokens
              else {"split_level": True})
    net = LSTMNetwork(2, 2, hidden_size=4, num_layers=num_layers, dropout=0.2,
                      bidirectional=bidirectional, pooling=pooling, conv_channels=(3, 3),
                      conv_kernel_sizes=(4, 3), ar_window=2, **inputs)
    generator = torch.Generator().manual_seed(1)
    x = (torch.randint(1, 7, (4, 6), generator=generator) if tokens
         else torch.randn(4, 6, 2, generator=generator))
    out = net(x, torch.tensor([6, 3, 1, 4]) if padded else None)
    (out * torch.randn(out.shape, generator=generator)).sum().backward()
    for name, param in net.named_parameters():
        grad = param.grad[1:] if name == "embedding.weight" else param.grad  # row 0: padding
        if name in NO_GRADIENT:
            assert grad is None or grad.abs().max() < 1e-6, name
        else:
            assert grad is not None and torch.isfinite(grad).all() and (grad != 0).any(), name
    if tokens:
        assert (net.embedding.weight.grad[0] == 0).all()  # padding_idx learns nothing


@pytest.mark.parametrize("pooling", POOLINGS)
def test_the_same_seed_gives_the_same_training_pass(pooling):
    def training_pass():
        torch.manual_seed(0)
        net = LSTMNetwork(2, 2, hidden_size=3, num_layers=2, dropout=0.5,
                          bidirectional=True, pooling=pooling, conv_channels=(3,),
                          conv_kernel_sizes=(3,))
        out = net(torch.ones(3, 5, 2), torch.tensor([5, 2, 1]))
        return [out, *torch.autograd.grad(out.sum(), list(net.parameters()))]

    first, second = training_pass(), training_pass()
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
