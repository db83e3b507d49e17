"""The hand-written PyTorch loop that ``bench_fit_speed.py`` times sklstm against.

What a careful user writes: tensors built once, a ``randperm`` per epoch, index
slicing, and per batch ``zero_grad`` / forward / loss / ``backward`` / ``step``.
"""

from __future__ import annotations

import time

import torch
from _fit_speed_cases import ADAM_KWARGS, LR, N_CLASSES
from torch import nn

from sklstm.network import LSTMNetwork
from sklstm.resources.host_malloc import step_buffers_on_heap


def hand_network(size):
    """The network all three train (``LSTMNetwork``'s defaults: the last step's readout)."""
    return LSTMNetwork(size.n_features, N_CLASSES, hidden_size=size.hidden_size)


def hand_steps(X, y, size, batch_size, seed):
    """The hand-written loop as a generator: one optimizer step per ``next``,
    ``True`` after the last step of an epoch. Tensors are built once, a
    ``randperm`` per epoch, index slicing, zero_grad/forward/backward/step."""
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    torch.manual_seed(seed)
    model = hand_network(size)
    # the same optimizer settings as sklstm's fit (fused Adam where torch has it)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, **ADAM_KWARGS)
    criterion = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    model.train()
    while True:
        batches = torch.randperm(len(X_t), generator=generator).split(batch_size)
        for i, idx in enumerate(batches):
            xb, yb = X_t[idx], y_t[idx]
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            yield i == len(batches) - 1


def fit_hand(X, y, size, batch_size, epochs, seed):
    """Hand-written loop, timed per epoch (under the malloc settings of a CPU fit, so
    that the loops, not glibc's thresholds, are compared: sklstm.resources.host_malloc).
    Returns what the nets' fits return (``_fit_speed_nets.py``): (whole fit wall
    seconds, [epoch wall seconds], [epoch CPU seconds])."""
    start = time.perf_counter()
    steps = hand_steps(X, y, size, batch_size, seed)
    epoch_times, cpu_times = [], []
    with step_buffers_on_heap(torch.device("cpu")):
        for _ in range(epochs):
            t0, c0 = time.perf_counter(), time.process_time()
            while not next(steps):
                pass
            epoch_times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
    return time.perf_counter() - start, epoch_times, cpu_times
