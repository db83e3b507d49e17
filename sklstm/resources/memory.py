"""Measuring the peak memory of a fit."""

from __future__ import annotations

import os
import threading

from .device import is_cuda, peak_allocated, reset_peak, synchronize
from .host_malloc import release_freed_memory

try:
    import resource  # Unix only
except ImportError:  # pragma: no cover - Windows: no /proc either, nothing is measured
    resource = None

__all__ = ["PeakMemory", "file_page_bytes", "release_freed_memory", "reset_peak_rss"]

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def reset_peak_rss():
    """Restart the kernel's high-water mark of the resident set (``VmHWM``) at the
    current resident size; OSError where ``/proc`` is missing or read-only."""
    with open(_CLEAR_REFS, "w") as f:
        f.write("5")


#: Bytes of a page, the unit of /proc/self/statm.
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_STATM = "/proc/self/statm"
_statm_fds = {}  # process id -> descriptor of its statm, kept open
_lock = threading.Lock()
_entered = []  # the measurements inside their blocks, in any thread
# the peak getrusage inherited from the program the process was exec-ed from, where a
# reset showed it: a reading of at most this is not the process's own
_inherited = {"bytes": 0}


def file_page_bytes():
    """Bytes of the process's resident set that are pages of files and shared memory
    (statm's third field, ``RssFile + RssShmem``): a memory-mapped store's data as a fit
    reads it, which the kernel reclaims without swapping. OSError where ``/proc`` is
    missing.

    Read with ``pread`` on a descriptor kept open per process (0.5 us, against 10 us
    to open the file: the budget reads it after every micro-batch; ``/proc/self``
    opened before a fork would still name the parent).
    """
    pid = os.getpid()
    fd = _statm_fds.get(pid)
    if fd is None:
        fd = _statm_fds[pid] = os.open(_STATM, os.O_RDONLY)
    return int(os.pread(fd, 256, 0).split()[2]) * _PAGE


def _rusage_high_water():
    """getrusage's peak resident set in bytes (1 us, against 25 us for /proc's
    ``VmHWM``); 0 where there is no getrusage."""
    return 0 if resource is None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


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
      resident size at entry, less the pages of files that came into the resident
      set meanwhile (:func:`file_page_bytes`: a memory-mapped store's data as the
      batches read it, which the kernel reclaims at will; counted, a fit on data
      larger than memory whose pages were evicted grew by the data it read, not by
      its batches). It includes every allocation of the process (tensors, autograd
      buffers, the allocator's cache), so concurrent work in other threads of the
      same process is counted too.
    * Measurements may nest (one around a fit, which measures itself): the peak, the
      process's, is restarted when a measurement begins or restarts, and those in
      their blocks keep theirs so far first.
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
    >>> # about 40 MB; None off Linux. The resident set is the whole process's, so what
    >>> # other threads allocate or free meanwhile moves it (a loose bound here)
    >>> mem.peak is None or 30_000_000 < mem.peak < 100_000_000
    True
    """

    def __init__(self, device):
        self.device = device
        self.peak = None
        self._baseline = None
        self._file_baseline = 0
        self._kept = 0  # the peak before the last restart, when it counts

    @property
    def baseline(self):
        """Bytes in use when the measurement began (0 on CUDA; None where unmeasured)."""
        return self._baseline

    def growth(self, high_water):
        """The growth since the baseline at a resident-set high-water mark, less the
        file pages that came in since.

        Parameters
        ----------
        high_water : int
            The process's peak resident set, in bytes.

        Returns
        -------
        int
            Bytes; 0 without a baseline (not entered, or no ``/proc``).

        Examples
        --------
        >>> import torch
        >>> PeakMemory(torch.device("cpu")).growth(10**9)  # not entered: no baseline
        0
        """
        if self._baseline is None:
            return 0
        files = max(0, file_page_bytes() - self._file_baseline)
        return max(0, high_water - self._baseline - files)

    def high_water(self):
        """The process's peak resident set since the last reset, in bytes (Linux).

        getrusage's figure (1 us: a budget reads it after every micro-batch) is the
        larger of the process's ``VmHWM`` and the peak of the program it was
        ``exec``-ed from, which Linux keeps for the process's life and no reset
        lowers: a worker started by a large process (joblib's, a ``subprocess``)
        reads its parent's peak. Up to that figure, which the resets find out
        (:meth:`_reset_rss`), ``VmHWM`` is read instead.

        Returns
        -------
        int
            Bytes.
        """
        high = _rusage_high_water()
        return high if high > _inherited["bytes"] else _status_kib("VmHWM") * 1024

    def _reset_rss(self):
        """Free the allocator's cache, restart ``VmHWM`` and note the peak getrusage
        inherited (a constant of the process, seen where it is above ``VmHWM``); OSError
        where ``/proc`` is missing or read-only. Under ``_lock``."""
        release_freed_memory()
        reset_peak_rss()
        # read before VmHWM, which only grows: above it, the figure is not this process's
        rusage = _rusage_high_water()
        if rusage > _status_kib("VmHWM") * 1024:
            _inherited["bytes"] = max(_inherited["bytes"], rusage)

    def _current_peak(self):
        if is_cuda(self.device):
            return peak_allocated(self.device)
        return self.growth(_status_kib("VmHWM") * 1024)

    def restart(self, keep=True):
        """Free cached memory and restart the peak from what is in use now.

        Parameters
        ----------
        keep : bool, default=True
            Whether the peak so far still counts in :attr:`peak` (a step that went
            over a budget did use that memory); False forgets it (trial steps
            that are not part of the fit).
        """
        with _lock:  # (another thread's measurement may be keeping this one's peak)
            if keep:
                self._kept = max(self._kept, self._current_peak())
            self._keep_others()
            if is_cuda(self.device):
                reset_peak(self.device, release=True)
            elif self._baseline is not None:
                self._reset_rss()

    def _keep_others(self):
        """Before the process's peak is restarted: the other measurements in their blocks
        (one around this, another thread's) keep their peak so far (under ``_lock``)."""
        for other in _entered:
            if other is not self:
                other._kept = max(other._kept, other._current_peak())

    def __enter__(self):
        # a measurement entered again starts afresh: the last block's peak is not this one's
        self.peak, self._kept = None, 0
        with _lock:
            self._keep_others()
            if is_cuda(self.device):
                reset_peak(self.device)
                self._baseline = 0
            else:
                try:
                    self._reset_rss()
                    self._file_baseline = file_page_bytes()
                    self._baseline = _status_kib("VmRSS") * 1024
                except OSError:  # not Linux, or /proc is read-only here
                    self._baseline = None
            _entered.append(self)
        return self

    def __exit__(self, *exc):
        try:
            synchronize(self.device)
        finally:
            with _lock:  # (read before another thread's measurement restarts the peak)
                _entered.remove(self)
                if is_cuda(self.device) or self._baseline is not None:
                    self.peak = max(self._kept, self._current_peak())
        return False
