"""The convolutional branch (LSTM-FCN): what it learns, what it refuses, and how it
meets accumulation, saving and the rest of a fit. (Padding: tests/network/test_pooling.py.)"""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from torch.nn import functional as F

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.network import ConvBranch

from ..settings import TINY, skip_without_bf16

rng = np.random.default_rng(0)
N, T = 64, 30
#: A bump of four steps somewhere in noise: class 1 has it, class 0 has not.
X = rng.normal(size=(N, T, 1)).astype(np.float32)
Y = np.arange(N) % 2
for i in np.flatnonzero(Y):
    start = rng.integers(0, T - 4)
    X[i, start:start + 4, 0] += 3.0
CONV = dict(TINY, conv_channels=(4, 8, 4), device="cpu")


def test_the_branch_finds_a_shape_at_any_position():
    clf = LSTMClassifier(hidden_size=4, conv_channels=8, max_epochs=40, tol=None,
                         random_state=0, device="cpu").fit(X, Y)
    assert clf.score(X, Y) >= 0.95
    assert isinstance(clf.net_.module_.conv, ConvBranch)
    assert [b[1].out_channels for b in clf.net_.module_.conv.blocks] == [8, 16, 8]


@pytest.mark.parametrize("params, match", [
    ({"conv_kernel_sizes": (8, 5, 31)}, r"kernel of 31 steps, but the shortest training "
                                        r"sequence has 30 step\(s\)"),
    ({"conv_channels": (4, 8)}, r"one entry per convolution block"),
    ({"conv_channels": (4, 0, 4)}, r"conv_channels must be a non-empty sequence of positive"),
    ({"conv_kernel_sizes": ()}, r"conv_kernel_sizes must be a non-empty sequence"),
    # nested: not raveled into blocks nobody wrote
    ({"conv_kernel_sizes": [[8, 5, 3]]}, r"conv_kernel_sizes must be .* got \[\[8, 5, 3\]\]"),
    ({"conv_channels": np.array([[4, 8, 4]])}, r"conv_channels must be a non-empty sequence"),
    ({"conv_channels": True}, r"'conv_channels' parameter"),
])
def test_sizes_that_do_not_fit_are_refused_before_training(params, match):
    est = LSTMClassifier(**{**CONV, **params})
    with pytest.raises(ValueError, match=match):
        est.fit(X, Y)
    assert not hasattr(est, "net_")


def test_sizes_may_be_numpy_values():
    est = LSTMClassifier(**{**CONV, "conv_channels": np.array([4, 8, 4]),
                            "conv_kernel_sizes": np.array([5, 3, 3])}).fit(X, Y)
    assert [b[1].kernel_size[0] for b in est.net_.module_.conv.blocks] == [5, 3, 3]


def test_batch_norm_takes_its_statistics_per_micro_batch():
    # accumulation adds up the gradients of an effective batch, but batch normalization
    # sees one micro-batch at a time: 64 samples, micro-batches of 8 -> 8 per epoch
    est = LSTMClassifier(**{**CONV, "batch_size": 8, "accumulation_steps": 4,
                            "max_epochs": 1}).fit(X, Y)
    norms = [m for m in est.net_.module_.conv.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert {int(m.num_batches_tracked) for m in norms} == {N // 8}
    assert est.n_updates_ == N // 32


def test_accumulation_is_one_fit_without_the_branch_and_another_with_it():
    # what the docs state (benchmarks/bench_conv_accumulation.py measures it at the
    # defaults): micro-batch statistics make (8, 4) another fit than (32, 1), not a
    # rounding; without batch normalization the two are one fit
    def proba(conv_channels, batch_size, accumulation_steps):
        est = LSTMClassifier(**{**CONV, "conv_channels": conv_channels, "max_epochs": 3,
                                "batch_size": batch_size,
                                "accumulation_steps": accumulation_steps})
        return est.fit(X, Y).predict_proba(X)

    assert_allclose(proba(None, 8, 4), proba(None, 32, 1), rtol=0, atol=1e-6)
    assert np.abs(proba((4, 8, 4), 8, 4) - proba((4, 8, 4), 32, 1)).max() > 1e-3


def test_ragged_input_saving_and_loading(tmp_path):
    ragged = [x[: 12 + i % 18] for i, x in enumerate(X)]
    est = LSTMRegressor(**CONV).fit(ragged, X[:, :, 0].max(axis=1))
    path = tmp_path / "conv.safetensors"
    est.save(path)
    loaded = sklstm.load(path)
    assert loaded.conv_channels == (4, 8, 4)
    assert_allclose(loaded.predict(ragged), est.predict(ragged), rtol=0, atol=0)


@pytest.mark.parametrize("params", [{"batch_size": "auto", "max_memory": "2GiB"},
                                    {"precision": "bf16"}])
def test_the_branch_fits_with_an_automatic_batch_and_bf16(params):
    if "precision" in params:
        skip_without_bf16()
    est = LSTMClassifier(**{**CONV, **params}).fit(X, Y)
    assert est.n_epochs_ == TINY["max_epochs"] and np.isfinite(est.predict_proba(X)).all()


# -- the classifier's default: conv_channels="auto" --------------------------------------

def test_the_classifier_has_the_branch_by_default_and_the_regressor_not():
    clf = LSTMClassifier(**{**TINY, "device": "cpu"}).fit(X, Y)
    reg = LSTMRegressor(**{**TINY, "device": "cpu"}).fit(X, X[:, :, 0].max(axis=1))
    assert clf.conv_channels == "auto"
    assert clf.conv_channels_ == sklstm.network.conv.AUTO_CONV_CHANNELS == (64, 128, 64)
    assert [b[1].out_channels for b in clf.net_.module_.conv.blocks] == [64, 128, 64]
    assert reg.conv_channels_ is None and reg.net_.module_.conv is None
    assert LSTMClassifier().lr == 1e-3 and LSTMRegressor().lr == 1e-2


@pytest.mark.parametrize("conv_channels, expected", [("auto", None), ((4, 8, 4), (4, 8, 4))])
def test_token_ids_get_the_branch_only_where_it_is_named(conv_channels, expected):
    # "auto" builds none on token ids: on sentences it cost 3-4x the fit's time and lost
    # held-out accuracy (benchmarks/bench_token_conv.py); named channels still build it
    sentences = [x[: 3 + i % 10, 0].round().astype(int) % 20 + 1 for i, x in enumerate(X)]
    est = LSTMClassifier(**{**CONV, "conv_channels": conv_channels, "embedding_dim": 3,
                            "conv_kernel_sizes": (3, 3, 3)}).fit(sentences, Y)
    assert est.conv_channels_ == expected
    assert (est.net_.module_.conv is None) is (expected is None)


@pytest.mark.parametrize("n_steps, expected", [(3, (64, 128, 64)), (1, None)])
def test_auto_accepts_sequences_shorter_than_its_kernels(n_steps, expected):
    # a named branch refuses a kernel of 8 on 3 steps (above); "auto" reads zeros past
    # the ends, and one step (one value per channel) gets no branch
    short = X[:, -n_steps:]
    est = LSTMClassifier(**{**CONV, "conv_channels": "auto"}).fit(short, Y)
    assert est.conv_channels_ == expected
    assert np.isfinite(est.predict_proba(short)).all()


def test_a_saved_default_classifier_loads_with_the_branch_its_fit_chose(tmp_path):
    ragged = [x[: 2 + i % 28] for i, x in enumerate(X)]  # 2 to 29 steps
    est = LSTMClassifier(**{**TINY, "device": "cpu"}).fit(ragged, Y)
    est.save(tmp_path / "auto.safetensors")
    loaded = sklstm.load(tmp_path / "auto.safetensors")
    assert (loaded.conv_channels, loaded.conv_channels_) == ("auto", (64, 128, 64))
    assert_allclose(loaded.predict_proba(ragged), est.predict_proba(ragged), rtol=0, atol=0)


# -- batch normalization over padded batches ---------------------------------------------

def _train_pass(branch, x, lengths):
    """One training pass of a copy of ``branch``: its output and running statistics."""
    copy = ConvBranch(2, (3, 4), (5, 3))
    copy.load_state_dict(branch.state_dict())
    out = copy.train()(x, lengths)
    norms = [block[2] for block in copy.blocks]
    return [out, *(n.running_mean for n in norms), *(n.running_var for n in norms)]


def test_batch_norm_in_training_counts_the_real_steps_only():
    # the padding of a batch (as wide as bucketing and rounding make it) must change
    # neither the training outputs nor the running statistics evaluation reads
    torch.manual_seed(0)
    branch = ConvBranch(2, (3, 4), (5, 3))
    lengths = torch.tensor([3, 7, 1])
    seqs = [torch.randn(n, 2) + 3.0 for n in lengths.tolist()]
    results = []
    for width in (7, 40):
        x = torch.zeros(3, width, 2)
        for i, seq in enumerate(seqs):
            x[i, :len(seq)] = seq
        results.append(_train_pass(branch, x, lengths))
    for narrow, wide in zip(*results, strict=True):
        torch.testing.assert_close(narrow, wide)
    full = torch.randn(2, 6, 2)  # no padding: the real steps are every step
    for dense, masked in zip(_train_pass(branch, full, None),
                             _train_pass(branch, F.pad(full, (0, 0, 0, 5)), torch.tensor([6, 6])),
                             strict=True):
        torch.testing.assert_close(dense, masked)


def test_a_training_batch_of_one_value_per_channel_is_normalized_by_running_statistics():
    # one sequence of one step (the last batch of data of one step, or one padded): torch
    # refuses batch statistics of one value; the running ones are used and kept
    branch = ConvBranch(2, (3,), (1,)).train()
    for x, lengths in [(torch.randn(1, 1, 2), None), (torch.randn(1, 8, 2), torch.tensor([1]))]:
        out = branch(x, lengths)
        assert torch.isfinite(out).all()
        assert int(branch.blocks[0][2].num_batches_tracked) == 0
    X1 = X[:5, :1]
    est = LSTMClassifier(**{**CONV, "conv_channels": (3,), "conv_kernel_sizes": (1,),
                            "batch_size": 2}).fit(X1, Y[:5])  # batches of 2, 2 and 1
    assert np.isfinite(est.predict_proba(X1)).all()


def test_a_bf16_branch_on_the_cpu_is_close_to_float32():
    # oneDNN's bfloat16 conv1d on AMX CPUs (torch 2.13) was off by 3.4 on outputs of 3:
    # where the check finds it wrong, the branch runs in float32; elsewhere it rounds
    torch.manual_seed(0)
    branch = ConvBranch(8, channels=(64, 128, 64), kernel_sizes=(8, 5, 3)).eval()
    x = torch.randn(4, 40, 8)
    exact = branch(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        rounded = branch(x).float()
    assert (rounded - exact).abs().max() <= 0.05 * exact.abs().max()


@pytest.mark.parametrize("wrong", [True, False])
def test_where_bf16_conv_is_wrong_the_branch_runs_in_float32(monkeypatch, wrong):
    monkeypatch.setattr(sklstm.network.conv, "bf16_conv_is_wrong", lambda: wrong)
    torch.manual_seed(0)
    branch = ConvBranch(3, channels=(4, 8, 4), kernel_sizes=(5, 3, 3)).eval()
    x = torch.randn(2, 12, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = branch(x, torch.tensor([12, 7]))
    # the very float32 result where bfloat16 is wrong; rounded where it is not
    assert torch.equal(out, branch(x, torch.tensor([12, 7]))) is wrong


def test_a_padded_batch_leaves_running_statistics_alone_without_track_running_stats():
    # torch's own norm neither reads nor moves its running statistics in training mode
    # without track_running_stats; the padded batch's masked pass moved them all the same
    # (the divergence guard reads a batch's loss so, its statistics untouched)
    torch.manual_seed(0)
    branch = ConvBranch(2, channels=(3,), kernel_sizes=(3,)).train()
    norm = branch.blocks[0][2]
    norm.track_running_stats = False
    before = {name: value.clone() for name, value in norm.named_buffers()}
    x = torch.randn(3, 5, 2)
    x[1, 3:] = 0
    lengths = torch.tensor([5, 3, 5])
    padded = branch(x, lengths)
    assert all(torch.equal(value, before[name]) for name, value in norm.named_buffers())
    # and normalized by the batch's statistics, as with them tracked
    norm.track_running_stats = True
    assert_allclose(padded.detach(), branch(x, lengths).detach(), rtol=1e-6, atol=1e-6)
