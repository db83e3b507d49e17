"""Callbacks that inject faults into a fit at a chosen batch, one that records the
micro-batches a fit runs, and what tells a fit that resumed from a checkpoint (shared by
the training tests)."""

import json
import signal

from skorch.callbacks import Callback

from sklstm.resources.device import OUT_OF_MEMORY


class _FaultAt(Callback):
    """Runs :meth:`fault` after the ``at_batch``-th batch of the fit."""

    def __init__(self, at_batch):
        self.at_batch = at_batch

    def initialize(self):
        self.seen_ = 0
        return self

    def on_batch_end(self, net, **kwargs):
        self.seen_ += 1
        if self.seen_ == self.at_batch:
            self.fault()

    def fault(self):
        raise NotImplementedError


class ForwardSizes(Callback):
    """Samples of every training forward pass (the micro-batches), and batches seen."""

    def initialize(self):
        self.sizes, self.batches, self._handle = [], 0, None
        return self

    def on_train_begin(self, net, **kwargs):
        def hook(module, args, kwargs):
            if module.training:
                x = args[0] if args else kwargs["x"]
                self.sizes.append(x.shape[0])

        self._handle = net.module_.register_forward_pre_hook(hook, with_kwargs=True)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        self.batches += 1

    def on_train_end(self, net, **kwargs):
        self._handle.remove()


class InterruptAt(_FaultAt):
    """Raises KeyboardInterrupt after the ``at_batch``-th batch, as a Ctrl-C at that moment
    would."""

    def fault(self):
        raise KeyboardInterrupt


class SwallowedCtrlCAt(_FaultAt):
    """Sends the process a real SIGINT after the ``at_batch``-th batch and swallows the
    KeyboardInterrupt, as CPython does when the handler runs inside C code that then
    sets an exception of its own (the press is lost unless sklstm delivers it again)."""

    def fault(self):
        try:
            signal.raise_signal(signal.SIGINT)  # runs the Python handler before it returns
        except KeyboardInterrupt:
            pass


class ReplacedCtrlCAt(_FaultAt):
    """Sends the process a real SIGINT after the ``at_batch``-th batch, and raises an
    exception of its own while handling the KeyboardInterrupt, as Optuna's journal file
    lock does when the press comes just after it unlinked its lock file (its
    ``except BaseException`` unlinks it again)."""

    def fault(self):
        try:
            signal.raise_signal(signal.SIGINT)
        except BaseException:
            raise FileNotFoundError("the lock file is gone") from None


class RaisesAt(_FaultAt):
    """Raises :class:`ReplacedCtrlCAt`'s exception after the ``at_batch``-th batch, with
    no Ctrl-C."""

    def fault(self):
        raise FileNotFoundError("the lock file is gone")


class CtrlCAtEpochEnd(Callback):
    """Sends the process a real SIGINT at the end of epoch ``epoch`` (after the callbacks
    sklstm adds, which run before the user's): the press of a moment when every epoch
    so far is complete."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            signal.raise_signal(signal.SIGINT)


class SwallowedCtrlCAtEpochEnd(Callback):
    """Sends the process a real SIGINT at the end of epoch ``epoch`` and swallows the
    KeyboardInterrupt (as :class:`SwallowedCtrlCAt`): the press lost in skorch's epoch
    log, which sklstm delivers again as the next epoch begins."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                pass


def written_durations(directory):
    """The durations of the epochs the checkpoint in ``directory`` holds. Read them before
    a fit resumes from it: that fit writes its own state there."""
    state = json.loads((directory / "sklstm_fit.json").read_text())
    files = directory / state["files"] if "files" in state else directory  # (earlier layout)
    return [row["dur"] for row in json.loads((files / "history.json").read_text())]


def assert_took_the_epochs(est, durations):
    """``est`` took the epochs whose ``durations`` a checkpoint (or an earlier fit) recorded
    instead of training them again. A fit that ignored its checkpoint and trained from
    scratch ends where the uninterrupted fit ends, so equal predictions alone cannot tell
    a resumed fit from a repeated one; the timings of epochs run again would differ."""
    durations = list(durations)
    assert durations and est.history_[:len(durations), "dur"] == durations


class InjectOOM(Callback):
    """Raise torch's out-of-memory error inside the step closure of optimizer step ``at``
    (after the backward pass, before the optimizer moved anything), ``times`` times."""

    def __init__(self, at, times=1):
        self.at = at
        self.times = times

    def initialize(self):
        self.steps_, self.raised_ = 0, 0
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        self.steps_ += training

    def on_grad_computed(self, net, **kwargs):
        if self.steps_ == self.at and self.raised_ < self.times:
            self.raised_ += 1
            raise OUT_OF_MEMORY("CUDA out of memory. (injected by the test)")


class InjectOOMInOptimizer(Callback):
    """Raise torch's out-of-memory error at the end of optimizer step ``at``, from the
    optimizer's own update after it moved every weight and moment (a step post-hook:
    the worst case of an update that runs out part-way, after the closure computed the
    gradients; a pre-hook would run before the closure, where nothing has moved)."""

    def __init__(self, at):
        self.at = at

    def initialize(self):
        self.steps_, self._handle = 0, None
        return self

    def on_train_begin(self, net, **kwargs):
        def hook(optimizer, args, kwargs):
            self.steps_ += 1
            if self.steps_ == self.at:
                raise OUT_OF_MEMORY("CUDA out of memory. (injected by the test)")

        self._handle = net.optimizer_.register_step_post_hook(hook)

    def on_train_end(self, net, **kwargs):
        self._handle.remove()


class InjectValidationOOM(Callback):
    """Raise an out-of-memory error from every evaluation-mode forward pass of more than
    ``limit`` samples during the fit (a validation step that does not fit where a smaller
    one does): torch's CUDA error, or the CPU allocator's RuntimeError (``cpu=True``)."""

    def __init__(self, limit, cpu=False):
        self.limit = limit
        self.cpu = cpu

    def initialize(self):
        self.raised_, self.sizes_, self._handle = 0, [], None
        return self

    def on_train_begin(self, net, **kwargs):
        def hook(module, args, kwargs):
            if module.training:
                return
            x = args[0] if args else kwargs["x"]
            if x.shape[0] > self.limit:
                self.raised_ += 1
                if self.cpu:
                    raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] . "
                                       "DefaultCPUAllocator: can't allocate memory: you "
                                       "tried to allocate 123456789 bytes. (injected)")
                raise OUT_OF_MEMORY("CUDA out of memory. (injected by the test)")
            self.sizes_.append(x.shape[0])

        self._handle = net.module_.register_forward_pre_hook(hook, with_kwargs=True)

    def on_train_end(self, net, **kwargs):
        self._handle.remove()
