"""Parsing of sequence input shared by the estimators and the transformers.

Sequence data arrives as a 3D array ``(n_samples, n_timesteps, n_features)``, a
2D array or DataFrame ``(n_samples, n_timesteps)`` of univariate sequences, or a
ragged list (or 1D object array) of per-sample ``(n_timesteps_i, n_features)``
arrays (1D arrays for token ids). The helpers here name the container form,
validate ragged sequences (every error names the bad sequence), cut and pad
sequences, and take ragged data apart and back together so transformers return
the form they were given. :mod:`sklstm.sequences` (the estimators' one-time
conversion) and :mod:`sklstm.preprocessing` both build on them.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import FLOAT_DTYPES, check_array, validate_data

DENSE_KINDS = ("3d", "2d")
RAGGED_KINDS = ("list", "object")


def sequence_kind(X):
    """Name the container form of ``X``.

    Returns "3d", "2d" (also DataFrames and sparse matrices), "list" (a list or
    tuple of sequences that do not stack to one array, or that are arrays
    themselves), "object" (a 1D object array) or "<k>d" for other dimensions.
    """
    if isinstance(X, (list, tuple)):
        if not X or any(isinstance(x, np.ndarray) or hasattr(x, "iloc") for x in X):
            return "list"
        try:
            X = np.asarray(X)
        except ValueError:  # nested lists of unequal lengths are ragged sequences
            return "list"
        if X.dtype == object:
            return "list"
    ndim = getattr(X, "ndim", None)
    if ndim is None:
        X = np.asarray(X)
        ndim = X.ndim
    if ndim == 1 and getattr(X, "dtype", None) is np.dtype(object):
        return "object"
    return f"{ndim}d"


def no_samples_error(estimator_name):
    """The error for a list holding no sequence, worded as scikit-learn's."""
    return ValueError(
        f"Found array with 0 sample(s) while a minimum of 1 is required by "
        f"{estimator_name}. Pass at least one sequence."
    )


def feature_count_error(n_features, estimator_name, expected):
    """The error for data whose feature count differs from the fitted one."""
    return ValueError(
        f"X has {n_features} features, but {estimator_name} is expecting "
        f"{expected} features as input."
    )


def check_ragged(items, *, allow_1d=False, ensure_all_finite=True):
    """Validate per-sample sequences; every error names the bad sequence.

    Parameters
    ----------
    items : iterable of array-like
        One ``(n_timesteps_i, n_features)`` array per sample, or 1D arrays when
        ``allow_1d`` (token ids).
    allow_1d : bool, default=False
        Accept 1D sequences; all sequences must still have the same ``ndim``.
    ensure_all_finite : bool, default=True
        Reject NaN and infinity.

    Returns
    -------
    list of ndarray
        The sequences as arrays, dtypes untouched.
    """
    checked = []
    for i, seq in enumerate(items):
        seq = np.asarray(seq)
        if seq.dtype.kind not in "biuf":
            raise TypeError(
                f"Sequence {i} of X has non-numeric dtype {seq.dtype}; sequences must "
                "hold numbers (encode categories first, or use embedding_dim for token ids)."
            )
        if seq.ndim not in ((1, 2) if allow_1d else (2,)):
            raise ValueError(
                f"Sequence {i} of X has shape {seq.shape}; each sequence in a list must "
                "be 2D (n_timesteps, n_features)"
                + (" or 1D token ids" if allow_1d else "")
                + ". Reshape a univariate sequence with seq.reshape(-1, 1)."
            )
        if seq.shape[0] == 0:
            raise ValueError(
                f"Sequence {i} of X is empty (0 timesteps); every sequence needs at "
                "least one timestep. Remove it together with its target."
            )
        first = checked[0] if checked else seq
        if seq.ndim != first.ndim:
            raise ValueError(
                f"Sequence {i} of X has shape {seq.shape} but sequence 0 has shape "
                f"{first.shape}; all sequences must have the same number of dimensions."
            )
        if seq.shape[1:] != first.shape[1:]:
            raise ValueError(
                f"Sequence {i} of X has {seq.shape[1]} features but sequence 0 has "
                f"{first.shape[1]}; all sequences must have the same number of features."
            )
        if ensure_all_finite and seq.dtype.kind == "f" and not np.isfinite(seq).all():
            raise ValueError(f"Input X contains NaN or infinity in sequence {i}.")
        checked.append(seq)
    return checked


def keep_steps(seq, n_steps, which="last", axis=0):
    """Keep at most ``n_steps`` timesteps along ``axis``: the last or the first ones.

    Returns a view; ``n_steps=None`` keeps everything.
    """
    if n_steps is None or seq.shape[axis] <= n_steps:
        return seq
    cut = slice(-n_steps, None) if which == "last" else slice(None, n_steps)
    return seq[(slice(None),) * axis + (cut,)]


def pad_sequences(items, length=None, *, value=0, dtype=None, padding="post", keep="last"):
    """Stack sequences into one array of ``length`` timesteps.

    Parameters
    ----------
    items : list of ndarray
        Sequences with equal trailing shape, time on axis 0.
    length : int or None, default=None
        Output length; None is the longest sequence.
    value : scalar, default=0
        Fill value of the padding.
    dtype : dtype or None, default=None
        Output dtype; None is the common dtype of ``items`` and ``value``.
    padding : {"post", "pre"}, default="post"
        Pad after or before each sequence.
    keep : {"last", "first"}, default="last"
        Which timesteps of longer sequences to keep.

    Returns
    -------
    ndarray of shape (n_samples, length, ...)

    Examples
    --------
    >>> import numpy as np
    >>> pad_sequences([np.array([1, 2, 3]), np.array([4])], 2, padding="pre")
    array([[2, 3],
           [0, 4]])
    """
    if length is None:
        length = max(len(seq) for seq in items)
    if dtype is None:
        # unique dtypes only: numpy < 2 takes at most 32 arguments in result_type
        dtype = np.result_type(*{seq.dtype for seq in items}, value)
    out = np.full((len(items), length, *items[0].shape[1:]), value, dtype=dtype)
    for row, seq in zip(out, items, strict=True):
        seq = keep_steps(seq, length, keep)
        if padding == "post":
            row[: len(seq)] = seq
        else:
            row[length - len(seq):] = seq
    return out


# -- container round trip for transformers ------------------------------------
def check_sequence_data(X, *, dtype=FLOAT_DTYPES, ensure_all_finite=True, allow_1d=False,
                        copy=False, input_name="X"):
    """Validate sequence data of any form and return it with its container kind.

    Dense input (kinds "3d"/"2d") goes through :func:`sklearn.utils.check_array`
    with ``dtype``, ``ensure_all_finite`` and ``copy``; ragged input through
    :func:`check_ragged`, after which each sequence is converted to ``dtype``.
    Returns the validated dense array or list of per-sample arrays, and the kind.
    """
    kind = sequence_kind(X)
    if kind in DENSE_KINDS:
        data = check_array(X, allow_nd=True, input_name=input_name, dtype=dtype,
                           ensure_all_finite=ensure_all_finite, copy=copy)
        if kind == "3d" and 0 in data.shape:
            raise ValueError(
                f"{input_name} has shape {data.shape}; sequences need >= 1 "
                "timestep and >= 1 feature."
            )
        return data, kind
    if kind not in RAGGED_KINDS:
        raise ValueError(
            f"Expected sequence data: a 3D array (n_samples, n_timesteps, n_features), a 2D "
            f"array of univariate sequences or a list of 2D arrays; got a {kind} array. "
            f"Reshape your data, e.g. X.reshape(1, -1) for a single univariate sequence."
        )
    if len(X) == 0:
        raise ValueError(f"{input_name} contains no sequences; pass at least one sequence.")
    sequences = check_ragged(X, allow_1d=allow_1d, ensure_all_finite=ensure_all_finite)
    return [_convert(seq, dtype, copy) for seq in sequences], kind


def _convert(seq, dtype, copy):
    """``seq`` in ``dtype`` (the first of a list unless it is one of them); a copy if asked."""
    if dtype == "numeric" or dtype is None:
        target = seq.dtype
    elif isinstance(dtype, (list, tuple)):
        target = seq.dtype if seq.dtype in dtype else np.dtype(dtype[0])
    else:
        target = np.dtype(dtype)
    return np.array(seq, dtype=target) if copy else np.asarray(seq, dtype=target)


def as_sequence_list(X, **check_params):
    """Validate sequence data and split it into per-sample arrays.

    Returns ``(sequences, kind)``: one ``(n_timesteps_i, n_features)`` array per
    sample (views of dense input; 2D input gives ``(n_timesteps, 1)`` views) and
    the container kind for :func:`restore_container`. ``check_params`` go to
    :func:`check_sequence_data`.
    """
    data, kind = check_sequence_data(X, **check_params)
    if kind == "2d":
        return list(data[:, :, None]), kind
    return list(data), kind


def restore_container(sequences, kind):
    """Rebuild the container form named by ``kind`` from per-sample arrays.

    Inverse of :func:`as_sequence_list`: ``"3d"`` stacks to a 3D array, ``"2d"``
    to a 2D array of univariate sequences, ``"object"`` to a 1D object array and
    ``"list"`` to a list. Ragged input is never densified.
    """
    if kind == "3d":
        return np.stack(sequences)
    if kind == "2d":
        return np.stack([seq[:, 0] for seq in sequences])
    if kind == "object":
        out = np.empty(len(sequences), dtype=object)
        for i, seq in enumerate(sequences):  # slice assignment would broadcast equal shapes
            out[i] = seq
        return out
    return list(sequences)


def map_sequences(func, data, kind):
    """Apply ``func`` (acting on the last, feature axis) to validated sequence data."""
    if kind == "3d":
        return func(data)
    if kind == "2d":
        return func(data[:, :, None])[:, :, 0]
    return restore_container([func(seq) for seq in data], kind)


def validate_sequences(estimator, X, *, reset, **check_params):
    """Validate ``X`` for a transformer and set or check its feature bookkeeping.

    2D input goes through :func:`sklearn.utils.validation.validate_data` so that
    ``n_features_in_`` (the width) and ``feature_names_in_`` behave as in
    scikit-learn. For 3D and ragged input ``n_features_in_`` is the per-timestep
    feature count. ``n_sequence_features_`` always holds the per-timestep feature
    count (1 for 2D input and token ids).
    """
    check_params = {"dtype": FLOAT_DTYPES, "ensure_all_finite": True, **check_params}
    kind = sequence_kind(X)
    if kind == "2d" and (reset or estimator._fitted_on_2d):
        check_params.pop("allow_1d", None)
        data = validate_data(estimator, X, reset=reset, **check_params)
        if reset:
            estimator.n_sequence_features_, estimator._fitted_on_2d = 1, True
        return data, kind
    data, kind = check_sequence_data(X, **check_params)
    n_features = 1 if kind == "2d" else data[0].shape[-1] if data[0].ndim == 2 else 1
    if reset:
        estimator.n_features_in_ = estimator.n_sequence_features_ = n_features
        estimator._fitted_on_2d = False
        if hasattr(estimator, "feature_names_in_"):  # left over from an earlier 2D fit
            del estimator.feature_names_in_
    elif n_features != estimator.n_sequence_features_:
        raise feature_count_error(
            n_features, type(estimator).__name__, estimator.n_sequence_features_
        )
    return data, kind
