"""The data checked against the settings, before anything trains.

What no parameter rule (:mod:`sklstm.estimators._params`) can know without the data:

* :func:`check_fit_params`: ``fit`` was given no data besides ``X`` and ``y``
  (``sample_weight``, say);
* :func:`check_sample_counts`: ``X`` and ``y`` hold as many samples, and some;
* :func:`check_column_order`: no bagging ensemble hands ``fit`` a random draw of
  ``X``'s columns, which are timesteps;
* :func:`as_targets`: ``y`` as the estimators' target checks read it, and its shape
  (no masked targets);
* :func:`check_fit_data`: all of ``fit``'s checks, for a caller that must refuse bad
  data before it starts work, without training;
* :func:`warn_unscaled`: features whose scale an LSTM learns poorly from;
* :func:`warn_one_step_rows`: a 2D ``X`` of one column given to a fitted estimator
  that learned from longer univariate sequences (one window ``X[-1]``).

Whether ``early_stopping``'s validation split can be drawn is checked where the split
is made (:func:`sklstm.training.setup.check_validation_split`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from .._compat.python import warn_at_caller
from .._compat.sklearn import bagging_column_subset, num_samples, validate_estimator_params
from .._nullable import nullable_as_numpy, object_numbers
from ..data.input_errors import target_values_error, wrong_form_error
from ..data.validation import host_arrays, no_samples_error
from ..exceptions import UnscaledInputWarning

__all__ = ["as_targets", "check_column_order", "check_finite_targets", "check_fit_data",
           "check_fit_params", "check_sample_counts", "warn_one_step_rows", "warn_unscaled"]

#: A feature's root mean square above which :func:`warn_unscaled` says to scale ``X``,
#: and the ratio of the largest to the smallest.
MAX_RMS, MAX_RMS_RATIO = 1e2, 1e3


def check_fit_params(fit_params, name, classifier):
    """Raise a TypeError when ``fit`` was given keyword arguments besides ``X`` and ``y``.

    Python's own error would name the base class (``BaseLSTM.fit()``) and no way
    on; scikit-learn's tools pass ``sample_weight`` when asked to (``cross_validate``'s
    ``params``, a stacking or voting ensemble's ``fit``), so that one is named with
    what to do instead. The estimators do not declare ``sample_weight``, so the tools
    that check for it first (``has_fit_parameter``: bagging, boosting, calibration)
    still see that it is not supported.

    Parameters
    ----------
    fit_params : dict
        The keyword arguments ``fit`` received beside ``X`` and ``y``.
    name : str
        The estimator's class name, for the message.
    classifier : bool
        Whether the estimator is a classifier, which weighs classes with its
        ``class_weight``.
    """
    if not fit_params:
        return
    names = ", ".join(map(repr, fit_params))
    message = f"{name}.fit() got unexpected keyword argument(s) {names}: it takes X and y only."
    if "sample_weight" in fit_params:
        # weights that balance the classes are what sample_weight is most often for
        # (compute_sample_weight("balanced", y)): a classifier's class_weight does that
        message += (
            " Per-sample weights are not supported; "
            + ("to balance the classes, set class_weight='balanced' (or a dict of weights "
               "per class); to weigh single samples, " if classifier else
               "to weigh samples, ")
            + "resample the training data instead (repeat the samples that should count "
            "more, e.g. with sklearn.utils.resample).")
    raise TypeError(message)


def _long_table_hint(X):
    """How to pass the DataFrame ``X`` with a MultiIndex of rows, (sample, time) say,
    as sequences: its rows are then likely timesteps, which 2D X reads as samples."""
    index = getattr(X, "index", None) if getattr(X, "ndim", None) == 2 else None
    if getattr(index, "nlevels", 1) < 2:
        return ""
    level = index.names[0] if index.names[0] is not None else 0
    return (f" X is a DataFrame with the index levels {list(index.names)}: if its rows are "
            "timesteps (long format), pass one sequence per sample, "
            f"[seq for _, seq in X.groupby(level={level!r}, sort=False)] (a list of "
            "DataFrames, in the order of y's targets).")


def _one_sequence_hint(X, n_y):
    """How to pass one 2D sequence with its one target: 2D X holds one sequence per
    row, so a ``(n_timesteps, n_features)`` array was read as that many sequences
    (prediction's warning says the same, :func:`warn_one_step_rows`)."""
    if n_y != 1 or getattr(X, "ndim", None) != 2 or getattr(X, "is_nested", False):
        return ""  # (a nested tensor's rows are its sequences, and it has no shape)
    array = "np.asarray(X)" if hasattr(X, "iloc") else "X"  # (a DataFrame's X[None] fails)
    return (f" 2D X holds one sequence per row: for one sequence of {X.shape[0]} timesteps "
            f"pass {array}[None], of shape (1, {X.shape[0]}, {X.shape[1]}).")


def check_sample_counts(X, y, name):
    """Raise a ValueError when ``X`` and ``y`` hold different numbers of samples, or none.

    Parameters
    ----------
    X : array-like or list of array-like
        The sequences.
    y : array-like
        The targets.
    name : str
        The estimator's class name, for the message.
    """
    # scikit-learn's TypeError ("Expected sequence or array-like, got <class 'map'>")
    # named neither X nor y, nor the fix: X is told what prediction and the
    # transformers tell it (a map, zip or generator: "pass list(X)")
    # a torch nested tensor (ragged sequences) has no shape to count by: its length is
    # its first size (validation reads it as the list of its sequences, host_arrays)
    nested = getattr(X, "is_nested", False)
    try:
        n_x = X.size(0) if nested else num_samples(X)
    except TypeError as exc:
        raise wrong_form_error("0d", X) from exc
    try:
        n_y = num_samples(y)
    except TypeError as exc:
        raise _not_targets_error(y) from exc
    if n_x != n_y:
        raise ValueError(
            f"{name}: X has {n_x} samples but y has {n_y}; pass one target per sequence "
            "(found input variables with inconsistent numbers of samples)."
            + _long_table_hint(X) + _one_sequence_hint(X, n_y)
        )
    if n_x == 0:  # said before y is looked at: no classes in y is the lesser news
        raise no_samples_error(name, (0,) if nested else getattr(X, "shape", (0,)))


def check_column_order(name):
    """Raise a ValueError when a bagging ensemble fits the estimator on a random draw of
    ``X``'s columns (``max_features`` below 1, ``bootstrap_features=True``).

    The columns of 2D input are timesteps (of univariate sequences or token ids; 3D
    input the ensembles refuse themselves): a draw of them, in random order and with
    repeats, would train and predict on scrambled sequences without a word.

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    """
    ensemble = bagging_column_subset()
    if ensemble is None:
        return
    raise ValueError(
        f"{name} reads the columns of 2D X as the timesteps of one sequence per row, in "
        f"order, but {type(ensemble).__name__}(max_features={ensemble.max_features!r}, "
        f"bootstrap_features={ensemble.bootstrap_features!r}) fits it on a random draw of "
        "the columns in random order, which scrambles every sequence. Bag the samples "
        "only: max_features=1.0 and bootstrap_features=False.")


def as_targets(y, objects=False):
    """``(y, shape)``: ``y`` as scikit-learn's checks can read it, a torch tensor as the
    numpy array it holds (as ``X``'s: :func:`~sklstm.data.validation.host_arrays`; torch
    refused one that requires grad, lives on a GPU or is bfloat16), and its shape as an
    array (not ``np.ndim(y)``: that would ask an array-like's ``__array_function__``);
    ragged ``y``, a masked target, a target that is not finite
    (:func:`check_finite_targets`, reading numbers among objects with ``objects``: a
    regressor's), an object that is no array (a map, a dict's values), pandas' periods
    or intervals, and dates as objects are ValueErrors naming y."""
    # pandas' nullable numbers as numpy's (pd.NA as NaN, refused placed below): classes_
    # and predictions keep the labels' values (True, 3), not scikit-learn's floats
    given = host_arrays(y)
    y = nullable_as_numpy(given)
    mask = np.ma.getmaskarray(y) if isinstance(y, np.ma.MaskedArray) else None
    if mask is not None and mask.any():
        # numpy and scikit-learn read the values under the mask: a masked target trained
        # as whatever was left there (X's masked values are NaN, refused where they are)
        first = int(np.flatnonzero(mask.reshape(len(mask), -1).any(axis=1))[0])
        raise ValueError(
            f"y is a masked array whose target of sample {first} is masked, which would "
            "train as the value under the mask; drop the samples without a target first: "
            "keep = ~np.ma.getmaskarray(y) (~np.ma.getmaskarray(y).any(axis=1) for 2D y), "
            "then fit X[keep], y[keep].data.")
    try:
        shape = np.asarray(y).shape
    except ValueError as exc:
        raise ValueError(f"y must be an array of targets, one per sequence ({exc}).") from exc
    if shape == () and not hasattr(y, "shape"):
        # an object numpy cannot read as an array (a dict's values, a string) becomes a
        # 0D array, which scikit-learn called "an array of shape ()" (a sparse matrix,
        # 0D to numpy too, is told scikit-learn's own fix, .toarray())
        raise _not_targets_error(y)
    error = target_values_error(y, labels=not objects)  # (objects: a regressor's targets)
    if error is not None:
        raise error
    # (whatever sklearn.set_config(assume_finite=True) says, as X is: a NaN target made
    # every prediction NaN, and a NaN label was called "continuous")
    check_finite_targets(given, objects)  # (given: a pandas y is told the pandas fix)
    return y, shape


def check_finite_targets(y, objects=False):
    """Refuse targets that hold NaN or infinity, naming the first sample and the fix.

    scikit-learn's check said only "Input y contains NaN." (no sample, no fix). Its
    start stays, so that code matching scikit-learn's message still matches.

    Parameters
    ----------
    y : array-like
        The targets; only numbers are looked at (pandas' nullable ones too, ``pd.NA``
        as NaN).
    objects : bool, default=False
        Whether numbers in an array of dtype object (a list holding None, a pandas
        column of dtype object) are read too, None and ``pd.NA`` as NaN: regression
        targets. A classifier's labels of that dtype are told about it in its words.

    Raises
    ------
    ValueError
        Naming the value, the first sample that holds it, how many do, and the fix.

    Examples
    --------
    >>> check_finite_targets([0.5, float("nan"), 1.0])
    Traceback (most recent call last):
    ...
    ValueError: Input y contains NaN at sample 1 (1 of 3 targets are not finite), and ...
    """
    pandas = hasattr(y, "iloc")
    y = np.asarray(nullable_as_numpy(y))
    # (numpy.isfinite refuses objects: their fix reads them as floats first)
    of = "numpy.asarray(y, dtype=float)" if y.dtype == object else "y"
    y = object_numbers(y) if objects else y
    if y.dtype.kind not in "fc" or y.ndim == 0:
        return
    bad = ~np.isfinite(y).reshape(len(y), -1).all(axis=1)
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    value = "NaN" if np.isnan(y[first]).any() else "infinity"
    # (numpy.isfinite of a pandas y holding pd.NA is a mask holding NA, which indexes
    # nothing; notna() is the pandas way where all are missing, none infinite)
    keep = ("y.notna()" if pandas and not np.isinf(y).any() else
            f"numpy.isfinite({of})") + (".all(axis=1)" if y.ndim > 1 else "")
    raise ValueError(
        f"Input y contains {value} at sample {first} ({int(bad.sum())} of {len(y)} targets "
        "are not finite), and no fit learns from a target it does not have: drop those "
        f"samples (keep = {keep}, then X[keep], y[keep]) or fill them in.")


def _not_targets_error(y):
    """The error for a ``y`` that is no array of targets: its type, and for an iterable
    (a map, a generator, a dict's values) how to make one.

    (The same hint for ``X`` is :func:`~sklstm.data.input_errors.wrong_form_error`'s.)"""
    hint = (" (pass list(y.values()) for its values)" if isinstance(y, dict) else
            " (pass list(y))" if hasattr(y, "__iter__") and not isinstance(y, str) else "")
    got = ("a 0D array" if isinstance(y, (np.ndarray, np.generic)) else
           f"a {type(y).__name__}{hint}")
    return ValueError(f"y must be an array of targets, one per sequence; got {got}.")


def warn_one_step_rows(estimator, X):
    """Warn when a fitted estimator that learned from 3D or ragged univariate sequences
    is given a 2D ``X`` of shape ``(n, 1)``, n > 1.

    2D ``X`` holds one univariate sequence per row, so ``(n, 1)`` is ``n`` sequences of
    one timestep each. That is what one window of a univariate series is, taken without
    its window axis (``X[-1]`` of :func:`~sklstm.windows.make_windows`' output): it
    would give ``n`` predictions from single steps, not one from the window. A 3D
    ``(n, 1, 1)`` says one-step sequences are meant and is not warned about.

    Parameters
    ----------
    estimator : fitted estimator
        Its ``_fitted_form`` and ``n_sequence_features_`` say what the fit saw.
    X : array-like
        The input given for prediction.
    """
    if (getattr(estimator, "_fitted_form", None) != "sequences"
            or estimator.n_sequence_features_ != 1):
        return
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) != 2 or shape[1] != 1 or shape[0] < 2:
        return
    # (a DataFrame's [] selects columns: X[None] is a KeyError there)
    array = "np.asarray(X)" if hasattr(X, "iloc") else "X"
    window = "" if hasattr(X, "iloc") else " (for the last window, X[-1:] instead of X[-1])"
    warn_at_caller(
        f"{type(estimator).__name__}: X of shape {tuple(shape)} is read as {shape[0]} "
        "sequences of one timestep each (2D X holds one sequence per row), while the fit "
        f"saw 3D or ragged sequences. For one sequence of {shape[0]} timesteps pass "
        f"{array}[None]{window}; for one-step sequences pass {array}[:, :, None], which is "
        "not warned about.")


def check_fit_data(estimator, X, y):
    """Validate ``X`` and ``y`` as ``estimator.fit`` would, without training anything.

    For callers that must refuse bad data before they start work, such as
    ``sklstm tune`` before it creates a study. ``estimator`` is not changed: the
    checks run on a clone, through the same steps as ``fit``.

    Parameters
    ----------
    estimator : BaseLSTM
        The (unfitted) estimator whose ``fit`` the data is meant for.
    X : array-like or list of array-like
        The sequences.
    y : array-like
        The targets.

    Raises
    ------
    ValueError, TypeError
        What ``fit`` would raise about the parameters or the data.
    MemoryBudgetError
        The network's weights, gradients and optimizer state alone do not fit the
        memory available (``hidden_size`` too large, say).
    """
    probe = clone(estimator)
    validate_estimator_params(probe)
    probe._prepare(X, y)


def warn_unscaled(name, rms):
    """Warn when the features' root mean squares ``rms`` are large, or far apart.

    An LSTM's gates saturate on inputs far from unit scale, and one learning rate
    serves features of every scale: on three noisy features of standard deviations
    1e4, 1 and 1e-3 the default fit scored a held-out balanced accuracy of 0.63-0.70
    over three seeds (training accuracy 1.0, converged), and 0.76-0.87 after
    :class:`~sklstm.preprocessing.SequenceScaler` (measured 2026-12-07, ``python
    benchmarks/bench_unscaled_features.py``). Every data set the defaults learned
    (digits as sequences: root mean squares up to 11, ratio 61) stays within
    :data:`MAX_RMS` and :data:`MAX_RMS_RATIO`.

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    rms : ndarray of shape (n_features,) or None
        Every feature's root mean square over the valid steps (1 for a feature of
        zeros: :meth:`~sklstm.data.timesteps.Sequences.feature_rms`); None (token ids)
        says nothing.
    """
    if rms is None:
        return
    largest, smallest = float(rms.max()), float(rms.min())
    if largest <= MAX_RMS and largest <= MAX_RMS_RATIO * smallest:
        return
    what = (f"from {smallest:.3g} to {largest:.3g}" if largest > MAX_RMS_RATIO * smallest
            else f"up to {largest:.3g}")
    warn_at_caller(
        f"{name}: the features of X have root mean squares {what}; an LSTM learns poorly "
        "from values far from unit scale (its gates saturate, and one learning rate serves "
        "every feature). Scale X first: make_pipeline(SequenceScaler(), "
        f"{name}(...)), with SequenceScaler from sklstm.preprocessing.", UnscaledInputWarning)
