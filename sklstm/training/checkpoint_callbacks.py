"""The skorch callbacks that write a fit's checkpoint (:mod:`~sklstm.training.checkpointing`):
the state after every epoch, in a directory of its own, and an epoch whose end a
callback cut short (:mod:`~sklstm.training.checkpoint_stops`).
"""

from __future__ import annotations

import copy
import os
import shutil

import torch
from safetensors import SafetensorError
from safetensors.torch import save_file
from skorch.callbacks import Checkpoint, LRScheduler

from .._durable_files import sync_files
from ..resources.device import rng_state
from .checkpoint_stops import forget_end, replay_stoppers, user_stoppers
from .convergence import STOPPER
from .oom_recovery import out_of_memory

__all__ = ["BEST_FILE", "EPOCH_DIR", "RNG_FILE", "SCHEDULERS_FILE", "STOPPERS_BEST_FILE",
           "StateCheckpoint", "check_weights", "epoch_state", "write_failed"]

#: Files of a state besides skorch's: torch's random states, the best epoch's weights
#: (``early_stopping``), the learning-rate schedulers' states.
RNG_FILE = "rng.safetensors"
BEST_FILE = "best_params.pt"
SCHEDULERS_FILE = "lr_schedulers.pt"
#: The best epoch's weights of the user's skorch ``EarlyStopping`` callbacks with
#: ``load_best``, by callback name, where that epoch is not the state's own (a state
#: without it: none, as sklstm wrote before).
STOPPERS_BEST_FILE = "stoppers_best_params.pt"
#: The directory of one epoch's state, below the checkpoint directory.
EPOCH_DIR = "epoch-{:06d}"


def _scheduler_states(net):
    """The state of each learning-rate scheduler of the net's callbacks (sklstm's
    warm-up, the user's :class:`~skorch.callbacks.LRScheduler`), by callback name."""
    return {name: {"policy": type(cb.lr_scheduler_).__name__,
                   "state": cb.lr_scheduler_.state_dict()}
            for name, cb in net.callbacks_
            if isinstance(cb, LRScheduler) and getattr(cb, "lr_scheduler_", None) is not None}


def _link(earlier, target):
    """Give ``target`` the file ``earlier`` (linked, not copied, where the disk can)."""
    try:
        os.link(earlier, target)
    except OSError:  # a file system without hard links
        shutil.copy2(earlier, target)


def check_weights(weights, net, what):
    """Raise where ``weights`` cannot go into ``net``'s module: read later (by a stopper
    as the fit resumes, by a finished fit's load), a damaged file would fail there with
    torch's own error, after the restore.

    Parameters
    ----------
    weights : object
        What the file held.
    net : skorch.NeuralNet
        The net it is for.
    what : str
        The file, for the message.
    """
    shapes = {name: tuple(value.shape) for name, value in net.module_.state_dict().items()}
    if not (isinstance(weights, dict)
            and all(isinstance(v, torch.Tensor) for v in weights.values())
            and {name: tuple(value.shape) for name, value in weights.items()} == shapes):
        raise ValueError(f"{what} does not hold this network's weights")


def _read_stoppers_best(path, net):
    """The best weights of the user's stoppers in the state file ``path`` (see
    :data:`STOPPERS_BEST_FILE`), checked: ``{name: {"epoch": int, "weights": dict}}``."""
    if not os.path.exists(path):
        return {}
    saved = torch.load(path, map_location=net.device, weights_only=True)
    if not isinstance(saved, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get("epoch"), int)
            for entry in saved.values()):
        raise ValueError(f"{STOPPERS_BEST_FILE} does not hold best epochs by callback")
    for entry in saved.values():
        check_weights(entry.get("weights"), net, STOPPERS_BEST_FILE)
    return saved


def write_failed(root, what, kept, exc):
    """The error of a checkpoint write that failed: an ``OSError`` of ``exc``'s type (its
    ``errno`` kept) naming the directory, what could not be written, the room left on its
    disk and the state the directory keeps (torch's own error for a full disk is
    ``RuntimeError: [enforce fail at inline_container.cc:672] . unexpected pos ...``, and
    the state file's a bare ``OSError: [Errno 28] No space left on device``: neither
    names the checkpoint).

    Parameters
    ----------
    root : str
        The checkpoint directory.
    what : str
        What could not be written (``"the state of epoch 3"``).
    kept : str
        What the directory keeps (``"the state of epoch 2"``).
    exc : Exception
        The error of the write.

    Returns
    -------
    OSError
        The error to raise, from ``exc``.
    """
    try:
        free = f"{shutil.disk_usage(root).free / 2**20:.1f} MiB free on its disk"
    except OSError:
        free = "its disk's free space unknown"
    message = (f"checkpoint {root!r}: {what} could not be written ({type(exc).__name__}: "
               f"{str(exc)[:200]}; {free}); the directory keeps {kept}. Free some space (or "
               "make the directory writable) and fit again to resume, or give checkpoint "
               "another directory.")
    if isinstance(exc, OSError) and exc.errno is not None:
        return type(exc)(exc.errno, message)
    return (type(exc) if isinstance(exc, OSError) else OSError)(message)


def epoch_state(epochs):
    """What a checkpoint holding ``epochs`` complete epochs keeps, for a message."""
    return f"the state of epoch {epochs}" if epochs else "no epoch yet"


class StateCheckpoint(Checkpoint):
    """skorch's :class:`~skorch.callbacks.Checkpoint` that also writes torch's random
    states (dropout draws from them: the CPU's and, on CUDA, the device's), the
    learning-rate schedulers' states and the best epoch's weights of a fit with
    ``early_stopping`` and of the user's skorch ``EarlyStopping`` with ``load_best``;
    and puts the schedulers and those weights back when a fit resumes.

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
        # the file of the user's stoppers' best weights to read back (None: none), and
        # (directory, best epochs) of the last state that holds them: a state whose
        # best epochs are those of the one before links its file
        self.stoppers_best_, self.stoppers_written_ = None, (None, None)
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
        self.resumed_ = {}  # (a resumed fit: the users' stoppers are replayed)
        # checked here, within the restore's checks; read again as the training begins
        # (a fit only loaded trains none: its estimator keeps no copy of the weights)
        self.stoppers_best_ = os.path.join(self.dirname, STOPPERS_BEST_FILE)
        self.stoppers_written_ = (self.dirname, {
            name: entry["epoch"]
            for name, entry in _read_stoppers_best(self.stoppers_best_, net).items()})
        path = os.path.join(self.dirname, SCHEDULERS_FILE)
        if os.path.exists(path):
            self.resumed_ = {
                "groups": [copy.deepcopy({k: v for k, v in group.items() if k != "params"})
                           for group in net.optimizer_.param_groups],
                "schedulers": torch.load(path, weights_only=True)}

    def on_train_begin(self, net, **kwargs):
        """In a resumed fit, replay the history through the user's ``EarlyStopping``
        callbacks (:func:`~sklstm.training.checkpoint_stops.replay_stoppers`), take the
        mark of a stop off its last epoch, and put back the learning rates and the
        schedulers' states.

        skorch's :class:`~skorch.callbacks.LRScheduler` makes its scheduler anew for
        the epochs of the history, and torch's schedulers do not agree on what that
        does to the rate (``StepLR`` steps it once more, ``CosineAnnealingLR`` keeps
        it): as the last callback this comes after them, and the rates, momenta and
        schedules go on as the uninterrupted fit's.
        """
        resumed, self.resumed_ = self.resumed_, None
        if resumed is None:
            return
        path, self.stoppers_best_ = self.stoppers_best_, None
        replay_stoppers(net, {} if path is None else _read_stoppers_best(path, net))
        forget_end(net)  # (the last callback: every stopper has replayed the stop)
        if not resumed:  # (a state of an earlier sklstm: no schedulers)
            return
        for group, saved in zip(net.optimizer_.param_groups, resumed["groups"], strict=True):
            group.update(saved)
        for name, cb in net.callbacks_:
            saved = resumed["schedulers"].get(name)
            scheduler = getattr(cb, "lr_scheduler_", None)
            if saved is not None and type(scheduler).__name__ == saved["policy"]:
                scheduler.load_state_dict(saved["state"])

    def end_loaded(self, net, own_best):
        """Put in ``net``, just loaded (:meth:`resume`) by a fit that trains none, the
        weights its finished fit ended with: no ``on_train_end`` runs, and the state
        holds the last epoch's. In the callbacks' order: sklstm's stopper's best (the
        file ``own_best``, where there is one), then those of the user's stoppers with
        ``load_best``, their best epochs replayed
        (:func:`~sklstm.training.checkpoint_stops.replay_stoppers`)."""
        self.resumed_ = None  # (no training begins to put the schedulers back in)
        path, self.stoppers_best_ = self.stoppers_best_, None
        for _, callback in user_stoppers(net, load_best=False):
            callback.on_train_begin(net)  # skorch's start of the rule, then the replay
        # before sklstm's best goes in: a user's best at the last epoch is the state's
        replay_stoppers(net, {} if path is None else _read_stoppers_best(path, net))
        forget_end(net)
        if os.path.exists(own_best):
            net.load_params(f_params=own_best)  # weights_only=True inside
        for _, callback in user_stoppers(net):  # (skorch's: best epoch not the last)
            callback.on_train_end(net)

    def save_model(self, net):
        """Write the fit's state to a directory of its own (the best weights, random
        states and schedulers, then skorch's files), then make it the state. A write
        that fails (a full disk) leaves the state before, and nothing of this one: an
        ``OSError`` names the directory.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net whose epoch just ended.
        """
        previous = self.dirname
        self.dirname = os.path.join(self.root, EPOCH_DIR.format(len(net.history)))
        try:
            if os.path.exists(self.dirname):  # a write that a killed process left
                shutil.rmtree(self.dirname)
            os.makedirs(self.dirname)
            self._write_best(net, previous)
            with net.random_draws():  # (the fit's state, also beside other fits)
                save_file(rng_state(net.device), os.path.join(self.dirname, RNG_FILE))
            torch.save(_scheduler_states(net), os.path.join(self.dirname, SCHEDULERS_FILE))
            # skorch's files through the net's public save_params, which raises: skorch's
            # Checkpoint.save_model logs a failed write and goes on (a full disk)
            net.save_params(f_params=os.path.join(self.dirname, self.f_params),
                            f_optimizer=os.path.join(self.dirname, self.f_optimizer),
                            f_history=os.path.join(self.dirname, self.f_history))
            sync_files(self.dirname)  # on disk before the state file names them
        except BaseException as exc:
            # the state is still the one written before; the part written of this one
            # goes (on a full disk it held the room that the next fit needs)
            failed, self.dirname = self.dirname, previous
            error = exc
            # (a full disk: torch's RuntimeError, safetensors' own SafetensorError)
            if isinstance(exc, (OSError, RuntimeError, SafetensorError)) \
                    and out_of_memory(exc) is None:
                epoch = len(net.history)
                error = write_failed(self.root, f"the state of epoch {epoch}",
                                     epoch_state(epoch - 1), exc)  # (the room now)
            if failed != previous:
                shutil.rmtree(failed, ignore_errors=True)
            if error is exc:
                raise
            raise error from exc
        try:
            self.commit(os.path.basename(self.dirname))
        except OSError:  # (the state file still names the state before; this one went)
            self.dirname = previous
            raise
        self.written_ = len(net.history)

    def _write_best(self, net, previous):
        """The best epoch's weights of a fit with ``early_stopping``: this epoch's, or
        the file of the state before (linked, not copied, where the disk can); and
        those of the user's stoppers with ``load_best`` (:meth:`_write_stoppers_best`)."""
        self._write_stoppers_best(net, previous)
        stopper = dict(net.callbacks_).get(STOPPER)
        if not getattr(stopper, "load_best", False):
            return
        target, earlier = os.path.join(self.dirname, BEST_FILE), os.path.join(previous, BEST_FILE)
        if stopper.best_epoch_ == net.history[-1, "epoch"]:
            torch.save(stopper.best_model_weights_, target)
        elif os.path.exists(earlier):
            _link(earlier, target)

    def _write_stoppers_best(self, net, previous):
        """The best epoch's weights of the user's skorch ``EarlyStopping`` callbacks
        with ``load_best``, where that epoch is before this one (this one's are the
        state's own): without them a fit resumed after its best epoch ended with other
        weights than the uninterrupted fit (skorch's callback keeps them in memory
        only). The file of the state before where the best epochs are the same."""
        last = net.history[-1, "epoch"]
        best = {name: {"epoch": int(cb.best_epoch_), "weights": cb.best_model_weights_}
                for name, cb in user_stoppers(net)
                if cb.best_model_weights_ is not None and cb.best_epoch_ != last}
        if not best:
            return
        epochs = {name: entry["epoch"] for name, entry in best.items()}
        target = os.path.join(self.dirname, STOPPERS_BEST_FILE)
        earlier = os.path.join(previous, STOPPERS_BEST_FILE)
        if self.stoppers_written_ == (previous, epochs) and os.path.exists(earlier):
            _link(earlier, target)
        else:
            torch.save(best, target)
        self.stoppers_written_ = (self.dirname, epochs)

