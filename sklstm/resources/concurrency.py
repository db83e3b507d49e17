"""Fits that run beside each other in threads of one process: the switch, and its stream.

torch keeps some of what a fit sets once per process: its global random generators
(weights are initialized, and dropout draws, from them), its CPU thread count
(``torch.set_num_threads``) and, on CUDA, the allocator's memory fraction and peak
statistics. A fit normally owns them while it runs (it seeds the generators, sets the
thread count to ``n_threads``, caps the allocator at ``max_memory``), which is right for
one fit at a time per process: scikit-learn's ``n_jobs`` runs fits in worker processes.

Fits in threads of one process would change these for each other. While
:func:`fits_in_threads` is in force (:func:`sklstm.search.concurrent_fits` turns it on
for a search), and for a fit that starts while a fit of another thread runs
(:func:`fit_running` registers each; a search on joblib's ``"threading"`` backend, a
``ThreadPoolExecutor``), every such fit of the process instead

* keeps its random state to itself (:class:`sklstm.training.randomness.FitRandomness`):
  its results are those it has alone;
* leaves the thread count and the memory cap alone (``n_threads`` and the cap of
  ``max_memory`` are not applied: both are process-wide, and threads setting them in
  turn would leave them at whatever the last one restored);
* runs on a CUDA stream of its own (:func:`fit_stream`), so the fits' kernels may run
  on the GPU at the same time.

A fit that started alone keeps what it set (it owns the generators, its thread count
and cap) while later fits run beside it: their draws put their own state in the
generators and take it back out under the process's lock, which its draws take too.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager, nullcontext

from .device import own_stream

__all__ = ["fit_running", "fit_stream", "fits_in_threads", "fits_run_concurrently"]

_LOCK = threading.Lock()
_DEPTH = {}  # thread ident -> blocks of fits_in_threads it entered (in force for all)
_RUNNING = {}  # thread ident -> fits running in that thread (fit_running)


@contextmanager
def _registered(registry):
    """Count a block of the calling thread in ``registry`` while it runs."""
    me = threading.get_ident()
    with _LOCK:
        registry[me] = registry.get(me, 0) + 1
    try:
        yield
    finally:
        with _LOCK:
            registry[me] -= 1
            if not registry[me]:
                del registry[me]


def _forget_other_threads():
    """In a child forked while fits ran in other threads (a ``fork`` start method beside
    a fit in a thread pool): only the forking thread runs on there, so the child's fits
    ran as if beside those, for its whole life."""
    global _LOCK
    _LOCK = threading.Lock()  # (another thread may have held it at the fork)
    me = threading.get_ident()
    for registry in (_DEPTH, _RUNNING):
        mine = registry.pop(me, 0)
        registry.clear()
        if mine:
            registry[me] = mine


if hasattr(os, "register_at_fork"):  # (POSIX)
    os.register_at_fork(after_in_child=_forget_other_threads)


@contextmanager
def fits_in_threads():
    """Let the fits of this process run beside each other in threads while the block runs.

    Process-wide (the worker threads of a search are not the thread that enters it)
    and nestable. See the module docstring for what changes for a fit.

    Yields
    ------
    None

    Examples
    --------
    >>> with fits_in_threads():
    ...     fits_run_concurrently()
    True
    >>> fits_run_concurrently()
    False
    """
    with _registered(_DEPTH):
        yield


@contextmanager
def fit_running():
    """Register a fit of the calling thread for as long as the block runs.

    Fits in threads that nobody declared (:func:`fits_in_threads`) are found this way:
    a fit that starts while a fit of another thread runs takes the concurrent path,
    so its random draws, and those of the fit already running, are each their own
    (scikit-learn's searches on joblib's ``"threading"`` backend gave other scores
    than one fit at a time).

    Yields
    ------
    None

    Examples
    --------
    >>> import threading
    >>> seen = []
    >>> with fit_running():
    ...     worker = threading.Thread(target=lambda: seen.append(fits_run_concurrently()))
    ...     worker.start(); worker.join()
    ...     fits_run_concurrently()  # the calling thread's own fit is no other fit
    False
    >>> seen
    [True]
    """
    with _registered(_RUNNING):
        yield


def fits_run_concurrently():
    """Whether fits of this process may run beside each other now: inside
    :func:`fits_in_threads`, or while a fit of another thread runs (:func:`fit_running`).

    Returns
    -------
    bool
    """
    if _DEPTH:
        return True
    # read without the lock (it is asked on every forward pass): a copy of the keys,
    # which fit_running changes under the lock, is a consistent snapshot
    me = threading.get_ident()
    return any(thread != me for thread in tuple(_RUNNING))


def fit_stream(device):
    """A context that runs a fit (or prediction) on a CUDA stream of its own when fits run
    concurrently (:func:`~sklstm.resources.device.own_stream`); else it does nothing.

    Parameters
    ----------
    device : torch.device
        The fit's device.

    Returns
    -------
    contextlib.AbstractContextManager
    """
    return own_stream(device) if fits_run_concurrently() else nullcontext()
