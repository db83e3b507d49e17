"""Callbacks that inject faults into a fit at a chosen batch (shared by the training tests)."""

from skorch.callbacks import Callback


class InterruptAt(Callback):
    """Raises KeyboardInterrupt after the ``at_batch``-th batch, as a Ctrl-C at that moment
    would."""

    def __init__(self, at_batch):
        self.at_batch = at_batch

    def initialize(self):
        self.seen_ = 0
        return self

    def on_batch_end(self, net, **kwargs):
        self.seen_ += 1
        if self.seen_ == self.at_batch:
            raise KeyboardInterrupt
