"""SequencePadder: sequences of one fixed length, padded or truncated."""

import re

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._compat.sklearn import StrOptions, fit_context
from .._param_validation import PlainParamsMixin, integers, plain_value, reals
from ..data.containers import DENSE_FORMS, sequence_form
from ..data.steps import keep_steps, pad_sequences
from ..data.validation import validate_sequences
from ._fitted_state import fitting
from ._table_output import SetOutputMixin, fitted_on_a_table, table_output

__all__ = ["SequencePadder"]

#: scikit-learn's words for 2D input of another width than in fit, by its names (a
#: DataFrame's) or its number of columns; its estimator checks match them, so the
#: padder's own error starts with them too
_NAMES_ERROR = "The feature names should match those that were passed during fit."
_WIDTH_ERROR = re.compile(r"X has \d+ features, but \w+ is expecting \d+ features as input\.")


def _fill_dtype(sequences, value):
    """The output dtype, the sequences' common one with ``value``, checked to hold
    ``value``: a fill value out of an integer or float16 range would otherwise raise
    numpy's OverflowError or become infinity."""
    # unique dtypes only: numpy < 2 takes at most 32 arguments in result_type
    dtype = np.result_type(*{seq.dtype for seq in sequences}, value)
    if dtype.kind not in "iuf":
        return dtype
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
    # compared as Python numbers (iinfo's bounds are ints): against a float16 or float32
    # bound, ``value`` would be cast to that dtype first (an overflow warning). NaN is
    # told by ``value == value``: np.isnan refuses an int beyond int64 (an integral value
    # such as 1e20 is an int for integer token ids)
    low, high = (info.min, info.max) if dtype.kind in "iu" else (float(info.min),
                                                                  float(info.max))
    if value == value and not low <= value <= high:
        raise ValueError(
            f"value={value} does not fit the {dtype} data, whose range is "
            f"[{info.min}, {info.max}]; pass a value in that range, or cast X to a wider "
            "dtype first."
        )
    return dtype


def _pad_rows(data, length, value, dtype, padding, keep):
    """:func:`~sklstm.data.steps.pad_sequences` of the rows of a 2D or 3D array (time
    on axis 1), in one assignment."""
    kept = keep_steps(data, length, keep, axis=1)
    out = np.full((len(data), length, *data.shape[2:]), value, dtype=dtype)
    steps = kept.shape[1]
    where = slice(0, steps) if padding == "post" else slice(length - steps, length)
    out[:, where] = kept
    return out


def _table_width(X):
    """The number of columns of the 2D ``X``: an array, a DataFrame, a list of lists."""
    return X.shape[1] if hasattr(X, "shape") else np.asarray(X).shape[1]


class SequencePadder(PlainParamsMixin, ClassNamePrefixFeaturesOutMixin, SetOutputMixin,
                     TransformerMixin, BaseEstimator):
    """Pad or truncate sequences to one fixed length.

    Ragged lists of ``(n_timesteps_i, n_features)`` arrays and 3D arrays become a 3D array
    ``(n_samples, length_, n_features)``; 2D input (univariate sequences) and ragged lists
    of 1D token-id arrays become a 2D array ``(n_samples, length_)``. Values and dtype are
    kept (integer token ids stay integers when ``value`` is integral); NaN and infinity
    too, as any value: the estimators refuse them, naming the sample and timestep.
    After a fit on 2D input, 2D input must have the width seen in fit (scikit-learn's
    rule for tables); pass rows of another length as a list of 1D sequences
    (``list(np.asarray(X))``), which are padded or truncated to a 2D array as well.
    After a fit on 2D input or on 1D token-id sequences, ``set_output(transform="pandas")``
    wraps the 2D output in a DataFrame with columns ``sequencepadder0,
    sequencepadder1, ...``; 3D and ragged sequences of 2D arrays, which no table holds,
    keep their form under any output setting, and after a fit on them 2D output stays
    an array too.

    Parameters
    ----------
    length : int or None, default=None
        Output length; None uses the longest sequence seen in :meth:`fit`.
    padding : {"post", "pre"}, default="post"
        Add padding after (``"post"``) or before (``"pre"``) each sequence.
    truncating : {"pre", "post"}, default="pre"
        Drop timesteps from the start (``"pre"``, keeps the most recent ones) or the end.
    value : float, default=0.0
        Fill value of the padded timesteps: a finite number or NaN, within the range of
        the data's dtype (e.g. 0 to 255 for uint8 data).

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
        try:
            return validate_sequences(
                self, X, reset=reset, dtype="numeric", ensure_all_finite=False, allow_1d=True
            )
        except ValueError as exc:
            width = (_table_width(X) if not reset and self._fitted_form == "2d"
                     and sequence_form(X) == "2d" else None)
            cause = _WIDTH_ERROR.match(str(exc))
            # (not 3D X of several features, nor another error about 2D X: text in it)
            if (width is None or width == self.n_features_in_
                    or not (cause or str(exc).startswith(_NAMES_ERROR))):
                raise
            # the shared remedy, X[:, :, None], gives a padder 3D output (refused under
            # set_output="pandas") where a 2D fit gives 2D, and fails on a DataFrame;
            # rows passed as a list of 1D sequences are padded to a 2D table. A
            # DataFrame's other columns fail scikit-learn's check of their names first
            start = f"{cause.group(0)} " if cause else f"{str(exc).rstrip()}\n"
            raise ValueError(
                f"{start}2D X holds univariate sequences, one column per timestep, as many "
                f"as in fit ({self.n_features_in_}). To pad or truncate sequences of {width} "
                f"steps to length_={self.length_} (a 2D output, as for 2D input), pass its "
                "rows as a list of 1D sequences: list(np.asarray(X)); "
                "or refit on X.") from None

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
        with fitting(self):  # (a refit refused in validation left part of its records)
            data, form = self._validate(X, reset=True)
        longest = data.shape[1] if form in DENSE_FORMS else max(len(s) for s in data)
        self.length_ = longest if self.length is None else int(self.length)
        # 1D sequences (token ids) are padded into a 2D table, which set_output wraps
        # (it was ignored: get_feature_names_out was offered after 2D input only)
        self._fitted_on_1d = form not in DENSE_FORMS and data[0].ndim == 1
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
        # a 2D or 3D array is padded whole: as a list of its rows it held a Python
        # object per sample (23 MiB beside 38 MiB of 200000 rows of 50 float32 steps)
        # and looped over them (30 times a copy's time)
        sequences = [data] if form in DENSE_FORMS else data
        value = plain_value(self.value)
        if all(seq.dtype.kind in "iu" for seq in sequences) and float(value).is_integer():
            value = int(value)  # keep integer token ids integers
        dtype = _fill_dtype(sequences, value)
        keep = "last" if self.truncating == "pre" else "first"
        if form in DENSE_FORMS:
            return table_output(self, _pad_rows(data, self.length_, value, dtype,
                                                self.padding, keep))
        # 1D token ids are 1D sequences: the output is 2D
        return table_output(self, pad_sequences(data, self.length_, value=value,
                                                dtype=dtype, padding=self.padding, keep=keep))

    @property
    def _n_features_out(self):
        """Columns of the 2D output: the timesteps (ClassNamePrefixFeaturesOutMixin)."""
        return self.length_

    @available_if(fitted_on_a_table)
    def get_feature_names_out(self, input_features=None):
        """Output feature names, where the output is a table (fitted on 2D input or
        on 1D token-id sequences).

        Offered before fitting and after fitting on 2D input (univariate sequences, one
        column per timestep) or on a list of 1D sequences (padded into a table), where
        ``set_output(transform="pandas")`` wraps the output in a DataFrame; not after
        fitting on 3D arrays or a list of 2D sequences, which are returned as 3D arrays
        whatever the output setting.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in :meth:`fit`: the output columns are
            new timesteps, not the input ones.

        Returns
        -------
        ndarray of str
            ``sequencepadder0`` to ``sequencepadder{length_ - 1}``.
        """
        return super().get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
