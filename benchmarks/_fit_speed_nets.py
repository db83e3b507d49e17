"""sklstm's ``fit`` and plain skorch's, as ``bench_fit_speed.py`` times them.

Each fit returns (whole fit wall seconds, [epoch wall seconds], [epoch CPU seconds]),
as the hand loop's ``fit_hand`` does.
"""

from __future__ import annotations

import time

import torch
from _fit_speed_cases import ADAM_KWARGS, LR, N_CLASSES
from _fit_speed_hand import hand_network
from _same_network import check_same_network
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn

from sklstm import LSTMClassifier
from sklstm.network import LSTMNetwork


class CpuEpochTimer(Callback):
    """Records the process CPU time of each epoch as ``cpu_dur`` (next to
    skorch's wall-clock ``dur``). It implements no per-batch hook, but plain
    skorch still calls its inherited empty ones: three calls per batch."""

    def on_epoch_begin(self, net, **kwargs):
        self.start_ = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        net.history.record("cpu_dur", time.process_time() - self.start_)


def fit_sklstm(X, y, size, batch_size, epochs, seed, threads):
    est = LSTMClassifier(
        hidden_size=size.hidden_size, batch_size=batch_size, max_epochs=epochs, lr=LR,
        optimizer="adam", n_threads=threads, device="cpu", random_state=seed,
        # the network the other two train (LSTMNetwork's defaults): the estimator's
        # default readout is "concat" (last, max and mean), which costs more per step
        pooling="last", downsample=1, tol=None, conv_channels=None, split_level=False,
        callbacks=[("cpu_timer", CpuEpochTimer())],
    )
    start = time.perf_counter()
    est.fit(X, y)
    whole = time.perf_counter() - start
    check_same_network(est.net_.module_, hand_network(size))
    history = est.net_.history
    return whole, list(history[:, "dur"]), list(history[:, "cpu_dur"])


def fit_skorch(X, y, size, batch_size, epochs, seed, **kwargs):
    torch.manual_seed(seed)
    net = NeuralNetClassifier(
        LSTMNetwork,
        module__n_inputs=size.n_features,
        module__n_outputs=N_CLASSES,
        module__hidden_size=size.hidden_size,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        **{f"optimizer__{k}": v for k, v in ADAM_KWARGS.items()},
        lr=LR,
        batch_size=batch_size,
        max_epochs=epochs,
        train_split=None,
        iterator_train__shuffle=True,
        device="cpu",
        verbose=0,
        callbacks=[("cpu_timer", CpuEpochTimer())],
        **kwargs,
    )
    start = time.perf_counter()
    net.fit(X, y)
    whole = time.perf_counter() - start
    return whole, list(net.history[:, "dur"]), list(net.history[:, "cpu_dur"])
