"""sklstm: scikit-learn compatible LSTM estimators trained by skorch on PyTorch.

Batch size, gradient accumulation and sequence length are ordinary
hyperparameters of :class:`LSTMClassifier` and :class:`LSTMRegressor`, so
scikit-learn searches and Optuna studies can select them by cross-validation.
"""

from . import _moved
from ._version import __version__
from .estimators import LSTMClassifier, LSTMRegressor
from .persistence import load
from .profiling import profile_batch_sizes

__all__ = ["LSTMClassifier", "LSTMRegressor", "__version__", "load", "profile_batch_sizes"]

_moved.install()
