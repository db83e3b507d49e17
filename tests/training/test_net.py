"""The estimators' skorch net, SequenceNet."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.base import is_classifier
from skorch.callbacks import EpochScoring

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.exceptions import MicroBatchShrunkWarning
from sklstm.network import LSTMNetwork
from sklstm.training import SequenceNet
from sklstm.training.precision import Precision

from .faults import InjectOOM

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 6, 2)).astype(np.float32)
Y = np.where(X[:, -1, 0] > 0, "up", "down")


@pytest.mark.parametrize("scoring", ["accuracy", "balanced_accuracy", "roc_auc", "neg_log_loss"])
def test_skorchs_epoch_scoring_scores_a_classifier(scoring):
    """skorch's scorers call the net with the encoded targets: its predict gave the
    class probabilities ("can't handle a mix of binary and continuous-multioutput
    targets"), and scorers of probabilities refused a net that was no classifier."""
    clf = LSTMClassifier(hidden_size=4, max_epochs=2, conv_channels=None, device="cpu",
                         early_stopping=True, random_state=0, n_threads=1,
                         callbacks=[EpochScoring(scoring, lower_is_better=False)])
    with pytest.warns(UserWarning):  # (two epochs: did not learn)
        clf.fit(X, Y)
    scores = clf.history_[:, scoring]
    assert len(scores) == 2 and all(np.isfinite(scores))
    if scoring == "neg_log_loss":  # the validation loss, from predict_proba
        assert scores == pytest.approx([-loss for loss in clf.history_[:, "valid_loss"]],
                                       rel=1e-5)
    assert is_classifier(clf.net_) and clf.net_.classes_.tolist() == [0, 1]  # encoded


def test_a_regressors_net_is_no_classifier():
    reg = LSTMRegressor(hidden_size=4, max_epochs=1, tol=None, device="cpu", random_state=0,
                        n_threads=1, callbacks=[EpochScoring("r2", on_train=True)])
    reg.fit(X, X[:, -1, 0])
    assert not is_classifier(reg.net_) and not hasattr(reg.net_, "classes_")
    assert np.isfinite(reg.history_[-1, "r2"])  # predict: the outputs


def test_a_step_with_a_gradient_scaler_is_redone_after_running_out_of_memory():
    """A step that ran out of memory after its gradients were unscaled (clipping, the
    optimizer's step) was redone on the same GradScaler, which refused: "unscale_() has
    already been called on this optimizer since the last update()". (precision="16-mixed"
    scales on CUDA only; its scaler's bookkeeping is the same with float32 on the CPU.)"""
    def fit(*callbacks):
        torch.manual_seed(0)
        net = SequenceNet(LSTMNetwork, module__n_inputs=2, module__n_outputs=1,
                          module__hidden_size=4, criterion=torch.nn.MSELoss, batch_size=8,
                          micro_batch_size=8, precision=Precision(None, True, "cpu"),
                          max_epochs=2, train_split=None, verbose=0, device="cpu",
                          iterator_train__shuffle=False, callbacks=list(callbacks))
        return net.fit(X, X[:, -1, :1])

    with pytest.warns(MicroBatchShrunkWarning):
        recovered = fit(InjectOOM(at=2))
    assert [(e["from"], e["to"]) for e in recovered.memory_events_] == [(8, 4)]
    assert_allclose(recovered.predict(X), fit().predict(X), rtol=1e-5, atol=1e-6)


def _net(**params):
    return SequenceNet(LSTMNetwork, module__n_inputs=2, module__n_outputs=1,
                       module__hidden_size=4, criterion=torch.nn.MSELoss, batch_size=8,
                       max_epochs=1, train_split=None, verbose=0, device="cpu", **params)


@pytest.mark.parametrize(("params", "match"), [
    ({"micro_batch_size": 0}, r"'micro_batch_size'.*range \[1, inf\) or None. Got 0"),
    ({"micro_batch_size": -1}, r"'micro_batch_size'.*Got -1"),  # (torch's "split_size")
    ({"micro_batch_size": 2.5}, r"'micro_batch_size'.*Got 2.5"),
    ({"on_oom": "rasie"}, r"'on_oom'.*among.*Got 'rasie'"),  # (ran as "shrink")
])
def test_a_net_refuses_its_own_bad_parameters_before_training(params, match):
    """micro_batch_size=0 ran every effective batch in one pass (it read as None), -1
    failed mid-step with torch's error, and a misspelt on_oom was ignored."""
    net = _net(**params)
    with pytest.raises(ValueError, match=match):
        net.fit(X[:10], X[:10, -1, :1])
    assert not getattr(net, "initialized_", False)


def test_a_numpy_micro_batch_size_accumulates(monkeypatch):
    """np.int64(4) (a grid's value) failed mid-step: "split_with_sizes(): argument
    'split_sizes' must be tuple of ints, not numpy.int64"."""
    sizes, step = [], SequenceNet.train_step_single

    def recorded(self, batch, *args, **kwargs):
        sizes.append(len(batch[0]))
        return step(self, batch, *args, **kwargs)

    monkeypatch.setattr(SequenceNet, "train_step_single", recorded)
    _net(micro_batch_size=np.int64(4)).fit(X[:10], X[:10, -1, :1])
    assert sizes == [4, 4, 2]  # the effective batches of 8 and 2, in passes of 4
