"""torch's internals that sklstm uses, in one module, gated by version.

What is private here:

* :func:`fused_optimizer_devices` asks ``torch.utils._foreach_utils`` which device types
  have fused optimizer kernels: the list torch's own ``Adam(fused=True)`` checks
  against, which no public function gives. sklstm asks for ``fused=True`` only where
  it is supported (:mod:`sklstm.training.optimizers`).

On a torch outside :data:`VERIFIED` the function answers ``("cuda",)``, the device type
every torch release since 2.0 has fused Adam kernels for; ``tests/_compat/test_torch.py``
fails in CI as soon as a torch outside :data:`VERIFIED` is installed.
"""

from __future__ import annotations

import torch

from . import within

__all__ = ["VERIFIED", "fused_optimizer_devices", "verified"]

#: torch (major, minor) versions these uses were verified on, inclusive: from the
#: declared minimum, torch 2.3 (``pyproject.toml``; the helper came with torch 2.1,
#: torch 2.0 checked ``p.is_cuda``), to 2.14.
VERIFIED = ((2, 3), (2, 14))


def verified(version=None):
    """Whether the installed (or given) torch lies within :data:`VERIFIED`.

    Parameters
    ----------
    version : str or None, default=None
        A torch version string such as ``"2.13.0+cpu"``; None: the installed torch.

    Returns
    -------
    bool
        True where :func:`fused_optimizer_devices` may ask torch's internals.

    Examples
    --------
    >>> verified("2.13.0+cpu"), verified("2.14.0a0+git5e6f7a8"), verified("3.0.0")
    (True, True, False)
    """
    return within(version or torch.__version__, VERIFIED)


def fused_optimizer_devices():
    """Device types on which this torch build has fused optimizer kernels.

    Returns
    -------
    tuple of str
        For example ``("mps", "cuda", "xpu", "hpu", "cpu", ...)``; ``("cuda",)`` on an
        unverified torch or where the private helper is gone.
    """
    if not verified():
        return ("cuda",)
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:  # a verified torch has it (tests/_compat); else as unverified
        return ("cuda",)
    return tuple(_get_fused_kernels_supported_devices())
