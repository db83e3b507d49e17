"""Each sequence split into its level and its shape (``split_level``): what the
network reads, what the classifier learns by default, and what is refused. (The check
behind "auto": tests/data/test_level.py.)"""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.network import LSTMNetwork, split_level

from ..settings import NEIGHBOUR_RTOL, TINY

rng = np.random.default_rng(0)
N, T = 96, 24
STEPS = np.linspace(0, 2 * np.pi, T, dtype=np.float32)


def _recordings(phase=0.0, level=0.0, offset=0.0):
    """Two classes, one feature: a sine shifted by ``phase`` and raised by ``level`` per
    class label, a random offset of each recording's own (``offset`` wide) and noise."""
    y = np.arange(N) % 2
    X = np.stack([np.sin(STEPS + label * phase) + label * level + rng.uniform(-offset, offset)
                  for label in y]) + rng.normal(0, 0.1, size=(N, T))
    return X[:, :, None].astype(np.float32), y


def test_the_level_is_each_sequences_mean_over_its_own_steps():
    x = torch.tensor(rng.normal(size=(3, 5, 2)), dtype=torch.float32)
    lengths = torch.tensor([5, 2, 4])
    padded = x * (torch.arange(5)[None, :, None] < lengths[:, None, None])
    shape, level = split_level(padded, lengths)
    for i, n in enumerate(lengths.tolist()):
        mean = x[i, :n].mean(dim=0)
        assert_allclose(level[i], mean, rtol=1e-6)
        assert_allclose(shape[i, :n], x[i, :n] - mean, rtol=1e-5, atol=1e-6)
        assert (shape[i, n:] == 0).all()  # the padding stays padding
    full_shape, full_level = split_level(x)
    assert_allclose(full_level, x.mean(dim=1), rtol=1e-6)
    assert_allclose(full_shape, x - x.mean(dim=1, keepdim=True), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_a_level_of_a_narrow_dtype_is_the_same_padded_or_not(dtype):
    # a bfloat16 sum divided by a bfloat16 length rounded twice: a bit off the mean of
    # the sequence alone (0.002 here), and so the network's outputs beside longer ones
    lengths = [5, 1, 3, 2]
    generator = torch.Generator().manual_seed(1)
    seqs = [torch.randn(n, 2, generator=generator).to(dtype) for n in lengths]
    padded = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    shape, level = split_level(padded, torch.tensor(lengths))
    for i, (seq, n) in enumerate(zip(seqs, lengths, strict=True)):
        alone_shape, alone_level = split_level(seq[None])
        assert level.dtype == dtype and torch.equal(level[i], alone_level[0])
        assert torch.equal(shape[i, :n], alone_shape[0])
    if dtype == torch.float16:
        return  # (torch's float16 LSTM on the CPU rounds by the batch's size itself)
    torch.manual_seed(0)
    net = LSTMNetwork(2, 2, hidden_size=3, split_level=True).to(dtype).eval()
    with torch.no_grad():
        together = net(padded, torch.tensor(lengths)).float()
        alone = torch.cat([net(seq[None]) for seq in seqs]).float()
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)


def test_a_sequence_predicts_the_same_beside_longer_ones():
    X, y = _recordings()
    ragged = [x[: 6 + i % 18] for i, x in enumerate(X)]
    est = LSTMClassifier(**{**TINY, "device": "cpu"}).fit(ragged, y)
    assert est.split_level_
    together = est.predict_proba(ragged)
    alone = np.concatenate([est.predict_proba(ragged[i:i + 1]) for i in range(8)])
    assert_allclose(together[:8], alone, rtol=NEIGHBOUR_RTOL, atol=1e-6)


def test_the_shape_reaches_the_lstm_and_the_level_the_head():
    net = LSTMNetwork(n_inputs=2, n_outputs=3, hidden_size=4, conv_channels=(4, 4, 4),
                      split_level=True)
    assert net.head.in_features == 4 + 4 + 2  # the last state, the branch, two means
    x = torch.tensor(rng.normal(size=(4, 9, 2)), dtype=torch.float32)
    shifted = x + torch.tensor([5.0, -3.0])
    net.eval()
    with torch.no_grad():
        # the readouts see the shape only: a shift moves the output through the head's
        # level weights alone
        moved = net(shifted) - net(x)
        expected = torch.tensor([5.0, -3.0]) @ net.head.weight[:, -2:].T
    assert_allclose(moved, expected.expand_as(moved), rtol=1e-4, atol=1e-5)


#: Recordings whose classes are shapes, each with an offset of its own four times as
#: wide as the shape: their levels say nothing of the class.
OFFSETS = _recordings(phase=np.pi / 2, offset=4.0)
#: The same shape in both classes, one unit apart in level: the level is the class.
LEVELS = _recordings(level=1.0)
LEARNING = dict(hidden_size=8, max_epochs=30, tol=None, random_state=0, device="cpu",
                n_threads=1)


def test_offsets_of_each_recording_do_not_hide_the_shape():
    # the LSTM alone, small and briefly trained: split it learns the shapes, read as
    # they are it is still sorting out the offsets
    X, y = OFFSETS
    split = LSTMClassifier(**LEARNING, conv_channels=None).fit(X[:64], y[:64])
    whole = LSTMClassifier(**LEARNING, conv_channels=None, split_level=False).fit(
        X[:64], y[:64])
    assert split.split_level_ and split.score(X[64:], y[64:]) >= 0.95
    assert whole.score(X[64:], y[64:]) <= 0.8


def test_a_class_that_is_a_level_is_read_as_it_is_by_default():
    # split, the network learns the noise of the (identical) shapes instead of the
    # level beside them; "auto" sees that the levels alone tell the classes apart
    X, y = LEVELS
    auto = LSTMClassifier(random_state=0, device="cpu", n_threads=1).fit(X[:64], y[:64])
    split = LSTMClassifier(random_state=0, device="cpu", n_threads=1,
                           split_level=True).fit(X[:64], y[:64])
    assert not auto.split_level_ and auto.score(X[64:], y[64:]) >= 0.95
    assert split.score(X[64:], y[64:]) <= 0.75


def test_the_classifier_decides_by_default_and_the_regressor_reads_as_it_is():
    X, y = OFFSETS
    clf = LSTMClassifier(**{**TINY, "device": "cpu"}).fit(X, y)
    reg = LSTMRegressor(**{**TINY, "device": "cpu"}).fit(X, y.astype(float))
    assert (clf.split_level, clf.split_level_) == ("auto", True)
    assert (reg.split_level, reg.split_level_) == (False, False)
    lstm_and_branch = clf.net_.module_.head.in_features - 1
    assert reg.set_params(split_level="auto").fit(X, y).split_level_
    assert not reg.fit(*LEVELS).split_level_
    # numpy's bool is a bool
    assert LSTMRegressor(**TINY, split_level=np.True_).fit(*LEVELS).split_level_
    assert LSTMClassifier(**TINY, split_level=False).fit(
        X, y).net_.module_.head.in_features == lstm_and_branch


@pytest.mark.parametrize("data, params", [
    ("tokens", {"embedding_dim": 3}),
    ("one step", {}),
    ("numbers", {"relative": "mean"}),
])
def test_auto_is_off_where_there_is_no_level_to_split_off(data, params):
    X, y = OFFSETS
    X = {"tokens": rng.integers(1, 6, size=(N, T)), "one step": X[:, -1:],
         "numbers": X}[data]
    est = LSTMClassifier(**TINY, **params).fit(X, y)
    assert est.split_level == "auto" and not est.split_level_
    assert np.isfinite(est.predict_proba(X)).all()


@pytest.mark.parametrize("params, match", [
    ({"embedding_dim": 3}, r"split_level=True splits each sequence.*token ids "
                           r"\(embedding_dim=3\).*split_level='auto'"),
    ({"relative": "mean"}, r"relative='mean' has already subtracted"),
    ({"split_level": "yes"}, r"'split_level' parameter"),
])
def test_a_level_that_is_not_there_is_refused_before_training(params, match):
    X = rng.integers(1, 6, size=(N, T)) if "embedding_dim" in params else (
        rng.normal(size=(N, T, 1)).astype(np.float32))
    est = LSTMClassifier(**TINY, **{"split_level": True, **params})
    with pytest.raises(ValueError, match=match):
        est.fit(X, np.arange(N) % 2)
    assert not hasattr(est, "net_")


def test_saved_and_loaded_with_the_split_its_fit_used(tmp_path):
    X, y = OFFSETS
    ragged = [x[: 4 + i % 20] for i, x in enumerate(X)]
    est = LSTMClassifier(**{**TINY, "device": "cpu"}).fit(ragged, y)
    est.save(tmp_path / "split.safetensors")
    loaded = sklstm.load(tmp_path / "split.safetensors")
    assert (loaded.split_level, loaded.split_level_) == ("auto", True)
    assert_allclose(loaded.predict_proba(ragged), est.predict_proba(ragged), rtol=0, atol=0)
