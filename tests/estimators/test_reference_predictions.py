"""Training is numerically unchanged by refactors: predictions against saved ones.

``reference_predictions.npz`` beside this file was written by this module's ``__main__``
block on commit 30fcc4d (before the package was reorganized). Every configuration
spells out every parameter that existed then, plus the value of any later
parameter that reproduces the behaviour of that time, so a change of a default
does not break the comparison; a change of what training computes does.

Regenerate only on purpose: ``python -m tests.estimators.test_reference_predictions``.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from sklstm import LSTMClassifier, LSTMRegressor

REFERENCE = Path(__file__).parent / "reference_predictions.npz"
#: The torch (major, minor) that wrote REFERENCE. Dropout masks come from torch's random
#: stream, which changes between torch releases (2.3 and 2.13 draw other masks from the
#: same seed): configurations with dropout are compared on that torch only.
REFERENCE_TORCH = (2, 13)

#: Every parameter of the estimators as of 30fcc4d, at an explicit value, and the
#: later ones at the value that trains as sklstm did then.
EXPLICIT = dict(
    hidden_size=8, num_layers=1, bidirectional=False, dropout=0.0, batch_size=16,
    accumulation_steps=1, seq_len=None, keep_steps="last", bucketing="auto",
    max_epochs=3, lr=1e-2, optimizer="adam", optimizer_params=None, weight_decay=0.0,
    gradient_clip=None, lr_scaling=None, base_batch_size=32, warmup_epochs=0,
    early_stopping=False, validation_fraction=0.1, n_iter_no_change=5, embedding_dim=None,
    vocab_size=None, padding_idx=0, device="cpu", n_threads=1, random_state=0, verbose=0,
    callbacks=None,
    # added in 0.2
    pooling="last", downsample=1, tol=None,
    # added later (the regressor's default became "auto": a highway where data allow;
    # the classifier's conv_channels became "auto": LSTM-FCN's branch)
    ar_window=None, conv_channels=None,
)
#: LSTMRegressor's own parameters, added in 0.2
REGRESSOR = dict(scale_target=False)


def _data():
    rng = np.random.default_rng(42)
    X = rng.normal(size=(70, 10, 3)).astype(np.float32)
    y_reg = X[:, -3:, 0].sum(axis=1) + 0.1 * rng.normal(size=70)
    y_cls = np.digitize(X[:, :, 1].mean(axis=1), [-0.15, 0.15])
    lengths = rng.integers(3, 15, size=60)
    ragged = [rng.normal(size=(int(n), 2)).astype(np.float32) for n in lengths]
    y_ragged = np.array([s[:, 0].sum() for s in ragged], dtype=np.float32)
    tokens = [rng.integers(1, 30, size=int(n)) for n in rng.integers(2, 12, size=60)]
    y_tokens = np.array([int((t < 15).sum() > len(t) / 2) for t in tokens])
    return {
        "3d": (X, y_cls, y_reg),
        "ragged": (ragged, None, y_ragged),
        "tokens": (tokens, y_tokens, None),
    }


DATA = _data()

#: name -> (estimator class, data key, target index, parameter overrides)
CONFIGS = {
    "classifier": (LSTMClassifier, "3d", 1, {}),
    "regressor": (LSTMRegressor, "3d", 2, {}),
    "classifier_accumulation": (LSTMClassifier, "3d", 1, dict(
        batch_size=8, accumulation_steps=3, gradient_clip=1.0, lr_scaling="sqrt")),
    "regressor_bidirectional_2_layers": (LSTMRegressor, "3d", 2, dict(
        bidirectional=True, num_layers=2, dropout=0.2, optimizer="sgd",
        optimizer_params={"momentum": 0.9}, weight_decay=1e-4, seq_len=6)),
    "regressor_ragged": (LSTMRegressor, "ragged", 2, dict(accumulation_steps=2)),
    "regressor_ragged_bidirectional_early_stopping": (LSTMRegressor, "ragged", 2, dict(
        bidirectional=True, early_stopping=True, n_iter_no_change=2, tol=1e-4, max_epochs=6,
        warmup_epochs=1, keep_steps="first", seq_len=9)),
    "classifier_tokens": (LSTMClassifier, "tokens", 1, dict(
        embedding_dim=4, batch_size=8, accumulation_steps=2)),
}


def predictions(name):
    """Fit configuration ``name`` and return its predictions on the training data."""
    cls, key, target, overrides = CONFIGS[name]
    X, y = DATA[key][0], DATA[key][target]
    own = REGRESSOR if cls is LSTMRegressor else {}
    est = cls(**{**EXPLICIT, **own, **overrides}).fit(X, y)
    out = est.predict_proba(X) if cls is LSTMClassifier else est.predict(X)
    return np.asarray(out, dtype=np.float64)


def _torch_version():
    return tuple(int(part) for part in torch.__version__.split(".")[:2])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_predictions_match_saved_reference(name):
    if CONFIGS[name][3].get("dropout") and _torch_version() != REFERENCE_TORCH:
        pytest.skip(f"dropout masks of torch {torch.__version__} differ from those of the "
                    f"torch {'.'.join(map(str, REFERENCE_TORCH))} that wrote the reference")
    with np.load(REFERENCE) as saved:
        expected = saved[name]
    # float32 training: the same operations in the same order give the same bits;
    # the tolerance only absorbs reordered float32 sums (a different BLAS path)
    np.testing.assert_allclose(predictions(name), expected, rtol=1e-4, atol=1e-5)


if __name__ == "__main__":
    torch.set_num_threads(1)
    assert _torch_version() == REFERENCE_TORCH, "update REFERENCE_TORCH with the file"
    REFERENCE.parent.mkdir(exist_ok=True)
    np.savez(REFERENCE, **{name: predictions(name) for name in CONFIGS})
    print(f"wrote {REFERENCE}")
