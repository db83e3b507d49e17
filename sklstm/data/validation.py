"""Validation of sequence input: the one front end of every estimator and transformer.

:func:`validate_sequences` checks ``X`` once and keeps one set of fitted attributes
on whoever calls it:

* ``n_features_in_``: scikit-learn's meaning, the width of 2D input, else the
  features per timestep (1 for token ids);
* ``n_sequence_features_``: features per timestep, whatever the form (1 for 2D
  input and token ids);
* ``feature_names_in_``: column names of a 2D DataFrame, or of the DataFrames of a
  list of sequences (removed after a fit on input without them);
* ``_fitted_form``: ``"2d"``, ``"sequences"`` (3D or ragged) or ``"tokens"``.

What a fitted estimator or transformer accepts (one rule for both): any form whose
features per timestep match ``n_sequence_features_``. A 2D array always holds
univariate sequences ``(n_samples, n_timesteps)``; after a fit on 2D input its width
must equal ``n_features_in_`` (scikit-learn's rule for 2D data), after a fit on 3D
or ragged input it is accepted when that fit had one feature per timestep. 3D and
ragged input may have any number of timesteps. The sequences of ragged input are
checked by :func:`~sklstm.data.ragged.check_ragged`.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from sklearn.utils.validation import FLOAT_DTYPES, check_array, validate_data

from .._nullable import as_array, masked_as_nan, pandas_na_as_nan
from ._feature_counts import other_width_hint, record_or_check, record_store
from .columns import first_of_same_columns, record_or_check_columns
from .containers import DENSE_FORMS, RAGGED_FORMS, restore_container, sequence_form
from .input_errors import (
    check_array_error,
    feature_count_error,
    no_samples_error,
    sparse_error,
    time_values_error,
    token_table_error,
    wrong_form_error,
)
from .ragged import check_ragged, index_labels, sequence_name
from .store import SequenceStore
from .store_files import empty_sequences_error
from .vocabulary import without_padding

__all__ = ["as_streamed", "check_ragged", "feature_count_error", "host_arrays",
           "no_samples_error", "validate_sequences"]


def _token_sequences(X, estimator_name, padding_idx, reset):
    """Per-sample 1D int64 id arrays without their padding ids
    (:func:`~sklstm.data.vocabulary.without_padding`); a fit warns of padding ids
    between tokens."""
    given = X  # (a DataFrame's column names say where a bad cell is)
    if hasattr(X, "iloc"):
        X = as_array(X)
    if sequence_form(X) in RAGGED_FORMS:
        rows = list(X)  # (check_ragged reads each: a None named as None)
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(
                f"Token input must be a padded 2D array (n_samples, n_timesteps) or a list "
                f"of 1D id sequences; got a {arr.ndim}D array with shape {arr.shape}."
                + (" For a single sequence pass [ids], a list of one." if arr.ndim == 1
                   else "")
            )
        error = token_table_error(given, arr, padding_idx)
        if error:  # its rows would be refused as "non-numeric" or "not integers"
            raise error
        rows = list(arr) if arr.dtype != object else [as_array(x) for x in X]  # as given
    if not rows:
        raise no_samples_error(estimator_name, np.shape(X))
    labels = index_labels(given)
    rows = check_ragged(rows, ensure_all_finite=False, token_ids=True, labels=labels)
    return without_padding(rows, padding_idx, reset, name=partial(sequence_name, labels=labels))


def _numeric(X, check, *args, **kwargs):
    """``check(*args, **kwargs)``, its errors about ``X``'s values in words naming X and the fix."""
    try:
        return check(*args, **kwargs)
    except ValueError as exc:
        error = check_array_error(exc, X)
        if error is None:
            raise
        raise error from exc


def _check_not_empty(estimator_name, shape, form):
    """Refuse a 2D or 3D ``X`` of ``shape`` with no sample, timestep or feature, in the
    package's wording, before scikit-learn converts it (whose wording of a 3D array
    differs, and whose conversion of an empty DataFrame fails in numpy)."""
    if shape[0] == 0:
        raise no_samples_error(estimator_name, shape)
    if 0 in shape[1:]:
        raise empty_sequences_error("X", shape, dense_2d=form == "2d")


def _dense(estimator, X, form, reset, check_params):
    """Validate a 2D or 3D array; return it and its features per timestep."""
    # not np.shape: it dispatches through __array_function__, which an array-like may refuse
    array = X if hasattr(X, "shape") else np.asarray(X)
    _check_not_empty(type(estimator).__name__, array.shape, form)
    error = time_values_error(array)  # (check_array read them as nanoseconds, silently)
    if error is not None:
        raise error
    fields = getattr(getattr(X, "dtype", None), "names", None)
    if fields:  # (numpy's "Cannot cast array data from dtype([...])" names no fix)
        raise TypeError(
            f"X has a structured dtype with the fields {', '.join(fields)}; sequences hold "
            "plain numbers. Pass numpy.lib.recfunctions.structured_to_unstructured(X): "
            "one feature per field.")
    X = pandas_na_as_nan(X)  # (check_array reads None as NaN, not pd.NA; a list's objects)
    if form == "2d" and (reset or estimator._fitted_form == "2d"):
        # validate_data keeps scikit-learn's bookkeeping of 2D data: n_features_in_
        # is the width, feature_names_in_ the columns of a DataFrame
        try:
            data = _numeric(X, validate_data, estimator, X, reset=reset, **check_params)
        except ValueError as exc:
            if reset or "features, but" not in str(exc):
                raise
            # (2D columns must match, as in scikit-learn; the network reads any length)
            raise ValueError(f"{exc}{other_width_hint(estimator.n_features_in_)}") from None
        return _objects_as_numbers(estimator, X, data, check_params), 1
    data = _numeric(X, check_array, X, allow_nd=True, input_name="X", estimator=estimator,
                    **check_params)
    data = _objects_as_numbers(estimator, X, data, check_params)
    return data, 1 if form == "2d" else data.shape[2]


def _objects_as_numbers(estimator, X, data, check_params):
    """``data`` that ``dtype="numeric"`` left objects, as numbers, or refused in words.

    scikit-learn converts an array of objects, but not a DataFrame with a categorical
    column: text categories passed a SequencePadder as text, and failed a
    SequenceScaler's or SequenceResampler's fit with numpy's "could not convert string to
    float". (check_array of the objects as an array converts them, as it does for X.)
    """
    if check_params["dtype"] != "numeric" or data.dtype != object:
        return data
    return _numeric(X, check_array, data, allow_nd=True, input_name="X", estimator=estimator,
                    **check_params)


def host_arrays(X):
    """Torch tensors (``X``, the sequences of a list, 1D object array, Series or nested
    tensor, which is read as that list; the estimators' ``y`` too) as the numpy arrays
    they hold; anything else as it is. scikit-learn's checks read a tensor through
    ``__array__``, which torch refuses for one that requires grad, lives on a GPU or is
    nested, and numpy has no bfloat16 (read as float32, which holds every value exactly).
    """
    X = X.unbind() if getattr(X, "is_nested", False) else X  # (strided or jagged layout)
    if isinstance(X, (list, tuple)) and any(isinstance(seq, torch.Tensor) for seq in X):
        return [host_arrays(seq) for seq in X]
    if (getattr(X, "ndim", None) == 1 and getattr(X, "dtype", None) is np.dtype(object)
            and any(isinstance(seq, torch.Tensor) for seq in X)):
        # (a 1D object array or a Series, whose labels name a bad sequence, kept one)
        return X.map(host_arrays) if hasattr(X, "map") else restore_container(
            [host_arrays(seq) for seq in X], "object")
    if not isinstance(X, torch.Tensor):
        return X
    X = X.detach().cpu()
    return (X.float() if X.dtype == torch.bfloat16 else X).numpy()


def as_streamed(X, tokens=False):
    """``X`` wrapped in a :class:`SequenceStore` when it is a memory-mapped 2D or 3D
    array of numbers, or with ``tokens`` a 2D one of integers (for estimators, which
    return predictions, not ``X``'s form); anything else as it is.

    Token ids of another dtype or shape stay an array, refused in the words of arrays
    (as a store: "X is a SequenceStore", a store the user never made)."""
    if isinstance(X, np.memmap) and (
            X.ndim == 2 and X.dtype.kind in "iu" if tokens else
            X.ndim in (2, 3) and X.dtype.kind in "biuf"):
        return SequenceStore.from_array(X)
    return X


def validate_sequences(estimator, X, *, reset, tokens=False, padding_idx=None,
                       dtype=FLOAT_DTYPES, ensure_all_finite=True, allow_1d=False, copy=False,
                       stream=False):
    """Validate sequence input once and set or check the fitted feature bookkeeping.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator or transformer being fitted (``reset=True``) or used.
    X : array-like, DataFrame or list of array-like
        Sequence data in one of the forms of :mod:`sklstm.data.containers`, or token
        ids when ``tokens``.
    reset : bool
        True in ``fit``, False afterwards.
    tokens : bool, default=False
        ``X`` holds integer token ids: a padded 2D array or a list of 1D arrays.
    padding_idx : int or None, default=None
        Token id removed from padded token rows.
    dtype, ensure_all_finite, copy
        As in :func:`sklearn.utils.check_array` (numeric input).
    allow_1d : bool, default=False
        Accept a list of 1D sequences (token ids for a transformer).
    stream : bool, default=False
        The caller reads a :class:`~sklstm.data.store.SequenceStore` by batches: a
        store is returned as it is with form ``"store"``, its values unread.
        Otherwise a store is refused with a TypeError saying how to load it.

    Returns
    -------
    data : ndarray or list of ndarray
        The 2D or 3D array for forms "2d" and "3d"; one array per sample for "list"
        and "object"; one 1D int64 array of ids per sample, padding removed, for
        "tokens".
    form : str
        "2d", "3d", "list", "object", "tokens" or "store".
    """
    name = type(estimator).__name__
    if isinstance(X, SequenceStore):
        record_store(estimator, X, reset, tokens, stream)
        record_or_check_columns(estimator, reset, X)  # (a store has no column names)
        return X, "store"
    error = sparse_error(name, X)  # (a list of them failed inside the NaN check)
    if error is not None:
        raise error
    X = masked_as_nan(host_arrays(X))
    if tokens:
        data = _token_sequences(X, name, padding_idx, reset)
        record_or_check_columns(estimator, reset, data)  # (a list: no names)
        record_or_check(estimator, reset, "tokens", 1, "tokens")
        return data, "tokens"
    form = sequence_form(X)
    check_params = {"dtype": dtype, "ensure_all_finite": ensure_all_finite, "copy": copy}
    if form in DENSE_FORMS:
        data, n_features = _dense(estimator, X, form, reset, check_params)
        if form != "2d" or not (reset or estimator._fitted_form == "2d"):
            # (validate_data did it of 2D data read by scikit-learn's rule)
            record_or_check_columns(estimator, reset, data)  # (an array: no names)
        record_or_check(estimator, reset, "2d" if form == "2d" else "sequences",
                        n_features, form, data.shape)
        return data, form
    if form not in RAGGED_FORMS:
        raise wrong_form_error(form, X)
    if len(X) == 0:
        raise no_samples_error(name)
    first = first_of_same_columns(X)
    data = check_ragged(X, allow_1d=allow_1d, ensure_all_finite=ensure_all_finite)
    data = _as_dtype(data, dtype, copy)
    n_features = data[0].shape[1] if data[0].ndim == 2 else 1
    # (first: a TypeError about the names leaves a fitted estimator as it was)
    record_or_check_columns(estimator, reset, first)
    record_or_check(estimator, reset, "sequences", n_features, form, data[0].shape)
    return data, form


def _as_dtype(sequences, dtype, copy):
    """``sequences`` in ``dtype`` (the first of a list for those in none of them); copies
    if asked. (The dtypes allowed are read once: asked of each sequence, they took a
    tenth of a scaler's transform of 100k short sequences.)"""
    if dtype == "numeric" or dtype is None:
        kept, target = None, None
    elif isinstance(dtype, (list, tuple)):
        kept, target = {np.dtype(d) for d in dtype}, np.dtype(dtype[0])
    else:
        target = np.dtype(dtype)
        kept = {target}
    out = []
    for seq in sequences:
        to = seq.dtype if kept is None or seq.dtype in kept else target
        out.append(np.array(seq, dtype=to) if copy else seq if to == seq.dtype
                   else seq.astype(to))
    return out
