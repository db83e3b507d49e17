"""What a checkpoint's files record of a fit and must be before a fit trusts them.

Recorded: the fit's fingerprint, its parameters as they read back from JSON
(:func:`param_record`) and a digest of its data (:func:`data_digest`), which a fit
resuming must match. Checked: a directory path (not a file), a state file and a
history of the form a fit writes; a damaged or hand-edited file is refused with a
ValueError naming it, never read on into a bare ``KeyError`` or a silently changed
resume.

Written durably (:mod:`sklstm._durable_files`, shared with model files and sequence
stores; the checkpoint imports its functions from here): a state file is pointed at
an epoch's files only once they are on disk (``_durable_files.sync_files``), and is itself
replaced by a file already on disk (``write_json_durably``). ``os.replace`` alone
is atomic for the processes that read the directory, not against a power cut or a
crash of the system: the rename can reach the disk before the data it names, and the
state file then named files that read back empty, while the state before was already
removed."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile

import numpy as np

from ..data.streaming import iter_row_chunks
from .optimizers import resolve_optimizer
from .switched_off import unused_params

__all__ = ["FILES_IN", "check_checkpoint_directory", "check_epochs", "check_history",
           "check_state", "checkpoint_path", "data_digest", "fingerprint_differences",
           "fingerprint_record", "param_record", "read_checked_json"]

#: The state file's entry naming the directory of the state written last (a state of an
#: earlier sklstm has none: its files lie in the checkpoint directory itself).
FILES_IN = "files"


def data_digest(seqs, y):
    """The training data's fingerprint, read a chunk at a time (the rows may be
    streamed from a store: the same data in memory or on disk hash alike)."""
    hasher = hashlib.sha256()
    for _, rows in iter_row_chunks(seqs.values):
        hasher.update(np.ascontiguousarray(rows).tobytes())
    for array in (seqs.lengths, y):
        if array is not None:
            hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()


def param_record(value, numpy_as_repr=False):
    """``value`` as it reads back from the state file (a tuple comes back a list).

    numpy scalars and arrays, also inside a tuple or dict (``conv_kernel_sizes`` of a
    grid's ``np.arange``, ``optimizer_params={"momentum": np.float32(0.9)}``), are
    recorded as the Python values the fit uses: their repr refused a resume whose
    parameters held the same numbers as Python's (``'(np.int64(3),)' there, [3]
    here``), and a long array's repr leaves values out. ``numpy_as_repr=True`` gives
    the record of a state written before (an earlier sklstm), which a fit of the same
    parameters must still resume.
    """
    if isinstance(value, np.random.RandomState):
        # its repr holds its address, another in every process (a resume was always
        # refused); its state is what the fit's seed is drawn from
        name, keys, *rest = value.get_state()
        state = hashlib.sha256(keys.tobytes() + repr((name, *rest)).encode()).hexdigest()
        return f"RandomState with state sha256:{state[:16]}"
    try:
        return json.loads(json.dumps(value, default=None if numpy_as_repr else _numpy_value))
    except TypeError:
        return repr(value)


def fingerprint_record(key, value, earlier=False):
    """The parameter ``key`` as a fit's fingerprint records it: :func:`param_record`,
    the optimizer as the class it names (``"adam"``, ``"Adam"`` and
    ``torch.optim.Adam`` train alike, and a fit resumed with another of them was
    refused as "another fit"). ``earlier=True``: as an earlier sklstm recorded it
    (numpy values as their repr, the optimizer as given), which must resume too."""
    if earlier:
        return param_record(value, numpy_as_repr=True)
    if key == "optimizer" and isinstance(value, (str, type)):
        with contextlib.suppress(ValueError):  # (an unknown name: as it is)
            value = resolve_optimizer(value)
            return f"{value.__module__}.{value.__qualname__}"
    return param_record(value)


class _Unset:
    """A parameter neither side records (nor its default)."""

    def __repr__(self):
        return "unset"


_UNSET = _Unset()


def fingerprint_differences(stored, fingerprint, params, defaults):
    """What tells ``stored`` (a state file's fingerprint) from ``fingerprint`` (this
    fit's): short descriptions, none when it is this fit's.

    ``params`` are this fit's compared parameters as given, ``defaults`` the records of
    their values before they existed (a parameter that only one side records: the
    other sklstm had it at that value). A parameter that another one switches off in
    this fit is not compared (:mod:`~sklstm.training.switched_off`; the switch is, so
    it is off on both sides): ``lr_schedule`` with no stopping rule trains alike
    whatever its value, and a resume that changed it was refused as another fit.
    """
    if stored == fingerprint:
        return []
    if not isinstance(stored, dict) or not isinstance(stored.get("params"), dict):
        return ["a state file of no sklstm fit"]
    found = [] if stored.get("data") == fingerprint["data"] else ["other data"]
    ours, theirs = (side.get("estimator") for side in (fingerprint, stored))
    if None not in (ours, theirs) and theirs != ours:
        found.insert(0, f"written by {theirs}, not {ours}")
    old, new, unused = stored["params"], fingerprint["params"], unused_params(params)
    for key in sorted((set(old) | set(new)) - unused):
        there, here = (side.get(key, defaults.get(key, _UNSET)) for side in (old, new))
        if there != here and not (key in params and there == fingerprint_record(
                key, params[key], earlier=True)):
            found.append(f"{key}={there!r} there, {here!r} here")
    return found


def _numpy_value(value):
    """A numpy scalar or array as the Python value JSON writes (``json.dumps``'s
    ``default``): a ``TypeError`` for anything else, as without it."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def checkpoint_path(directory):
    """The ``checkpoint`` parameter as the path a fit uses, a leading ``~`` the home
    directory (as for model files): ``"~/runs/clf-1"`` made a directory named ``~`` in
    the working directory, which a fit started elsewhere did not find (and which a
    ``rm -r ~`` meant for it would take the home directory with it)."""
    return os.path.expanduser(os.fspath(directory))


def check_checkpoint_directory(directory, name):
    """Raise a clear ValueError when ``checkpoint`` cannot be a directory: it is empty,
    names a file, or lies below one (``os.makedirs`` would fail only after the warm-up step,
    with a bare ``FileExistsError``), or no directory can be made where it lies (no
    permission, a read-only or virtual file system: a bare ``PermissionError`` or
    ``FileNotFoundError`` once the data were converted).

    Parameters
    ----------
    directory : str or os.PathLike
        The ``checkpoint`` parameter (``~`` expanded: :func:`checkpoint_path`); a
        missing directory is fine (created by the fit).
    name : str
        The estimator's class name, for the message.

    Examples
    --------
    >>> import tempfile
    >>> check_checkpoint_directory(tempfile.mkdtemp() + "/run-1", "LSTMClassifier")
    """
    given = checkpoint_path(directory)
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
    try:  # a directory where none can be made (no permission, a read-only or
        # virtual file system such as /proc) failed in os.makedirs, or at the first
        # epoch's write, with a bare OSError; probed with one that is removed at once
        os.rmdir(tempfile.mkdtemp(prefix=".sklstm-probe-", dir=existing))
    except OSError as exc:
        raise ValueError(
            f"{name}: checkpoint={given!r} cannot be written: no directory can be made in "
            f"{existing!r} ({type(exc).__name__}: {exc.strerror or exc}); give checkpoint a "
            "directory path where this process can write.") from None


def check_state(state):
    """Raise a ValueError where a state file does not have the form a fit writes
    (``FitCheckpoint._write``; damaged, or edited): its entries are read without
    further checks."""
    if not isinstance(state, dict):
        raise ValueError(f"a JSON {type(state).__name__}, not an object")
    files = state.get(FILES_IN)
    # the directory of an epoch's state, in the checkpoint directory (never a path)
    if files is not None and not (isinstance(files, str) and files.startswith("epoch-")
                                  and os.path.basename(files) == files):
        raise ValueError(f"{FILES_IN}={files!r} names no epoch-* directory of its own")
    for key in ("finished", "converged", "stopped", "judged"):
        if not isinstance(state.get(key, False), bool):
            raise ValueError(f"{key}={state[key]!r} is not true or false")
    seed = state.get("seed", 0)  # (a resumed fit seeds its batches and split with it)
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise ValueError(f"seed={seed!r} is no seed (a whole number, 0 or more)")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_history(epochs):
    """Raise a ValueError where a history file does not have the form a fit writes
    (edited by hand): its rows are read as the fit resumes, where an edit failed with
    a bare ``KeyError: 'epoch'`` or torch's ``TypeError`` in the batch split, or a
    row without its loss changed what the stopping rule resumed from, silently."""
    if not isinstance(epochs, list):
        raise ValueError(f"a JSON {type(epochs).__name__}, not a list of epochs")
    for number, row in enumerate(epochs, 1):
        if not (isinstance(row, dict) and row.get("epoch") == number
                and isinstance(row.get("batches"), list)
                and all(isinstance(batch, dict) for batch in row["batches"])):
            raise ValueError(f"entry {number} is not the record of epoch {number} (an object "
                             f"with \"epoch\": {number} and a list of \"batches\")")
        bad = [key for key, value in row.items() if key.endswith("_loss") and not (
            _is_number(value) and math.isfinite(value))]
        if "train_loss" not in row or bad:
            raise ValueError(f"epoch {number} has no finite {(bad or ['train_loss'])[0]}")
        size = row.get("effective_batch_size", 1)
        if not (isinstance(size, int) and not isinstance(size, bool) and size >= 1):
            raise ValueError(f"epoch {number} has effective_batch_size={size!r}, not a "
                             "positive int")


def check_epochs(directory, done, max_epochs):
    """``done``, the epochs a checkpoint holds; a ValueError where they are more than
    the fit's ``max_epochs`` (None: unchecked).

    A state keeps its last epoch only, so the epoch asked for cannot be taken from it:
    loaded as it was, it ended the fit with ``n_epochs_=6`` for ``max_epochs=3``, in
    silence (a search's candidate of fewer epochs scored another's model).
    """
    if max_epochs is not None and done > max_epochs:
        raise ValueError(
            f"checkpoint directory {directory!r} holds a fit of {done} epochs, more than "
            f"max_epochs={max_epochs}, and keeps only its last epoch: set max_epochs to "
            f"{done} or more to load it, or give checkpoint another directory to train "
            f"{max_epochs} epochs.")
    return done


def read_checked_json(path, check):
    """The JSON file of a checkpoint at ``path``, after ``check`` (a function that raises
    a ValueError for a form a fit does not write).

    Raises
    ------
    ValueError
        The file cannot be read, is no JSON (damaged: a raw ``JSONDecodeError``) or
        fails ``check`` (edited); the message names the file and the way on.
    """
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        check(value)
    except (OSError, ValueError) as exc:
        raise ValueError(f"checkpoint {path!r} cannot be read ({exc}); remove the "
                         "directory to start the fit afresh.") from exc
    return value
