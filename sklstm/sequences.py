"""Validation and one-time conversion of sequence input ``X``.

Every estimator call (``fit``, ``predict``...) goes through :func:`to_sequences`
exactly once: it checks the input, applies ``seq_len`` and returns right-padded
arrays plus per-sample lengths, ready to become tensors. Nothing downstream
looks at the user's container again.

Accepted forms of ``X``:

* 3D array-like ``(n_samples, n_timesteps, n_features)``, batch first;
* 2D array-like or DataFrame ``(n_samples, n_timesteps)``: univariate sequences;
* ragged: a list (or 1D object array) of per-sample 2D arrays
  ``(n_timesteps_i, n_features)`` of different lengths;
* token ids (when the estimator has ``embedding_dim`` set): a padded 2D integer
  array whose padding id marks padding, or a ragged list of 1D integer arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, validate_data

from ._sequence_input import (
    RAGGED_KINDS,
    check_ragged,
    feature_count_error,
    no_samples_error,
    pad_sequences,
    sequence_kind,
)
from ._sequence_input import keep_steps as _keep  # to_sequences has a keep_steps argument

__all__ = ["Sequences", "to_sequences"]


@dataclass(frozen=True)
class Sequences:
    """Validated sequence data, right-padded to a common length.

    Attributes
    ----------
    values : ndarray
        ``float32`` array ``(n_samples, n_timesteps, n_features)`` for numeric
        input, ``int64`` array ``(n_samples, n_timesteps)`` for token ids.
    lengths : ndarray of int64 or None
        True length of every sequence; ``None`` when no sequence is padded.
    n_features : int
        Features per timestep (1 for token ids).
    kind : {"2d", "3d", "ragged", "tokens"}
        The form the input arrived in.
    """

    values: np.ndarray
    lengths: np.ndarray | None
    n_features: int
    kind: str

    def __len__(self):
        return len(self.values)


def _name(estimator):
    return type(estimator).__name__


def _is_list_like(X):
    """True for containers that may hold ragged sequences."""
    return sequence_kind(X) in RAGGED_KINDS


def _items(X, estimator):
    """Per-sample arrays of a list-like ``X``; ``None`` if they stack to one array."""
    if len(X) == 0:
        raise no_samples_error(_name(estimator))
    items = [np.asarray(x) for x in X]
    first = items[0].shape
    if all(item.shape == first for item in items):
        return None
    return items


def _check_kind(estimator, kind, reset):
    """2D input means (n_samples, n_timesteps); it cannot follow a 3D fit or lead one."""
    if reset:
        estimator._fit_kind = kind
        return
    fitted_2d = getattr(estimator, "_fit_kind", kind) == "2d"
    if fitted_2d != (kind == "2d"):
        raise ValueError(
            f"{_name(estimator)} was fitted on "
            f"{'2D (n_samples, n_timesteps)' if fitted_2d else '3D or ragged'} sequences "
            f"but got {'2D' if kind == '2d' else kind} input; pass X in the same form as in fit."
        )


def _check_feature_count(estimator, n_features, reset, kind):
    _check_kind(estimator, kind, reset)
    if reset:
        estimator.n_features_in_ = n_features
        return
    if n_features != estimator.n_features_in_:
        raise feature_count_error(n_features, _name(estimator), estimator.n_features_in_)


def _dense_numeric(X, estimator, reset):
    """Validate a regular 2D or 3D numeric array; return it as 3D float32."""
    X_arr = X if hasattr(X, "iloc") else np.asarray(X)  # keep DataFrames for feature names
    ndim = len(getattr(X_arr, "shape", ()))
    if ndim == 2:
        _check_kind(estimator, "2d", reset)
        X_arr = validate_data(
            estimator, X_arr, reset=reset, dtype=[np.float32, np.float64],
            ensure_all_finite=True,
        )
        _check_feature_count(estimator, X_arr.shape[1], reset, "2d")
        return X_arr[:, :, None], "2d"
    if ndim != 3:
        raise ValueError(
            f"X must be 2D (n_samples, n_timesteps), 3D (n_samples, n_timesteps, "
            f"n_features) or a list of 2D sequences; got {ndim}D input with shape "
            f"{getattr(X_arr, 'shape', None)}. "
            + ("Reshape your data: X.reshape(1, -1) for a single sequence, "
               "X.reshape(-1, 1) for a single timestep." if ndim == 1 else "")
        )
    X_arr = check_array(
        X_arr, allow_nd=True, dtype=[np.float32, np.float64], ensure_all_finite=True,
        ensure_min_features=1, estimator=estimator, input_name="X",
    )
    if X_arr.shape[1] == 0 or X_arr.shape[2] == 0:
        raise ValueError(
            f"X has shape {X_arr.shape}: every sequence needs at least one timestep "
            "and one feature."
        )
    _check_feature_count(estimator, X_arr.shape[2], reset, "3d")
    return X_arr, "3d"


def _ragged_numeric(items, estimator, reset):
    """Validate per-sample 2D arrays; say which sequence is bad."""
    checked = check_ragged(items)
    _check_feature_count(estimator, checked[0].shape[1], reset, "ragged")
    return checked


def _token_items(X, estimator, padding_idx):
    """Per-sample 1D int64 token arrays, padding ids removed."""
    if hasattr(X, "iloc"):
        X = X.to_numpy()
    if _is_list_like(X):
        items = _items(X, estimator)
        rows = items if items is not None else list(np.asarray([np.asarray(x) for x in X]))
        padded = items is None
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(
                f"Token input must be a padded 2D array (n_samples, n_timesteps) or a list "
                f"of 1D id sequences; got a {arr.ndim}D array with shape {arr.shape}."
            )
        if arr.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) while a minimum of 1 is required by "
                f"{_name(estimator)}."
            )
        rows, padded = list(arr), True
    out = []
    for i, row in enumerate(rows):
        row = np.asarray(row)
        if row.ndim != 1:
            raise ValueError(
                f"Token sequence {i} has shape {row.shape}; token sequences must be 1D "
                "lists of integer ids."
            )
        if row.dtype.kind not in "iu" and row.size:  # np.array([]) is float: say "empty"
            raise TypeError(
                f"Token sequence {i} has dtype {row.dtype}; token ids must be integers "
                "(cast with .astype(int) if they are whole numbers)."
            )
        if row.size and row.min() < 0:
            raise ValueError(
                f"Token sequence {i} contains the negative id {row.min()}; token ids must "
                "be >= 0."
            )
        if padded and padding_idx is not None:
            row = row[row != padding_idx]
        if row.size == 0:
            raise ValueError(
                f"Token sequence {i} is empty"
                + (f" (only padding id {padding_idx})" if padded else "")
                + "; every sequence needs at least one token. Remove it with its target."
            )
        out.append(row.astype(np.int64, copy=False))
    return out


def _pad(items, pad_value, dtype):
    """Stack variable-length sequences, right-padded; lengths None if all equal."""
    lengths = np.fromiter((len(s) for s in items), dtype=np.int64, count=len(items))
    values = pad_sequences(items, value=pad_value, dtype=dtype)
    return values, (None if lengths.min() == lengths.max() else lengths)


def to_sequences(X, estimator, *, reset, seq_len=None, keep_steps="last",
                 tokens=False, padding_idx=None):
    """Validate ``X`` once and convert it to padded arrays plus lengths.

    Parameters
    ----------
    X : array-like or list of array-like
        Sequence input in one of the forms listed in the module docstring.
    estimator : BaseEstimator
        The estimator being fitted or used; receives ``n_features_in_`` (and
        ``feature_names_in_`` for DataFrames) when ``reset`` is true and is checked
        against them otherwise.
    reset : bool
        True in ``fit``, False at prediction time.
    seq_len : int or None, default=None
        Keep at most this many timesteps of every sequence.
    keep_steps : {"last", "first"}, default="last"
        Which timesteps ``seq_len`` keeps.
    tokens : bool, default=False
        Whether ``X`` holds integer token ids.
    padding_idx : int or None, default=None
        Token id that marks padding in padded token input.

    Returns
    -------
    Sequences
        The validated data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMRegressor
    >>> seqs = to_sequences([np.ones((3, 2)), np.ones((5, 2))], LSTMRegressor(),
    ...                     reset=True, seq_len=4)
    >>> seqs.values.shape, seqs.lengths.tolist()
    ((2, 4, 2), [3, 4])
    """
    if sp.issparse(X):
        raise TypeError(
            f"{_name(estimator)} does not accept sparse input: sparse matrices hold no "
            "time axis. Pass a dense array (X.toarray()) or a list of 2D sequences."
        )
    if tokens:
        items = [_keep(s, seq_len, keep_steps) for s in _token_items(X, estimator, padding_idx)]
        if reset:
            estimator.n_features_in_ = 1
            estimator._fit_kind = "tokens"
        values, lengths = _pad(items, 0 if padding_idx is None else padding_idx, np.int64)
        return Sequences(values, lengths, 1, "tokens")
    items = _items(X, estimator) if _is_list_like(X) else None
    if items is None:
        if _is_list_like(X):
            X = np.asarray([np.asarray(x) for x in X])
        values, kind = _dense_numeric(X, estimator, reset)
        values = _keep(values, seq_len, keep_steps, axis=1)
        # one copy at most: float32, C order, writable (inputs may be read-only memmaps)
        values = np.require(values, dtype=np.float32, requirements=["C", "W"])
        return Sequences(values, None, values.shape[2], kind)
    items = [_keep(s, seq_len, keep_steps) for s in _ragged_numeric(items, estimator, reset)]
    values, lengths = _pad(items, 0.0, np.float32)
    return Sequences(values, lengths, values.shape[2], "ragged")
