"""An estimator to a model file and back: parameters, fitted attributes, weights.

What is saved: every parameter JSON can hold, the fitted attributes ``predict`` needs
(all public ones ending in ``_`` but ``net_``, and :data:`PRIVATE_ATTRIBUTES`), the
training history, and the torch module's ``state_dict``. What is not: parameters that
are code or live state (callbacks, a custom optimizer class, a ``RandomState``) and
the optimizer's state; a loaded model predicts exactly as the saved one, a refit
starts from scratch.

On load the skorch net is rebuilt from the parameters by the estimators' own
``build_net`` (``sklstm.estimators._net_setup``), the module's expected tensor shapes
are checked on torch's ``meta`` device (nothing allocated) against the file, and only
then are the weights loaded.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import torch
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from .._param_validation import plain_value
from ..estimators._net_setup import build_net
from ..resources import resolve_device
from ..training.precision import resolve_precision
from ._codec import FormatError, Unsaved, decode, describe, encode
from ._file import FORMAT_VERSION, read_model_file, write_model_file

__all__ = ["PRIVATE_ATTRIBUTES", "SaveMixin", "load"]

#: Private fitted attributes that prediction reads (the public ones end in ``_``).
PRIVATE_ATTRIBUTES = ("_fitted_form", "_sequence_params", "_y_is_1d")

_MODULE, _ATTR = "module.", "attr."


def _registry():
    from ..estimators import LSTMClassifier, LSTMRegressor

    return {cls.__name__: cls for cls in (LSTMClassifier, LSTMRegressor)}


def _saved_attribute(name):
    return name in PRIVATE_ATTRIBUTES or (
        name.endswith("_") and not name.startswith("_") and name != "net_")


def _lenient(rows, key, tensors, dropped):
    """The history as JSON, leaving out entries JSON cannot hold (names in ``dropped``)."""
    out = []
    for i, row in enumerate(rows):
        kept = {}
        for name, value in row.items():
            try:
                kept[name] = (_lenient(value, f"{key}.{i}.{name}", tensors, dropped)
                              if name == "batches" else encode(value, f"{key}.{i}", tensors))
            except Unsaved:
                dropped.add(name)
        out.append({"__dict__": kept})
    return out


def _header(est):
    from .. import __version__

    tensors, params, unsaved = {}, {}, {}
    for name, value in est.get_params(deep=False).items():
        try:
            params[name] = encode(value, f"{_ATTR}param.{name}", tensors)
        except Unsaved:
            unsaved[name] = describe(value)
    attributes, unsaved_attributes = {}, {}
    for name, value in vars(est).items():
        if _saved_attribute(name):
            try:
                attributes[name] = encode(value, f"{_ATTR}{name}", tensors)
            except Unsaved:
                unsaved_attributes[name] = describe(value)
    dropped = set()
    history = _lenient(est.net_.history, f"{_ATTR}history", tensors, dropped)
    registry = _registry()
    base = next(cls for cls in type(est).__mro__ if registry.get(cls.__name__) is cls)
    header = {
        "format_version": FORMAT_VERSION, "sklstm_version": __version__,
        "torch_version": torch.__version__, "class": base.__name__,
        "saved_class": f"{type(est).__module__}.{type(est).__qualname__}",
        "params": params, "unsaved_params": unsaved, "attributes": attributes,
        "unsaved_attributes": unsaved_attributes, "history": history,
        "unsaved_history_keys": sorted(dropped), "trained_on": str(est.device_),
    }
    for name, value in est.net_.module_.state_dict().items():
        tensors[_MODULE + name] = value.detach().cpu().numpy().copy()
    return header, tensors


class SaveMixin:
    """Adds :meth:`save` to the estimators (:func:`load` reads what it writes)."""

    def save(self, path):
        """Save the fitted estimator to a safetensors file, without pickle.

        Parameters, fitted attributes and the training history are stored as JSON,
        the network's weights as safetensors tensors; :func:`sklstm.load` reads them
        back without running any code from the file. Parameters that are code
        (callbacks, a custom optimizer class, a ``RandomState``) are not saved: the
        loaded model predicts the same, but warns that a refit would differ. See
        :doc:`/reliability` for when to use this and when pickle or joblib.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (conventionally ``*.safetensors``); replaced if it
            exists.

        Returns
        -------
        self : object
            The estimator, unchanged.

        Examples
        --------
        >>> import tempfile, numpy as np, sklstm
        >>> path = tempfile.mkdtemp() + "/reg.safetensors"
        >>> reg = sklstm.LSTMRegressor(hidden_size=2, max_epochs=1, tol=None)
        >>> reg.fit(np.zeros((4, 3, 1)), [0.0, 1.0, 2.0, 3.0]).save(path).hidden_size
        2
        >>> sklstm.load(path).predict(np.zeros((1, 3, 1))).shape
        (1,)
        """
        check_is_fitted(self)
        write_model_file(path, *_header(self))
        return self


def _replacement(name, value_description):
    """What a parameter that was not saved becomes on load."""
    if name == "optimizer":  # its name: a refit then says it is unknown
        return value_description.removeprefix("class ")
    return None


def _params(cls, header, tensors, path):
    known = cls().get_params(deep=False)
    params = {name: decode(value, tensors) for name, value in header["params"].items()}
    unsaved = {name: _replacement(name, str(desc))
               for name, desc in header.get("unsaved_params", {}).items()}
    dropped = sorted(set(params) - set(known))
    if dropped:
        warnings.warn(f"{path}: parameters {dropped} of the sklstm that saved this model are "
                      f"not parameters of this {cls.__name__}; they are ignored.", UserWarning,
                      stacklevel=4)
    return {name: v for name, v in {**params, **unsaved}.items() if name in known}


def _load_device(device, trained_on, path):
    if device is not None:
        return resolve_device(device)
    try:
        return resolve_device(trained_on)
    except (TypeError, ValueError):
        warnings.warn(f"{path} was trained on {trained_on}, which this machine does not "
                      "have; loaded on the CPU (pass device= to choose).", UserWarning,
                      stacklevel=3)
        return torch.device("cpu")


def _check_module_tensors(net, state):
    """Compare the file's tensors with the module the parameters describe (on ``meta``)."""
    with torch.device("meta"):
        reference = net.module(**net.get_params_for("module")).state_dict()
    for name, ref in reference.items():
        got = state.get(name)
        if got is None or tuple(got.shape) != tuple(ref.shape) or got.dtype != ref.dtype:
            shown = None if got is None else (tuple(got.shape), got.dtype)
            raise FormatError(f"module tensor {name!r} is {shown}, but the saved parameters "
                              f"make it {(tuple(ref.shape), ref.dtype)}")
    extra = sorted(set(state) - set(reference))
    if extra:
        raise FormatError(f"unexpected module tensors {extra[:3]}")


def _rebuild_net(est, state, history):
    build = {**est.get_params(deep=False), "callbacks": None, "random_state": None}
    if not isinstance(build["optimizer"], type):
        build["optimizer"] = plain_value(build["optimizer"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. the FutureWarning of a deprecated parameter
        probe = type(est)(**build)
        probe._validate_params()
        try:
            p = probe._checked_params()
        except ValueError:  # a custom optimizer that was not saved: any will do to predict
            p = probe.set_params(optimizer="adam")._checked_params()
    shape = SimpleNamespace(lengths=None, n_features=est.n_sequence_features_)
    p.batch_size = getattr(est, "batch_size_", p.batch_size)  # "auto" as it was resolved
    try:  # predictions in the arithmetic of the fit, where this device has it
        precision = resolve_precision(p.precision, est.device_, p.optimizer, "load")
    except ValueError:
        warnings.warn(f"the model was trained with precision={p.precision!r}, which "
                      f"{est.device_} does not support; it predicts in float32 here.",
                      UserWarning, stacklevel=4)
        precision = None
    net = build_net(est, p, 0, shape, precision=precision)
    _check_module_tensors(net, state)
    cuda = [est.device_] if est.device_.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):  # the initial weights are overwritten anyway
        net.initialize()
    net.module_.load_state_dict(state, strict=True)
    net.history_ = History(history)
    return net


def _build(header, tensors, device, path):
    registry = _registry()
    cls = registry.get(header.get("class"))
    if cls is None:
        raise FormatError(f"unknown estimator class {header.get('class')!r} (this sklstm "
                          f"loads {', '.join(registry)})")
    est = cls(**_params(cls, header, tensors, path))
    for name, value in header["attributes"].items():
        if not _saved_attribute(name) or not name.isidentifier():
            raise FormatError(f"unexpected attribute {name!r}")
        setattr(est, name, decode(value, tensors))
    est.device_ = device
    state = {name[len(_MODULE):]: torch.from_numpy(value)
             for name, value in tensors.items() if name.startswith(_MODULE)}
    est.net_ = _rebuild_net(est, state, decode(header["history"], tensors))
    return est


def load(path, device=None):
    """Load an estimator saved with ``estimator.save(path)``; runs no code from the file.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :meth:`LSTMClassifier.save <sklstm.LSTMClassifier.save>` or
        :meth:`LSTMRegressor.save <sklstm.LSTMRegressor.save>`.
    device : str, torch.device or None, default=None
        Where the network is loaded (``"cpu"``, ``"cuda"``, ...): ``device_``. None
        uses the device it was trained on, or the CPU (with a warning) when this
        machine lacks it. The ``device`` parameter, used by a refit, is kept as saved.

    Returns
    -------
    estimator : LSTMClassifier or LSTMRegressor
        The fitted estimator, predicting exactly as the saved one on the same device.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not an sklstm model file, is truncated or damaged, or was written
        in another format version (the message says which sklstm to use).

    Warns
    -----
    UserWarning
        Some parameters were code and not saved (they are None, the optimizer its
        name): predictions are unaffected, a refit differs unless they are set again.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import sklstm
    >>> X = np.random.default_rng(0).normal(size=(20, 5, 2))
    >>> y = (X[:, -1, 0] > 0).astype(int)
    >>> clf = sklstm.LSTMClassifier(hidden_size=4, max_epochs=2, tol=None).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "clf.safetensors")
    >>> _ = clf.save(path)
    >>> loaded = sklstm.load(path, device="cpu")
    >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
    True
    """
    header, tensors = read_model_file(path)
    device = _load_device(device, header.get("trained_on", "cpu"), path)
    try:
        est = _build(header, tensors, device, path)
    except (FormatError, KeyError, TypeError, AttributeError, RuntimeError, ValueError) as exc:
        raise ValueError(f"{path} is not a valid sklstm model file: {exc}") from exc
    unsaved = header.get("unsaved_params", {})
    if unsaved:
        now = est.get_params(deep=False)
        listed = ", ".join(f"{name} (was {desc}, now {now[name]!r})"
                           for name, desc in unsaved.items() if name in now)
        warnings.warn(
            f"{path}: parameters that are code were not saved: {listed}. Predictions are "
            "unaffected, but refitting will differ unless you set them again with "
            "set_params.", UserWarning, stacklevel=2,
        )
    return est
