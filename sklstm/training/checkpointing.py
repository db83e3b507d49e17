"""Checkpoint and resume a long fit: the estimators' ``checkpoint`` parameter.

After every epoch the fit writes its state to a directory with skorch's own
:class:`~skorch.callbacks.Checkpoint` (the module's weights, the optimizer's state, the
history) plus the torch random state (dropout masks). A fit of the same configuration
on the same data that finds the directory continues where the state ends: weights,
optimizer, history and the random streams (the batch order is re-drawn up to that
epoch) pick up as they were, so the result is that of one uninterrupted fit. A fit
that had finished is loaded and not trained again.

Nothing here unpickles: skorch reads the weights and optimizer state with
``torch.load(weights_only=True)``, the rest is JSON and safetensors.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
from safetensors.torch import load_file, save_file
from skorch.callbacks import Callback, Checkpoint

from ..data.streaming import iter_row_chunks
from ..resources.device import rng_state, set_rng_state

__all__ = ["CHECKPOINT_NAMES", "FitCheckpoint", "check_checkpoint_directory"]

#: Names of the callbacks that write a fit's state: skorch's Checkpoint, the RNG state.
CHECKPOINT_NAMES = ("checkpoint", "checkpoint_rng")

_STATE = "sklstm_fit.json"
_RNG = "rng.safetensors"
#: Parameters that may differ between the interrupted fit and the one resuming it.
_FREE = ("checkpoint", "max_epochs", "verbose", "n_threads", "device", "callbacks")


class _RngCheckpoint(Callback):
    """Writes torch's random states after every epoch (dropout draws from them): the
    CPU's and, for a fit on CUDA, the device's."""

    def __init__(self, path):
        self.path = path

    def on_epoch_end(self, net, **kwargs):
        with net.random_draws():  # (the fit's state, also beside other fits)
            save_file(rng_state(net.device), self.path)


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
    """Raise a clear ValueError when ``checkpoint`` cannot be a directory: it names a
    file, or lies below one (``os.makedirs`` would fail only after the warm-up step,
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

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklstm.data.timesteps import Sequences
    >>> seqs = Sequences(np.zeros((2, 3, 1), np.float32), None, 1, "3d")
    >>> FitCheckpoint(tempfile.mkdtemp(), {"lr": 0.01}, seqs, np.zeros(2)).epochs_done()
    0
    """

    def __init__(self, directory, params, seqs, y, defaults=None):
        self.directory = os.fspath(directory)
        self.fingerprint = {
            "params": {k: _plain(v) for k, v in sorted(params.items()) if k not in _FREE},
            "data": _digest(seqs, y),
        }
        self.defaults = {k: _plain(v) for k, v in (defaults or {}).items()}
        self.skorch = Checkpoint(dirname=self.directory, monitor=None, f_params="params.pt",
                                 f_optimizer="optimizer.pt", f_criterion=None,
                                 f_history="history.json", f_pickle=None)

    def _read_state(self):
        path = os.path.join(self.directory, _STATE)
        if not os.path.exists(path):
            return None
        try:
            with open(path, encoding="utf-8") as f:
                state = json.load(f)
        except (OSError, ValueError) as exc:
            raise ValueError(f"checkpoint {path!r} cannot be read ({exc}); remove the "
                             "directory to start the fit afresh.") from exc
        if not self._same_fit(state.get("fingerprint")):
            raise ValueError(
                f"checkpoint directory {self.directory!r} holds the state of another fit "
                "(other parameters or other data); give this fit another checkpoint "
                "directory, or remove that one to start afresh."
            )
        return state

    def _same_fit(self, stored):
        """Whether ``stored`` (a state file's fingerprint) is this fit's."""
        if stored == self.fingerprint:
            return True
        if not isinstance(stored, dict) or stored.get("data") != self.fingerprint["data"]:
            return False
        old, new, unset = stored.get("params"), self.fingerprint["params"], object()
        if not isinstance(old, dict):
            return False
        # a parameter only one side records: the other sklstm had it at that value
        return all(old.get(k, self.defaults.get(k, unset)) == new.get(k, self.defaults.get(
            k, unset)) for k in set(old) | set(new))

    def epochs_done(self):
        """Epochs the directory's state has trained (0 when there is none).

        Returns
        -------
        int
            Complete epochs recorded; raises ValueError for another fit's state.
        """
        state = self._read_state()
        if state is None or not os.path.exists(os.path.join(self.directory, "history.json")):
            return 0
        with open(os.path.join(self.directory, "history.json"), encoding="utf-8") as f:
            return len(json.load(f))

    def finished(self):
        """How the directory's fit ended, if it ran to its end.

        Returns
        -------
        dict or None
            ``{"converged": bool}`` for a fit that was not interrupted, else None.
        """
        state = self._read_state()
        return {"converged": state["converged"]} if state and state.get("finished") else None

    def start(self):
        """Record which fit the directory belongs to (before its first epoch)."""
        os.makedirs(self.directory, exist_ok=True)
        self._write(finished=False, converged=False)

    def finish(self, converged):
        """Mark the fit as run to its end: a later fit loads it instead of training.

        Parameters
        ----------
        converged : bool
            Whether the convergence rule ended it.
        """
        self._write(finished=True, converged=bool(converged))

    def _write(self, **state):
        path = os.path.join(self.directory, _STATE)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"fingerprint": self.fingerprint, **state}, f)
        os.replace(path + ".tmp", path)  # never a half-written state file

    @property
    def best_weights(self):
        """File of the best epoch's weights (written with ``early_stopping``)."""
        return os.path.join(self.directory, "best_params.pt")

    def callbacks(self):
        """The skorch callbacks that write the state after every epoch.

        The best epoch's weights of a fit with ``early_stopping`` are written to
        :attr:`best_weights` by the stopper, whose notion of best (an improvement
        by more than ``tol``) they must follow.

        Returns
        -------
        list of (str, skorch.callbacks.Callback)
            Named callbacks for the net.
        """
        weights, rng = CHECKPOINT_NAMES
        return [(weights, self.skorch),
                (rng, _RngCheckpoint(os.path.join(self.directory, _RNG)))]

    def restore(self, net):
        """Load the state into ``net`` (initialized here): weights, optimizer, history,
        torch's random state.

        Parameters
        ----------
        net : skorch.NeuralNet
            A net built as the interrupted one was.
        """
        net.initialize()
        try:
            net.load_params(checkpoint=self.skorch)  # torch.load(weights_only=True) inside
            rng = os.path.join(self.directory, _RNG)
            if os.path.exists(rng):
                set_rng_state(load_file(rng), net.device)
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
