"""LSTMRegressor: sequence regression, single or multi-output."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_array
from torch import nn

from .._param_validation import extended_signature
from ..persistence._registry import register_estimator
from . import _docs
from ._base import BaseLSTM
from ._data_checks import target_shape


@register_estimator
@_docs.fill
class LSTMRegressor(RegressorMixin, BaseLSTM):
    """LSTM regressor for sequences, trained by skorch with mean squared error.

    Targets are 1D ``(n_samples,)`` or 2D ``(n_samples, n_outputs)`` (e.g. a
    multi-step forecast horizon); predictions have the same shape. Targets of any
    scale are learnt alike: they are standardized for training and predictions
    are mapped back (``scale_target``).

    Parameters
    ----------
{parameters}
    scale_target : bool, default=True
        Train on targets standardized per output (mean 0, standard deviation 1)
        and map predictions back, so ``lr``, ``tol`` and the initial weights suit
        targets in the thousands as well as around 1e-3. False trains on ``y`` as
        given (``train_loss`` is then in the units of ``y`` squared).

    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        Per-output mean and standard deviation the targets were standardized with
        (0 and 1 with ``scale_target=False``; a constant target keeps scale 1).
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
        **BaseLSTM._parameter_constraints, "scale_target": ["boolean"]}

    def __init__(self, *, scale_target=True, **params):
        super().__init__(**params)
        self.scale_target = scale_target

    __init__.__signature__ = extended_signature(BaseLSTM.__init__, scale_target=True)

    def _encode_y(self, y):
        shape = target_shape(y)
        if len(shape) not in (1, 2):
            raise ValueError(f"y must be 1D or 2D; got {len(shape)}D with shape {shape}.")
        try:
            y = check_array(
                y, ensure_2d=False, dtype=[np.float64, np.float32], ensure_all_finite=True,
                input_name="y", estimator=self,
            )
        except ValueError as exc:
            if "could not convert" not in str(exc):
                raise
            raise ValueError(f"y holds non-numeric values ({exc}); {type(self).__name__} "
                             "needs numbers (for class labels use LSTMClassifier).") from exc
        y2d = y.reshape(len(y), -1).astype(np.float64)
        n_outputs = y2d.shape[1]
        if self.scale_target:
            mean = y2d.mean(axis=0)
            std = y2d.std(axis=0)
            scale = np.where(std > 10 * np.finfo(np.float64).eps * (1 + np.abs(mean)),
                             std, 1.0)
        else:
            mean, scale = np.zeros(n_outputs), np.ones(n_outputs)
        target = {"_y_is_1d": y.ndim == 1, "n_outputs_": n_outputs, "target_mean_": mean,
                  "target_scale_": scale}
        return ((y2d - mean) / scale).astype(np.float32), target

    _loss = nn.MSELoss

    def _n_outputs(self, target):
        return target["n_outputs_"]

    def _trivial_loss(self, y_train):
        # mean squared error of predicting the mean of every output: their variance
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
        out = self._forward(X) * self.target_scale_ + self.target_mean_
        return out[:, 0] if self._y_is_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
