"""A fitted estimator's state to a model file and back: :func:`write_model`, :func:`load`.

The estimator exports and restores its own state (a :class:`ModelState`: its
parameters, the fitted attributes prediction needs, the training history, the
module's weights); this module only encodes that state as JSON and safetensors
tensors (:mod:`~sklstm.persistence._codec`, :mod:`~sklstm.persistence._file`) and
decodes it again. What JSON cannot hold (parameters that are code or live state:
callbacks, a custom optimizer class, a ``RandomState``) is recorded as not saved; a
loaded model predicts exactly as the saved one, a refit starts from scratch.
"""

from __future__ import annotations

import dataclasses
import warnings

import torch

from .._compat.python import warn_at_caller
from .._param_validation import PREVIOUS_VALUES
from .._version import __version__
from ..resources import resolve_device
from ._codec import (
    MAX_DEPTH,
    MAX_STRING_BYTES,
    FormatError,
    Unsaved,
    decode,
    describe,
    encode,
    string_bytes,
)
from ._file import FORMAT_VERSION, HeaderTooLarge, read_model_file, write_model_file
from ._fitted import KINDS, _shown, check_fitted_state
from ._registry import known_classes, registered_class

__all__ = ["ModelState", "load", "write_model"]

_MODULE, _ATTR = "module.", "attr."


@dataclasses.dataclass
class ModelState:
    """What a model file holds of one fitted estimator.

    Attributes
    ----------
    class_name : str
        The registered estimator class (:mod:`~sklstm.persistence._registry`).
    params : dict
        Parameters (on load: those the file could hold).
    attributes : dict
        Fitted attributes prediction needs.
    history : list of dict
        The skorch training history.
    weights : dict
        The torch module's ``state_dict`` (numpy arrays when written, tensors when
        read).
    trained_on : str
        The device the fit ran on (not where a loaded model was put since): the
        device :func:`load` puts the network on by default.
    saved_class : str
        Module and name of the class that saved it (a subclass, say), for people.
    unsaved_params : dict
        Parameter name -> description of a value that was not saved: on load, those
        of the file; when written, those a loaded model still holds only placeholders
        for (written as not saved again, beside the values of ``params`` that JSON
        cannot hold).
    """

    class_name: str
    params: dict
    attributes: dict
    history: list
    weights: dict
    trained_on: str
    saved_class: str = ""
    unsaved_params: dict = dataclasses.field(default_factory=dict)


def _lenient(rows, key, tensors, dropped):
    """The history as JSON, leaving out entries JSON cannot hold (names in ``dropped``)."""
    out = []
    for i, row in enumerate(rows):
        kept = {}
        for name, value in row.items():
            # each entry its own key: arrays recorded by a callback went to one tensor
            # per epoch, and every one of them loaded as the last
            entry = f"{key}.{i}.{name}"
            try:
                kept[name] = (_lenient(value, entry, tensors, dropped)
                              if name == "batches" else encode(value, entry, tensors))
            except Unsaved:
                dropped.add(name)
        out.append({"__dict__": kept})
    return out


def _encoded(values, prefix, tensors):
    """``(saved, unsaved)``: the values JSON can hold, descriptions of the others."""
    saved, unsaved = {}, {}
    for name, value in values.items():
        try:
            saved[name] = encode(value, f"{prefix}{name}", tensors)
        except Unsaved:
            unsaved[name] = describe(value)
    return saved, unsaved


def write_model(path, state):
    """Write ``state`` to a model file at ``path`` (replaced if it exists).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    state : ModelState
        What to save.

    Raises
    ------
    ValueError
        A fitted attribute that loading needs cannot be encoded (``np.longdouble``
        class labels, say), or the header is too large for a safetensors file even
        without the history's batches; nothing is written.

    Warns
    -----
    UserWarning
        Entries of the training history that cannot be encoded (torch tensors a
        callback recorded, say) are left out. The per-batch records of the history are
        left out where the header would be too large for a safetensors file with them
        (a fit of over a million batches).
    """
    tensors = {}
    params, unsaved = _encoded(state.params, f"{_ATTR}param.", tensors)
    attributes, unsaved_attributes = _encoded(state.attributes, _ATTR, tensors)
    # one that load checks could not be left out: the file would never load (its load
    # blamed an edit); others (a subclass's own) are recorded as not saved
    needed = [name for name in unsaved_attributes if name in KINDS]
    if needed:
        name = needed[0]
        raise ValueError(
            f"{state.class_name}.save: the fitted attribute {name!r} is "
            f"{_shown(state.attributes[name])}, which a model file cannot hold (it stores "
            "strings, and numbers of at most 64 bits); pickle the estimator (joblib.dump) "
            "instead, or refit it on such targets (y.astype(np.float64) for float128 ones).")
    dropped = set()
    history, history_tensors = _history(state.history, dropped)
    if dropped:  # (the file records them, but nothing told the user they were lost)
        warnings.warn(
            f"{state.class_name}.save: the training history's entries {sorted(dropped)} "
            f"are not saved: a model file holds strings, numbers and arrays of at most 64 "
            f"bits, nested at most {MAX_DEPTH} levels (record them as such, a tensor with "
            ".item() or .cpu().numpy(), or pickle the estimator).",
            UserWarning, stacklevel=3)
    header = {
        "format_version": FORMAT_VERSION, "sklstm_version": __version__,
        "torch_version": torch.__version__, "class": state.class_name,
        "saved_class": state.saved_class, "params": params,
        "unsaved_params": {**unsaved, **state.unsaved_params},
        "attributes": attributes, "unsaved_attributes": unsaved_attributes,
        "history": history, "unsaved_history_keys": sorted(dropped),
        "trained_on": state.trained_on,
    }
    for name, value in state.weights.items():
        tensors[_MODULE + name] = value
    try:
        write_model_file(path, header, {**tensors, **history_tensors})
    except HeaderTooLarge:
        n_batches = sum(len(row.get("batches", ())) for row in state.history)
        if not n_batches:
            raise
        # a long fit's batches (some 90 bytes of JSON each): without them the model
        # saves, its epochs' records with it, rather than not at all
        epochs = [{k: v for k, v in row.items() if k != "batches"} for row in state.history]
        header["history"], history_tensors = _history(epochs, set())
        header["unsaved_history_keys"] = sorted({*dropped, "batches"})
        write_model_file(path, header, {**tensors, **history_tensors})
        warnings.warn(
            f"{state.class_name}.save: the training history's per-batch records "
            f"({n_batches} batches) are not saved: with them the file's header would "
            "exceed what a safetensors file holds. The epochs' records are saved; pickle "
            "the estimator (joblib.dump) to keep every batch's.", UserWarning, stacklevel=3)


def _history(rows, dropped):
    """``(json, tensors)``: the history as :func:`_lenient` writes it, and its arrays."""
    tensors = {}
    return _lenient(rows, f"{_ATTR}history", tensors, dropped), tensors


#: The sections of the header that hold a JSON object, and whether every file has it.
#: (The history is checked as decoded, with the fitted attributes.)
_OBJECTS = {"params": True, "attributes": True, "unsaved_params": False}


def _check_sections(header):
    """The sections of ``header`` there, and JSON objects where they hold one: one that
    was missing was refused as ``'params'`` (a bare KeyError), one of another kind with
    "'list' object has no attribute 'items'"."""
    for name in ("class", *_OBJECTS, "history"):
        if _OBJECTS.get(name, True) and name not in header:
            raise FormatError(f"its header has no {name!r} entry, which every file "
                              "estimator.save writes has")
    for name in _OBJECTS:
        value = header.get(name, {})
        if not isinstance(value, dict):
            raise FormatError(f"its header's {name!r} entry is a {type(value).__name__}, "
                              "but must be a JSON object")


def _read_state(header, tensors):
    _check_sections(header)
    needed = string_bytes(header)  # before any is decoded
    if needed > MAX_STRING_BYTES:
        raise FormatError(f"its arrays of strings would take {needed / 2**30:.3g} GiB of "
                          f"memory (their dtypes' widths times their lengths), more than "
                          f"any fit's labels and names ({MAX_STRING_BYTES // 2**20} MiB at "
                          "most)")
    weights = {name[len(_MODULE):]: torch.from_numpy(value)
               for name, value in tensors.items() if name.startswith(_MODULE)}
    return ModelState(
        class_name=header.get("class"),
        params={name: decode(value, tensors) for name, value in header["params"].items()},
        attributes={name: decode(value, tensors)
                    for name, value in header["attributes"].items()},
        history=decode(header["history"], tensors), weights=weights,
        trained_on=header.get("trained_on", "cpu"), saved_class=header.get("saved_class", ""),
        unsaved_params={name: str(desc)
                        for name, desc in header.get("unsaved_params", {}).items()},
    )


def _known_params(cls, state, path):
    """``state`` with only the parameters ``cls`` has (others are warned about), and
    those it lacks (newer than the file) at the value that trains as it was trained."""
    known = cls().get_params(deep=False)
    dropped = sorted(set(state.params) - set(known))
    if dropped:
        # (at the caller of load: stacklevel=3 named load's own line)
        warn_at_caller(f"{path}: parameters {dropped} of the sklstm that saved this model are "
                       f"not parameters of this {cls.__name__}; they are ignored.")
    return dataclasses.replace(
        state, params={**{k: v for k, v in PREVIOUS_VALUES.items() if k in known},
                       **{k: v for k, v in state.params.items() if k in known}},
        unsaved_params={k: v for k, v in state.unsaved_params.items() if k in known})


def _load_device(device, trained_on, path):
    """Where :func:`load` puts the network: ``device``, else the file's ``trained_on``,
    else (with a warning) the default device of its kind (``"cuda"`` for a ``"cuda:1"``
    this machine lacks), else the CPU."""
    if device is not None:
        return resolve_device(device)
    try:
        return resolve_device(trained_on)
    except (TypeError, ValueError):
        pass
    # another index of a kind this machine has (trained on "cuda:1", one GPU here): that
    # kind's default device, as for a file without an index; not the CPU, where every
    # prediction of a model loaded on a GPU machine ran
    kind = trained_on.partition(":")[0] if isinstance(trained_on, str) else None
    fallback = torch.device("cpu")
    if kind not in (None, "cpu", trained_on):
        try:
            fallback = resolve_device(kind)
        except (TypeError, ValueError):
            pass
    where = "the CPU" if fallback.type == "cpu" else str(fallback)
    warnings.warn(f"{path} was trained on {trained_on}, which this machine does not "
                  f"have; loaded on {where} (pass device= to choose).", UserWarning,
                  stacklevel=3)
    return fallback


def _restore(header, tensors, device, path):
    state = _read_state(header, tensors)
    cls = registered_class(state.class_name)
    if cls is None:
        raise FormatError(f"unknown estimator class {state.class_name!r} (this sklstm "
                          f"loads {', '.join(known_classes())})")
    state = _known_params(cls, state, path)
    check_fitted_state(cls, state)  # before any of it reaches an estimator
    return cls._from_model_state(state, device), state


def load(path, device=None):
    """Load an estimator saved with ``estimator.save(path)``; runs no code from the file.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :meth:`LSTMClassifier.save <sklstm.LSTMClassifier.save>` or
        :meth:`LSTMRegressor.save <sklstm.LSTMRegressor.save>`; a leading ``~`` is the
        home directory.
    device : str, torch.device or None, default=None
        Where the network is loaded (``"cpu"``, ``"cuda"``, ...): ``device_``. None
        uses the device it was trained on; where this machine lacks it, the default
        device of its kind (``"cuda"`` for a ``"cuda:1"`` a one-GPU machine lacks), else
        the CPU, with a warning. The ``device`` parameter, used by a refit, is kept as saved.

    Returns
    -------
    estimator : LSTMClassifier or LSTMRegressor
        The fitted estimator. On the device it was saved from it predicts exactly as
        the saved one; on another device (CUDA to CPU, say) to float tolerance, as
        the two devices' kernels round differently (and where torch lets cuDNN use
        TF32, ``torch.backends.cudnn.allow_tf32``, its products keep 10 bits).

    Raises
    ------
    TypeError
        ``path`` is not a str or os.PathLike (an open file, say: pass its name).
    FileNotFoundError
        No file at ``path``.
    IsADirectoryError
        ``path`` is a directory (a fit's checkpoint directory, say).
    ValueError
        The file is not an sklstm model file, is truncated or damaged, was written
        in another format version (the message says which sklstm to use), or holds
        fitted attributes that no fit makes, or that disagree with each other or with
        the network's weights (the message names the first).

    Warns
    -----
    UserWarning
        Some parameters were code and not saved (they are None, the optimizer its
        name): predictions are unaffected, a refit differs unless they are set again.
        Or, with ``device=None``, the model was trained on a device this machine
        lacks: it is loaded on the default device of that kind, or on the CPU.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import sklstm
    >>> X = np.random.default_rng(0).normal(size=(20, 5, 2))
    >>> y = (X[:, -1, 0] > 0).astype(int)
    >>> clf = sklstm.LSTMClassifier(hidden_size=4, max_epochs=2, tol=None,
    ...                             device="cpu").fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "clf.safetensors")
    >>> _ = clf.save(path)
    >>> loaded = sklstm.load(path, device="cpu")
    >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
    True
    """
    header, tensors = read_model_file(path)
    device = _load_device(device, header.get("trained_on", "cpu"), path)
    try:
        est, state = _restore(header, tensors, device, path)
    except (FormatError, KeyError, TypeError, AttributeError, RuntimeError, ValueError) as exc:
        # a file of this format from another sklstm (a newer one's new fitted setting,
        # say) is refused as an edited one would be: say which sklstm wrote it
        written = header.get("sklstm_version")
        other = (f" It was written by sklstm {written}, and this is sklstm {__version__}: "
                 "load it with the version that wrote it." if isinstance(written, str)
                 and written != __version__ else "")
        raise ValueError(f"{path} is not a valid sklstm model file: {exc}{other}") from exc
    if state.unsaved_params:
        now = est.get_params(deep=False)
        listed = ", ".join(f"{name} (was {desc}, now {now[name]!r})"
                           for name, desc in state.unsaved_params.items() if name in now)
        warnings.warn(
            f"{path}: parameters that are code were not saved: {listed}. Predictions are "
            "unaffected, but refitting will differ unless you set them again with "
            "set_params.", UserWarning, stacklevel=2)
    return est
