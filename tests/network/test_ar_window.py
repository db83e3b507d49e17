"""The network's linear autoregressive highway (``ar_window``, LSTNet; in
:mod:`sklstm.network.lstm`): what it learns that the LSTM alone cannot, what it
refuses, how ``"auto"`` (the regressor's default) sizes it from the data, and how it
meets ragged input, ``relative``, saving, an automatic batch and bf16. (Checkpoints:
tests/training/test_checkpointing.py.)"""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from torch.profiler import ProfilerActivity, profile

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.network import LSTMNetwork
from sklstm.network.lstm import last_steps

from ..settings import TINY

rng = np.random.default_rng(0)
N, T = 96, 10
X = rng.normal(size=(N, T, 2)).astype(np.float32)
#: A linear extrapolation of the last two steps of feature 0: a linear AR of order 2.
Y = 2 * X[:, -1, 0] - X[:, -2, 0]
AR = dict(TINY, ar_window=3, device="cpu")


def test_last_steps_reads_each_sequence_up_to_its_own_end():
    x = torch.arange(2 * 5 * 2, dtype=torch.float32).reshape(2, 5, 2)
    lengths = torch.tensor([5, 2])
    got = last_steps(x, lengths, 3)
    assert torch.equal(got[0], x[0, 2:].flatten())
    # the second sequence has 2 real steps: one zero step before its start, then them
    assert torch.equal(got[1], torch.cat([torch.zeros(2), x[1, :2].flatten()]))
    assert torch.equal(last_steps(x, None, 3), x[:, 2:].flatten(1))
    assert torch.equal(last_steps(x, None, 7)[:, :4], torch.zeros(2, 4))  # before the start


def test_the_highway_starts_at_zero_and_changes_nothing_else():
    torch.manual_seed(0)
    plain = LSTMNetwork(2, 1, hidden_size=4).eval()
    torch.manual_seed(0)
    highway = LSTMNetwork(2, 1, hidden_size=4, ar_window=3).eval()
    x = torch.from_numpy(X[:8])
    assert torch.equal(plain(x), highway(x))  # same draws, zero highway weights
    assert highway.ar.in_features == 3 * 2


def test_a_wide_highway_predicts_by_blocks_of_rows_each_as_alone():
    # evaluation multiplies every row by itself (no batch-dependent rounding): once as
    # one (512, 1000, 100) product of 195 MiB, more than the training step's memory
    torch.manual_seed(0)
    net = LSTMNetwork(20, 100, hidden_size=2, ar_window=50).eval()
    torch.nn.init.normal_(net.ar.weight)
    x = torch.randn(512, 50, 20)
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        whole = net(x)
    assert max(event.cpu_memory_usage for event in prof.events()) < 32 * 2**20
    with torch.no_grad():  # rows beyond the first block, alone and among others
        assert torch.equal(whole[100:103], torch.cat([net(x[i:i + 1]) for i in range(100, 103)]))
        assert torch.equal(whole[90:200], net(x[90:200]))


@pytest.mark.parametrize("window", [{"ar_window": 2}, {}], ids=["2", "default"])
def test_the_highway_extrapolates_a_linear_autoregression_past_the_training_range(window):
    params = dict(hidden_size=4, max_epochs=60, tol=None, lr=0.03, batch_size=16,
                  random_state=0, n_threads=1)
    far = 4 * X  # levels four times beyond everything seen in training
    y_far = 2 * far[:, -1, 0] - far[:, -2, 0]
    plain = LSTMRegressor(**params, ar_window=None).fit(X, Y)
    # the default, "auto": over all 10 steps, 96 sequences for 20 weights
    highway = LSTMRegressor(**params, **window).fit(X, Y)
    assert highway.score(X, Y) > 0.99
    # the LSTM alone saturates out there; the linear part carries on
    assert highway.score(far, y_far) > 0.95
    assert plain.score(far, y_far) < highway.score(far, y_far) - 0.2


@pytest.mark.parametrize("data, n, window", [
    (X, N, T),  # 4 x 10 steps x 2 features <= 96 sequences: every step
    (X, 4 * T * 2, T),  # exactly four sequences per weight
    (X, 4 * T * 2 - 1, None),  # one sequence fewer: none
    ([x[: 4 + i % 7] for i, x in enumerate(X)], N, 4),  # ragged: the shortest
    (X[:, :, :1], N, T),  # one feature
], ids=["whole", "four-per-weight", "too-few", "ragged", "univariate"])
def test_auto_spans_the_shortest_sequence_where_there_are_four_sequences_per_weight(
        data, n, window):
    est = LSTMRegressor(**TINY).fit(data[:n], Y[:n])  # ar_window="auto": the default
    assert est.ar_window == "auto" and est.ar_window_ == window
    n_features = np.shape(data[0])[-1]
    ar = est.net_.module_.ar
    assert (ar is None) if window is None else (ar.in_features == window * n_features)


def test_auto_counts_the_steps_the_network_reads_and_no_highway_for_tokens():
    # downsample=3: 10 steps -> 4 read, 4 x 4 x 2 <= 96
    assert LSTMRegressor(**TINY, downsample=3).fit(X, Y).ar_window_ == 4
    assert LSTMClassifier(**TINY, ar_window="auto", seq_len=6).fit(X, Y > 0).ar_window_ == 6
    ids = np.random.default_rng(1).integers(1, 6, size=(N, T))
    tokens = LSTMRegressor(**TINY, embedding_dim=3).fit(ids, Y)
    assert tokens.ar_window_ is None and tokens.net_.module_.ar is None
    # the classifier's default is none
    clf = LSTMClassifier(**TINY).fit(X, Y > 0)
    assert clf.ar_window is None and clf.ar_window_ is None and clf.net_.module_.ar is None


def test_the_highway_reads_every_feature_over_its_root_mean_square():
    """Values in the hundreds: a linear map of them, stepped by Adam from zero, makes
    training diverge; over their root mean square it learns as on values near 1."""
    big = X * np.float32(300) + np.float32(500)
    est = LSTMRegressor(ar_window=3, max_epochs=20, tol=None, random_state=0,
                        n_threads=1).fit(big, Y)
    assert est.score(big, Y) > 0.8
    rms = np.sqrt((big.astype(np.float64) ** 2).mean(axis=(0, 1)))
    # per feature, repeated for each of the window's steps
    # (the buffer is on the fit's device)
    assert_allclose(est.net_.module_.ar_divisor.cpu().numpy(), np.tile(rms, 3), rtol=1e-5)


@pytest.mark.parametrize("params, data, match", [
    ({"ar_window": T + 1}, X, r"ar_window=11 reads the last 11 steps of each sequence, but "
                              r"the shortest training sequence has 10 step\(s\)"),
    ({"ar_window": 4}, [x[:3 + i % 5] for i, x in enumerate(X)],
     r"shortest training sequence has 3 step\(s\)"),
    ({"ar_window": 4, "seq_len": 3}, X, r"shortest training sequence has 3 step\(s\)"),
    # refused as longer than the data before the network's size is counted (torch could
    # not build its highway to count it)
    ({"ar_window": 2**62}, X, r"ar_window=4611686018427387904 reads the last"),
    ({"ar_window": 2, "embedding_dim": 4}, np.ones((N, T), dtype=np.int64),
     r"ar_window=2 maps the last input values linearly .* token ids"),
    ({"ar_window": 0}, X, r"'ar_window' parameter"),
    ({"ar_window": "all"}, X, r"'ar_window' parameter"),
    ({"ar_window": True}, X, r"'ar_window' parameter"),
])
def test_windows_that_do_not_fit_are_refused_before_training(params, data, match):
    est = LSTMRegressor(**{**AR, **params})
    with pytest.raises(ValueError, match=match):
        est.fit(data, Y)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("window, resolved", [(3, 3), ("auto", 4)])
def test_ragged_relative_input_saving_and_loading(tmp_path, window, resolved):
    ragged = [x[: 4 + i % 7] for i, x in enumerate(X)]
    y = np.array([x[-1, 0] + 1.0 for x in ragged])
    est = LSTMRegressor(**{**AR, "ar_window": window}, relative="last").fit(ragged, y)
    assert np.abs(est.net_.module_.ar.weight.detach().numpy()).sum() > 0  # it trained
    path = tmp_path / "ar.safetensors"
    est.save(path)
    loaded = sklstm.load(path)
    # the network is built with the window the fit chose, whatever the data predicted
    assert loaded.ar_window == window and loaded.ar_window_ == resolved
    assert_allclose(loaded.predict(ragged), est.predict(ragged), rtol=0, atol=0)
    # a prediction does not depend on the sequences predicted beside it
    assert_allclose(est.predict(ragged[5:6]), est.predict(ragged)[5:6], rtol=0, atol=0)


@pytest.mark.parametrize("params", [{"batch_size": "auto", "max_memory": "2GiB"},
                                    {"precision": "bf16"}])
def test_the_highway_fits_with_an_automatic_batch_and_bf16(params):
    y = (X[:, -1, 0] > 0).astype(int)
    est = LSTMClassifier(**{**AR, **params}).fit(X, y)
    assert est.n_epochs_ == TINY["max_epochs"] and np.isfinite(est.predict_proba(X)).all()
    assert est.net_.module_.ar.out_features == 2  # one logit per class
