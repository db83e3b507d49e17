"""The LSTM estimators."""

from .classifier import LSTMClassifier
from .regressor import LSTMRegressor

__all__ = ["LSTMClassifier", "LSTMRegressor"]
