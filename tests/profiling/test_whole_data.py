"""What the profiled fits resolve as a fit on the whole data does, not from their few
samples: the vocabulary of token ids, and the "auto" settings of the network."""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import sklstm.estimators._base as estimator_base
from sklstm import LSTMClassifier, LSTMRegressor, profile_batch_sizes
from sklstm.exceptions import MemoryBudgetError
from sklstm.profiling._timer import _StepTimer

from . import FAST

#: the fits on the data, for the settings they resolve: one epoch is enough
ONCE = dict(FAST, max_epochs=1, tol=None)

pytest.importorskip("pandas")


@pytest.fixture
def plans(monkeypatch):
    """The plan of every profiled fit (the first: the unrecorded one)."""
    train, made = estimator_base.train, []

    def record_and_train(plan, *args, **kwargs):
        made.append(plan)
        return train(plan, *args, **kwargs)

    monkeypatch.setattr(estimator_base, "train", record_and_train)
    return made


@pytest.fixture
def n_parameters(monkeypatch):
    """The parameter count of every profiled fit's network (the first: the unrecorded)."""
    begin, counted = _StepTimer.on_train_begin, []

    def count_and_begin(self, net, **kwargs):
        counted.append(_count(net))
        return begin(self, net, **kwargs)

    monkeypatch.setattr(_StepTimer, "on_train_begin", count_and_begin)
    return counted


def _count(net):
    return sum(p.numel() for p in net.module_.parameters())


def _tokens():
    X = np.random.default_rng(0).integers(1, 50, size=(40, 12))
    X[7, 3] = 999  # one rare, large id: in few of the samples a fit draws
    X[11, :2] = 500  # cut away by seq_len=10 (keep_steps="last")
    return X, np.arange(40) % 2


def test_token_ids_get_the_vocabulary_of_the_whole_data(plans):
    # vocab_size=None sized each fit's embedding by the ids of its few samples: 50 ids
    # for one batch size, 1000 for another (whose peak memory then held the optimizer
    # state of the rows the others lacked), where a fit on the data has 1000 at any
    X, y = _tokens()
    est = LSTMClassifier(embedding_dim=2, **FAST)
    profile_batch_sizes(est, X, y, batch_sizes=[1, 2, 3], seq_lens=[None, 10], n_steps=1,
                        warmup_steps=0)
    assert [plan.vocab_size for plan in plans[1:]] == [1000, 1000] * 3
    assert LSTMClassifier(embedding_dim=2, **ONCE).fit(X, y).vocab_size_ == 1000
    assert LSTMClassifier(embedding_dim=2, **ONCE).fit(X[:7], y[:7]).vocab_size_ == 50
    # without the rare id, seq_len=10 cuts the 500s away: as a fit at 10 on the data
    X[7, 3] = 1
    plans.clear()
    profile_batch_sizes(est, X, y, batch_sizes=[2], seq_lens=[None, 10], n_steps=1)
    assert [plan.vocab_size for plan in plans[1:]] == [501, 50]
    assert LSTMClassifier(embedding_dim=2, seq_len=10, **ONCE).fit(X, y).vocab_size_ == 50


def test_a_pipeline_s_preprocessing_gives_the_ids(plans):
    X, y = _tokens()
    pipe = Pipeline([("shift", FunctionTransformer(lambda ids: ids + 1)),
                     ("lstm", LSTMClassifier(embedding_dim=2, **FAST))])
    profile_batch_sizes(pipe, X, y, batch_sizes=[1], n_steps=1, warmup_steps=0)
    assert plans[-1].vocab_size == 1001


def test_a_vocab_size_given_is_kept(plans):
    X, y = _tokens()
    est = LSTMClassifier(embedding_dim=2, vocab_size=2000, **FAST)
    profile_batch_sizes(est, X, y, batch_sizes=[1], n_steps=1)
    assert [plan.vocab_size for plan in plans] == [2000, 2000]


def test_the_network_is_the_one_a_fit_on_the_data_builds(plans):
    # a sequence of one step turns conv_channels="auto"'s branch off: the fit on the data
    # has none, but the profiled fits, whose samples lacked it, had (64, 128, 64) (on
    # 396 sequences of 2-59 steps and 4 of one, batch 64: 611 samples/s and 42.9 MB with
    # the branch, 6039 and 4.7 MB as the fit trains)
    rng = np.random.default_rng(0)
    lengths = np.r_[np.ones(2, int), rng.integers(2, 30, size=78)]
    X = [rng.normal(size=(n, 2)).astype(np.float32) for n in lengths]
    y = np.arange(80) % 2
    est = LSTMClassifier(downsample=1, **FAST)
    profile_batch_sizes(est, X, y, batch_sizes=[2, 4], n_steps=1, warmup_steps=0)
    assert [plan.conv_channels for plan in plans[1:]] == [None, None]
    assert LSTMClassifier(downsample=1, **ONCE).fit(X, y).conv_channels_ is None
    # ar_window="auto" adds the highway for enough sequences: the fit on 400 has it,
    # and profiled fits had it at batch 64 (256 samples) but not at batch 4 (16)
    plans.clear()
    X = rng.normal(size=(400, 10, 2)).astype(np.float32)
    y = rng.normal(size=400)
    reg = LSTMRegressor(**FAST)
    profile_batch_sizes(reg, X, y, batch_sizes=[4, 64], n_steps=2)
    assert [plan.ar_window for plan in plans[1:]] == [10, 10]
    assert LSTMRegressor(**ONCE).fit(X, y).ar_window_ == 10


def test_downsample_auto_is_the_data_s_factor():
    # with no warm-up on the longest sequences, the samples' longest set "auto"'s factor:
    # here 2 (<= 200 steps) where a fit on the data averages by 10 (its 1000 steps)
    rng = np.random.default_rng(0)
    lengths = np.r_[1000, rng.integers(100, 201, size=59)]
    X = [rng.normal(size=(n, 1)).astype(np.float32) for n in lengths]
    y = rng.normal(size=60)
    out = profile_batch_sizes(LSTMRegressor(**FAST), X, y, batch_sizes=[2], n_steps=1,
                              warmup_steps=0)
    assert LSTMRegressor(**ONCE).fit(X, y).downsample_ == 10
    assert out["timesteps"].max() <= 20  # at most 200 steps, averaged by 10


def test_a_network_too_large_for_memory_is_each_pair_s_error(data, monkeypatch):
    # the whole data's preparation tells it too: the pairs still tell it as their error
    def too_large(plan):
        raise MemoryBudgetError("the network needs 9 TiB")

    monkeypatch.setattr(estimator_base, "check_model_fits", too_large)
    X, y = data
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4, 8], n_steps=1)
    assert out["error"].tolist() == ["MemoryBudgetError: the network needs 9 TiB"] * 2
    assert not out["fits"].any()


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_a_classifier_s_output_layer_has_every_class_of_y(n_parameters, class_weight):
    # the classes (the output layer's size) came from the few samples each fit drew:
    # on 400 samples of 100 classes, 67,516 parameters at batch 2, 68,385 at batch 8 and
    # 73,520 at batch 64, where the fit on the data has 75,100
    X = np.random.default_rng(0).normal(size=(200, 4, 2)).astype(np.float32)
    y = np.array([f"c{i % 50:02d}" for i in range(200)])
    est = LSTMClassifier(class_weight=class_weight, **FAST)
    out = profile_batch_sizes(est, X, y, batch_sizes=[1, 4, 16], n_steps=1)
    fitted = LSTMClassifier(class_weight=class_weight, **ONCE).fit(X, y)
    assert n_parameters == [_count(fitted.net_)] * 4 and out["error"].isna().all()


def test_the_samples_classes_are_encoded_among_all_of_y_s():
    # the hook profile_batch_sizes sets on its fits' clones: a drawn sample's labels are
    # encoded as indices into the whole y's classes, which are the fit's classes_
    clf = LSTMClassifier()
    clf._profile_classes = np.array(["a", "b", "c", "d"], dtype=object)
    encoded, target = clf._encode_y(np.array(["d", "b", "d"], dtype=object))
    assert encoded.tolist() == [3, 1, 3] and target["classes_"].tolist() == list("abcd")
    with pytest.raises(ValueError, match=r"classes \['e'\] of y are not among"):
        clf._encode_y(np.array(["a", "e"], dtype=object))
