"""Measuring the peak memory of a fit."""

from __future__ import annotations

import ctypes
import ctypes.util

import torch

__all__ = ["PeakMemory"]

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def _release_freed_memory():
    """Hand memory freed by earlier work back to the OS (glibc's ``malloc_trim``).

    Otherwise the allocator reuses what an earlier fit freed, the resident set
    does not grow, and the measured peak depends on what ran before.
    """
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "malloc_trim"):  # glibc only
        libc.malloc_trim(0)


def _status_kib(field):
    with open(_STATUS) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in {_STATUS}")


class PeakMemory:
    """Context manager measuring the peak memory of the code it wraps, in bytes.

    * CUDA: ``torch.cuda.max_memory_allocated`` after resetting the peak
      statistics, i.e. the most tensor memory torch held on the device.
    * CPU on Linux: the growth of the process's peak resident set size. The
      allocator first returns freed memory to the OS (``malloc_trim``), so the
      figure does not depend on earlier fits; the kernel's high-water mark
      (``VmHWM``) is then reset by writing ``5``
      to ``/proc/self/clear_refs``; ``peak`` is ``VmHWM`` at exit minus the
      resident size at entry. It includes every allocation of the process
      (tensors, autograd buffers, the allocator's cache), so concurrent work in
      other threads of the same process is counted too.
    * Elsewhere (no ``/proc``): ``peak`` is None.

    Parameters
    ----------
    device : torch.device
        Device whose memory is measured. Any device other than CUDA is measured
        through the process's resident set size, as for the CPU.

    Attributes
    ----------
    peak : int or None
        Bytes, set on exit.

    Examples
    --------
    >>> import torch
    >>> with PeakMemory(torch.device("cpu")) as mem:
    ...     x = torch.ones(10_000_000)  # 40 MB
    >>> mem.peak is None or 40_000_000 <= mem.peak < 44_000_000  # None off Linux
    True
    """

    def __init__(self, device):
        self.device = device
        self.peak = None
        self._baseline = None

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._baseline = 0
            return self
        try:
            _release_freed_memory()
            with open(_CLEAR_REFS, "w") as f:
                f.write("5")
            self._baseline = _status_kib("VmRSS") * 1024
        except OSError:  # not Linux, or /proc is read-only here
            self._baseline = None
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak = int(torch.cuda.max_memory_allocated(self.device))
        elif self._baseline is not None:
            self.peak = max(0, _status_kib("VmHWM") * 1024 - self._baseline)
        return False
