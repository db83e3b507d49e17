"""torch's native CPU kernels for fits under ``max_memory`` whose batches take many
shapes: oneDNN's cache would hold buffers for every shape.

On the CPU torch runs ``nn.LSTM`` (and convolutions) with oneDNN, which keeps every
primitive it made in a process-wide cache (1024 entries unless
``ONEDNN_PRIMITIVE_CACHE_CAPACITY`` says otherwise), and an LSTM primitive holds
buffers of its shape's size. Padded batches of ragged data take one shape per padded
width (a multiple of 8 steps), so the fit's resident memory grows with the number of
distinct lengths, not with the batch. Measured (``hidden_size=64``, 2 layers,
``batch_size=40``, 4000 sequences of 20-200 steps, 23 widths;
``benchmarks/bench_ragged_onednn.py``, commands and figures in
``docs/memory_and_throughput.rst``): each width added about 2.5-4.5 MiB, 82-120 MiB at
the peak against 23-28 MiB for sequences of one length; under ``max_memory="64MiB"``,
with ``batch_size=40`` or ``"auto"``, the micro-batch was halved down to one sample and
the fit was lost.

A CPU fit under ``max_memory`` whose sequences take more than one padded width runs
with ``torch.backends.mkldnn.enabled`` off: torch's native kernels keep no buffer
between steps (45-49 MiB at the peak on the same data). They are slower (1.8x that
regressor's CPU time, 2.1x to 2.5x with the classifier's convolutional branch; in
bfloat16 it depends on the CPU's bfloat16 instructions: 4.4x to 7.6x in a first,
unscripted measurement on an unrecorded machine, about 1x on an AVX2 AMD EPYC), so other
fits keep oneDNN, and so does a fit where the user sized oneDNN's cache
(:data:`CACHE_SETTINGS` in the environment): with a capacity of 0 oneDNN is bounded
too (44-50 MiB) and hardly slower than with its cache (9.1-10.0 against 9.5 s). (In
bfloat16 on a CPU where oneDNN has no bfloat16 kernels torch runs the LSTM natively anyway: the
route costs nothing there.) Kept on with fewer padded widths (rounded up to powers
of two), or for all but the LSTM, oneDNN lost the classifier's fit under the same
budget: its convolutions cache buffers per width too (measured in
``docs/memory_and_throughput.rst``).

Written by hand because the cache's capacity cannot be set from Python (oneDNN reads
its environment variable once; torch exports no ``dnnl_set_primitive_cache_capacity``),
and ``torch.backends.mkldnn.flags()`` restores the flag when it exits whatever else
runs: with fits in threads the first to end would switch oneDNN back on under the
others (it also sets ``allow_tf32``, which warns on CPU builds). The flag is
process-wide, so it is held as :mod:`~sklstm.resources.held_settings` holds such
settings: counted over the fits of all threads, the first such fit turns it off, the
last puts back what it found, and a child forked beside them gets it back; a flag the
user turned off stays off.
"""

from __future__ import annotations

import contextlib
import os

import torch

from .held_settings import held_flag

__all__ = ["CACHE_SETTINGS", "native_kernels_for_ragged_steps"]

#: the environment variables that size oneDNN's primitive cache (the second is its name
#: from before oneDNN's rename from DNNL, which it still reads)
CACHE_SETTINGS = ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "DNNL_PRIMITIVE_CACHE_CAPACITY")

#: oneDNN off while such fits run
_NATIVE_KERNELS = held_flag(torch.backends.mkldnn, "enabled", False)


@contextlib.contextmanager
def native_kernels_for_ragged_steps(device, widths, budget):
    """Run a fit with oneDNN off where it is on the CPU, under a budget and of several
    widths, and the user did not size oneDNN's cache.

    Parameters
    ----------
    device : torch.device
        The fit's device; anything but the CPU leaves oneDNN alone.
    widths : int
        The padded widths its batches can take
        (:func:`sklstm.data.tensors.padded_widths`).
    budget : bool
        Whether its steps are held to a memory budget (``max_memory``): a step over it
        is redone smaller, and a step of one sample over it ends the fit.

    Yields
    ------
    bool
        Whether oneDNN is off for this fit (False where the flag is left as found).

    Examples
    --------
    >>> import torch
    >>> with native_kernels_for_ragged_steps(torch.device("cpu"), 1, True) as off:
    ...     off
    False
    """
    if (device.type != "cpu" or widths <= 1 or not budget
            or any(name in os.environ for name in CACHE_SETTINGS)):
        yield False
        return
    with _NATIVE_KERNELS.held():
        yield True
