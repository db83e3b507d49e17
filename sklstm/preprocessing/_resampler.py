"""SequenceResampler: a coarser time resolution, every ``factor`` steps averaged."""

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._compat.sklearn import fit_context
from .._param_validation import PlainParamsMixin, integers
from ..data.containers import DENSE_FORMS, restore_container
from ..data.steps import downsample_sequences
from ..data.streaming import downsample_rows
from ..data.validation import validate_sequences
from ._fitted_state import fitting
from ._table_output import SetOutputMixin, fitted_on_a_table, table_output

__all__ = ["SequenceResampler"]


def _output_dtype(data):
    """The output's dtype: the float dtype of ``data``, else float64."""
    return data.dtype if data.dtype.kind == "f" else np.dtype(np.float64)


def _downsample_sequences(sequences, factor):
    """:func:`~sklstm.data.steps.downsample_steps` of every sequence, the windows of
    all averaged at once (one call per sequence took more than half of a transform:
    20,000 sequences of 10-300 steps, 0.93 s -> 0.41 s, medians of 3 runs of
    ``benchmarks/bench_ragged_averaging.py``), float64 for other numbers than floats
    with ``factor=1`` too (which returns the sequences themselves)."""
    return [seq.astype(_output_dtype(seq), copy=False)
            for seq in downsample_sequences(sequences, factor)]


class SequenceResampler(PlainParamsMixin, ClassNamePrefixFeaturesOutMixin, SetOutputMixin,
                        TransformerMixin, BaseEstimator):
    """Average every ``factor`` consecutive timesteps into one.

    The transformer counterpart of the estimators' ``downsample`` parameter, for a
    Pipeline step (e.g. resampling before a scaler, or searching the resolution as a
    step's parameter). A sequence of ``T`` steps becomes ``ceil(T / factor)`` steps
    long: windows start at the first step and the last one averages what is left, so
    nothing is dropped. Ragged input stays ragged, each sequence resampled on its own;
    the output has the container form of the input, and float dtype (float16, float32
    or float64; other numbers become float64); NaN and infinity are refused with a
    ValueError, as are steps whose sum passes float64's range (about 1.8e308).
    After a fit on 2D input, ``set_output(transform="pandas")`` wraps the 2D output in
    a DataFrame with columns ``sequenceresampler0, ...``; 3D and ragged sequences,
    which no table holds, keep their form under any output setting, and after a fit
    on them 2D output stays an array too.

    Use it (or ``downsample``) rather than ``seq_len`` when the whole sequence matters
    but not every step: ``seq_len`` keeps only the last (or first) steps at full
    resolution.

    Parameters
    ----------
    factor : int, default=2
        Timesteps per averaged step; 1 leaves the data unchanged.

    Attributes
    ----------
    n_features_in_ : int
        Width of 2D input, else the number of features per timestep.
    feature_names_in_ : ndarray of str
        Column names, only when fitted on a DataFrame with string column names.
    n_sequence_features_ : int
        Number of features per timestep (1 for 2D input).

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm.preprocessing import SequenceResampler
    >>> X = [np.arange(5.0).reshape(-1, 1), np.arange(2.0).reshape(-1, 1)]
    >>> [seq[:, 0] for seq in SequenceResampler(factor=2).fit_transform(X)]
    [array([0.5, 2.5, 4. ]), array([0.5])]
    """

    _parameter_constraints: dict = {"factor": [integers(1)]}

    def __init__(self, factor=2):
        self.factor = factor

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check ``X`` and record its features per timestep.

        Parameters
        ----------
        X : sequence data
            3D array, 2D array/DataFrame of univariate sequences or ragged list.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceResampler
            The fitted resampler.
        """
        with fitting(self):  # (a refit refused in validation left part of its records)
            # dtype="numeric" (here and in transform): integers are averaged in float64
            # a chunk at a time; validation's float64 copy of all of them took 2 times
            # int32 X in fit, 3 times in transform beside the output
            validate_sequences(self, X, reset=True, dtype="numeric")
        return self

    def transform(self, X):
        """Average every ``factor`` timesteps of every sequence.

        Parameters
        ----------
        X : sequence data
            Same form options as in :meth:`fit`.

        Returns
        -------
        X_resampled : sequence data
            The resampled sequences, in the container form of ``X``; 2D input gives
            a 2D array of ``ceil(n_timesteps / factor)`` columns.
        """
        check_is_fitted(self)
        data, form = validate_sequences(self, X, reset=False, dtype="numeric")
        factor = int(self.factor)
        # (float64 steps whose sum passes float64's range are refused by downsample_steps
        # and downsample_sequences)
        if form in DENSE_FORMS:
            # (integers as float64, with factor=1 too)
            rows = downsample_rows(data, factor)
            return table_output(self, rows.astype(_output_dtype(data), copy=False))
        return table_output(self, restore_container(_downsample_sequences(data, factor),
                                                    form))

    @property
    def _n_features_out(self):
        """Columns of the 2D output: the averaged steps (ClassNamePrefixFeaturesOutMixin)."""
        return -(-self.n_features_in_ // int(self.factor))

    @available_if(fitted_on_a_table)
    def get_feature_names_out(self, input_features=None):
        """Output feature names, where the output is a table (fitted on 2D input).

        Offered before fitting and after fitting on 2D input (univariate sequences, one
        column per timestep), where ``set_output(transform="pandas")`` wraps the output
        in a DataFrame; not after fitting on 3D or ragged sequences, which keep their
        form whatever the output setting.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in :meth:`fit`: every output column
            averages ``factor`` input ones.

        Returns
        -------
        ndarray of str
            ``sequenceresampler0``, ``sequenceresampler1``, ... one per averaged step.
        """
        return super().get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
