"""sklstm: scikit-learn compatible LSTM estimators trained by skorch on PyTorch.

Batch size, gradient accumulation and sequence length are ordinary
hyperparameters of :class:`LSTMClassifier` and :class:`LSTMRegressor`, so
scikit-learn searches and Optuna studies can select them by cross-validation.
"""

from .estimators import LSTMClassifier, LSTMRegressor

__version__ = "0.1.0"

__all__ = ["LSTMClassifier", "LSTMRegressor", "__version__"]
