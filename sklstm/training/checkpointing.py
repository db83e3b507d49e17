"""Checkpoint and resume a long fit: the estimators' ``checkpoint`` parameter.

After every epoch the fit writes its state to a directory with skorch's own
:class:`~skorch.callbacks.Checkpoint` (the module's weights, the optimizer's state, the
history) plus the torch random state (dropout masks) and, with ``early_stopping``, the
best epoch's weights. The state is written once every callback has ended the epoch:
what they do there belongs to it (a learning-rate scheduler's step, the adaptive rate's
fall, a score a user's callback records), and the state must be the one the next
epoch starts from. A fit of the same configuration
on the same data that finds the directory continues where the state ends: weights,
optimizer, history and the random streams (the batch order is re-drawn up to that
epoch) pick up as they were, so the result is that of one uninterrupted fit. A fit
that had finished is loaded and not trained again.

Every epoch's state goes to a directory of its own (``epoch-000012``), and the state
file is pointed at it only once all of it is written (``os.replace``, atomic): a process
killed while it writes (the files are several, and skorch writes each in place) leaves
the state of the epoch before, whole, and never files of two epochs, nor a truncated one
(the directory written before is removed after the switch).

Nothing here unpickles: the weights, the optimizer's and the schedulers' states are
read with ``torch.load(weights_only=True)``, the rest is JSON and safetensors.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from skorch.callbacks import Callback, Checkpoint, LRScheduler

from ..data.streaming import iter_row_chunks
from ..resources.device import rng_state, set_rng_state
from .convergence import STOPPER

__all__ = ["CHECKPOINT_NAMES", "FitCheckpoint", "check_checkpoint_directory"]

#: Names of the callbacks that write a fit's state: after every epoch (the last
#: callback), and for an epoch whose end a callback cut short (before the stopper).
CHECKPOINT_NAMES = ("checkpoint", "checkpoint_stopped")

_STATE = "sklstm_fit.json"
_RNG = "rng.safetensors"
_BEST = "best_params.pt"
_SCHEDULERS = "lr_schedulers.pt"
#: The files of a state (besides ``_STATE``): a directory that has one of them but no
#: ``_STATE`` holds another program's files, which a fit would overwrite.
_FILES = ("params.pt", "optimizer.pt", "history.json", _RNG, _BEST, _SCHEDULERS)
#: Parameters that may differ between the interrupted fit and the one resuming it.
_FREE = ("checkpoint", "max_epochs", "verbose", "n_threads", "device", "callbacks")
#: The state file's entry naming the directory of the state written last (a state of an
#: earlier sklstm has none: its files lie in the checkpoint directory itself).
_FILES_IN = "files"
_EPOCH_DIR = "epoch-{:06d}"


class _Unset:
    """A parameter neither side records (nor its default)."""

    def __repr__(self):
        return "unset"


_UNSET = _Unset()


def _scheduler_states(net):
    """The state of each learning-rate scheduler of the net's callbacks (sklstm's
    warm-up, the user's :class:`~skorch.callbacks.LRScheduler`), by callback name."""
    return {name: {"policy": type(cb.lr_scheduler_).__name__,
                   "state": cb.lr_scheduler_.state_dict()}
            for name, cb in net.callbacks_
            if isinstance(cb, LRScheduler) and getattr(cb, "lr_scheduler_", None) is not None}


class _StateCheckpoint(Checkpoint):
    """skorch's :class:`~skorch.callbacks.Checkpoint` that also writes torch's random
    states (dropout draws from them: the CPU's and, on CUDA, the device's), the
    learning-rate schedulers' states and the best epoch's weights of a fit with
    ``early_stopping``; and puts the schedulers back when a fit resumes.

    The best weights are written with the state they belong to, not when the stopper
    finds them: a fit whose epoch end fails after the stopper (a user's callback
    raises) keeps the state of the epoch before, and with it that epoch's best.

    Each state is written to a directory of its own below ``root``, and ``commit``
    (called with its name) makes it the state once it is whole: see the module
    docstring. ``dirname`` is the directory of the state last written or restored.

    Attributes
    ----------
    root : str
        The checkpoint directory.
    commit : callable
        Called with the name of a state's directory once it is written.
    written_ : int or None
        Epochs in the history the last write held (None: nothing written by this fit).
    resumed_ : dict or None
        What :meth:`on_train_begin` puts back in a resumed fit: the optimizer's
        hyperparameters and the schedulers' states (None: nothing).
    """

    def initialize(self):
        """skorch's initialization; nothing written or to put back yet."""
        self.written_ = self.resumed_ = None
        return super().initialize()

    def resume(self, net):
        """Note what the restored state holds of the learning rate, for
        :meth:`on_train_begin` (a state of an earlier sklstm has no schedulers: skorch
        makes them anew, as it did).

        Parameters
        ----------
        net : skorch.NeuralNet
            The net the state was just loaded into.
        """
        path = os.path.join(self.dirname, _SCHEDULERS)
        if os.path.exists(path):
            self.resumed_ = {
                "groups": [copy.deepcopy({k: v for k, v in group.items() if k != "params"})
                           for group in net.optimizer_.param_groups],
                "schedulers": torch.load(path, weights_only=True)}

    def on_train_begin(self, net, **kwargs):
        """In a resumed fit, put back the learning rates and the schedulers' states.

        skorch's :class:`~skorch.callbacks.LRScheduler` makes its scheduler anew for
        the epochs of the history, and torch's schedulers do not agree on what that
        does to the rate (``StepLR`` steps it once more, ``CosineAnnealingLR`` keeps
        it): as the last callback this comes after them, and the rates, momenta and
        schedules go on as the uninterrupted fit's.
        """
        resumed, self.resumed_ = self.resumed_, None
        if resumed is None:
            return
        for group, saved in zip(net.optimizer_.param_groups, resumed["groups"], strict=True):
            group.update(saved)
        for name, cb in net.callbacks_:
            saved = resumed["schedulers"].get(name)
            scheduler = getattr(cb, "lr_scheduler_", None)
            if saved is not None and type(scheduler).__name__ == saved["policy"]:
                scheduler.load_state_dict(saved["state"])

    def save_model(self, net):
        """Write the fit's state to a directory of its own (the best weights, random
        states and schedulers, then skorch's files), then make it the state.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net whose epoch just ended.
        """
        previous = self.dirname
        self.dirname = os.path.join(self.root, _EPOCH_DIR.format(len(net.history)))
        try:
            if os.path.exists(self.dirname):  # a write that a killed process left
                shutil.rmtree(self.dirname)
            os.makedirs(self.dirname)
            self._write_best(net, previous)
            with net.random_draws():  # (the fit's state, also beside other fits)
                save_file(rng_state(net.device), os.path.join(self.dirname, _RNG))
            torch.save(_scheduler_states(net), os.path.join(self.dirname, _SCHEDULERS))
            # skorch's files through the net's public save_params, which raises: skorch's
            # Checkpoint.save_model logs a failed write and goes on (a full disk)
            net.save_params(f_params=os.path.join(self.dirname, self.f_params),
                            f_optimizer=os.path.join(self.dirname, self.f_optimizer),
                            f_history=os.path.join(self.dirname, self.f_history))
        except BaseException:
            self.dirname = previous  # the state is still the one written before
            raise
        self.commit(os.path.basename(self.dirname))
        self.written_ = len(net.history)

    def _write_best(self, net, previous):
        """The best epoch's weights of a fit with ``early_stopping``: this epoch's, or
        the file of the state before (linked, not copied, where the disk can)."""
        stopper = dict(net.callbacks_).get(STOPPER)
        if not getattr(stopper, "load_best", False):
            return
        target, earlier = os.path.join(self.dirname, _BEST), os.path.join(previous, _BEST)
        if stopper.best_epoch_ == net.history[-1, "epoch"]:
            torch.save(stopper.best_model_weights_, target)
        elif os.path.exists(earlier):
            try:
                os.link(earlier, target)
            except OSError:  # a file system without hard links
                shutil.copy2(earlier, target)


class _StoppedEpochCheckpoint(Callback):
    """Writes the state of an epoch whose end a callback cut short by ending the fit
    (the stopper raises at a converged fit's last epoch; a Ctrl-C during the epoch's
    end), when the training ends. Placed before the stopper, whose own train end puts
    the best epoch's weights in the module: the state holds the last epoch's.

    Parameters
    ----------
    state : _StateCheckpoint
        The callback that writes the state after every complete epoch end.
    """

    def __init__(self, state):
        self.state = state

    def on_train_begin(self, net, **kwargs):
        """No epoch of this fit has ended yet."""
        self.ended_ = None

    def on_epoch_end(self, net, **kwargs):
        """Note that the epoch's training and validation are complete."""
        self.ended_ = len(net.history)

    def on_train_end(self, net, **kwargs):
        """Write the last epoch's state if it is complete and was not written."""
        if self.ended_ == len(net.history) and self.state.written_ != self.ended_:
            self.state.save_model(net)


def _digest(seqs, y):
    """The training data's fingerprint, read a chunk at a time (the rows may be
    streamed from a store: the same data in memory or on disk hash alike)."""
    hasher = hashlib.sha256()
    for _, rows in iter_row_chunks(seqs.values):
        hasher.update(np.ascontiguousarray(rows).tobytes())
    for array in (seqs.lengths, y):
        if array is not None:
            hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()


def _plain(value):
    """``value`` as it reads back from the state file (a tuple comes back a list)."""
    try:
        return json.loads(json.dumps(value))
    except TypeError:
        return repr(value)


def check_checkpoint_directory(directory, name):
    """Raise a clear ValueError when ``checkpoint`` cannot be a directory: it is empty,
    names a file, or lies below one (``os.makedirs`` would fail only after the warm-up step,
    with a bare ``FileExistsError``).

    Parameters
    ----------
    directory : str or os.PathLike
        The ``checkpoint`` parameter; a missing directory is fine (created by the fit).
    name : str
        The estimator's class name, for the message.

    Examples
    --------
    >>> import tempfile
    >>> check_checkpoint_directory(tempfile.mkdtemp() + "/run-1", "LSTMClassifier")
    """
    given = os.fspath(directory)
    if not given:  # (os.makedirs("") fails only after the warm-up step)
        raise ValueError(
            f"{name}: checkpoint='' names no directory; give checkpoint a directory path "
            "(created if missing), or None to keep no checkpoint.")
    existing = os.path.abspath(given)
    while not os.path.exists(existing):  # the nearest part of the path that exists
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        where = "is a file" if existing == os.path.abspath(given) else (
            f"lies below the file {existing!r}")
        raise ValueError(
            f"{name}: checkpoint={given!r} must name a directory (created if missing), "
            f"but it {where}; give checkpoint a directory path, or move the file away.")


class FitCheckpoint:
    """The resumable state of one fit in ``directory``.

    Parameters
    ----------
    directory : str or os.PathLike
        Where the state lives; created if missing.
    params : dict
        The estimator's parameters (those in ``_FREE`` may change on resume).
    seqs : Sequences
        The training sequences, as the net sees them.
    y : ndarray
        The encoded training targets.
    defaults : dict or None, default=None
        The parameters' values before they existed (their defaults, or the value that
        trains as sklstm did before, when the default does not): a parameter that a
        state written by an earlier sklstm does not record (it did not have it)
        matches while it is at that value.
    estimator : str or None, default=None
        The estimator's class name (a state of another estimator is refused, naming
        it; a state of an earlier sklstm records none).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklstm.data.timesteps import Sequences
    >>> seqs = Sequences(np.zeros((2, 3, 1), np.float32), None, 1, "3d")
    >>> FitCheckpoint(tempfile.mkdtemp(), {"lr": 0.01}, seqs, np.zeros(2)).epochs_done()
    0
    """

    def __init__(self, directory, params, seqs, y, defaults=None, estimator=None):
        self.directory = os.fspath(directory)
        self.fingerprint = {
            "params": {k: _plain(v) for k, v in sorted(params.items()) if k not in _FREE},
            "data": _digest(seqs, y),
            **({} if estimator is None else {"estimator": estimator}),
        }
        self.defaults = {k: _plain(v) for k, v in (defaults or {}).items()}
        self.status = {"finished": False, "converged": False, "stopped": False}
        self.files = None  # the directory of the state, below ``directory``
        self.skorch = _StateCheckpoint(
            dirname=self.directory, monitor=None, f_params="params.pt",
            f_optimizer="optimizer.pt", f_criterion=None, f_history="history.json",
            f_pickle=None)
        self.skorch.root, self.skorch.commit = self.directory, self._commit

    def _read_state(self):
        path = os.path.join(self.directory, _STATE)
        if not os.path.exists(path):
            self._check_no_foreign_files()
            return None
        try:
            with open(path, encoding="utf-8") as f:
                state = json.load(f)
        except (OSError, ValueError) as exc:
            raise ValueError(f"checkpoint {path!r} cannot be read ({exc}); remove the "
                             "directory to start the fit afresh.") from exc
        differences = self._differences(state.get("fingerprint"))
        if differences:
            shown = "; ".join(differences[:3]) + (
                f"; and {len(differences) - 3} more" if len(differences) > 3 else "")
            raise ValueError(
                f"checkpoint directory {self.directory!r} holds the state of another fit "
                f"({shown}); give this fit another checkpoint directory, or remove that "
                "one to start afresh."
            )
        self.files = state.get(_FILES_IN)
        self.skorch.dirname = os.path.join(self.directory, self.files or "")
        return state

    def _commit(self, files):
        """Make the state in the directory ``files`` the fit's (the state file is
        replaced atomically), then remove the states written before it."""
        first, self.files = self.files is None, files
        self._write(**self.status)
        for name in os.listdir(self.directory):
            if name.startswith("epoch-") and name != files:
                shutil.rmtree(os.path.join(self.directory, name), ignore_errors=True)
        for name in _FILES if first else ():  # an earlier sklstm's state, which lay here
            if os.path.isfile(os.path.join(self.directory, name)):
                os.remove(os.path.join(self.directory, name))

    def _check_no_foreign_files(self):
        """Raise a ValueError where a directory without a state file holds files of the
        names a state has: another program's (a fit writes its state file first), which
        the fit would overwrite."""
        if not os.path.isdir(self.directory):
            return
        found = sorted(set(_FILES) & set(os.listdir(self.directory)))
        if found:
            raise ValueError(
                f"checkpoint directory {self.directory!r} holds {', '.join(found)} but no "
                f"{_STATE}: files that no sklstm fit wrote, which this fit would "
                "overwrite; give checkpoint a new or empty directory.")

    def _differences(self, stored):
        """What tells ``stored`` (a state file's fingerprint) from this fit's: short
        descriptions, none when it is this fit's."""
        if stored == self.fingerprint:
            return []
        if not isinstance(stored, dict) or not isinstance(stored.get("params"), dict):
            return ["a state file of no sklstm fit"]
        found = [] if stored.get("data") == self.fingerprint["data"] else ["other data"]
        ours, theirs = (side.get("estimator") for side in (self.fingerprint, stored))
        if None not in (ours, theirs) and theirs != ours:
            found.insert(0, f"written by {theirs}, not {ours}")
        old, new = stored["params"], self.fingerprint["params"]
        for key in sorted(set(old) | set(new)):
            # a parameter only one side records: the other sklstm had it at that value
            there, here = (side.get(key, self.defaults.get(key, _UNSET)) for side in (old, new))
            if there != here:
                found.append(f"{key}={there!r} there, {here!r} here")
        return found

    def epochs_done(self):
        """Epochs the directory's state has trained (0 when there is none).

        Returns
        -------
        int
            Complete epochs recorded; raises ValueError for another fit's state.
        """
        state = self._read_state()
        history = os.path.join(self.skorch.dirname, "history.json")
        if state is None or not os.path.exists(history):
            return 0
        with open(history, encoding="utf-8") as f:
            return len(json.load(f))

    def finished(self):
        """How the directory's fit ended, if it ran to its end.

        Returns
        -------
        dict or None
            ``{"converged": bool, "stopped": bool}`` for a fit that was not
            interrupted, else None: whether it converged, and whether the stopping
            rule ended it (a fit that converged did; so may one whose validation loss
            stayed at the chance level).
        """
        state = self._read_state()
        if not (state and state.get("finished")):
            return None
        # (a state of an earlier sklstm records no "stopped": it stopped when it converged)
        return {"converged": state["converged"],
                "stopped": state.get("stopped", state["converged"])}

    def start(self):
        """Record which fit the directory belongs to (before its first epoch)."""
        os.makedirs(self.directory, exist_ok=True)
        self._write(**self.status)

    def finish(self, converged, stopped):
        """Mark the fit as run to its end: a later fit loads it instead of training.

        Parameters
        ----------
        converged : bool
            Whether it converged.
        stopped : bool
            Whether the stopping rule ended it (a later fit with a larger
            ``max_epochs`` trains no further).
        """
        self.status = {"finished": True, "converged": bool(converged),
                       "stopped": bool(stopped)}
        self._write(**self.status)

    def _write(self, **state):
        path = os.path.join(self.directory, _STATE)
        files = {} if self.files is None else {_FILES_IN: self.files}
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"fingerprint": self.fingerprint, **state, **files}, f)
        os.replace(path + ".tmp", path)  # never a half-written state file

    @property
    def best_weights(self):
        """File of the best epoch's weights (written with ``early_stopping``), the
        epoch the stopper found best (an improvement by more than ``tol``), in the
        state last written or read."""
        return os.path.join(self.skorch.dirname, _BEST)

    def callbacks(self):
        """The skorch callbacks that write the state after every epoch.

        Returns
        -------
        stopped : list of (str, skorch.callbacks.Callback)
            To go before the stopper: writes an epoch whose end a callback cut
            short by ending the fit, when the training ends.
        every_epoch : list of (str, skorch.callbacks.Callback)
            To go after every other callback: writes the state once every callback
            has ended the epoch.
        """
        every_epoch, stopped = CHECKPOINT_NAMES
        return ([(stopped, _StoppedEpochCheckpoint(self.skorch))],
                [(every_epoch, self.skorch)])

    def restore(self, net):
        """Load the state into ``net`` (initialized here): weights, optimizer, history,
        torch's random state (the schedulers' when its training begins).

        Parameters
        ----------
        net : skorch.NeuralNet
            A net built as the interrupted one was.
        """
        net.initialize()
        try:
            net.load_params(checkpoint=self.skorch)  # torch.load(weights_only=True) inside
            rng = os.path.join(self.skorch.dirname, _RNG)
            if os.path.exists(rng):
                set_rng_state(load_file(rng), net.device)
            self.skorch.resume(net)
        except Exception as exc:  # a damaged or foreign file: never unpickled
            raise ValueError(
                f"checkpoint {self.directory!r} cannot be loaded ({type(exc).__name__}: "
                f"{str(exc)[:200]}); remove the directory to start the fit afresh."
            ) from exc

    def restore_best(self, net):
        """Load the best validation epoch's weights into ``net``, as a finished fit
        with ``early_stopping`` ended with them (the state holds its last epoch's).

        Parameters
        ----------
        net : skorch.NeuralNet
            A net :meth:`restore` loaded.
        """
        if os.path.exists(self.best_weights):
            net.load_params(f_params=self.best_weights)  # weights_only=True inside
