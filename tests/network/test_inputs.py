"""What LSTMNetwork reads: lengths in any integer form, numbers of any float dtype, and a
clear refusal (not torch's traceback) of what it cannot read."""

import numpy as np
import pytest
import torch

from sklstm.network import LSTMNetwork, TimePooling

from ..settings import requires_cuda

X = torch.randn(3, 6, 2, generator=torch.Generator().manual_seed(0))
LENGTHS = [2, 6, 1]


def _net(**params):
    torch.manual_seed(0)
    return LSTMNetwork(2, 2, hidden_size=3, **params).eval()


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("lengths", [
    LENGTHS, np.array(LENGTHS, dtype=np.int32), torch.tensor(LENGTHS, dtype=torch.int32),
    tuple(np.int64(n) for n in LENGTHS)], ids=["list", "numpy_int32", "int32", "tuple"])
def test_lengths_may_be_any_sequence_of_integers(bidirectional, lengths):
    net = _net(bidirectional=bidirectional, pooling="concat")
    with torch.no_grad():
        assert torch.equal(net(X, lengths), net(X, torch.tensor(LENGTHS)))


def _read_only(values):
    array = np.array(values, dtype=np.int64)
    array.flags.writeable = False
    return array


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("lengths", [
    np.array(LENGTHS[::-1])[::-1], _read_only(LENGTHS), np.array([2, 0, 6, 0, 1])[::2]],
    ids=["reversed", "read_only", "strided"])
def test_lengths_may_be_any_numpy_view(lengths):
    # torch.as_tensor refused negative strides and warned of a read-only array
    net = _net(bidirectional=True, pooling="mean")
    with torch.no_grad():
        assert torch.equal(net(X, lengths), net(X, torch.tensor(LENGTHS)))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("lengths, error, match", [
    ([0, 6, 1], ValueError, r"within 1\.\.6 .*got 0"),
    ([-1, 6, 1], ValueError, r"within 1\.\.6 .*got -1"),
    ([2, 7, 1], ValueError, r"within 1\.\.6 .*got 7"),
    ([2, 6], ValueError, r"one length per sequence of x, shape \(3,\); got shape \(2,\)"),
    ([2.0, 6.0, 1.0], TypeError, r"lengths must be integers, got float64"),
    (torch.tensor([2.0, 6.0, 1.0]), TypeError, r"lengths must be integers, got float32"),
])
def test_lengths_that_do_not_fit_are_refused(bidirectional, lengths, error, match):
    # (a length of 0 read as NaN, one past the end failed in torch's indexing)
    for pooling in ("last", "mean"):
        with pytest.raises(error, match=match):
            _net(bidirectional=bidirectional, pooling=pooling)(X, lengths)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_numbers_of_any_float_dtype_are_read_in_the_weights_dtype(bidirectional, dtype):
    # (torch refused them, the padded bidirectional path with an obscure oneDNN error)
    net = _net(bidirectional=bidirectional)
    x = X.to(dtype)
    with torch.no_grad():
        out = net(x, LENGTHS)
        assert out.dtype == torch.float32
        assert torch.equal(out, net(x.float(), LENGTHS))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("params", [{"pooling": "mean"},
                                    {"conv_channels": (3, 4), "conv_kernel_sizes": (3, 3)}],
                         ids=["mean", "conv_branch"])
def test_weights_of_a_narrower_dtype_train_and_predict_in_it(dtype, params):
    # the means over time, summed in float32, met the head's narrower weights: training
    # failed ("mat1 and mat2 must have the same dtype"; the branch's running statistics
    # too) and a prediction came back in float32
    net = _net(**params).to(dtype)
    for lengths in (None, LENGTHS):
        out = net.train()(X, lengths)
        out.float().sum().backward()
        assert out.dtype == dtype and net.eval()(X, lengths).dtype == dtype


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int16, torch.int32])
def test_token_ids_of_any_integer_dtype_are_read(dtype):
    # (nn.Embedding took int32 and int64 only: bytes failed with torch's RuntimeError)
    tokens = LSTMNetwork(1, 2, hidden_size=3, vocab_size=5, embedding_dim=4,
                         padding_idx=0).eval()
    ids = torch.tensor([[1, 2, 0], [3, 4, 1]])
    with torch.no_grad():
        assert torch.equal(tokens(ids.to(dtype), [2, 3]), tokens(ids, [2, 3]))


def test_inputs_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match=r"shape \(batch, n_timesteps, 2\); got shape \(3, 6\)"):
        _net()(X[:, :, 0])
    with pytest.raises(ValueError, match=r"shape \(batch, n_timesteps, 2\); got shape \(3, 6, 3\)"):
        _net()(torch.randn(3, 6, 3))
    # complex numbers: the cast to the weights' dtype dropped the imaginary part, warned
    with pytest.raises(TypeError, match=r"real numbers, got torch\.complex64"):
        _net()(X.to(torch.complex64))
    tokens = LSTMNetwork(1, 2, hidden_size=3, vocab_size=5, embedding_dim=4, padding_idx=0)
    with pytest.raises(TypeError, match=r"integer token ids, got torch\.float32"):
        tokens(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"token ids of shape \(batch, n_timesteps\)"):
        tokens(torch.ones(2, 3, 1, dtype=torch.long))
    assert tokens(torch.tensor([[1, 2, 0], [3, 0, 0]], dtype=torch.int32), [2, 1]).shape == (2, 2)
    # no timestep (torch's LSTM failed with a RuntimeError)
    with pytest.raises(ValueError, match=r"at least one timestep; got shape \(3, 0, 2\)"):
        _net()(X[:, :0])
    with pytest.raises(ValueError, match=r"at least one timestep; got shape \(2, 0\)"):
        tokens(torch.ones(2, 0, dtype=torch.long))


@pytest.mark.parametrize("params, match", [
    ({"pooling": "sum"}, r"pooling must be one of \('last', 'mean', 'max', 'attention', "
                         r"'concat'\), got 'sum'"),
    ({"ar_window": 2, "ar_scale": [1.0]}, r"ar_scale must hold one value per input feature "
                                          r"\(2\); got 1"),
    ({"ar_window": 2, "ar_scale": [1.0, 0.0]}, r"ar_scale must hold positive finite values"),
    ({"ar_window": 2, "ar_scale": [float("nan"), 1.0]}, r"positive finite values"),
    ({"embedding_dim": 4}, r"vocab_size and embedding_dim are set together"),
    # without a highway the scale was accepted and ignored
    ({"ar_scale": [1.0, 1.0]}, r"there is no highway: set ar_window too"),
    # 0 built a highway of no input (a second bias), -1 failed in torch
    ({"ar_window": 0}, r"ar_window must be a positive int .* got 0"),
    ({"ar_window": -1}, r"ar_window must be a positive int .* got -1"),
    # a kernel of 0 built, then failed on the first batch inside oneDNN
    ({"conv_channels": (3,), "conv_kernel_sizes": (0,)},
     r"conv_kernel_sizes must hold positive ints.*got \(0,\)"),
    ({"conv_channels": (3, 0), "conv_kernel_sizes": (3, 3)},
     r"conv_channels must hold positive ints.*got \(3, 0\)"),
    # without token ids padding_idx was accepted and ignored; past the vocabulary it
    # failed by torch's AssertionError; a vocabulary or embedding of no size built, then
    # failed at the first batch (an empty index_select) or named nn.LSTM's input_size
    ({"padding_idx": 0}, r"padding_idx is the token id .* no token ids: set vocab_size"),
    ({"vocab_size": 5, "embedding_dim": 4, "padding_idx": 5},
     r"padding_idx must be a token id within -5\.\.4 .*got 5"),
    ({"vocab_size": 5, "embedding_dim": 4, "padding_idx": -6}, r"within -5\.\.4 .*got -6"),
    ({"vocab_size": 0, "embedding_dim": 4}, r"vocab_size must be a positive int .*got 0"),
    ({"vocab_size": 5, "embedding_dim": 0}, r"embedding_dim must be a positive int .*got 0"),
])
def test_arguments_that_do_not_fit_are_refused(params, match):
    with pytest.raises(ValueError, match=match):
        LSTMNetwork(2, 2, hidden_size=3, **params)



@pytest.mark.parametrize("params, match", [
    # n_outputs=0 built a head of no output (with torch's warning on its empty weight),
    # trained on nothing; -1 failed by "Trying to create tensor with negative dimension"
    ({"n_outputs": 0}, r"n_outputs must be a positive int .*got 0"),
    ({"n_outputs": np.int64(-1)}, r"n_outputs must be a positive int .*got -1"),
    # (torch named its own "input_size", not the parameter passed)
    ({"n_inputs": 0}, r"n_inputs must be a positive int .*got 0"),
    ({"n_outputs": None}, r"n_outputs must be a positive int .*got None"),
    # blocks of the branch: torch's message named "channels" and "kernel_sizes"
    ({"conv_channels": [4, 4], "conv_kernel_sizes": (3,)},
     r"conv_channels=\(4, 4\) \(2 blocks\) and conv_kernel_sizes=\(3,\) \(1 block\)"),
])
def test_sizes_that_build_no_network_are_refused_by_name(params, match):
    with pytest.raises(ValueError, match=match):
        LSTMNetwork(**{"n_inputs": 2, "n_outputs": 2, "hidden_size": 3, **params})
    # n_inputs is not read with token ids (embedding_dim takes its place)
    for n_inputs in (0, None):
        net = LSTMNetwork(n_inputs, 2, hidden_size=3, vocab_size=5, embedding_dim=4).eval()
        assert net(torch.tensor([[1, 4]])).shape == (1, 2)


@pytest.mark.parametrize("ids, lengths, match", [
    ([[1, 5, 2]], None, r"token id 5, .*vocabulary of 5 ids \(0\.\.4\)"),
    ([[1, -1, 2]], None, r"token id -1, .*vocabulary of 5 ids \(0\.\.4\)"),
    # the padding is looked up too: a padding id of -1 failed as well
    ([[1, 2, -1]], [2], r"token id -1, .*padded steps"),
])
def test_token_ids_outside_the_vocabulary_are_refused_by_name(ids, lengths, match):
    # (torch's "IndexError: index out of range in self" named neither the id nor the
    # vocabulary; on CUDA an out-of-range id is a device-side assert, so there the
    # estimators check the ids with the data, sklstm.data.vocabulary)
    tokens = LSTMNetwork(1, 2, hidden_size=3, vocab_size=5, embedding_dim=4)
    with pytest.raises(ValueError, match=match):
        tokens(torch.tensor(ids, device="cpu"), lengths)
    assert tokens(torch.tensor([[0, 4, 2]]), [2]).shape == (1, 2)


@pytest.mark.parametrize("params, name", [
    ({"hidden_size": 3.0}, "hidden_size"), ({"num_layers": True}, "num_layers"),
    ({"ar_window": 2.0}, "ar_window"), ({"embedding_dim": 2.5, "vocab_size": 5}, "embedding_dim"),
    ({"conv_channels": (True,), "conv_kernel_sizes": (3,)}, "conv_channels"),
    ({"conv_channels": (3,), "conv_kernel_sizes": (2.5,)}, "conv_kernel_sizes"),
])
def test_sizes_that_are_not_integers_are_refused_by_name(params, name):
    # torch's errors named no parameter ("empty(): argument 'size' ... got float"), or
    # came at the first batch (a bool num_layers: torch.lstm's list of signatures)
    with pytest.raises(TypeError, match=rf"{name} must be an int.*got "):
        LSTMNetwork(2, 2, **{"hidden_size": 3, **params})


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("dropout, error, match", [
    # one layer: True was a dropout of 1, every feature dropped in training (the output
    # the head's bias alone, silently); NaN failed at the first training batch; None and
    # strings by "'<' not supported", naming nothing
    (True, TypeError, r"dropout must be a number.*got True \(bool\)"),
    (None, TypeError, r"dropout must be a number.*got None"),
    ("0.2", TypeError, r"dropout must be a number.*got '0\.2' \(str\)"),
    (float("nan"), ValueError, r"dropout must be within \[0, 1\).*got nan"),
    (1.0, ValueError, r"dropout must be within \[0, 1\).*got 1\.0"),
    (-0.1, ValueError, r"dropout must be within \[0, 1\).*got -0\.1"),
])
def test_a_dropout_that_is_no_probability_is_refused_by_name(num_layers, dropout, error,
                                                              match):
    with pytest.raises(error, match=match):
        LSTMNetwork(2, 2, hidden_size=3, num_layers=num_layers, dropout=dropout)
    for fraction in (0, 0.5, np.float32(0.25), np.array(0.5)):
        net = LSTMNetwork(2, 2, hidden_size=3, num_layers=num_layers, dropout=fraction)
        assert net.dropout.p == float(fraction) and net.train()(X).shape == (3, 2)


@pytest.mark.parametrize("scale", [2.0, np.array(2.0), "12", [[1.0, 2.0]]])
def test_an_ar_scale_that_is_no_sequence_of_values_is_refused(scale):
    # a number failed by "object of type 'float' has no len()", naming nothing, and a
    # string of two digits was read as the values of two features
    with pytest.raises(TypeError, match=r"ar_scale must be a sequence of numbers, one per "
                                        r"input feature .* got "):
        LSTMNetwork(2, 2, hidden_size=3, ar_window=2, ar_scale=scale)


@pytest.mark.parametrize("name", ["bidirectional", "split_level"])
@pytest.mark.parametrize("value", [1, 0, np.int64(1), "False", None])
def test_switches_that_are_not_bools_are_refused_by_name(name, value):
    # bidirectional=1 or 0 built, then failed at the first batch in torch.lstm's list of
    # signatures (1: where no sequence was padded); split_level="False" split the level
    with pytest.raises(TypeError, match=rf"{name} must be True or False; got "):
        LSTMNetwork(2, 2, hidden_size=3, **{name: value})
    for flag in (True, np.bool_(False), np.array(True)):  # numpy's bools are bools
        assert LSTMNetwork(2, 2, hidden_size=3, **{name: flag})(X).shape == (3, 2)


def test_numpy_integer_sizes_build_the_network_python_ints_build():
    # (nn.LSTM refused them: "hidden_size should be of type int, got: int64")
    sizes = {"hidden_size": 3, "num_layers": 2, "vocab_size": 5, "embedding_dim": 4}
    torch.manual_seed(0)
    expected = LSTMNetwork(1, 2, **sizes)
    torch.manual_seed(0)
    net = LSTMNetwork(np.int64(1), np.int32(2), **{k: np.int64(v) for k, v in sizes.items()})
    assert repr(net) == repr(expected)
    tokens = torch.tensor([[1, 2, 3], [4, 1, 0]])
    assert torch.equal(net(tokens, [3, 2]), expected(tokens, [3, 2]))
    numbers = LSTMNetwork(np.int64(2), 2, hidden_size=np.int64(3))
    assert numbers(X).shape == (3, 2)


def test_numpy_scalars_and_0d_arrays_build_the_network_python_values_build():
    # a DataFrame's row or np.load hands these out: a numpy bool bidirectional and a
    # 0-d num_layers failed in the LSTM's forward pass, 0-d sizes in nn.LSTM, a 0-d
    # ar_window where the batch was padded
    python = {"n_inputs": 2, "n_outputs": 2, "hidden_size": 3, "num_layers": 2,
              "bidirectional": True, "dropout": 0.5, "pooling": "concat",
              "conv_channels": (2,), "conv_kernel_sizes": (2,), "ar_window": 2,
              "split_level": True}
    numpy = {**{k: np.array(v) for k, v in python.items()},
             "bidirectional": np.bool_(True), "dropout": np.float32(0.5),
             "conv_channels": [np.array(2)], "conv_kernel_sizes": np.array([2])}
    outs = []
    for params in (python, numpy):
        torch.manual_seed(0)
        net = LSTMNetwork(**params)
        torch.manual_seed(1)
        outs.append((repr(net), net.train()(X, LENGTHS), net.eval()(X, LENGTHS)))
    assert outs[1][0] == outs[0][0]
    for got, expected in zip(outs[1][1:], outs[0][1:], strict=True):
        assert torch.equal(got, expected)


def test_an_empty_batch_may_come_with_its_empty_lengths():
    # (numpy read the empty list as float64: "lengths must be integers")
    for bidirectional in (False, True):
        assert _net(bidirectional=bidirectional, pooling="mean")(X[:0], []).shape == (0, 2)


@pytest.mark.parametrize("channels, error, match", [
    (4, TypeError, r"conv_channels must be a sequence of ints, one per block .*got 4"),
    ((), ValueError, r"conv_channels must hold one int per block .*got none"),
])
def test_conv_channels_that_are_no_blocks_are_refused(channels, error, match):
    # (torch's "'int' object is not subscriptable" and an IndexError named nothing)
    with pytest.raises(error, match=match):
        LSTMNetwork(2, 2, hidden_size=3, conv_channels=channels)


def test_the_repr_shows_the_readout_and_the_options():
    assert "pooling='last'" in repr(_net())
    net = _net(pooling="mean", ar_window=2, split_level=True)
    assert "pooling='mean', ar_window=2, split_level=True" in repr(net)
    assert repr(TimePooling(3, "max")) == "TimePooling(mode='max')"


@requires_cuda
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lengths_on_the_device_give_what_host_lengths_give(bidirectional):
    # (torch packs with CPU lengths only: device lengths failed in pack_padded_sequence)
    net = _net(bidirectional=bidirectional).cuda()
    x = X.cuda()
    with torch.no_grad():
        expected = net(x, torch.tensor(LENGTHS))
        torch.testing.assert_close(net(x, torch.tensor(LENGTHS, device="cuda")), expected)
