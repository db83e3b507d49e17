"""Transformers for sequence data that return the container form they receive.

Sequence data is a 3D array ``(n_samples, n_timesteps, n_features)``, a 2D array or
DataFrame ``(n_samples, n_timesteps)`` of univariate sequences, or a ragged list (or 1D
object array) of per-sample ``(n_timesteps_i, n_features)`` arrays. The private helpers
below parse, validate and rebuild these forms so every transformer treats them alike.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import FLOAT_DTYPES, check_array, check_is_fitted, validate_data

_DENSE_KINDS = ("3d", "2d")


def _sequence_kind(X):
    """Name the container form of ``X``: "3d", "2d" (also DataFrames, sparse), "list"
    (ragged list/tuple), "object" (1D object array) or "<k>d" for other dimensions."""
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


def _check_sequence_data(
    X, *, dtype=FLOAT_DTYPES, ensure_all_finite=True, allow_1d=False, copy=False, input_name="X"
):
    """Validate sequence data and return it with its container kind.

    ``dtype``, ``ensure_all_finite`` and ``copy`` are passed to
    :func:`sklearn.utils.check_array`; ``allow_1d`` also accepts ragged 1D per-sample
    arrays (token ids); ``input_name`` names ``X`` in error messages. Returns the
    validated dense array (kinds "3d"/"2d") or list of per-sample arrays, and the kind.
    """
    kind = _sequence_kind(X)
    params = dict(dtype=dtype, ensure_all_finite=ensure_all_finite, copy=copy)
    if kind in _DENSE_KINDS:
        data = check_array(X, allow_nd=True, input_name=input_name, **params)
        if kind == "3d" and 0 in data.shape:
            raise ValueError(
                f"{input_name} has shape {data.shape}; sequences need >= 1 "
                "timestep and >= 1 feature."
            )
        return data, kind
    if kind not in ("list", "object"):
        raise ValueError(
            f"Expected sequence data: a 3D array (n_samples, n_timesteps, n_features), a 2D "
            f"array of univariate sequences or a list of 2D arrays; got a {kind} array. "
            f"Reshape your data, e.g. X.reshape(1, -1) for a single univariate sequence."
        )
    if len(X) == 0:
        raise ValueError(f"{input_name} contains no sequences; pass at least one sequence.")
    sequences = []
    for i, seq in enumerate(X):
        name = f"{input_name}[{i}]"
        ndim = np.ndim(seq)
        if ndim not in ((1, 2) if allow_1d else (2,)):
            raise ValueError(
                f"Sequence {name} has {ndim} dimension(s); each sequence must be a 2D array "
                f"(n_timesteps, n_features). Use seq.reshape(-1, 1) for univariate sequences."
            )
        if len(seq) == 0:
            raise ValueError(f"Sequence {name} is empty; every sequence needs >= 1 timestep.")
        seq = check_array(seq, ensure_2d=False, input_name=name, **params)
        first = sequences[0] if sequences else seq
        if seq.ndim != first.ndim or seq.shape[1:] != first.shape[1:]:
            raise ValueError(
                f"Sequence {name} has shape {seq.shape} but {input_name}[0] has shape "
                f"{first.shape}; all sequences need the same number of features."
            )
        sequences.append(seq)
    return sequences, kind


def _as_sequence_list(X, **check_params):
    """Validate sequence data and split it into per-sample arrays.

    Returns ``(sequences, kind)``: one ``(n_timesteps_i, n_features)`` array per sample
    (views of dense input; 2D input gives ``(n_timesteps, 1)`` views) and the container
    kind for :func:`_restore_container`. ``check_params`` go to
    :func:`_check_sequence_data`.
    """
    data, kind = _check_sequence_data(X, **check_params)
    if kind == "2d":
        return list(data[:, :, None]), kind
    return list(data), kind


def _restore_container(sequences, kind):
    """Rebuild the container form named by ``kind`` from per-sample arrays.

    Inverse of :func:`_as_sequence_list`: ``"3d"`` stacks to a 3D array, ``"2d"`` to a
    2D array of univariate sequences, ``"object"`` to a 1D object array and ``"list"``
    to a list. Ragged input is never densified.
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


def _validate_sequences(estimator, X, *, reset, **check_params):
    """Validate ``X`` for ``estimator`` and set or check its feature bookkeeping.

    2D input goes through :func:`sklearn.utils.validation.validate_data` so that
    ``n_features_in_`` (the width) and ``feature_names_in_`` behave as in scikit-learn.
    For 3D and ragged input ``n_features_in_`` is the per-timestep feature count.
    ``n_sequence_features_`` always holds the per-timestep feature count (1 for 2D).
    """
    check_params = {"dtype": FLOAT_DTYPES, "ensure_all_finite": True, **check_params}
    kind = _sequence_kind(X)
    if kind == "2d" and (reset or estimator._fitted_on_2d):
        check_params.pop("allow_1d", None)
        data = validate_data(estimator, X, reset=reset, **check_params)
        if reset:
            estimator.n_sequence_features_, estimator._fitted_on_2d = 1, True
        return data, kind
    data, kind = _check_sequence_data(X, **check_params)
    n_features = 1 if kind == "2d" else data[0].shape[-1] if data[0].ndim == 2 else 1
    if reset:
        estimator.n_features_in_ = estimator.n_sequence_features_ = n_features
        estimator._fitted_on_2d = False
        if hasattr(estimator, "feature_names_in_"):  # left over from an earlier 2D fit
            del estimator.feature_names_in_
    elif n_features != estimator.n_sequence_features_:
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_sequence_features_} features as input."
        )
    return data, kind


def _map_sequences(func, data, kind):
    """Apply ``func`` (acting on the last, feature axis) to validated sequence data."""
    if kind == "3d":
        return func(data)
    if kind == "2d":
        return func(data[:, :, None])[:, :, 0]
    return _restore_container([func(seq) for seq in data], kind)


def _handle_zeros_in_scale(scale):
    """Replace (near-)zero scales by 1 so constant features are left unscaled."""
    scale = scale.copy()
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    return scale


class SequenceScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale each per-timestep feature using statistics over all timesteps.

    Statistics pool every timestep of every training sequence, so a feature keeps a single
    scale across time (unlike ``StandardScaler`` on a flattened 3D array, which would scale
    every timestep separately). For 2D input of univariate sequences all values form one
    feature. Output has the container form of the input; ragged input stays ragged.

    Parameters
    ----------
    method : {"standard", "minmax"}, default="standard"
        ``"standard"`` removes the mean and divides by the standard deviation,
        ``"minmax"`` maps each feature onto ``feature_range``.
    feature_range : tuple (min, max), default=(0, 1)
        Target range of ``method="minmax"``.
    copy : bool, default=True
        If False, scale float input in place where possible.

    Attributes
    ----------
    mean_, var_ : ndarray of shape (n_sequence_features_,)
        Per-feature mean and variance (``method="standard"``).
    data_min_, data_max_ : ndarray of shape (n_sequence_features_,)
        Per-feature minimum and maximum (``method="minmax"``).
    scale_ : ndarray of shape (n_sequence_features_,)
        Per-feature scaling factor; 1 for constant features.
    min_ : ndarray of shape (n_sequence_features_,)
        Per-feature offset added after scaling (``method="minmax"``).
    n_features_in_ : int
        Width of 2D input, else the number of features per timestep.
    feature_names_in_ : ndarray of str
        Column names, only when fitted on a DataFrame with string column names.
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

    def __init__(self, method="standard", feature_range=(0, 1), copy=True):
        self.method = method
        self.feature_range = feature_range
        self.copy = copy

    def _check_params(self):
        if self.method not in ("standard", "minmax"):
            raise ValueError(f"method must be 'standard' or 'minmax', got {self.method!r}.")
        fr = self.feature_range
        valid = isinstance(fr, (tuple, list)) and len(fr) == 2
        if not (valid and all(isinstance(v, Real) for v in fr) and fr[0] < fr[1]):
            raise ValueError(f"feature_range must be (min, max) with min < max, got {fr!r}.")

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
        self._check_params()
        data, kind = _validate_sequences(self, X, reset=True)
        if kind in _DENSE_KINDS:
            values = data.reshape(-1, self.n_sequence_features_)
        else:
            values = np.concatenate(data)
        values = values.astype(np.float64, copy=False)  # float64 statistics for float32 data
        self.n_timesteps_seen_ = values.shape[0]
        if self.method == "standard":
            self.mean_, self.var_ = values.mean(axis=0), values.var(axis=0)
            self.scale_ = _handle_zeros_in_scale(np.sqrt(self.var_))
        else:
            self.data_min_, self.data_max_ = values.min(axis=0), values.max(axis=0)
            low, high = self.feature_range
            self.scale_ = (high - low) / _handle_zeros_in_scale(self.data_max_ - self.data_min_)
            self.min_ = low - self.data_min_ * self.scale_
        return self

    def _offset_scale(self):
        if self.method == "standard":
            return -self.mean_ / self.scale_, 1.0 / self.scale_
        return self.min_, self.scale_

    def _apply(self, X, inverse):
        check_is_fitted(self)
        offset, factor = self._offset_scale()
        data, kind = _validate_sequences(self, X, reset=False, copy=self.copy)

        def func(values):  # in place: the data is already a copy unless copy=False
            if inverse:
                values -= offset
                values /= factor
            else:
                values *= factor
                values += offset
            return values

        return _map_sequences(func, data, kind)

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
        return self._apply(X, inverse=False)

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
        return self._apply(X, inverse=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class SequencePadder(TransformerMixin, BaseEstimator):
    """Pad or truncate sequences to one fixed length.

    Ragged lists of ``(n_timesteps_i, n_features)`` arrays and 3D arrays become a 3D array
    ``(n_samples, length_, n_features)``; 2D input (univariate sequences) and ragged lists
    of 1D token-id arrays become a 2D array ``(n_samples, length_)``. Values and dtype are
    kept (integer token ids stay integers when ``value`` is integral).

    Parameters
    ----------
    length : int or None, default=None
        Output length; None uses the longest sequence seen in :meth:`fit`.
    padding : {"post", "pre"}, default="post"
        Add padding after (``"post"``) or before (``"pre"``) each sequence.
    truncating : {"pre", "post"}, default="pre"
        Drop timesteps from the start (``"pre"``, keeps the most recent ones) or the end.
    value : float, default=0.0
        Fill value of the padded timesteps.

    Attributes
    ----------
    length_ : int
        Resolved output length.
    n_features_in_ : int
        Width of 2D input, else the number of features per timestep.
    feature_names_in_ : ndarray of str
        Column names, only when fitted on a DataFrame with string column names.
    n_sequence_features_ : int
        Number of features per timestep (1 for 2D input and token ids).

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm.preprocessing import SequencePadder
    >>> X = [np.array([[1.0], [2.0], [3.0]]), np.array([[4.0]])]
    >>> SequencePadder().fit_transform(X)[:, :, 0]
    array([[1., 2., 3.],
           [4., 0., 0.]])
    >>> SequencePadder(length=2, padding="pre").fit_transform(X)[:, :, 0]
    array([[2., 3.],
           [0., 4.]])
    """

    def __init__(self, length=None, padding="post", truncating="pre", value=0.0):
        self.length = length
        self.padding = padding
        self.truncating = truncating
        self.value = value

    def _check_params(self):
        length = self.length
        if length is not None and not (isinstance(length, Integral) and length >= 1):
            raise ValueError(f"length must be None or a positive int, got {length!r}.")
        for name in ("padding", "truncating"):
            if getattr(self, name) not in ("pre", "post"):
                raise ValueError(f"{name} must be 'pre' or 'post', got {getattr(self, name)!r}.")
        if not isinstance(self.value, Real):
            raise TypeError(f"value must be a real number, got {self.value!r}.")

    def _validate(self, X, reset):
        return _validate_sequences(
            self, X, reset=reset, dtype="numeric", ensure_all_finite=False, allow_1d=True
        )

    def fit(self, X, y=None):
        """Resolve the output length.

        Parameters
        ----------
        X : sequence data
            3D array, 2D array/DataFrame, ragged list of 2D arrays or of 1D token ids.
        y : None
            Ignored.

        Returns
        -------
        self : SequencePadder
            The fitted padder.
        """
        self._check_params()
        data, kind = self._validate(X, reset=True)
        longest = data.shape[1] if kind in _DENSE_KINDS else max(len(s) for s in data)
        self.length_ = longest if self.length is None else self.length
        return self

    def transform(self, X):
        """Pad or truncate every sequence to ``length_`` timesteps.

        Parameters
        ----------
        X : sequence data
            Same form options as in :meth:`fit`.

        Returns
        -------
        X_padded : ndarray of shape (n_samples, length_, n_features) or (n_samples, length_)
            Fixed-length sequences; 2D for 2D input and for 1D token-id sequences.
        """
        check_is_fitted(self)
        data, kind = self._validate(X, reset=False)
        # Dense input is one block of equal-length sequences: one slice handles it all.
        sequences = [data] if kind in _DENSE_KINDS else data
        axis = 1 if kind in _DENSE_KINDS else 0
        dtype, value, length = (
            np.result_type(*(s.dtype for s in sequences)),
            self.value,
            self.length_,
        )
        if dtype.kind in "iu" and float(value).is_integer():
            value = int(value)  # keep integer token ids integers
        shape = (len(data), length, *sequences[0].shape[axis + 1 :])
        out = np.full(shape, value, dtype=np.result_type(dtype, value))
        for i, seq in enumerate(sequences):
            seq = np.moveaxis(seq, axis, 0)  # time first, samples (if any) second
            seq = seq[-length:] if self.truncating == "pre" else seq[:length]
            start = 0 if self.padding == "post" else length - len(seq)
            target = np.moveaxis(out, 1, 0) if axis else out[i]
            target[start : start + len(seq)] = seq
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
