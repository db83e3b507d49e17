"""The step timer of a profiled fit: wall-clock time of every training step; and the
warnings of the settings a profiled fit is given, left unsaid, and of the data, said once."""

from __future__ import annotations

import re
import time
import warnings
from contextlib import contextmanager

import torch
from skorch.callbacks import Callback

from .._param_validation import plain_params, validate_constraints
from ..exceptions import UnscaledInputWarning, WarmupOutlastsFitWarning
from ..resources.device import synchronize
from ..training.switched_off import unused_params

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


#: A number in a warning's text (``144``, ``-216.7``, ``1.01e+03``, ``55%``): the figures
#: that differ from one profiled fit's samples to the next's
_FIGURE = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?")


def _once_each(show):
    """``show`` (a ``warnings.showwarning``) for the first warning of each kind only: of
    each category and text, its figures aside, and of :class:`UnscaledInputWarning` by
    its category alone (its wording, too, follows the samples' figures)."""
    shown = set()

    def showwarning(message, kind, *args, **kwargs):
        key = kind if issubclass(kind, UnscaledInputWarning) else (
            kind, _FIGURE.sub("#", str(message)))
        if key in shown:
            return
        shown.add(key)
        show(message, kind, *args, **kwargs)

    return showwarning


def switched_off_defaults(final, settings):
    """The parameters of ``final`` (the sklstm estimator) that the profile's ``settings``
    switch off and its own parameters do not, at their defaults: ``{name: default}``.

    A fit warns of a parameter set away from its default that another one switches
    off (``validation_fraction=0.2`` under ``early_stopping=False``), telling the user
    to change the other; under the profile's ``early_stopping=False``, ``tol=None`` and
    ``seq_len=None`` that blamed the estimator's own settings, which are in effect
    there. A switched-off parameter trains alike at any value
    (:mod:`~sklstm.training.switched_off`), so its default changes no figure.
    """
    own = plain_params(final.get_params(deep=False))
    defaults = plain_params(type(final)().get_params(deep=False))
    off = unused_params({**own, **settings}) - unused_params(own)
    # a value of the estimator's is still checked as its fit checks it (the default in
    # its place left lr_schedule="cosine" unrefused)
    validate_constraints({name: final._parameter_constraints[name] for name in off},
                         {name: own[name] for name in off}, type(final).__name__)
    return {name: defaults[name] for name in off}


@contextmanager
def estimator_settings_unsaid():
    """The profile's fits without the estimator's warning that its ``warmup_epochs``
    outlast ``max_epochs``: their one epoch is the profile's setting, and the warning
    told the user to change theirs. And each other warning shown once: the first, that
    of the whole data's preparation (a fit's on ``X``), at the profile's caller; each
    fit told the data's warnings (``X`` unscaled, targets in other units than the
    anchor, padding ids inside sequences) of its own samples, in figures of its own,
    which Python's default filter showed again and again (15 times for 12 pairs), and
    the filter's registry, which every ``catch_warnings`` in a fit clears, let even the
    same text through once per fit. Entered once around all the fits, not per fit:
    entering ``catch_warnings`` makes the warnings already shown once show again."""
    with warnings.catch_warnings():
        # by its class, not its wording: a text filter misses the warning once reworded
        warnings.simplefilter("ignore", WarmupOutlastsFitWarning)
        # the filters stay the user's ("error" raises at the first; "ignore" shows none):
        # past them, only the first of each kind is shown (catch_warnings restores
        # showwarning). No filter can: "once" goes by the text, which has the figures
        warnings.showwarning = _once_each(warnings.showwarning)
        yield
