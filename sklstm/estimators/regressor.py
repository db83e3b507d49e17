"""LSTMRegressor: sequence regression, single or multi-output."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_array
from torch import nn

from .._compat.sklearn import StrOptions
from .._param_validation import extended_signature, integers
from ..data.input_errors import complex_error
from ..data.relative import ANCHORS, relative_sequences, warn_if_targets_in_other_units
from ..persistence._registry import register_estimator
from ..training.target_range import check_targets_in_range
from . import _docs
from ._base import BaseLSTM
from ._data_checks import as_targets


@register_estimator
@_docs.fill
class LSTMRegressor(RegressorMixin, BaseLSTM):
    """LSTM regressor for sequences, trained by skorch with mean squared error.

    Targets are 1D ``(n_samples,)`` or 2D ``(n_samples, n_outputs)`` (e.g. a
    multi-step forecast horizon); predictions have the same shape. Targets of any
    scale are learnt alike: they are standardized for training and predictions
    are mapped back (``scale_target``). Forecasts of a trending series can follow
    it past every level seen in training when made relative to each window
    (``relative``).

    Parameters
    ----------
{parameters}
    scale_target : bool, default=True
        Train on targets standardized per output (mean 0, standard deviation 1)
        and map predictions back, so ``lr``, ``tol`` and the initial weights suit
        targets in the thousands as well as around 1e-3. False trains on ``y`` as
        given (``train_loss`` is then in the units of ``y`` squared).
    relative : {None, "last", "mean"}, default=None
        Predict relative to each input sequence (reversible instance
        normalization, RevIN: Kim et al., 2022, without its division by the
        spread): subtract from every sequence its anchor per feature, the values
        of its last valid timestep (``"last"``) or their mean over its valid
        timesteps (``"mean"``); train on ``y`` minus the anchor of the target's
        own column of ``X`` (``relative_target``), and add that anchor back to
        every prediction (to each output of a 2D ``y`` alike), in ``predict``,
        ``score`` and predictions made during the fit. A network fed the
        absolute values of a trending series cannot output a level it never saw
        in training (its forecasts saturate); relative to each window it can.
        Anchors are taken per call from the steps the network reads (after
        ``downsample`` and ``seq_len``), respecting the lengths of ragged input
        (padding stays padding); ``scale_target`` then standardizes the relative
        targets. ``y`` must be in the units of column ``relative_target`` as the
        estimator receives it: a scaler fitted on ``X`` alone (a
        ``SequenceScaler`` before it in a pipeline) changes that column's units
        but not ``y``'s, so scale the series before windowing instead (a fit warns
        where most targets lie further from that column's values than their whole
        range: other units, or another column than the target's). Numeric
        input only (refused with ``embedding_dim``). None (default) feeds the
        sequences as they are. To search it, list it like any parameter, e.g.
        ``{"lstm__relative": [None, "last"]}``.
    relative_target : int, default=0
        The column (feature) of ``X`` that holds the target's own series: its
        anchor is subtracted from ``y``. Unused with ``relative=None``.
        :func:`~sklstm.windows.make_windows` keeps every column of the series in
        its place, so this is the position of its ``target`` (0 for
        ``target=None``; ``columns.index(name)`` for a DataFrame column name;
        negative positions count from the last column, as there: -1 for
        ``target=-1``).
        A column that ``X`` does not have is refused before training.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        Per-output mean and standard deviation the targets were standardized with
        (0 and 1 with ``scale_target=False``; a constant target keeps scale 1);
        with ``relative``, those of the targets minus their anchor.
{attributes}
    See Also
    --------
    LSTMClassifier : The classification counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 8, 2)).astype("float32")
    >>> y = X[:, -3:, 0].sum(axis=1)
    >>> reg = LSTMRegressor(hidden_size=8, max_epochs=3, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **BaseLSTM._parameter_constraints, "scale_target": ["boolean"],
        "relative": [StrOptions(set(ANCHORS)), None],
        # any int: negative ones count from the last column, as make_windows' target
        "relative_target": [integers(None)]}

    def __init__(self, *, scale_target=True, relative=None, relative_target=0,
                 ar_window="auto", **params):
        self._check_init_keywords(params)
        super().__init__(ar_window=ar_window, **params)
        self.scale_target = scale_target
        self.relative = relative
        self.relative_target = relative_target

    # ar_window: the base's parameter, in its place, with the regressor's own default
    __init__.__signature__ = extended_signature(
        BaseLSTM.__init__, scale_target=True, relative=None, relative_target=0,
        ar_window="auto")

    # what prediction reads of relative, as the fit fixed it (in _sequence_params)
    _prediction_settings = ("relative", "relative_target")

    #: ``y`` of :meth:`fit`, put into its docstring (``_docs.fill``)
    _fit_y = """
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets, one row per sequence; :meth:`predict` returns the same
            shape.
        """

    def _network_input(self, seqs, settings):
        """Each sequence relative to its anchor, and the anchor of the target's
        column as the targets' offset (``relative``); ``seqs`` as they are without."""
        how = settings.get("relative")  # absent from models saved before relative
        if how is None:
            return seqs, None
        column = settings["relative_target"]
        if not -seqs.n_features <= column < seqs.n_features:
            raise ValueError(
                f"{type(self).__name__}: relative_target={column} is not a column of X, "
                f"which has {seqs.n_features} feature(s) per timestep (columns 0.."
                f"{seqs.n_features - 1}, or -{seqs.n_features}..-1 from the last); set "
                "relative_target to the column that holds the target's own series "
                "(make_windows(..., target=t) keeps it at column t; 0 for target=None).")
        seqs, anchors = relative_sequences(seqs, how)
        return seqs, anchors[:, column]

    def _encode_y(self, y, offset=None):
        # numbers beside None (a list, a pandas column of dtype object) are NaN placed, as
        # a float y's are: scikit-learn said "Input y contains NaN.", neither where nor how
        y, shape = as_targets(y, objects=True)
        # (numpy's shape of a sparse matrix is (): check_array names what to do with it)
        if len(shape) not in (1, 2) and not sp.issparse(y):
            raise ValueError(f"y must be 1D or 2D; got {len(shape)}D with shape {shape}.")
        if len(shape) == 2 and shape[1] == 0:  # (scikit-learn: "0 feature(s)", not naming y)
            raise ValueError(f"y has no columns (shape {shape}): pass at least one target "
                             "per sequence.")
        # (pandas' time-zone-aware dates are objects to numpy, of kind "M" to pandas:
        # scikit-learn read them as microseconds all the same)
        dtypes = list(y.dtypes) if hasattr(y, "columns") else [getattr(y, "dtype", None)]
        dtype = next((d for d in dtypes if getattr(d, "kind", None) in ("m", "M")),
                     np.asarray(y).dtype)
        if dtype.kind in "mM":
            # scikit-learn's check_array casts them to numbers of their unit (microseconds
            # for pandas 3's, nanoseconds for pandas 2's): predictions came back as
            # floats of a unit y never named
            span = "y" if dtype.kind == "m" else "(y - start)"
            raise ValueError(
                f"y holds {'durations' if dtype.kind == 'm' else 'dates'} (dtype {dtype}); "
                f"{type(self).__name__} needs numbers, in a unit of your choice: e.g. "
                f"{span} / np.timedelta64(1, 'h') for hours"
                + ("" if dtype.kind == "m" else " since a date start") + ".")
        try:
            # finite whatever sklearn.set_config(assume_finite=True) says, as X is: a NaN
            # target made target_mean_ NaN, and every prediction NaN, without an error
            with config_context(assume_finite=False):
                y = check_array(
                    y, ensure_2d=False, dtype=[np.float64, np.float32],
                    ensure_all_finite=True, input_name="y", estimator=self,
                )
        except ValueError as exc:
            complex_y = complex_error(exc, "y")
            if complex_y is not None:
                raise complex_y from exc
            if "could not convert" not in str(exc):
                raise
            raise ValueError(f"y holds non-numeric values ({exc}); {type(self).__name__} "
                             "needs numbers (for class labels use LSTMClassifier).") from exc
        y2d = y.reshape(len(y), -1).astype(np.float64)
        if offset is not None:  # relative: every output minus its sample's anchor
            warn_if_targets_in_other_units(type(self).__name__, self.relative,
                                           self.relative_target, y2d, offset)
            y2d = y2d - offset[:, None]
        n_outputs = y2d.shape[1]
        if not self.scale_target:
            # checked before the cast to float32, which turns targets beyond its range
            # into inf (the refusal would then name inf, not the largest target)
            check_targets_in_range(type(self).__name__, y2d)
            mean, scale = np.zeros(n_outputs), np.ones(n_outputs)
            target = {"_y_is_1d": y.ndim == 1, "n_outputs_": n_outputs,
                      "target_mean_": mean, "target_scale_": scale}
            return y2d.astype(np.float32), target
        # the moments in units of each output's largest magnitude: squares of targets
        # beyond 1e154 overflow (the mean and scale become inf, every prediction inf),
        # and "constant" is a spread within rounding of that magnitude, whatever it is
        # (an absolute threshold took targets around 1e-16 for constants, left them
        # unscaled and the fit diverged)
        size = np.abs(y2d).max(axis=0)
        size = np.where(size > 0, size, 1.0)
        unit = y2d / size
        unit_mean = unit.mean(axis=0)
        unit_std = unit.std(axis=0)
        varies = unit_std > 10 * np.finfo(np.float64).eps * (1 + np.abs(unit_mean))
        # a constant keeps scale 1 and trains on zeros, its spread being rounding
        train = np.where(varies, (unit - unit_mean) / np.where(varies, unit_std, 1.0), 0.0)
        target = {"_y_is_1d": y.ndim == 1, "n_outputs_": n_outputs,
                  "target_mean_": unit_mean * size,
                  "target_scale_": np.where(varies, unit_std * size, 1.0)}
        return train.astype(np.float32), target

    _loss = nn.MSELoss

    def _n_outputs(self, target):
        return target["n_outputs_"]

    def _trivial_loss(self, y_train, weights):
        # mean squared error of predicting the mean of every output: their variance (a
        # regressor has no class weights)
        return float(y_train.astype(np.float64).var(axis=0).mean())

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        {X_predict}

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted targets of each sequence; 1D when the training ``y``
            was 1D, else one column per output.
        """
        out, offset = self._forward_with_offset(X)
        # (finite outputs times a target_scale_ near float64's largest can overflow:
        # refused below in words, not returned as inf with numpy's warning)
        with np.errstate(over="ignore", invalid="ignore"):
            out = out * self.target_scale_ + self.target_mean_
            if offset is not None:  # relative: each sample's anchor back on every output
                out = out + offset[:, None]
        self._refuse_non_finite(out, "{name}'s predictions for sequence {i} of X are beyond "
                                "float64's range (its network's outputs times target_scale_)")
        return out[:, 0] if self._y_is_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
