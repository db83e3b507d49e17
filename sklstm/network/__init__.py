"""The torch module the skorch net trains: embedding, LSTM, readout and head."""

from .lstm import LSTMNetwork, reverse_padded

__all__ = ["LSTMNetwork", "reverse_padded"]
