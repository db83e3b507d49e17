"""Readouts over all timesteps (and the convolutional branch): padding never changes a
result, and each does its job."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sklstm import LSTMClassifier
from sklstm.network import LSTMNetwork, TimePooling
from sklstm.network.pooling import sum_over_steps, valid_steps

POOLINGS = ["last", "mean", "max", "attention", "concat"]


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("conv_channels", [None, (4, 6, 4)], ids=["lstm", "lstm_fcn"])
def test_padding_never_changes_the_output(pooling, bidirectional, conv_channels):
    torch.manual_seed(0)
    net = LSTMNetwork(3, 2, hidden_size=5, bidirectional=bidirectional, pooling=pooling,
                      conv_channels=conv_channels).eval()
    seqs = [torch.randn(n, 3) for n in (4, 9, 2)]
    padded = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    together = net(padded, torch.tensor([4, 9, 2]))
    alone = torch.cat([net(s[None]) for s in seqs])
    assert_allclose(together.detach(), alone.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("pad", [float("nan"), float("inf")])
def test_padding_of_any_value_changes_no_output(pooling, pad):
    # a zero weight times an infinite or NaN padding is NaN: in the readouts' sums and
    # the branch's convolutions (training needs finite padding: the LSTM's backward)
    torch.manual_seed(0)
    net = LSTMNetwork(2, 2, hidden_size=3, num_layers=2, bidirectional=True, pooling=pooling,
                      conv_channels=(3, 3), conv_kernel_sizes=(5, 3), ar_window=2,
                      split_level=True)
    x = torch.randn(3, 6, 2)
    lengths = torch.tensor([2, 6, 1])
    padded = torch.arange(6)[None, :] >= lengths[:, None]
    for mode in (net.train, net.eval):
        mode()
        with torch.no_grad():
            outs = [net(x.masked_fill(padded[:, :, None], value), lengths)
                    for value in (0.0, pad)]
        assert torch.equal(*outs)


@pytest.mark.parametrize("mode", ["mean", "attention", "concat"])
def test_the_readouts_ignore_an_infinite_padding(mode):
    torch.manual_seed(0)
    pool = TimePooling(2, mode)
    out = torch.randn(2, 5, 2)
    last = torch.randn(2, 2)  # ("concat" only)
    lengths = torch.tensor([5, 3])
    expected = pool(out, lengths, last)
    out[1, 3:] = float("inf")
    assert torch.equal(pool(out, lengths, last), expected)


@pytest.mark.parametrize("mode", ["mean", "max"])
def test_mean_and_max_pool_the_lstm_outputs(mode):
    torch.manual_seed(0)
    net = LSTMNetwork(2, 1, hidden_size=4, pooling=mode).eval()
    x = torch.randn(3, 7, 2)
    out = net.lstm(x)[0]
    pooled = out.mean(dim=1) if mode == "mean" else out.max(dim=1).values
    assert_allclose(net(x).detach(), net.head(pooled).detach(), rtol=1e-6)


def test_attention_weights_cover_the_real_steps_only():
    torch.manual_seed(0)
    pool = TimePooling(2, "attention")
    out = torch.randn(2, 5, 2)
    out[1, 3:] = 1e6  # padding: must get no weight
    pooled = pool(out, torch.tensor([5, 3]))
    expected = torch.softmax(pool.score(out[1, :3]), dim=0).T @ out[1, :3]
    assert_allclose(pooled[1].detach(), expected[0].detach(), rtol=1e-5)


def test_concat_joins_last_state_max_and_mean():
    torch.manual_seed(0)
    net = LSTMNetwork(2, 1, hidden_size=4, pooling="concat").eval()
    x = torch.randn(3, 6, 2)
    out = net.lstm(x)[0]
    joined = torch.cat([out[:, -1], out.max(dim=1).values, out.mean(dim=1)], dim=1)
    assert net.head.in_features == 12
    assert_allclose(net(x).detach(), net.head(joined).detach(), rtol=1e-6)


def test_a_shape_in_the_middle_needs_a_readout_over_all_steps():
    """The readout is what the estimator trains: 'max' finds a bump the last state forgets."""
    rng = np.random.default_rng(0)
    X = rng.normal(0, 0.3, size=(160, 60, 1)).astype(np.float32)
    y = np.arange(160) % 2
    X[y == 1, 20:26, 0] += 2.0  # class 1: a bump, followed by 34 steps of noise
    common = dict(hidden_size=8, lr=0.02, max_epochs=40, tol=None, random_state=0,
                  conv_channels=None,  # the readouts alone
                  n_threads=1)
    scores = {pooling: LSTMClassifier(pooling=pooling, **common).fit(X[:100], y[:100])
              .score(X[100:], y[100:]) for pooling in ("last", "max")}
    assert scores["max"] >= 0.95 and scores["max"] > scores["last"] + 0.1


@pytest.mark.parametrize("pooling", POOLINGS)
def test_predictions_do_not_depend_on_the_other_sequences_of_the_batch(pooling):
    torch.manual_seed(0)
    net = LSTMNetwork(3, 4, hidden_size=32, bidirectional=True, pooling=pooling).eval()
    x = torch.randn(29, 12, 3)
    with torch.no_grad():
        whole = net(x)
        assert torch.equal(whole, torch.cat([net(x[i:i + 1]) for i in range(29)]))
        assert torch.equal(whole[7:20], net(x[7:20]))


@pytest.mark.parametrize("pooling", POOLINGS)
def test_a_unidirectional_readout_does_not_depend_on_the_batch_either(pooling):
    # nn.LSTM's batch-first output is time-major in memory, where torch's sum over time
    # rounded by the batch's size: the mean of 24 sequences differed in the last bits
    # from that of 2 (LSTMRegressor's default readout, "concat", holds the mean). (Not
    # with the convolutional branch: oneDNN's conv1d itself rounds by the batch's size.)
    torch.manual_seed(0)
    net = LSTMNetwork(2, 1, hidden_size=8, pooling=pooling).eval()
    x = torch.randn(24, 6, 2)
    with torch.no_grad():
        whole = net(x)
        assert torch.equal(whole, torch.cat([net(x[i:i + 1]) for i in range(24)]))
        assert torch.equal(whole[:2], net(x[:2]))


@pytest.mark.parametrize("pooling", POOLINGS)
def test_padded_steps_receive_no_gradient_in_training(pooling):
    # every readout, both directions, stacked layers and the branch's batch normalization
    torch.manual_seed(0)
    net = LSTMNetwork(2, 2, hidden_size=3, num_layers=2, bidirectional=True, pooling=pooling,
                      conv_channels=(3, 3), conv_kernel_sizes=(5, 3), ar_window=3,
                      split_level=True)
    x = torch.randn(3, 6, 2, requires_grad=True)
    lengths = torch.tensor([2, 6, 1])
    grad, = torch.autograd.grad(net(x, lengths).pow(2).sum(), x)
    padded = torch.arange(6)[None, :] >= lengths[:, None]
    assert (grad[padded] == 0).all() and (grad[~padded] != 0).any()


def test_concat_without_the_last_state_is_refused():
    with pytest.raises(ValueError, match="pass last"):
        TimePooling(2, "concat")(torch.randn(2, 3, 2))


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("branch", [
    {}, {"split_level": True}, {"conv_channels": (6,), "conv_kernel_sizes": (3,)}],
    ids=["lstm", "split_level", "lstm_fcn"])
def test_the_width_of_the_padding_changes_no_bit_of_a_prediction(pooling, branch):
    # torch's sum over time grouped its additions by how many steps it summed: zero
    # padding moved the last bit of a mean (or an attention's sums), so a prediction
    # depended on the lengths of the sequences beside it
    torch.manual_seed(0)
    net = LSTMNetwork(2, 2, hidden_size=8, bidirectional=True, pooling=pooling,
                      **branch).eval()
    generator = torch.Generator().manual_seed(1)
    lengths = torch.tensor([7, 5, 3, 1])
    x = torch.randn(4, 7, 2, generator=generator)
    x = x.masked_fill((torch.arange(7)[None, :] >= lengths[:, None])[:, :, None], 0.0)
    with torch.no_grad():
        outs = [net(torch.nn.functional.pad(x, (0, 0, 0, extra)), lengths)
                for extra in (0, 1, 9, 25)]
        assert all(torch.equal(out, outs[0]) for out in outs[1:])
        if "conv_channels" not in branch:  # (oneDNN's conv1d rounds by the batch's size)
            alone = torch.cat([net(x[i:i + 1, :n]) for i, n in enumerate(lengths)])
            assert torch.equal(outs[0], alone)


def test_an_exact_sum_over_steps_reads_no_padding_and_no_neighbour():
    generator = torch.Generator().manual_seed(0)
    out = torch.randn(3, 7, 8, generator=generator) * 1e3 + 1e4  # large, as raw levels
    lengths = torch.tensor([7, 5, 2])
    sums = []
    for extra in (0, 9, 26, 93):
        padded = torch.nn.functional.pad(out, (0, 0, 0, extra), value=float("nan"))
        sums.append(sum_over_steps(padded, valid_steps(padded, lengths), exact=True))
    assert all(torch.equal(total, sums[0]) for total in sums[1:])
    alone = torch.cat([sum_over_steps(out[i:i + 1, :n], None, exact=True)
                       for i, n in enumerate(lengths)])
    assert torch.equal(sums[0], alone)
    expected = torch.stack([out[i, :n].double().sum(dim=0) for i, n in enumerate(lengths)])
    assert torch.equal(sums[0], expected.float())  # accumulated wide, rounded once
