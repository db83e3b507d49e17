"""Checkpoint and resume a long fit: the estimators' ``checkpoint`` parameter.

After every epoch the fit writes its state to a directory with skorch's own
:class:`~skorch.callbacks.Checkpoint` (the module's weights, the optimizer's state, the
history) plus the torch random state (dropout masks) and, with ``early_stopping``, the
best epoch's weights. The state is written once every callback has ended the epoch:
what they do there belongs to it (a learning-rate scheduler's step, the adaptive rate's
fall, a score a user's callback records), and the state must be the one the next
epoch starts from. A fit of the same configuration on the same data that finds the
directory continues where the state ends: weights, optimizer, history and the random
streams (the batch order is re-drawn up to that epoch) pick up as they were, so the
result is that of one uninterrupted fit. A finished fit is loaded, not trained again.

Every epoch's state goes to a directory of its own (``epoch-000012``), and the state
file is pointed at it only once all of it is on disk (``os.replace``, atomic; every file
fsynced first, :mod:`~sklstm.training.checkpoint_files`): a process killed while it
writes (the files are several, and skorch writes each in place), or a system that
crashes, leaves the state of the epoch before, whole, and never files of two epochs,
nor a truncated one (the directory written before is removed after the switch).

Nothing here unpickles: the weights and the optimizer's and schedulers' states are read
with ``torch.load(weights_only=True)``, the rest is JSON and safetensors."""

from __future__ import annotations

import contextlib
import os
import shutil

try:  # (POSIX; elsewhere fits are not kept apart, see FitCheckpoint.in_use)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

import torch
from safetensors.torch import load_file

from .._durable_files import sync_directory, write_json_durably
from ..resources.device import set_rng_state
from .batch_schedule import BatchSizeSchedule
from .checkpoint_callbacks import (
    BEST_FILE,
    RNG_FILE,
    SCHEDULERS_FILE,
    STOPPERS_BEST_FILE,
    StateCheckpoint,
    check_weights,
    epoch_state,
    write_failed,
)
from .checkpoint_files import (
    FILES_IN,
    check_checkpoint_directory,
    check_epochs,
    check_history,
    check_state,
    checkpoint_path,
    data_digest,
    fingerprint_differences,
    fingerprint_record,
    read_checked_json,
)
from .checkpoint_stops import StoppedEpochCheckpoint
from .oom_recovery import out_of_memory

__all__ = ["CHECKPOINT_NAMES", "FitCheckpoint", "check_checkpoint_directory"]

#: Names of the callbacks that write a fit's state: after every epoch (the last
#: callback), and for an epoch whose end a callback cut short (before the stopper).
CHECKPOINT_NAMES = ("checkpoint", "checkpoint_stopped")

_STATE = "sklstm_fit.json"
#: The files of a state (besides ``_STATE``): a directory that has one of them but no
#: ``_STATE`` holds another program's files, which a fit would overwrite.
_FILES = ("params.pt", "optimizer.pt", "history.json", RNG_FILE, BEST_FILE, SCHEDULERS_FILE,
          STOPPERS_BEST_FILE)
#: Parameters that may differ between the interrupted fit and the one resuming it.
_FREE = ("checkpoint", "max_epochs", "verbose", "n_threads", "device", "callbacks")


def _restore_batch_size(net):
    """The effective batch a :class:`BatchSizeSchedule` grew to, from the restored
    history: a fit only loaded from its checkpoint trains no epoch, so the schedule
    never sets it (``effective_batch_size_`` then reported the batch it started with),
    and a resumed one starts from it, as the uninterrupted fit does."""
    for _, callback in net.callbacks_:
        if isinstance(callback, BatchSizeSchedule) and len(net.history) \
                and callback.event_name in net.history[-1]:
            net.batch_size = int(net.history[-1, callback.event_name])


class FitCheckpoint:
    """The resumable state of one fit in ``directory``.

    Parameters
    ----------
    directory : str or os.PathLike
        Where the state lives (a leading ``~`` is the home directory); created if
        missing.
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
        self.directory = checkpoint_path(directory)
        kept = {k: v for k, v in sorted(params.items()) if k not in _FREE}
        self.fingerprint = {
            "params": {k: fingerprint_record(k, v) for k, v in kept.items()},
            "data": data_digest(seqs, y),
            **({} if estimator is None else {"estimator": estimator}),
        }
        self.defaults = {k: fingerprint_record(k, v) for k, v in (defaults or {}).items()}
        # (as given: their earlier records, only where one differs; max_epochs is free)
        self._params, self.max_epochs = kept, params.get("max_epochs")
        self.status = {"finished": False, "converged": False, "stopped": False}
        self.files = None  # the directory of the state, below ``directory``
        self.skorch = StateCheckpoint(
            dirname=self.directory, monitor=None, f_params="params.pt",
            f_optimizer="optimizer.pt", f_criterion=None, f_history="history.json",
            f_pickle=None)
        self.skorch.root, self.skorch.commit = self.directory, self._commit

    @contextlib.contextmanager
    def in_use(self):
        """Context manager: the directory is this fit's while the block runs.

        Two fits writing one directory at once (the clones of a search run in
        parallel, two scripts started with one ``checkpoint``) each remove the
        other's states as they write their own: the other failed with torch's bare
        ``RuntimeError`` (``Parent directory ... does not exist``), or its state file
        named an epoch the other fit wrote. The directory (created here) is locked
        with ``flock``, which the system releases when the process ends, however it
        ends: a killed fit's directory resumes.

        Raises
        ------
        ValueError
            Another fit, in this process or another, holds the directory.
        """
        os.makedirs(self.directory, exist_ok=True)
        if fcntl is None:  # (nor can Windows open a directory as a file)
            yield self
            return
        handle = os.open(self.directory, os.O_RDONLY)
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ValueError(
                    f"checkpoint directory {self.directory!r} is in use by another fit "
                    "running now; give each fit a checkpoint directory of its own (not "
                    "one shared by a search's parallel fits).") from None
            except OSError:  # a file system without locks (some network mounts)
                pass
            yield self
        finally:
            os.close(handle)  # (the lock goes with it)

    def _read_state(self):
        path = os.path.join(self.directory, _STATE)
        if not os.path.exists(path):
            self._check_no_foreign_files()
            return None
        state = read_checked_json(path, check_state)
        differences = fingerprint_differences(state.get("fingerprint"), self.fingerprint,
                                              self._params, self.defaults)
        if differences:
            shown = "; ".join(differences[:3]) + (
                f"; and {len(differences) - 3} more" if len(differences) > 3 else "")
            raise ValueError(
                f"checkpoint directory {self.directory!r} holds the state of another fit "
                f"({shown}); give this fit another checkpoint directory, or remove that "
                "one to start afresh (the clones that cross-validation and searches fit all "
                "share it: set checkpoint for the final fit only)."
            )
        self.files = state.get(FILES_IN)
        self.skorch.dirname = os.path.join(self.directory, self.files or "")
        return state

    def _commit(self, files):
        """Make the state in the directory ``files`` the fit's (the state file is
        replaced atomically), then remove the states written before it."""
        try:
            self._write(f"the state of epoch {int(files[len('epoch-'):])}", files,
                        **self.status)
        except OSError:  # (a full disk) the state file still names the state before
            shutil.rmtree(os.path.join(self.directory, files), ignore_errors=True)  # its room
            raise
        first, self.files = self.files is None, files
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

    def epochs_done(self):
        """Epochs the directory's state has trained (0 when there is none).

        Returns
        -------
        int
            Complete epochs recorded (a ValueError for another fit's state).
        """
        state = self._read_state()
        history = os.path.join(self.skorch.dirname, "history.json")
        if state is None or not os.path.exists(history):
            return 0
        return check_epochs(self.directory, len(read_checked_json(history, check_history)),
                            self.max_epochs)

    def finished(self):
        """How the directory's fit ended, if it ran to its end.

        Returns
        -------
        dict or None
            ``{"converged": bool, "stopped": bool, "judged": bool}`` for a fit that
            was not interrupted, else None: whether it converged, whether the stopping
            rule ended it (a fit that converged did; so may one whose validation loss
            stayed at the chance level), and whether the convergence rule judged it
            (:func:`~sklstm.training.convergence_report.judges`: then it warned where
            it did not converge).
        """
        state = self._read_state()
        if not (state and state.get("finished")):
            return None
        # (an earlier sklstm's state has no "stopped": it stopped when it converged)
        return {"converged": state.get("converged", False),
                "stopped": state.get("stopped", state.get("converged", False)),
                "judged": state.get("judged", True)}

    def fit_seed(self, seed):
        """The seed of the fit in the directory: the one its state recorded, else
        ``seed`` (recorded from now on). A resumed fit draws its batch order and
        validation split with it: with ``random_state=None`` (another seed every fit) a
        resumed ``early_stopping`` fit validated its first epochs on one split and the
        rest on another, part of it samples the earlier epochs had trained on.

        Parameters
        ----------
        seed : int
            The seed this fit drew (:class:`~sklstm.training.plan.FitPlan`).

        Returns
        -------
        int
        """
        recorded = (self._read_state() or {}).get("seed")
        self.status["seed"] = seed if recorded is None else recorded
        return self.status["seed"]

    def start(self):
        """Record which fit the directory belongs to (before its first epoch)."""
        os.makedirs(self.directory, exist_ok=True)
        sync_directory(os.path.dirname(os.path.abspath(self.directory)), best_effort=True)
        self._write(f"its state file {_STATE}", self.files, **self.status)

    def finish(self, converged, stopped, judged=True):
        """Mark the fit as run to its end: a later fit loads it instead of training.

        Parameters
        ----------
        converged : bool
            Whether it converged.
        stopped : bool
            Whether the stopping rule ended it (a larger ``max_epochs`` trains no further).
        judged : bool, default=True
            Whether the convergence rule judged it, so that it warned where it did not
            converge (a fit loaded from the directory says so only then).
        """
        status = {**self.status, "finished": True, "converged": bool(converged),
                  "stopped": bool(stopped), "judged": bool(judged)}
        self._write(f"the end of the fit in its state file {_STATE}", self.files, **status)
        self.status = status

    def _write(self, what, files, **state):
        """Write the state file, naming the state in ``files``. One that fails (a full
        disk) leaves the file before whole and nothing of its own (a part-written file
        holds room), and raises an ``OSError`` naming the checkpoint, ``what`` could not
        be written and the state the directory keeps (a bare ``No space left`` before)."""
        try:  # (on disk before it is renamed: never a half-written state file)
            write_json_durably(os.path.join(self.directory, _STATE), {
                "fingerprint": self.fingerprint, **state,
                **({} if files is None else {FILES_IN: files})})
        except OSError as exc:
            raise write_failed(self.directory, what, self._kept(), exc) from exc

    def _kept(self):
        """What the directory keeps, for a message: the state its state file names."""
        if self.files is not None:
            return epoch_state(int(self.files[len("epoch-"):]))
        earlier = os.path.isfile(os.path.join(self.directory, "history.json"))
        return "the state an earlier sklstm wrote" if earlier else epoch_state(0)

    @property
    def best_weights(self):
        """File of the best epoch's weights (``early_stopping``: an improvement by more
        than ``tol``), in the state last written or read."""
        return os.path.join(self.skorch.dirname, BEST_FILE)

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
        return ([(stopped, StoppedEpochCheckpoint(self.skorch))],
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
            rng = os.path.join(self.skorch.dirname, RNG_FILE)
            if os.path.exists(rng):
                set_rng_state(load_file(rng), net.device)
            self.skorch.resume(net)
            _restore_batch_size(net)
            self._check_best_weights(net)
        except Exception as exc:  # a damaged or foreign file: never unpickled
            if isinstance(exc, MemoryError) or out_of_memory(exc) is not None:
                # the state is whole, the device (or host) lacks room for it now:
                # "remove the directory" would have thrown away every epoch it holds
                raise
            raise ValueError(
                f"checkpoint {self.directory!r} cannot be loaded ({type(exc).__name__}: "
                f"{str(exc)[:200]}); remove the directory to start the fit afresh."
            ) from exc

    def _check_best_weights(self, net):
        """Raise where the best epoch's weights cannot go into ``net``'s module: read
        later, by the stopper as the fit resumes and by :meth:`restore_best`, a damaged
        file would fail there with torch's own error, after the restore."""
        if os.path.exists(self.best_weights):
            check_weights(torch.load(self.best_weights, map_location="cpu", weights_only=True),
                          net, BEST_FILE)

    def restore_best(self, net):
        """Load the best epoch's weights into ``net``, as a finished fit ended with
        them (the state holds its last epoch's): ``early_stopping``'s, then the user's
        stoppers' (:meth:`~sklstm.training.checkpoint_callbacks.StateCheckpoint.end_loaded`).

        Parameters
        ----------
        net : skorch.NeuralNet
            A net :meth:`restore` loaded.
        """
        self.skorch.end_loaded(net, self.best_weights)
