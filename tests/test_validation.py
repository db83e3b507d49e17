"""Bad input and bad hyperparameters: clear errors before any training starts."""

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor

rng = np.random.default_rng(0)
X3 = rng.normal(size=(20, 5, 2)).astype(np.float32)
Y_CLASS = np.arange(20) % 2
Y_REG = rng.normal(size=20)


def _with(values, index, value):
    out = np.array(values, dtype=float)
    out[index] = value
    return out


BAD_DATA = {
    "nan in X": (_with(X3, (3, 1, 0), np.nan), Y_CLASS, ValueError, "Input X contains NaN"),
    "inf in X": (_with(X3, (3, 1, 0), np.inf), Y_CLASS, ValueError, "Input X contains inf"),
    "nan in y": (X3, _with(Y_REG, 4, np.nan), ValueError, "Input y contains NaN"),
    "inf in y": (X3, _with(Y_REG, 4, np.inf), ValueError, "Input y contains inf"),
    "1D X": (np.ones(20), Y_CLASS, ValueError, "got 1D input.*Reshape your data"),
    "4D X": (np.ones((20, 3, 2, 2)), Y_CLASS, ValueError, "got 4D input"),
    "zero samples": (np.ones((0, 5, 2)), np.array([]), ValueError, "0 sample"),
    "length mismatch": (X3, Y_CLASS[:-1], ValueError, "inconsistent numbers of samples"),
    "non-numeric X": (np.array([["a", "b"]] * 20), Y_CLASS, ValueError, "string|numeric"),
    "y is None": (X3, None, ValueError, "requires y"),
    "zero timesteps": (np.ones((20, 0, 2)), Y_CLASS, ValueError, "at least one timestep"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
def test_bad_data_is_rejected_before_training(case, Estimator):
    X, y, error, message = BAD_DATA[case]
    if case == "nan in y" and Estimator is LSTMClassifier:
        y = _with(Y_CLASS, 4, np.nan)
    est = Estimator(max_epochs=1)
    with pytest.raises(error, match=message):
        est.fit(X, y)
    assert not hasattr(est, "net_")  # nothing was trained


def test_one_class_only():
    with pytest.raises(ValueError, match=r"at least 2 classes.*only one class"):
        LSTMClassifier(max_epochs=1).fit(X3, np.zeros(20))


def test_continuous_target_for_classifier():
    with pytest.raises(ValueError, match="Unknown label type"):
        LSTMClassifier(max_epochs=1).fit(X3, Y_REG)


BAD_PARAMS = [
    ("batch_size", 0, ValueError, "batch_size must be >= 1"),
    ("batch_size", -3, ValueError, "batch_size must be >= 1"),
    ("batch_size", 2.5, TypeError, "batch_size must be an integer"),
    ("batch_size", True, TypeError, "batch_size must be an integer"),
    ("accumulation_steps", 0, ValueError, "accumulation_steps must be >= 1"),
    ("accumulation_steps", "2", TypeError, "accumulation_steps must be an integer"),
    ("seq_len", 0, ValueError, "seq_len must be >= 1"),
    ("seq_len", 1.5, TypeError, "seq_len must be an integer or None"),
    ("device", "tpu", ValueError, "Unknown device 'tpu'"),
    ("device", 3, TypeError, "device must be a string"),
    ("optimizer", "adamax2", ValueError, "unknown optimizer 'adamax2'"),
    ("dropout", 1.0, ValueError, "dropout must be >= 0.0 and < 1.0"),
    ("lr", 0.0, ValueError, "lr must be > 0.0"),
    ("lr_scaling", "cubic", ValueError, "lr_scaling must be one of"),
    ("keep_steps", "middle", ValueError, "keep_steps must be one of"),
    ("validation_fraction", 1.0, ValueError, "validation_fraction must be"),
    ("optimizer_params", [("momentum", 0.9)], TypeError, "optimizer_params must be a dict"),
    ("callbacks", "print", TypeError, "callbacks must be a list"),
    ("vocab_size", 100, ValueError, "vocab_size is only used for token input"),
]


@pytest.mark.parametrize(("param", "value", "error", "message"), BAD_PARAMS,
                         ids=[f"{p}={v!r}" for p, v, *_ in BAD_PARAMS])
def test_bad_hyperparameter(param, value, error, message):
    est = LSTMClassifier(max_epochs=1).set_params(**{param: value})
    with pytest.raises(error, match=message):
        est.fit(X3, Y_CLASS)
    assert not hasattr(est, "net_")


def test_cuda_requested_without_cuda():
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="no CUDA device is available"):
        LSTMClassifier(device="cuda:1", max_epochs=1).fit(X3, Y_CLASS)


@pytest.mark.parametrize(
    ("X_new", "message"),
    [
        (X3[:, :, :1], "X has 1 features, but LSTMClassifier is expecting 2"),
        (X3[:, :, 0], "fitted on 3D or ragged sequences but got 2D input"),
        (np.ones(5), "got 1D input"),
    ],
    ids=["wrong feature count", "2D after 3D", "1D"],
)
def test_bad_input_at_predict(X_new, message, tiny):
    est = LSTMClassifier(**tiny).fit(X3, Y_CLASS)
    with pytest.raises(ValueError, match=message):
        est.predict(X_new)


def test_wrong_width_at_predict_for_2d_input(tiny):
    est = LSTMRegressor(**tiny).fit(X3[:, :, 0], Y_REG)
    with pytest.raises(ValueError, match="X has 4 features, but LSTMRegressor is expecting 5"):
        est.predict(X3[:, :4, 0])
