"""Files saved by earlier layouts of the package still load and predict the same.

``files/format1_*.safetensors`` were written by sklstm 0.2.0.dev at commit 9745135
(format 1, before the estimators exported their own state), with the predictions they
made then (``format1_predictions.npz``).
"""

import pathlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

import sklstm

FILES = pathlib.Path(__file__).parent / "files"
SAVED = np.load(FILES / "format1_predictions.npz")


@pytest.mark.parametrize("name", ["classifier", "regressor_2d", "tokens"])
def test_a_format_1_file_predicts_as_it_did(name):
    est = sklstm.load(FILES / f"format1_{name}.safetensors", device="cpu")
    X = SAVED[f"{name}_X"]
    got = est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)
    # the same CPU kernels give the same numbers; another CPU's may round differently
    assert_allclose(got, SAVED[f"{name}_pred"], rtol=1e-5, atol=1e-6)
    assert est.n_epochs_ == 3 and est.device_.type == "cpu"
    # written before lr_schedule and ar_window existed: a refit trains as the saved
    # model did (no highway, not the regressor's "auto")
    assert est.lr_schedule == "constant" and sklstm.LSTMRegressor().lr_schedule == "adaptive"
    assert est.ar_window is None and sklstm.LSTMRegressor().ar_window == "auto"
    # and before split_level: the sequences as they are, not the classifier's "auto"
    assert est.split_level is False and sklstm.LSTMClassifier().split_level == "auto"
