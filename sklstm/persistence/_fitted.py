"""The fitted state a model file holds, checked before :func:`sklstm.load` returns it.

The checksum catches a file damaged or changed by accident, not an edit: whoever
changes a fitted attribute can recompute it. So the fitted attributes and the
training history are checked on load, one concern per function, against what a fit
sets: what each attribute is (type, shape, range: :data:`KINDS`), that none is
missing, that they agree with each other, and that they agree with the network's
weights (its input size with ``n_sequence_features_``, its outputs with the target
attributes, ...). The first that does not is named in one ``ValueError``, so that a
loaded model does not fail later in prediction with a raw error, nor predict with
attributes that are not those of its fit.

:data:`KINDS` covers the attributes of every estimator; which of them a class must
have, and what differs between the classes, comes from the estimator class: the
attributes its targets give (``_target_attributes``), what its network's weights were
made for (``_network_sizes``, a :class:`NetworkSizes`), the rules of its parameters
(``_parameter_constraints``) and the settings its prediction reads
(``_fit_settings``, ``_prediction_settings``).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from .._compat.sklearn import InvalidParameterError, validate_parameter_constraints
from ._codec import FormatError

__all__ = ["KINDS", "NetworkSizes", "check_fitted_state"]

_FIX = ("the fitted attributes were changed after the fit (a file edited and its checksum "
        "recomputed, or written by other software); load the file estimator.save wrote, "
        "or refit the estimator and save it again")

#: Attributes every fit sets (files of format 1 on have them all). Later ones
#: (``ar_window_``, ``conv_channels_``, ``split_level_``, ``_ar_scale``) may be absent:
#: the model then predicts as the fits of its time did.
REQUIRED = ("_fitted_form", "n_features_in_", "n_sequence_features_", "_sequence_params",
            "downsample_", "fit_time_", "peak_memory_", "converged_", "interrupted_",
            "n_epochs_", "n_updates_", "effective_batch_size_", "batch_size_",
            "accumulation_steps_", "lr_", "memory_events_")

#: ``_sequence_params`` entries besides the estimator's ``_fit_settings`` that every
#: fit sets (``BaseLSTM._prepare``); the ``_prediction_settings`` of the estimator come
#: after them, all or none (a file from before them).
SET_BY_FIT = ("tokens",)

FORMS = ("2d", "sequences", "tokens")


@dataclasses.dataclass(frozen=True)
class NetworkSizes:
    """What a network's weights were made for; None where they do not say.

    Attributes
    ----------
    n_inputs : int or None
        Features per timestep it reads (None for token ids, which it embeds).
    n_outputs : int or None
        Units of its output layer.
    vocab_size : int or None
        Token ids it embeds (None: it embeds none).
    ar_width : int or None
        Inputs of its autoregressive highway, ``ar_window * n_inputs`` (None: none).
    conv_channels : tuple of int or None
        Channels of each block of its convolutional branch (None: none).
    n_layers : int or None
        Its stacked LSTM layers (None: it has no LSTM weights).
    """

    n_inputs: int | None
    n_outputs: int | None
    vocab_size: int | None = None
    ar_width: int | None = None
    conv_channels: tuple | None = None
    n_layers: int | None = None


def _bad(name, problem):
    return FormatError(f"fitted attribute {name!r} {problem}; {_FIX}")


def _shown(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    return f"{text[:60]}..." if len(text) > 60 else text


# -- what each attribute is -----------------------------------------------------------
#: Beyond every count and size a fit makes: the int64 of numpy's and torch's indices
#: (JSON has no limit; a ``downsample_`` of 2**63 loaded, and prediction failed with
#: numpy's raw "Cannot cast array data from dtype('O') to dtype('int64')").
_INT_LIMIT = 2**63


def _int(value, minimum=1):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) \
        and minimum <= value < _INT_LIMIT


def _real(value, positive=False):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond a float's range (JSON has no limit)
        return False
    return finite and (value > 0 if positive else value >= 0)


def _optional(kind):
    return lambda value: value is None or kind(value)


def _tuple_of(kind):
    return lambda value: isinstance(value, tuple) and len(value) > 0 \
        and all(kind(v) for v in value)


def _vector(value, positive=False):
    return isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind == "f" \
        and bool(np.isfinite(value).all()) and (not positive or bool((value > 0).all()))


def _names(value):
    return isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "OU" \
        and all(isinstance(v, str) for v in value)


def _labels(value):
    if not (isinstance(value, np.ndarray) and value.ndim == 1 and len(value) >= 2
            and value.dtype.kind in "biufcmMUO"):
        return False
    if value.dtype.kind == "O" and not all(isinstance(v, (str, numbers.Number)) for v in value):
        return False
    try:  # np.unique's order: sorted, each label once
        return bool(np.array_equal(np.unique(value), value))
    except TypeError:  # labels that do not sort together
        return False


def _records(value):
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


_COUNT, _FLAG = (_int, "an int >= 1 that fits in 64 bits"), \
    (lambda v: isinstance(v, bool), "True or False")
_AMOUNT = (lambda v: _int(v, 0), "an int >= 0 that fits in 64 bits")

#: What each fitted attribute of a fit is: ``name -> (accepts, description)``. An
#: attribute not listed (a newer sklstm's statistic) is not checked.
KINDS = {
    # what X was (sklstm.data.validation)
    "_fitted_form": (lambda v: v in FORMS, f"one of {', '.join(map(repr, FORMS))}"),
    "n_features_in_": _COUNT,
    "n_sequence_features_": _COUNT,
    "feature_names_in_": (_names, "a 1-D array of str"),
    # the settings prediction reads, and what the fit resolved
    "_sequence_params": (lambda v: isinstance(v, dict), "a dict"),
    "downsample_": _COUNT,
    "vocab_size_": _COUNT,
    "ar_window_": (_optional(_int), "None or an int >= 1 that fits in 64 bits"),
    "_ar_scale": (_optional(_tuple_of(lambda v: _real(v, positive=True))),
                  "None or a tuple of positive finite floats"),
    "conv_channels_": (_optional(_tuple_of(_int)),
                       "None or a tuple of ints >= 1 that fit in 64 bits"),
    "split_level_": _FLAG,
    # the targets (the estimator's _target_attributes say which it has)
    "classes_": (_labels, "a 1-D array of at least 2 distinct labels, sorted"),
    "n_outputs_": _COUNT,
    "target_mean_": (_vector, "a 1-D float array of finite values"),
    "target_scale_": (lambda v: _vector(v, positive=True),
                      "a 1-D float array of positive finite values"),
    "_y_is_1d": _FLAG,
    # the fit's outcome
    "fit_time_": (_real, "a finite float >= 0"),
    "peak_memory_": (_optional(lambda v: _int(v, 0)), "None or an int >= 0 that fits in 64 bits"),
    "converged_": _FLAG,
    "interrupted_": _FLAG,
    "n_epochs_": _AMOUNT,
    "n_updates_": _AMOUNT,
    "effective_batch_size_": _COUNT,
    "batch_size_": _COUNT,
    "accumulation_steps_": _COUNT,
    "lr_": (lambda v: _real(v, positive=True), "a finite float > 0"),
    "memory_events_": (_records, "a list of dicts"),
    "batch_size_search_time_": (_real, "a finite float >= 0"),
    "batch_size_trials_": (_records, "a list of dicts"),
}


# -- the checks, one concern each -------------------------------------------------------
def _check_present(cls, attributes):
    for name in (*REQUIRED, *cls._target_attributes()):
        if name not in attributes:
            raise _bad(name, f"is missing (every fitted {cls.__name__} has it)")


def _check_kinds(attributes):
    for name, value in attributes.items():
        accepts, description = KINDS.get(name, (None, None))
        if accepts is not None and not accepts(value):
            raise _bad(name, f"is {_shown(value)}, but must be {description}")


def _check_features(attributes):
    """The feature bookkeeping of :mod:`sklstm.data.validation`, for the form fitted
    (after :func:`_check_inputs`: ``n_sequence_features_`` is the network's)."""
    form, n_in = attributes["_fitted_form"], attributes["n_features_in_"]
    n_seq = attributes["n_sequence_features_"]
    if form == "2d" and n_seq != 1:
        raise _bad("_fitted_form", f"is '2d' (univariate sequences, 1 feature per "
                   f"timestep), but n_sequence_features_ is {n_seq}")
    if form == "tokens" and n_seq != 1:
        raise _bad("n_sequence_features_", f"is {n_seq}, but a model fitted on token ids "
                   "reads 1 per timestep")
    if form != "2d" and n_in != n_seq:
        raise _bad("n_features_in_", f"is {n_in}, but n_sequence_features_ is {n_seq}; "
                   f"fitted on {form} (_fitted_form), both count the features per timestep")
    names = attributes.get("feature_names_in_")
    if names is not None and form == "tokens":  # (sequences may be DataFrames: named)
        raise _bad("feature_names_in_", "is set, but a fit on token ids has no column "
                   "names")
    if names is not None and len(names) != n_in:
        raise _bad("feature_names_in_", f"has {len(names)} names, but n_features_in_ is {n_in}")


def _check_settings(cls, attributes):
    """``_sequence_params``: its entries, each as the estimator's parameter of that name
    may be, and as the other attributes say."""
    settings, own = attributes["_sequence_params"], tuple(cls._prediction_settings)
    every_fit = (*cls._fit_settings, *SET_BY_FIT)
    expected = [*every_fit, *(own if any(name in settings for name in own) else ())]
    missing = [name for name in expected if name not in settings]
    unknown = sorted(set(settings) - {*every_fit, *own})
    if missing or unknown:
        raise _bad("_sequence_params", f"has the entries {sorted(settings)}, but those of "
                   f"a {cls.__name__} fit are {sorted(expected)}")
    constraints = {name: cls._parameter_constraints[name]
                   for name in settings if name in cls._parameter_constraints}
    try:
        validate_parameter_constraints(constraints, {name: settings[name] for name in
                                                     constraints}, caller_name=cls.__name__)
    except InvalidParameterError as exc:
        raise _bad("_sequence_params", f"holds a setting no fit makes: {exc}") from None
    tokens = attributes["_fitted_form"] == "tokens"
    if settings["tokens"] is not tokens:
        raise _bad("_sequence_params", f"has tokens={settings['tokens']!r}, but "
                   f"_fitted_form is {attributes['_fitted_form']!r}")
    column = settings.get("relative_target")
    if settings.get("relative") is not None and column is not None \
            and column >= attributes["n_sequence_features_"]:
        raise _bad("_sequence_params", f"has relative_target={column}, but the model reads "
                   f"{attributes['n_sequence_features_']} feature(s) per timestep")
    padding = settings["padding_idx"]
    # the embedding row a fit's padding has (fitted_vocab_size, check_params): a padding
    # id beyond it failed every prediction of sequences of unequal lengths, blaming X
    if tokens and padding is not None and padding >= attributes["vocab_size_"]:
        raise _bad("_sequence_params", f"has padding_idx={padding}, but the network embeds "
                   f"{attributes['vocab_size_']} token ids (0..{attributes['vocab_size_'] - 1})")
    if settings["downsample"] != attributes["downsample_"]:
        raise _bad("downsample_", f"is {attributes['downsample_']!r}, but the fit's setting "
                   f"(_sequence_params) is downsample={settings['downsample']!r}")


def _size(value):
    """How many outputs a target attribute counts: an array's length, an int's value."""
    if isinstance(value, np.ndarray):
        return len(value), "has {} entries"
    return (value, "is {}") if _int(value) else (None, None)


def _check_outputs(cls, attributes, n_outputs):
    """The target attributes against the network's output layer."""
    if n_outputs is None:  # no output layer: the module's own check names it
        return
    for name in cls._target_attributes():
        size, told = _size(attributes[name])
        if size is not None and size != n_outputs:
            raise _bad(name, f"{told.format(size)}, but the network has {n_outputs} "
                       "output(s)")
    if attributes.get("_y_is_1d") and n_outputs != 1:
        raise _bad("_y_is_1d", f"is True (1-D targets), but the network has {n_outputs} "
                   "outputs")


def _check_inputs(attributes, sizes):
    """The features and token ids read against the network's input side."""
    tokens = attributes["_fitted_form"] == "tokens"
    if tokens != (sizes.vocab_size is not None):
        raise _bad("_fitted_form", f"is {attributes['_fitted_form']!r}, but the network "
                   f"{'embeds' if sizes.vocab_size is not None else 'has no embedding of'} "
                   "token ids")
    vocab_size = attributes.get("vocab_size_")
    if vocab_size != sizes.vocab_size:
        raise _bad("vocab_size_", ("is missing" if vocab_size is None else f"is {vocab_size}")
                   + (f", but the network embeds {sizes.vocab_size} token ids" if tokens else
                      ", but the model reads no token ids"))
    n_seq = attributes["n_sequence_features_"]
    if not tokens and sizes.n_inputs is not None and n_seq != sizes.n_inputs:
        raise _bad("n_sequence_features_", f"is {n_seq}, but the network reads "
                   f"{sizes.n_inputs} feature(s) per timestep")


def _check_branches(attributes, sizes):
    """The highway and the convolutional branch the fit resolved against the network's
    (absent from files before them: the parameters then size them)."""
    n_seq, window = attributes["n_sequence_features_"], attributes.get("ar_window_")
    if "ar_window_" in attributes and (None if window is None else window * n_seq) \
            != sizes.ar_width:
        raise _bad("ar_window_", f"is {window!r}, but the network has " + (
            "no autoregressive highway" if sizes.ar_width is None else
            f"an autoregressive highway of {sizes.ar_width} inputs (ar_window_ times the "
            f"{n_seq} feature(s) per timestep)"))
    scale = attributes.get("_ar_scale")
    if scale is not None and (sizes.ar_width is None or len(scale) != n_seq):
        raise _bad("_ar_scale", f"has {len(scale)} value(s), but the network has "
                   + ("no autoregressive highway" if sizes.ar_width is None else
                      f"{n_seq} input feature(s) (one value each)"))
    if "conv_channels_" in attributes and attributes["conv_channels_"] != sizes.conv_channels:
        raise _bad("conv_channels_", f"is {attributes['conv_channels_']!r}, but the network "
                   + ("has no convolutional branch" if sizes.conv_channels is None else
                      f"has convolution blocks of {sizes.conv_channels} channels"))


def _check_depth(cls, params, sizes):
    """``num_layers`` against the LSTM layers of the weights, before the network it
    makes is built to compare the rest with them: a ``num_layers`` of 10**5 (one number
    in a crafted file) took minutes to build (torch's LSTM redoes the list of its
    weights for each one added), before the first layer the file lacked was named."""
    layers = params.get("num_layers", cls().num_layers)
    if sizes.n_layers is not None and layers != sizes.n_layers:
        raise FormatError(f"the parameter num_layers is {_shown(layers)}, but the network's "
                          f"weights have {sizes.n_layers} LSTM layer(s); load the file "
                          "estimator.save wrote, or refit the estimator and save it again")


def _check_history(attributes, history):
    """The skorch history: a list of epochs (dicts), their batches lists of dicts."""
    if not _records(history) or not all(_records(row.get("batches", [])) for row in history):
        raise FormatError(f"the training history is {_shown(history)}, but must be a list of "
                          f"epochs (dicts, each with a list of batches); {_FIX}")
    if len(history) != attributes["n_epochs_"]:
        raise _bad("n_epochs_", f"is {attributes['n_epochs_']}, but the training history has "
                   f"{len(history)} epoch(s)")


def _check_weights(weights):
    """The network's weights: finite, as every fit leaves them (one that diverges raises
    instead); NaN or infinite weights loaded, and prediction failed later, blaming the
    input's range."""
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not bool(tensor.isfinite().all()):
            raise FormatError(f"module tensor {name!r} holds NaN or infinite values, which no "
                              "fit leaves in its network; load the file estimator.save wrote, "
                              "or refit the estimator and save it again")


def check_fitted_state(cls, state):
    """Refuse a model whose fitted state is not one a fit of ``cls`` makes.

    Parameters
    ----------
    cls : type
        The registered estimator class the file names.
    state : ModelState
        Its decoded state (attributes, history, weights as tensors).

    Raises
    ------
    FormatError
        A ``ValueError`` naming the first attribute that is missing, of the wrong
        kind, or inconsistent with the others or with the network's weights (or
        ``num_layers``, where it is not the weights' count of layers).
    """
    attributes = state.attributes
    _check_present(cls, attributes)
    _check_kinds(attributes)
    sizes = cls._network_sizes(state.weights)
    _check_depth(cls, state.params, sizes)
    _check_inputs(attributes, sizes)
    _check_features(attributes)
    _check_settings(cls, attributes)
    _check_outputs(cls, attributes, sizes.n_outputs)
    _check_branches(attributes, sizes)
    _check_history(attributes, state.history)
    _check_weights(state.weights)
