"""The torch device of a fit: which one, what it can do, and its memory.

This module is sklstm's one door to ``torch.cuda``: every CUDA-specific call (device
resolution, the random state forked with a fit, memory read, reset and capped,
synchronisation, whether bfloat16 can run an LSTM) is made here, behind functions
that do the plain thing on any other device, so the rest of the package says
``is_cuda(device)`` or ``peak_allocated(device)`` and never branches on CUDA itself
(``tests/resources/test_device.py`` reads the package source and checks it). Device
resolution (:func:`resolve_device`, :func:`is_cuda`) is written in the private
``_device_resolution.py``, which every other function here builds on; it is imported
from here only.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

import torch

# re-exported: part of this API (a module of its own, see this module's docstring)
from ._device_resolution import is_cuda, resolve_device

__all__ = ["OUT_OF_MEMORY", "bf16_lstm_problem", "copy_to", "device_memory", "empty_cache",
           "fits_on_device", "fork_rng", "is_cuda", "memory_cap", "own_stream", "peak_allocated",
           "reserved_memory", "reset_peak", "resolve_device", "rng_devices", "rng_state",
           "seed_rng", "set_rng_state", "synchronize"]

#: torch's out-of-memory error (``torch.OutOfMemoryError`` from torch 2.5 on, the
#: alias ``torch.cuda.OutOfMemoryError`` before).
OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)


def copy_to(tensor, device):
    """A small host tensor on ``device``, copied without making the host wait for it.

    On CUDA the copy goes from pinned (page-locked) memory and is non-blocking: from
    pageable memory a blocking copy waits for the stream's queued work (a host-device
    synchronization, which torch's sync debug mode reports), and the padded batches'
    lengths are copied every batch. torch's pinned-memory cache keeps the pinned copy
    until the transfer is done. Elsewhere, and for a tensor already there, it is
    ``tensor.to(device)``.

    Parameters
    ----------
    tensor : torch.Tensor
        The tensor (small: it is pinned whole).
    device : torch.device
        Where it is needed.

    Returns
    -------
    torch.Tensor
        ``tensor`` on ``device`` (``tensor`` itself when it is there).

    Examples
    --------
    >>> t = torch.tensor([3, 1])
    >>> copy_to(t, torch.device("cpu")) is t
    True
    """
    if tensor.device.type != "cpu" or not is_cuda(device):
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def _rng_module(device):
    """torch's module of the generator a fit on ``device`` draws dropout from besides
    the CPU's (``torch.cuda``, ``torch.mps``), or None (the CPU's alone)."""
    if is_cuda(device):
        return torch.cuda
    return torch.mps if torch.device(device).type == "mps" else None


def rng_devices(device):
    """The devices whose random state ``torch.random.fork_rng`` forks for a fit on
    ``device`` besides the CPU: ``[device]`` on CUDA and MPS (dropout draws there),
    else ``[]``.

    Examples
    --------
    >>> rng_devices(torch.device("cpu"))
    []
    """
    return [device] if _rng_module(device) is not None else []


def fork_rng(device):
    """``torch.random.fork_rng`` of the generators a fit on ``device`` draws from: the
    CPU's and, on CUDA or MPS, the device's (its type named: torch's default is CUDA
    in its older releases, and the current accelerator's, whichever the fit's is, later).

    Returns
    -------
    contextlib.AbstractContextManager
        Their states are put back when it exits.
    """
    devices = rng_devices(device)
    # (with no device none is forked; "cuda", not None, which older releases refuse)
    kind = torch.device(device).type if devices else "cuda"
    return torch.random.fork_rng(devices=devices, device_type=kind)


def seed_rng(seed, device):
    """Seed the generators a fit on ``device`` draws from, as ``torch.manual_seed``
    seeds them, and no other: torch's CPU generator and ``device``'s own (a CUDA
    device's, MPS's).

    ``torch.manual_seed`` seeds every device's generator (each visible CUDA device's,
    MPS's), while a fit forks only its own device's (:func:`rng_devices`): seeded with
    it, a fit on ``cuda:0`` left the user's ``cuda:1`` generator seeded with its seed
    (and, beside a fit on ``cuda:1`` in another thread, reseeded that fit's dropout
    midway). torch has
    no public call that seeds one given CUDA device: its generator is seeded directly,
    as ``torch.cuda.get_rng_state`` reads it.

    Parameters
    ----------
    seed : int
        The seed (numpy integers accepted).
    device : torch.device or str
        The fit's device.

    Examples
    --------
    >>> seed_rng(3, torch.device("cpu")); a = torch.rand(2)
    >>> _ = torch.manual_seed(3); torch.equal(a, torch.rand(2))
    True
    """
    seed = int(seed)
    device = torch.device(device)
    torch.random.default_generator.manual_seed(seed)
    if is_cuda(device):
        torch.cuda.init()  # (default_generators is filled in then)
        index = device.index if device.index is not None else torch.cuda.current_device()
        torch.cuda.default_generators[index].manual_seed(seed)
    elif device.type == "mps":
        torch.mps.manual_seed(seed)


def rng_state(device):
    """The random states a fit on ``device`` draws from, as tensors: torch's CPU
    generator (initialization, shuffling seeds) and, on CUDA or MPS, the device's
    (dropout draws there, keyed ``"cuda"`` or ``"mps"``), so that a checkpointed fit
    resumes with both and fits in threads each keep their own.

    Examples
    --------
    >>> sorted(rng_state("cpu"))
    ['cpu']
    """
    state = {"cpu": torch.get_rng_state()}
    module = _rng_module(device)
    if module is not None:
        state[torch.device(device).type] = module.get_rng_state(device)
    return state


def set_rng_state(state, device):
    """Set the random states :func:`rng_state` returned; a device's state only on a
    device of its type (a fit checkpointed on the CPU resumes on CUDA with the CUDA
    seed of its start)."""
    torch.set_rng_state(state["cpu"])
    module, kind = _rng_module(device), torch.device(device).type
    if module is not None and kind in state:
        module.set_rng_state(state[kind], device)


def synchronize(device):
    """Wait for the work queued on a CUDA ``device`` or on MPS (both run it after the
    call returns; a no-op on the CPU), so that a clock or a memory reading sees it done."""
    if is_cuda(device):
        torch.cuda.synchronize(device)
    elif torch.device(device).type == "mps":
        torch.mps.synchronize()


@contextmanager
def own_stream(device):
    """Run the block on a CUDA stream of its own, then wait for that stream's work.

    The current stream is the thread's (torch keeps it per thread), so fits in several
    threads each on a stream of their own queue their kernels independently, and the
    GPU may run them at the same time; on one stream, or the default one, they would
    run one after the other. The stream comes from torch's pool
    (``torch.cuda.Stream``); it first waits for what the thread queued before on its
    current stream, and the block's end waits for the stream's work (one host wait per
    block), so what the block made can be used on any stream afterwards. Off CUDA
    nothing changes.

    Parameters
    ----------
    device : torch.device
        The device of the work in the block.

    Yields
    ------
    None
    """
    if not is_cuda(device):
        yield
        return
    stream = torch.cuda.Stream(device)
    stream.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(stream):
        try:
            yield
        finally:
            stream.synchronize()


def empty_cache(device):
    """Give the memory torch's CUDA allocator caches back to the device (a no-op off
    CUDA), so that other processes, and a measurement that follows, see it free."""
    if is_cuda(device):
        torch.cuda.empty_cache()


def device_memory(device):
    """``(free, total)`` bytes of a CUDA ``device`` as the driver reports them
    (``torch.cuda.mem_get_info``); ``(None, None)`` off CUDA.

    Examples
    --------
    >>> device_memory(torch.device("cpu"))
    (None, None)
    """
    if not is_cuda(device):
        return None, None
    free, total = torch.cuda.mem_get_info(device)
    return int(free), int(total)


def reserved_memory(device):
    """Bytes torch's CUDA allocator holds on ``device`` (in use or cached); 0 off CUDA."""
    return int(torch.cuda.memory_reserved(device)) if is_cuda(device) else 0


def peak_allocated(device):
    """The most tensor memory torch held on a CUDA ``device`` since :func:`reset_peak`
    (``torch.cuda.max_memory_allocated``), in bytes; None off CUDA."""
    return int(torch.cuda.max_memory_allocated(device)) if is_cuda(device) else None


def reset_peak(device, release=False):
    """Restart :func:`peak_allocated` at what is in use now, after the queued work.

    Parameters
    ----------
    device : torch.device
        The device; nothing happens off CUDA.
    release : bool, default=False
        Also give the allocator's cache back to the device first (:func:`empty_cache`).
    """
    if is_cuda(device):
        torch.cuda.synchronize(device)
        if release:
            torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


@contextmanager
def memory_cap(device, n_bytes):
    """Cap what torch's CUDA allocator may hold on ``device`` at ``n_bytes`` while the
    block runs (``torch.cuda.set_per_process_memory_fraction``), then restore the
    fraction that was set before.

    The allocator checks the cap before it asks the driver for memory (``alloc_block``
    of ``c10/cuda/CUDACachingAllocator.cpp``), so an allocation that would take the
    process over ``n_bytes`` raises ``torch.OutOfMemoryError`` instead of being made:
    a step over budget fails inside the budget. The cap counts everything the
    allocator holds for this process on that device (cached blocks included), not
    the CUDA context. It is process-wide: other work of the same process on that
    device during the block is capped too. A lower fraction set before (a share of the
    GPU) is kept. torch reads the fraction back with
    ``torch.cuda.get_per_process_memory_fraction`` from torch 2.6 on; before, the
    fraction is restored to 1.0, torch's default (no cap beyond the device).

    Parameters
    ----------
    device : torch.device
        The fit's device; off CUDA, or with ``n_bytes`` None, nothing is capped.
    n_bytes : int or None
        The cap (``max_memory``); at most the device's total memory.

    Yields
    ------
    float or None
        The fraction of the device's total memory set, or None when nothing was.
    """
    if not is_cuda(device) or n_bytes is None:
        yield None
        return
    index = device.index if device.index is not None else torch.cuda.current_device()
    total = device_memory(device)[1]
    getter = getattr(torch.cuda, "get_per_process_memory_fraction", None)  # torch >= 2.6
    before = float(getter(index)) if getter is not None else 1.0
    # a lower cap set before (the user's share of a GPU) stays: a budget never loosens it
    fraction = min(before, float(n_bytes) / total)
    torch.cuda.set_per_process_memory_fraction(fraction, index)
    try:
        yield fraction
    finally:
        torch.cuda.set_per_process_memory_fraction(before, index)


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
    if not is_cuda(device):
        return True
    free, _ = device_memory(device)
    return n_bytes <= fraction * (free if limit is None else min(free, limit))


def bf16_lstm_problem(device):
    """Why an LSTM cannot be run in bfloat16 on ``device``, or None when it can.

    On the CPU torch runs bfloat16 LSTMs (oneDNN or its own kernels). On CUDA the
    GPU needs bfloat16 arithmetic of its own (compute capability 8.0 or later: older
    GPUs only emulate it) and this torch build a bfloat16 LSTM kernel: cuDNN's where
    torch allows it (``supportsBFloat16RNNWithCuDNN`` of torch's ``CUDAHooks``: cuDNN
    9.13 or later), else torch's own fused LSTM cell, which gained bfloat16 in later
    releases. torch tells neither in Python, so on any device but the CPU one
    bfloat16 step of a tiny LSTM is tried, run as the network runs it, once per
    device and process.

    Parameters
    ----------
    device : torch.device
        The fit's device.

    Returns
    -------
    str or None
        A sentence saying what is missing; None where bfloat16 LSTMs run.

    Raises
    ------
    ValueError
        If ``device`` is not on this machine, as :func:`resolve_device` says it.

    Examples
    --------
    >>> bf16_lstm_problem(torch.device("cpu")) is None
    True
    """
    if device.type == "cpu":
        return None
    # an absent device: torch's AssertionError "Torch not compiled with CUDA enabled"
    resolve_device(device)
    if is_cuda(device):
        major, minor = torch.cuda.get_device_capability(device)
        if major < 8:
            return (f"{torch.cuda.get_device_name(device)} (compute capability "
                    f"{major}.{minor}) has no bfloat16 arithmetic of its own (8.0 or later)")
    return _bf16_lstm_error(str(device))


@functools.cache
def _bf16_lstm_error(device):
    # as LSTMNetwork runs it: float32 weights cast functionally, autocast off, and a
    # backward pass into the float32 weights
    try:
        lstm = torch.nn.LSTM(2, 2, batch_first=True).to(device)
        copies = {name: p.to(torch.bfloat16) for name, p in lstm.named_parameters()}
        x = torch.zeros(1, 3, 2, device=device, dtype=torch.bfloat16)
        with torch.autocast(torch.device(device).type, enabled=False):
            out = torch.func.functional_call(lstm, copies, (x,))[0]
            out.float().sum().backward()
    except (RuntimeError, TypeError) as exc:  # a dtype MPS lacks is a TypeError
        return (f"torch {torch.__version__} cannot run an LSTM in bfloat16 on {device} "
                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
    return None
