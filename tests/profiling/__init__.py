"""Tests of :mod:`sklstm.profiling`, one module per module of it (and ``test_inputs``
for what :func:`~sklstm.profile_batch_sizes` refuses); their fixtures are in
``conftest.py``, the settings they share here."""

import os

import pytest

linux_peak = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"),
                                reason="the CPU peak is read from Linux's /proc")

#: On the CPU: the budget column is None there (on CUDA it is the device's free memory)
FAST = dict(hidden_size=4, random_state=0, n_threads=1, device="cpu")
