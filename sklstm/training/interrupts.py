"""What Ctrl-C leaves behind: the model of the last complete epoch.

skorch stops a fit on ``KeyboardInterrupt`` and returns, keeping whatever state the
net was in, possibly in the middle of an epoch. :class:`EpochSnapshot` keeps a copy of
the module's weights at the end of every epoch and goes back to the last complete one
when the training ends, before the other callbacks' ``on_train_end`` (``early_stopping``
then restores its best epoch from there, as a fit of that many epochs does; a Ctrl-C
in these hooks waits for their end: :meth:`CtrlCGuard.hold`); :func:`finish_interrupted`
says so.

:class:`CtrlCGuard` makes sure a Ctrl-C reaches skorch at all. Why it is written here:
CPython can lose the ``KeyboardInterrupt`` that its SIGINT handler raises when the
handler runs inside C code that then sets an exception of its own. Seen in sklstm's
tests: a Ctrl-C that came while skorch's ``PrintLog`` had tabulate parse a number
(``int("0.25")`` under ``except ValueError``) vanished, and training went on (about one
press in 45 on a loaded 2-core machine); and Python code that raises an exception of its
own while handling it replaces it (Optuna's journal lock, see
:meth:`CtrlCGuard.check`). Neither skorch nor torch guards against it.
"""

from __future__ import annotations

import signal
import threading

import torch
from skorch.callbacks import Callback

from .._compat.python import warn_at_caller
from ..exceptions import FitInterruptedWarning

__all__ = ["SNAPSHOT", "CtrlCGuard", "EpochSnapshot", "ctrl_c_pending", "finish_interrupted",
           "press"]

#: Name of the callback that keeps the last complete epoch's weights.
SNAPSHOT = "epoch_snapshot"

# the guards watching (main thread), innermost last: their handler is installed, or
# SIGINT raises nothing (ignored) and only press() presses
_IN_FORCE = []


def press(frame=None):
    """A press that is no SIGINT, as the guards in force take a Ctrl-C: noted by all,
    raised by the innermost unless it holds (a bare ``KeyboardInterrupt`` where none
    is in force).

    ``sklstm tune`` makes one of ``SIGTERM`` where SIGINT is ignored (``cmd &`` in a
    script: Ctrl-C stays ignored, and the guards watch with no handler of their own).

    Parameters
    ----------
    frame : frame or None, default=None
        The frame a signal handler was given.

    Raises
    ------
    KeyboardInterrupt
        Unless the innermost guard holds a first press (:meth:`CtrlCGuard.hold`).
    """
    if not _IN_FORCE:
        raise KeyboardInterrupt
    _IN_FORCE[-1]._handle(signal.SIGINT, frame)


def ctrl_c_pending():
    """Whether Ctrl-C was pressed in the block of a guard in force and not yet delivered
    (its ``KeyboardInterrupt`` lost or replaced, or swallowed by skorch as a fit's end).

    Returns
    -------
    bool

    Examples
    --------
    >>> with CtrlCGuard():
    ...     ctrl_c_pending()
    False
    """
    return any(guard.pressed for guard in _IN_FORCE)


class CtrlCGuard:
    """Context manager: a Ctrl-C during the block is never lost.

    Inside the block, SIGINT runs a handler that notes the press and raises
    ``KeyboardInterrupt``, as Python's default handler does; :meth:`check` raises it
    again where a press was noted but training still runs (the first exception was
    lost), and a block that ends with another exception after an undelivered press
    ends with ``KeyboardInterrupt`` (:meth:`check`); once a training's epochs are done,
    a first press is only noted (:meth:`hold`). Only the main thread's
    default handler is replaced, or another guard's (a fit inside a search: the press
    is noted by both): a handler of the user's is left alone, and the previous handler
    comes back on exit. Where SIGINT raises nothing (ignored, as in ``cmd &`` from a
    script, or left to end the process) the guard watches with no handler: Ctrl-C
    stays as it was, and a :func:`press` (``sklstm tune``'s ``SIGTERM``) is noted and
    held.

    Attributes
    ----------
    pressed : bool
        Whether Ctrl-C was pressed in the block and not yet delivered by :meth:`check`.
    noted : bool
        Whether Ctrl-C was pressed in the block at all (delivered or not).
    watching : bool
        Whether the guard's handler was in force for the block, so that every press
        in it was noted: a ``KeyboardInterrupt`` no press caused was then raised by
        code (skorch's ``EarlyStopping`` ends a fit with one); also where SIGINT raises
        nothing, and a press is :func:`press`'s. False where a handler was left alone
        (another thread, a handler of the user's): a press cannot be told from such
        code there.
    holding : bool
        Whether a first press is only noted, not raised (:meth:`hold`).

    Examples
    --------
    >>> with CtrlCGuard() as ctrl_c:
    ...     ctrl_c.check()  # nothing pressed: returns
    >>> ctrl_c.pressed
    False
    """

    def __init__(self):
        self.pressed = self.noted = False
        self.watching = self.holding = False
        self._previous = None

    def __enter__(self):
        handler = signal.getsignal(signal.SIGINT)
        raises_nothing = handler in (signal.SIG_IGN, signal.SIG_DFL)
        self.watching = (threading.current_thread() is threading.main_thread()
                         and (raises_nothing or handler is signal.default_int_handler
                              or isinstance(getattr(handler, "__self__", None), CtrlCGuard)))
        if self.watching:
            if not raises_nothing:  # (an ignored Ctrl-C stays ignored)
                self._previous = signal.signal(signal.SIGINT, self._handle)
            _IN_FORCE.append(self)
        return self

    def __exit__(self, exc_type, exc, tb):
        self.holding = False
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        if self.watching:
            _IN_FORCE.remove(self)
        if exc is not None and not isinstance(exc, KeyboardInterrupt):
            self.check(replaced=exc)
        return False

    def _handle(self, signum, frame):
        again = self.pressed  # (pressed before and not delivered by check)
        for guard in _IN_FORCE:  # (this one and those it runs inside)
            guard.pressed = guard.noted = True
        if again or not self.holding:
            raise KeyboardInterrupt

    def hold(self):
        """From now to the block's end, a press is noted (:attr:`pressed`) but raises
        nothing, unless one came before it: a second press raises as ever.

        For the end of a training, whose epochs are done: skorch runs the callbacks'
        ``on_train_end`` outside its ``except KeyboardInterrupt``, so a press there
        ended the fit with an exception and lost every epoch (or left the weights that
        :class:`EpochSnapshot` puts back half put back); held, the hooks finish and the
        fit ends as interrupted. The second press is for a hook that hangs.
        """
        self.holding = True

    def resume(self):
        """End :meth:`hold`: a press raises again from now on, and one noted while held
        is raised now (:meth:`check`).

        For code that must not be cut short but is no block of its own: a search holds
        a press while Optuna creates a trial or records its end, and resumes as the
        objective starts or after the record (:func:`~sklstm.search.run_study`).

        Raises
        ------
        KeyboardInterrupt
            If a press was noted since the last delivery.

        Examples
        --------
        >>> with CtrlCGuard() as ctrl_c:
        ...     ctrl_c.hold()
        ...     ctrl_c.resume()  # nothing pressed: returns
        >>> ctrl_c.holding
        False
        """
        self.holding = False
        self.check()

    def check(self, replaced=None):
        """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed and not delivered: training
        still runs (the press's exception was lost), or ``replaced`` ends it (code that
        was running raised an exception of its own while handling the press's, which
        is then lost). Seen in sklstm's tests: Optuna's journal file lock, interrupted
        just after unlinking its lock file, unlinks it again in ``except BaseException``
        and raises ``FileNotFoundError``, and the search went on past the press.

        Parameters
        ----------
        replaced : Exception or None, default=None
            The exception that ends the training, if one does (the interrupt's cause).

        Raises
        ------
        KeyboardInterrupt
            If a press was noted since the last delivery.
        """
        if self.pressed:
            self.pressed = False
            raise KeyboardInterrupt from replaced


class EpochSnapshot(Callback):
    """skorch callback: the module's weights after each complete epoch.

    Parameters
    ----------
    ctrl_c : CtrlCGuard or None, default=None
        Checked at the start of every epoch and the end of every batch, so a Ctrl-C
        whose exception was lost still stops the fit there; held from the end of the
        training on (:meth:`CtrlCGuard.hold`).

    Attributes
    ----------
    in_epoch_ : bool
        Whether an epoch began and has not ended (an interrupt came during it: the
        net went back to the last complete epoch when the training ended); after the
        training, whether the epoch past the last complete one had begun a batch, whose
        training was then dropped (an epoch ended as it began, by a callback's
        ``KeyboardInterrupt`` in its ``on_epoch_begin``, lost nothing: a stop between
        epochs, as at the end of the epoch before).
    complete_ : int
        Epochs completed.
    state_ : dict or None
        The module's ``state_dict`` (copies) after the last complete epoch, while the
        training runs; None once it ended (a fitted net kept a second copy of its
        weights, on its device and in every pickle of the estimator).
    batch_size_ : int
        The net's ``batch_size`` (the effective batch) the last complete epoch trained
        with: a :class:`~sklstm.training.BatchSizeSchedule` grows it as an epoch
        begins, and an interrupt in that epoch keeps the epoch before.

    Examples
    --------
    >>> EpochSnapshot().initialize().complete_
    0
    """

    def __init__(self, ctrl_c=None):
        self.ctrl_c = ctrl_c

    def initialize(self):
        """Reset the record (skorch calls this when the net is initialized)."""
        self.in_epoch_, self.complete_, self.state_ = False, 0, None
        return self

    def on_train_begin(self, net, **kwargs):
        """Start from the epochs a resumed fit already has."""
        self.complete_ = len(net.history)
        self.batch_size_ = net.batch_size
        if self.complete_:
            self.state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}

    def on_epoch_begin(self, net, **kwargs):
        """Mark an epoch as running (after a Ctrl-C lost since the last batch: stop).

        Marked first: skorch has opened the epoch's history row, which the end of the
        training removes again."""
        self.in_epoch_ = True
        self._check_ctrl_c()

    def on_batch_end(self, net, **kwargs):
        """Stop here if a Ctrl-C was lost on its way."""
        self._check_ctrl_c()

    def _check_ctrl_c(self):
        if self.ctrl_c is not None:
            self.ctrl_c.check()

    def on_epoch_end(self, net, **kwargs):
        """Keep the weights of the epoch that just ended."""
        self.in_epoch_ = False
        self.complete_ = len(net.history)
        self.batch_size_ = net.batch_size
        self.state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}

    def on_train_end(self, net, **kwargs):
        """After an interrupt during an epoch, go back to the last complete one: its
        weights, its batch (``effective_batch_size_`` is that of the model kept, as in a
        fit of that many epochs) and the history cut to it (the snapshot is the first
        of sklstm's callbacks, so the others end the training from there).

        An epoch is under way where the history has a row past the last complete
        epoch: skorch opens it, then runs its own ``EpochTimer``'s hook before this
        callback's ``on_epoch_begin``, and a press there left an empty row behind.

        A press from here to the end of the fit's guard is held
        (:meth:`CtrlCGuard.hold`): the training is over, and its end runs whole."""
        if self.ctrl_c is not None:
            self.ctrl_c.hold()
        begun = len(net.history) > self.complete_
        # (a press as it began is the guard's to tell: in_epoch_ says what was lost)
        self.in_epoch_ = begun and bool(net.history[-1, "batches"])
        if begun and self.state_ is not None:
            with torch.no_grad():
                net.module_.load_state_dict(self.state_)
            net.batch_size = self.batch_size_
            del net.history[self.complete_:]
        self.state_ = None


def finish_interrupted(name, snapshot, max_epochs):
    """Warn that a fit was interrupted (the snapshot put its net back to the last
    complete epoch when the training ended).

    Parameters
    ----------
    name : str
        The estimator's class name, for the warning.
    snapshot : EpochSnapshot
        The net's snapshot callback.
    max_epochs : int
        The fit's epoch cap (a net resumed from a checkpoint has only the epochs left
        as its own ``max_epochs``).

    Returns
    -------
    bool
        False when no epoch was complete (nothing to keep: the caller discards the
        fit), True otherwise.
    """
    if snapshot.complete_ == 0:
        return False
    warn_at_caller(
        f"{name}.fit was interrupted: the estimator keeps the model "
        f"after epoch {snapshot.complete_} of at most {max_epochs} (n_epochs_, "
        "history_); fit again to train it to the end.",
        FitInterruptedWarning)
    return True
