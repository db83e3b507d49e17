"""SequencePadder: sequences of one fixed length, padded or truncated."""

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._compat.sklearn import StrOptions, fit_context
from .._param_validation import PlainParamsMixin, integers, plain_value, reals
from ..data.containers import DENSE_FORMS
from ..data.timesteps import pad_sequences
from ..data.validation import validate_sequences

__all__ = ["SequencePadder"]


class SequencePadder(PlainParamsMixin, TransformerMixin, BaseEstimator):
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
        Fill value of the padded timesteps: a finite number or NaN.

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

    _parameter_constraints: dict = {
        "length": [integers(1), None],
        "padding": [StrOptions({"pre", "post"})],
        "truncating": [StrOptions({"pre", "post"})],
        # a bool is no fill value (True padded with 1.0); NaN is one
        "value": [reals(None, None, closed="neither"), "nan"],
    }

    def __init__(self, length=None, padding="post", truncating="pre", value=0.0):
        self.length = length
        self.padding = padding
        self.truncating = truncating
        self.value = value

    def _validate(self, X, reset):
        return validate_sequences(
            self, X, reset=reset, dtype="numeric", ensure_all_finite=False, allow_1d=True
        )

    @fit_context(prefer_skip_nested_validation=True)
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
        data, form = self._validate(X, reset=True)
        longest = data.shape[1] if form in DENSE_FORMS else max(len(s) for s in data)
        self.length_ = longest if self.length is None else int(self.length)
        return self

    def transform(self, X):
        """Pad or truncate every sequence to ``length_`` timesteps.

        Parameters
        ----------
        X : sequence data
            Same form options as in :meth:`fit`.

        Returns
        -------
        X_padded : ndarray of shape (n_samples, length, n_features) or (n_samples, length)
            Sequences of ``length_`` timesteps; 2D for 2D input and for 1D token-id sequences.
        """
        check_is_fitted(self)
        data, form = self._validate(X, reset=False)
        # rows of 2D input and 1D token ids are 1D sequences: the output is 2D
        sequences = list(data) if form in DENSE_FORMS else data
        value = plain_value(self.value)
        if all(seq.dtype.kind in "iu" for seq in sequences) and float(value).is_integer():
            value = int(value)  # keep integer token ids integers
        return pad_sequences(
            sequences, self.length_, value=value, padding=self.padding,
            keep="last" if self.truncating == "pre" else "first",
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
