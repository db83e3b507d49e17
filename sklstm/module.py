"""The torch module: optional token embedding, LSTM, dropout and a linear head."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

__all__ = ["LSTMNetwork"]


class LSTMNetwork(nn.Module):
    """Sequence-to-one LSTM: the last hidden state feeds a linear layer.

    Parameters
    ----------
    n_inputs : int
        Features per timestep (ignored when ``embedding_dim`` is set).
    n_outputs : int
        Output units: classes for classification, targets for regression.
    hidden_size : int
        LSTM hidden units per direction.
    num_layers : int
        Stacked LSTM layers.
    bidirectional : bool
        Also read sequences backwards; the head sees both final states.
    dropout : float
        Dropout between stacked LSTM layers and before the head.
    vocab_size : int or None
        Number of token ids; set together with ``embedding_dim``.
    embedding_dim : int or None
        When set, inputs are token ids fed through ``nn.Embedding``.
    padding_idx : int or None
        Token id whose embedding stays zero and receives no gradient.

    Examples
    --------
    >>> import torch
    >>> net = LSTMNetwork(n_inputs=3, n_outputs=2, hidden_size=8)
    >>> net(torch.zeros(4, 10, 3)).shape
    torch.Size([4, 2])
    """

    def __init__(self, n_inputs, n_outputs, hidden_size=64, num_layers=1,
                 bidirectional=False, dropout=0.0, vocab_size=None,
                 embedding_dim=None, padding_idx=None):
        super().__init__()
        self.embedding = None
        if embedding_dim is not None:
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
            n_inputs = embedding_dim
        self.lstm = nn.LSTM(
            n_inputs, hidden_size, num_layers=num_layers, batch_first=True,
            bidirectional=bidirectional,
            # torch applies LSTM dropout between layers only (and warns for one layer)
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), n_outputs)

    def forward(self, x, lengths=None):
        """Map a batch of sequences to outputs.

        Parameters
        ----------
        x : torch.Tensor
            ``(batch, n_timesteps, n_inputs)`` floats, or ``(batch, n_timesteps)``
            token ids; right-padded when ``lengths`` is given.
        lengths : torch.Tensor or None
            CPU int64 true lengths. Padded batches are packed, so padding never
            changes a result: each sequence ends at its own last step.
        """
        if self.embedding is not None:
            x = self.embedding(x)
        if lengths is not None and int(lengths.min()) < x.shape[1]:
            x = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(x)
        # h_n: (num_layers * directions, batch, hidden); keep the top layer
        if self.lstm.bidirectional:
            last = torch.cat([h_n[-2], h_n[-1]], dim=1)
        else:
            last = h_n[-1]
        return self.head(self.dropout(last))
