"""Choosing the torch device and placing data on it."""

from __future__ import annotations

import torch

__all__ = ["fits_on_device", "resolve_device"]


def resolve_device(device):
    """Turn the ``device`` parameter into a usable :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` picks CUDA when available, else Apple MPS when available,
        else the CPU. Explicit values: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.

    Returns
    -------
    torch.device
        The device to use; for ``"auto"`` the best one available.

    Raises
    ------
    ValueError
        If the string is not a device, or names an accelerator that is absent.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be a string such as 'auto', 'cpu', 'cuda' or 'cuda:1'; "
            f"got {type(device).__name__}."
        )
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(
            f"Unknown device {device!r}; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'."
        ) from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} asks for CUDA, but no CUDA device is available "
                "(or this torch build has no CUDA support); use device='auto' or 'cpu'."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} asks for CUDA device {resolved.index}, but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    elif resolved.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device={device!r} asks for MPS, which is not available.")
    elif resolved.type != "cpu":
        raise ValueError(
            f"Unsupported device {device!r}; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'."
        )
    return resolved


def fits_on_device(n_bytes, device, fraction=0.5, limit=None):
    """Whether ``n_bytes`` of data may live on ``device`` for the whole fit.

    The whole training set is moved to an accelerator once when it takes at
    most ``fraction`` of the free memory, so batches are sliced on the device
    with no per-batch host-to-device copy; otherwise batches are copied one by
    one. CPU data always stays where it is.

    Parameters
    ----------
    n_bytes : int
        Size of the data in bytes.
    device : torch.device
        Device the data would be moved to.
    fraction : float, default=0.5
        Largest share of the device's currently free memory the data may take.
    limit : int or None, default=None
        A memory budget in bytes (``max_memory``); when smaller than the free
        memory, the share is taken of it.

    Returns
    -------
    bool
        True if ``device`` is not a CUDA device, or if ``n_bytes`` is at most
        ``fraction`` of its free memory.
    """
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return n_bytes <= fraction * (free if limit is None else min(free, limit))
