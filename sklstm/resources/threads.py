"""Bounding the torch CPU threads a fit or prediction may use."""

from __future__ import annotations

import contextlib
import os
import threading
from numbers import Integral

import numpy as np
import torch
from joblib import cpu_count

from .._param_validation import plain_value
from .concurrency import fits_run_concurrently

__all__ = ["limit_threads", "usable_cores"]

_LOCK = threading.Lock()
# the thread whose blocks hold torch's setting now, and how many of its blocks are open:
# torch's count is process-wide, so a block of another thread (two predictions in a
# thread pool, which fit_running does not register) that set and restored it too would
# restore the first one's count after it had put the original back
_HOLDER = {"thread": None, "depth": 0}


def _forget_other_threads():
    """In a child forked while another thread's block held the setting: that thread does
    not run there, and its block would keep every later one of the child from it."""
    global _LOCK
    _LOCK = threading.Lock()  # (another thread may have held it at the fork)
    if _HOLDER["thread"] != threading.get_ident():
        _HOLDER.update(thread=None, depth=0)


if hasattr(os, "register_at_fork"):  # (POSIX)
    os.register_at_fork(after_in_child=_forget_other_threads)


def usable_cores():
    """The CPU cores this process may run on.

    ``os.cpu_count()`` counts the machine's cores, also those a CPU affinity mask
    (``taskset``, a container's cpuset, a batch scheduler's allocation) keeps the
    process off, or a container's CPU quota (``docker --cpus=2``, a Kubernetes CPU
    limit: the cgroup's ``cpu.max``, ``cpu.cfs_quota_us`` in cgroup v1) leaves no time
    on; threads beyond the cores it may use only take turns on them (under a quota,
    the whole process is throttled for the rest of each period once they used it up).

    Returns
    -------
    int
        The fewest of the cores of the process's affinity mask where the OS tells it
        (Linux), else ``os.cpu_count()``, and :func:`joblib.cpu_count` (the quota,
        rounded up, and ``LOKY_MAX_CPU_COUNT``: what scikit-learn's ``n_jobs=-1``
        counts); at least 1.

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    counter = getattr(os, "process_cpu_count", None)  # Python >= 3.13: the mask's
    if counter is not None:
        cores = counter() or 1
    else:
        try:
            cores = len(os.sched_getaffinity(0)) or 1
        except (AttributeError, OSError):  # no affinity masks here (macOS, Windows)
            cores = os.cpu_count() or 1
    # joblib reads the quota (neither os nor torch does); a cgroup file it cannot read
    # or parse (a locked-down container) leaves the mask's count, not a failed fit
    try:
        quota = cpu_count()
    except (OSError, ValueError):
        quota = cores
    return max(1, min(cores, quota))


def _check_n_threads(n_threads):
    """``n_threads`` as a Python int, or an error naming what is wrong, before torch's
    setting changes (``torch.set_num_threads`` refuses 0 and numpy arrays with a bare
    RuntimeError)."""
    value = plain_value(n_threads)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"n_threads must be a positive int or None; got "
                        f"{type(n_threads).__name__} {n_threads!r}.")
    if value < 1:
        raise ValueError(f"n_threads must be a positive int (the torch CPU threads to use) "
                         f"or None to leave torch's setting; got {value}.")
    return int(value)


def _in_fresh_thread(function, *args):
    """``function(*args)`` run in a thread started for it: one that has not read torch's
    thread count yet."""
    out = []
    thread = threading.Thread(target=lambda: out.append(function(*args)),
                              name="sklstm-torch-thread-count", daemon=True)
    thread.start()
    thread.join()
    return out[0]


def _counts():
    """``(this thread's, the process's)`` torch thread counts.

    With torch's OpenMP backend (its Linux builds among others) the count is OpenMP's, one
    per thread: ``torch.set_num_threads`` sets the calling thread's and the process's
    default, which a thread takes once, at its first parallel work (or
    ``torch.get_num_threads``). A thread of a pool that started before the user set the
    count keeps the one it took; read there, it is not the user's, and restoring it as
    the process's left every later thread (and a main thread that had not yet read it)
    at that count: two fits with ``n_threads=1`` in a thread pool left the user's
    ``torch.set_num_threads(3)`` at 1. torch has no call that reads the default itself:
    a thread started for the purpose takes it (a block of a worker thread took 65 us
    instead of 6 here; paid off the main thread only, where ``n_threads`` is set: the
    main thread's own count is the user's).
    """
    own = torch.get_num_threads()
    if threading.current_thread() is threading.main_thread():
        return own, own
    return own, _in_fresh_thread(torch.get_num_threads)


def _restore(own, process):
    """Put back this thread's count and the process's default (set last, from a thread
    started for it where they differ: ``torch.set_num_threads`` sets both)."""
    torch.set_num_threads(own)
    if process != own:
        _in_fresh_thread(torch.set_num_threads, process)


@contextlib.contextmanager
def limit_threads(n_threads):
    """Run a block with ``torch.set_num_threads(n_threads)``, then restore.

    ``None`` leaves torch's setting alone. Inside joblib's loky workers torch
    already starts with ``cpu_count // n_jobs`` threads, since loky sets
    ``OMP_NUM_THREADS`` for its children. While fits run concurrently in threads
    (:func:`~sklstm.resources.concurrency.fits_in_threads`) the setting is left alone
    too: it is process-wide, and threads that set and restore it in turn would leave it
    at whatever the last one restored. For the same reason, while a block of another
    thread holds the setting (a prediction beside this one in a thread pool), this one
    leaves it alone: the first block puts back what was set before it.

    Parameters
    ----------
    n_threads : int or None
        Threads torch may use inside the block (numpy integers accepted), at most
        the cores the process may run on (:func:`usable_cores`). None leaves
        torch's setting alone.

    Yields
    ------
    None
        Control passes to the ``with`` block; the previous thread count (the
        calling thread's, and the process's default that threads started later
        take) is restored when it exits, also on an error.

    Raises
    ------
    TypeError
        If ``n_threads`` is not an integer (a float, a bool).
    ValueError
        If ``n_threads`` is less than 1.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with limit_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield
        return
    n_threads = _check_n_threads(n_threads)  # also beside other fits: the same input
    me = threading.get_ident()
    with _LOCK:
        holds = not fits_run_concurrently() and _HOLDER["thread"] in (None, me)
        if holds:
            _HOLDER["thread"], _HOLDER["depth"] = me, _HOLDER["depth"] + 1
    if not holds:
        yield
        return
    saved = None
    try:  # (from here on the block's hold is given back whatever is raised)
        saved = _counts()
        torch.set_num_threads(min(n_threads, usable_cores()))
        yield
    finally:
        try:
            if saved is not None:
                _restore(*saved)
        finally:
            with _LOCK:
                _HOLDER["depth"] -= 1
                if not _HOLDER["depth"]:
                    _HOLDER["thread"] = None
