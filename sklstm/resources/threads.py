"""Bounding the torch CPU threads a fit or prediction may use."""

from __future__ import annotations

import contextlib
import os

import torch

from .concurrency import fits_run_concurrently

__all__ = ["limit_threads"]


@contextlib.contextmanager
def limit_threads(n_threads):
    """Run a block with ``torch.set_num_threads(n_threads)``, then restore.

    ``None`` leaves torch's setting alone. Inside joblib's loky workers torch
    already starts with ``cpu_count // n_jobs`` threads, since loky sets
    ``OMP_NUM_THREADS`` for its children. While fits run concurrently in threads
    (:func:`~sklstm.resources.concurrency.fits_in_threads`) the setting is left alone
    too: it is process-wide, and threads that set and restore it in turn would leave it
    at whatever the last one restored.

    Parameters
    ----------
    n_threads : int or None
        Threads torch may use inside the block, at most ``os.cpu_count()``.
        None leaves torch's setting alone.

    Yields
    ------
    None
        Control passes to the ``with`` block; the previous thread count is
        restored when it exits, also on an error.
    """
    if n_threads is None or fits_run_concurrently():
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(min(n_threads, os.cpu_count() or n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)
