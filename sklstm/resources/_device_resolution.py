"""Which torch device a fit runs on: the ``device`` parameter resolved, and whether a
device is a CUDA one.

A private part of :mod:`sklstm.resources.device`, which re-exports it: the package
imports these from there (one door to ``torch.cuda``, checked by
``tests/resources/test_device.py``). A module of its own so that every other part of
the device API can build on it without importing itself back.
"""

from __future__ import annotations

import os

import torch

from .._param_validation import plain_value

__all__ = ["is_cuda", "resolve_device"]

#: what the ``device`` parameter may be, for the messages
_FORMS = "'auto', 'cpu', 'cuda', 'cuda:N', 'mps' or a torch.device"


def _mps_available():
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def _reads(name):
    """Whether ``name`` is a string the ``device`` parameter reads."""
    if name == "auto":
        return True
    try:
        return torch.device(name).type in ("cpu", "cuda", "mps")
    except (RuntimeError, ValueError):
        return False


def _unknown(shown):
    """The error for a string torch does not read as a device, naming the one meant
    where only case or spaces differ (torch reads neither "CUDA" nor " cpu")."""
    meant = "".join(shown.split()).lower()
    hint = (f"device names are lower case, without spaces (did you mean {meant!r}?); "
            if meant != shown and _reads(meant) else "")
    return ValueError(f"Unknown device {shown!r}; {hint}use {_FORMS}.")


def resolve_device(device):
    """Turn the ``device`` parameter into a usable :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` picks CUDA when available, else Apple MPS when available,
        else the CPU. Explicit values: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``
        (torch has one CPU device and one MPS device: ``"cpu:0"`` is ``"cpu"``,
        ``"cpu:1"`` is refused).
        Strings are torch's: lower case, without spaces; numpy strings and 0-d
        arrays of them are read as the strings they hold (as the estimators read them).

    Returns
    -------
    torch.device
        The device to use; for ``"auto"`` the best one available.

    Raises
    ------
    ValueError
        If the string is not a device (``"CUDA"`` or ``" cpu"`` neither: the
        message names the one meant), or names an accelerator that is absent
        (CUDA on a build or machine without it, a CUDA index that is not visible, a
        CPU or MPS index other than 0).
    TypeError
        If ``device`` is neither a string nor a :class:`torch.device`.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    # np.array("cpu"), which a fit reads as "cpu", was refused as an ndarray where an
    # estimator's device is resolved directly (profile_batch_sizes)
    device = plain_value(device)
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be a string such as 'auto', 'cpu', 'cuda' or 'cuda:1', or a "
            f"torch.device; got {type(device).__name__}."
        )
    # named as written (device='cuda:2'), not as device(type=...) or np.str_('cuda:2')
    shown = str(device)
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError):
        raise _unknown(shown) from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            # an empty CUDA_VISIBLE_DEVICES, left by a job script, hides every GPU
            hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
            raise ValueError(
                f"device={shown!r} asks for CUDA, but no CUDA device is available "
                "(or this torch build has no CUDA support"
                f"{'' if hidden is None else f'; CUDA_VISIBLE_DEVICES is {hidden!r}'}); "
                "use device='auto' or 'cpu'."
            )
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise ValueError(
                f"device={shown!r} asks for CUDA device {resolved.index}, but only "
                f"{count} CUDA device(s) are visible (CUDA_VISIBLE_DEVICES numbers them "
                f"from 0); use 'cuda' or 'cuda:N' with N below {count}."
            )
    elif resolved.type == "mps":
        if not _mps_available():
            raise ValueError(f"device={shown!r} asks for Apple's MPS, which is not available "
                             "here; use device='auto' or 'cpu'.")
    elif resolved.type != "cpu":
        raise ValueError(f"Unsupported device {shown!r}; use {_FORMS}.")
    if resolved.type != "cuda" and resolved.index:
        # torch reads "cpu:1" and runs on the one CPU device, so the index (a second
        # socket, a core?) was dropped without a word; MPS has one device too
        kind = resolved.type.upper()
        cores = " (n_threads sets how many cores a fit uses)" if kind == "CPU" else ""
        raise ValueError(f"device={shown!r} names {kind} {resolved.index}, but torch has "
                         f"one {kind} device{cores}; use device={resolved.type!r}.")
    # torch has one CPU device: an index ("cpu:0") tagged the tensors a fitted estimator
    # pickled with a location that torch.load cannot place (the pickle did not load)
    return resolved if resolved.type != "cpu" else torch.device("cpu")


def is_cuda(device):
    """Whether ``device`` (a :class:`torch.device` or its string) is a CUDA device.

    Examples
    --------
    >>> is_cuda("cpu"), is_cuda(torch.device("cuda", 1))
    (False, True)
    """
    return device is not None and torch.device(device).type == "cuda"
