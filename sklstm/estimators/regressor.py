"""LSTMRegressor: sequence regression, single or multi-output."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_array
from torch import nn

from . import _docs
from ._base import BaseLSTM


@_docs.fill
class LSTMRegressor(RegressorMixin, BaseLSTM):
    """LSTM regressor for sequences, trained by skorch with mean squared error.

    Targets are 1D ``(n_samples,)`` or 2D ``(n_samples, n_outputs)`` (e.g. a
    multi-step forecast horizon); predictions have the same shape. Targets are
    not rescaled: wrap the model in
    :class:`~sklearn.compose.TransformedTargetRegressor` for targets far from
    unit scale.

    Parameters
    ----------
{parameters}
    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
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

    def _encode_y(self, y):
        y = check_array(
            y, ensure_2d=False, dtype=[np.float64, np.float32], ensure_all_finite=True,
            input_name="y", estimator=self,
        )
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1D or 2D; got {y.ndim}D with shape {y.shape}.")
        self._y_is_1d = y.ndim == 1
        y2d = y.reshape(len(y), -1)
        self.n_outputs_ = y2d.shape[1]
        return y2d.astype(np.float32)

    def _n_outputs(self):
        return self.n_outputs_

    def _criterion(self):
        return nn.MSELoss

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
(n_samples, n_timesteps), or list of arrays of shape (n_timesteps_i, n_features)
            Sequences, in the same form as those passed to :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted targets of each sequence; 1D when the training ``y``
            was 1D, else one column per output.
        """
        out = self._forward(X)
        return out[:, 0] if self._y_is_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
