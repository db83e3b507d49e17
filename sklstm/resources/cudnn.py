"""cuDNN's deterministic convolutions while CUDA fits run.

On CUDA, cuDNN may pick a convolution algorithm whose backward pass adds up with
atomics, in an order that changes from run to run, so two fits with the same
``random_state`` end apart. The estimators promise that an integer ``random_state``
makes a fit reproducible, and ``LSTMClassifier`` has a convolutional branch by default
(``conv_channels="auto"``): while CUDA fits run, ``torch.backends.cudnn.deterministic``
is set, which restricts cuDNN to deterministic algorithms. Its cost is small for the
branch's 1-D convolutions of a few hundred channels.

The flag is process-wide: it is held as :mod:`~sklstm.resources.held_settings` holds
such settings, counted over the CUDA fits running at once, in threads too (torch's own
``torch.backends.cudnn.flags()`` would switch it off under the others as the first
ended); the last puts back what the first found, and a child forked beside them does
not keep it. Where the user had set it, it stays as it is.
"""

from __future__ import annotations

import contextlib

import torch

from .device import is_cuda
from .held_settings import held_flag

__all__ = ["deterministic_convolutions"]

_DETERMINISTIC = held_flag(torch.backends.cudnn, "deterministic", True)


@contextlib.contextmanager
def deterministic_convolutions(device):
    """Run a fit with cuDNN restricted to deterministic algorithms (CUDA fits).

    Parameters
    ----------
    device : torch.device
        The fit's device; anything but CUDA leaves cuDNN's flags alone.

    Yields
    ------
    bool
        Whether ``torch.backends.cudnn.deterministic`` holds during this fit.

    Examples
    --------
    >>> import torch
    >>> from sklstm.resources.cudnn import deterministic_convolutions
    >>> with deterministic_convolutions(torch.device("cpu")) as held:
    ...     held
    False
    """
    if not is_cuda(device):
        yield False
        return
    with _DETERMINISTIC.held():
        yield True
