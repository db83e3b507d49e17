"""Every sequence split into its level and its shape (``split_level``).

A recording's level (its mean per feature: a sensor's orientation, a baseline, a
patient's resting value) and its shape (how it moves about that level) are often
different kinds of evidence. Read as they are, a few dozen recordings with offsets of
their own teach the network to classify by offset before it learns the shape
(issue 17's gestures: 0.962 against 1-NN DTW's 1.000). Centred on their own mean
(``relative="mean"``) the shapes are told apart, but a class that *is* a level is lost.

:func:`split_level` keeps both, each where it generalizes: the LSTM and the
convolutional branch read every sequence centred on its own mean per feature (the
shape), and the means (the level) join the features the linear head reads. A class
that differs by level is still a linear function of the level; one that depends on the
level in a nonlinear way needs ``split_level=False``.

This is done inside the module rather than by the data layer (as ``relative`` is)
because the level must travel beside the batch to the head; the padding of a ragged
batch stays zero, so a sequence's result never depends on the batch around it.
"""

from __future__ import annotations

from .lengths import padded_lengths
from .pooling import mean_over_steps, valid_steps

__all__ = ["split_level"]


def split_level(x, lengths=None, exact=False, *, checked=False):
    """Every right-padded sequence's mean per feature, and the sequence centred on it.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_timesteps, n_features)
        Right-padded sequences.
    lengths : torch.Tensor, ndarray or list of shape (batch,), or None, default=None
        Integer true lengths, each within ``1..n_timesteps``, on the host (a tensor on
        the device is copied there); None when every sequence fills ``n_timesteps``.
    exact : bool, default=False
        Sum the same way whatever the padding and the batch, as for a prediction
        (:func:`~sklstm.network.pooling.sum_over_steps`).
    checked : bool, default=False
        ``lengths`` are :func:`~sklstm.network.lengths.padded_lengths`'s already, as the
        network passes them: not checked again.

    Returns
    -------
    shape : torch.Tensor of shape (batch, n_timesteps, n_features)
        ``x`` minus each sequence's mean at its valid steps; the padding stays zero.
    level : torch.Tensor of shape (batch, n_features)
        Each sequence's mean over its own valid steps.

    Raises
    ------
    TypeError
        If the lengths are not integers.
    ValueError
        If ``lengths`` are not one per sequence within ``1..n_timesteps`` (a sequence of
        no step had the level of its padding's sum, read at step -1).

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 6.0, 0.0]])[:, :, None]
    >>> shape, level = split_level(x, torch.tensor([3, 2]))
    >>> shape[:, :, 0], level
    (tensor([[-1.,  0.,  1.],
            [-1.,  1.,  0.]]), tensor([[2.],
            [5.]]))
    """
    if not checked:
        lengths = padded_lengths(lengths, x.shape[0], x.shape[1])
    valid = valid_steps(x, lengths)
    # the mean in float32 at least, rounded to x's dtype once, the same way padded or
    # not: a bfloat16 sum divided by a bfloat16 length rounds twice, and a sequence's
    # level (so its prediction) changed by a bit beside longer ones, where x.mean did not
    level = mean_over_steps(x, valid, exact).to(x.dtype)
    shape = x - level[:, None]
    return (shape, level) if valid is None else (shape.masked_fill(~valid, 0.0), level)
