"""A checkpointed fit that a callback stopped (:mod:`~sklstm.training.checkpointing`):
the state of the epoch whose end it cut short, the mark of that stop, and the stoppers'
rules replayed when a fit resumes.

A stop ends the fit: a fit that resumes the stopped epoch's state (its end was not
recorded: a callback's ``on_train_end`` raised, the disk was full as it was marked
finished, the process was killed) ends again as its first epoch begins. Without the mark
it trained on: sklstm's rule replayed the adaptive rate's stop as a fall of the rate,
and skorch's ``EarlyStopping`` stops only when its misses equal its patience, so a
replay that lands on it never stops (21 epochs became 23, 10 became 13).
"""

from __future__ import annotations

import copy
import os

from skorch.callbacks import Callback, EarlyStopping

from .._compat.skorch import replay_early_stopping
from .checkpoint_files import check_history, read_checked_json
from .convergence import ENDED, STOPPER, stopped_by_rule

__all__ = ["StoppedEpochCheckpoint", "forget_end", "replay_stoppers", "stop_recorded",
           "user_stoppers"]


def user_stoppers(net, load_best=True):
    """The user's skorch ``EarlyStopping`` callbacks, by name: those that end the fit
    with their best epoch's weights (``load_best``), or all (``load_best=False``)."""
    return [(name, cb) for name, cb in net.callbacks_
            if name != STOPPER and isinstance(cb, EarlyStopping)
            and (cb.load_best or not load_best)]


def forget_end(net):
    """Take the mark of a stop (:data:`~sklstm.training.convergence.ENDED`) off the last
    epoch of a restored history, once the stoppers have replayed it: the fit's
    ``history_`` is the uninterrupted fit's, which has none."""
    if len(net.history):
        net.history[-1].pop(ENDED, None)


def stop_recorded(checkpoint):
    """Whether a stop ended the fit at the last epoch of the state that ``checkpoint`` (a
    :class:`~sklstm.training.checkpointing.FitCheckpoint`, its state read) holds: a fit of
    as many epochs as its ``max_epochs`` resumes it (ending at once) instead of being
    loaded as unfinished, unjudged ("it did not converge", of a fit that did)."""
    path = os.path.join(checkpoint.skorch.dirname, checkpoint.skorch.f_history)
    history = read_checked_json(path, check_history) if os.path.exists(path) else []
    return bool(history and history[-1].get(ENDED))


def replay_stoppers(net, best):
    """Replay the epochs of a resumed fit's history through the user's skorch
    :class:`~skorch.callbacks.EarlyStopping` callbacks, as sklstm's stopper replays
    them (:mod:`~sklstm.training.convergence`).

    skorch starts the rule afresh at every ``on_train_begin``: a fit resumed from its
    checkpoint counted its misses from zero and took the first epoch after the cut for
    an improvement, so it trained on where the uninterrupted fit had stopped. The same
    rule as skorch's ``on_epoch_end`` (:func:`~sklstm._compat.skorch.replay_early_stopping`:
    skorch has no public way to feed it a past score). With ``load_best``, the
    best epoch's weights go back too: the restored ones where it is the last restored
    epoch, else those the state holds for the callback (``best``, by name; a callback
    whose rule finds another best epoch than the one written has none).
    """
    for name, callback in user_stoppers(net, load_best=False):
        for row in net.history:
            score = row.get(callback.monitor)
            if score is None:
                continue
            replay_early_stopping(callback, score, row["epoch"])
        # (a patience lowered since: skorch stops at misses_ == patience, never above)
        callback.misses_ = min(callback.misses_, max(callback.patience - 1, 0))
        if not (callback.load_best and len(net.history)):
            continue
        saved = best.get(name, {})
        if callback.best_epoch_ == net.history[-1, "epoch"]:
            callback.best_model_weights_ = copy.deepcopy(net.module_.state_dict())
        elif saved.get("epoch") == callback.best_epoch_:
            callback.best_model_weights_ = saved["weights"]


class StoppedEpochCheckpoint(Callback):
    """Writes the state of an epoch whose end a callback cut short by ending the fit
    (the stopper raises at a converged fit's last epoch; skorch's ``EarlyStopping``),
    when the training ends, its last row marked with who stopped it
    (:data:`~sklstm.training.convergence.ENDED`: ``"rule"``, sklstm's; else
    ``"callback"``). Placed before the stopper, whose own train end puts the best
    epoch's weights in the module: the state holds the last epoch's.

    A fit resumed from a state so marked ends as its first epoch begins (the
    ``KeyboardInterrupt`` of a callback's stop, which loses nothing): its stoppers'
    replays took the mark for the stop, and the fit ends judged as the uninterrupted one.

    Not after a Ctrl-C during the epoch's end: the callbacks after the one it stopped
    had not ended the epoch (a learning-rate scheduler had not stepped), and the fit
    resumed from that state went on unlike the uninterrupted one. The state of the
    epoch before stays, and the resumed fit trains the epoch again.

    Parameters
    ----------
    state : StateCheckpoint
        The callback that writes the state after every complete epoch end.
    """

    def __init__(self, state):
        self.state = state

    def on_train_begin(self, net, **kwargs):
        """No epoch of this fit has ended yet; note whether a stop ended the restored
        history (the state's writer takes the mark off once every stopper replayed it)."""
        self.ended_ = None
        self.stop_ = bool(len(net.history) and net.history[-1].get(ENDED))

    def on_epoch_begin(self, net, **kwargs):
        """End a resumed fit whose state a stop ended, as skorch's stoppers end a fit."""
        if self.stop_:
            raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs):
        """Note that the epoch's training and validation are complete."""
        self.ended_ = len(net.history)

    def on_train_end(self, net, **kwargs):
        """Write the last epoch's state, marked as stopped, if it is complete and was
        not written."""
        ctrl_c = getattr(net, "ctrl_c", None)  # (the fit's CtrlCGuard)
        if ctrl_c is not None and ctrl_c.noted:
            return
        if self.ended_ == len(net.history) and self.state.written_ != self.ended_:
            # (before the stopper's train end: its misses still say whether it stopped)
            net.history[-1][ENDED] = "rule" if stopped_by_rule(net) else "callback"
            try:
                self.state.save_model(net)
            finally:  # in the state only: the fit's history is the uninterrupted fit's
                forget_end(net)
