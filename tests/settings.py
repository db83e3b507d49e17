"""Settings shared by the test modules."""

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import torch

from sklstm.resources.device import bf16_lstm_problem, resolve_device

#: Whether ``device="auto"`` trains on CUDA here. Tolerances that compare two
#: computations of the same result in another order (another batch, another scale) are
#: set from what the kernels can promise: float32 rounding on the CPU; on CUDA cuDNN's
#: batched LSTM kernels round differently with the batch's composition (9.4e-6 relative
#: measured on an H200, 2026-12-04), and training amplifies the last bits over epochs.
ON_CUDA = torch.cuda.is_available()

#: Marks a test of CUDA behaviour: it runs wherever a CUDA device is, and only there.
requires_cuda = pytest.mark.skipif(not ON_CUDA, reason="needs CUDA")


def in_fresh_process(code, **env):
    """Run ``code`` in a new Python process from the repository's root; return the
    last line it printed, read as JSON.

    For behaviour that depends on what the process did before, which a test process
    that ran hundreds of tests cannot promise: process-wide allocator settings, or
    memory growth that an earlier test's freed (and still resident) memory would
    hide. ``code`` may import the test modules (``from tests.training... import X``).
    """
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                         text=True, env={**os.environ, **env}, check=False,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])



def skip_without_bf16(device="auto"):
    """Skip the calling test where torch cannot run an LSTM in bfloat16 on ``device``
    (a GPU older than compute capability 8.0, or a build without the kernel): there
    ``precision="bf16"`` is refused before training, as tests/estimators test."""
    problem = bf16_lstm_problem(resolve_device(device))
    if problem is not None:
        pytest.skip(f"no bfloat16 LSTM here: {problem}")


#: Relative tolerance of a prediction made beside other sequences (in another batch, with
#: other padding) against the same one made alone: float32 rounding on the CPU; cuDNN's
#: batched kernels round with the batch's composition (9.4e-6 measured on an H200).
NEIGHBOUR_RTOL = 1e-4 if ON_CUDA else 1e-5

#: Estimator settings small enough for ~0.1 s fits, still learning the tests' easy
#: problems within two epochs (two fixed epochs: ``tol=None``, so no fit of a test
#: that only needs a working model warns that it did not converge). The ``tiny``
#: fixture hands out a copy.
#: The classifier without its default convolutional branch: batch normalization takes
#: its statistics per micro-batch, so a fit split into other micro-batches is another
#: fit. Tests of exact micro-batch equivalences (accumulation, out-of-memory recovery, a
#: resumed fit) run the LSTM alone; what holds with the branch: tests/network/test_conv.py.
NO_BATCH_NORM = dict(conv_channels=None)
TINY = dict(hidden_size=4, max_epochs=2, tol=None, batch_size=8, lr=0.03, random_state=0,
            n_threads=1)


def traced_peak(function, *args, **kwargs):
    """``(function(*args, **kwargs), peak)``: the call's result and the most bytes
    Python and numpy held while it ran, beyond what they held before it (tracemalloc:
    torch's own tensors are not counted; no timing involved)."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = function(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()
