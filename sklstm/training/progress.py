"""How far a fit is: skorch's progress bar at ``verbose >= 1``, and a log line a minute.

skorch provides the bar (``ProgressBar``, tqdm); what it lacks is a word from a long
fit that runs quietly: :class:`ProgressLog` writes one line to the ``"sklstm"`` logger
(INFO) every :data:`LOG_INTERVAL` seconds of training, so a fit of many minutes can be
followed with ``logging.basicConfig(level=logging.INFO)`` without a bar. The time is
looked at as every batch ends (a clock read, no tensor read), so an epoch longer than
the interval is followed too: a fit on large data whose epochs took ten minutes said
nothing for the first ten.
"""

from __future__ import annotations

import logging
import math
import sys
import time

import torch
from skorch.callbacks import Callback, ProgressBar
from skorch.dataset import get_len

__all__ = ["LOG_INTERVAL", "PROGRESS_NAMES", "EpochBar", "ProgressLog", "progress_callbacks",
           "stream_is_open"]

#: Names of the progress callbacks in a net: the log, the bar.
PROGRESS_NAMES = ("progress_log", "progress_bar")

#: Seconds of training between two lines of :class:`ProgressLog`.
LOG_INTERVAL = 60.0

logger = logging.getLogger("sklstm")


class ProgressLog(Callback):
    """skorch callback: an INFO line on the ``"sklstm"`` logger every ``interval`` s.

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    max_epochs : int
        The fit's epoch cap, for the message.
    interval : float, default=LOG_INTERVAL
        Seconds between two lines (the first after ``interval`` seconds of training).

    Examples
    --------
    >>> ProgressLog("LSTMClassifier", 200).interval
    60.0
    """

    def __init__(self, name, max_epochs, interval=LOG_INTERVAL):
        self.name = name
        self.max_epochs = max_epochs
        self.interval = interval

    def on_train_begin(self, net, **kwargs):
        """Start the clock."""
        self.start_ = self.last_ = time.monotonic()
        self._count_batches(None)

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        """Count the epoch's batches from zero."""
        self._count_batches(None if dataset_train is None else get_len(dataset_train))

    def _count_batches(self, n_train):
        # the training and validation batches done in the epoch, its training samples
        # (their number: the data is not kept), and its training batches (known at its
        # first batch: a BatchSizeSchedule after this callback may still change the batch)
        self._done, self._n_train, self._total = {True: 0, False: 0}, n_train, None

    def on_batch_end(self, net, training=False, **kwargs):
        """Say how far an epoch longer than ``interval`` is, once ``interval`` seconds
        have passed since the last time (the epoch's loss is not known yet: reading a
        batch's would make the host wait for the device)."""
        done = self.__dict__.get("_done")
        if done is None:  # (hooks called by hand, without on_train_begin)
            return
        done[training] += 1
        if training and done[True] == 1 and self._n_train is not None:
            self._total = _batches(self._n_train, getattr(net, "batch_size", None))
        now = time.monotonic()
        if now - self.last_ < self.interval:
            return
        self.last_ = now
        if not training:
            where = f"validation batch {done[False]}"
        else:
            where = f"batch {done[True]}" + ("" if self._total is None else f" of {self._total}")
        logger.info("%s: epoch %d of at most %d, %s, after %.0f s",
                    self.name, len(net.history), self.max_epochs, where, now - self.start_)

    def on_epoch_end(self, net, **kwargs):
        """Say how far the fit is, once ``interval`` seconds have passed since the last time."""
        now = time.monotonic()
        if now - self.last_ < self.interval:
            return
        self.last_ = now
        row = net.history[-1]
        loss = row.get("train_loss")
        logger.info("%s: epoch %d of at most %d after %.0f s, train_loss %s",
                    self.name, len(net.history), self.max_epochs, now - self.start_,
                    "n/a" if loss is None else f"{loss:.4g}")


def _batches(n_samples, batch_size):
    """Batches of an epoch over ``n_samples`` (None for a batch size that is no count)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        return None
    return math.ceil(n_samples / batch_size)


class EpochBar(ProgressBar):
    """skorch's ``ProgressBar``, drawn when the epoch's first batch begins.

    skorch sizes the bar from the net's batch size as the epoch begins, before the
    callbacks placed after it (the user's) run theirs: after a
    :class:`~sklstm.training.BatchSizeSchedule` grew the batch, the next bar counted the
    batches of the epoch before (0/8, ending at 4/8 of an epoch of 4 batches). By the
    first batch every callback has begun the epoch.
    """

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Note the epoch's datasets; the bar is drawn at its first batch."""
        self.pbar_, self.datasets_ = None, (dataset_train, dataset_valid)

    def on_batch_begin(self, net, **kwargs):
        """Draw the epoch's bar, sized from the batch the epoch runs with."""
        if self.pbar_ is None:
            super().on_epoch_begin(net, *self.datasets_)
            self.datasets_ = None  # (the data, not to be kept with a pickled net)

    def on_batch_end(self, net, **kwargs):
        """Advance the bar, with the row's values of ``postfix_keys`` that are on the host.

        skorch's bar shows them all: a batch's loss is a tensor on the device until the
        epoch ends (:mod:`sklstm.training.loop`), which it showed as ``tensor(0.6931)``,
        waiting for the device at every batch.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net.
        **kwargs : dict
            skorch's hook arguments.
        """
        row = net.history[-1, "batches", -1]
        self.pbar_.set_postfix({key: row[key] for key in self.postfix_keys
                                if key in row and not isinstance(row[key], torch.Tensor)},
                               refresh=False)
        self.pbar_.update()

    def on_epoch_end(self, net, **kwargs):
        """Close the bar."""
        if self.pbar_ is not None:
            super().on_epoch_end(net, **kwargs)
        self.datasets_ = None


def progress_callbacks(name, max_epochs, verbose, bar=True):
    """The named progress callbacks of a fit: the log always, the bar at ``verbose >= 1``
    where ``sys.stdout`` and ``sys.stderr`` are open.

    Parameters
    ----------
    name : str
        The estimator's class name.
    max_epochs : int
        The fit's epoch cap.
    verbose : int
        The estimator's ``verbose``.
    bar : bool, default=True
        Whether the bar may be added (False where the user's callbacks hold one).

    Returns
    -------
    list of (str, skorch.callbacks.Callback)

    Examples
    --------
    >>> [name for name, _ in progress_callbacks("LSTMClassifier", 200, verbose=1)]
    ['progress_log', 'progress_bar']
    """
    log_name, bar_name = PROGRESS_NAMES
    callbacks = [(log_name, ProgressLog(name, max_epochs))]
    # tqdm draws the bar on sys.stderr and flushes sys.stdout with it as every epoch's bar
    # starts: where either is missing (pythonw, a daemon: None) or closed, that raised at
    # the first epoch and the fit was lost; there is then nowhere to show a bar anyway
    if bar and verbose >= 1 and all(map(stream_is_open, (sys.stdout, sys.stderr))):
        # batches of every epoch, with tqdm's elapsed time and estimate
        callbacks.append((bar_name, EpochBar()))
    return callbacks


def stream_is_open(stream):
    """Whether ``stream`` (``sys.stdout``, ``sys.stderr``) can be written to: not None
    (``pythonw``, a daemon) and not closed."""
    return stream is not None and not getattr(stream, "closed", False)
