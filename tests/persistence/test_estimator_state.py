"""What ``estimator.save`` refuses to write (``sklstm/estimators/_persistence.py``): an
unfitted or unfinished fit, parameters changed after the fit."""


import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor

from .samples import X3


def test_save_needs_a_fitted_estimator(tmp_path):
    with pytest.raises(NotFittedError):
        LSTMClassifier().save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()

@pytest.mark.parametrize(("changed", "problem"), [
    ({"hidden_size": 3}, r"module tensor 'lstm.weight_ih_l0' is \(\(16, 2\)"),
    ({"bidirectional": True}, r"module tensor 'lstm.weight_ih_l0_reverse' is None"),
    ({"embedding_dim": 3}, "make no network"),
    ({"hidden_size": -1}, "'hidden_size' parameter of LSTMClassifier must be an int"),
])
def test_save_refuses_parameters_changed_after_the_fit(changed, problem, tmp_path, tiny):
    # the file would not load: set_params changed what rebuilds the network, not the network
    est = LSTMClassifier(**tiny).fit(X3, np.arange(24) % 2)
    fitted_with = est.get_params()
    with pytest.raises(ValueError, match=r"LSTMClassifier.save: the parameters were changed "
                       rf"after the fit .*{problem}.*Set them back .* or refit"):
        est.set_params(**changed).save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
    # what only a refit reads may change (dropout is off in prediction): the file loads,
    # with the new value
    est.set_params(**fitted_with).set_params(max_epochs=7, dropout=0.25)
    est.save(tmp_path / "m.safetensors")
    loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.max_epochs == 7 and loaded.dropout == 0.25
    assert_array_equal(loaded.predict_proba(X3), est.predict_proba(X3))

@pytest.mark.parametrize(("changed", "problem"), [
    ({"pooling": "max"}, "pooling='max', but the fitted one has pooling='mean'"),
    ({"pooling": "last"}, "pooling='last', but the fitted one has pooling='mean'"),
    ({"precision": "bf16"}, "precision='bfloat16', but the fitted one has precision='float32'"),
])
def test_save_refuses_parameters_that_make_the_same_weights_compute_otherwise(
        changed, problem, tmp_path, tiny):
    # the file loaded, and its model predicted otherwise than the one saved, silently
    est = LSTMRegressor(**{**tiny, "device": "cpu"}, pooling="mean").fit(X3, X3[:, 0, 0])
    with pytest.raises(ValueError, match=r"LSTMRegressor.save: the parameters were changed "
                       rf"after the fit .*: they make a network with {problem}\. Set them back"):
        est.set_params(**changed).save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()

def test_save_during_the_fit_is_refused(tmp_path, tiny):
    # the file lacked what the fit sets when it ends: it never loaded, its load blaming
    # an edit of the file
    refusals = []

    class SavesEachEpoch(Callback):
        def on_epoch_end(self, net, **kwargs):
            with pytest.raises(NotFittedError, match=r"LSTMRegressor.save: the fit has not "
                               r"finished .*\(fit_time_\.\.\.\) is missing") as refused:
                est.save(tmp_path / "m.safetensors")
            refusals.append(refused)

    est = LSTMRegressor(**tiny, callbacks=[SavesEachEpoch()])
    est.fit(X3, X3[:, 0, 0])
    assert len(refusals) == tiny["max_epochs"]
    assert not (tmp_path / "m.safetensors").exists()
    est.save(tmp_path / "m.safetensors")  # once the fit has returned
    with pytest.warns(UserWarning, match="callbacks"):
        assert_array_equal(sklstm.load(tmp_path / "m.safetensors").predict(X3), est.predict(X3))


@pytest.fixture
def default_dtype():
    """Sets torch's default dtype for the test, and puts it back after."""
    before = torch.get_default_dtype()
    yield torch.set_default_dtype
    torch.set_default_dtype(before)


def test_a_model_loads_and_predicts_in_the_dtype_of_its_weights(tmp_path, tiny, default_dtype):
    # the network was rebuilt in torch's default dtype: after
    # torch.set_default_dtype(torch.float64) every float32 file was refused as "not a valid
    # sklstm model file", and a model fitted under it saved but loaded nowhere else
    y = np.arange(24) % 2
    est32 = LSTMClassifier(**{**tiny, "device": "cpu"}).fit(X3, y)
    est32.save(tmp_path / "32.safetensors")
    default_dtype(torch.float64)
    est64 = LSTMClassifier(**{**tiny, "device": "cpu"}).fit(X3, y)
    loaded32 = sklstm.load(tmp_path / "32.safetensors")
    default_dtype(torch.float32)
    est64.save(tmp_path / "64.safetensors")  # (its check rebuilt the net in float32 too)
    loaded64 = sklstm.load(tmp_path / "64.safetensors")
    for est, loaded, dtype in ((est32, loaded32, torch.float32),
                               (est64, loaded64, torch.float64)):
        assert {p.dtype for p in loaded.net_.module_.parameters()} == {dtype}
        assert_array_equal(loaded.predict_proba(X3), est.predict_proba(X3))
