"""The torch module the skorch net trains: embedding, LSTM, readout, convolutional
branch (LSTM-FCN) and head."""

from .conv import ConvBranch
from .lengths import reverse_padded
from .level import split_level
from .lstm import LSTMNetwork
from .pooling import POOLINGS, TimePooling

__all__ = ["POOLINGS", "ConvBranch", "LSTMNetwork", "TimePooling", "reverse_padded", "split_level"]
