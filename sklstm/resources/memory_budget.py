"""Memory budgets: watching a fit's steps against ``max_memory`` (parsed by
:mod:`~sklstm.resources.memory_sizes`) or what the device or host has free.

Why this is written by hand: skorch has no memory budget, torch only reports
(``torch.cuda.max_memory_allocated``) or caps a CUDA process
(``set_per_process_memory_fraction``, process-global), and neither watches the
CPU. :class:`MemoryBudget` measures what :class:`~sklstm.resources.PeakMemory`
measures (the fit's resident-set growth on the CPU, torch's allocator on CUDA), so
a budget and ``peak_memory_`` speak of the same bytes. On CUDA the fit also runs under
torch's cap (:func:`~sklstm.resources.device.memory_cap`), so that no step allocates
past ``max_memory`` before the check after it.
"""

from __future__ import annotations

import os

from .._compat.python import warn_at_caller
from ..exceptions import MemoryBudgetError
from .device import OUT_OF_MEMORY, device_memory, is_cuda, peak_allocated, reserved_memory
from .memory_sizes import format_bytes, parse_memory

__all__ = ["OUT_OF_MEMORY", "MemoryBudget", "MemoryBudgetExceeded", "available_memory",
           "check_memory_limit", "format_bytes", "parse_memory"]

class MemoryBudgetExceeded(RuntimeError):
    """A step used more memory than the budget (internal: the step is redone smaller)."""


_MEMINFO = "/proc/meminfo"
_PROC_CGROUP = "/proc/self/cgroup"
_CGROUP_ROOT = "/sys/fs/cgroup"
#: per cgroup version: the controller's mount below the root, the files of its limit and
#: usage, and memory.stat's key of the page cache the kernel reclaims first
_CGROUP_FILES = {2: ("", "memory.max", "memory.current", "inactive_file"),
                 1: ("memory", "memory.limit_in_bytes", "memory.usage_in_bytes",
                     "total_inactive_file")}
#: a cgroup limit this large is no limit (v1 writes 2**63 rounded down to a page)
_NO_LIMIT = 2**60


def _available_cpu_bytes():
    """What the host can give the process without swapping: MemAvailable of
    ``/proc/meminfo``, less where a memory cgroup (a container's, a batch job's) leaves
    less under its limit; None where neither can be read."""
    figures = [n for n in (_meminfo_available(), _cgroup_room()) if n is not None]
    return min(figures, default=None)


def _meminfo_available():
    try:
        with open(_MEMINFO) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_int(path, key=None):
    """The number in a cgroup file (``key``'s line of a ``memory.stat``), or None."""
    try:
        with open(path) as f:
            for line in f:
                words = line.split()
                if key is None:
                    return int(words[0]) if words and words[0] != "max" else None
                if len(words) == 2 and words[0] == key:
                    return int(words[1])
    except (OSError, ValueError):
        pass
    return None


def _cgroup_room():
    """Bytes the process's memory cgroups leave under their limits, or None where none is
    set (or readable).

    MemAvailable is the machine's: a container or a batch job's allocation is a cgroup
    limit below it, over which the kernel kills the process instead of swapping. Every
    cgroup from the process's up to the root of the hierarchy counts (a parent's limit
    binds its children), its usage less its inactive page cache (reclaimed before the
    limit is hit). cgroup v2 and v1 alike.
    """
    rooms = (_room(directory, files) for directory, files in _memory_cgroups())
    return min((room for room in rooms if room is not None), default=None)


def _memory_cgroups():
    """``(directory, files)`` of the process's memory cgroup and of every one above it,
    ``files`` an entry of :data:`_CGROUP_FILES`."""
    try:
        with open(_PROC_CGROUP) as f:
            lines = f.read().splitlines()
    except OSError:
        return
    for line in lines:  # "id:controllers:path"; v2's has no controllers
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        version = 2 if controllers == "" else 1 if "memory" in controllers.split(",") else 0
        if not version:
            continue
        files = _CGROUP_FILES[version]
        root = os.path.normpath(os.path.join(_CGROUP_ROOT, files[0]))
        here = os.path.normpath(os.path.join(root, path.strip("/")))
        # in a container the process's path is the host's: its own root is its cgroup
        here = here if here.startswith(root) and os.path.isdir(here) else root
        while True:
            yield here, files
            if here == root or os.path.dirname(here) == here:
                break
            here = os.path.dirname(here)


def _room(directory, files):
    """Bytes one cgroup leaves under its limit, or None where it sets none."""
    _, limit_file, usage_file, cache_key = files
    limit = _read_int(os.path.join(directory, limit_file))
    usage = _read_int(os.path.join(directory, usage_file))
    if limit is None or limit >= _NO_LIMIT or usage is None:
        return None
    cache = _read_int(os.path.join(directory, "memory.stat"), cache_key) or 0
    return max(0, limit - max(0, usage - cache))


def _cuda_free(device):
    """Bytes a fit on a CUDA device can have: its free memory and torch's reserve there."""
    return device_memory(device)[0] + reserved_memory(device)


def check_memory_limit(limit, device, name):
    """Refuse, before training, a ``max_memory`` that the device does not have.

    Parameters
    ----------
    limit : int or None
        ``max_memory`` in bytes.
    device : torch.device
        The fit's device. On CUDA the budget is also torch's cap on the allocator
        (a fraction of the device's memory, at most all of it); elsewhere the host's
        memory is not checked (swap and overcommit make its size no bound).
    name : str
        The estimator's class name, for the message.

    Raises
    ------
    ValueError
        If ``limit`` is larger than the CUDA device's total memory.

    Examples
    --------
    >>> import torch
    >>> check_memory_limit(2**40, torch.device("cpu"), "LSTMClassifier")  # not checked
    """
    total = device_memory(device)[1]
    if limit is not None and total is not None and limit > total:
        raise ValueError(
            f"{name}: max_memory={format_bytes(limit)} is more than {device} has "
            f"({format_bytes(total)} in all); set at most that, or None for the "
            "device's free memory.")


def available_memory(device, limit=None):
    """The most memory a fit on ``device`` can have, and where that figure comes from.

    Parameters
    ----------
    device : torch.device
        Where the fit runs.
    limit : int or None, default=None
        ``max_memory`` in bytes.

    Returns
    -------
    n_bytes : int or None
        The smallest of ``limit`` and what the machine has: on CUDA the device's free
        memory (with what torch reserved there), else what the host has available
        (``MemAvailable``, or less where a memory cgroup's limit, a container's or a
        batch job's, leaves less); None where none of them can be read. A ``limit``
        above the host's memory (``max_memory="64GB"`` on a machine with 16) does not
        take a fit past it: the automatic batch size and the model-size check kept
        within it, steps swapped or the kernel's OOM killer ended the process.
    source : {"max_memory", "device", "host"} or None
        Which figure it is.

    Examples
    --------
    >>> import torch
    >>> available_memory(torch.device("cpu"), limit=2**30)
    (1073741824, 'max_memory')
    """
    figures = [] if limit is None else [(limit, "max_memory")]
    if is_cuda(device):
        figures.append((_cuda_free(device), "device"))
    else:  # the CPU (and MPS's memory, shared with it)
        host = _available_cpu_bytes()
        figures += [] if host is None else [(host, "host")]
    return min(figures, default=(None, None))


class MemoryBudget:
    """A fit's memory budget and the check of its steps against it.

    Parameters
    ----------
    limit : int or None
        Bytes the fit may use; None on a CUDA device means its free memory plus
        what torch already reserved there when the fit starts; None on the CPU
        means no budget (:attr:`enforced` is False).
    memory : PeakMemory
        The fit's (entered) measurement: usage counts as ``peak_memory_`` does,
        from its baseline.

    Attributes
    ----------
    limit : int or None
        The budget in bytes.
    max_memory : int or None
        The budget the user set (``max_memory``); None when :attr:`limit` is only
        what the device had free.
    enforced : bool
        Whether steps are checked against it.
    measured : bool
        Whether the fit's memory can be read: on CUDA, and on the CPU on Linux with
        ``/proc`` (``memory`` entered). Where it cannot, a ``max_memory`` is not
        watched, and a ``UserWarning`` says so.
    """

    def __init__(self, limit, memory):
        self.memory = memory
        self.device = device = memory.device
        self.max_memory = limit
        self.enforced = limit is not None
        if limit is None and is_cuda(device):
            limit, self.enforced = _cuda_free(device), True
        self.limit = limit
        self._machine_bound = None  # (bytes, source) where the search kept below max_memory
        # the CPU is read from Linux's /proc (PeakMemory.high_water): without it,
        # PeakMemory has no baseline and the CPU cannot be watched
        self._baseline = memory.baseline
        self.measured = is_cuda(device) or self._baseline is not None
        if not self.measured:
            self.enforced = False
            if limit is not None:  # ignored in silence, the budget would mislead
                warn_at_caller(
                    f"max_memory={format_bytes(limit)} cannot be watched here: the memory "
                    f"of a fit on {device} is read from Linux's /proc, which this system "
                    "does not offer (or does not let this process write), so the fit runs "
                    "without a memory budget (batch_size='auto' would take every sample: "
                    "give batch_size a number).", UserWarning)

    def search_limit(self):
        """The budget the automatic batch size is searched against (bytes or None):
        :func:`available_memory` now: the budget, but no more than the device has free
        on CUDA (with torch's reserve there), or the OS has available on the CPU (also
        what is searched without a budget); None where the fit's memory cannot be read
        (:attr:`measured`)."""
        if not self.measured:  # trial steps would all read 0 bytes
            return None
        # not the budget alone: a max_memory above what other processes leave free on
        # CUDA would be searched for a micro-batch the device cannot hold, and on the CPU
        # above what the host has (max_memory="64GB" on a machine with 16) for one whose
        # steps swap, or that the kernel's OOM killer ends: without a budget the search
        # keeps within the host's memory, and a budget must not take it past that
        limit, source = available_memory(self.device, self.max_memory)
        if self.max_memory is not None and source != "max_memory":  # (for error's words)
            self._machine_bound = (limit, source)
        # the search computes in floats: a budget past any machine (max_memory=10**400 is
        # accepted) is searched as 2**62 bytes, which changes no batch
        return None if limit is None else min(limit, 2**62)

    def used(self):
        """Bytes used at the peak since the last :meth:`restart`, as ``peak_memory_``
        counts them."""
        # this runs after every micro-batch: PeakMemory.high_water reads getrusage
        # (1 us) where it is the process's own figure, /proc (25 us) where it is not
        if is_cuda(self.device):
            return peak_allocated(self.device)
        if self._baseline is None:
            return 0
        return self.memory.growth(self.memory.high_water())

    def headroom(self):
        """Bytes left under the budget now, or None without one: on CUDA the budget
        less the tensor memory the process already holds on the device (all of it
        counts, other work's too), on the CPU less the fit's growth so far.

        Examples
        --------
        >>> import torch
        >>> from sklstm.resources import PeakMemory
        >>> MemoryBudget(None, PeakMemory(torch.device("cpu"))).headroom() is None
        True
        """
        return None if self.limit is None else max(0, self.limit - self.used())

    def check(self):
        """Raise :class:`MemoryBudgetExceeded` if the peak since the last restart is over."""
        if self.enforced and (used := self.used()) > self.limit:
            raise MemoryBudgetExceeded(used)

    def restart(self, keep=True):
        """Free cached memory and restart the peak (see :meth:`PeakMemory.restart`)."""
        self.memory.restart(keep=keep)

    def describe(self):
        """What bounds the fit, in words: ``"the memory budget of 4.0 GiB on cuda:0"``
        for a ``max_memory``, ``"the 139.0 GiB free on cuda:0"`` for a CUDA device
        without one (no budget was set: the device's memory is the bound), ``"the
        memory available on cpu"`` otherwise."""
        if self.max_memory is not None:
            return f"the memory budget of {format_bytes(self.max_memory)} on {self.device}"
        if self.limit is not None:
            return f"the {format_bytes(self.limit)} free on {self.device}"
        return f"the memory available on {self.device}"

    def remedy(self):
        """The first thing to do about a step that does not fit, in words: raise the
        ``max_memory`` the user set; without one the bound is what the device or the
        host has free, which no setting of sklstm's raises."""
        if self.max_memory is not None:
            return "raise max_memory"
        return f"free memory on {self.device} (other processes or tensors)"

    def error(self, tried, what, margin=0):
        """The :class:`~sklstm.exceptions.MemoryBudgetError` for a step that cannot fit.

        Parameters
        ----------
        tried : int
            The micro-batch that does not fit.
        what : str
            Who asks, for the message's start.
        margin : int, default=0
            Bytes of the bound kept free (``batch_size="auto"``'s safety margin): the
            step needs more than the bound less these, and the message says so.
        """
        budget, remedy = self.describe(), self.remedy()
        if self._machine_bound is not None:  # "raise max_memory" would not help
            limit, source = self._machine_bound
            have = "free" if source == "device" else "available"
            budget = f"the {format_bytes(limit)} {have} on {self.device} (below max_memory)"
            remedy = f"free memory on {self.device} (other processes or tensors)"
        if margin:  # the step may fit the budget itself: say what it missed
            budget += (f" once batch_size='auto' keeps {format_bytes(margin)} of it free "
                       "(its safety margin)")
        first = remedy[0].upper() + remedy[1:]
        if margin:
            first += ", or give batch_size a number"
        return MemoryBudgetError(
            f"{what}: a training step with a micro-batch of {tried} sample(s) needs more "
            f"than {budget}. {first}, or shorten the sequences (seq_len, downsample), or "
            "use a smaller model (hidden_size, num_layers)."
        )
