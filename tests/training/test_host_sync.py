"""No tensor is read into Python during the training batches of an epoch.

On a GPU every such read (``.item()``, ``float(t)``, ``bool(t)``...) makes the host
wait for the device, so no Python work of the loop overlaps the GPU's. On the CPU the
same reads are counted here: every conversion method of ``torch.Tensor`` is wrapped
with a counter that is on from the start of the second training batch of an epoch to
the end of its last batch (the first batch and the epoch's end, where the losses are
read once, lie outside). On CUDA, torch's own sync detector checks the same window.

Dense and ragged (padded) data alike: a padded batch's lengths are a numpy array read
from the host's lengths once per epoch (``sklstm.data.batching``), so neither the data
layer (the batch's width) nor the network (is anything padded?) reads a tensor per batch.
"""

import collections
import traceback
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch.utils._python_dispatch import TorchDispatchMode  # (torch documents this path)

from sklstm import LSTMClassifier, LSTMRegressor

from ..settings import requires_cuda, skip_without_bf16

#: torch.Tensor methods that hand a tensor's value to Python.
CONVERSIONS = ("item", "tolist", "numpy", "__float__", "__int__", "__bool__", "__index__",
               "cpu")

#: torch operators that make the host wait for a CUDA device: their result's size or a
#: value depends on the data (torch's sync debug mode warns on the same calls;
#: ``_local_scalar_dense`` is every ``item``/``float``/``bool`` of a tensor).
SYNCING_OPS = frozenset({"_local_scalar_dense", "nonzero", "argwhere", "masked_select",
                         "_unique", "_unique2", "unique_dim", "unique_consecutive",
                         "repeat_interleave", "is_nonzero", "equal", "bincount"})
#: ... and these, where one of the indices is a boolean mask (a ``nonzero`` inside).
MASKED_OPS = frozenset({"index", "index_put", "index_put_"})

N, STEPS, FEATURES = 96, 6, 3


class BatchWindow(Callback):
    """Marks the training batches of the first epoch from the second batch on."""

    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def initialize(self):
        self.batch_ = 0
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:  # (validation batches are no training batches)
            self.batch_ += 1
            if self.batch_ == 2:
                self.start()

    def on_batch_end(self, net, training=False, **kwargs):
        if training and self.batch_ == net_batches(net):
            self.stop()

    def on_epoch_end(self, net, **kwargs):
        self.stop()
        self.batch_ = -10**9  # count the first epoch only


def net_batches(net):
    return len(net.train_iterator_)


class _Counting:
    """What both counters share: a switch and the calls counted while it is on."""

    def __init__(self):
        self.on = False
        self.calls = collections.Counter()

    def start(self):
        self.on = True

    def stop(self):
        self.on = False


def _window(*counters):
    """A :class:`BatchWindow` that switches ``counters`` on and off (functions, not
    bound methods: the estimator deep-copies its callbacks)."""
    return BatchWindow(lambda: [c.start() for c in counters],
                       lambda: [c.stop() for c in counters])


class ConversionCounter(_Counting):
    """Counts the calls of :data:`CONVERSIONS` while on, with where they came from."""

    def __init__(self, monkeypatch):
        super().__init__()
        for name in CONVERSIONS:
            monkeypatch.setattr(torch.Tensor, name, self._wrap(name, getattr(torch.Tensor, name)))

    def _wrap(self, name, method):
        def counted(tensor, *args, **kwargs):
            if self.on:
                self.on = False  # the stack summary must not count itself
                try:
                    frame = traceback.extract_stack(limit=2)[0]  # the caller
                    self.calls[f"{name} at {frame.filename}:{frame.lineno}"] += 1
                finally:
                    self.on = True
            return method(tensor, *args, **kwargs)
        return counted


class SyncingOpCounter(_Counting, TorchDispatchMode):
    """Counts the calls of :data:`SYNCING_OPS` (and masked :data:`MASKED_OPS`) while
    on, with the sklstm or skorch line they came from. The mode is entered around the
    whole fit (a dispatch mode is the thread's), the window only switches it on."""

    def __init__(self):
        _Counting.__init__(self)
        TorchDispatchMode.__init__(self)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if self.on and (name in SYNCING_OPS or (name in MASKED_OPS and _masked(args[1]))):
            self.calls[f"{name} at {_caller()}"] += 1
        return func(*args, **(kwargs or {}))


def _masked(indices):
    return any(index is not None and index.dtype == torch.bool for index in indices)


def _caller():
    """The innermost line of sklstm or skorch on the stack (the call to blame)."""
    ours = [frame for frame in traceback.extract_stack()
            if "sklstm" in frame.filename or "skorch" in frame.filename]
    return f"{ours[-1].filename}:{ours[-1].lineno}" if ours else "?"


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, STEPS, FEATURES)).astype(np.float32)
    return X, np.where(X[:, -1, 0] > 0, "a", "b"), X[:, -2:, 1].sum(axis=1)


X, Y, Y_REG = _data()
#: The same sequences cut to lengths of 2..STEPS: ragged input, padded in batches.
LENGTHS = np.random.default_rng(1).integers(2, STEPS + 1, N)
X_RAGGED = [x[:n] for x, n in zip(X, LENGTHS, strict=True)]

CASES = {
    # the classifier's defaults run its convolutional branch and the split level, the
    # regressor's its autoregressive highway (``ar_window="auto"``): the paths users get
    "plain": (LSTMClassifier, dict(batch_size=8), Y),
    "accumulation": (LSTMClassifier, dict(batch_size=8, accumulation_steps=2), Y),
    "gradient_clip": (LSTMClassifier, dict(batch_size=8, gradient_clip=1.0), Y),
    "regressor_early_stopping": (LSTMRegressor, dict(
        batch_size=8, early_stopping=True, n_iter_no_change=5), Y_REG),
    # skorch's ProgressBar reads each batch's row: the loss is not there yet, not read
    "progress_bar": (LSTMClassifier, dict(batch_size=8, verbose=1), Y),
    # padded batches, bucketed by length; cut again into micro-batches; read by every
    # path of the network that looks at the lengths (bidirectional on the CPU, readouts)
    "ragged": (LSTMClassifier, dict(batch_size=8), Y, X_RAGGED),
    "ragged_accumulation": (LSTMClassifier, dict(batch_size=4, accumulation_steps=2), Y,
                            X_RAGGED),
    "ragged_bidirectional_mean": (LSTMRegressor, dict(
        batch_size=8, bidirectional=True, pooling="mean", bucketing=False), Y_REG, X_RAGGED),
    "ragged_concat_conv": (LSTMClassifier, dict(
        batch_size=8, pooling="concat", conv_channels=(2,), conv_kernel_sizes=(2,)), Y,
        X_RAGGED),
    "regressor_relative": (LSTMRegressor, dict(batch_size=8, relative="last"), Y_REG),
    "downsample": (LSTMClassifier, dict(batch_size=8, downsample=2), Y),
    # off the CPU stacked layers with dropout run one layer at a time (sklstm.network.recurrence)
    "stacked_dropout": (LSTMClassifier, dict(batch_size=8, num_layers=2, dropout=0.3), Y),
    "bf16": (LSTMClassifier, dict(batch_size=8, precision="bf16"), Y),
}


def _fit(cls, params, y, callbacks, X=X):
    est = cls(hidden_size=4, max_epochs=2, tol=None, lr=0.01, random_state=0, n_threads=1,
              device="cpu", callbacks=callbacks, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


@pytest.mark.parametrize("case", list(CASES))
def test_no_tensor_is_read_during_training_batches(monkeypatch, case):
    cls, params, y, *data = CASES[case]
    conversions, operators = ConversionCounter(monkeypatch), SyncingOpCounter()
    with operators:
        est = _fit(cls, params, y, [_window(conversions, operators)], *data)
    # the losses are still there, as floats, one per training step
    rows = [row for row in est.history_[0]["batches"] if "train_loss" in row]
    assert len(rows) >= 5 and all(isinstance(row["train_loss"], float) for row in rows)
    found = {**conversions.calls, **operators.calls}
    assert found == {}, f"{sum(found.values()) / (len(rows) - 1):.2f} reads per batch"


READS = {
    "conversion": lambda loss: loss.item(),
    "boolean_mask": lambda loss: loss.reshape(1)[loss.reshape(1) > 0],
    "nonzero": lambda loss: torch.nonzero(loss.reshape(1)),
}


class ReadsLoss(Callback):
    """Reads the loss every batch, one of the ways of :data:`READS`."""

    def __init__(self, read):
        self.read = read

    def on_batch_end(self, net, loss=None, **kwargs):
        if loss is not None:
            READS[self.read](loss.detach())


@pytest.mark.parametrize("read", list(READS))
def test_the_counters_see_a_read(monkeypatch, read):
    """The test above can fail: a callback that reads the loss every batch is counted,
    by the conversion counter or by the operator counter."""
    counters = ConversionCounter(monkeypatch), SyncingOpCounter()
    with counters[1]:  # (the reads come before the window closes)
        est = _fit(LSTMClassifier, dict(batch_size=8), Y, [ReadsLoss(read),
                                                            _window(*counters)])
    counted = sum(counters[0 if read == "conversion" else 1].calls.values())
    assert counted >= len(est.history_[0]["batches"]) - 1


class ReadsRow(Callback):
    """skorch's idiom: reads each training batch's loss from its history row."""

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            float(net.history[-1, "batches", -1, "train_loss"])


def test_a_loss_read_from_the_history_row_is_the_only_read(monkeypatch):
    """The row holds the loss on the device until the epoch ends: a callback that reads
    it is counted once a batch, where it reads it, and nothing else reads the device
    (it raised "Key 'train_loss' was not found in history")."""
    conversions = ConversionCounter(monkeypatch)
    est = _fit(LSTMClassifier, dict(batch_size=8), Y, [ReadsRow(), _window(conversions)])
    batches = sum("train_loss" in row for row in est.history_[0]["batches"])
    assert conversions.calls and all(__file__ in where for where in conversions.calls)
    assert sum(conversions.calls.values()) == batches - 1


def _cuda_syncs(cls, params, y, X=X, callbacks=()):
    """A CUDA fit and the synchronizing calls torch's sync detector ("warn") reports from
    its second training batch to the last, counted by where they came from."""
    caught = []

    def start():
        recorder = warnings.catch_warnings(record=True)
        caught.append((recorder, recorder.__enter__()))
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")

    def stop():
        torch.cuda.set_sync_debug_mode("default")
        if caught and caught[-1][0] is not None:
            recorder, records = caught.pop()
            recorder.__exit__(None, None, None)
            caught.append((None, records))

    try:
        est = cls(hidden_size=4, max_epochs=2, tol=None, lr=0.01, random_state=0,
                  n_threads=1, device="cuda", callbacks=[*callbacks, BatchWindow(start, stop)],
                  **params)
        est.fit(X, y)
    finally:
        stop()
    assert len(caught) == 1  # (one window)
    return est, collections.Counter(f"{w.filename}:{w.lineno}" for _, records in caught
                                    for w in records if "synchroniz" in str(w.message))


@requires_cuda
@pytest.mark.parametrize("case", list(CASES))
def test_no_host_device_sync_during_training_batches(case):
    """Every synchronizing call torch's detector reports in the window is counted, with
    where it came from."""
    cls, params, y, *data = CASES[case]
    if params.get("precision") == "bf16":
        skip_without_bf16("cuda")
    est, syncs = _cuda_syncs(cls, params, y, *data)
    assert syncs == {}, (
        f"{sum(syncs.values()) / (len(est.history_[0]['batches']) - 1):.2f} syncs per batch")
    assert all(isinstance(row["train_loss"], float) for row in est.history_[0]["batches"])


@requires_cuda
def test_the_sync_detector_sees_a_read():
    """The test above can fail: a callback that reads the loss every batch is reported
    (were torch's warning worded otherwise, the filter on it would see nothing)."""
    est, syncs = _cuda_syncs(LSTMClassifier, dict(batch_size=8), Y,
                             callbacks=[ReadsLoss("conversion")])
    assert sum(syncs.values()) >= len(est.history_[0]["batches"]) - 1
