"""The step timer of a profiled fit: wall-clock time of every training step; and the
warnings of the settings a profiled fit is given, left unsaid, and of the data, said once."""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager

import torch
from skorch.callbacks import Callback

from ..exceptions import UnscaledInputWarning, WarmupOutlastsFitWarning
from ..resources.device import synchronize

#: The clock of the step timer (a name of its own, so tests can replace it alone).
_now = time.perf_counter


# -- timing ------------------------------------------------------------------------
def _batch_timesteps(X):
    """Timesteps the LSTM runs for a training batch: its longest true length."""
    if isinstance(X, dict):  # padded batch: packed to the true lengths
        lengths = X.get("lengths")
        if lengths is not None:
            return int(lengths.max())
        X = X["x"]
    return int(X.shape[1])


class _StepTimer(Callback):
    """Wall-clock time of every training step, from ``on_batch_begin`` to ``on_batch_end``.

    The estimator deep-copies its callbacks at ``fit``; this one returns itself
    from ``__deepcopy__``, so what it records is read here even when the fit
    raises (and leaves the estimator without its net).

    Attributes
    ----------
    memory : PeakMemory or None
        The fit's own measurement (the one its ``peak_memory_`` is read from), kept
        so that a fit that raised after its steps (a diverged loss) still tells its
        peak, as :attr:`PeakMemory.peak`; None before the fit began.
    """

    def __init__(self):
        self.begins, self.ends, self.sizes, self.timesteps = [], [], [], []
        self.memory = None

    def __deepcopy__(self, memo):
        return self

    def on_train_begin(self, net, **kwargs):
        budget = getattr(net, "memory_budget", None)
        self.memory = None if budget is None else budget.memory
        # the profile's samples come in the order of its steps (the longest for the
        # warm-up, then the timed batches, cut as the estimator's bucketing would): the
        # loader's shuffle would deal the warm-up's into the timed steps (see _draw).
        # Read by skorch's get_iterator when the epoch starts, after this hook.
        net.iterator_train__shuffle = False

    @staticmethod
    def _sync(net):
        synchronize(torch.device(net.device))

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        X, y = batch
        self.timesteps.append(_batch_timesteps(X))
        self.sizes.append(len(y))
        self._sync(net)
        self.begins.append(_now())

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        self._sync(net)
        self.ends.append(_now())


def _first_only(show, category):
    """``show`` (a ``warnings.showwarning``) for the first warning of ``category`` only."""
    shown = []

    def showwarning(message, kind, *args, **kwargs):
        if issubclass(kind, category):
            if shown:
                return
            shown.append(message)
        show(message, kind, *args, **kwargs)

    return showwarning


@contextmanager
def estimator_settings_unsaid():
    """The profile's fits without the estimator's warning that its ``warmup_epochs``
    outlast ``max_epochs``: their one epoch is the profile's setting, and the warning
    told the user to change theirs. And the warning that ``X`` is unscaled shown once:
    the first, that of the whole data's preparation (a fit's on ``X``), at the profile's
    caller; each fit told it of its own samples, in figures of its own, which Python's
    default filter showed again and again (15 times for 12 pairs). Entered once around
    all the fits, not per fit: entering ``catch_warnings`` makes the warnings already
    shown once show again."""
    with warnings.catch_warnings():
        # by its class, not its wording: a text filter misses the warning once reworded
        warnings.simplefilter("ignore", WarmupOutlastsFitWarning)
        # the filters stay the user's ("error" raises at the first; "ignore" shows none):
        # past them, only the first is shown (catch_warnings restores showwarning). No
        # filter can: "once" goes by the text, which has each fit's figures
        warnings.showwarning = _first_only(warnings.showwarning, UnscaledInputWarning)
        yield
