"""SequenceScaler: one scale per feature, pooled over every timestep."""

import math
import warnings
from functools import partial
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._compat.sklearn import StrOptions, fit_context
from .._param_validation import PlainParamsMixin, plain_value
from ..data.containers import DENSE_FORMS, map_sequences
from ..data.streaming import iter_row_chunks
from ..data.validation import validate_sequences
from ._fitted_state import fitting
from ._scaler_statistics import (
    check_finite_input,
    check_finite_statistics,
    constant_features,
    handle_zeros_in_scale,
    in_memory_statistics,
    streamed_statistics,
)
from ._table_output import SetOutputMixin, fitted_on_a_table, table_output

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # numpy < 2
    from numpy import byte_bounds

__all__ = ["SequenceScaler"]


def _affine(values, shift, factor, low, inverse):
    """``(values - shift) * factor + low`` (or its inverse), in place. Module-level, so
    a store mapped with it pickles (to a parallel search's workers).

    The shift comes first: each step is stored in ``values``' dtype, and
    ``values * factor`` of float32 values far from zero (1e6 +- 1) rounds to a step of
    the large product (0.06 there), which the offset added after leaves in the result:
    values scaled with a spread of a few hundredths, minmax output outside its range.

    float16 values are computed in float32: a step may leave float16's range where the
    result does not (-6e4 minus a mean of 2e4 was -inf, not a z-score of -1.4); a chunk
    of rows at a time (a float32 copy of all of them took twice the output's memory).

    A result beyond the range of ``values``' dtype is refused: it was infinity, with only
    numpy's RuntimeWarning (a feature_range beyond float16's 65504, float32 values near
    3e38, the inverse of a value far outside the fitted data). Overflow is caught by
    numpy's floating-point flags, which cost no pass over the output.
    """
    try:
        with np.errstate(over="raise"):
            return _affine_steps(values, shift, factor, low, inverse)
    except FloatingPointError:
        dtype = values.dtype
        fix = ("cast X to a wider float dtype first (X.astype(np.float64))"
               if dtype != np.float64 else "divide X by a constant first and refit")
        raise ValueError(
            f"SequenceScaler: the {'inverse_' if inverse else ''}transformed values are "
            f"beyond the range of {dtype} (largest {float(np.finfo(dtype).max):g}), which "
            f"would make them infinity; {fix} (or, with method='minmax', pass a "
            "narrower feature_range)."
        ) from None


def _affine_steps(values, shift, factor, low, inverse):
    """The steps of :func:`_affine`, in place, float16 computed in float32."""
    if values.dtype == np.float16:
        for _, rows in iter_row_chunks(values):  # views of values: scaled in place
            rows[...] = _affine_steps(rows.astype(np.float32), shift, factor, low, inverse)
        return values
    if inverse:
        values -= low
        values /= factor
        values += shift
    else:
        values -= shift
        values *= factor
        values += low
    return values


def _finite_float(value):
    """``value`` as a float where it is a finite real number (not a bool), else None.

    ``np.isfinite`` refused a Fraction, and a Python int beyond int64 (``10**20``), with
    numpy's bare "ufunc 'isfinite' not supported"; ``float`` reads any Real, and fails
    only on an int beyond float64's range (``10**400``), which is no finite bound here.
    """
    if not isinstance(value, Real) or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _scalable_in_place(sequences):
    """The ragged ``sequences``, each copied where scaling it in place would fail or
    scale some values twice.

    That is a read-only sequence (a DataFrame's under pandas' copy-on-write, a memory
    map), whose in-place scaling was numpy's bare "output array is read-only"; and one
    whose memory overlaps another's: the same array twice in the list (a sample drawn
    twice) or overlapping windows cut as views of one series, whose shared values were
    scaled once per sequence holding them, silently. Byte ranges that overlap are taken
    to share memory (strided views may interleave without sharing a value; they are
    copied too, which costs only the copy).
    """
    sequences = list(sequences)
    bounds = [byte_bounds(seq) for seq in sequences]
    end = None  # the furthest byte of the sequences kept so far, in order of their start
    for i in sorted(range(len(sequences)), key=lambda i: bounds[i][0]):
        low, high = bounds[i]
        if not sequences[i].flags.writeable or (end is not None and low < end):
            sequences[i] = sequences[i].copy()
        else:
            end = high if end is None else max(end, high)
    return sequences


class SequenceScaler(PlainParamsMixin, OneToOneFeatureMixin, SetOutputMixin, TransformerMixin,
                     BaseEstimator):
    """Scale each per-timestep feature using statistics over all timesteps.

    Statistics pool every timestep of every training sequence, so a feature keeps a single
    scale across time (unlike ``StandardScaler`` on a flattened 3D array, which would scale
    every timestep separately). For 2D input of univariate sequences all values form one
    feature. Output has the container form of the input; ragged input stays ragged.
    Float input keeps its dtype (float16, float32 or float64; the statistics are
    computed in float64), other numbers become float64. NaN and infinity are refused
    with a ValueError (``StandardScaler`` ignores NaN): impute missing values first.
    After a fit on 2D input, ``set_output(transform="pandas")`` (or ``"polars"``, or
    ``sklearn.set_config``) wraps 2D output in a DataFrame; 3D and ragged sequences,
    which no table holds, keep their form under any output setting, and after a fit
    on them 2D output stays an array too (the fit saw no columns to name).

    A :class:`~sklstm.data.store.SequenceStore` is streamed:
    ``fit`` computes the statistics in one pass over all of it, a chunk at a time
    (exact, not a sample), and ``transform`` returns a view of the store that scales
    each batch when it is read, so the data are never held in memory. (A bare
    memory-mapped array is scaled in memory, as any array: wrap it with
    ``SequenceStore.from_array`` to stream it through a Pipeline.)

    Parameters
    ----------
    method : {"standard", "minmax"}, default="standard"
        ``"standard"`` removes the mean and divides by the standard deviation,
        ``"minmax"`` maps each feature onto ``feature_range``.
    feature_range : tuple (min, max), default=(0, 1)
        Target range of ``method="minmax"``; a list or a 1D array of two numbers too.
    copy : bool, default=True
        If False, scale float input in place where possible: read-only input, and
        sequences of a list that share memory with another (the same array twice,
        overlapping views of one series), are scaled in a copy. A transform refused
        (values scaled beyond the range of their dtype) may leave X partly scaled.

    Attributes
    ----------
    mean_, var_ : ndarray of shape (n_sequence_features,)
        Per-feature mean and variance (``method="standard"``).
    data_min_, data_max_ : ndarray of shape (n_sequence_features,)
        Per-feature minimum and maximum (``method="minmax"``).
    scale_ : ndarray of shape (n_sequence_features,)
        Per-feature scale: the standard deviation values are divided by
        (``method="standard"``; 1 for constant features), or the factor they are
        multiplied by, the width of ``feature_range`` over the data's range
        (``"minmax"``; the width of ``feature_range`` for constant features).
    min_ : ndarray of shape (n_sequence_features,)
        Per-feature offset added after scaling (``method="minmax"``).
    n_features_in_ : int
        Width of 2D input, else the number of features per timestep.
    feature_names_in_ : ndarray of str
        Column names, only when fitted on a DataFrame, or a list of DataFrames (one
        per sequence), with string column names.
    n_sequence_features_ : int
        Number of features per timestep (1 for 2D input).
    n_timesteps_seen_ : int
        Total number of timesteps used to compute the statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm.preprocessing import SequenceScaler
    >>> X = [np.array([[0.0, 10.0], [2.0, 10.0]]), np.array([[4.0, 10.0]])]
    >>> scaler = SequenceScaler().fit(X)
    >>> scaler.mean_, scaler.scale_
    (array([ 2., 10.]), array([1.63299316, 1.        ]))
    >>> [seq[:, 0].round(3) for seq in scaler.transform(X)]
    [array([-1.225,  0.   ]), array([1.225])]
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"standard", "minmax"})],
        "feature_range": [tuple, list, np.ndarray],
        "copy": ["boolean"],
    }

    def __init__(self, method="standard", feature_range=(0, 1), copy=True):
        self.method = method
        self.feature_range = feature_range
        self.copy = copy

    def _feature_range(self):
        """``feature_range`` as two plain numbers; the rule no constraint can state."""
        fr = self.feature_range
        # an array is a valid range (np.array([0, 1])), but a 0-d one has no len
        pair = getattr(fr, "ndim", 1) == 1 and len(fr) == 2
        values = [_finite_float(plain_value(v)) for v in fr] if pair else []
        if not (values and None not in values and values[0] < values[1]):
            raise ValueError(
                f"The 'feature_range' parameter of SequenceScaler must be (min, max) of "
                f"finite numbers with min < max. Got {fr!r} instead."
            )
        return values

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the per-feature statistics.

        Parameters
        ----------
        X : sequence data
            3D array, 2D array/DataFrame of univariate sequences or ragged list.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceScaler
            The fitted scaler.
        """
        # checked whatever the method: a bad feature_range is an error in any case
        feature_range = self._feature_range()
        # (a refit refused for its statistics left the new feature count beside the old
        # fit's scales: transform broadcast them, or failed on a missing mean_)
        with fitting(self):
            # integers are read as float64 a chunk at a time by the statistics (as a
            # float64 copy of all of X, validation held 2 times int32 X)
            data, form = validate_sequences(self, X, reset=True, stream=True,
                                            dtype="numeric")
            self._fitted_on_store = form == "store"  # transform returns a view of a store
            # an overflow (values beyond about 1e154) is reported in words by
            # _set_statistics
            with np.errstate(over="ignore", invalid="ignore"):
                if form == "store":
                    statistics = streamed_statistics(data, self.n_sequence_features_)
                else:
                    statistics = in_memory_statistics(data, form, self.n_sequence_features_)
                    # (a store's chunks are checked as they are read)
                    check_finite_input(data, form, *statistics[3:])
            self._set_statistics(*statistics, feature_range)
        return self

    def _set_statistics(self, n_timesteps, mean, var, data_min, data_max, feature_range):
        n_features = len(mean)
        # the other method's statistics, left by an earlier fit, describe no fit of this one
        for name in ("mean_", "var_", "data_min_", "data_max_", "min_"):
            vars(self).pop(name, None)
        self.n_timesteps_seen_ = n_timesteps
        if self.method == "standard":
            check_finite_statistics(n_features, mean=mean, variance=var)
            self.mean_, self.var_ = mean, var
            self.scale_ = handle_zeros_in_scale(np.sqrt(self.var_),
                                                 constant_features(n_timesteps, mean, var))
        else:
            with np.errstate(over="ignore"):  # reported in words
                data_range = data_max - data_min
            check_finite_statistics(n_features, range=data_range)
            low, high = feature_range
            with np.errstate(over="ignore", invalid="ignore"):  # reported in words
                scale = (high - low) / handle_zeros_in_scale(data_range)
                offset = low - data_min * scale
            if not np.isfinite([scale, offset]).all():  # (NaN output, silently)
                raise ValueError(f"SequenceScaler: feature_range={tuple(feature_range)} is "
                                 "too wide for float64 arithmetic; pass a narrower one.")
            self.data_min_, self.data_max_, self.scale_, self.min_ = (data_min, data_max,
                                                                      scale, offset)

    def _affine_params(self):
        """``shift``, ``factor`` and ``low`` of :func:`_affine` for the fitted statistics
        (of the method fitted: ``method`` set since, without a fit, left them missing)."""
        if hasattr(self, "mean_"):
            return {"shift": self.mean_, "factor": 1.0 / self.scale_, "low": 0.0}
        # min_ = low - data_min_ * scale_: low from the fitted attributes, not from
        # feature_range, which set_params may have changed since
        return {"shift": self.data_min_, "factor": self.scale_,
                "low": self.min_ + self.data_min_ * self.scale_}

    def _apply(self, X, inverse):
        check_is_fitted(self)
        scale = partial(_affine, **self._affine_params(), inverse=inverse)
        data, form = validate_sequences(self, X, reset=False, copy=self.copy, stream=True)
        if form == "store":  # scaled when a batch is read
            return data.map(scale)
        if form in DENSE_FORMS and not data.flags.writeable:
            # a read-only view of the input (a DataFrame under pandas' copy-on-write, a
            # read-only memmap) cannot be scaled in place, whatever copy says
            data = data.copy()
        elif form not in DENSE_FORMS and not self.copy:
            # (with copy=True every sequence is a copy of its own already)
            data = _scalable_in_place(data)

        # in place: the data is already a copy unless copy=False
        return map_sequences(scale, data, form)

    def transform(self, X):
        """Scale sequences with the fitted statistics.

        Parameters
        ----------
        X : sequence data
            Same form options as in :meth:`fit`.

        Returns
        -------
        X_scaled : sequence data
            Scaled data in the container form of ``X``.
        """
        return table_output(self, self._apply(X, inverse=False))

    def inverse_transform(self, X):
        """Undo :meth:`transform`.

        Parameters
        ----------
        X : sequence data
            Scaled data.

        Returns
        -------
        X_original : sequence data
            Data on the original scale, in the container form of ``X``.
        """
        if getattr(X, "ndim", None) == 2 and hasattr(X, "set_axis"):
            # nor refuse a DataFrame's columns not named as in fit: integer names are none
            X = X.set_axis(range(X.shape[1]), axis="columns")
        with warnings.catch_warnings():
            # X is usually transform's output: an array (set_output's default) after a fit
            # on a DataFrame, a DataFrame (set_output="pandas") after a fit on an array.
            # scikit-learn's scalers check no feature names here, so no cause to warn
            warnings.filterwarnings(
                "ignore", message="X (does not have valid|has) feature names")
            return self._apply(X, inverse=True)

    @available_if(fitted_on_a_table)
    def get_feature_names_out(self, input_features=None):
        """Output feature names, where the output is a table (fitted on 2D input).

        Offered before fitting and after fitting on 2D input in memory (univariate
        sequences, one column per timestep), where ``set_output(transform="pandas")``
        wraps the output in a DataFrame; not after fitting on 3D or ragged sequences
        or on a store, which are returned in their own form whatever the output
        setting.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; None uses ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        ndarray of str
            The input feature names (the scaler maps each column onto itself).
        """
        return super().get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
