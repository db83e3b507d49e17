"""cuDNN's deterministic convolutions while CUDA fits run.

On CUDA, cuDNN may pick a convolution algorithm whose backward pass adds up with
atomics, in an order that changes from run to run, so two fits with the same
``random_state`` end apart. The estimators promise that an integer ``random_state``
makes a fit reproducible, and ``LSTMClassifier`` has a convolutional branch by default
(``conv_channels="auto"``): while CUDA fits run, ``torch.backends.cudnn.deterministic``
is set, which restricts cuDNN to deterministic algorithms. Its cost is small for the
branch's 1-D convolutions of a few hundred channels.

Written by hand because torch's own ``torch.backends.cudnn.flags()`` context restores
the flag when it exits whatever else runs: with fits in threads (a search on one GPU)
the first fit to end would switch it off under the others. The flag is process-wide,
so it is counted: the first of the CUDA fits running at once sets it, the last puts
back what it found. Where the user had set it, it stays as it is.
"""

from __future__ import annotations

import contextlib
import threading

import torch

from .device import is_cuda

__all__ = ["deterministic_convolutions"]

_lock = threading.Lock()
# "fits": CUDA fits running; "found": the flag's value before the first of them
_state = {"fits": 0, "found": None}


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
    with _lock:
        if not _state["fits"]:
            _state["found"] = torch.backends.cudnn.deterministic
            torch.backends.cudnn.deterministic = True
        _state["fits"] += 1
    try:
        yield True
    finally:
        with _lock:
            _state["fits"] -= 1
            if not _state["fits"]:
                torch.backends.cudnn.deterministic = _state["found"]
