"""The estimators' own state for model files: ``save``, and the rebuild on load.

The estimator decides what of it is saved and how it is put back (as scikit-learn
leaves state to the object's ``__getstate__``/``__setstate__``);
:mod:`sklstm.persistence` encodes and decodes that state and checks it before the
estimator is rebuilt (:mod:`~sklstm.persistence._fitted`), asking the estimator what
its targets' attributes are and what its network's weights were made for.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from .._compat.python import warn_at_caller
from .._compat.sklearn import (
    InvalidParameterError,
    validate_estimator_params,
    validate_parameter_constraints,
)
from .._param_validation import plain_params, plain_value
from ..persistence._codec import FormatError
from ..persistence._fitted import REQUIRED, NetworkSizes, _shown
from ..persistence._model import ModelState, write_model
from ..persistence._registry import registered_name
from ..resources import resolve_device
from ..training.model_size import meta_module
from ..training.optimizers import resolve_optimizer
from ..training.plan import make_plan
from ..training.precision import resolve_precision
from ..training.randomness import global_draws
from ..training.setup import build_net
from ._params import check_params

__all__ = ["PersistenceMixin"]


class PersistenceMixin:
    """Adds :meth:`save` to the estimators (:func:`sklstm.load` reads what it writes)."""

    #: Private fitted attributes that prediction reads (the public ones end in ``_``).
    #: What each is, checked on load: ``sklstm.persistence._fitted.KINDS``.
    _private_fitted = ("_fitted_form", "_sequence_params", "_y_is_1d", "_ar_scale")

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
            The file to write (conventionally ``*.safetensors``; a leading ``~`` is
            the home directory); replaced if it exists, keeping its permissions (through
            a symbolic link: the file it names).

        Returns
        -------
        self : object
            The estimator, unchanged.

        Raises
        ------
        NotFittedError
            The estimator is not fitted, or its fit has not finished (``save``
            called by a callback during the fit).
        TypeError
            ``path`` is not a str or os.PathLike (an open file, say: pass its name).
        ValueError
            Parameters were changed after the fit (``set_params``) so that the
            saved model would not load, or would predict otherwise; or ``path``
            names no file; or the JSON would exceed the 100 MB header of a
            safetensors file even without the history's per-batch records.
        OSError
            The file cannot be written at ``path`` (``FileNotFoundError``: its
            directory does not exist; ``NotADirectoryError``: its directory is a file;
            ``PermissionError``: it is a read-only file, which is kept).

        Warns
        -----
        UserWarning
            Entries of the training history a file cannot hold are left out (a
            tensor a callback recorded, say); so are its per-batch records where
            they would not fit in the file's header (a fit of over a million batches).

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
        # a fit sets these when it ends: saved during the fit (by a callback), the file
        # lacked them and could never be loaded, blamed on an edit
        unfinished = [name for name in REQUIRED if name not in vars(self)]
        if unfinished:
            raise NotFittedError(
                f"{type(self).__name__}.save: the fit has not finished (save called by a "
                f"callback?): what it sets when it ends ({unfinished[0]}...) is missing. "
                "Save the model after fit returns; to keep a fit's best epoch use "
                "early_stopping=True, to resume an interrupted fit checkpoint=.")
        self._check_params_rebuild_the_net(self.net_.module_.state_dict())
        write_model(path, self._to_model_state())
        return self

    def _check_params_rebuild_the_net(self, weights):
        """Refuse to save parameters that :func:`sklstm.load` could not rebuild the
        fitted network from: ``set_params`` after the fit changes the parameters, not
        the network (``hidden_size``, say), and the file would not load; or that it
        would rebuild into a network of the same weights that computes otherwise
        (``pooling``, ``precision``), and the loaded model would predict otherwise."""
        # a model unpickled on a machine without the device it was fitted on (trained on
        # CUDA): its arithmetic cannot be resolved for that device here (bf16 asked
        # CUDA for its capability, a raw error), so the fitted net's is taken as it is
        precision = None if _is_here(self.device_) else self.net_.precision
        try:
            with warnings.catch_warnings():
                if _TRAINED_ON_LOAD in vars(self):
                    # only compared: a model loaded where its precision is not ("16-mixed"
                    # on the CPU) was warned of by the load, not again by every save
                    warnings.simplefilter("ignore")
                rebuilt = _prediction_settings(self._unloaded_net(weights, precision))
            fitted = _prediction_settings(self.net_)
            changed = [name for name in fitted if rebuilt.get(name) != fitted[name]]
            if changed:
                raise ValueError(", ".join(
                    f"they make a network with {name}={rebuilt.get(name)!r}, but the fitted "
                    f"one has {name}={fitted[name]!r}" for name in changed))
        except ValueError as error:
            problem = str(error).rstrip(".")
            raise ValueError(
                f"{type(self).__name__}.save: the parameters were changed after the fit "
                f"(set_params) and no longer describe the fitted network: {problem}. Set "
                "them back to the fit's values, or refit, before saving.") from None

    @classmethod
    def _is_saved_attribute(cls, name):
        return name in cls._private_fitted or (
            name.endswith("_") and not name.startswith("_") and name != "net_")

    def _to_model_state(self):
        """This fitted estimator as a :class:`~sklstm.persistence._model.ModelState`."""
        params = self.get_params(deep=False)
        # a loaded model's parameters that were not saved hold placeholders (None, the
        # optimizer's name): saved again, they stay "not saved", or the next load would
        # take the placeholders for the values the model was trained with, and not warn
        carried = {name: description for name, description in
                   vars(self).get(_UNSAVED_ON_LOAD, {}).items()
                   if name in params and _is_placeholder(params[name], name, description)}
        return ModelState(
            class_name=registered_name(type(self)),
            saved_class=f"{type(self).__module__}.{type(self).__qualname__}",
            params={name: value for name, value in params.items() if name not in carried},
            unsaved_params=carried,
            attributes={name: value for name, value in vars(self).items()
                        if self._is_saved_attribute(name)},
            history=list(self.net_.history),
            weights={name: value.detach().cpu().numpy().copy()
                     for name, value in self.net_.module_.state_dict().items()},
            # a loaded model's device is where it was put, not where it was trained
            trained_on=vars(self).get(_TRAINED_ON_LOAD, str(self.device_)),
        )

    @classmethod
    @functools.cache  # (per class: asked twice by every load)
    def _target_attributes(cls):
        """The names of the fitted attributes the targets give: those ``_encode_y``
        returns (``classes_``; ``n_outputs_``, ``target_mean_``...), for two targets."""
        return tuple(sorted(cls()._encode_y(np.array([0.0, 1.0]))[1]))

    @staticmethod
    def _network_sizes(weights):
        """What the network's weights (its ``state_dict``, by name) were made for: the
        sizes an :class:`~sklstm.network.LSTMNetwork`'s tensors give (None where a
        tensor is absent or of another rank: the module check names it)."""
        def dim(name, axis):
            tensor = weights.get(name)
            return int(tensor.shape[axis]) if tensor is not None and tensor.ndim > axis else None

        channels = []  # each block's Conv1d: (out_channels, in_channels, kernel_size)
        while f"conv.blocks.{len(channels)}.1.weight" in weights:
            channels.append(dim(f"conv.blocks.{len(channels)}.1.weight", 0))
        vocab_size = dim("embedding.weight", 0)
        layers = 0  # each LSTM layer's input weights: weight_ih_l0, weight_ih_l1, ...
        while f"lstm.weight_ih_l{layers}" in weights:
            layers += 1
        return NetworkSizes(
            n_inputs=None if vocab_size is not None else dim("lstm.weight_ih_l0", 1),
            n_outputs=dim("head.bias", 0), vocab_size=vocab_size, ar_width=dim("ar.weight", 1),
            conv_channels=tuple(channels) if channels else None, n_layers=layers or None)

    @classmethod
    def _from_model_state(cls, state, device):
        """The fitted estimator ``state`` describes, its network on ``device``."""
        unsaved = {name: _unsaved_value(name, desc)
                   for name, desc in state.unsaved_params.items()}
        params = {**state.params, **unsaved}
        _check_set_aside(cls, params)
        est = cls(**params)
        for name, value in state.attributes.items():
            if not cls._is_saved_attribute(name) or not name.isidentifier():
                raise FormatError(f"unexpected attribute {name!r}")
            setattr(est, name, value)
        if state.unsaved_params:  # (a fit drops it: its model is trained with what it has)
            setattr(est, _UNSAVED_ON_LOAD, dict(state.unsaved_params))
        setattr(est, _TRAINED_ON_LOAD, state.trained_on)
        est.device_ = device
        est.net_ = est._prediction_net(state.weights, state.history)
        return est

    def _prediction_net(self, weights, history):
        """The net of a loaded model: built from its plan, the file's weights in it."""
        net = self._unloaded_net(weights)
        with global_draws(self.device_):  # the weights drawn are overwritten
            net.initialize()
        # in the dtype of the fit's weights, not this process's default: load_state_dict
        # casts into the module's dtype, so float64 weights (a fit after
        # torch.set_default_dtype(torch.float64)) would predict in float32
        net.module_.to(_weights_dtype(weights) or torch.float32)
        net.module_.load_state_dict(weights, strict=True)
        net.history_ = History(history)
        return net

    def _unloaded_net(self, weights, precision=None):
        """The net the parameters and fitted attributes make, not initialized, once its
        module is known to take ``weights`` (a ``ValueError`` otherwise). Its arithmetic
        is ``precision`` (a ``Precision``); None: what the ``precision`` parameter
        makes on ``device_``."""
        name = type(self).__name__
        params = {**self.get_params(deep=False), "callbacks": None, "random_state": None}
        if not isinstance(params["optimizer"], type):
            params["optimizer"] = plain_value(params["optimizer"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. the FutureWarning of a deprecated parameter
            validate_estimator_params(type(self)(**params))
            defaults = plain_params(type(self)().get_params(deep=False))
            try:
                resolve_optimizer(params["optimizer"], name)
            except ValueError:
                # a custom optimizer that was not saved (its name stands in for it): any
                # will do to predict, without the arguments that were its own (Adam
                # refused them, and a model saved with them never loaded)
                params = {**params, "optimizer": "adam", "optimizer_params": None}
            checked = check_params(params, name, defaults)
        if precision is None:
            try:  # predictions in the arithmetic of the fit, where this device has it
                precision = resolve_precision(checked["precision"], self.device_,
                                              checked["optimizer"], "load")
            except ValueError:
                warn_at_caller(f"the model was trained with precision="
                               f"{checked['precision']!r}, which {self.device_} does not "
                               "support; it predicts in float32 here.", UserWarning)
        plan = make_plan(
            plain_params(params), checked, name=name, device=self.device_,
            criterion=self._loss, stratified=is_classifier(self),
            n_inputs=self.n_sequence_features_, n_outputs=self._n_outputs(vars(self)),
            vocab_size=getattr(self, "vocab_size_", None), padded=False, trivial_loss=None,
            precision=precision)
        # "auto" as the fit resolved it (models saved before ar_window_ or
        # conv_channels_: their ar_window, their conv_channels),
        # the highway's scale as the fit measured it (before it was: 1)
        plan = dataclasses.replace(
            plan, batch_size=getattr(self, "batch_size_", plan.batch_size),
            ar_window=getattr(self, "ar_window_", plan.ar_window),
            conv_channels=getattr(self, "conv_channels_", plan.conv_channels),
            split_level=getattr(self, "split_level_", plan.split_level),
            ar_scale=getattr(self, "_ar_scale", None))
        net = build_net(plan)
        _check_module_tensors(net, weights)
        return net


#: The attribute of a loaded model that keeps which parameters its file did not hold
#: (name -> description), until a fit: :meth:`PersistenceMixin.save` writes them as not
#: saved again.
_UNSAVED_ON_LOAD = "_unsaved_on_load"

#: The attribute of a loaded model that keeps the device its file says it was trained
#: on, until a fit: saved again (after a load on the CPU, say), it is still that device.
_TRAINED_ON_LOAD = "_trained_on_load"

#: What a load sets that a fit makes stale: dropped when a fit starts.
LOAD_ONLY_ATTRIBUTES = (_UNSAVED_ON_LOAD, _TRAINED_ON_LOAD)


def _check_set_aside(cls, params):
    """Refuse the parameters of a file that the network of a loaded model is built
    without (``_unloaded_net``: callbacks, ``random_state``) or that it is not put on
    (``device``: ``load``'s argument or the device it was trained on), where no
    ``estimator.save`` writes them: a crafted file loaded, and the first refit failed.
    A device this machine lacks ("cuda:7") is the fit's, and kept."""
    # (callbacks are code: save records them as not saved, and load sets None)
    callbacks = params.get("callbacks")
    if callbacks is not None and not (isinstance(callbacks, (list, tuple)) and not callbacks):
        raise FormatError(f"the parameter callbacks is {_shown(callbacks)}, but a model file "
                          "holds no callbacks (they are code, which estimator.save does not "
                          "save); load the file estimator.save wrote, and set them with "
                          "set_params after loading")
    fix = "load the file estimator.save wrote, or refit the estimator and save it again"
    try:
        validate_parameter_constraints(
            {"random_state": cls._parameter_constraints["random_state"]},
            {"random_state": params.get("random_state")}, caller_name=cls.__name__)
    except InvalidParameterError as exc:
        raise FormatError(f"{exc}; {fix}") from None
    device = params.get("device", "auto")
    if isinstance(device, str) and device != "auto":
        try:
            torch.device(device)
        except RuntimeError:
            raise FormatError(f"the parameter device is {device!r}, which names no torch "
                              f"device (such as 'auto', 'cpu' or 'cuda:1'); {fix}") from None


def _is_here(device):
    """Whether this machine has ``device``."""
    try:
        resolve_device(device)
    except ValueError:
        return False
    return True


def _is_placeholder(value, name, description):
    """Whether ``value`` is still what a load put for a parameter that was not saved."""
    placeholder = _unsaved_value(name, description)
    return type(value) is type(placeholder) and value == placeholder


def _unsaved_value(name, description):
    """What a parameter that was not saved becomes on load."""
    if name == "optimizer":  # its name: a refit then says it is unknown
        return description.removeprefix("class ")
    return None


def _prediction_settings(net):
    """What of a net's settings its predictions depend on besides its weights: the
    module's arguments and the arithmetic (``precision``'s dtype, by name). Not those
    that only train: ``dropout``, and ``padding_idx`` (the embedding row whose gradient
    is zero)."""
    params = net.get_params(deep=False)
    settings = {name.removeprefix("module__"): value for name, value in params.items()
                if name.startswith("module__")
                and name not in ("module__dropout", "module__padding_idx")}
    dtype = getattr(params["precision"], "dtype", None)  # (None: float32, no autocast)
    return {**settings, "precision": "float32" if dtype is None else
            str(dtype).removeprefix("torch.")}


#: The floating dtypes a fit leaves its weights in: torch's default dtype during the
#: fit (float32, or float64 after ``torch.set_default_dtype(torch.float64)``).
_WEIGHT_DTYPES = (torch.float32, torch.float64)


def _weights_dtype(weights):
    """The one floating dtype of ``weights`` where it is a fit's, else None."""
    dtypes = {tensor.dtype for tensor in weights.values() if tensor.is_floating_point()}
    return dtypes.pop() if len(dtypes) == 1 and dtypes <= set(_WEIGHT_DTYPES) else None


def _check_module_tensors(net, weights):
    """Compare the file's tensors with the module the parameters describe (on ``meta``).
    Floating ones in the dtype of the fit's weights, not of torch's default here: under
    ``torch.set_default_dtype(torch.float64)`` every float32 file was refused as
    invalid, and a model fitted so could be saved but never loaded elsewhere."""
    try:
        reference = meta_module(net).state_dict()
    except (TypeError, ValueError, RuntimeError) as error:  # e.g. embedding_dim, no vocabulary
        raise FormatError("the saved parameters and fitted attributes make no network "
                          f"({type(error).__name__}: {error})") from None
    fitted = _weights_dtype(weights) or torch.float32
    for name, ref in reference.items():
        got, dtype = weights.get(name), fitted if ref.is_floating_point() else ref.dtype
        if got is None or tuple(got.shape) != tuple(ref.shape) or got.dtype != dtype:
            shown = None if got is None else (tuple(got.shape), got.dtype)
            raise FormatError(f"module tensor {name!r} is {shown}, but the saved parameters "
                              f"and fitted attributes make it {(tuple(ref.shape), dtype)}")
    extra = sorted(set(weights) - set(reference))
    if extra:
        raise FormatError(f"unexpected module tensors {extra[:3]}")
