"""The torch module the skorch net trains: embedding, LSTM, readout and head."""

from .lstm import LSTMNetwork, reverse_padded
from .pooling import POOLINGS, TimePooling

__all__ = ["POOLINGS", "LSTMNetwork", "TimePooling", "reverse_padded"]
