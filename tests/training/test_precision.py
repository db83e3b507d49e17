"""precision: bf16 autocast on the CPU, float16 with a gradient scaler on CUDA only."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.training.precision import resolve_precision

rng = np.random.default_rng(1)
X = rng.normal(size=(53, 6, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int) + (X[:, -1, 1] > 0.5)
BASE = dict(hidden_size=6, max_epochs=3, tol=None, optimizer="sgd", lr=0.3, pooling="last",
            downsample=1, random_state=0, n_threads=1)
#: bf16 keeps 8 bits of mantissa: the same updates split differently round differently
BF16_ATOL = 2e-3

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_bf16_runs_the_lstm_in_bfloat16_and_keeps_float32_weights():
    seen = []
    est = LSTMClassifier(**BASE, precision="bf16").fit(X, Y)
    hook = est.net_.module_.lstm.register_forward_hook(lambda m, i, o: seen.append(o[0].dtype))
    proba = est.predict_proba(X)
    hook.remove()
    assert set(seen) == {torch.bfloat16} and len(seen) == 4  # prediction in batches of 16
    assert all(p.dtype == torch.float32 for p in est.net_.module_.parameters())
    assert proba.dtype == np.float64 and np.isfinite(proba).all()
    assert_allclose(proba.sum(1), 1.0)
    plain = LSTMClassifier(**BASE).fit(X, Y).predict_proba(X)
    assert 0 < np.abs(proba - plain).max() < 0.05  # a different arithmetic, the same model


@pytest.mark.parametrize("k", [2, 4])
def test_bf16_accumulation_equals_the_large_batch(k):
    big = LSTMRegressor(**BASE, batch_size=4 * k, precision="bf16").fit(X, X[:, -1, 0])
    acc = LSTMRegressor(**BASE, batch_size=4, accumulation_steps=k, precision="bf16").fit(
        X, X[:, -1, 0])
    assert_allclose(acc.predict(X), big.predict(X), atol=BF16_ATOL)


def test_16_mixed_is_refused_off_cuda_and_with_a_closure_optimizer():
    cpu = torch.device("cpu")
    with pytest.raises(ValueError, match="needs a CUDA device, but the fit runs on cpu"):
        resolve_precision("16-mixed", cpu, torch.optim.Adam, "LSTMClassifier")
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="cannot step LBFGS"):
            resolve_precision("16-mixed", torch.device("cuda"), torch.optim.LBFGS, "X")


@cuda
@pytest.mark.parametrize("precision", ["bf16", "16-mixed"])
def test_cuda_mixed_precision_fits(precision):
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("no bfloat16 on this GPU")
    est = LSTMClassifier(**{**BASE, "optimizer": "adam", "lr": 0.01}, device="cuda",
                         precision=precision).fit(X, Y)
    assert np.isfinite(est.predict_proba(X)).all()
    assert (est.net_.grad_scaler_ is not None) == (precision == "16-mixed")
