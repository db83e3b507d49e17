"""glibc's malloc settings for CPU fits: keep the step's large buffers on the heap.

torch's CPU LSTM (oneDNN) takes a training workspace afresh every step, about 44 MiB
at a batch of 256 sequences of 100 steps and ``hidden_size=32``, more with larger
batches. glibc serves a block above its mmap threshold (dynamic, capped at 32 MiB on
64-bit) with a fresh ``mmap``, and the kernel faults and zeroes it in page by page on
first touch: every step. Measured (``benchmarks/bench_data_scale.py``, results in
``benchmarks/results/data_scale.md``): an epoch on a memory-mapped store took 1.5x the
same epoch in memory, with 30x the minor page faults; the in-memory fit escaped only
because the data's conversion had left a free heap block that large.

Written by hand because nothing below sklstm provides it: torch's CPU caching
allocator is not reachable from Python, ``THP_MEM_ALLOC_ENABLE`` is read once, at
torch's first allocation, and only makes the faults larger (measured: 1.09x), and
skorch and numpy do not allocate these buffers. Setting glibc's
``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` (``mallopt``, the same settings as the
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` environment variables)
serves blocks up to 256 MiB from the heap and keeps them there after ``free``, so the
next step reuses the same pages: the epoch then runs as fast as in memory (0.99-1.07x).

The settings are process-wide, so they hold only while CPU fits run, held as
:mod:`~sklstm.resources.held_settings` holds such settings (counted over the fits of
all threads; a child forked beside them gets glibc's back), and never where the user
chose an allocator or its settings (any ``MALLOC_*_`` variable, ``glibc.malloc`` in
``GLIBC_TUNABLES``, an ``LD_PRELOAD``-ed jemalloc, tcmalloc or mimalloc) or set
``SKLSTM_HOST_MALLOC=default``. When the last fit ends the heap's free memory goes back
to the OS (``malloc_trim``) and the thresholds go to the top of glibc's own dynamic
range (32 MiB and 64 MiB): glibc has no call that restarts its dynamic adjustment once
a threshold was set.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys

from .._compat.python import warn_at_caller
from .held_settings import HeldSetting

__all__ = ["OPT_OUT", "glibc", "release_freed_memory", "step_buffers_on_heap",
           "why_not_tuned"]

#: the environment variable that keeps glibc's defaults: ``SKLSTM_HOST_MALLOC=default``
OPT_OUT = "SKLSTM_HOST_MALLOC"
#: ``mallopt`` parameters (glibc's ``malloc.h``)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: (mmap threshold, trim threshold) while CPU fits run, and after them (the top of
#: glibc's dynamic range on 64-bit: DEFAULT_MMAP_THRESHOLD_MAX and twice that)
DURING_FITS = (256 * 2**20, 512 * 2**20)
AFTER_FITS = (32 * 2**20, 64 * 2**20)
_ALLOCATORS = ("jemalloc", "tcmalloc", "mimalloc")


@functools.cache
def glibc():
    """The C library as a :class:`ctypes.CDLL` where it is glibc, else None."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None)  # the process's own symbols: its C library's among them
    # musl and others have no gnu_get_libc_version (musl's mallopt does nothing)
    return libc if hasattr(libc, "gnu_get_libc_version") else None


def why_not_tuned(environ=None, libc_found=True):
    """Why sklstm leaves glibc's malloc settings alone, or None where it sets them.

    Parameters
    ----------
    environ : mapping or None, default=None
        The environment to judge (``os.environ`` when None).
    libc_found : bool, default=True
        Whether the C library is glibc.

    Returns
    -------
    str or None
        The reason, for example ``"MALLOC_MMAP_THRESHOLD_ is set"``.

    Examples
    --------
    >>> from sklstm.resources.host_malloc import why_not_tuned
    >>> why_not_tuned({"SKLSTM_HOST_MALLOC": "default"})
    'SKLSTM_HOST_MALLOC=default'
    >>> why_not_tuned({}) is None
    True
    """
    env = os.environ if environ is None else environ
    if env.get(OPT_OUT, "").strip().lower() == "default":
        return f"{OPT_OUT}=default"
    if not libc_found:
        return "the C library is not glibc"
    chosen = sorted(k for k in env if k.startswith("MALLOC_") and k.endswith("_"))
    if chosen:
        return f"{chosen[0]} is set"
    if "glibc.malloc." in env.get("GLIBC_TUNABLES", ""):
        return "GLIBC_TUNABLES sets glibc.malloc"
    preload = env.get("LD_PRELOAD", "")
    allocator = next((a for a in _ALLOCATORS if a in preload), None)
    return None if allocator is None else f"{allocator} is preloaded"


def _warn_unknown_opt_out():
    # "off" or "0" read as the opt-out they were meant to be, silently tuned glibc
    # (warned at the user's fit: the warnings filter shows it once per line of theirs)
    value = os.environ.get(OPT_OUT, "")
    if value.strip().lower() not in ("", "default"):
        warn_at_caller(
            f"{OPT_OUT}={value!r} is not a setting of sklstm's and is ignored: only "
            "'default' is (glibc's own malloc settings, also during fits); set "
            f"{OPT_OUT}=default, or unset it.", UserWarning)


def _set_thresholds(libc, mmap_threshold, trim_threshold):
    # mallopt returns 0 for a value it refuses
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
                and libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold))


def _take_heap():
    """The first of the CPU fits running at once: decide from the environment now, and
    set glibc's thresholds. Decided once per process instead, an opt-out set after the
    first fit (in a notebook) was ignored without a word."""
    _warn_unknown_opt_out()
    libc = glibc()
    if why_not_tuned(libc_found=libc is not None) is None and _set_thresholds(
            libc, *DURING_FITS):
        return None  # (glibc has no call that reads a threshold back)
    return HeldSetting.DECLINED


def _after_fits(found):
    """The last fit ended (``found``: None, glibc's thresholds cannot be read): glibc's
    largest dynamic thresholds, and the heap's free memory back to the OS."""
    _set_thresholds(glibc(), *AFTER_FITS)
    release_freed_memory()


#: glibc's thresholds for the step's buffers while CPU fits run
_HEAP = HeldSetting(_take_heap, _after_fits)


@contextlib.contextmanager
def step_buffers_on_heap(device):
    """Run a fit with glibc keeping blocks of up to 256 MiB on its heap (CPU fits).

    The first of the CPU fits running at once decides, from the environment then,
    whether sklstm may set glibc's thresholds (see :func:`why_not_tuned`: an opt-out
    set after earlier fits of the process counts from the next fit on), and sets
    them; the last restores them and trims the heap.

    Parameters
    ----------
    device : torch.device
        The fit's device; anything but the CPU leaves glibc alone.

    Yields
    ------
    bool
        Whether the thresholds are set for this fit.

    Warns
    -----
    UserWarning
        Where it decides, if ``SKLSTM_HOST_MALLOC`` holds anything but ``default``
        (``off``, say): it is ignored.
    """
    if device.type != "cpu":
        yield False
        return
    with _HEAP.held() as kept:
        yield kept


def release_freed_memory():
    """Hand memory freed by earlier work back to the OS (glibc's ``malloc_trim``).

    Otherwise the allocator reuses what an earlier fit freed, the resident set
    does not grow, and the measured peak depends on what ran before. Does
    nothing where the C library is not glibc.
    """
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)
